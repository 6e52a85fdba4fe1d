import { EncodeError } from './errors.js';
import { MAX_STRING_LENGTH } from './reader.js';

/** 2^53: integers of at most this magnitude are exact in a double. */
const MAX_EXACT = 9007199254740992n;

/** Bytes an unsigned varint takes. */
export function uvarintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes a zigzag varint (32-bit) takes. */
export function varintSize(value: number): number {
  return uvarintSize(((value << 1) ^ (value >> 31)) >>> 0);
}

/** Bytes a zigzag varlong takes (the value must be a safe integer). */
export function varlongSize(value: number): number {
  let u = value < 0 ? -2 * value - 1 : 2 * value;
  let n = 1;
  while (u >= 128) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

/** UTF-8 byte length; short ASCII strings are counted without leaving JS. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
    return n;
  }
  return Buffer.byteLength(s, 'utf8');
}

function checkStringLength(len: number): number {
  if (len > MAX_STRING_LENGTH) throw new EncodeError(`string of ${len} bytes exceeds ${MAX_STRING_LENGTH}`);
  return len;
}

/** Encoded size of a classic string (int16 length prefix). */
export function stringSize(s: string | null): number {
  return s === null ? 2 : 2 + checkStringLength(utf8Length(s));
}

/** Encoded size of a compact string (unsigned varint length + 1). */
export function compactStringSize(s: string | null): number {
  if (s === null) return 1;
  const len = checkStringLength(utf8Length(s));
  return uvarintSize(len + 1) + len;
}

export function bytesSize(b: Uint8Array | null): number {
  return b === null ? 4 : 4 + b.length;
}

export function compactBytesSize(b: Uint8Array | null): number {
  return b === null ? 1 : uvarintSize(b.length + 1) + b.length;
}

/** Byte fields of at least this many bytes are spliced in by reference by chunked encoding. */
export const DEFAULT_SPLICE_THRESHOLD = 16 * 1024;

/**
 * Writes into a buffer whose size was computed beforehand by the matching size function, so no write
 * checks capacity. `Writer.alloc(n)` takes a fresh buffer; `new Writer(buf, offset)` writes into an
 * existing one (a frame with its header, say).
 *
 * A chunked writer (`Writer.chunked(n, threshold)`) does not copy `bytes` fields of `threshold`
 * bytes or more: it references them as chunks of their own, so its buffer holds only the other
 * fields (the message's size less its spliced bytes, which the descriptor's `spliced` function
 * counts) and `chunks()` returns the output as a list for `socket.writev` or a corked write.
 */
export class Writer {
  readonly buf: Buffer;
  offset: number;
  /** Byte fields at least this long are spliced; Infinity for a plain writer, which never does. */
  readonly spliceThreshold: number;
  private spliced: Buffer[] | null = null;
  /** Start of the part of `buf` not yet handed out as a chunk. */
  private chunkStart: number;

  constructor(buf: Buffer, offset = 0, spliceThreshold = Number.POSITIVE_INFINITY) {
    this.buf = buf;
    this.offset = offset;
    this.chunkStart = offset;
    this.spliceThreshold = spliceThreshold;
  }

  static alloc(size: number): Writer {
    return new Writer(Buffer.allocUnsafe(size), 0);
  }

  /** A writer for chunked output: `size` is the message's size less the bytes it will splice. */
  static chunked(size: number, spliceThreshold = DEFAULT_SPLICE_THRESHOLD): Writer {
    if (!(spliceThreshold >= 1))
      throw new EncodeError(`splice threshold must be at least 1, got ${spliceThreshold}`);
    return new Writer(Buffer.allocUnsafe(size), 0, spliceThreshold);
  }

  /**
   * What was written, in order, as chunks: slices of `buf` between the spliced byte fields, and
   * those fields themselves (the caller's buffers, not copies). Concatenated they are exactly the
   * bytes a plain writer writes. Empty slices are left out; an empty message is one empty chunk.
   */
  chunks(): Buffer[] {
    const out = this.spliced ?? [];
    if (this.offset > this.chunkStart || out.length === 0)
      out.push(this.buf.subarray(this.chunkStart, this.offset));
    this.spliced = null;
    this.chunkStart = this.offset;
    return out;
  }

  private splice(v: Uint8Array): void {
    let out = this.spliced;
    if (out === null) {
      out = [];
      this.spliced = out;
    }
    if (this.offset > this.chunkStart) out.push(this.buf.subarray(this.chunkStart, this.offset));
    out.push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    this.chunkStart = this.offset;
  }

  int8(v: number): void {
    this.buf[this.offset++] = v;
  }

  bool(v: boolean): void {
    this.buf[this.offset++] = v ? 1 : 0;
  }

  int16(v: number): void {
    const b = this.buf;
    const o = this.offset;
    b[o] = v >> 8;
    b[o + 1] = v;
    this.offset = o + 2;
  }

  uint16(v: number): void {
    this.int16(v);
  }

  int32(v: number): void {
    const b = this.buf;
    const o = this.offset;
    b[o] = v >> 24;
    b[o + 1] = v >> 16;
    b[o + 2] = v >> 8;
    b[o + 3] = v;
    this.offset = o + 4;
  }

  uint32(v: number): void {
    this.int32(v);
  }

  int64(v: bigint): void {
    // Offsets, timestamps and producer ids sit far inside 2^53: written through a double they need
    // no BigInt arithmetic, where Buffer#writeBigInt64BE masks and shifts BigInts.
    if (v >= -MAX_EXACT && v <= MAX_EXACT) {
      const n = Number(v);
      const hi = Math.floor(n / 4294967296);
      const lo = n - hi * 4294967296;
      const b = this.buf;
      const o = this.offset;
      b[o] = hi >> 24;
      b[o + 1] = hi >> 16;
      b[o + 2] = hi >> 8;
      b[o + 3] = hi;
      b[o + 4] = lo >>> 24;
      b[o + 5] = lo >>> 16;
      b[o + 6] = lo >>> 8;
      b[o + 7] = lo;
      this.offset = o + 8;
      return;
    }
    this.offset = this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.offset);
  }

  float64(v: number): void {
    this.offset = this.buf.writeDoubleBE(v, this.offset);
  }

  uuid(v: Uint8Array): void {
    if (v.length !== 16) throw new EncodeError(`uuid must be 16 bytes, got ${v.length}`);
    this.buf.set(v, this.offset);
    this.offset += 16;
  }

  uvarint(v: number): void {
    const b = this.buf;
    let o = this.offset;
    v >>>= 0;
    while (v >= 0x80) {
      b[o++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[o++] = v;
    this.offset = o;
  }

  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  varlong(v: number): void {
    let u = v < 0 ? -2 * v - 1 : 2 * v;
    const b = this.buf;
    let o = this.offset;
    while (u >= 128) {
      b[o++] = (u % 128) | 0x80;
      u = Math.floor(u / 128);
    }
    b[o++] = u;
    this.offset = o;
  }

  /** Writes the UTF-8 of `s` at `o`, returning the byte count. */
  private utf8At(s: string, o: number): number {
    const n = s.length;
    if (n < 32) {
      const b = this.buf;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[o + i] = c;
      }
      if (i === n) return n;
    }
    return this.buf.write(s, o, 'utf8');
  }

  string(s: string): void {
    const len = this.utf8At(s, this.offset + 2);
    this.int16(len);
    this.offset += len;
  }

  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }

  compactString(s: string): void {
    // A string of under 42 UTF-16 units is under 127 UTF-8 bytes: its length prefix is one byte.
    if (s.length < 42) {
      const len = this.utf8At(s, this.offset + 1);
      this.buf[this.offset] = len + 1;
      this.offset += 1 + len;
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.uvarint(len + 1);
    this.offset += this.buf.write(s, this.offset, 'utf8');
  }

  compactNullableString(s: string | null): void {
    if (s === null) this.buf[this.offset++] = 0;
    else this.compactString(s);
  }

  bytes(v: Uint8Array): void {
    const n = v.length;
    this.int32(n);
    if (n >= this.spliceThreshold) this.splice(v);
    else {
      this.buf.set(v, this.offset);
      this.offset += n;
    }
  }

  nullableBytes(v: Uint8Array | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }

  compactBytes(v: Uint8Array): void {
    const n = v.length;
    this.uvarint(n + 1);
    if (n >= this.spliceThreshold) this.splice(v);
    else {
      this.buf.set(v, this.offset);
      this.offset += n;
    }
  }

  compactNullableBytes(v: Uint8Array | null): void {
    if (v === null) this.buf[this.offset++] = 0;
    else this.compactBytes(v);
  }

  raw(v: Uint8Array): void {
    this.buf.set(v, this.offset);
    this.offset += v.length;
  }
}
