import * as zlib from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import { DecodeError } from '../protocol/errors.js';
import { type CompressionCodec, decompressionFailed, tooLarge } from './codec.js';
import { CompressionType } from './compression-type.js';
import { loadOptionalNative } from './native-module.js';

/** Kafka's default zstd level (`compression.zstd.level`). */
const LEVEL = 3;

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/** node:zlib gained zstd in Node 22.15 / 23.8; the types for Node 20 do not declare it. */
interface ZlibZstd {
  zstdCompressSync?(data: Uint8Array, options?: object): Buffer;
  zstdDecompressSync?(data: Uint8Array, options?: { maxOutputLength?: number }): Buffer;
  constants: { ZSTD_c_compressionLevel?: number };
}

/** The subset of `@toondepauw/node-zstd` (napi-rs) used here. */
interface NativeZstd {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer };
  Decoder: new () => { decodeSync(data: Buffer): Buffer };
}

/**
 * Sums the content sizes the frames in `data` declare, or returns -1 when one does not declare
 * it. Lets every backend refuse a decompression bomb before allocating; frames without a size
 * (streamed by some clients) are checked after decompression instead.
 */
export function zstdDeclaredSize(data: Uint8Array): number {
  if (data.length === 0) throw new DecodeError('zstd data is empty', 0);
  if (data.length < 5) throw new DecodeError('zstd frame header is truncated', 0);
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const magic = view.readUInt32LE(0);
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) return -1;
  if (magic !== FRAME_MAGIC) throw new DecodeError(`not a zstd frame (magic 0x${magic.toString(16)})`, 0);
  const fhd = view[4]!;
  const sizeFlag = fhd >>> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const dictIdSize = [0, 1, 2, 4][fhd & 3]!;
  const sizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag;
  if (sizeBytes === 0) return -1;
  const at = 5 + (singleSegment ? 0 : 1) + dictIdSize;
  if (at + sizeBytes > view.length) throw new DecodeError('zstd frame header is truncated', 0);
  switch (sizeBytes) {
    case 1:
      return view[at]!;
    case 2:
      return view.readUInt16LE(at) + 256;
    case 4:
      return view.readUInt32LE(at);
    default:
      return view.readUInt32LE(at) + view.readUInt32LE(at + 4) * 2 ** 32;
  }
}

function checkedDecompress(name: string, decode: (data: Buffer, maxSize: number) => Buffer) {
  return (data: Buffer, maxSize: number): Buffer => {
    let out: Buffer;
    try {
      // Only the first frame's size is checked up front; Kafka clients write one frame per batch.
      const declared = zstdDeclaredSize(data);
      if (declared > maxSize) throw tooLarge(name, declared, maxSize);
      out = decode(data, maxSize);
    } catch (e) {
      throw decompressionFailed(name, e);
    }
    if (out.length > maxSize) throw tooLarge(name, out.length, maxSize);
    return out;
  };
}

/** zstd from node:zlib, or undefined on a Node without it. */
export function zstdZlibCodec(): CompressionCodec | undefined {
  const z = zlib as unknown as ZlibZstd;
  const compressSync = z.zstdCompressSync;
  const decompressSync = z.zstdDecompressSync;
  const levelParam = z.constants.ZSTD_c_compressionLevel;
  if (compressSync === undefined || decompressSync === undefined || levelParam === undefined)
    return undefined;
  const options = { params: { [levelParam]: LEVEL } };
  return {
    type: CompressionType.Zstd,
    name: 'zstd',
    implementation: 'node:zlib',
    compress: (data) => compressSync(data, options),
    decompress: checkedDecompress('zstd', (data, maxSize) =>
      decompressSync(data, { maxOutputLength: Math.max(1, maxSize) }),
    ),
  };
}

/** zstd through the optional `@toondepauw/node-zstd` addon, or undefined when it cannot load. */
export function zstdNativeCodec(): CompressionCodec | undefined {
  const native = loadOptionalNative<NativeZstd>('@toondepauw/node-zstd', (m) => {
    new m.Decoder().decodeSync(new m.Encoder(LEVEL).encodeSync(Buffer.from('tributary')));
  });
  if (native === undefined) return undefined;
  const encoder = new native.Encoder(LEVEL);
  const decoder = new native.Decoder();
  const asBuffer = (d: Uint8Array): Buffer =>
    Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length);
  return {
    type: CompressionType.Zstd,
    name: 'zstd',
    implementation: '@toondepauw/node-zstd (native)',
    compress: (data) => encoder.encodeSync(asBuffer(data)),
    decompress: checkedDecompress('zstd', (data) => decoder.decodeSync(data)),
  };
}

/** Largest zstd block (Block_Maximum_Size is 128 KiB). */
const MAX_BLOCK = 128 * 1024;

/**
 * Writes a valid zstd frame of stored (raw) blocks. Every zstd decoder reads it, but it is no
 * smaller than the input: it is what the pure-JS fallback can offer for compression, so a
 * process without node:zlib zstd or the native addon still produces batches consumers accept.
 */
export function zstdStoredFrame(src: Uint8Array): Buffer {
  const n = src.length;
  // Single-segment frame: no window descriptor, and the content size is always present.
  let sizeFlag: number;
  let sizeBytes: number;
  if (n < 256) [sizeFlag, sizeBytes] = [0, 1];
  else if (n < 65536 + 256) [sizeFlag, sizeBytes] = [1, 2];
  else if (n < 2 ** 32) [sizeFlag, sizeBytes] = [2, 4];
  else [sizeFlag, sizeBytes] = [3, 8];
  const blocks = Math.max(1, Math.ceil(n / MAX_BLOCK));
  const out = Buffer.allocUnsafe(5 + sizeBytes + 3 * blocks + n);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out[4] = (sizeFlag << 6) | 0x20;
  let o = 5;
  if (sizeBytes === 1) out[o] = n;
  else if (sizeBytes === 2) out.writeUInt16LE(n - 256, o);
  else if (sizeBytes === 4) out.writeUInt32LE(n, o);
  else {
    out.writeUInt32LE(n % 2 ** 32, o);
    out.writeUInt32LE(Math.floor(n / 2 ** 32), o + 4);
  }
  o += sizeBytes;
  for (let b = 0; b < blocks; b++) {
    const start = b * MAX_BLOCK;
    const size = Math.min(MAX_BLOCK, n - start);
    const last = b === blocks - 1 ? 1 : 0;
    // Block header, 3 bytes LE: bit 0 last block, bits 1-2 type (0 = raw), bits 3-23 size.
    const header = (size << 3) | last;
    out[o] = header;
    out[o + 1] = header >>> 8;
    out[o + 2] = header >>> 16;
    out.set(src.subarray(start, start + size), o + 3);
    o += 3 + size;
  }
  return out;
}

/** Pure-JS zstd: full decompression (fzstd), stored-block compression. */
export function zstdJsCodec(): CompressionCodec {
  return {
    type: CompressionType.Zstd,
    name: 'zstd',
    implementation: 'js (fzstd; compression writes stored blocks)',
    compress: zstdStoredFrame,
    decompress: checkedDecompress('zstd', (data) => {
      const out = fzstdDecompress(data);
      return Buffer.from(out.buffer, out.byteOffset, out.length);
    }),
  };
}

export function zstdCodec(): CompressionCodec {
  return zstdZlibCodec() ?? zstdNativeCodec() ?? zstdJsCodec();
}
