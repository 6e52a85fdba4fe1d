import { describe, expect, it } from 'vitest';
import {
  type Assignment,
  type AssignmentMember,
  type MutableAssignment,
  partitionCount,
} from './assignor.js';
import { RangeAssignor } from './range.js';
import { UniformAssignor } from './uniform.js';

const member = (
  memberId: string,
  topics: string[],
  current: Record<string, number[]> = {},
): AssignmentMember => ({
  memberId,
  subscribedTopicIds: new Set(topics),
  current: new Map(Object.entries(current).map(([t, ps]) => [t, new Set(ps)])),
});

const plain = (out: Map<string, MutableAssignment>) =>
  Object.fromEntries(
    [...out].map(([id, a]) => [
      id,
      Object.fromEntries([...a].map(([t, ps]) => [t, [...ps].sort((x, y) => x - y)])),
    ]),
  );

/** Every partition of every topic held exactly once. */
function expectComplete(out: Map<string, Assignment>, counts: Record<string, number>): void {
  const seen = new Set<string>();
  for (const a of out.values())
    for (const [t, ps] of a)
      for (const p of ps) {
        expect(seen.has(`${t}:${p}`)).toBe(false);
        seen.add(`${t}:${p}`);
      }
  expect(seen.size).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
}

describe('uniform assignor', () => {
  const uniform = new UniformAssignor();

  it('splits 6 partitions over 3 members two each, disjoint and complete', () => {
    const out = uniform.assign({
      members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
      partitionCounts: new Map([['t', 6]]),
    });
    expect(plain(out)).toEqual({ a: { t: [0, 3] }, b: { t: [1, 4] }, c: { t: [2, 5] } });
  });

  it('moves only what a new member needs and keeps the rest where it was', () => {
    const out = uniform.assign({
      members: [
        member('a', ['t'], { t: [0, 3] }),
        member('b', ['t'], { t: [1, 4] }),
        member('c', ['t'], { t: [2, 5] }),
        member('d', ['t']),
      ],
      partitionCounts: new Map([['t', 6]]),
    });
    expectComplete(out, { t: 6 });
    const loads = [...out.values()].map(partitionCount).sort();
    expect(loads).toEqual([1, 1, 2, 2]);
    // Only one partition moves, to the newcomer.
    let kept = 0;
    for (const [id, prev] of [
      ['a', [0, 3]],
      ['b', [1, 4]],
      ['c', [2, 5]],
    ] as const)
      for (const p of prev) if (out.get(id)!.get('t')?.has(p)) kept++;
    expect(kept).toBe(5);
  });

  it('spreads the partitions of a member that left over those that stay', () => {
    const out = uniform.assign({
      members: [member('a', ['t'], { t: [0, 3] }), member('c', ['t'], { t: [2, 5] })],
      partitionCounts: new Map([['t', 6]]),
    });
    expectComplete(out, { t: 6 });
    expect(plain(out)).toEqual({ a: { t: [0, 1, 3] }, c: { t: [2, 4, 5] } });
  });

  it('balances members with different subscriptions', () => {
    const out = uniform.assign({
      members: [member('a', ['x', 'y']), member('b', ['y']), member('c', ['x'])],
      partitionCounts: new Map([
        ['x', 3],
        ['y', 3],
      ]),
    });
    expectComplete(out, { x: 3, y: 3 });
    expect([...out.values()].map(partitionCount)).toEqual([2, 2, 2]);
    expect(out.get('b')!.has('x')).toBe(false);
    expect(out.get('c')!.has('y')).toBe(false);
  });

  it('drops partitions of topics a member no longer subscribes to or that shrank away', () => {
    const out = uniform.assign({
      members: [member('a', ['t'], { gone: [0], t: [0, 9] })],
      partitionCounts: new Map([['t', 2]]),
    });
    expect(plain(out)).toEqual({ a: { t: [0, 1] } });
  });
});

describe('uniform assignor over many shapes', () => {
  // A small deterministic generator, so that a failure reproduces.
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };

  it('stays complete, balanced within one, and sticky as members come and go', () => {
    const uniform = new UniformAssignor();
    for (let round = 0; round < 40; round++) {
      const topics = Array.from({ length: 1 + rand(3) }, (_, i) => `t${i}`);
      const counts = new Map(topics.map((t) => [t, 1 + rand(12)]));
      let previous = new Map<string, MutableAssignment>();
      for (let step = 0; step < 5; step++) {
        const ids = Array.from({ length: 1 + rand(6) }, (_, i) => `m${i + rand(3)}`);
        const members = [...new Set(ids)].sort().map((id) => ({
          memberId: id,
          subscribedTopicIds: new Set(topics),
          current: previous.get(id) ?? new Map(),
        }));
        const out = uniform.assign({ members, partitionCounts: counts });
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        expectComplete(out, Object.fromEntries(counts));
        const loads = [...out.values()].map(partitionCount);
        expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
        const quota = Math.floor(total / members.length);
        for (const m of members) {
          const kept = [...m.current].reduce(
            (n, [t, ps]) => n + [...ps].filter((p) => out.get(m.memberId)!.get(t)?.has(p)).length,
            0,
          );
          expect(kept).toBeGreaterThanOrEqual(Math.min(partitionCount(m.current), quota));
        }
        previous = out;
      }
    }
  });
});

describe('range assignor', () => {
  const range = new RangeAssignor();

  it('gives each member a contiguous range, the first ones one more', () => {
    const out = range.assign({
      members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
      partitionCounts: new Map([['t', 7]]),
    });
    expect(plain(out)).toEqual({ a: { t: [0, 1, 2] }, b: { t: [3, 4] }, c: { t: [5, 6] } });
  });

  it('splits co-partitioned topics identically', () => {
    const out = range.assign({
      members: [member('a', ['x', 'y']), member('b', ['x', 'y'])],
      partitionCounts: new Map([
        ['x', 4],
        ['y', 4],
      ]),
    });
    expect(plain(out)).toEqual({ a: { x: [0, 1], y: [0, 1] }, b: { x: [2, 3], y: [2, 3] } });
  });

  it('keeps owned partitions up to the quota', () => {
    const out = range.assign({
      members: [member('a', ['t'], { t: [4, 5] }), member('b', ['t'], { t: [0, 1, 2, 3] })],
      partitionCounts: new Map([['t', 6]]),
    });
    expectComplete(out, { t: 6 });
    expect(plain(out)).toEqual({ a: { t: [3, 4, 5] }, b: { t: [0, 1, 2] } });
  });
});
