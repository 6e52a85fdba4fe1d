import { DecodeError } from './errors.js';

/** Kafka limits every string, classic or compact, to a signed 16-bit length. */
export const MAX_STRING_LENGTH = 0x7fff;

const EMPTY = Buffer.alloc(0);

/**
 * A bounds-checked cursor over a Buffer. Byte fields (`bytes`, `records`, `uuid`) come back as
 * slices of the underlying buffer, never copies: keep the frame alive as long as you use them.
 */
export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, what: string): number {
    const o = this.offset;
    if (o + n > this.end) throw new DecodeError(`${what} needs ${n} bytes, ${this.end - o} left`, o);
    this.offset = o + n;
    return o;
  }

  int8(): number {
    const o = this.need(1, 'int8');
    const v = this.buf[o]!;
    return (v << 24) >> 24;
  }

  bool(): boolean {
    const o = this.need(1, 'bool');
    return this.buf[o] !== 0;
  }

  int16(): number {
    const o = this.need(2, 'int16');
    const b = this.buf;
    return (((b[o]! << 8) | b[o + 1]!) << 16) >> 16;
  }

  uint16(): number {
    const o = this.need(2, 'uint16');
    const b = this.buf;
    return (b[o]! << 8) | b[o + 1]!;
  }

  int32(): number {
    const o = this.need(4, 'int32');
    const b = this.buf;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  int64(): bigint {
    const o = this.need(8, 'int64');
    const b = this.buf;
    const hi = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    const lo = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
    // 0 and -1 (Kafka's "none" for offsets, producer ids and timestamps) come back as constants,
    // allocating nothing. Other offsets, timestamps and producer ids sit far inside 2^53, where a
    // double holds them exactly: one BigInt conversion instead of readBigInt64BE's three.
    if (hi === 0 && lo === 0) return 0n;
    if (hi === -1 && lo === 0xffffffff) return -1n;
    if (hi >= -0x200000 && hi < 0x200000) return BigInt(hi * 4294967296 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  float64(): number {
    const o = this.need(8, 'float64');
    return this.buf.readDoubleBE(o);
  }

  uuid(): Buffer {
    const o = this.need(16, 'uuid');
    return this.buf.subarray(o, o + 16);
  }

  /** Unsigned LEB128 up to 32 bits, as Kafka's readUnsignedVarint. */
  uvarint(): number {
    const b = this.buf;
    let o = this.offset;
    const end = this.end;
    let value = 0;
    let shift = 0;
    for (;;) {
      if (o >= end) throw new DecodeError('varint runs past the end of the buffer', this.offset);
      const byte = b[o++]!;
      if (shift === 28) {
        if (byte > 0x0f)
          throw new DecodeError('varint is longer than 5 bytes or exceeds 32 bits', this.offset);
        value += byte * 2 ** 28;
        break;
      }
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    this.offset = o;
    return value >>> 0;
  }

  /** Zigzag signed varint (32 bits). */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zigzag signed varlong, returned as a number: record deltas fit well inside 2^53. */
  varlong(): number {
    const b = this.buf;
    let o = this.offset;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; ; i++) {
      if (i === 10) throw new DecodeError('varlong is longer than 10 bytes', this.offset);
      if (o >= this.end) throw new DecodeError('varlong runs past the end of the buffer', this.offset);
      const byte = b[o++]!;
      if (shift < 28) lo |= (byte & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (byte & 0x0f) << 28;
        hi = (byte & 0x7f) >> 4;
      } else hi |= (byte & 0x7f) << (shift - 32);
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    this.offset = o;
    const u = (hi >>> 0) * 4294967296 + (lo >>> 0);
    // zigzag decode: (u >>> 1) ^ -(u & 1) on 64 bits, done in doubles.
    return lo & 1 ? -(Math.floor(u / 2) + 1) : Math.floor(u / 2);
  }

  private utf8(len: number, what: string): string {
    if (len > MAX_STRING_LENGTH)
      throw new DecodeError(`${what} length ${len} exceeds ${MAX_STRING_LENGTH}`, this.offset);
    const o = this.need(len, what);
    const b = this.buf;
    if (len < 12) {
      // Short ASCII strings are cheaper to build in JS than through toString; past about a dozen
      // characters toString wins, and V8 would leave the concatenation as a rope to flatten later.
      let s = '';
      for (let i = o; i < o + len; i++) {
        const c = b[i]!;
        if (c > 0x7f) return b.toString('utf8', o, o + len);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString('utf8', o, o + len);
  }

  string(): string {
    const start = this.offset;
    const len = this.int16();
    if (len < 0) throw new DecodeError(`non-nullable string has length ${len}`, start);
    return this.utf8(len, 'string');
  }

  nullableString(): string | null {
    const start = this.offset;
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`string has negative length ${len}`, start);
    return this.utf8(len, 'string');
  }

  compactString(): string {
    const start = this.offset;
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError('non-nullable compact string is null', start);
    return this.utf8(len, 'compact string');
  }

  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    if (len < 0) return null;
    return this.utf8(len, 'compact string');
  }

  private slice(len: number, what: string): Buffer {
    if (len === 0) return EMPTY;
    const o = this.need(len, what);
    return this.buf.subarray(o, o + len);
  }

  bytes(): Buffer {
    const start = this.offset;
    const len = this.int32();
    if (len < 0) throw new DecodeError(`non-nullable bytes has length ${len}`, start);
    return this.slice(len, 'bytes');
  }

  nullableBytes(): Buffer | null {
    const start = this.offset;
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`bytes has negative length ${len}`, start);
    return this.slice(len, 'bytes');
  }

  compactBytes(): Buffer {
    const start = this.offset;
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError('non-nullable compact bytes is null', start);
    return this.slice(len, 'compact bytes');
  }

  compactNullableBytes(): Buffer | null {
    const len = this.uvarint() - 1;
    if (len < 0) return null;
    return this.slice(len, 'compact bytes');
  }

  /**
   * Classic array length; -1 is null. `minElementSize` bounds the count by the bytes left, so an
   * absurd count fails here instead of allocating.
   */
  arrayLength(minElementSize: number): number {
    const start = this.offset;
    const n = this.int32();
    if (n < -1) throw new DecodeError(`array has negative length ${n}`, start);
    if (n > 0 && n * minElementSize > this.end - this.offset)
      throw new DecodeError(`array length ${n} exceeds the ${this.end - this.offset} bytes left`, start);
    return n;
  }

  /** Compact array length (count + 1 as unsigned varint); -1 is null. */
  compactArrayLength(minElementSize: number): number {
    const start = this.offset;
    const n = this.uvarint() - 1;
    if (n > 0x7fffffff - 1) throw new DecodeError(`array length ${n} is out of range`, start);
    if (n > 0 && n * minElementSize > this.end - this.offset)
      throw new DecodeError(`array length ${n} exceeds the ${this.end - this.offset} bytes left`, start);
    return n;
  }

  skip(n: number): void {
    this.need(n, 'skip');
  }

  raw(n: number): Buffer {
    const o = this.need(n, 'raw bytes');
    return this.buf.subarray(o, o + n);
  }
}
