import {
  Admin,
  type ConsumeOptions,
  Consumer,
  type Message,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from 'platformatic-kafka-2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartition } from '../consume.js';
import { WireClient } from '../wire.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { until } from './until.js';

// @platformatic/kafka 2.x (installed as platformatic-kafka-2 beside 1.x, which the other suites
// use): its producer, consumer and admin against the `tributary` command. 2.x needs Node 22.22 or
// later, so the testing package's vitest config includes this file only on such a Node; CI runs
// the suite on Node 24 too.

let broker: BrokerProcess;
let admin: Admin;

const clientOptions = (clientId: string) => ({
  clientId,
  bootstrapBrokers: [broker.bootstrap],
  retries: 3,
  retryDelay: 50,
});

type StringMessage = Message<string, string, string, string>;
type ConsumeSettings = Partial<ConsumeOptions<string, string, string, string>>;

beforeAll(async () => {
  broker = await startBrokerProcess();
  admin = new Admin(clientOptions('interop-platformatic-2-admin'));
});
afterAll(async () => {
  await admin?.close();
  await broker?.close();
});

function producer(extra: { idempotent?: boolean; transactionalId?: string } = {}) {
  return new Producer({
    ...clientOptions('interop-platformatic-2-producer'),
    ...extra,
    serializers: stringSerializers,
  });
}

function consumer(groupId: string, groupProtocol: 'classic' | 'consumer' = 'classic') {
  return new Consumer({
    ...clientOptions(`interop-platformatic-2-${groupId}`),
    groupId,
    deserializers: stringDeserializers,
    ...(groupProtocol === 'consumer'
      ? { groupProtocol }
      : { sessionTimeout: 10_000, heartbeatInterval: 200 }),
  });
}

/**
 * Consumes `topic` as a member of `c`'s group until `expected` messages arrived, then 500 ms more
 * (so extra messages would show), and stops the stream. The consumer stays open for commits.
 */
async function consumeFrom(
  c: Consumer<string, string, string, string>,
  topic: string,
  expected: number,
  settings: ConsumeSettings,
): Promise<StringMessage[]> {
  const stream = await c.consume({ topics: [topic], autocommit: false, maxWaitTime: 200, ...settings });
  const messages: StringMessage[] = [];
  stream.on('data', (m) => messages.push(m));
  try {
    await until(`${expected} messages from ${topic}`, () => messages.length >= expected, 30_000);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await stream.close();
    // A fetch already under way comes back before the consumer closes (maxWaitTime is 200 ms).
    await new Promise((r) => setTimeout(r, 300));
  }
  return messages;
}

async function consumeOnce(
  groupId: string,
  topic: string,
  expected: number,
  settings: ConsumeSettings,
): Promise<StringMessage[]> {
  const c = consumer(groupId);
  try {
    return await consumeFrom(c, topic, expected, settings);
  } finally {
    await c.close(true);
  }
}

const byPartition = (messages: readonly StringMessage[], partition: number) =>
  messages.filter((m) => m.partition === partition);

describe('@platformatic/kafka 2.x', () => {
  it('creates a topic and describes it through metadata', async () => {
    const created = await admin.createTopics({ topics: ['plt2-admin'], partitions: 3, replicas: 1 });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ name: 'plt2-admin', partitions: 3, replicas: 1 });
    expect(await admin.listTopics()).toContain('plt2-admin');
    const md = await admin.metadata({ topics: ['plt2-admin'], forceUpdate: true });
    expect([...md.brokers.entries()]).toEqual([[1, { host: '127.0.0.1', port: broker.port, rack: null }]]);
    const topic = md.topics.get('plt2-admin')!;
    expect(topic.id).toBe(created[0]!.id);
    expect(topic.partitionsCount).toBe(3);
    expect(topic.partitions.map((p) => [p.leader, p.replicas, p.isr])).toEqual(
      [0, 1, 2].map(() => [1, [1], [1]]),
    );

    await admin.deleteTopics({ topics: ['plt2-admin'] });
    expect(await admin.listTopics()).not.toContain('plt2-admin');
  });

  it('round-trips 300 keyed messages with headers: each key on one partition, in send order, offsets dense from 0', async () => {
    await admin.createTopics({ topics: ['plt2-data'], partitions: 3, replicas: 1 });
    const p = producer();
    const acked = new Map<number, bigint[]>();
    try {
      for (let batch = 0; batch < 3; batch++) {
        const messages = Array.from({ length: 100 }, (_, i) => {
          const n = batch * 100 + i;
          return {
            topic: 'plt2-data',
            key: `key-${n % 13}`,
            value: `value-${n}`,
            headers: { seq: String(n), source: 'platformatic-2' },
          };
        });
        const result = await p.send({ messages, acks: ProduceAcks.ALL });
        for (const o of result.offsets!)
          acked.set(o.partition, [...(acked.get(o.partition) ?? []), o.offset]);
      }
    } finally {
      await p.close();
    }

    const got = await consumeOnce('plt2-roundtrip', 'plt2-data', 300, { mode: 'earliest' });
    expect(got).toHaveLength(300);
    expect(new Set(got.map((m) => m.value)).size).toBe(300);
    for (const m of got) {
      const n = Number(m.value.slice('value-'.length));
      expect(m.topic).toBe('plt2-data');
      expect(m.key).toBe(`key-${n % 13}`);
      expect([...m.headers.entries()]).toEqual([
        ['seq', String(n)],
        ['source', 'platformatic-2'],
      ]);
    }
    // A key stays on one partition; the 13 keys spread over all three.
    const partitionOfKey = new Map<string, Set<number>>();
    for (const m of got) partitionOfKey.set(m.key, (partitionOfKey.get(m.key) ?? new Set()).add(m.partition));
    expect([...partitionOfKey.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set(got.map((m) => m.partition))).toEqual(new Set([0, 1, 2]));
    for (const partition of [0, 1, 2]) {
      const records = byPartition(got, partition);
      const seqs = records.map((m) => Number(m.headers.get('seq')));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(records.map((m) => m.offset)).toEqual(records.map((_, i) => BigInt(i)));
      // Each send acknowledged the base offset of its batch for the partition: 0 first, then
      // where the previous batch ended.
      const bases = acked.get(partition) ?? [];
      expect(bases[0]).toBe(0n);
      for (const base of bases) expect(records.some((m) => m.offset === base)).toBe(true);
    }
  });

  for (const groupProtocol of ['classic', 'consumer'] as const) {
    it(`commits a group's offsets (${groupProtocol} group protocol); the next member resumes after them`, async () => {
      const topic = `plt2-commit-${groupProtocol}`;
      const group = `plt2-commit-group-${groupProtocol}`;
      await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
      const p = producer();
      const produce = async (from: number, count: number) => {
        for (const partition of [0, 1])
          await p.send({
            messages: Array.from({ length: count }, (_, i) => ({
              topic,
              partition,
              key: `p${partition}`,
              value: `p${partition}-${from + i}`,
            })),
          });
      };
      try {
        await produce(0, 20);
        const first = consumer(group, groupProtocol);
        try {
          const got = await consumeFrom(first, topic, 40, { mode: 'committed', fallbackMode: 'earliest' });
          expect(got).toHaveLength(40);
          for (const partition of [0, 1]) {
            const records = byPartition(got, partition);
            expect(records.map((m) => m.value)).toEqual(
              Array.from({ length: 20 }, (_, i) => `p${partition}-${i}`),
            );
            // Committing a message commits the offset after it: where the group resumes.
            await records.at(-1)!.commit();
          }
          const own = await first.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1] }] });
          expect(own.get(topic)).toEqual([20n, 20n]);
        } finally {
          await first.close(true);
        }

        const [listed] = await admin.listConsumerGroupOffsets({ groups: [group] });
        expect(listed!.groupId).toBe(group);
        const committed = listed!.topics.find((t) => t.name === topic)!;
        expect(
          committed.partitions
            .map((q) => [q.partitionIndex, q.committedOffset])
            .sort((a, b) => Number(a[0]) - Number(b[0])),
        ).toEqual([
          [0, 20n],
          [1, 20n],
        ]);

        await produce(20, 5);
        const second = consumer(group, groupProtocol);
        try {
          const resumed = await consumeFrom(second, topic, 10, { mode: 'committed', fallbackMode: 'fail' });
          expect(resumed).toHaveLength(10);
          for (const partition of [0, 1]) {
            const records = byPartition(resumed, partition);
            expect(records.map((m) => m.offset)).toEqual([20n, 21n, 22n, 23n, 24n]);
            expect(records.map((m) => m.value)).toEqual(
              [20, 21, 22, 23, 24].map((n) => `p${partition}-${n}`),
            );
          }
        } finally {
          await second.close(true);
        }
      } finally {
        await p.close();
      }
    });
  }

  it('idempotent producer: one producer id, every acknowledged batch stored once at the offset acknowledged', async () => {
    await admin.createTopics({ topics: ['plt2-idem'], partitions: 2, replicas: 1 });
    const p = producer({ idempotent: true });
    const acked: { partition: number; offset: bigint; value: string }[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const partition = i % 2;
        const result = await p.send({ messages: [{ topic: 'plt2-idem', value: `m${i}`, partition }] });
        acked.push({ partition, offset: result.offsets![0]!.offset, value: `m${i}` });
      }
      expect(typeof p.producerId).toBe('bigint');
      expect(p.producerId! >= 0n).toBe(true);
      expect(p.producerEpoch).toBe(0);
    } finally {
      await p.close();
    }
    for (const partition of [0, 1])
      expect(acked.filter((a) => a.partition === partition).map((a) => a.offset)).toEqual(
        Array.from({ length: 10 }, (_, i) => BigInt(i)),
      );
    const client = await WireClient.connect(broker.port);
    try {
      for (const partition of [0, 1]) {
        const stored = await readPartition(client, 'plt2-idem', partition);
        expect(stored.map((r) => [r.offset, r.value?.toString()])).toEqual(
          acked.filter((a) => a.partition === partition).map((a) => [a.offset, a.value]),
        );
      }
    } finally {
      client.close();
    }
  });

  it('transactions: read_committed consumers see the committed ones only, read_uncommitted ones everything', async () => {
    await admin.createTopics({ topics: ['plt2-txn'], partitions: 2, replicas: 1 });
    const p = producer({ idempotent: true, transactionalId: 'platformatic-2-txn' });
    try {
      for (let t = 0; t < 4; t++) {
        const txn = await p.beginTransaction();
        await txn.send({
          messages: [0, 1, 2, 3].map((i) => ({ topic: 'plt2-txn', value: `t${t}-m${i}`, partition: i % 2 })),
        });
        if (t === 2) await txn.abort();
        else await txn.commit();
      }
    } finally {
      await p.close();
    }

    // Per partition, each transaction wrote two records and then its marker (one offset):
    // t0 at 0-1, t1 at 3-4, t2 (aborted) at 6-7, t3 at 9-10.
    const valuesAt = (partition: number, ts: number[]) =>
      ts.flatMap((t) => [`t${t}-m${partition}`, `t${t}-m${partition + 2}`]);
    const committed = await consumeOnce('plt2-txn-committed', 'plt2-txn', 12, {
      mode: 'earliest',
      isolationLevel: 1,
    });
    const uncommitted = await consumeOnce('plt2-txn-uncommitted', 'plt2-txn', 16, {
      mode: 'earliest',
      isolationLevel: 0,
    });
    for (const partition of [0, 1]) {
      const seen = byPartition(committed, partition);
      expect(seen.map((m) => m.value)).toEqual(valuesAt(partition, [0, 1, 3]));
      expect(seen.map((m) => m.offset)).toEqual([0n, 1n, 3n, 4n, 9n, 10n]);
      const all = byPartition(uncommitted, partition);
      expect(all.map((m) => m.value)).toEqual(valuesAt(partition, [0, 1, 2, 3]));
      expect(all.map((m) => m.offset)).toEqual([0n, 1n, 3n, 4n, 6n, 7n, 9n, 10n]);
    }
  });
});
