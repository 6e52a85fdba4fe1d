import { createRequire } from 'node:module';
import type * as ConfluentJs from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';
import { until } from './until.js';

// @confluentinc/kafka-javascript (librdkafka 2.x, built from the package's bundled source by the
// testing package's global setup): idempotent and transactional producers, consumers at both
// isolation levels.

function loadConfluentJs(): typeof ConfluentJs {
  try {
    return createRequire(import.meta.url)('@confluentinc/kafka-javascript');
  } catch (e) {
    throw new Error(
      'the native module of @confluentinc/kafka-javascript is not built: run ' +
        '`pnpm --filter @tributary/testing run build:confluent-js`. Loading it failed with: ' +
        (e as Error).message.split('\n')[0],
    );
  }
}

describe('@confluentinc/kafka-javascript exactly-once', () => {
  let broker: TestBroker;
  let kafka: ConfluentJs.KafkaJS.Kafka;

  beforeAll(async () => {
    broker = await startTestBroker();
    const lib = loadConfluentJs();
    kafka = new lib.KafkaJS.Kafka({
      kafkaJS: { brokers: [broker.bootstrap], logLevel: lib.KafkaJS.logLevel.ERROR },
    });
  });
  afterAll(async () => {
    await broker?.close();
  });

  /** Values read from the start of `topic` until `expected` arrived, then 500 ms more. */
  async function consumeAll(
    topic: string,
    isolation: 'read_committed' | 'read_uncommitted',
    expected: number,
  ): Promise<string[]> {
    const c = kafka.consumer({
      kafkaJS: { groupId: `cjs-${topic}-${isolation}`, fromBeginning: true, autoCommit: false },
      'isolation.level': isolation,
    });
    await c.connect();
    const values: string[] = [];
    try {
      await c.subscribe({ topics: [topic] });
      await c.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
        },
      });
      await until(`${expected} messages from ${topic}`, () => values.length >= expected, 30_000);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await c.disconnect();
    }
    return values;
  }

  it('acknowledges each idempotent batch at offsets holding its records', async () => {
    await broker.broker.topics.ensure('eos-cjs-idem', 2);
    const producer = kafka.producer({ 'enable.idempotence': true, kafkaJS: { acks: -1 } });
    await producer.connect();
    const acked: { partition: number; offset: number; values: string[] }[] = [];
    try {
      for (let b = 0; b < 10; b++) {
        const partition = b % 2;
        const values = Array.from({ length: 3 }, (_, i) => `b${b}-m${i}`);
        const [meta] = await producer.send({
          topic: 'eos-cjs-idem',
          messages: values.map((value) => ({ value, partition })),
        });
        acked.push({ partition, offset: Number(meta!.baseOffset), values });
      }
    } finally {
      await producer.disconnect();
    }
    const consumed = await consumeAll('eos-cjs-idem', 'read_uncommitted', 30);
    expect(consumed.sort()).toEqual(acked.flatMap((a) => a.values).sort());
    const offsets = new Set(acked.map((a) => `${a.partition}/${a.offset}`));
    expect(offsets.size).toBe(10);
    // Each partition's batches follow each other with no gap.
    for (const p of [0, 1])
      expect(acked.filter((a) => a.partition === p).map((a) => a.offset)).toEqual([0, 3, 6, 9, 12]);
  });

  it('shows read_committed consumers exactly the committed transactions, read_uncommitted ones everything', async () => {
    await broker.broker.topics.ensure('eos-cjs-txn', 2);
    const producer = kafka.producer({ 'transactional.id': 'cjs-txn-mixed' });
    await producer.connect();
    const committed: string[] = [];
    const all: string[] = [];
    try {
      for (let t = 0; t < 4; t++) {
        const txn = await producer.transaction();
        const values = Array.from({ length: 5 }, (_, i) => `t${t}-m${i}`);
        await txn.send({
          topic: 'eos-cjs-txn',
          messages: values.map((value, i) => ({ value, partition: i % 2 })),
        });
        all.push(...values);
        if (t === 1) await txn.abort();
        else {
          await txn.commit();
          committed.push(...values);
        }
      }
    } finally {
      await producer.disconnect();
    }
    expect((await consumeAll('eos-cjs-txn', 'read_committed', committed.length)).sort()).toEqual(
      [...committed].sort(),
    );
    expect((await consumeAll('eos-cjs-txn', 'read_uncommitted', all.length)).sort()).toEqual([...all].sort());
  });
});
