import {
  COMPRESSION_MASK,
  CONTROL_BIT,
  TIMESTAMP_TYPE_BIT,
  TimestampType,
  TRANSACTIONAL_BIT,
} from './attributes.js';
import { readInt16, readInt32, readInt64Number } from './int64.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
} from './record-batch-layout.js';

/** Smallest legal messageSize of a legacy message: crc, magic, attributes, [timestamp], key and value lengths. */
const MIN_LEGACY_LENGTH = [14, 22] as const;

/**
 * A snapshot of one batch's header. Offsets and producer ids are bigint because Kafka defines them
 * as int64; timestamps are numbers of milliseconds (exact far past any real clock).
 */
export interface RecordBatchHeader {
  /** Byte position of the batch in the buffer it was read from. */
  position: number;
  /** Bytes the batch takes, LOG_OVERHEAD included. */
  size: number;
  magic: number;
  baseOffset: bigint;
  partitionLeaderEpoch: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampType;
  transactional: boolean;
  control: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/**
 * Walks the batches in a `records` field (which may hold several, and, in a Fetch response, end in
 * a partial one) reading only headers: nothing is decompressed, checksummed or allocated. The
 * getters read the current batch straight from the buffer; `header()` takes a snapshot.
 *
 * ```ts
 * const scan = new RecordBatchScanner(records);
 * while (scan.next()) offsets.push(scan.baseOffsetNumber + scan.lastOffsetDelta);
 * if (scan.partialBytes > 0) ... // a trailing batch was cut off
 * ```
 *
 * Legacy messages (magic 0 and 1) are walked too, so their position, size, magic and offset are
 * reported; the v2-only getters throw on them.
 */
export class RecordBatchScanner {
  readonly buf: Buffer;
  readonly end: number;
  /** Start of the current batch. */
  position = -1;
  /** Bytes the current batch takes, LOG_OVERHEAD included. */
  size = 0;
  /** Once `next()` has returned false: the bytes of a trailing incomplete batch, or 0. */
  partialBytes = 0;
  private cursor: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.cursor = start;
    this.end = end;
  }

  /**
   * Moves to the next complete batch. Returns false at the end of the data or at a trailing batch
   * that is cut off (see `partialBytes`). Throws InvalidRecordBatchError for a batch whose length
   * or magic is impossible, since nothing after it can be trusted.
   */
  next(): boolean {
    const p = this.cursor;
    const left = this.end - p;
    if (left <= 0) return this.stop(0);
    if (left < LOG_OVERHEAD) return this.stop(left);
    const length = readInt32(this.buf, p + BATCH_LENGTH_OFFSET);
    if (length < MIN_LEGACY_LENGTH[0])
      throw new InvalidRecordBatchError(
        'length',
        `record batch length ${length} is too small`,
        p + BATCH_LENGTH_OFFSET,
      );
    if (left <= MAGIC_OFFSET) return this.stop(left);
    const magic = this.buf[p + MAGIC_OFFSET]!;
    const min = magic === CURRENT_MAGIC ? MIN_BATCH_LENGTH : MIN_LEGACY_LENGTH[magic];
    if (min === undefined)
      throw new InvalidRecordBatchError('magic', `unknown record batch magic ${magic}`, p + MAGIC_OFFSET);
    if (length < min)
      throw new InvalidRecordBatchError(
        'length',
        `magic ${magic} batch length ${length} is under ${min}`,
        p + BATCH_LENGTH_OFFSET,
      );
    const size = LOG_OVERHEAD + length;
    if (size > left) return this.stop(left);
    this.position = p;
    this.size = size;
    this.cursor = p + size;
    return true;
  }

  private stop(partial: number): false {
    this.position = -1;
    this.size = 0;
    this.partialBytes = partial;
    return false;
  }

  private at(field: number): number {
    if (this.position < 0) throw new Error('RecordBatchScanner: call next() first');
    return this.position + field;
  }

  private v2(field: number): number {
    const o = this.at(field);
    const magic = this.buf[this.position + MAGIC_OFFSET]!;
    if (magic !== CURRENT_MAGIC)
      throw new InvalidRecordBatchError(
        'magic',
        `a magic ${magic} message has no v2 batch header`,
        this.position + MAGIC_OFFSET,
      );
    return o;
  }

  get magic(): number {
    return this.buf[this.at(MAGIC_OFFSET)]!;
  }

  /** The base offset (for a legacy message, its offset). */
  get baseOffset(): bigint {
    return this.buf.readBigInt64BE(this.at(BASE_OFFSET_OFFSET));
  }

  /** The base offset as a number: no bigint on the hot path. DecodeError beyond 2^53. */
  get baseOffsetNumber(): number {
    return readInt64Number(this.buf, this.at(BASE_OFFSET_OFFSET), 'base offset');
  }

  get partitionLeaderEpoch(): number {
    return readInt32(this.buf, this.v2(PARTITION_LEADER_EPOCH_OFFSET));
  }

  get crc(): number {
    return readInt32(this.buf, this.v2(CRC_OFFSET)) >>> 0;
  }

  get attributes(): number {
    return readInt16(this.buf, this.v2(ATTRIBUTES_OFFSET));
  }

  get compression(): number {
    return this.attributes & COMPRESSION_MASK;
  }

  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_BIT ? TimestampType.LogAppendTime : TimestampType.CreateTime;
  }

  get transactional(): boolean {
    return (this.attributes & TRANSACTIONAL_BIT) !== 0;
  }

  get control(): boolean {
    return (this.attributes & CONTROL_BIT) !== 0;
  }

  get lastOffsetDelta(): number {
    return readInt32(this.buf, this.v2(LAST_OFFSET_DELTA_OFFSET));
  }

  /** baseOffset + lastOffsetDelta, as a number. */
  get lastOffsetNumber(): number {
    return this.baseOffsetNumber + this.lastOffsetDelta;
  }

  /** First timestamp of the batch (the delete horizon when that attribute bit is set). */
  get baseTimestamp(): number {
    return readInt64Number(this.buf, this.v2(BASE_TIMESTAMP_OFFSET), 'base timestamp');
  }

  get maxTimestamp(): number {
    return readInt64Number(this.buf, this.v2(MAX_TIMESTAMP_OFFSET), 'max timestamp');
  }

  get producerId(): bigint {
    return this.buf.readBigInt64BE(this.v2(PRODUCER_ID_OFFSET));
  }

  /** The producer id as a number (-1 for none): a cheap map key for idempotence state. */
  get producerIdNumber(): number {
    return readInt64Number(this.buf, this.v2(PRODUCER_ID_OFFSET), 'producer id');
  }

  get producerEpoch(): number {
    return readInt16(this.buf, this.v2(PRODUCER_EPOCH_OFFSET));
  }

  get baseSequence(): number {
    return readInt32(this.buf, this.v2(BASE_SEQUENCE_OFFSET));
  }

  get recordCount(): number {
    return readInt32(this.buf, this.v2(RECORD_COUNT_OFFSET));
  }

  /** A snapshot of the current (v2) batch's header. */
  header(): RecordBatchHeader {
    return headerAt(this.buf, this.at(0), this.size);
  }
}

function headerAt(buf: Buffer, p: number, size: number): RecordBatchHeader {
  const attributes = readInt16(buf, p + ATTRIBUTES_OFFSET);
  return {
    position: p,
    size,
    magic: buf[p + MAGIC_OFFSET]!,
    baseOffset: buf.readBigInt64BE(p + BASE_OFFSET_OFFSET),
    partitionLeaderEpoch: readInt32(buf, p + PARTITION_LEADER_EPOCH_OFFSET),
    crc: readInt32(buf, p + CRC_OFFSET) >>> 0,
    attributes,
    compression: attributes & COMPRESSION_MASK,
    timestampType: attributes & TIMESTAMP_TYPE_BIT ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    transactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    control: (attributes & CONTROL_BIT) !== 0,
    lastOffsetDelta: readInt32(buf, p + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64Number(buf, p + BASE_TIMESTAMP_OFFSET, 'base timestamp'),
    maxTimestamp: readInt64Number(buf, p + MAX_TIMESTAMP_OFFSET, 'max timestamp'),
    producerId: buf.readBigInt64BE(p + PRODUCER_ID_OFFSET),
    producerEpoch: readInt16(buf, p + PRODUCER_EPOCH_OFFSET),
    baseSequence: readInt32(buf, p + BASE_SEQUENCE_OFFSET),
    recordCount: readInt32(buf, p + RECORD_COUNT_OFFSET),
  };
}

/**
 * Reads the header of the v2 batch at `position`, which must be complete in `buf`. Throws
 * InvalidRecordBatchError for a truncated, legacy or impossible batch. Does not check the CRC.
 */
export function readRecordBatchHeader(buf: Buffer, position = 0): RecordBatchHeader {
  const scan = new RecordBatchScanner(buf, position);
  if (!scan.next())
    throw new InvalidRecordBatchError(
      'truncated',
      `record batch needs more than the ${buf.length - position} bytes left`,
      position,
    );
  if (scan.magic !== CURRENT_MAGIC)
    throw new InvalidRecordBatchError(
      'magic',
      `expected a magic 2 batch, found magic ${scan.magic}`,
      position + MAGIC_OFFSET,
    );
  return scan.header();
}

/** Every complete batch header in `records`, and the size of a trailing partial batch. */
export function scanRecordBatches(records: Buffer): { batches: RecordBatchHeader[]; partialBytes: number } {
  const scan = new RecordBatchScanner(records);
  const batches: RecordBatchHeader[] = [];
  while (scan.next()) {
    if (scan.magic !== CURRENT_MAGIC)
      throw new InvalidRecordBatchError(
        'magic',
        `expected a magic 2 batch, found magic ${scan.magic}`,
        scan.position + MAGIC_OFFSET,
      );
    batches.push(scan.header());
  }
  return { batches, partialBytes: scan.partialBytes };
}
