import { describe, expect, it } from 'vitest';
import { type CpuProfile, summarizeProfile } from './profile-summary.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

// root -> idle (60) | dispatch -> append -> copy (30) | dispatch -> frame -> copy (10) | dispatch (5)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), hitCount: 0, children: [2, 3] },
    { id: 2, callFrame: frame('(idle)'), hitCount: 60 },
    {
      id: 3,
      callFrame: frame('dispatch', 'file:///w/packages/core/src/broker.ts'),
      hitCount: 5,
      children: [4, 6],
    },
    {
      id: 4,
      callFrame: frame('append', 'file:///w/packages/storage-memory/src/index.ts'),
      hitCount: 0,
      children: [5],
    },
    { id: 5, callFrame: frame('copy', 'node:buffer'), hitCount: 30 },
    {
      id: 6,
      callFrame: frame('frame', 'file:///w/packages/server/src/connection.ts'),
      hitCount: 0,
      children: [7],
    },
    { id: 7, callFrame: frame('copy', 'node:buffer'), hitCount: 10 },
  ],
  samples: [],
};

describe('summarizeProfile', () => {
  it('ranks self time against busy time and names the heaviest path', () => {
    const s = summarizeProfile(profile);
    expect(s.samples).toBe(105);
    expect(s.busyPct).toBeCloseTo((45 / 105) * 100);
    expect(s.top.map((h) => h.name)).toEqual(['copy (node:buffer)', 'dispatch (broker.ts)']);
    expect(s.top[0]!.busyPct).toBeCloseTo((40 / 45) * 100);
    expect(s.top[0]!.via).toEqual(['append (index.ts)', 'dispatch (broker.ts)']);
    expect(s.top[1]!.via).toEqual([]);
  });
});
