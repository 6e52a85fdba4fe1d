import { DecodeError } from '../protocol/errors.js';
import { type CompressionCodec, decompressionFailed, tooLarge } from './codec.js';
import { CompressionType } from './compression-type.js';
import { loadOptionalNative } from './native-module.js';
import { snappyCompressRaw, snappyDecompressRaw, snappyUncompressedLength } from './snappy-raw.js';

/** The subset of the `snappy` package (napi-rs) used here. */
interface NativeSnappy {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer | string;
}

/**
 * The Java client wraps Snappy in snappy-java's stream framing: an 8-byte magic, two int32s
 * (version, compatible version), then blocks each prefixed by an int32 compressed length. Other
 * clients send one raw block. Decompression accepts both; compression writes raw Snappy, which
 * every Kafka consumer reads.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;

export function isXerialFramed(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

type BlockDecoder = (block: Buffer, maxSize: number) => Buffer;

function decompressXerial(data: Buffer, maxSize: number, decodeBlock: BlockDecoder): Buffer {
  // First pass: check every block's bounds and sum the declared sizes, so the output is allocated once.
  let total = 0;
  let p = XERIAL_HEADER_SIZE;
  while (p < data.length) {
    if (p + 4 > data.length) throw new DecodeError('xerial snappy block length is truncated', p);
    const len = data.readInt32BE(p);
    if (len < 0 || p + 4 + len > data.length)
      throw new DecodeError(`xerial snappy block of ${len} bytes runs past the end`, p);
    const [size] = snappyUncompressedLength(data, p + 4, p + 4 + len);
    total += size;
    if (total > maxSize) throw tooLarge('snappy', total, maxSize);
    p += 4 + len;
  }
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (p = XERIAL_HEADER_SIZE; p < data.length; ) {
    const len = data.readInt32BE(p);
    const part = decodeBlock(data.subarray(p + 4, p + 4 + len), maxSize);
    if (o + part.length > total)
      throw new DecodeError('xerial snappy block decodes past its declared size', p);
    out.set(part, o);
    o += part.length;
    p += 4 + len;
  }
  return out;
}

function codec(
  implementation: string,
  compress: (data: Uint8Array) => Buffer,
  decodeBlock: BlockDecoder,
): CompressionCodec {
  return {
    type: CompressionType.Snappy,
    name: 'snappy',
    implementation,
    compress,
    decompress(data, maxSize) {
      try {
        return isXerialFramed(data)
          ? decompressXerial(data, maxSize, decodeBlock)
          : decodeBlock(data, maxSize);
      } catch (e) {
        throw decompressionFailed('snappy', e);
      }
    },
  };
}

/** Pure-JS Snappy: always available. */
export function snappyJsCodec(): CompressionCodec {
  return codec('js', snappyCompressRaw, snappyDecompressRaw);
}

/** Native Snappy through the optional `snappy` package, or undefined when it cannot load here. */
export function snappyNativeCodec(): CompressionCodec | undefined {
  const native = loadOptionalNative<NativeSnappy>('snappy', (m) => {
    m.uncompressSync(m.compressSync(Buffer.from('tributary')), { asBuffer: true });
  });
  if (native === undefined) return undefined;
  const decodeBlock = (block: Buffer, maxSize: number): Buffer => {
    // The block declares its length up front: refuse a bomb before the addon allocates it.
    const [length] = snappyUncompressedLength(block, 0, block.length);
    if (length > maxSize) throw tooLarge('snappy', length, maxSize);
    const out = native.uncompressSync(block, { asBuffer: true });
    if (typeof out === 'string') return Buffer.from(out);
    return out;
  };
  return codec('snappy (native)', (data) => native.compressSync(data), decodeBlock);
}

export function snappyCodec(): CompressionCodec {
  return snappyNativeCodec() ?? snappyJsCodec();
}
