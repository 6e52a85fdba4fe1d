// What `pnpm bench:broker` runs against each broker, and the targets from the broker's performance
// issue that each figure is held to.
import type { TopicSpec } from './brokers.js';

export type Scenario =
  | {
      kind: 'produce';
      id: string;
      topic: string;
      partitions: number;
      size: number;
      acks: 1 | -1;
      messages: number;
      /** librdkafka's idempotent producer (`enable.idempotence=true`). */
      idempotent?: boolean;
      /** The scenario whose rate this one's is held against, in the same pass. */
      baseline?: string;
    }
  | {
      kind: 'consume';
      id: string;
      topic: string;
      partitions: number;
      size: number;
      /** Set explicitly when given; librdkafka's own default is read_committed. */
      isolation?: 'read_committed' | 'read_uncommitted';
      baseline?: string;
    }
  | { kind: 'tail'; id: string; topic: string; partitions: number; size: number; messages: number }
  | {
      kind: 'latency';
      id: string;
      topic: string;
      size: number;
      rate: number;
      acks: 1 | -1;
      /** Messages sent; the first `warmup` of them are left out of the figures. */
      messages: number;
      /**
       * Messages sent while the clients start (the first second) and the broker's code for this
       * traffic warms up (V8 compiling it: about 3 s on a fresh broker); reported apart.
       */
      warmup: number;
    }
  | {
      kind: 'platformatic';
      id: string;
      topic: string;
      partitions: number;
      size: number;
      acks: 1 | -1;
      messages: number;
      /** Records per send. */
      batch: number;
      /** Sends outstanding at once (1 for transactions: a producer has one open at a time). */
      inFlight: number;
      /** Records per transaction, in sends of `batch`; absent for a plain producer. */
      transaction?: number;
      baseline?: string;
    }
  | {
      /**
       * A producer on the codec that keeps `inFlight` Produce requests outstanding on one connection
       * with one batch of about `batchBytes` each, as the Java producer does (5 in flight, 16 KB
       * batches by default), idempotent or not: the clients here that have an idempotent mode keep
       * one request in flight per partition while idempotent (see pipelined-producer.ts).
       */
      kind: 'pipelined';
      id: string;
      topic: string;
      partitions: 1;
      size: number;
      acks: -1;
      messages: number;
      batchBytes: number;
      inFlight: number;
      idempotent: boolean;
      baseline?: string;
    }
  | {
      /**
       * Transactions of one small record, one after another; each EndTxn (commit) round trip is
       * timed as the client sees it. The first `warmup` transactions are reported apart.
       */
      kind: 'endTxn';
      id: string;
      topic: string;
      partitions: number;
      size: number;
      transactions: number;
      warmup: number;
    };

/**
 * Scenarios marked `fresh` start on a newly started broker: the memory broker keeps every byte
 * produced, and on this machine's VM memory never touched before costs about 4x as much to fill as
 * memory a process used and freed, so the 10 KB scenarios (1 GB) would otherwise be measured with
 * the 100-byte scenarios' 0.8 GB already held.
 */
export function startsFresh(s: Scenario): boolean {
  return s.kind === 'produce' && s.size === LARGE;
}

export interface Scale {
  /** 100-byte messages per produce scenario. */
  small: number;
  /** 10 KB messages per produce scenario. */
  large: number;
  /** Messages sent at 1,000 msg/s in the latency scenario. */
  latency: number;
  /** 100-byte messages sent by @platformatic/kafka. */
  platformatic: number;
  /** 100-byte messages per transactional produce scenario (and its plain baseline). */
  transactional: number;
  /** Transactions in the EndTxn latency scenario. */
  endTxn: number;
  /** 100-byte messages per pipelined-producer scenario. */
  pipelined: number;
}

export const FULL: Scale = {
  small: 2_000_000,
  large: 100_000,
  latency: 8_000,
  platformatic: 500_000,
  transactional: 500_000,
  endTxn: 200,
  pipelined: 1_000_000,
};
export const QUICK: Scale = {
  small: 300_000,
  large: 20_000,
  latency: 4_000,
  platformatic: 100_000,
  transactional: 100_000,
  endTxn: 100,
  pipelined: 200_000,
};

/** Records per transaction in the transactional produce scenario. */
export const TRANSACTION_RECORDS = 1000;

export const SMALL = 100;
/** "10 KB": 10,000 bytes. */
export const LARGE = 10_000;

export function scenarios(scale: Scale): Scenario[] {
  const produce = (partitions: number, acks: 1 | -1): Scenario => ({
    kind: 'produce',
    id: `produce 100 B acks=${acks === 1 ? '1' : 'all'} ${partitions}p`,
    topic: `bench-100b-p${partitions}-acks${acks === 1 ? '1' : 'all'}`,
    partitions,
    size: SMALL,
    acks,
    messages: scale.small,
  });
  return [
    produce(1, 1),
    produce(1, -1),
    // Beside its baseline, so that both run on a broker holding the same data.
    idempotent(scale),
    ...pipelined(scale),
    produce(6, 1),
    produce(6, -1),
    { kind: 'consume', id: 'consume 100 B 1p', topic: 'bench-100b-p1-acks1', partitions: 1, size: SMALL },
    { kind: 'consume', id: 'consume 100 B 6p', topic: 'bench-100b-p6-acks1', partitions: 6, size: SMALL },
    {
      kind: 'tail',
      id: 'consume 100 B 1p while producing',
      topic: 'bench-100b-tail',
      partitions: 1,
      size: SMALL,
      messages: scale.small,
    },
    {
      kind: 'latency',
      id: 'latency at 1,000 msg/s',
      topic: 'bench-latency',
      size: SMALL,
      rate: 1000,
      acks: 1,
      messages: scale.latency,
      warmup: 3_000,
    },
    {
      // With file storage and flush=always, acks=all is the durable case whose p99 is held to 2 ms.
      kind: 'latency',
      id: 'latency at 1,000 msg/s acks=all',
      topic: 'bench-latency-acksall',
      size: SMALL,
      rate: 1000,
      acks: -1,
      messages: scale.latency,
      warmup: 3_000,
    },
    {
      kind: 'produce',
      id: 'produce 10 KB acks=1 1p',
      topic: 'bench-10kb-p1',
      partitions: 1,
      size: LARGE,
      acks: 1,
      messages: scale.large,
    },
    { kind: 'consume', id: 'consume 10 KB 1p', topic: 'bench-10kb-p1', partitions: 1, size: LARGE },
    {
      kind: 'platformatic',
      id: '@platformatic/kafka produce 100 B acks=1 1p',
      topic: 'bench-platformatic',
      partitions: 1,
      size: SMALL,
      acks: 1,
      messages: scale.platformatic,
      batch: 1000,
      inFlight: 4,
    },
    ...exactlyOnce(scale),
  ];
}

const PLAIN_ACKS_ALL = 'produce 100 B acks=all 1p';
const PLAIN_PLATFORMATIC = '@platformatic/kafka produce 100 B acks=all 1p, one send of 1,000 at a time';
const READ_UNCOMMITTED = 'consume 100 B 1p transactional, read_uncommitted';

function idempotent(scale: Scale): Scenario {
  return {
    kind: 'produce',
    id: 'produce 100 B acks=all 1p idempotent',
    topic: 'bench-100b-p1-idempotent',
    partitions: 1,
    size: SMALL,
    acks: -1,
    messages: scale.small,
    idempotent: true,
    baseline: PLAIN_ACKS_ALL,
  };
}

const PIPELINED_PLAIN = 'pipelined produce 100 B acks=all 1p, 5 requests of 16 KB in flight';

/**
 * Idempotent against plain with both keeping 5 Produce requests of one 16 KB batch in flight, as
 * the Java producer does by default: what idempotence costs the broker when the client does not
 * hold back.
 */
function pipelined(scale: Scale): Scenario[] {
  const base = {
    kind: 'pipelined',
    partitions: 1,
    size: SMALL,
    acks: -1,
    messages: scale.pipelined,
    batchBytes: 16_384,
    inFlight: 5,
  } as const;
  return [
    { ...base, id: PIPELINED_PLAIN, topic: 'bench-100b-p1-pipelined', idempotent: false },
    {
      ...base,
      id: 'pipelined produce 100 B acks=all 1p idempotent, 5 requests of 16 KB in flight',
      topic: 'bench-100b-p1-pipelined-idempotent',
      idempotent: true,
      baseline: PIPELINED_PLAIN,
    },
  ];
}

/**
 * Idempotence (above), transactions and read_committed, each beside the same work without them, in the
 * same pass and with the same client, so the ratio between the two is the cost of the feature.
 */
function exactlyOnce(scale: Scale): Scenario[] {
  const transactional = {
    kind: 'platformatic',
    partitions: 1,
    size: SMALL,
    acks: -1,
    messages: scale.transactional,
    batch: TRANSACTION_RECORDS,
    inFlight: 1,
  } as const;
  return [
    // Transactions need acks=all; the baseline sends the same 1,000-record sends one at a time, so
    // what differs is AddPartitionsToTxn and EndTxn around each send.
    { ...transactional, id: PLAIN_PLATFORMATIC, topic: 'bench-100b-plain-acksall' },
    {
      ...transactional,
      id: '@platformatic/kafka produce 100 B in transactions of 1,000',
      topic: 'bench-100b-transactional',
      transaction: TRANSACTION_RECORDS,
      baseline: PLAIN_PLATFORMATIC,
    },
    {
      kind: 'consume',
      id: READ_UNCOMMITTED,
      topic: 'bench-100b-transactional',
      partitions: 1,
      size: SMALL,
      isolation: 'read_uncommitted',
    },
    {
      kind: 'consume',
      id: 'consume 100 B 1p transactional, read_committed',
      topic: 'bench-100b-transactional',
      partitions: 1,
      size: SMALL,
      isolation: 'read_committed',
      baseline: READ_UNCOMMITTED,
    },
    {
      kind: 'endTxn',
      id: `EndTxn latency, ${scale.endTxn} transactions of 1 message`,
      topic: 'bench-endtxn',
      partitions: 1,
      size: SMALL,
      transactions: scale.endTxn,
      warmup: 20,
    },
  ];
}

/**
 * The chosen scenarios in their order, each preceded by what it needs: a consume scenario by the
 * one that fills its topic, a scenario held against a baseline by the baseline (and its fill).
 */
export function withFills(all: readonly Scenario[], chosen: (s: Scenario) => boolean): Scenario[] {
  const out: Scenario[] = [];
  const add = (s: Scenario): void => {
    if (out.includes(s)) return;
    if (s.kind === 'consume' && !out.some((x) => fills(x, s.topic))) {
      const fill = all.find((x) => fills(x, s.topic));
      if (fill) add(fill);
    }
    const baseline = 'baseline' in s && s.baseline ? all.find((x) => x.id === s.baseline) : undefined;
    if (baseline) add(baseline);
    out.push(s);
  };
  for (const s of all) if (chosen(s)) add(s);
  return out;
}

function fills(s: Scenario, topic: string): boolean {
  return (s.kind === 'produce' || s.kind === 'platformatic' || s.kind === 'pipelined') && s.topic === topic;
}

/** Every topic the scenarios use, once. */
export function topicsOf(list: readonly Scenario[]): TopicSpec[] {
  const topics = new Map<string, number>();
  for (const s of list) topics.set(s.topic, 'partitions' in s ? s.partitions : 1);
  return [...topics].map(([name, partitions]) => ({ name, partitions }));
}

export interface Target {
  what: string;
  /** The measured figure, from a scenario's result. */
  figure: string;
  /** True when the target holds when `value` is at least `goal` (else at most). */
  atLeast: boolean;
  goal: number;
  unit: string;
}

export const TARGETS: Record<string, Target> = {
  produceSmall: { what: 'produce 100 B', figure: 'msgs/s', atLeast: true, goal: 1_000_000, unit: 'msg/s' },
  produceCpu: {
    what: 'broker CPU at 1,000,000 msg/s produce',
    figure: 'CPU % of a core',
    atLeast: false,
    goal: 60,
    unit: '% of a core',
  },
  consumeSmall: { what: 'consume 100 B', figure: 'msgs/s', atLeast: true, goal: 2_000_000, unit: 'msg/s' },
  produceLarge: { what: 'produce 10 KB', figure: 'MB/s', atLeast: true, goal: 500, unit: 'MB/s' },
  consumeLarge: { what: 'consume 10 KB', figure: 'MB/s', atLeast: true, goal: 1000, unit: 'MB/s' },
  produceP99: { what: 'produce p99 at 1,000 msg/s', figure: 'ms', atLeast: false, goal: 1, unit: 'ms' },
  idempotentRatio: {
    what: 'idempotent produce against plain, acks=all',
    figure: 'ratio',
    atLeast: true,
    goal: 0.95,
    unit: 'x',
  },
  transactionalRatio: {
    what: 'produce in transactions of 1,000 against plain',
    figure: 'ratio',
    atLeast: true,
    goal: 0.7,
    unit: 'x',
  },
  readCommittedRatio: {
    what: 'read_committed consume against read_uncommitted',
    figure: 'ratio',
    atLeast: true,
    goal: 0.9,
    unit: 'x',
  },
  endTxnP99: { what: 'EndTxn (commit) p99', figure: 'ms', atLeast: false, goal: 5, unit: 'ms' },
  endToEndP99: {
    what: 'produce-to-consume p99 at 1,000 msg/s',
    figure: 'ms',
    atLeast: false,
    goal: 5,
    unit: 'ms',
  },
};

/** "met" or "missed", with the measured value as a fraction of the goal. */
export function verdict(target: Target, value: number): { met: boolean; ratio: number } {
  const met = target.atLeast ? value >= target.goal : value <= target.goal;
  return { met, ratio: value / target.goal };
}

/**
 * The run order for pass `pass` (from 0): in odd passes, a scenario held against a baseline that
 * runs right before it swaps places with it, so that over the passes neither side of a pair is
 * always the first on a broker whose code for that traffic is still cold.
 */
export function passOrder(list: readonly Scenario[], pass: number): Scenario[] {
  const out = [...list];
  if (pass % 2 === 0) return out;
  for (let i = 1; i < out.length; i++) {
    const s = out[i]!;
    const before = out[i - 1]!;
    if ('baseline' in s && s.baseline === before.id) {
      out[i - 1] = s;
      out[i] = before;
      i++;
    }
  }
  return out;
}
