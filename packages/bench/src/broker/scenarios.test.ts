import { describe, expect, it } from 'vitest';
import {
  FULL,
  passOrder,
  QUICK,
  scenarios,
  startsFresh,
  TARGETS,
  topicsOf,
  verdict,
  withFills,
} from './scenarios.js';

describe('scenarios', () => {
  it('reads every consumed topic from one that a produce scenario fills', () => {
    const list = scenarios(FULL);
    for (const s of list.filter((x) => x.kind === 'consume')) {
      const fill = list.find(
        (p) =>
          (p.kind === 'produce' || p.kind === 'platformatic' || p.kind === 'pipelined') &&
          p.topic === s.topic,
      );
      expect(fill?.size).toBe(s.size);
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

describe('exactly-once scenarios', () => {
  it('names for each held against a baseline an existing scenario of the same client and size', () => {
    const list = scenarios(QUICK);
    const held = list.filter((s) => 'baseline' in s && s.baseline);
    expect(held.map((s) => s.id)).toEqual([
      'produce 100 B acks=all 1p idempotent',
      'pipelined produce 100 B acks=all 1p idempotent, 5 requests of 16 KB in flight',
      '@platformatic/kafka produce 100 B in transactions of 1,000',
      'consume 100 B 1p transactional, read_committed',
    ]);
    for (const s of held) {
      const base = list.find((b) => 'baseline' in s && b.id === s.baseline);
      expect(base?.kind).toBe(s.kind);
      expect(base?.size).toBe(s.size);
      if (s.kind === 'produce' && base?.kind === 'produce') {
        expect([base.acks, base.messages, base.idempotent]).toEqual([s.acks, s.messages, undefined]);
      }
      if (s.kind === 'pipelined' && base?.kind === 'pipelined') {
        expect([base.acks, base.batchBytes, base.inFlight, base.messages, base.idempotent]).toEqual([
          -1,
          16_384,
          5,
          s.messages,
          false,
        ]);
        expect(s.idempotent).toBe(true);
      }
      if (s.kind === 'platformatic' && base?.kind === 'platformatic') {
        expect([base.acks, base.batch, base.inFlight, base.messages]).toEqual([-1, 1000, 1, s.messages]);
        expect([base.transaction, s.transaction]).toEqual([undefined, 1000]);
      }
      if (s.kind === 'consume' && base?.kind === 'consume') {
        expect([base.topic, base.isolation, s.isolation]).toEqual([
          s.topic,
          'read_uncommitted',
          'read_committed',
        ]);
      }
    }
  });

  it('runs a chosen scenario after its baseline and the fill of its topic', () => {
    const all = scenarios(QUICK);
    const ids = (what: string) => withFills(all, (s) => s.id.includes(what)).map((s) => s.id);
    expect(ids('read_committed')).toEqual([
      '@platformatic/kafka produce 100 B acks=all 1p, one send of 1,000 at a time',
      '@platformatic/kafka produce 100 B in transactions of 1,000',
      'consume 100 B 1p transactional, read_uncommitted',
      'consume 100 B 1p transactional, read_committed',
    ]);
    expect(ids('idempotent')).toEqual([
      'produce 100 B acks=all 1p',
      'produce 100 B acks=all 1p idempotent',
      'pipelined produce 100 B acks=all 1p, 5 requests of 16 KB in flight',
      'pipelined produce 100 B acks=all 1p idempotent, 5 requests of 16 KB in flight',
    ]);
    expect(ids('consume 100 B 6p')).toEqual(['produce 100 B acks=1 6p', 'consume 100 B 6p']);
    expect(ids('EndTxn')).toEqual(['EndTxn latency, 100 transactions of 1 message']);
  });
});

describe('passOrder', () => {
  it('keeps the order in even passes and puts each pair the other way round in odd ones', () => {
    const all = scenarios(QUICK);
    const list = withFills(all, (s) => s.id.includes('idempotent') || s.id.includes('read_committed'));
    expect(passOrder(list, 0).map((s) => s.id)).toEqual(list.map((s) => s.id));
    expect(passOrder(list, 1).map((s) => s.id)).toEqual([
      'produce 100 B acks=all 1p idempotent',
      'produce 100 B acks=all 1p',
      'pipelined produce 100 B acks=all 1p idempotent, 5 requests of 16 KB in flight',
      'pipelined produce 100 B acks=all 1p, 5 requests of 16 KB in flight',
      '@platformatic/kafka produce 100 B in transactions of 1,000',
      '@platformatic/kafka produce 100 B acks=all 1p, one send of 1,000 at a time',
      'consume 100 B 1p transactional, read_committed',
      'consume 100 B 1p transactional, read_uncommitted',
    ]);
    expect(passOrder(list, 2).map((s) => s.id)).toEqual(list.map((s) => s.id));
  });
});
