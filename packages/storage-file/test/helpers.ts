import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecordBatchHeader } from '@tributary/codec/records';
import type { AppendInput } from '@tributary/core/storage';
import { afterAll } from 'vitest';
import type { StorageLogger } from '../src/index.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test file. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tributary-file-'));
  made.push(d);
  return d;
}

export function appendInput(batch: Buffer): AppendInput {
  const h = readRecordBatchHeader(batch);
  return { batch, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp };
}

export interface LogLine {
  level: 'warn' | 'error' | 'info';
  obj: object;
  msg: string | undefined;
}

/** A logger that records its lines. */
export function recordingLogger(lines: LogLine[] = []): StorageLogger & { lines: LogLine[] } {
  // pino's shape: a call takes (message) or (fields, message?).
  const fn =
    (level: LogLine['level']) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') lines.push({ level, obj: {}, msg: obj });
      else lines.push({ level, obj, msg });
    };
  return { lines, info: fn('info'), warn: fn('warn'), error: fn('error') };
}

export { ManualClock } from '@tributary/core';
