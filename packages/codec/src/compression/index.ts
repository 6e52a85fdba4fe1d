export {
  type CompressionCodec,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
} from './codec.js';
export {
  type CompressionName,
  CompressionType,
  compressionName,
  compressionTypeOf,
  isCompressionType,
} from './compression-type.js';
export { gzipCodec } from './gzip.js';
export { lz4Codec, lz4JsCodec, lz4NativeCodec } from './lz4.js';
export { CompressionRegistry, defaultCompression } from './registry.js';
export { isXerialFramed, snappyCodec, snappyJsCodec, snappyNativeCodec } from './snappy.js';
export { zstdCodec, zstdJsCodec, zstdNativeCodec, zstdZlibCodec } from './zstd.js';
