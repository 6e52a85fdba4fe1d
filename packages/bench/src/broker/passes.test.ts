import { describe, expect, it } from 'vitest';
import { medianPass } from './passes.js';

describe('medianPass', () => {
  it('keeps the median pass per broker and scenario, with the spread', () => {
    const rows = [
      { broker: 't', scenario: 'p', msgsPerSec: 300, pass: 1 },
      { broker: 'm', scenario: 'p', msgsPerSec: 10, pass: 1 },
      { broker: 't', scenario: 'p', msgsPerSec: 100, pass: 2 },
      { broker: 't', scenario: 'p', msgsPerSec: 200, pass: 3 },
    ];
    const kept = medianPass(rows);
    expect(kept).toHaveLength(2);
    expect(kept[0]).toMatchObject({ broker: 't', pass: 3, spread: { passes: 3, low: 100, high: 300 } });
    expect(kept[1]).toMatchObject({ broker: 'm', pass: 1, spread: { passes: 1, low: 10, high: 10 } });
  });

  it('ranks by rankBy when given, takes the lower middle of an even count, and skips failed passes', () => {
    const rows = [
      { broker: 't', scenario: 'l', msgsPerSec: 1000, rankBy: 4, pass: 1 },
      { broker: 't', scenario: 'l', msgsPerSec: 1000, rankBy: 2, pass: 2 },
      { broker: 't', scenario: 'l', msgsPerSec: Number.NaN, rankBy: Number.NaN, pass: 3 },
      { broker: 't', scenario: 'l', msgsPerSec: 1000, rankBy: 3, pass: 4 },
    ];
    expect(medianPass(rows)[0]).toMatchObject({ pass: 4, spread: { passes: 4, low: 2, high: 4 } });
  });

  it('keeps a scenario that failed in every pass', () => {
    const kept = medianPass([{ broker: 'm', scenario: 'x', msgsPerSec: Number.NaN }]);
    expect(kept[0]!.spread.passes).toBe(1);
    expect(kept[0]!.msgsPerSec).toBeNaN();
  });
});
