import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultCompression } from '../compression/registry.js';
import { DecodeError } from '../protocol/errors.js';
import { TimestampType } from './attributes.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import { crc32, crc32Js, decodeLegacyMessageSet } from './legacy-message-set.js';
import { buildRecordBatch } from './record-batch-builder.js';

const load = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}.bin`, import.meta.url));

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Offsets inside the first entry: offset 0, size 8, crc 12, magic 16, attributes 17, timestamp 18 (magic 1). */
function refreshCrc(buf: Buffer): Buffer {
  const end = 12 + buf.readInt32BE(8);
  buf.writeUInt32BE(crc32(buf, 16, end), 12);
  return buf;
}

describe('crc32', () => {
  it('gives the known answer and matches its JS fallback', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(crc32(b, 1, Math.max(1, b.length))).toBe(crc32Js(b, 1, Math.max(1, b.length)));
      }),
    );
  });
});

describe('decodeLegacyMessageSet', () => {
  it('reports a partial trailing message at every cut, never an untyped error', () => {
    for (const name of [
      'kafka-python-magic0-none',
      'kafka-python-magic1-none',
      'kafka-python-magic1-snappy',
    ]) {
      const buf = load(name);
      const total = decodeLegacyMessageSet(buf).messages.length;
      const boundaries = [0];
      for (let p = 0; p < buf.length; p += 12 + buf.readInt32BE(p + 8))
        boundaries.push(p + 12 + buf.readInt32BE(p + 8));
      for (let cut = 0; cut < buf.length; cut++) {
        const { messages, partialBytes } = decodeLegacyMessageSet(buf.subarray(0, cut));
        expect(messages.length, `${name} cut at ${cut}`).toBeLessThan(total);
        expect(boundaries).toContain(cut - partialBytes);
      }
    }
  });

  it('reports a changed byte as a CRC error', () => {
    const buf = Buffer.from(load('kafka-python-magic1-gzip'));
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0x10;
    expect((errorOf(() => decodeLegacyMessageSet(buf)) as InvalidRecordBatchError).problem).toBe('crc');
  });

  it('turns any damage into DecodeError once the CRC is made to match', () => {
    const base = load('kafka-python-magic1-lz4');
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: base.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          const bad = Buffer.from(base);
          bad[at] = bad[at]! ^ x;
          refreshCrc(bad);
          try {
            decodeLegacyMessageSet(bad);
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives inner messages the wrapper timestamp when the wrapper is LogAppendTime', () => {
    const buf = Buffer.from(load('kafka-python-magic1-gzip'));
    buf[17] = buf[17]! | 0x08;
    buf.writeBigInt64BE(1_800_000_000_000n, 18);
    refreshCrc(buf);
    const { messages } = decodeLegacyMessageSet(buf);
    expect(messages.every((m) => m.timestamp === 1_800_000_000_000)).toBe(true);
    expect(messages.every((m) => m.timestampType === TimestampType.LogAppendTime)).toBe(true);
  });

  it('reads magic 0 LZ4 wrappers despite the header checksum old Kafka computed wrongly', () => {
    const buf = load('kafka-python-magic0-lz4');
    // The wrapper's value: entry header 12, crc 4, magic 1, attributes 1, key length 4 (null), value length 4.
    const value = buf.subarray(12 + 14, 12 + 14 + buf.readInt32BE(12 + 10));
    expect(() => defaultCompression.decompress(3, value)).toThrow(/header checksum/);
    expect(decodeLegacyMessageSet(buf).messages.length).toBe(6);
  });

  it('refuses a v2 batch as a magic error', () => {
    const batch = buildRecordBatch({ records: [{ value: Buffer.from('x'), timestamp: 1 }] });
    expect((errorOf(() => decodeLegacyMessageSet(batch)) as InvalidRecordBatchError).problem).toBe('magic');
  });

  it('skips CRC checks when told to', () => {
    const buf = Buffer.from(load('kafka-python-magic0-none'));
    buf.writeUInt32BE(0, 12);
    expect(() => decodeLegacyMessageSet(buf)).toThrow(InvalidRecordBatchError);
    expect(decodeLegacyMessageSet(buf, { verifyCrc: false }).messages.length).toBe(6);
  });
});
