import { DecodeError } from '../protocol/errors.js';

/**
 * One compression algorithm, as a record batch (or legacy wrapper message) uses it: the whole
 * records section goes in, one buffer comes out.
 *
 * The interface is synchronous on purpose. A batch is bounded by the broker's `message.max.bytes`
 * (1 MiB by default), every backend here (node:zlib, the napi-rs addons, the JS fallbacks) has a
 * synchronous form, and for inputs of that size a thread-pool hop and a promise per batch cost more
 * than they save. It also keeps record iteration a plain synchronous loop. A server that expects
 * large compressed batches and wants the event loop free can run decoding in a worker thread.
 */
export interface CompressionCodec {
  /** Kafka's compression id (0-4 for the built-in codecs). */
  readonly type: number;
  /** Kafka's name for it (`gzip`, `snappy`, ...). */
  readonly name: string;
  /** Which implementation is in use, for startup logs: `node:zlib`, `snappy (native)`, `js`, ... */
  readonly implementation: string;
  compress(data: Uint8Array): Buffer;
  /**
   * Decompresses `data`. Output larger than `maxSize` bytes must fail with a DecodeError (before
   * allocating it where the format allows), and so must any malformed input.
   */
  decompress(data: Buffer, maxSize: number): Buffer;
}

/**
 * The default bound on one batch's decompressed size. A producer's batch is normally at most a few
 * MiB uncompressed; the bound exists so a small malicious batch cannot expand into gigabytes.
 */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 128 * 1024 * 1024;

/** Wraps whatever a backend threw (RangeError, a native Error, a zlib error) in a DecodeError. */
export function decompressionFailed(name: string, error: unknown): DecodeError {
  if (error instanceof DecodeError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DecodeError(`${name} decompression failed: ${detail}`, 0);
}

export function tooLarge(name: string, size: number, maxSize: number): DecodeError {
  return new DecodeError(`${name} data decompresses to ${size} bytes, more than the ${maxSize} allowed`, 0);
}
