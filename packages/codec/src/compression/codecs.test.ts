import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocol/errors.js';
import type { CompressionCodec } from './codec.js';
import { gzipCodec } from './gzip.js';
import { lz4JsCodec, lz4NativeCodec } from './lz4.js';
import { lz4FrameCompress, lz4FrameDecompress, lz4HeaderChecksum } from './lz4-frame.js';
import { isXerialFramed, snappyJsCodec, snappyNativeCodec } from './snappy.js';
import { snappyCompressRaw, snappyDecompressRaw } from './snappy-raw.js';
import { xxhash32 } from './xxhash32.js';
import { zstdDeclaredSize, zstdJsCodec, zstdNativeCodec, zstdStoredFrame, zstdZlibCodec } from './zstd.js';

const LIMIT = 64 * 1024 * 1024;

/** Deterministic inputs, several crossing the 64 KiB (Snappy, LZ4) and 128 KiB (zstd) block sizes. */
function sampleInputs(): [string, Buffer][] {
  let seed = 1;
  const noise = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      b[i] = seed >>> 24;
    }
    return b;
  };
  const text = Buffer.from(
    '{"topic":"orders","partition":3,"key":"customer-1234","value":"tributary"}\n'.repeat(4000),
  );
  return [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([42])],
    ['short text', Buffer.from('hello')],
    ['zeros 200 KiB', Buffer.alloc(200 * 1024)],
    ['json lines', text],
    ['noise 70 KiB', noise(70 * 1024)],
    ['noise then text', Buffer.concat([noise(65535), text.subarray(0, 70000)])],
    ['exactly 64 KiB', text.subarray(0, 65536)],
    ['64 KiB + 1', text.subarray(0, 65537)],
  ];
}

/** Runs, repeats at many distances, text and noise: what makes compressors take every branch. */
const compressible = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 2000 }))
        .map(([v, n]) => Buffer.alloc(n, v)),
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(s.repeat(3))),
      fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 400 }))
        .map(([b, n]) => Buffer.concat(Array.from({ length: n }, () => Buffer.from(b)))),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Buffer.concat(parts));

/** Implementations of one codec that can be built here; the native ones may be missing. */
function implementations(...make: (() => CompressionCodec | undefined)[]): CompressionCodec[] {
  return make.map((f) => f()).filter((c): c is CompressionCodec => c !== undefined);
}

const families: [string, CompressionCodec[]][] = [
  ['gzip', [gzipCodec()]],
  ['snappy', implementations(snappyJsCodec, snappyNativeCodec)],
  ['lz4', implementations(lz4JsCodec, lz4NativeCodec)],
  ['zstd', implementations(zstdJsCodec, zstdNativeCodec, zstdZlibCodec)],
];

describe.each(families)('%s', (_name, codecs) => {
  it('round-trips sample inputs through every pair of implementations', () => {
    for (const [label, input] of sampleInputs())
      for (const a of codecs)
        for (const b of codecs) {
          const out = b.decompress(a.compress(input), LIMIT);
          expect(out.equals(input), `${label}: ${a.implementation} -> ${b.implementation}`).toBe(true);
        }
  });

  it('round-trips generated inputs', () => {
    fc.assert(
      fc.property(compressible, (input) => {
        for (const a of codecs)
          for (const b of codecs) expect(b.decompress(a.compress(input), LIMIT).equals(input)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('compresses repetitive data', () => {
    const input = Buffer.from('tributary '.repeat(10000));
    for (const c of codecs) {
      if (c.implementation.includes('stored blocks')) continue;
      expect(c.compress(input).length, c.implementation).toBeLessThan(input.length / 10);
    }
  });

  it('refuses output past maxSize with a DecodeError', () => {
    const input = Buffer.alloc(100000, 7);
    for (const a of codecs)
      for (const b of codecs)
        expect(() => b.decompress(a.compress(input), 50000), b.implementation).toThrow(DecodeError);
  });

  it('turns truncation and garbage into DecodeError, never another error', () => {
    const input = Buffer.from('tributary tributary tributary 0123456789 '.repeat(50));
    for (const a of codecs) {
      const compressed = a.compress(input);
      for (const b of codecs) {
        for (let cut = 0; cut < compressed.length; cut++) {
          const part = compressed.subarray(0, cut);
          try {
            const out = b.decompress(part, LIMIT);
            // A prefix may legitimately decode only if it decodes to a prefix (never seen, but allowed).
            expect(input.subarray(0, out.length).equals(out)).toBe(true);
            expect(out.length).toBeLessThan(input.length);
          } catch (e) {
            expect(e, `${a.implementation} -> ${b.implementation} cut at ${cut}`).toBeInstanceOf(DecodeError);
          }
        }
      }
    }
  });

  it('turns random bytes into a DecodeError or some output, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const c of codecs) {
          try {
            c.decompress(Buffer.from(bytes), 1 << 20);
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('snappy', () => {
  const codecs = implementations(snappyJsCodec, snappyNativeCodec);

  it('decodes hand-made raw blocks: literal, 1-byte and 2-byte offset copies, overlapping copy', () => {
    // length 12 | literal "abcd" | copy len 4 off 4 (kind 1) | copy len 4 off 1 (kind 2, overlapping)
    const block = Buffer.from([12, 3 << 2, 0x61, 0x62, 0x63, 0x64, 1 | (0 << 2), 4, 2 | (3 << 2), 1, 0]);
    for (const c of codecs) expect(c.decompress(block, LIMIT).toString('latin1')).toBe('abcdabcddddd');
  });

  it('refuses a copy that reaches before the start', () => {
    const block = Buffer.from([8, 0, 0x61, 1 | (0 << 2), 9]);
    expect(() => snappyDecompressRaw(block, LIMIT)).toThrow(DecodeError);
  });

  it('reads the xerial framing Java clients send, in several blocks', () => {
    const a = Buffer.from('first block '.repeat(100));
    const b = Buffer.from('second block '.repeat(100));
    const framed = Buffer.concat([
      Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]),
      ...[a, b].flatMap((part) => {
        const block = snappyCompressRaw(part);
        const len = Buffer.alloc(4);
        len.writeInt32BE(block.length);
        return [len, block];
      }),
    ]);
    expect(isXerialFramed(framed)).toBe(true);
    for (const c of codecs) {
      expect(c.decompress(framed, LIMIT).equals(Buffer.concat([a, b]))).toBe(true);
      expect(() => c.decompress(framed.subarray(0, framed.length - 3), LIMIT)).toThrow(DecodeError);
      expect(() => c.decompress(framed, a.length + 10)).toThrow(DecodeError);
    }
  });

  it('writes raw Snappy, never the xerial framing', () => {
    for (const c of codecs) expect(isXerialFramed(c.compress(Buffer.alloc(1000)))).toBe(false);
  });
});

describe('lz4', () => {
  it('writes the frame layout Kafka clients use: independent 64 KiB blocks', () => {
    const frame = lz4FrameCompress(Buffer.from('x'.repeat(1000)));
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    expect(frame[4]).toBe(0x60);
    expect(frame[5]).toBe(0x40);
    expect(frame[6]).toBe(lz4HeaderChecksum(frame, 4, 6));
    expect(frame.readUInt32LE(frame.length - 4)).toBe(0);
  });

  it('stores incompressible blocks uncompressed', () => {
    const noise = sampleInputs()
      .find(([label]) => label === 'noise 70 KiB')![1]
      .subarray(0, 5000);
    const frame = lz4FrameCompress(noise);
    expect(frame.readUInt32LE(7) >>> 31).toBe(1);
    expect(lz4FrameDecompress(frame, LIMIT).equals(noise)).toBe(true);
  });

  it('checks the header checksum, and block and content checksums when present', () => {
    const frame = Buffer.from(lz4FrameCompress(Buffer.from('abc'.repeat(100))));
    frame[6] = (frame[6]! + 1) & 0xff;
    expect(() => lz4FrameDecompress(frame, LIMIT)).toThrow(/header checksum/);
    for (const c of implementations(lz4JsCodec, lz4NativeCodec))
      expect(() => c.decompress(frame, LIMIT)).toThrow(DecodeError);
  });

  it('reads frames with block checksums, content size, content checksum and linked blocks', () => {
    // Hand-assembled: FLG = version 1 | block checksum | content size | content checksum (linked blocks),
    // BD = 64 KiB; two blocks, the second a match reaching into the first.
    const content = Buffer.from('abcdefgh'.repeat(4));
    const block1 = Buffer.from([0x80, ...Buffer.from('abcdefgh')]); // 8 literals, the block's last sequence
    // No literals, a match of 4 + 15 + 5 = 24 bytes at offset 8 (inside block 1), then an empty last sequence.
    const block2 = Buffer.from([0x0f, 8, 0, 5, 0x00]);
    const header = Buffer.alloc(15);
    header.writeUInt32LE(0x184d2204, 0);
    header[4] = 0x40 | 0x10 | 0x08 | 0x04;
    header[5] = 0x40;
    header.writeUInt32LE(content.length, 6);
    header.writeUInt32LE(0, 10);
    header[14] = lz4HeaderChecksum(header, 4, 14);
    const sized = (b: Buffer): Buffer => {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(b.length);
      const sum = Buffer.alloc(4);
      sum.writeUInt32LE(xxhash32(b));
      return Buffer.concat([h, b, sum]);
    };
    const contentSum = Buffer.alloc(4);
    contentSum.writeUInt32LE(xxhash32(content));
    const frame = Buffer.concat([header, sized(block1), sized(block2), Buffer.alloc(4), contentSum]);
    expect(lz4FrameDecompress(frame, LIMIT).equals(content)).toBe(true);
    const badBlock = Buffer.from(frame);
    badBlock[20] = badBlock[20]! ^ 1;
    expect(() => lz4FrameDecompress(badBlock, LIMIT)).toThrow(DecodeError);
    const badContent = Buffer.from(frame);
    badContent[badContent.length - 1] = badContent[badContent.length - 1]! ^ 1;
    expect(() => lz4FrameDecompress(badContent, LIMIT)).toThrow(/content checksum/);
    expect(() => lz4FrameDecompress(frame, content.length - 1)).toThrow(DecodeError);
  });
});

describe('zstd', () => {
  it('writes stored-block frames that every decoder reads, across the 128 KiB block size', () => {
    const inputs = [
      Buffer.alloc(0),
      Buffer.alloc(255, 1),
      Buffer.alloc(256, 2),
      Buffer.alloc(65791, 3),
      Buffer.alloc(300000, 4),
    ];
    for (const input of inputs) {
      const frame = zstdStoredFrame(input);
      expect(zstdDeclaredSize(frame)).toBe(input.length);
      for (const c of implementations(zstdJsCodec, zstdNativeCodec, zstdZlibCodec))
        expect(c.decompress(frame, LIMIT).equals(input), `${c.implementation} ${input.length}`).toBe(true);
    }
  });

  it('refuses a frame that declares more than maxSize before decompressing it', () => {
    const frame = zstdStoredFrame(Buffer.alloc(1000));
    frame.writeUInt16LE(60000 - 256, 5); // claim 60000 bytes
    expect(() => zstdJsCodec().decompress(frame, 10000)).toThrow(/60000/);
  });

  it('refuses empty input and wrong magic', () => {
    for (const c of implementations(zstdJsCodec, zstdNativeCodec, zstdZlibCodec)) {
      expect(() => c.decompress(Buffer.alloc(0), LIMIT)).toThrow(DecodeError);
      expect(() => c.decompress(Buffer.from('not zstd at all'), LIMIT)).toThrow(DecodeError);
    }
  });
});

describe('data from independent implementations', () => {
  // Batches captured from kafka-python (python-snappy, python-lz4, python-zstandard, zlib) and
  // librdkafka; the records section starts at byte 61. See ../records/fixtures/capture.py.
  const fixture = (name: string): Buffer =>
    readFileSync(new URL(`../records/fixtures/${name}.bin`, import.meta.url)).subarray(61);
  const cases: [string, CompressionCodec[]][] = [
    ['kafka-python-v2-gzip', [gzipCodec()]],
    ['librdkafka-v2-gzip', [gzipCodec()]],
    ['kafka-python-v2-snappy', implementations(snappyJsCodec, snappyNativeCodec)],
    ['librdkafka-v2-snappy', implementations(snappyJsCodec, snappyNativeCodec)],
    ['kafka-python-v2-lz4', implementations(lz4JsCodec, lz4NativeCodec)],
    ['librdkafka-v2-lz4', implementations(lz4JsCodec, lz4NativeCodec)],
    ['kafka-python-v2-zstd', implementations(zstdJsCodec, zstdNativeCodec, zstdZlibCodec)],
    ['librdkafka-v2-zstd', implementations(zstdJsCodec, zstdNativeCodec, zstdZlibCodec)],
  ];

  it.each(cases)('%s decompresses identically in every implementation', (name, codecs) => {
    const plain = readFileSync(
      new URL(`../records/fixtures/${name.replace(/gzip|snappy|lz4|zstd/, 'none')}.bin`, import.meta.url),
    ).subarray(61);
    for (const c of codecs)
      expect(c.decompress(fixture(name), LIMIT).equals(plain), c.implementation).toBe(true);
  });

  it('kafka-python snappy is xerial-framed and librdkafka snappy is raw', () => {
    expect(isXerialFramed(fixture('kafka-python-v2-snappy'))).toBe(true);
    expect(isXerialFramed(fixture('librdkafka-v2-snappy'))).toBe(false);
  });
});
