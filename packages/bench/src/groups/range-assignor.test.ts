import { describe, expect, it } from 'vitest';
import {
  coversExactly,
  decodeAssignment,
  decodeSubscriptionTopics,
  encodeAssignment,
  encodeSubscriptionMetadata,
  rangeAssign,
} from './range-assignor.js';

const counts = new Map([
  ['a', 6],
  ['b', 2],
]);

describe('rangeAssign', () => {
  it('gives each subscribed member a contiguous range in member id order, the first ones one more', () => {
    const plan = rangeAssign(
      new Map([
        ['m3', ['a']],
        ['m1', ['a', 'b']],
        ['m2', ['a']],
        ['m4', ['a', 'b']],
      ]),
      counts,
    );
    expect(plan).toEqual(
      new Map([
        ['m3', new Map([['a', [4]]])],
        [
          'm1',
          new Map([
            ['a', [0, 1]],
            ['b', [0]],
          ]),
        ],
        ['m2', new Map([['a', [2, 3]]])],
        [
          'm4',
          new Map([
            ['a', [5]],
            ['b', [1]],
          ]),
        ],
      ]),
    );
  });

  it('leaves members beyond the partition count without any', () => {
    const plan = rangeAssign(
      new Map([
        ['x', ['b']],
        ['y', ['b']],
        ['z', ['b']],
      ]),
      counts,
    );
    expect([...plan.values()].map((a) => a.get('b') ?? [])).toEqual([[0], [1], []]);
  });
});

describe('coversExactly', () => {
  const only = new Map([['a', 6]]);
  it('holds when every partition is held once and every member holds one', () => {
    expect(coversExactly([new Map([['a', [0, 1, 2]]]), new Map([['a', [3, 4, 5]]])], only)).toBe(true);
  });
  it('fails on a gap, an overlap, an empty member or an unknown partition', () => {
    expect(coversExactly([new Map([['a', [0, 1, 2]]]), new Map([['a', [3, 4]]])], only)).toBe(false);
    expect(coversExactly([new Map([['a', [0, 1, 2, 3]]]), new Map([['a', [3, 4, 5]]])], only)).toBe(false);
    expect(coversExactly([new Map([['a', [0, 1, 2, 3, 4, 5]]]), new Map()], only)).toBe(false);
    expect(coversExactly([new Map([['a', [0, 1, 2, 3, 4, 5, 6]]])], only)).toBe(false);
  });
});

describe('consumer protocol framing', () => {
  it('round-trips a subscription and an assignment behind their int16 version', () => {
    const metadata = encodeSubscriptionMetadata(['a', 'b']);
    expect(metadata.readInt16BE(0)).toBe(0);
    expect(decodeSubscriptionTopics(metadata)).toEqual(['a', 'b']);
    const assignment = new Map([
      ['a', [0, 1]],
      ['b', [1]],
    ]);
    expect(decodeAssignment(encodeAssignment(assignment))).toEqual(assignment);
    expect(decodeAssignment(Buffer.alloc(0))).toEqual(new Map());
  });
});
