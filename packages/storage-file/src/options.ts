import { type CompressionRegistry, defaultCompression } from '@tributary/codec/records';
import type { Clock, Logger } from '@tributary/core/storage';

/** The logging this adapter does: the part of core's Logger port it calls (pino fits as it is). */
export type StorageLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** Time as this adapter reads it: core's Clock port (ManualClock and the system clock fit). */
export type StorageClock = Clock;

/**
 * When appended data reaches the disk.
 *
 * - `always`: an append resolves only after its bytes are fdatasync'ed. Appends waiting at the same
 *   moment share one fdatasync per segment file (group commit).
 * - `interval`: an append resolves once its bytes are written to the file (the page cache); each
 *   partition is fdatasync'ed every `intervalMs`, and sooner once it holds `bytes` unflushed bytes.
 */
export type FlushPolicy = { mode: 'always' } | { mode: 'interval'; intervalMs: number; bytes?: number };

export interface FileStorageOptions {
  /** Directory holding the whole log (created when missing). One broker process per directory. */
  dataDir: string;
  flush: FlushPolicy;
  /** Default size at which a partition rolls to a new segment; a topic's `segment.bytes` overrides it. Default 1 GiB. */
  segmentBytes?: number;
  /** Default age at which a segment is rolled; a topic's `segment.ms` overrides it. Default 7 days. */
  segmentMs?: number;
  /** Bytes of log between two offset index entries. Default 4096. */
  indexIntervalBytes?: number;
  /** Recently appended bytes each partition keeps in memory for consumers at the tail. Default 1 MiB; 0 disables. */
  hotTailBytes?: number;
  /** Bound on the hot tails of all partitions together. Default 256 MiB. */
  hotTailTotalBytes?: number;
  /**
   * Run the log cleaner for topics whose `cleanup.policy` includes `compact` (`log.cleaner.enable`).
   * Default true. `compact()` works either way.
   */
  cleanerEnabled?: boolean;
  /** Pause between two cleaner rounds over the compacted partitions (`log.cleaner.backoff.ms`). Default 15 s. */
  cleanerBackoffMs?: number;
  /**
   * Keys one cleaning pass maps (the dedupe buffer): a pass stops adding segments once it has this
   * many distinct keys, and the next pass goes on from there. Default 1,000,000.
   */
  cleanerMaxKeys?: number;
  /** Default `delete.retention.ms`: how long tombstones outlive the pass that first cleaned them. Default 1 day. */
  deleteRetentionMs?: number;
  /** Default `min.cleanable.dirty.ratio`. Default 0.5. */
  minCleanableDirtyRatio?: number;
  /** Default `min.compaction.lag.ms`. Default 0. */
  minCompactionLagMs?: number;
  /** Default `max.compaction.lag.ms`. Default unbounded. */
  maxCompactionLagMs?: number;
  /** Codecs used to decompress and recompress batches the cleaner rewrites. Default: the built-in ones. */
  compression?: CompressionRegistry;
  logger?: StorageLogger;
  clock?: StorageClock;
}

/** The options with every default filled in. */
export interface ResolvedOptions {
  readonly dataDir: string;
  readonly flush: FlushPolicy;
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly indexIntervalBytes: number;
  readonly hotTailBytes: number;
  readonly hotTailTotalBytes: number;
  readonly cleanerEnabled: boolean;
  readonly cleanerBackoffMs: number;
  readonly cleanerMaxKeys: number;
  readonly deleteRetentionMs: number;
  readonly minCleanableDirtyRatio: number;
  readonly minCompactionLagMs: number;
  readonly maxCompactionLagMs: number;
  readonly compression: CompressionRegistry;
  readonly logger: StorageLogger;
  readonly clock: StorageClock;
}

export const DEFAULT_SEGMENT_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_SEGMENT_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;
export const DEFAULT_HOT_TAIL_BYTES = 1024 * 1024;
export const DEFAULT_HOT_TAIL_TOTAL_BYTES = 256 * 1024 * 1024;
export const DEFAULT_CLEANER_BACKOFF_MS = 15_000;
export const DEFAULT_CLEANER_MAX_KEYS = 1_000_000;
export const DEFAULT_DELETE_RETENTION_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MIN_CLEANABLE_DIRTY_RATIO = 0.5;
/** Kafka's smallest `segment.bytes`. */
export const MIN_SEGMENT_BYTES = 14;
/** Segment files address positions with int32. */
export const MAX_SEGMENT_BYTES = 0x7fffffff;

const noop = (): void => {};
const silentLogger: StorageLogger = { info: noop, warn: noop, error: noop };

const systemClock: StorageClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new TypeError(
      `FileStorage option ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`,
    );
  return value;
}

/** Checks the options and fills in defaults; throws a TypeError naming the option at fault. */
export function resolveOptions(options: FileStorageOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    throw new TypeError('FileStorage needs an options object with at least dataDir and flush');
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0)
    throw new TypeError('FileStorage option dataDir must be a non-empty path');
  const flush = options.flush as FlushPolicy | undefined;
  let resolvedFlush: FlushPolicy;
  if (flush?.mode === 'always') resolvedFlush = { mode: 'always' };
  else if (flush?.mode === 'interval') {
    const intervalMs = integer('flush.intervalMs', flush.intervalMs, 1);
    resolvedFlush =
      flush.bytes === undefined
        ? { mode: 'interval', intervalMs }
        : { mode: 'interval', intervalMs, bytes: integer('flush.bytes', flush.bytes, 1) };
  } else
    throw new TypeError(
      `FileStorage option flush must be { mode: 'always' } or { mode: 'interval', intervalMs, bytes? }, got ${JSON.stringify(flush)}`,
    );
  return {
    dataDir: options.dataDir,
    flush: resolvedFlush,
    segmentBytes: integer(
      'segmentBytes',
      options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      MIN_SEGMENT_BYTES,
      MAX_SEGMENT_BYTES,
    ),
    segmentMs: integer('segmentMs', options.segmentMs ?? DEFAULT_SEGMENT_MS, 1),
    indexIntervalBytes: integer(
      'indexIntervalBytes',
      options.indexIntervalBytes ?? DEFAULT_INDEX_INTERVAL_BYTES,
      0,
      MAX_SEGMENT_BYTES,
    ),
    hotTailBytes: integer('hotTailBytes', options.hotTailBytes ?? DEFAULT_HOT_TAIL_BYTES, 0),
    hotTailTotalBytes: integer(
      'hotTailTotalBytes',
      options.hotTailTotalBytes ?? DEFAULT_HOT_TAIL_TOTAL_BYTES,
      0,
    ),
    cleanerEnabled: boolean('cleanerEnabled', options.cleanerEnabled ?? true),
    cleanerBackoffMs: integer('cleanerBackoffMs', options.cleanerBackoffMs ?? DEFAULT_CLEANER_BACKOFF_MS, 1),
    cleanerMaxKeys: integer('cleanerMaxKeys', options.cleanerMaxKeys ?? DEFAULT_CLEANER_MAX_KEYS, 1),
    deleteRetentionMs: integer(
      'deleteRetentionMs',
      options.deleteRetentionMs ?? DEFAULT_DELETE_RETENTION_MS,
      0,
    ),
    minCleanableDirtyRatio: ratio(
      'minCleanableDirtyRatio',
      options.minCleanableDirtyRatio ?? DEFAULT_MIN_CLEANABLE_DIRTY_RATIO,
    ),
    minCompactionLagMs: integer('minCompactionLagMs', options.minCompactionLagMs ?? 0, 0),
    maxCompactionLagMs: integer(
      'maxCompactionLagMs',
      options.maxCompactionLagMs ?? Number.MAX_SAFE_INTEGER,
      1,
    ),
    compression: options.compression ?? defaultCompression,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
  };
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(`FileStorage option ${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

function ratio(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new TypeError(
      `FileStorage option ${name} must be a number in [0, 1], got ${JSON.stringify(value)}`,
    );
  return value;
}
