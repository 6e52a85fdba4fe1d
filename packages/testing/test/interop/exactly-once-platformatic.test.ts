import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartition } from '../consume.js';
import { WireClient } from '../wire.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { until } from './until.js';

// @platformatic/kafka's idempotent and transactional producers, read back by its consumers at
// both isolation levels.

let broker: BrokerProcess;
let admin: Admin;

const clientOptions = (clientId: string) => ({
  clientId,
  bootstrapBrokers: [broker.bootstrap],
  retries: 3,
  retryDelay: 50,
});

beforeAll(async () => {
  broker = await startBrokerProcess();
  admin = new Admin(clientOptions('interop-platformatic-eos-admin'));
});
afterAll(async () => {
  await admin.close();
  await broker.close();
});

/** Values read from the start of `topic` (isolation level 0 or 1) until `expected` arrived, then 500 ms more. */
async function consumeAll(topic: string, isolationLevel: 0 | 1, expected: number): Promise<string[]> {
  const consumer = new Consumer({
    ...clientOptions(`interop-platformatic-eos-${isolationLevel}`),
    groupId: `platformatic-eos-${topic}-${isolationLevel}`,
    deserializers: stringDeserializers,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: 'earliest',
    autocommit: false,
    maxWaitTime: 200,
    isolationLevel,
  });
  const values: string[] = [];
  stream.on('data', (m) => values.push(m.value));
  try {
    await until(`${expected} messages from ${topic}`, () => values.length >= expected);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await stream.close();
    // A fetch already under way comes back before the consumer closes (maxWaitTime is 200 ms).
    await new Promise((r) => setTimeout(r, 300));
    await consumer.close(true);
  }
  return values;
}

describe('@platformatic/kafka idempotent producer', () => {
  it('stores every acknowledged batch once, at the offsets acknowledged', async () => {
    await admin.createTopics({ topics: ['eos-plat-idem'], partitions: 2, replicas: 1 });
    const producer = new Producer({
      ...clientOptions('interop-platformatic-idem'),
      idempotent: true,
      serializers: stringSerializers,
    });
    const acked: { partition: number; offset: bigint; value: string }[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const partition = i % 2;
        const result = await producer.send({
          messages: [{ topic: 'eos-plat-idem', value: `m${i}`, partition }],
        });
        acked.push({ partition, offset: BigInt(result.offsets![0]!.offset), value: `m${i}` });
      }
    } finally {
      await producer.close();
    }
    const client = await WireClient.connect(broker.port);
    const stored = await Promise.all([0, 1].map((p) => readPartition(client, 'eos-plat-idem', p)));
    client.close();
    expect(stored.flat()).toHaveLength(20);
    for (const a of acked)
      expect(stored[a.partition]!.find((r) => r.offset === a.offset)?.value?.toString()).toBe(a.value);
  });
});

describe('@platformatic/kafka transactions', () => {
  it('shows read_committed consumers exactly the committed transactions and read_uncommitted ones everything', async () => {
    await admin.createTopics({ topics: ['eos-plat-txn'], partitions: 2, replicas: 1 });
    const producer = new Producer({
      ...clientOptions('interop-platformatic-txn'),
      idempotent: true,
      transactionalId: 'platformatic-txn-mixed',
      serializers: stringSerializers,
    });
    const committed: string[] = [];
    const all: string[] = [];
    try {
      for (let t = 0; t < 4; t++) {
        const txn = await producer.beginTransaction();
        const values = Array.from({ length: 4 }, (_, i) => `t${t}-m${i}`);
        await txn.send({
          messages: values.map((value, i) => ({ topic: 'eos-plat-txn', value, partition: i % 2 })),
        });
        all.push(...values);
        if (t === 2) await txn.abort();
        else {
          await txn.commit();
          committed.push(...values);
        }
      }
    } finally {
      await producer.close();
    }
    expect((await consumeAll('eos-plat-txn', 1, committed.length)).sort()).toEqual([...committed].sort());
    expect((await consumeAll('eos-plat-txn', 0, all.length)).sort()).toEqual([...all].sort());
  });
});
