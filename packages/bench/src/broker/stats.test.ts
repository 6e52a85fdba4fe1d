import { describe, expect, it } from 'vitest';
import { parseLatencyFile, parseProcStatCpuTicks, percentile, summarizeMicros } from './stats.js';

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN for no samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarizeMicros', () => {
  it('sorts and reports milliseconds', () => {
    const s = summarizeMicros([3000, 1000, 2000, 250_000]);
    expect(s).toEqual({ count: 4, p50Ms: 2, p99Ms: 250, maxMs: 250 });
  });
});

describe('parseLatencyFile', () => {
  it('reads one integer per line and skips blanks', () => {
    expect(parseLatencyFile('120\n 95\n\n3001\n')).toEqual([120, 95, 3001]);
  });
});

describe('parseProcStatCpuTicks', () => {
  it('adds utime and stime', () => {
    const stat =
      '8645 (cat) R 8642 8642 3375 0 -1 4194304 99 0 0 0 17 4 0 0 20 0 1 0 479958 3133440 382 0 0 0';
    expect(parseProcStatCpuTicks(stat)).toBe(21);
  });

  it('counts fields after a command name holding spaces and parentheses', () => {
    const stat = '42 (node (x) y) S 1 42 42 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 11 0 1 2 3';
    expect(parseProcStatCpuTicks(stat)).toBe(325);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStatCpuTicks('nonsense')).toThrow(/unreadable/);
  });
});
