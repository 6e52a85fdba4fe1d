import { describe, expect, it } from 'vitest';
import { xxhash32 } from './xxhash32.js';

// Known answers from the reference xxHash implementation (python3-xxhash).
describe('xxhash32', () => {
  const cases: [Uint8Array, number, number][] = [
    [Buffer.alloc(0), 0x02cc5d05, 0x8d3b42d8],
    [Buffer.from('a'), 0x550d7456, 0x12b7e114],
    [Buffer.from('abc'), 0x32d153ff, 0x4d4cb222],
    [Buffer.from('Nobody inspects the spammish repetition'), 0xe2293b2f, 0x70b91719],
    [
      Buffer.concat([0, 1, 2].map(() => Buffer.from(Array.from({ length: 256 }, (_, i) => i)))),
      0xcdb946b1,
      0xeaa85739,
    ],
  ];

  it.each(cases)('hashes %# with seed 0 and a seed', (data, seed0, seeded) => {
    expect(xxhash32(data)).toBe(seed0);
    expect(xxhash32(data, 0, data.length, 0x9747b28c)).toBe(seeded);
  });

  it('hashes a range of a larger buffer', () => {
    const inner = Buffer.from('Nobody inspects the spammish repetition');
    const outer = Buffer.concat([Buffer.from('xyz'), inner, Buffer.from('!')]);
    expect(xxhash32(outer, 3, 3 + inner.length)).toBe(0xe2293b2f);
  });
});
