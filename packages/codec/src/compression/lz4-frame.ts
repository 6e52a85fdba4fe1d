import { DecodeError } from '../protocol/errors.js';
import { tooLarge } from './codec.js';
import { xxhash32 } from './xxhash32.js';

/*
 * The LZ4 frame format in plain JS, as Kafka uses it for compression id 3: the fallback when the
 * native addon is missing, and the reference the native path is tested against.
 *
 * Frame: magic 0x184D2204 (LE), FLG, BD, [content size u64], [dict id u32], HC, then blocks each
 * prefixed by a u32 LE size whose high bit marks a stored block, ended by a zero size, then an
 * optional XXH32 of the content. HC is the second byte of the XXH32 of FLG..(before HC).
 */

const FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_1 = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const STORED_BLOCK = 0x80000000;

function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function blockMaxSize(bd: number): number {
  const code = (bd >>> 4) & 7;
  if (code < 4 || (bd & 0x8f) !== 0)
    throw new DecodeError(`LZ4 frame has an invalid BD byte 0x${bd.toString(16)}`, 5);
  return 1 << (8 + 2 * code);
}

/** The header checksum byte for the descriptor `b[start, end)` (FLG through the optional fields). */
export function lz4HeaderChecksum(b: Uint8Array, start: number, end: number): number {
  return (xxhash32(b, start, end) >>> 8) & 0xff;
}

/**
 * Decodes one LZ4 block from `src[i, end)` into `out` starting at `o`, writing no further than
 * `limit`. Matches may reach back to `windowStart` (the block start for independent blocks, the
 * frame start for linked ones). Returns the new output position.
 */
export function lz4DecodeBlock(
  src: Uint8Array,
  i: number,
  end: number,
  out: Uint8Array,
  o: number,
  limit: number,
  windowStart: number,
): number {
  for (;;) {
    if (i >= end) throw new DecodeError('LZ4 block ends inside a sequence', i);
    const token = src[i++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (i >= end) throw new DecodeError('LZ4 literal length runs past the block', i);
        b = src[i++]!;
        literals += b;
      } while (b === 255);
    }
    if (i + literals > end) throw new DecodeError('LZ4 literals run past the block', i);
    if (o + literals > limit) throw new DecodeError('LZ4 block decompresses past the allowed size', i);
    if (literals < 32) for (let k = 0; k < literals; k++) out[o + k] = src[i + k]!;
    else out.set(src.subarray(i, i + literals), o);
    i += literals;
    o += literals;
    if (i === end) return o;
    if (i + 2 > end) throw new DecodeError('LZ4 match offset runs past the block', i);
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o - windowStart)
      throw new DecodeError(`LZ4 match offset ${offset} is out of range`, i);
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (i >= end) throw new DecodeError('LZ4 match length runs past the block', i);
        b = src[i++]!;
        length += b;
      } while (b === 255);
    }
    if (o + length > limit) throw new DecodeError('LZ4 block decompresses past the allowed size', i);
    let from = o - offset;
    if (offset >= length && length >= 32) {
      out.copyWithin(o, from, from + length);
      o += length;
    } else {
      // Short, or overlapping (the match repeats the last `offset` bytes): byte by byte, forwards.
      for (let k = 0; k < length; k++) out[o++] = out[from++]!;
    }
  }
}

/**
 * Decompresses one or more concatenated LZ4 frames (skippable frames are skipped). Checks every
 * checksum the frame declares. Dictionaries are refused: no Kafka client uses them.
 */
export function lz4FrameDecompress(src: Buffer, maxSize: number): Buffer {
  const end = src.length;
  let out = Buffer.allocUnsafe(Math.min(maxSize, Math.max(1024, end * 4)));
  let o = 0;
  const ensure = (n: number): void => {
    if (o + n <= out.length) return;
    if (o + n > maxSize) throw tooLarge('LZ4', o + n, maxSize);
    const grown = Buffer.allocUnsafe(Math.min(maxSize, Math.max(out.length * 2, o + n)));
    out.copy(grown, 0, 0, o);
    out = grown;
  };
  let p = 0;
  if (end === 0) throw new DecodeError('LZ4 data is empty', 0);
  while (p < end) {
    if (p + 4 > end) throw new DecodeError('LZ4 frame magic is truncated', p);
    const magic = u32(src, p);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (p + 8 > end) throw new DecodeError('LZ4 skippable frame is truncated', p);
      const size = u32(src, p + 4);
      if (p + 8 + size > end) throw new DecodeError('LZ4 skippable frame runs past the end', p);
      p += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new DecodeError(`not an LZ4 frame (magic 0x${magic.toString(16)})`, p);
    if (p + 7 > end) throw new DecodeError('LZ4 frame header is truncated', p);
    const flg = src[p + 4]!;
    if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_1 || (flg & 0x02) !== 0)
      throw new DecodeError(`LZ4 frame has an unsupported FLG byte 0x${flg.toString(16)}`, p + 4);
    if (flg & FLG_DICT_ID) throw new DecodeError('LZ4 frames with a dictionary are not supported', p + 4);
    const blockMax = blockMaxSize(src[p + 5]!);
    const descriptorEnd = p + 6 + (flg & FLG_CONTENT_SIZE ? 8 : 0);
    if (descriptorEnd + 1 > end) throw new DecodeError('LZ4 frame header is truncated', p);
    if (src[descriptorEnd] !== lz4HeaderChecksum(src, p + 4, descriptorEnd))
      throw new DecodeError('LZ4 frame header checksum mismatch', descriptorEnd);
    let contentSize = -1;
    if (flg & FLG_CONTENT_SIZE) {
      contentSize = u32(src, p + 6) + u32(src, p + 10) * 2 ** 32;
      if (o + contentSize > maxSize) throw tooLarge('LZ4', o + contentSize, maxSize);
      ensure(contentSize);
    }
    const linked = (flg & FLG_BLOCK_INDEPENDENT) === 0;
    const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
    const frameStart = o;
    p = descriptorEnd + 1;
    for (;;) {
      if (p + 4 > end) throw new DecodeError('LZ4 block size is truncated', p);
      const word = u32(src, p);
      p += 4;
      if (word === 0) break;
      const stored = (word & STORED_BLOCK) !== 0;
      const size = (word & ~STORED_BLOCK) >>> 0;
      if (size > blockMax)
        throw new DecodeError(`LZ4 block of ${size} bytes exceeds the frame's ${blockMax}`, p - 4);
      if (p + size + (blockChecksum ? 4 : 0) > end)
        throw new DecodeError('LZ4 block runs past the end', p - 4);
      if (blockChecksum && u32(src, p + size) !== xxhash32(src, p, p + size))
        throw new DecodeError('LZ4 block checksum mismatch', p + size);
      if (stored) {
        ensure(size);
        src.copy(out, o, p, p + size);
        o += size;
      } else {
        ensure(Math.min(blockMax, maxSize - o));
        const limit = Math.min(out.length, o + blockMax);
        o = lz4DecodeBlock(src, p, p + size, out, o, limit, linked ? frameStart : o);
      }
      p += size + (blockChecksum ? 4 : 0);
    }
    if (flg & FLG_CONTENT_CHECKSUM) {
      if (p + 4 > end) throw new DecodeError('LZ4 content checksum is truncated', p);
      if (u32(src, p) !== xxhash32(out, frameStart, o))
        throw new DecodeError('LZ4 content checksum mismatch', p);
      p += 4;
    }
    if (contentSize >= 0 && o - frameStart !== contentSize)
      throw new DecodeError(`LZ4 frame holds ${o - frameStart} bytes, declared ${contentSize}`, p);
  }
  return out.subarray(0, o);
}

const BLOCK_SIZE = 64 * 1024;
const HASH_BITS = 16;
const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;

function load32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function hash(v: number): number {
  return Math.imul(v, 2654435761) >>> (32 - HASH_BITS);
}

function writeLength(out: Uint8Array, o: number, n: number): number {
  while (n >= 255) {
    out[o++] = 255;
    n -= 255;
  }
  out[o++] = n;
  return o;
}

/**
 * Compresses `src[start, end)` as one independent block into `out` at `o`, giving up (returning
 * -1) once the output would pass `budget`: the caller then stores the block uncompressed.
 */
function compressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  o: number,
  budget: number,
  table: Int32Array,
): number {
  let anchor = start;
  if (end - start > MF_LIMIT) {
    const matchLimit = end - LAST_LITERALS;
    const mfLimit = end - MF_LIMIT;
    let i = start;
    while (i <= mfLimit) {
      const seq = load32(src, i);
      const h = hash(seq);
      const candidate = table[h]!;
      table[h] = i;
      if (candidate < start || i - candidate > 0xffff || load32(src, candidate) !== seq) {
        i++;
        continue;
      }
      let length = MIN_MATCH;
      while (i + length < matchLimit && src[candidate + length] === src[i + length]) length++;
      const literals = i - anchor;
      // Worst case for this sequence: token, literal length bytes, literals, offset, match length bytes.
      if (o + 1 + Math.ceil(literals / 255) + literals + 2 + Math.ceil(length / 255) + 1 > budget) return -1;
      const tokenAt = o++;
      const ml = length - MIN_MATCH;
      let token = Math.min(literals, 15) << 4;
      if (literals >= 15) o = writeLength(out, o, literals - 15);
      for (let k = 0; k < literals; k++) out[o + k] = src[anchor + k]!;
      o += literals;
      const offset = i - candidate;
      out[o++] = offset;
      out[o++] = offset >>> 8;
      token |= Math.min(ml, 15);
      if (ml >= 15) o = writeLength(out, o, ml - 15);
      out[tokenAt] = token;
      i += length;
      anchor = i;
      if (i - 2 <= mfLimit) table[hash(load32(src, i - 2))] = i - 2;
    }
  }
  const literals = end - anchor;
  if (o + 1 + Math.ceil(literals / 255) + literals > budget) return -1;
  const tokenAt = o++;
  out[tokenAt] = Math.min(literals, 15) << 4;
  if (literals >= 15) o = writeLength(out, o, literals - 15);
  out.set(src.subarray(anchor, end), o);
  return o + literals;
}

/**
 * Compresses into one LZ4 frame with independent 64 KiB blocks and no checksums beyond the
 * header's, as Kafka's own clients write it (the batch CRC already covers these bytes).
 */
export function lz4FrameCompress(src: Uint8Array): Buffer {
  const n = src.length;
  const blocks = Math.ceil(n / BLOCK_SIZE);
  const out = Buffer.allocUnsafe(7 + n + 4 * blocks + 4);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out[4] = FLG_VERSION_1 | FLG_BLOCK_INDEPENDENT;
  out[5] = 0x40; // 64 KiB blocks
  out[6] = lz4HeaderChecksum(out, 4, 6);
  let o = 7;
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  for (let start = 0; start < n; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, n);
    const raw = end - start;
    const written = compressBlock(src, start, end, out, o + 4, o + 4 + raw - 1, table);
    if (written < 0) {
      out.writeUInt32LE((raw | STORED_BLOCK) >>> 0, o);
      out.set(src.subarray(start, end), o + 4);
      o += 4 + raw;
    } else {
      out.writeUInt32LE(written - o - 4, o);
      o = written;
    }
  }
  out.writeUInt32LE(0, o);
  return out.subarray(0, o + 4);
}

/**
 * Walks the frames and block headers of `src` without decompressing: checks the header checksum,
 * that every block lies inside the data and that every frame has its end mark. Native decoders
 * are lenient about truncation; this makes the native path refuse what the JS path refuses.
 */
export function lz4FrameCheck(src: Buffer): void {
  const end = src.length;
  if (end === 0) throw new DecodeError('LZ4 data is empty', 0);
  let p = 0;
  while (p < end) {
    if (p + 4 > end) throw new DecodeError('LZ4 frame magic is truncated', p);
    const magic = u32(src, p);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (p + 8 > end || p + 8 + u32(src, p + 4) > end)
        throw new DecodeError('LZ4 skippable frame is truncated', p);
      p += 8 + u32(src, p + 4);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new DecodeError(`not an LZ4 frame (magic 0x${magic.toString(16)})`, p);
    if (p + 7 > end) throw new DecodeError('LZ4 frame header is truncated', p);
    const flg = src[p + 4]!;
    if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_1 || (flg & 0x02) !== 0)
      throw new DecodeError(`LZ4 frame has an unsupported FLG byte 0x${flg.toString(16)}`, p + 4);
    if (flg & FLG_DICT_ID) throw new DecodeError('LZ4 frames with a dictionary are not supported', p + 4);
    const blockMax = blockMaxSize(src[p + 5]!);
    const descriptorEnd = p + 6 + (flg & FLG_CONTENT_SIZE ? 8 : 0);
    if (descriptorEnd + 1 > end) throw new DecodeError('LZ4 frame header is truncated', p);
    if (src[descriptorEnd] !== lz4HeaderChecksum(src, p + 4, descriptorEnd))
      throw new DecodeError('LZ4 frame header checksum mismatch', descriptorEnd);
    const blockChecksum = flg & FLG_BLOCK_CHECKSUM ? 4 : 0;
    p = descriptorEnd + 1;
    for (;;) {
      if (p + 4 > end) throw new DecodeError('LZ4 block size is truncated', p);
      const word = u32(src, p);
      p += 4;
      if (word === 0) break;
      const size = (word & ~STORED_BLOCK) >>> 0;
      if (size > blockMax)
        throw new DecodeError(`LZ4 block of ${size} bytes exceeds the frame's ${blockMax}`, p - 4);
      if (p + size + blockChecksum > end) throw new DecodeError('LZ4 block runs past the end', p - 4);
      p += size + blockChecksum;
    }
    if (flg & FLG_CONTENT_CHECKSUM) {
      if (p + 4 > end) throw new DecodeError('LZ4 content checksum is truncated', p);
      p += 4;
    }
  }
}
