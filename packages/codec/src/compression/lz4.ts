import { type CompressionCodec, decompressionFailed, tooLarge } from './codec.js';
import { CompressionType } from './compression-type.js';
import { lz4FrameCheck, lz4FrameCompress, lz4FrameDecompress } from './lz4-frame.js';
import { loadOptionalNative } from './native-module.js';

/** The subset of `lz4-napi` used here. */
interface NativeLz4 {
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}

/** Pure-JS LZ4 frames: always available. */
export function lz4JsCodec(): CompressionCodec {
  return {
    type: CompressionType.Lz4,
    name: 'lz4',
    implementation: 'js',
    compress: lz4FrameCompress,
    decompress(data, maxSize) {
      try {
        return lz4FrameDecompress(data, maxSize);
      } catch (e) {
        throw decompressionFailed('lz4', e);
      }
    },
  };
}

/**
 * The content size an LZ4 frame declares, or -1. Kafka's clients rarely set it, so for the native
 * path the bound is mostly checked after decompression; the JS path checks as it goes.
 */
function declaredContentSize(data: Buffer): number {
  if (data.length < 15 || data.readUInt32LE(0) !== 0x184d2204 || (data[4]! & 0x08) === 0) return -1;
  return data.readUInt32LE(6) + data.readUInt32LE(10) * 2 ** 32;
}

/** Native LZ4 through the optional `lz4-napi` package, or undefined when it cannot load here. */
export function lz4NativeCodec(): CompressionCodec | undefined {
  const native = loadOptionalNative<NativeLz4>('lz4-napi', (m) => {
    m.decompressFrameSync(m.compressFrameSync(Buffer.from('tributary')));
  });
  if (native === undefined) return undefined;
  return {
    type: CompressionType.Lz4,
    name: 'lz4',
    implementation: 'lz4-napi (native)',
    compress: (data) =>
      native.compressFrameSync(
        Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length),
      ),
    decompress(data, maxSize) {
      const declared = declaredContentSize(data);
      if (declared > maxSize) throw tooLarge('lz4', declared, maxSize);
      let out: Buffer;
      try {
        lz4FrameCheck(data);
        out = native.decompressFrameSync(data);
      } catch (e) {
        throw decompressionFailed('lz4', e);
      }
      if (out.length > maxSize) throw tooLarge('lz4', out.length, maxSize);
      return out;
    },
  };
}

export function lz4Codec(): CompressionCodec {
  return lz4NativeCodec() ?? lz4JsCodec();
}
