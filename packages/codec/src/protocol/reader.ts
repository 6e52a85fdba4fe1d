import { DecodeError } from './errors.js';

/** Kafka limits every string, classic or compact, to a signed 16-bit length. */
export const MAX_STRING_LENGTH = 0x7fff;

const EMPTY = Buffer.alloc(0);
const fromCharCode = String.fromCharCode;

// The throws live in functions of their own so the hot readers stay small enough to be inlined.
function shortRead(what: string, n: number, left: number, offset: number): never {
  throw new DecodeError(`${what} needs ${n} bytes, ${left} left`, offset);
}

function badArrayLength(n: number, left: number, offset: number): never {
  throw new DecodeError(
    n < 0 ? `array has negative length ${n}` : `array length ${n} exceeds the ${left} bytes left`,
    offset,
  );
}

/**
 * Node's own Buffer class (`Buffer[Symbol.species]`, which Node defines for typed-array methods):
 * constructing it over the frame's ArrayBuffer makes a slice in a third of `subarray`'s time, which
 * normalises its arguments and reads `buffer` and `byteOffset` again on every call. The instances are
 * ordinary Buffers (same prototype). Where a runtime lacks it, slices fall back to `subarray`.
 */
type BufferView = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
const species = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
const BufferView: BufferView | null =
  typeof species === 'function' && species.prototype === Buffer.prototype ? (species as BufferView) : null;

/** Node's Buffer#utf8Slice: toString('utf8') without its argument and encoding dispatch. */
interface SliceableBuffer {
  utf8Slice(start: number, end: number): string;
}

/**
 * Decodes `len` bytes at `o` as UTF-8. Names in Kafka (topics, groups, protocols, racks) are mostly
 * short ASCII: up to 12 bytes they become one flat string through a single fromCharCode call, far
 * cheaper than a call into C++; longer or non-ASCII strings go to Node's UTF-8 decoder.
 */
function decodeUtf8(b: Buffer, o: number, len: number): string {
  switch (len) {
    case 0:
      return '';
    case 1:
      if (b[o]! < 0x80) return fromCharCode(b[o]!);
      break;
    case 2:
      if ((b[o]! | b[o + 1]!) < 0x80) return fromCharCode(b[o]!, b[o + 1]!);
      break;
    case 3:
      if ((b[o]! | b[o + 1]! | b[o + 2]!) < 0x80) return fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!);
      break;
    case 4:
      if ((b[o]! | b[o + 1]! | b[o + 2]! | b[o + 3]!) < 0x80)
        return fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
      break;
    default:
      if (len <= 12) return decodeShortUtf8(b, o, len);
  }
  return (b as unknown as SliceableBuffer).utf8Slice(o, o + len);
}

/** 5 to 12 bytes: two reads of the bytes (the ASCII check, then the characters). */
function decodeShortUtf8(b: Buffer, o: number, len: number): string {
  const c0 = b[o]!;
  const c1 = b[o + 1]!;
  const c2 = b[o + 2]!;
  const c3 = b[o + 3]!;
  const c4 = b[o + 4]!;
  let high = c0 | c1 | c2 | c3 | c4;
  for (let i = o + 5; i < o + len; i++) high |= b[i]!;
  if (high >= 0x80) return (b as unknown as SliceableBuffer).utf8Slice(o, o + len);
  switch (len) {
    case 5:
      return fromCharCode(c0, c1, c2, c3, c4);
    case 6:
      return fromCharCode(c0, c1, c2, c3, c4, b[o + 5]!);
    case 7:
      return fromCharCode(c0, c1, c2, c3, c4, b[o + 5]!, b[o + 6]!);
    case 8:
      return fromCharCode(c0, c1, c2, c3, c4, b[o + 5]!, b[o + 6]!, b[o + 7]!);
    case 9:
      return fromCharCode(c0, c1, c2, c3, c4, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!);
    case 10:
      return fromCharCode(c0, c1, c2, c3, c4, b[o + 5]!, b[o + 6]!, b[o + 7]!, b[o + 8]!, b[o + 9]!);
    case 11:
      return fromCharCode(
        c0,
        c1,
        c2,
        c3,
        c4,
        b[o + 5]!,
        b[o + 6]!,
        b[o + 7]!,
        b[o + 8]!,
        b[o + 9]!,
        b[o + 10]!,
      );
    default:
      return fromCharCode(
        c0,
        c1,
        c2,
        c3,
        c4,
        b[o + 5]!,
        b[o + 6]!,
        b[o + 7]!,
        b[o + 8]!,
        b[o + 9]!,
        b[o + 10]!,
        b[o + 11]!,
      );
  }
}

/**
 * A bounds-checked cursor over a Buffer. Byte fields (`bytes`, `records`, `uuid`) come back as
 * slices of the underlying buffer, never copies: keep the frame alive as long as you use them.
 */
export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;
  /** `buf.buffer` and `buf.byteOffset`, read on the first slice: both are slow property reads. */
  private arrayBuffer: ArrayBufferLike | null = null;
  private base = 0;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  /** `len` bytes at `o` as a Buffer sharing the frame's memory. */
  private view(o: number, len: number): Buffer {
    if (BufferView === null) return this.buf.subarray(o, o + len);
    let ab = this.arrayBuffer;
    if (ab === null) {
      ab = this.buf.buffer;
      this.arrayBuffer = ab;
      this.base = this.buf.byteOffset;
    }
    return new BufferView(ab, this.base + o, len);
  }

  remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, what: string): number {
    const o = this.offset;
    if (o + n > this.end) shortRead(what, n, this.end - o, o);
    this.offset = o + n;
    return o;
  }

  int8(): number {
    const o = this.offset;
    if (o + 1 > this.end) shortRead('int8', 1, this.end - o, o);
    this.offset = o + 1;
    const v = this.buf[o]!;
    return (v << 24) >> 24;
  }

  bool(): boolean {
    const o = this.offset;
    if (o + 1 > this.end) shortRead('bool', 1, this.end - o, o);
    this.offset = o + 1;
    return this.buf[o] !== 0;
  }

  int16(): number {
    const o = this.offset;
    if (o + 2 > this.end) shortRead('int16', 2, this.end - o, o);
    this.offset = o + 2;
    const b = this.buf;
    return (((b[o]! << 8) | b[o + 1]!) << 16) >> 16;
  }

  uint16(): number {
    const o = this.offset;
    if (o + 2 > this.end) shortRead('uint16', 2, this.end - o, o);
    this.offset = o + 2;
    const b = this.buf;
    return (b[o]! << 8) | b[o + 1]!;
  }

  int32(): number {
    const o = this.offset;
    if (o + 4 > this.end) shortRead('int32', 4, this.end - o, o);
    this.offset = o + 4;
    const b = this.buf;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  int64(): bigint {
    const o = this.offset;
    if (o + 8 > this.end) shortRead('int64', 8, this.end - o, o);
    this.offset = o + 8;
    const b = this.buf;
    const hi = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    const lo = (b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
    // Offsets, producer ids and epochs mostly sit below 2^31, where BigInt of a small integer is
    // V8's cheapest conversion; 0 and -1 (Kafka's "none") are constants, allocating nothing; the
    // rest within 2^53 (timestamps) takes one conversion from a double, not readBigInt64BE's three
    // BigInt operations.
    if (hi === 0 && lo >= 0) return lo === 0 ? 0n : BigInt(lo);
    const ulo = lo >>> 0;
    if (hi === -1 && ulo === 0xffffffff) return -1n;
    if (hi >= -0x200000 && hi < 0x200000) return BigInt(hi * 4294967296 + ulo);
    return (BigInt(hi) << 32n) | BigInt(ulo);
  }

  float64(): number {
    const o = this.need(8, 'float64');
    return this.buf.readDoubleBE(o);
  }

  uuid(): Buffer {
    const o = this.need(16, 'uuid');
    return this.view(o, 16);
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
    return decodeUtf8(this.buf, this.need(len, what), len);
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
    return this.view(this.need(len, what), len);
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
    // The int32 read is spelled out: a nested call here would often miss the inlining budget of
    // the struct readers, where arrays sit.
    const o = this.offset;
    if (o + 4 > this.end) shortRead('array length', 4, this.end - o, o);
    const b = this.buf;
    const n = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    this.offset = o + 4;
    if (n < -1 || (n > 0 && n * minElementSize > this.end - o - 4)) badArrayLength(n, this.end - o - 4, o);
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

  /** `n` int32 values (an array's elements after its length), with one bounds check for all. */
  int32Array(n: number): number[] {
    const o = this.offset;
    if (o + 4 * n > this.end) shortRead('int32 array', 4 * n, this.end - o, o);
    this.offset = o + 4 * n;
    const b = this.buf;
    const a: number[] = new Array(n);
    for (let i = 0, p = o; i < n; i++, p += 4)
      a[i] = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    return a;
  }

  skip(n: number): void {
    this.need(n, 'skip');
  }

  raw(n: number): Buffer {
    return this.view(this.need(n, 'raw bytes'), n);
  }
}
