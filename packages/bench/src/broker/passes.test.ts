import { describe, expect, it } from 'vitest';
import { medianPass, passRatio } from './passes.js';

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

describe('passRatio', () => {
  it('takes the ratio within each pass and keeps the median with the range', () => {
    const rows = [
      { broker: 't', scenario: 'idem', msgsPerSec: 90, pass: 1 },
      { broker: 't', scenario: 'plain', msgsPerSec: 100, pass: 1 },
      { broker: 't', scenario: 'idem', msgsPerSec: 200, pass: 2 },
      { broker: 't', scenario: 'plain', msgsPerSec: 200, pass: 2 },
      { broker: 't', scenario: 'idem', msgsPerSec: 40, pass: 3 },
      { broker: 't', scenario: 'plain', msgsPerSec: 50, pass: 3 },
      { broker: 'm', scenario: 'idem', msgsPerSec: 1, pass: 1 },
      { broker: 'm', scenario: 'plain', msgsPerSec: 4, pass: 1 },
    ];
    expect(passRatio(rows, 't', 'idem', 'plain')).toEqual({ median: 0.9, low: 0.8, high: 1, passes: 3 });
    expect(passRatio(rows, 'm', 'idem', 'plain')).toEqual({ median: 0.25, low: 0.25, high: 0.25, passes: 1 });
  });

  it('leaves out passes where either side failed, and is null when none has both', () => {
    const rows = [
      { broker: 't', scenario: 'txn', msgsPerSec: Number.NaN, pass: 1 },
      { broker: 't', scenario: 'plain', msgsPerSec: 100, pass: 1 },
      { broker: 't', scenario: 'txn', msgsPerSec: 70, pass: 2 },
      { broker: 't', scenario: 'plain', msgsPerSec: 100, pass: 2 },
    ];
    expect(passRatio(rows, 't', 'txn', 'plain')).toMatchObject({ median: 0.7, passes: 1 });
    expect(passRatio(rows.slice(0, 2), 't', 'txn', 'plain')).toBeNull();
    expect(passRatio(rows, 'm', 'txn', 'plain')).toBeNull();
  });
});
