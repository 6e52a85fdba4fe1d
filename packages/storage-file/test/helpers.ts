import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecordBatchHeader } from '@tributary/codec/records';
import type { AppendInput, LogConfig } from '@tributary/core/storage';
import { afterAll } from 'vitest';
import {
  DEFAULT_DELETE_RETENTION_MS,
  DEFAULT_INDEX_INTERVAL_BYTES,
  DEFAULT_MIN_CLEANABLE_DIRTY_RATIO,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_SEGMENT_MS,
  type FileStorage,
  type StorageLogger,
} from '../src/index.js';

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

/**
 * What core hands `configureLog`: a topic's overrides over the defaults (a test stand-in for
 * core's resolver, which validates; this one only parses).
 */
export function logConfig(
  configs: Readonly<Record<string, string>>,
  defaults: Partial<LogConfig> = {},
): LogConfig {
  const num = (key: string, fallback: number): number => {
    const raw = configs[key];
    return raw === undefined ? fallback : Number(raw);
  };
  const policy = (configs['cleanup.policy'] ?? 'delete').split(',').map((p) => p.trim());
  return {
    deleteEnabled: policy.includes('delete'),
    compactEnabled: policy.includes('compact'),
    segmentBytes: num('segment.bytes', defaults.segmentBytes ?? DEFAULT_SEGMENT_BYTES),
    segmentMs: num('segment.ms', defaults.segmentMs ?? DEFAULT_SEGMENT_MS),
    retentionMs: num('retention.ms', defaults.retentionMs ?? 604_800_000),
    retentionBytes: num('retention.bytes', defaults.retentionBytes ?? -1),
    deleteRetentionMs: num('delete.retention.ms', defaults.deleteRetentionMs ?? DEFAULT_DELETE_RETENTION_MS),
    minCleanableDirtyRatio: num(
      'min.cleanable.dirty.ratio',
      defaults.minCleanableDirtyRatio ?? DEFAULT_MIN_CLEANABLE_DIRTY_RATIO,
    ),
    minCompactionLagMs: num('min.compaction.lag.ms', defaults.minCompactionLagMs ?? 0),
    maxCompactionLagMs: num('max.compaction.lag.ms', defaults.maxCompactionLagMs ?? Number.MAX_SAFE_INTEGER),
    flushMessages: Number.MAX_SAFE_INTEGER,
    flushMs: Number.MAX_SAFE_INTEGER,
    indexIntervalBytes: num(
      'index.interval.bytes',
      defaults.indexIntervalBytes ?? DEFAULT_INDEX_INTERVAL_BYTES,
    ),
    maxMessageBytes: 1_048_588,
  };
}

const configDefaults = new WeakMap<FileStorage, Partial<LogConfig>>();

/**
 * Plays core's part after open, createTopic and setTopicConfigs: hands every topic its resolved
 * LogConfig. `defaults` (remembered per storage) stand for the broker-wide settings.
 */
export async function configureTopics(s: FileStorage, defaults?: Partial<LogConfig>): Promise<void> {
  if (defaults !== undefined) configDefaults.set(s, defaults);
  const d = configDefaults.get(s) ?? {};
  for (const t of await s.listTopics())
    s.configureLog(t.topicId.toString('base64url'), logConfig(t.configs, d));
}
