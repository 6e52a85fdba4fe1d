import { describeStorageConformance } from '@tributary/core/testing';
import { MemoryStorage } from '../src/index.js';

describeStorageConformance('memory', () => new MemoryStorage());
