import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartition } from '../consume.js';
import { WireClient } from '../wire.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { type SwallowingBroker, startSwallowingBroker } from './swallowing-broker.js';
import { until } from './until.js';

// KafkaJS's idempotent and transactional producers, and its consumers, which read with
// read_committed unless told otherwise.

let broker: BrokerProcess;
let kafka: Kafka;
const open: { disconnect(): Promise<void> }[] = [];

beforeAll(async () => {
  broker = await startBrokerProcess();
  kafka = new Kafka({
    clientId: 'interop-kafkajs-eos',
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
});
afterAll(async () => {
  for (const c of open.splice(0)) await c.disconnect().catch(() => {});
  await broker.close();
});

async function createTopic(k: Kafka, topic: string, numPartitions: number): Promise<void> {
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

async function connected<T extends Producer | Consumer>(client: T): Promise<T> {
  await client.connect();
  open.push(client);
  return client;
}

/** Every value a group consumer reads from the start of `topic` until `expected` arrived (then 500 ms more). */
async function consumeAll(
  topic: string,
  groupId: string,
  expected: number,
  readUncommitted: boolean,
): Promise<string[]> {
  const consumer = await connected(kafka.consumer({ groupId, readUncommitted }));
  const values: string[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value!.toString());
    },
  });
  await until(`${expected} messages from ${topic}`, () => values.length >= expected);
  // Anything that should not be there has had time to arrive.
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return values;
}

describe('kafkajs idempotent producer', () => {
  it('stores every acknowledged batch once, at the offsets acknowledged', async () => {
    await createTopic(kafka, 'eos-kjs-idem', 3);
    const producer = await connected(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    const acked: { partition: number; offset: string; values: string[] }[] = [];
    for (let b = 0; b < 30; b++) {
      const partition = b % 3;
      const values = Array.from({ length: 1 + (b % 4) }, (_, i) => `b${b}-m${i}`);
      const [meta] = await producer.send({
        topic: 'eos-kjs-idem',
        acks: -1,
        messages: values.map((value) => ({ value, partition })),
      });
      expect(meta!.errorCode).toBe(0);
      acked.push({ partition, offset: meta!.baseOffset!, values });
    }
    await producer.disconnect();

    const client = await WireClient.connect(broker.port);
    const stored = await Promise.all([0, 1, 2].map((p) => readPartition(client, 'eos-kjs-idem', p)));
    client.close();
    for (const a of acked) {
      const records = stored[a.partition]!.filter(
        (r) => r.offset >= BigInt(a.offset) && r.offset < BigInt(a.offset) + BigInt(a.values.length),
      );
      expect(records.map((r) => r.value!.toString())).toEqual(a.values);
    }
    expect(stored.flat()).toHaveLength(acked.reduce((n, a) => n + a.values.length, 0));
  });
});

describe('kafkajs idempotent producer whose response is lost', () => {
  let swallowing: SwallowingBroker;
  beforeAll(async () => {
    swallowing = await startSwallowingBroker();
  });
  afterAll(async () => {
    await swallowing.close();
  });

  it('stores the retried batch once and acknowledges it at its original offset', async () => {
    const k = new Kafka({
      clientId: 'interop-kafkajs-retry',
      brokers: [swallowing.bootstrap],
      logLevel: logLevel.NOTHING,
      requestTimeout: 1500,
      retry: { retries: 5, initialRetryTime: 100 },
    });
    await createTopic(k, 'eos-kjs-retry', 1);
    const producer = k.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: 'eos-kjs-retry', acks: -1, messages: [{ value: 'first' }] });
    swallowing.swallowNextProduce('eos-kjs-retry');
    const [meta] = await producer.send({
      topic: 'eos-kjs-retry',
      acks: -1,
      messages: [{ value: 'second' }, { value: 'third' }],
    });
    await producer.send({ topic: 'eos-kjs-retry', acks: -1, messages: [{ value: 'fourth' }] });
    await producer.disconnect();
    expect(swallowing.swallowed).toBe(1);
    expect(meta!.errorCode).toBe(0);
    expect(meta!.baseOffset).toBe('1');

    const client = await WireClient.connect(swallowing.port);
    const stored = await readPartition(client, 'eos-kjs-retry', 0);
    client.close();
    expect(stored.map((r) => [Number(r.offset), r.value!.toString()])).toEqual([
      [0, 'first'],
      [1, 'second'],
      [2, 'third'],
      [3, 'fourth'],
    ]);
  });
});

describe('kafkajs transactions', () => {
  it('shows read_committed consumers exactly the committed transactions and read_uncommitted ones everything', async () => {
    await createTopic(kafka, 'eos-kjs-txn', 2);
    const producer = await connected(
      kafka.producer({ transactionalId: 'kjs-txn-mixed', maxInFlightRequests: 1, idempotent: true }),
    );
    const committed: string[] = [];
    const all: string[] = [];
    for (let t = 0; t < 6; t++) {
      const txn = await producer.transaction();
      const values = Array.from({ length: 5 }, (_, i) => `t${t}-m${i}`);
      await txn.send({
        topic: 'eos-kjs-txn',
        messages: values.map((value, i) => ({ value, partition: i % 2 })),
      });
      all.push(...values);
      // Transactions 1 and 4 abort; the others commit.
      if (t === 1 || t === 4) await txn.abort();
      else {
        await txn.commit();
        committed.push(...values);
      }
    }
    await producer.disconnect();

    const readCommitted = await consumeAll('eos-kjs-txn', 'kjs-txn-rc', committed.length, false);
    expect(readCommitted.sort()).toEqual([...committed].sort());
    const readUncommitted = await consumeAll('eos-kjs-txn', 'kjs-txn-ru', all.length, true);
    expect(readUncommitted.sort()).toEqual([...all].sort());
  });

  it('fences the older of two producers with one transactional id; its open transaction is aborted', async () => {
    await createTopic(kafka, 'eos-kjs-fence', 1);
    const older = await connected(kafka.producer({ transactionalId: 'kjs-fenced', maxInFlightRequests: 1 }));
    const txn = await older.transaction();
    await txn.send({ topic: 'eos-kjs-fence', messages: [{ value: 'zombie' }] });

    // KafkaJS initializes a transactional producer's id at its first transaction, not at connect.
    const newer = await connected(kafka.producer({ transactionalId: 'kjs-fenced', maxInFlightRequests: 1 }));
    const next = await newer.transaction();
    await expect(txn.commit()).rejects.toThrow(/fenced|epoch/i);
    await next.send({ topic: 'eos-kjs-fence', messages: [{ value: 'current' }] });
    await next.commit();

    expect(await consumeAll('eos-kjs-fence', 'kjs-fence-rc', 1, false)).toEqual(['current']);
  });

  it('copies a topic with sendOffsets: output equals input, the group commits with the transactions', async () => {
    await createTopic(kafka, 'eos-kjs-in', 2);
    await createTopic(kafka, 'eos-kjs-out', 2);
    const input = Array.from({ length: 60 }, (_, i) => `v${i}`);
    const seed = await connected(kafka.producer());
    await seed.send({
      topic: 'eos-kjs-in',
      messages: input.map((value, i) => ({ value, partition: i % 2 })),
    });

    const producer = await connected(
      kafka.producer({ transactionalId: 'kjs-copier', maxInFlightRequests: 1, idempotent: true }),
    );
    const consumer = await connected(kafka.consumer({ groupId: 'kjs-copier-group' }));
    await consumer.subscribe({ topic: 'eos-kjs-in', fromBeginning: true });
    let copied = 0;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const txn = await producer.transaction();
        await txn.send({
          topic: 'eos-kjs-out',
          messages: batch.messages.map((m) => ({ value: `copy-${m.value!.toString()}` })),
        });
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await txn.sendOffsets({
          consumerGroupId: 'kjs-copier-group',
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
        });
        await txn.commit();
        for (const m of batch.messages) resolveOffset(m.offset);
        copied += batch.messages.length;
      },
    });
    await until('the input copied', () => copied >= input.length);
    await consumer.disconnect();

    const output = await consumeAll('eos-kjs-out', 'kjs-copier-check', input.length, false);
    expect(output.sort()).toEqual(input.map((v) => `copy-${v}`).sort());
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: 'kjs-copier-group', topics: ['eos-kjs-in'] });
    await admin.disconnect();
    expect(offsets[0]!.partitions.map((p) => p.offset).sort()).toEqual(['30', '30']);
  });
});
