import type { CompressionRegistry } from '../compression/registry.js';
import { defaultCompression } from '../compression/registry.js';
import { DecodeError } from '../protocol/errors.js';
import { COMPRESSION_MASK, TimestampType } from './attributes.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import { RECORDS_OFFSET } from './record-batch-layout.js';
import { type RecordBatchHeader, RecordBatchScanner, readRecordBatchHeader } from './record-batch-scanner.js';
import { validateRecordBatch } from './record-batch-validate.js';
import { RecordCursor, type RecordHeader } from './record-cursor.js';

export interface ReadRecordsOptions {
  /** Codecs for compressed batches; `defaultCompression` when absent. */
  compression?: CompressionRegistry;
  /** Check the CRC before decoding (default true). */
  verifyCrc?: boolean;
}

/** One record, with its offset and timestamp resolved against the batch. */
export interface DecodedRecord {
  offset: bigint;
  offsetDelta: number;
  /** Milliseconds; for a LogAppendTime batch, the batch's max timestamp as Kafka reports it. */
  timestamp: number;
  timestampDelta: number;
  attributes: number;
  /** Slices of the batch (or of its decompressed records): copy them to keep them past the buffer. */
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly RecordHeader[];
}

export interface DecodedRecordBatch {
  header: RecordBatchHeader;
  records: DecodedRecord[];
}

/**
 * Opens a cursor over the records of the v2 batch at `position`: checks the batch (CRC unless told
 * not to), decompresses it through the registry if needed, and returns the header and a
 * RecordCursor. Uncompressed records are read in place.
 */
export function openRecords(
  buf: Buffer,
  position = 0,
  options: ReadRecordsOptions = {},
): { header: RecordBatchHeader; cursor: RecordCursor } {
  if (options.verifyCrc ?? true) validateRecordBatch(buf, position);
  const header = readRecordBatchHeader(buf, position);
  const start = position + RECORDS_OFFSET;
  const end = position + header.size;
  const compression = header.attributes & COMPRESSION_MASK;
  if (compression === 0) return { header, cursor: new RecordCursor(buf, start, end, header.recordCount) };
  const registry = options.compression ?? defaultCompression;
  let data: Buffer;
  try {
    data = registry.decompress(compression, buf.subarray(start, end));
  } catch (e) {
    const reason = e instanceof DecodeError ? e.reason : String(e);
    throw new InvalidRecordBatchError('records', reason, start);
  }
  return { header, cursor: new RecordCursor(data, 0, data.length, header.recordCount) };
}

/** The records of the v2 batch at `position`, one at a time, for tools and tests. */
export function* iterateRecords(
  buf: Buffer,
  position = 0,
  options: ReadRecordsOptions = {},
): Generator<DecodedRecord> {
  const { header, cursor } = openRecords(buf, position, options);
  const logAppendTime = header.timestampType === TimestampType.LogAppendTime;
  while (cursor.next()) {
    yield {
      offset: header.baseOffset + BigInt(cursor.offsetDelta),
      offsetDelta: cursor.offsetDelta,
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + cursor.timestampDelta,
      timestampDelta: cursor.timestampDelta,
      attributes: cursor.attributes,
      key: cursor.key(),
      value: cursor.value(),
      headers: cursor.headers(),
    };
  }
}

/** The header and all records of the v2 batch at `position`. */
export function decodeRecordBatch(
  buf: Buffer,
  position = 0,
  options: ReadRecordsOptions = {},
): DecodedRecordBatch {
  const header = readRecordBatchHeader(buf, position);
  return { header, records: [...iterateRecords(buf, position, options)] };
}

/**
 * Every complete batch in a `records` field, decoded. A trailing partial batch (as a Fetch
 * response may end with) is skipped, as Kafka's consumers skip it.
 */
export function* iterateRecordBatches(
  records: Buffer,
  options: ReadRecordsOptions = {},
): Generator<DecodedRecordBatch> {
  const scan = new RecordBatchScanner(records);
  while (scan.next()) yield decodeRecordBatch(records, scan.position, options);
}
