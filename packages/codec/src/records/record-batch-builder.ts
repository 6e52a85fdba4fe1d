import type { CompressionRegistry } from '../compression/registry.js';
import { defaultCompression } from '../compression/registry.js';
import { EncodeError } from '../protocol/errors.js';
import { utf8Length, varintSize, varlongSize, Writer } from '../protocol/writer.js';
import { batchAttributes, TimestampType } from './attributes.js';
import { crc32c } from './crc32c.js';
import { writeInt16, writeInt32, writeInt64 } from './int64.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
} from './record-batch-layout.js';

export interface RecordHeaderInput {
  key: string;
  value: Uint8Array | null;
}

export interface RecordInput {
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: readonly RecordHeaderInput[];
  /** Milliseconds; Kafka's NO_TIMESTAMP (-1) when absent. */
  timestamp?: number;
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
}

export interface RecordBatchInput {
  records: readonly RecordInput[];
  baseOffset?: number | bigint;
  partitionLeaderEpoch?: number;
  producerId?: number | bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** A Kafka compression id (0 none ... 4 zstd). */
  compression?: number;
  timestampType?: TimestampType;
  transactional?: boolean;
  control?: boolean;
  /** Set the delete-horizon bit; baseTimestamp then holds the horizon. */
  deleteHorizon?: boolean;
  /** Defaults to the first record's timestamp. */
  baseTimestamp?: number;
  /** Defaults to the largest record timestamp (or the base timestamp for an empty batch). */
  maxTimestamp?: number;
  /** Defaults to the last record's offset delta (-1 for an empty batch). */
  lastOffsetDelta?: number;
}

export interface BuildOptions {
  compression?: CompressionRegistry;
}

function fieldSize(b: Uint8Array | null | undefined): number {
  return b == null ? 1 : varintSize(b.length) + b.length;
}

function recordBodySize(r: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size =
    1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + fieldSize(r.key) + fieldSize(r.value);
  const headers = r.headers ?? [];
  size += varintSize(headers.length);
  for (const h of headers) {
    const keyLength = utf8Length(h.key);
    size += varintSize(keyLength) + keyLength + fieldSize(h.value);
  }
  return size;
}

function writeField(w: Writer, b: Uint8Array | null | undefined): void {
  if (b == null) w.varint(-1);
  else {
    w.varint(b.length);
    w.raw(b);
  }
}

/** Encodes the records section (uncompressed) of a batch. */
function encodeRecords(records: readonly RecordInput[], baseTimestamp: number): Buffer {
  const bodySizes = new Array<number>(records.length);
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const body = recordBodySize(r, (r.timestamp ?? NO_TIMESTAMP) - baseTimestamp, r.offsetDelta ?? i);
    bodySizes[i] = body;
    total += varintSize(body) + body;
  }
  const w = Writer.alloc(total);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    w.varint(bodySizes[i]!);
    w.int8(0);
    w.varlong((r.timestamp ?? NO_TIMESTAMP) - baseTimestamp);
    w.varint(r.offsetDelta ?? i);
    writeField(w, r.key);
    writeField(w, r.value);
    const headers = r.headers ?? [];
    w.varint(headers.length);
    for (const h of headers) {
      w.varint(utf8Length(h.key));
      w.offset += w.buf.write(h.key, w.offset, 'utf8');
      writeField(w, h.value);
    }
  }
  return w.buf;
}

/**
 * Builds a v2 record batch with a correct CRC, compressing the records through the registry.
 * Used by tests, tools and clients; a broker never rebuilds a producer's batch.
 */
export function buildRecordBatch(input: RecordBatchInput, options: BuildOptions = {}): Buffer {
  const records = input.records;
  if (records.length > 0x7fffffff) throw new EncodeError('too many records for one batch');
  const first = records[0];
  const baseTimestamp = input.baseTimestamp ?? first?.timestamp ?? NO_TIMESTAMP;
  let maxTimestamp = input.maxTimestamp;
  if (maxTimestamp === undefined) {
    maxTimestamp = records.length === 0 ? baseTimestamp : Number.NEGATIVE_INFINITY;
    for (const r of records) maxTimestamp = Math.max(maxTimestamp, r.timestamp ?? NO_TIMESTAMP);
  }
  const last = records[records.length - 1];
  const lastOffsetDelta =
    input.lastOffsetDelta ?? (last === undefined ? -1 : (last.offsetDelta ?? records.length - 1));
  const compression = input.compression ?? 0;
  const plain = encodeRecords(records, baseTimestamp);
  const body =
    compression === 0 ? plain : (options.compression ?? defaultCompression).compress(compression, plain);

  const buf = Buffer.allocUnsafe(RECORDS_OFFSET + body.length);
  writeInt64(buf, BASE_OFFSET_OFFSET, input.baseOffset ?? 0);
  writeInt32(buf, BATCH_LENGTH_OFFSET, buf.length - LOG_OVERHEAD);
  writeInt32(buf, PARTITION_LEADER_EPOCH_OFFSET, input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH);
  buf[MAGIC_OFFSET] = CURRENT_MAGIC;
  const attributes = batchAttributes({
    compression,
    timestampType: input.timestampType ?? TimestampType.CreateTime,
    transactional: input.transactional ?? false,
    control: input.control ?? false,
    deleteHorizon: input.deleteHorizon ?? false,
  });
  writeInt16(buf, ATTRIBUTES_OFFSET, attributes);
  writeInt32(buf, LAST_OFFSET_DELTA_OFFSET, lastOffsetDelta);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  writeInt64(buf, PRODUCER_ID_OFFSET, input.producerId ?? -1);
  writeInt16(buf, PRODUCER_EPOCH_OFFSET, input.producerEpoch ?? NO_PRODUCER_EPOCH);
  writeInt32(buf, BASE_SEQUENCE_OFFSET, input.baseSequence ?? NO_SEQUENCE);
  writeInt32(buf, RECORD_COUNT_OFFSET, records.length);
  buf.set(body, RECORDS_OFFSET);
  writeInt32(buf, CRC_OFFSET, crc32c(buf, CRC_START, buf.length));
  return buf;
}
