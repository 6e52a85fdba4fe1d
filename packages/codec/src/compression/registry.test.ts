import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../protocol/errors.js';
import type { CompressionCodec } from './codec.js';
import { CompressionType, compressionName, compressionTypeOf } from './compression-type.js';
import { CompressionRegistry, defaultCompression } from './registry.js';

describe('CompressionRegistry', () => {
  it('has every Kafka codec built in', () => {
    const data = Buffer.from('tributary '.repeat(100));
    for (const type of [0, 1, 2, 3, 4]) {
      const packed = defaultCompression.compress(type, data);
      expect(defaultCompression.decompress(type, packed).equals(data), compressionName(type)).toBe(true);
    }
    expect(defaultCompression.describe().map((c) => c.name)).toEqual([
      'none',
      'gzip',
      'snappy',
      'lz4',
      'zstd',
    ]);
  });

  it('uses a registered codec for its id, in that registry only', () => {
    const calls: string[] = [];
    const custom: CompressionCodec = {
      type: CompressionType.Zstd,
      name: 'zstd',
      implementation: 'test double',
      compress: (d) => {
        calls.push('compress');
        return Buffer.from(d).reverse();
      },
      decompress: (d) => {
        calls.push('decompress');
        return Buffer.from(d).reverse();
      },
    };
    const registry = new CompressionRegistry().register(custom);
    expect(registry.decompress(4, registry.compress(4, Buffer.from('abc'))).toString()).toBe('abc');
    expect(calls).toEqual(['compress', 'decompress']);
    expect(registry.find(4)?.implementation).toBe('test double');
    expect(defaultCompression.find(4)?.implementation).not.toBe('test double');
  });

  it('accepts codecs for ids Kafka has not assigned, within the three attribute bits', () => {
    const registry = new CompressionRegistry({
      codecs: [{ type: 5, name: 'x', implementation: 'x', compress: Buffer.from, decompress: (d) => d }],
    });
    expect(registry.find(5)?.name).toBe('x');
    expect(() =>
      registry.register({
        type: 8,
        name: 'y',
        implementation: 'y',
        compress: Buffer.from,
        decompress: (d) => d,
      }),
    ).toThrow();
  });

  it('does not let the shared default be changed', () => {
    expect(() => defaultCompression.register({ ...defaultCompression.forEncoding(1) })).toThrow(
      /cannot be changed/,
    );
  });

  it('reports unknown ids as DecodeError when decoding and EncodeError when encoding', () => {
    expect(() => defaultCompression.decompress(6, Buffer.alloc(1))).toThrow(DecodeError);
    expect(() => defaultCompression.compress(7, Buffer.alloc(1))).toThrow(EncodeError);
  });

  it('applies its maxDecompressedSize', () => {
    const small = new CompressionRegistry({ maxDecompressedSize: 1000 });
    const packed = small.compress(1, Buffer.alloc(5000));
    expect(() => small.decompress(1, packed)).toThrow(DecodeError);
    expect(small.decompress(1, packed, 5000).length).toBe(5000);
  });

  it('maps names and ids as Kafka spells them', () => {
    expect(compressionTypeOf('zstd')).toBe(4);
    expect(compressionTypeOf('brotli')).toBeUndefined();
    expect(compressionName(3)).toBe('lz4');
    expect(compressionName(6)).toBe('unknown(6)');
  });
});
