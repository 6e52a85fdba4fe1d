import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation, crc32cJs, crc32cNative, crc32cNativeAvailable } from './crc32c.js';

// RFC 3720 (iSCSI) appendix B.4 test vectors, and the usual check value.
const KNOWN: [string, Buffer, number][] = [
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['empty', Buffer.alloc(0), 0],
  ['32 zero bytes', Buffer.alloc(32, 0), 0x8a9136aa],
  ['32 0xff bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['0..31', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['31..0', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
];

const implementations = [
  ['js', crc32cJs],
  ['dispatch', crc32c],
  ...(crc32cNativeAvailable() ? [['native', crc32cNative] as const] : []),
] as const;

describe('crc32c', () => {
  it.each(implementations)('%s gives the known answers', (_name, f) => {
    for (const [label, data, crc] of KNOWN) expect(f(data), label).toBe(crc);
  });

  it('reports which implementation it uses', () => {
    expect(crc32cImplementation()).toBe(crc32cNativeAvailable() ? 'native' : 'js');
  });

  it('honours start and end', () => {
    const outer = Buffer.concat([Buffer.from('xx'), Buffer.from('123456789'), Buffer.from('yyy')]);
    for (const [, f] of implementations) expect(f(outer, 2, 11)).toBe(0xe3069283);
  });

  it('continues from a seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 600 }), (a, b) => {
        const whole = Buffer.concat([a, b]);
        for (const [, f] of implementations) expect(f(b, 0, b.length, f(a))).toBe(crc32cJs(whole));
      }),
    );
  });

  // On a machine without the addon the dispatch path is the JS one, which the known answers cover.
  it.skipIf(!crc32cNativeAvailable())('native and JS agree on random inputs at every alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), fc.nat(), (bytes, x, y) => {
        const buf = Buffer.from(bytes);
        const start = bytes.length === 0 ? 0 : x % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : y % (bytes.length - start + 1));
        expect(crc32cNative(buf, start, end)).toBe(crc32cJs(buf, start, end));
        expect(crc32c(buf, start, end)).toBe(crc32cJs(buf, start, end));
      }),
      { numRuns: 500 },
    );
  });
});
