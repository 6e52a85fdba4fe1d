import { TIMESTAMP_TYPE_BIT } from './attributes.js';
import { crc32c } from './crc32c.js';
import { readInt16, readInt32, writeInt16, writeInt32, writeInt64 } from './int64.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
} from './record-batch-layout.js';
import { RecordBatchScanner } from './record-batch-scanner.js';

/*
 * In-place edits a broker makes to a producer's batch before appending it. The batch is never
 * re-encoded: base offset and partition leader epoch sit outside the CRC, so writing them keeps
 * the CRC valid; LogAppendTime changes attributes and maxTimestamp, inside it, so the CRC is
 * recomputed.
 */

/** Returns the size of the complete v2 batch at `position`, or throws. */
function batchSizeAt(buf: Buffer, position: number): number {
  const scan = new RecordBatchScanner(buf, position);
  if (!scan.next())
    throw new InvalidRecordBatchError(
      'truncated',
      `record batch needs more than the ${buf.length - position} bytes left`,
      position,
    );
  const magic = buf[position + MAGIC_OFFSET]!;
  if (magic !== CURRENT_MAGIC)
    throw new InvalidRecordBatchError(
      'magic',
      `expected a magic 2 batch, found magic ${magic}`,
      position + MAGIC_OFFSET,
    );
  return scan.size;
}

/** Sets the base offset of the batch at `position`. The CRC stays valid. */
export function setBaseOffset(buf: Buffer, position: number, baseOffset: number | bigint): void {
  batchSizeAt(buf, position);
  writeInt64(buf, position + BASE_OFFSET_OFFSET, baseOffset);
}

/** Sets the partition leader epoch of the batch at `position`. The CRC stays valid. */
export function setPartitionLeaderEpoch(buf: Buffer, position: number, epoch: number): void {
  batchSizeAt(buf, position);
  writeInt32(buf, position + PARTITION_LEADER_EPOCH_OFFSET, epoch);
}

/**
 * Marks the batch at `position` as LogAppendTime with `timestamp` as its max timestamp (which
 * consumers then report for every record), and rewrites the CRC. Does nothing when the batch
 * already says exactly that, as Kafka does.
 */
export function setLogAppendTime(buf: Buffer, position: number, timestamp: number): void {
  const size = batchSizeAt(buf, position);
  const attributes = readInt16(buf, position + ATTRIBUTES_OFFSET);
  const maxAt = position + MAX_TIMESTAMP_OFFSET;
  const current = buf.readBigInt64BE(maxAt);
  if (attributes & TIMESTAMP_TYPE_BIT && current === BigInt(timestamp)) return;
  writeInt16(buf, position + ATTRIBUTES_OFFSET, attributes | TIMESTAMP_TYPE_BIT);
  writeInt64(buf, maxAt, timestamp);
  writeInt32(buf, position + CRC_OFFSET, crc32c(buf, position + CRC_START, position + size));
}

/**
 * Assigns consecutive offsets to every batch in `records` (a produce request's records field),
 * starting at `firstOffset`, and returns the next offset to assign (the new log end offset).
 * Pass a number for the fast path (exact below 2^53) or a bigint. Run `validateRecords` first:
 * a malformed batch found midway leaves the batches before it already rewritten.
 */
export function assignOffsets(records: Buffer, firstOffset: number): number;
export function assignOffsets(records: Buffer, firstOffset: bigint): bigint;
export function assignOffsets(records: Buffer, firstOffset: number | bigint): number | bigint {
  const scan = new RecordBatchScanner(records);
  let next = firstOffset;
  while (scan.next()) {
    const p = scan.position;
    if (records[p + MAGIC_OFFSET] !== CURRENT_MAGIC)
      throw new InvalidRecordBatchError(
        'magic',
        `expected a magic 2 batch, found magic ${records[p + MAGIC_OFFSET]}`,
        p + MAGIC_OFFSET,
      );
    writeInt64(records, p + BASE_OFFSET_OFFSET, next);
    const span = readInt32(records, p + LAST_OFFSET_DELTA_OFFSET) + 1;
    next = typeof next === 'bigint' ? next + BigInt(span) : next + span;
  }
  if (scan.partialBytes > 0)
    throw new InvalidRecordBatchError(
      'truncated',
      `records end in a partial batch of ${scan.partialBytes} bytes`,
      records.length - scan.partialBytes,
    );
  return next;
}
