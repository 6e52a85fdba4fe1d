import { gunzipSync, gzipSync } from 'node:zlib';
import { type CompressionCodec, decompressionFailed } from './codec.js';
import { CompressionType } from './compression-type.js';

export function gzipCodec(): CompressionCodec {
  return {
    type: CompressionType.Gzip,
    name: 'gzip',
    implementation: 'node:zlib',
    compress: (data) => gzipSync(data),
    decompress(data, maxSize) {
      try {
        // maxOutputLength makes zlib stop at the bound instead of inflating a bomb in full.
        return gunzipSync(data, { maxOutputLength: Math.max(1, maxSize) });
      } catch (e) {
        throw decompressionFailed('gzip', e);
      }
    },
  };
}
