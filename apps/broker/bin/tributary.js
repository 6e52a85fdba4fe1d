#!/usr/bin/env node
import '../dist/tributary.mjs';
