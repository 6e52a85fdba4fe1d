import { DecodeError } from '../protocol/errors.js';
import { Reader } from '../protocol/reader.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import { MIN_RECORD_SIZE } from './record-batch-layout.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

const EMPTY_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/**
 * Walks the records of one batch (already decompressed) without allocating per record: each
 * `next()` parses one record into the fields below, which are positions and lengths in `data`.
 * `key()`, `value()` and `headers()` slice on demand. A malformed record throws
 * InvalidRecordBatchError with problem `records`.
 *
 * Record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 * keyLength varint (-1 null) | key | valueLength varint | value | headerCount varint |
 * headers (keyLength varint, key utf8, valueLength varint (-1 null), value)
 */
export class RecordCursor {
  readonly data: Buffer;
  private readonly reader: Reader;
  private readonly count: number;
  /** Records read so far; the current one is number `index - 1`. */
  index = 0;
  recordStart = 0;
  recordEnd = 0;
  attributes = 0;
  timestampDelta = 0;
  offsetDelta = 0;
  /** Position of the key in `data`; keyLength is -1 for a null key. */
  keyOffset = 0;
  keyLength = -1;
  valueOffset = 0;
  valueLength = -1;
  headerCount = 0;
  headersOffset = 0;

  /** `count` records are expected in `data[start, end)`, and nothing after them. */
  constructor(data: Buffer, start: number, end: number, count: number) {
    if (count < 0 || count > Math.floor((end - start) / MIN_RECORD_SIZE))
      throw new InvalidRecordBatchError(
        'records',
        `${count} records cannot fit in ${end - start} bytes`,
        start,
      );
    this.data = data;
    this.reader = new Reader(data, start, end);
    this.count = count;
  }

  /** Parses the next record; false after the last, once the data is checked to end there. */
  next(): boolean {
    const r = this.reader;
    if (this.index === this.count) {
      if (r.offset !== r.end)
        throw new InvalidRecordBatchError(
          'records',
          `${r.end - r.offset} bytes follow the last record`,
          r.offset,
        );
      return false;
    }
    const start = r.offset;
    try {
      const length = r.varint();
      const bodyStart = r.offset;
      if (length < MIN_RECORD_SIZE - 1 || bodyStart + length > r.end)
        throw new DecodeError(`record length ${length} does not fit the batch`, start);
      this.attributes = r.int8();
      this.timestampDelta = r.varlong();
      this.offsetDelta = r.varint();
      this.keyLength = this.slice('key');
      this.keyOffset = r.offset - Math.max(0, this.keyLength);
      this.valueLength = this.slice('value');
      this.valueOffset = r.offset - Math.max(0, this.valueLength);
      const headerCount = r.varint();
      if (headerCount < 0) throw new DecodeError(`header count ${headerCount} is negative`, r.offset);
      this.headerCount = headerCount;
      this.headersOffset = r.offset;
      for (let i = 0; i < headerCount; i++) {
        const keyLength = r.varint();
        if (keyLength < 0) throw new DecodeError(`header key length ${keyLength} is negative`, r.offset);
        r.skip(keyLength);
        this.slice('header value');
      }
      if (r.offset !== bodyStart + length)
        throw new DecodeError(`record declares ${length} bytes but holds ${r.offset - bodyStart}`, start);
    } catch (e) {
      if (e instanceof InvalidRecordBatchError) throw e;
      const reason = e instanceof DecodeError ? e.reason : String(e);
      throw new InvalidRecordBatchError('records', `record ${this.index}: ${reason}`, start);
    }
    this.recordStart = start;
    this.recordEnd = r.offset;
    this.index++;
    return true;
  }

  /** Reads a varint length (-1 for null) and skips that many bytes; returns the length. */
  private slice(what: string): number {
    const r = this.reader;
    const at = r.offset;
    const length = r.varint();
    if (length < -1) throw new DecodeError(`${what} length ${length} is invalid`, at);
    if (length > 0) r.skip(length);
    return length;
  }

  key(): Buffer | null {
    return this.keyLength < 0 ? null : this.data.subarray(this.keyOffset, this.keyOffset + this.keyLength);
  }

  value(): Buffer | null {
    return this.valueLength < 0
      ? null
      : this.data.subarray(this.valueOffset, this.valueOffset + this.valueLength);
  }

  /** The current record's headers; keys decoded as UTF-8, values sliced. */
  headers(): readonly RecordHeader[] {
    if (this.headerCount === 0) return EMPTY_HEADERS;
    const r = new Reader(this.data, this.headersOffset, this.recordEnd);
    const out: RecordHeader[] = [];
    for (let i = 0; i < this.headerCount; i++) {
      const keyLength = r.varint();
      const key = this.data.toString('utf8', r.offset, r.offset + keyLength);
      r.skip(keyLength);
      const valueLength = r.varint();
      const value = valueLength < 0 ? null : r.raw(valueLength);
      out.push({ key, value });
    }
    return out;
  }
}
