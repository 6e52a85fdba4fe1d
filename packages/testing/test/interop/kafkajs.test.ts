import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartition } from '../consume.js';
import { WireClient } from '../wire.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';

let broker: BrokerProcess;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startBrokerProcess();
  kafka = new Kafka({
    clientId: 'interop-kafkajs',
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});
afterAll(async () => {
  await broker.close();
});

describe('kafkajs', () => {
  it('creates, describes and deletes a topic through the admin client', async () => {
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'kjs-admin', numPartitions: 4 }] })).toBe(true);
    const md = await admin.fetchTopicMetadata({ topics: ['kjs-admin'] });
    expect(md.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3]);
    expect(await admin.listTopics()).toContain('kjs-admin');
    await admin.deleteTopics({ topics: ['kjs-admin'] });
    expect(await admin.listTopics()).not.toContain('kjs-admin');
    await admin.disconnect();
  });

  it('produces 1,000 keyed messages with headers into 6 partitions; they read back complete, in order, with stable key placement', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs-data', numPartitions: 6 }] });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const sent: { key: string; value: string }[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        const m = { key: `key-${n % 37}`, value: `value-${n}` };
        sent.push(m);
        return { ...m, headers: { seq: String(n), source: 'kafkajs' } };
      });
      const meta = await producer.send({ topic: 'kjs-data', acks: -1, messages });
      expect(meta.every((m) => m.errorCode === 0)).toBe(true);
    }
    await producer.disconnect();

    const client = await WireClient.connect(broker.port);
    const all = (
      await Promise.all([0, 1, 2, 3, 4, 5].map((p) => readPartition(client, 'kjs-data', p)))
    ).flat();
    client.close();
    expect(all).toHaveLength(1000);
    // Complete: every value once.
    expect(new Set(all.map((r) => r.value!.toString())).size).toBe(1000);
    // Stable placement: every key on exactly one partition; more than one partition used.
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of all) {
      const k = r.key!.toString();
      partitionsByKey.set(k, (partitionsByKey.get(k) ?? new Set()).add(r.partition));
    }
    expect([...partitionsByKey.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set(all.map((r) => r.partition)).size).toBeGreaterThan(3);
    // Per-partition order follows send order, and offsets are dense from 0.
    for (let p = 0; p < 6; p++) {
      const records = all.filter((r) => r.partition === p);
      const seqs = records.map((r) => Number(r.headers.find((h) => h.key === 'seq')!.value!.toString()));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => BigInt(i)));
    }
    expect(all[0]!.headers.find((h) => h.key === 'source')!.value!.toString()).toBe('kafkajs');

    // ListOffsets: earliest, latest and by timestamp through the admin client.
    const offsets = await admin.fetchTopicOffsets('kjs-data');
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(1000);
    expect(offsets.every((o) => o.low === '0')).toBe(true);
    const byTime = await admin.fetchTopicOffsetsByTimestamp('kjs-data', 0);
    expect(byTime.every((o) => o.offset === '0')).toBe(true);
    await admin.disconnect();
  });

  it('round-trips a gzip batch byte-exact', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const payload = 'x'.repeat(5000);
    await producer.send({
      topic: 'kjs-gzip',
      compression: CompressionTypes.GZIP,
      messages: [{ key: 'k', value: payload }],
    });
    await producer.disconnect();
    const client = await WireClient.connect(broker.port);
    const records = await readPartition(client, 'kjs-gzip', 0);
    client.close();
    expect(records).toHaveLength(1);
    expect(records[0]!.compression).toBe(1);
    expect(records[0]!.value!.toString()).toBe(payload);
  });
});
