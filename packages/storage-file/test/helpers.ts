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
  const fn =
    (level: LogLine['level']) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, info: fn('info'), warn: fn('warn'), error: fn('error') };
}

/** A clock tests move by hand (the shape of core's ManualClock, kept here so tests need only the storage port). */
export class ManualClock {
  private timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  constructor(private time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  schedule(ms: number, fn: () => void): { cancel(): void } {
    const timer = { at: this.time + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.at <= this.time);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  }
}
