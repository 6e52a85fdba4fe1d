import type { FileHandle } from 'node:fs/promises';
import { readAt } from './fs-util.js';

// Record batch v2 header fields the log reads (Kafka's layout; see @tributary/codec/records).
export const LENGTH_AT = 8;
export const MAGIC_AT = 16;
export const CRC_AT = 17;
export const ATTRIBUTES_AT = 21;
export const LAST_OFFSET_DELTA_AT = 23;
export const BASE_TIMESTAMP_AT = 27;
export const MAX_TIMESTAMP_AT = 35;
export const PRODUCER_ID_AT = 43;
export const PRODUCER_EPOCH_AT = 51;
export const BASE_SEQUENCE_AT = 53;
export const RECORD_COUNT_AT = 57;
/** baseOffset and batchLength. */
export const LOG_OVERHEAD = 12;
/** The header up to and including recordCount. */
export const BATCH_HEADER_SIZE = 61;
/** The smallest batchLength of a v2 batch. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;

export function readOffset(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4);
}

export function readTimestamp(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4);
}

/** One complete batch found in a segment file: `buf.subarray(at, at + size)`, from file `position`. */
export interface ScannedBatch {
  readonly buf: Buffer;
  readonly at: number;
  readonly size: number;
  readonly position: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

/**
 * Walks the complete batches of a segment file between two positions, reading `chunk` bytes at a
 * time (more when one batch is larger). Batches are slices of the chunks read, never copies.
 * Stops at an impossible length or a batch cut off by `to`; `end` is then the position of the
 * first byte not walked and `problem` says why.
 */
export class BatchScan {
  /** Position after the last batch yielded. */
  end: number;
  problem: string | null = null;

  constructor(
    private readonly h: FileHandle,
    from: number,
    private to: number,
    private readonly chunk: number,
  ) {
    this.end = from;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ScannedBatch> {
    let want = this.chunk;
    while (this.end < this.to) {
      const pos = this.end;
      const len = Math.min(want, this.to - pos);
      const buf = await readAt(this.h, pos, len);
      // The file is shorter than expected (truncated behind our back): walk what is there.
      if (buf.length < len) this.to = pos + buf.length;
      let p = 0;
      for (;;) {
        if (p + LOG_OVERHEAD > buf.length) break;
        const length = buf.readInt32BE(p + LENGTH_AT);
        if (length < MIN_BATCH_LENGTH) {
          this.end = pos + p;
          this.problem = `impossible batch length ${length} at position ${pos + p}`;
          return;
        }
        const size = LOG_OVERHEAD + length;
        if (p + size > buf.length) {
          if (p === 0) {
            if (pos + size > this.to) {
              this.problem = `batch of ${size} bytes at position ${pos} is cut off at ${this.to}`;
              return;
            }
            want = size;
          }
          break;
        }
        const baseOffset = readOffset(buf, p);
        this.end = pos + p + size;
        yield {
          buf,
          at: p,
          size,
          position: pos + p,
          baseOffset,
          lastOffset: baseOffset + buf.readInt32BE(p + LAST_OFFSET_DELTA_AT),
          maxTimestamp: readTimestamp(buf, p + MAX_TIMESTAMP_AT),
        };
        p += size;
      }
      if (p === 0 && buf.length < LOG_OVERHEAD) {
        this.problem = `${buf.length} stray bytes at position ${pos}`;
        return;
      }
      if (p > 0) want = this.chunk;
    }
  }
}
