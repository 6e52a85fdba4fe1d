import { DecodeError } from '../protocol/errors.js';
import { tooLarge } from './codec.js';

/*
 * Raw Snappy (the block format, no framing) in plain JS: the fallback when the native addon is
 * missing, and the reference the native path is tested against.
 *
 * A block is a varint of the uncompressed length, then elements. The low two bits of an element's
 * tag say what it is: 0 literal, 1 copy with an 11-bit offset, 2 copy with a 16-bit offset, 3 copy
 * with a 32-bit offset.
 */

/** Reads the uncompressed length a raw Snappy block declares, and where its elements start. */
export function snappyUncompressedLength(
  src: Uint8Array,
  start: number,
  end: number,
): [length: number, next: number] {
  let value = 0;
  let shift = 0;
  let i = start;
  for (;;) {
    if (i >= end) throw new DecodeError('snappy length runs past the end of the block', i);
    const b = src[i++]!;
    if (shift === 28 && b > 0x0f) throw new DecodeError('snappy length exceeds 32 bits', i - 1);
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
  }
}

/**
 * Decompresses the raw Snappy block in `src[start, end)` into `out` at `outStart`, which must have
 * room for exactly the declared length. Returns the declared length.
 */
export function snappyDecompressInto(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outStart: number,
): number {
  const [length, first] = snappyUncompressedLength(src, start, end);
  const outEnd = outStart + length;
  if (outEnd > out.length) throw new DecodeError('snappy block is larger than its output', start);
  let i = first;
  let o = outStart;
  while (i < end) {
    const tag = src[i++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (i + extra > end) throw new DecodeError('snappy literal length runs past the end', i);
        len = 0;
        for (let k = 0; k < extra; k++) len += src[i + k]! * 2 ** (8 * k);
        i += extra;
      }
      len += 1;
      if (i + len > end) throw new DecodeError('snappy literal runs past the end of the block', i);
      if (o + len > outEnd) throw new DecodeError('snappy literal overruns the declared length', i);
      // Short runs are cheaper as a loop than as a subarray plus a native copy.
      if (len < 32) for (let k = 0; k < len; k++) out[o + k] = src[i + k]!;
      else out.set(src.subarray(i, i + len), o);
      i += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (i >= end) throw new DecodeError('snappy copy runs past the end of the block', i);
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[i++]!;
    } else if (kind === 2) {
      if (i + 2 > end) throw new DecodeError('snappy copy runs past the end of the block', i);
      len = (tag >>> 2) + 1;
      offset = src[i]! | (src[i + 1]! << 8);
      i += 2;
    } else {
      if (i + 4 > end) throw new DecodeError('snappy copy runs past the end of the block', i);
      len = (tag >>> 2) + 1;
      offset = (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0;
      i += 4;
    }
    if (offset === 0 || offset > o - outStart)
      throw new DecodeError(`snappy copy offset ${offset} is out of range`, i);
    if (o + len > outEnd) throw new DecodeError('snappy copy overruns the declared length', i);
    let from = o - offset;
    if (offset >= len && len >= 32) {
      out.copyWithin(o, from, from + len);
      o += len;
    } else {
      // Short, or overlapping (the run repeats the last `offset` bytes): byte by byte, forwards.
      for (let k = 0; k < len; k++) out[o++] = out[from++]!;
    }
  }
  if (o !== outEnd)
    throw new DecodeError(`snappy block holds ${o - outStart} bytes, declared ${length}`, end);
  return length;
}

export function snappyDecompressRaw(src: Buffer, maxSize: number): Buffer {
  const [length] = snappyUncompressedLength(src, 0, src.length);
  if (length > maxSize) throw tooLarge('snappy', length, maxSize);
  const out = Buffer.allocUnsafe(length);
  snappyDecompressInto(src, 0, src.length, out, 0);
  return out;
}

/** Snappy compresses in independent 64 KiB fragments, so offsets always fit in 16 bits. */
const FRAGMENT = 1 << 16;
const HASH_BITS = 14;
const MIN_MATCH = 4;

/** The most bytes raw Snappy can take for `n` input bytes (Snappy's own bound). */
export function snappyMaxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

function load32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function hash32(v: number): number {
  return Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

function emitLiteral(out: Uint8Array, o: number, src: Uint8Array, from: number, len: number): number {
  const n = len - 1;
  if (n < 60) out[o++] = n << 2;
  else if (n < 0x100) {
    out[o++] = 60 << 2;
    out[o++] = n;
  } else if (n < 0x10000) {
    out[o++] = 61 << 2;
    out[o++] = n;
    out[o++] = n >>> 8;
  } else if (n < 0x1000000) {
    out[o++] = 62 << 2;
    out[o++] = n;
    out[o++] = n >>> 8;
    out[o++] = n >>> 16;
  } else {
    out[o++] = 63 << 2;
    out[o++] = n;
    out[o++] = n >>> 8;
    out[o++] = n >>> 16;
    out[o++] = n >>> 24;
  }
  out.set(src.subarray(from, from + len), o);
  return o + len;
}

function emitCopy(out: Uint8Array, o: number, offset: number, len: number): number {
  // Copies of 4-11 bytes within 2 KiB take two bytes; anything else takes three per 64 bytes.
  while (len >= 68) {
    out[o++] = (63 << 2) | 2;
    out[o++] = offset;
    out[o++] = offset >>> 8;
    len -= 64;
  }
  if (len > 64) {
    // Leave at least 4 for the last copy, which may need the short form.
    out[o++] = (59 << 2) | 2;
    out[o++] = offset;
    out[o++] = offset >>> 8;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    out[o++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    out[o++] = offset;
  } else {
    out[o++] = 2 | ((len - 1) << 2);
    out[o++] = offset;
    out[o++] = offset >>> 8;
  }
  return o;
}

/** Compresses `src` into one raw Snappy block. */
export function snappyCompressRaw(src: Uint8Array): Buffer {
  const n = src.length;
  const out = Buffer.allocUnsafe(snappyMaxCompressedLength(n));
  let o = 0;
  let v = n;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  const table = new Int32Array(1 << HASH_BITS);
  for (let base = 0; base < n; base += FRAGMENT) {
    const end = Math.min(base + FRAGMENT, n);
    o = compressFragment(src, base, end, out, o, table);
  }
  return out.subarray(0, o);
}

function compressFragment(
  src: Uint8Array,
  base: number,
  end: number,
  out: Uint8Array,
  o: number,
  table: Int32Array,
): number {
  let literalStart = base;
  if (end - base >= 15) {
    table.fill(-1);
    const limit = end - MIN_MATCH;
    let i = base;
    while (i <= limit) {
      const seq = load32(src, i);
      const h = hash32(seq);
      const candidate = table[h]!;
      table[h] = i;
      if (candidate < base || load32(src, candidate) !== seq) {
        i++;
        continue;
      }
      let len = MIN_MATCH;
      while (i + len < end && src[candidate + len] === src[i + len]) len++;
      if (i > literalStart) o = emitLiteral(out, o, src, literalStart, i - literalStart);
      o = emitCopy(out, o, i - candidate, len);
      i += len;
      literalStart = i;
      // Index the last position of the match so a repeat right after it is found.
      if (i - 1 <= limit) table[hash32(load32(src, i - 1))] = i - 1;
    }
  }
  if (literalStart < end) o = emitLiteral(out, o, src, literalStart, end - literalStart);
  return o;
}
