import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CONTROL_BIT,
  type CompressionRegistry,
  crc32c,
  openRecords,
  parseEndTxnMarker,
  TRANSACTIONAL_BIT,
} from '@tributary/codec/records';
import {
  type AbortedTransaction,
  AbortedTransactionIndex,
  PartitionProducerState,
  type ProducerAppend,
  type ProducerMarker,
  type ProducerStateEntry,
} from '@tributary/core/storage';
import {
  ATTRIBUTES_AT,
  BASE_SEQUENCE_AT,
  MAX_TIMESTAMP_AT,
  PRODUCER_EPOCH_AT,
  PRODUCER_ID_AT,
  readOffset,
  readTimestamp,
  type ScannedBatch,
} from './batch-scan.js';
import { isErrno, unlinkIfExists, writeFileAtomic } from './fs-util.js';

/** A producer-state snapshot: `<offset, 20 digits>.snapshot`, the state of every batch below the offset. */
export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_NAME = /^(\d{20})\.snapshot$/;
const SNAPSHOT_VERSION = 1;
/** version int16, crc32c uint32 (of everything after it). */
const SNAPSHOT_HEADER = 6;
const PRODUCER_FIXED = 8 + 2 + 4 + 8 + 8 + 1;
const BATCH_ENTRY = 4 + 4 + 8 + 4 + 8;
const ABORTED_ENTRY = 8 + 8 + 8;
/** Snapshots kept per partition: the newest, and the one before it should the newest be unreadable. */
const SNAPSHOTS_KEPT = 2;

export function snapshotFileName(offset: number): string {
  return offset.toString().padStart(20, '0') + SNAPSHOT_SUFFIX;
}

/**
 * One partition's producer state, kept twice so that a failed write never leaves state claiming a
 * batch that was not stored:
 *
 * - `current` holds every batch and marker that took an offset, acknowledged or still in flight.
 *   Appends are checked against it and recorded in it in the same synchronous step as their offset
 *   is assigned, so that a producer's pipelined batches are checked in order.
 * - `durable` holds only what was acknowledged (written, and synced with flush=always): it moves
 *   with the high watermark and gives the last stable offset, DescribeProducers, the aborted
 *   index and the snapshots.
 *
 * When a write fails, every batch not yet acknowledged fails with it and hands its offsets back;
 * `current` is then rebuilt from `durable`, which is exactly the state of what is stored. The two
 * cost one extra `recordData` per idempotent batch; plain batches touch neither.
 */
export class ProducerLog {
  current: PartitionProducerState;
  durable: PartitionProducerState;
  aborted: AbortedTransactionIndex;

  constructor(durable = new PartitionProducerState(), aborted = new AbortedTransactionIndex()) {
    this.durable = durable;
    this.current = PartitionProducerState.restore(durable.snapshot());
    this.aborted = aborted;
  }

  /** Forgets what is in flight: after a failed write, nothing past the acknowledged end is stored. */
  rollBack(): void {
    this.current = PartitionProducerState.restore(this.durable.snapshot());
  }

  /** Records an acknowledged marker in the durable state and, for an ABORT, in the aborted index. */
  markerDurable(m: ProducerMarker, offset: number): void {
    const aborted = this.durable.recordMarker(m, offset);
    if (aborted !== null) this.aborted.add(aborted);
  }

  isEmpty(): boolean {
    return this.durable.size === 0 && this.aborted.size === 0;
  }
}

/** What a snapshot holds: the state of every batch below `offset` and the aborted transactions before it. */
export interface ProducerSnapshot {
  readonly offset: number;
  readonly producers: readonly ProducerStateEntry[];
  readonly aborted: readonly AbortedTransaction[];
}

function writeInt64(buf: Buffer, at: number, n: number): void {
  buf.writeInt32BE(Math.floor(n / 0x100000000), at);
  buf.writeUInt32BE(n >>> 0, at + 4);
}

/**
 * Encodes a snapshot. Layout (big-endian): version int16 (1), crc32c uint32 of the rest, offset
 * int64, producer count int32, per producer [id int64, epoch int16, coordinator epoch int32, last
 * timestamp int64, open transaction's first offset int64 (-1 when none), batch count int8, per
 * batch [first sequence int32, last sequence int32, last offset int64, offset delta int32,
 * timestamp int64]], aborted count int32, per aborted transaction [producer id int64, first offset
 * int64, marker offset int64].
 */
export function encodeSnapshot(s: ProducerSnapshot): Buffer {
  let size = SNAPSHOT_HEADER + 8 + 4 + 4 + s.aborted.length * ABORTED_ENTRY;
  for (const p of s.producers) size += PRODUCER_FIXED + p.batches.length * BATCH_ENTRY;
  const buf = Buffer.alloc(size);
  let at = SNAPSHOT_HEADER;
  writeInt64(buf, at, s.offset);
  at += 8;
  buf.writeInt32BE(s.producers.length, at);
  at += 4;
  for (const p of s.producers) {
    writeInt64(buf, at, p.producerId);
    buf.writeInt16BE(p.producerEpoch, at + 8);
    buf.writeInt32BE(p.coordinatorEpoch, at + 10);
    writeInt64(buf, at + 14, p.lastTimestamp);
    writeInt64(buf, at + 22, p.currentTxnFirstOffset);
    buf.writeInt8(p.batches.length, at + 30);
    at += PRODUCER_FIXED;
    for (const b of p.batches) {
      buf.writeInt32BE(b.firstSeq, at);
      buf.writeInt32BE(b.lastSeq, at + 4);
      writeInt64(buf, at + 8, b.lastOffset);
      buf.writeInt32BE(b.offsetDelta, at + 16);
      writeInt64(buf, at + 20, b.timestamp);
      at += BATCH_ENTRY;
    }
  }
  buf.writeInt32BE(s.aborted.length, at);
  at += 4;
  for (const t of s.aborted) {
    writeInt64(buf, at, t.producerId);
    writeInt64(buf, at + 8, t.firstOffset);
    writeInt64(buf, at + 16, t.lastOffset);
    at += ABORTED_ENTRY;
  }
  buf.writeInt16BE(SNAPSHOT_VERSION, 0);
  buf.writeUInt32BE(crc32c(buf, SNAPSHOT_HEADER, size), 2);
  return buf;
}

/** Decodes a snapshot, or says what is wrong with it. */
export function decodeSnapshot(buf: Buffer): ProducerSnapshot | string {
  if (buf.length < SNAPSHOT_HEADER + 16) return `${buf.length} bytes is too short`;
  const version = buf.readInt16BE(0);
  if (version !== SNAPSHOT_VERSION) return `unknown version ${version}`;
  if (buf.readUInt32BE(2) !== crc32c(buf, SNAPSHOT_HEADER, buf.length)) return 'CRC mismatch';
  try {
    let at = SNAPSHOT_HEADER;
    const offset = readOffset(buf, at);
    const count = buf.readInt32BE(at + 8);
    at += 12;
    const producers: ProducerStateEntry[] = [];
    for (let i = 0; i < count; i++) {
      const n = buf.readInt8(at + 30);
      const p = {
        producerId: readOffset(buf, at),
        producerEpoch: buf.readInt16BE(at + 8),
        coordinatorEpoch: buf.readInt32BE(at + 10),
        lastTimestamp: readOffset(buf, at + 14),
        currentTxnFirstOffset: readOffset(buf, at + 22),
        batches: [] as ProducerStateEntry['batches'][number][],
      };
      at += PRODUCER_FIXED;
      for (let j = 0; j < n; j++) {
        p.batches.push({
          firstSeq: buf.readInt32BE(at),
          lastSeq: buf.readInt32BE(at + 4),
          lastOffset: readOffset(buf, at + 8),
          offsetDelta: buf.readInt32BE(at + 16),
          timestamp: readOffset(buf, at + 20),
        });
        at += BATCH_ENTRY;
      }
      producers.push(p);
    }
    const abortedCount = buf.readInt32BE(at);
    at += 4;
    const aborted: AbortedTransaction[] = [];
    for (let i = 0; i < abortedCount; i++) {
      aborted.push({
        producerId: readOffset(buf, at),
        firstOffset: readOffset(buf, at + 8),
        lastOffset: readOffset(buf, at + 16),
      });
      at += ABORTED_ENTRY;
    }
    if (at !== buf.length) return `${buf.length - at} bytes after the last entry`;
    return { offset, producers, aborted };
  } catch (e) {
    return `cut short: ${(e as Error).message}`;
  }
}

/** The offsets of the snapshot files among a directory's `names`, ascending. */
export function snapshotOffsets(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const name of names) {
    const m = SNAPSHOT_NAME.exec(name);
    if (m !== null) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/** The offsets of the partition's snapshot files, ascending. */
export async function listSnapshots(dir: string): Promise<number[]> {
  return snapshotOffsets(await readdir(dir));
}

/** Reads the snapshot at `offset`; null when it is missing, a string when it is unreadable. */
export async function readSnapshot(dir: string, offset: number): Promise<ProducerSnapshot | string | null> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, snapshotFileName(offset)));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
  const s = decodeSnapshot(buf);
  if (typeof s !== 'string' && s.offset !== offset) return `holds offset ${s.offset}, not ${offset}`;
  return s;
}

/**
 * Writes the snapshot atomically (temporary file, fsync, rename, directory fsync) and removes the
 * older snapshots but one.
 */
export async function writeSnapshot(dir: string, s: ProducerSnapshot): Promise<void> {
  await writeFileAtomic(join(dir, snapshotFileName(s.offset)), encodeSnapshot(s));
  const offsets = await listSnapshots(dir);
  for (const o of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT)))
    if (o < s.offset) await unlinkIfExists(join(dir, snapshotFileName(o)));
}

/**
 * Replays one stored batch into producer state, as Kafka rebuilds it from the log: without
 * validation (what is stored was accepted), data batches from their header, transaction markers
 * from the control record's key and value. Batches without a producer id are skipped.
 */
export function replayBatch(state: ProducerLog, b: ScannedBatch, compression: CompressionRegistry): void {
  const buf = b.buf;
  const at = b.at;
  const producerId = readOffset(buf, at + PRODUCER_ID_AT);
  if (producerId < 0) return;
  const attributes = buf.readInt16BE(at + ATTRIBUTES_AT);
  const producerEpoch = buf.readInt16BE(at + PRODUCER_EPOCH_AT);
  const maxTimestamp = readTimestamp(buf, at + MAX_TIMESTAMP_AT);
  if ((attributes & CONTROL_BIT) !== 0) {
    let marker: { commit: boolean; coordinatorEpoch: number };
    try {
      const { cursor } = openRecords(buf, at, { verifyCrc: false, compression });
      if (!cursor.next()) return;
      marker = parseEndTxnMarker(cursor.key(), cursor.value());
    } catch {
      // A control record that is not a transaction marker changes no producer state.
      return;
    }
    const m: ProducerMarker = {
      producerId,
      producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      commit: marker.commit,
      transactionVersion: 0,
      timestamp: maxTimestamp,
    };
    state.markerDurable(m, b.baseOffset);
    return;
  }
  const a: ProducerAppend = {
    producerId,
    producerEpoch,
    baseSequence: buf.readInt32BE(at + BASE_SEQUENCE_AT),
    lastOffsetDelta: b.lastOffset - b.baseOffset,
    maxTimestamp,
    transactional: (attributes & TRANSACTIONAL_BIT) !== 0,
  };
  state.durable.recordData(a, b.baseOffset);
}
