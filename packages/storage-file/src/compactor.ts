import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import {
  COMPRESSION_MASK,
  CONTROL_BIT,
  type CompressionRegistry,
  ControlRecordType,
  crc32c,
  DELETE_HORIZON_BIT,
  openRecords,
  parseControlRecordKey,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
} from '@tributary/codec/records';
import {
  ATTRIBUTES_AT,
  BASE_TIMESTAMP_AT,
  BATCH_HEADER_SIZE,
  CRC_AT,
  LENGTH_AT,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_AT,
  PRODUCER_ID_AT,
  RECORD_COUNT_AT,
  readOffset,
  readTimestamp,
} from './batch-scan.js';
import { fsyncDir, isErrno, unlinkIfExists } from './fs-util.js';
import type { StorageLogger } from './options.js';
import { LOG_SUFFIX, SWAP_SUFFIX, segmentFileName } from './segment.js';

/** Per-partition file: the first offset not yet cleaned and the earliest pending tombstone horizon. */
export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

/** The compaction settings in force for a topic (its overrides over the storage defaults). */
export interface CompactionSettings {
  /** `cleanup.policy` includes `compact`. */
  readonly compact: boolean;
  readonly deleteRetentionMs: number;
  readonly minCleanableDirtyRatio: number;
  readonly minCompactionLagMs: number;
  readonly maxCompactionLagMs: number;
}

/** What one cleaning pass did, for logs, tests and the figures. */
export interface CompactionResult {
  /** Segments read and replaced. */
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsBefore: number;
  recordsAfter: number;
  /** Offset up to which every key has been deduplicated (the next pass's first dirty offset). */
  cleanedUpTo: number;
  /** Distinct keys in the pass's offset map. */
  keys: number;
}

/** State a partition keeps between passes (persisted in CLEANER_CHECKPOINT_FILE). */
export interface CleanerCheckpoint {
  firstDirtyOffset: number;
  /** The earliest delete horizon of a tombstone still in the log, or -1. */
  deleteHorizon: number;
}

export function formatCheckpoint(c: CleanerCheckpoint): string {
  return `${c.firstDirtyOffset} ${c.deleteHorizon}\n`;
}

export function parseCheckpoint(text: string): CleanerCheckpoint | null {
  const m = /^(\d+) (-1|\d+)\s*$/.exec(text);
  if (m === null) return null;
  const firstDirtyOffset = Number(m[1]);
  const deleteHorizon = Number(m[2]);
  if (!Number.isSafeInteger(firstDirtyOffset) || !Number.isSafeInteger(deleteHorizon)) return null;
  return { firstDirtyOffset, deleteHorizon };
}

/** Thrown inside a pass when the partition is closing. */
export class CleaningStopped extends Error {
  constructor() {
    super('cleaning stopped');
  }
}

/**
 * The offset of the latest record of every key in the dirty section of a log, built batch by
 * batch in offset order. Records of a transaction count only once its commit marker is seen; the
 * offsets of aborted transactions are remembered so that the cleaner drops their batches.
 */
export class OffsetMap {
  readonly latest = new Map<string, number>();
  /** Aborted transactions: producer id -> [first offset, marker offset] ranges. */
  private readonly aborted = new Map<number, [number, number][]>();
  /** Transactions without a marker yet: producer id -> first offset and the keys written. */
  private readonly open = new Map<number, { first: number; keys: string[]; offsets: number[] }>();

  get size(): number {
    return this.latest.size;
  }

  /** Adds the records of the batch at `buf[at]` whose offset is at or after `from`. */
  add(buf: Buffer, at: number, baseOffset: number, from: number, compression: CompressionRegistry): void {
    const attributes = buf.readInt16BE(at + ATTRIBUTES_AT);
    const producerId = readOffset(buf, at + PRODUCER_ID_AT);
    const { cursor } = openRecords(buf, at, { compression });
    if (attributes & CONTROL_BIT) {
      if (!cursor.next()) return;
      const offset = baseOffset + cursor.offsetDelta;
      if (offset < from) return;
      const { type } = parseControlRecordKey(cursor.key());
      const txn = this.open.get(producerId);
      if (type === ControlRecordType.Commit) {
        if (txn !== undefined)
          for (let i = 0; i < txn.keys.length; i++) this.latest.set(txn.keys[i]!, txn.offsets[i]!);
      } else if (type === ControlRecordType.Abort && txn !== undefined) {
        const ranges = this.aborted.get(producerId) ?? [];
        ranges.push([txn.first, offset]);
        this.aborted.set(producerId, ranges);
      }
      this.open.delete(producerId);
      return;
    }
    const transactional = (attributes & TRANSACTIONAL_BIT) !== 0;
    let txn = transactional ? this.open.get(producerId) : undefined;
    const data = cursor.data;
    while (cursor.next()) {
      const offset = baseOffset + cursor.offsetDelta;
      if (offset < from || cursor.keyLength < 0) continue;
      const key = data.toString('latin1', cursor.keyOffset, cursor.keyOffset + cursor.keyLength);
      if (!transactional) {
        this.latest.set(key, offset);
        continue;
      }
      if (txn === undefined) {
        txn = { first: offset, keys: [], offsets: [] };
        this.open.set(producerId, txn);
      }
      txn.keys.push(key);
      txn.offsets.push(offset);
    }
  }

  /** The first offset of a transaction still open at the end of what was added, or Infinity. */
  firstUnstableOffset(): number {
    let first = Number.POSITIVE_INFINITY;
    for (const t of this.open.values()) first = Math.min(first, t.first);
    return first;
  }

  isAborted(producerId: number, offset: number): boolean {
    const ranges = this.aborted.get(producerId);
    if (ranges === undefined) return false;
    for (const [a, b] of ranges) if (offset >= a && offset <= b) return true;
    return false;
  }
}

/** Counts one pass keeps while rewriting batches. */
export interface CleanStats {
  recordsBefore: number;
  recordsAfter: number;
  /** The earliest delete horizon among kept batches that still hold tombstones or removable markers, or -1. */
  deleteHorizon: number;
}

/**
 * Which transaction markers a pass may remove, by Kafka's cleaner rule: a marker whose
 * transaction has no data batch left (none read in this pass, which walks the log from its
 * start) is removable. While any of its data is read, even data this pass drops, the marker
 * stays, so a marker always outlives its transaction's data by at least one pass.
 */
export class MarkerTracker {
  /** Producers with a transactional data batch read since their last marker. */
  private readonly withData = new Set<number>();

  onTransactionalData(producerId: number): void {
    this.withData.add(producerId);
  }

  /** Whether the marker may go (once its delete horizon has passed). */
  onMarker(producerId: number): boolean {
    return !this.withData.delete(producerId);
  }
}

export interface CleanContext {
  readonly map: OffsetMap;
  readonly now: number;
  readonly deleteRetentionMs: number;
  readonly compression: CompressionRegistry;
  readonly stats: CleanStats;
  readonly markers: MarkerTracker;
  /** Whether the partition's aborted-transaction index holds `offset` of the producer (an aborted batch). */
  readonly isAborted: (producerId: number, offset: number) => boolean;
}

function noteHorizon(stats: CleanStats, horizon: number): void {
  if (stats.deleteHorizon < 0 || horizon < stats.deleteHorizon) stats.deleteHorizon = horizon;
}

/**
 * Compacts one stored batch (`buf[at, at + size)`, base offset `baseOffset`). Returns the batch
 * unchanged when every record stays, null when none does, or a new v2 batch otherwise.
 *
 * A record stays when it has a key, no later record of that key is in the offset map, and it is
 * not a tombstone past its delete horizon. Data of aborted transactions goes (found through the
 * partition's aborted-transaction index, and the transactions the offset map saw end). A control
 * batch (transaction marker) stays as it is while its transaction still has data; once it has
 * none, it gets a delete horizon like a batch of tombstones and goes in the first pass after it. A rewritten batch keeps its base offset, last offset delta, producer id,
 * epoch, base sequence, partition leader epoch, attributes and compression; the surviving records
 * keep their offset deltas. A batch that keeps a tombstone and has no delete horizon yet gets one
 * (now + delete.retention.ms, in the base timestamp with the delete-horizon attribute bit), so the
 * tombstone goes in a pass at least delete.retention.ms after this one, across restarts.
 */
export function cleanBatch(
  buf: Buffer,
  at: number,
  size: number,
  baseOffset: number,
  ctx: CleanContext,
): Buffer | null {
  const attributes = buf.readInt16BE(at + ATTRIBUTES_AT);
  const recordCount = buf.readInt32BE(at + RECORD_COUNT_AT);
  const baseTimestamp = readTimestamp(buf, at + BASE_TIMESTAMP_AT);
  const hasHorizon = (attributes & DELETE_HORIZON_BIT) !== 0;
  const control = (attributes & CONTROL_BIT) !== 0;
  ctx.stats.recordsBefore += recordCount;
  if (control) {
    const removable = ctx.markers.onMarker(readOffset(buf, at + PRODUCER_ID_AT));
    if (removable && hasHorizon && ctx.now >= baseTimestamp) return null;
    ctx.stats.recordsAfter += recordCount;
    if (!removable || hasHorizon) {
      if (removable) noteHorizon(ctx.stats, baseTimestamp);
      return buf.subarray(at, at + size);
    }
    // Removable, no horizon yet: stamped below, removed by the first pass after it.
  } else if (attributes & TRANSACTIONAL_BIT) {
    const producerId = readOffset(buf, at + PRODUCER_ID_AT);
    ctx.markers.onTransactionalData(producerId);
    if (ctx.isAborted(producerId, baseOffset) || ctx.map.isAborted(producerId, baseOffset)) return null;
  }
  const { cursor } = openRecords(buf, at, { compression: ctx.compression });
  const data = cursor.data;
  const tombstonesExpired = hasHorizon && ctx.now >= baseTimestamp;
  const latest = ctx.map.latest;
  // Kept records as [start, end, timestamp delta] triples in `data`.
  const kept: number[] = [];
  let tombstones = 0;
  while (cursor.next()) {
    if (control) {
      kept.push(cursor.recordStart, cursor.recordEnd, cursor.timestampDelta);
      continue;
    }
    // A compacted topic takes no null keys; one that got in before the policy changed goes.
    if (cursor.keyLength < 0) continue;
    const offset = baseOffset + cursor.offsetDelta;
    const newer = latest.get(data.toString('latin1', cursor.keyOffset, cursor.keyOffset + cursor.keyLength));
    if (newer !== undefined && offset < newer) continue;
    if (cursor.valueLength < 0) {
      if (tombstonesExpired) continue;
      tombstones++;
    }
    kept.push(cursor.recordStart, cursor.recordEnd, cursor.timestampDelta);
  }
  const n = kept.length / 3;
  if (!control) ctx.stats.recordsAfter += n;
  if (n === 0) return null;
  const setHorizon = control || (tombstones > 0 && !hasHorizon);
  const horizon = setHorizon ? ctx.now + ctx.deleteRetentionMs : baseTimestamp;
  if (control || tombstones > 0) noteHorizon(ctx.stats, horizon);
  if (n === recordCount && !setHorizon) return buf.subarray(at, at + size);

  // The records section: surviving records copied, or re-encoded around a new timestamp base.
  let plainSize = 0;
  for (let i = 0; i < kept.length; i += 3) {
    if (!setHorizon) plainSize += kept[i + 1]! - kept[i]!;
    else {
      const body = recordBodySize(data, kept, i, baseTimestamp - horizon);
      plainSize += varintSize(body) + body;
    }
  }
  const plain = Buffer.allocUnsafe(plainSize);
  let p = 0;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < kept.length; i += 3) {
    const start = kept[i]!;
    const end = kept[i + 1]!;
    maxTimestamp = Math.max(maxTimestamp, baseTimestamp + kept[i + 2]!);
    if (!setHorizon) {
      p += data.copy(plain, p, start, end);
      continue;
    }
    // length | attributes int8 | timestampDelta varlong | offsetDelta varint | key, value, headers
    const attributesAt = start + varintLength(data, start);
    const offsetDeltaAt = attributesAt + 1 + varintLength(data, attributesAt + 1);
    p = writeVarint(plain, p, recordBodySize(data, kept, i, baseTimestamp - horizon));
    plain[p++] = data[attributesAt]!;
    p = writeVarlong(plain, p, baseTimestamp + kept[i + 2]! - horizon);
    p += data.copy(plain, p, offsetDeltaAt, end);
  }
  const compression = attributes & COMPRESSION_MASK;
  const records = compression === 0 ? plain : ctx.compression.compress(compression, plain);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + records.length);
  buf.copy(out, 0, at, at + BATCH_HEADER_SIZE);
  records.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_AT);
  out.writeInt16BE(attributes | (setHorizon ? DELETE_HORIZON_BIT : 0), ATTRIBUTES_AT);
  writeInt64(out, BASE_TIMESTAMP_AT, horizon);
  // A LogAppendTime batch's records all take its max timestamp: it stays as it was.
  if ((attributes & TIMESTAMP_TYPE_BIT) === 0) writeInt64(out, MAX_TIMESTAMP_AT, maxTimestamp);
  out.writeInt32BE(n, RECORD_COUNT_AT);
  out.writeUInt32BE(crc32c(out, ATTRIBUTES_AT, out.length), CRC_AT);
  return out;
}

// Varints are written here rather than through the codec's Writer so that the adapter loads only
// `@tributary/codec/records`, not the message barrel.

/** Body size of kept record `i` re-encoded with its timestamp delta moved by `shift`. */
function recordBodySize(data: Buffer, kept: number[], i: number, shift: number): number {
  const start = kept[i]!;
  const end = kept[i + 1]!;
  const attributesAt = start + varintLength(data, start);
  const offsetDeltaAt = attributesAt + 1 + varintLength(data, attributesAt + 1);
  return 1 + varlongSize(kept[i + 2]! + shift) + (end - offsetDeltaAt);
}

/** Bytes the (zigzag or plain) varint at `at` takes. */
function varintLength(data: Buffer, at: number): number {
  let n = 1;
  while (data[at + n - 1]! & 0x80) n++;
  return n;
}

function varintSize(value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

function varlongSize(value: number): number {
  let u = value < 0 ? -2 * value - 1 : 2 * value;
  let n = 1;
  while (u >= 128) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, p: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[p++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[p++] = u;
  return p;
}

function writeVarlong(buf: Buffer, p: number, value: number): number {
  let u = value < 0 ? -2 * value - 1 : 2 * value;
  while (u >= 128) {
    buf[p++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[p++] = u;
  return p;
}

function writeInt64(buf: Buffer, at: number, value: number): void {
  buf.writeBigInt64BE(BigInt(value), at);
}

/** Name of the swap file of a compacted segment replacing the segments in [baseOffset, endOffset). */
export function swapFileName(baseOffset: number, endOffset: number): string {
  return `${baseOffset.toString().padStart(20, '0')}-${endOffset.toString().padStart(20, '0')}${LOG_SUFFIX}${SWAP_SUFFIX}`;
}

const SWAP_NAME = /^(\d{20})-(\d{20})\.log\.swap$/;
const CLEANED_NAME = /^\d{20}\.log\.cleaned$/;
const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

/**
 * Replaces the segments in [baseOffset, endOffset) with the committed swap file: their index files
 * and the logs after the first go, then the swap file is renamed over the first log. Every step
 * can be repeated, so an open after a crash anywhere in here finishes the job.
 */
export async function completeSwap(dir: string, baseOffset: number, endOffset: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = SEGMENT_FILE.exec(name);
    if (m === null) continue;
    const base = Number(m[1]);
    if (base < baseOffset || base >= endOffset) continue;
    // The first log is replaced by the rename; its stale indexes must not outlive it.
    if (base === baseOffset && m[2] === 'log') continue;
    await unlinkIfExists(join(dir, name));
  }
  await rename(
    join(dir, swapFileName(baseOffset, endOffset)),
    join(dir, segmentFileName(baseOffset, LOG_SUFFIX)),
  );
  await fsyncDir(dir);
}

/**
 * Run at open, before the segments are listed: a `.cleaned` file is a pass that did not commit
 * and is removed (the old segments are intact); a `.swap` file is a pass that committed, whose
 * swap is completed. Indexes of a swapped segment are rebuilt by the segment's load.
 */
export async function finishInterruptedCleaning(dir: string, logger: StorageLogger): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
    throw e;
  }
  let changed = false;
  for (const name of names) {
    if (!CLEANED_NAME.test(name)) continue;
    logger.warn({ file: join(dir, name) }, 'removing a compacted segment that was not swapped in');
    await unlinkIfExists(join(dir, name));
    changed = true;
  }
  for (const name of names.filter((n) => SWAP_NAME.test(n)).sort()) {
    const m = SWAP_NAME.exec(name)!;
    logger.warn({ file: join(dir, name) }, 'completing an interrupted swap of compacted segments');
    await completeSwap(dir, Number(m[1]), Number(m[2]));
  }
  if (changed) await fsyncDir(dir);
}
