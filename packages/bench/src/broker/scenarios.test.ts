import { describe, expect, it } from 'vitest';
import { FULL, scenarios, startsFresh, TARGETS, topicsOf, verdict } from './scenarios.js';

describe('scenarios', () => {
  it('reads every consumed topic from one that a produce scenario fills', () => {
    const list = scenarios(FULL);
    for (const s of list.filter((x) => x.kind === 'consume')) {
      expect(list.some((p) => p.kind === 'produce' && p.topic === s.topic && p.size === s.size)).toBe(true);
    }
  });

  it('lists each topic once with its partition count', () => {
    const topics = topicsOf(scenarios(FULL));
    expect(new Set(topics.map((t) => t.name)).size).toBe(topics.length);
    expect(topics.find((t) => t.name === 'bench-100b-p6-acks1')?.partitions).toBe(6);
  });
});

describe('verdict', () => {
  it('holds at-least goals from below and at-most goals from above', () => {
    expect(verdict(TARGETS.produceSmall!, 1_200_000)).toEqual({ met: true, ratio: 1.2 });
    expect(verdict(TARGETS.produceSmall!, 500_000)).toEqual({ met: false, ratio: 0.5 });
    expect(verdict(TARGETS.produceP99!, 0.5).met).toBe(true);
    expect(verdict(TARGETS.produceP99!, 2).met).toBe(false);
  });
});

describe('startsFresh', () => {
  it('starts only the 10 KB produce on a broker of its own, after the latency scenarios', () => {
    const list = scenarios(FULL);
    expect(list.filter(startsFresh).map((s) => s.id)).toEqual(['produce 10 KB acks=1 1p']);
    const ids = list.map((s) => s.id);
    expect(ids.indexOf('latency at 1,000 msg/s acks=all')).toBeLessThan(
      ids.indexOf('produce 10 KB acks=1 1p'),
    );
    expect(ids.indexOf('consume 10 KB 1p')).toBe(ids.indexOf('produce 10 KB acks=1 1p') + 1);
  });
});
