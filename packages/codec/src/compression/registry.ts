import { DecodeError, EncodeError } from '../protocol/errors.js';
import { type CompressionCodec, DEFAULT_MAX_DECOMPRESSED_SIZE } from './codec.js';
import { CompressionType, compressionName } from './compression-type.js';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

const noneCodec: CompressionCodec = {
  type: CompressionType.None,
  name: 'none',
  implementation: 'identity',
  compress: (data) => Buffer.from(data),
  decompress: (data) => data,
};

const BUILTIN_FACTORIES: readonly (() => CompressionCodec)[] = [
  () => noneCodec,
  gzipCodec,
  snappyCodec,
  lz4Codec,
  zstdCodec,
];

/** Built-in codecs are created on first use, so an addon that is never needed is never loaded. */
const builtinCache: (CompressionCodec | undefined)[] = [];

function builtin(type: number): CompressionCodec | undefined {
  let codec = builtinCache[type];
  if (codec === undefined) {
    const factory = BUILTIN_FACTORIES[type];
    if (factory === undefined) return undefined;
    codec = factory();
    builtinCache[type] = codec;
  }
  return codec;
}

/**
 * Maps Kafka compression ids to codecs. Starts with the built-in codecs (native where an addon
 * loads, pure JS otherwise); `register` replaces one for this registry only, so an application
 * can bring its own zstd, say, without changing what other users of the package get.
 *
 * Pass a registry as the `compression` option of the record functions; without one they use
 * `defaultCompression`, which holds only the built-ins and cannot be changed.
 */
export class CompressionRegistry {
  private readonly overrides = new Map<number, CompressionCodec>();
  /** Decompressed bytes allowed per batch (see DEFAULT_MAX_DECOMPRESSED_SIZE). */
  readonly maxDecompressedSize: number;
  private readonly frozen: boolean;

  constructor(
    options: { maxDecompressedSize?: number; codecs?: Iterable<CompressionCodec> } = {},
    frozen = false,
  ) {
    this.maxDecompressedSize = options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE;
    for (const codec of options.codecs ?? []) this.overrides.set(codec.type, codec);
    this.frozen = frozen;
  }

  /** Uses `codec` for its `type` in this registry. Ids beyond Kafka's five are allowed. */
  register(codec: CompressionCodec): this {
    if (this.frozen)
      throw new Error(
        'defaultCompression cannot be changed: create a CompressionRegistry and register there',
      );
    if (!Number.isInteger(codec.type) || codec.type < 0 || codec.type > 7)
      throw new RangeError(`compression id ${codec.type} does not fit the 3 attribute bits`);
    this.overrides.set(codec.type, codec);
    return this;
  }

  /** The codec for an id, or undefined when there is none. */
  find(type: number): CompressionCodec | undefined {
    return this.overrides.get(type) ?? builtin(type);
  }

  /** The codec for an id read off the wire; an unknown id is a DecodeError. */
  forDecoding(type: number): CompressionCodec {
    const codec = this.find(type);
    if (codec === undefined) throw new DecodeError(`unknown compression type ${compressionName(type)}`, 0);
    return codec;
  }

  /** The codec for an id a caller asked for; an unknown id is an EncodeError. */
  forEncoding(type: number): CompressionCodec {
    const codec = this.find(type);
    if (codec === undefined) throw new EncodeError(`unknown compression type ${compressionName(type)}`);
    return codec;
  }

  compress(type: number, data: Uint8Array): Buffer {
    return this.forEncoding(type).compress(data);
  }

  decompress(type: number, data: Buffer, maxSize = this.maxDecompressedSize): Buffer {
    return this.forDecoding(type).decompress(data, maxSize);
  }

  /** What each id resolves to here, for a startup log line. */
  describe(): { type: number; name: string; implementation: string }[] {
    const out = [];
    for (let type = 0; type < 8; type++) {
      const codec = this.find(type);
      if (codec !== undefined) out.push({ type, name: codec.name, implementation: codec.implementation });
    }
    return out;
  }
}

/** The built-in codecs, shared and read-only. */
export const defaultCompression: CompressionRegistry = new CompressionRegistry({}, true);
