import {
  Admin,
  type CompressionAlgorithmValue,
  compressionsAlgorithms,
  defaultPartitioner,
  GenericError,
  ListOffsetTimestamps,
  MultipleErrors,
  ProduceAcks,
  Producer,
  ProtocolError,
  stringSerializers,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumedRecord, readPartition } from '../consume.js';
import { WireClient } from '../wire.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';

// Records are read back through the codec's own Fetch, which also shows how they were stored
// (codec, batch layout). @platformatic/kafka's Consumer, which always joins a group, is exercised
// in groups-platformatic.test.ts.

let broker: BrokerProcess;
let admin: Admin;

const clientOptions = () => ({
  clientId: 'interop-platformatic',
  bootstrapBrokers: [broker.bootstrap],
  retries: 2,
  retryDelay: 50,
});

function producer(): Producer<string, string, string, string> {
  return new Producer({ ...clientOptions(), serializers: stringSerializers });
}

async function readTopic(topic: string, partitions: number): Promise<ConsumedRecord[]> {
  const client = await WireClient.connect(broker.port);
  try {
    const parts = Array.from({ length: partitions }, (_, p) => readPartition(client, topic, p));
    return (await Promise.all(parts)).flat();
  } finally {
    client.close();
  }
}

/** The Kafka error (by Kafka's name) a client call failed with, found inside the client's wrappers. */
async function kafkaErrorOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (e) {
    // Retries wrap the broker's error in MultipleErrors; findBy searches the whole tree.
    const found =
      e instanceof MultipleErrors
        ? e.findBy('code', ProtocolError.code)
        : e instanceof GenericError
          ? e.findBy('code', ProtocolError.code)
          : undefined;
    if (found === undefined) throw e;
    return found?.apiId as string | undefined;
  }
  throw new Error('the call succeeded');
}

beforeAll(async () => {
  broker = await startBrokerProcess();
  admin = new Admin(clientOptions());
});
afterAll(async () => {
  await admin?.close();
  await broker?.close();
});

describe('@platformatic/kafka', () => {
  it('creates a 6-partition topic and describes it through metadata', async () => {
    const created = await admin.createTopics({ topics: ['plt-admin'], partitions: 6, replicas: 1 });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ name: 'plt-admin', partitions: 6, replicas: 1 });
    expect(created[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created[0]!.id).not.toBe('00000000-0000-0000-0000-000000000000');

    expect(await admin.listTopics()).toContain('plt-admin');
    const md = await admin.metadata({ topics: ['plt-admin'], forceUpdate: true });
    expect([...md.brokers.entries()]).toEqual([[1, { host: '127.0.0.1', port: broker.port, rack: null }]]);
    const topic = md.topics.get('plt-admin')!;
    expect(topic.id).toBe(created[0]!.id);
    expect(topic.partitionsCount).toBe(6);
    for (const p of topic.partitions) {
      expect(p.leader).toBe(1);
      expect(p.replicas).toEqual([1]);
      expect(p.isr).toEqual([1]);
    }

    // A second create of the same name is refused with Kafka's error for it.
    expect(await kafkaErrorOf(admin.createTopics({ topics: ['plt-admin'], partitions: 6 }))).toBe(
      'TOPIC_ALREADY_EXISTS',
    );
  });

  it('produces 1,000 keyed messages with headers (acks all); they read back complete, in order, with stable key placement', async () => {
    await admin.createTopics({ topics: ['plt-data'], partitions: 6, replicas: 1 });
    const p = producer();
    const start = Date.now();
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        return {
          topic: 'plt-data',
          key: `key-${n % 37}`,
          value: `value-${n}`,
          headers: { seq: String(n), source: 'platformatic' },
        };
      });
      const result = await p.send({ messages, acks: ProduceAcks.ALL });
      expect(result.offsets!.length).toBeGreaterThan(0);
      expect(result.offsets!.every((o) => o.topic === 'plt-data' && o.offset >= 0n)).toBe(true);
    }
    await p.close();

    const all = await readTopic('plt-data', 6);
    expect(all).toHaveLength(1000);
    // Complete: every value once.
    expect(new Set(all.map((r) => r.value!.toString())).size).toBe(1000);
    // Placement: each key on the partition the client's default partitioner chose for it, so a
    // key stays on one partition; the keys spread over the partitions.
    for (const r of all) expect(r.partition).toBe(defaultPartitioner(undefined as never, r.key!) % 6);
    expect(new Set(all.map((r) => r.partition)).size).toBeGreaterThan(3);
    // Per-partition order follows send order, and offsets are dense from 0.
    for (let part = 0; part < 6; part++) {
      const records = all.filter((r) => r.partition === part);
      const seqs = records.map((r) => Number(r.headers.find((h) => h.key === 'seq')!.value!.toString()));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => BigInt(i)));
    }
    for (const r of all) {
      const n = r.value!.toString().slice('value-'.length);
      expect(r.key!.toString()).toBe(`key-${Number(n) % 37}`);
      expect(r.headers.map((h) => [h.key, h.value!.toString()])).toEqual([
        ['seq', n],
        ['source', 'platformatic'],
      ]);
      expect(r.timestamp).toBeGreaterThanOrEqual(start);
      expect(r.timestamp).toBeLessThanOrEqual(Date.now());
    }

    // ListOffsets: earliest, latest and by timestamp through the admin client.
    const counts = [0, 1, 2, 3, 4, 5].map((part) => all.filter((r) => r.partition === part).length);
    const listed = async (timestamp: bigint) => {
      const [topic] = await admin.listOffsets({
        topics: [
          {
            name: 'plt-data',
            partitions: counts.map((_, partitionIndex) => ({ partitionIndex, timestamp })),
          },
        ],
      });
      return topic!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex);
    };
    expect((await listed(ListOffsetTimestamps.EARLIEST)).map((o) => o.offset)).toEqual(counts.map(() => 0n));
    expect((await listed(ListOffsetTimestamps.LATEST)).map((o) => o.offset)).toEqual(counts.map(BigInt));
    // By timestamp: the first record at or after the target, per partition, or -1 when none is.
    const timestamps = all.map((r) => r.timestamp).sort((a, b) => a - b);
    for (const target of [timestamps[0]!, timestamps[500]!]) {
      const expected = counts.map((_, part) => {
        const r = all.find((x) => x.partition === part && x.timestamp >= target);
        return r === undefined ? [-1n, -1n] : [r.offset, BigInt(r.timestamp)];
      });
      const found = await listed(BigInt(target));
      expect(found.map((o) => [o.offset, o.timestamp])).toEqual(expected);
    }
    const future = await listed(BigInt(Date.now() + 3_600_000));
    expect(future.map((o) => [o.offset, o.timestamp])).toEqual(counts.map(() => [-1n, -1n]));
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as CompressionAlgorithmValue[]) {
    // zstd comes from node:zlib, which has it from Node 22.15; the client offers no other.
    const offered = compressionsAlgorithms[codec].available;
    const title = `round-trips ${codec} batches byte-exact${offered ? '' : ' (this Node lacks zlib zstd)'}`;
    it.skipIf(!offered)(title, async () => {
      const topic = `plt-${codec}`;
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      const values = Array.from({ length: 200 }, (_, i) => `${codec}-${i}-${'abc'.repeat(i % 20)}`);
      const p = producer();
      for (let batch = 0; batch < 4; batch++) {
        const messages = values
          .slice(batch * 50, batch * 50 + 50)
          .map((value, i) => ({ topic, key: `k${i}`, value, headers: { codec } }));
        await p.send({ messages, compression: codec, acks: ProduceAcks.ALL });
      }
      await p.close();
      const records = await readTopic(topic, 1);
      expect(records.map((r) => r.value!.toString())).toEqual(values);
      expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => BigInt(i)));
      expect(new Set(records.map((r) => r.compression))).toEqual(
        new Set([compressionsAlgorithms[codec].bitmask]),
      );
      expect(records.every((r) => r.headers[0]!.value!.toString() === codec)).toBe(true);
    });
  }

  it('deletes topics; they leave the topic list and metadata', async () => {
    await admin.deleteTopics({ topics: ['plt-admin', 'plt-data'] });
    const topics = await admin.listTopics();
    expect(topics).not.toContain('plt-admin');
    expect(topics).not.toContain('plt-data');
    // The client turns the topic's UNKNOWN_TOPIC_OR_PARTITION in Metadata into this error.
    await expect(admin.metadata({ topics: ['plt-data'], forceUpdate: true })).rejects.toThrow(
      'Unknown topic plt-data.',
    );
    expect(await kafkaErrorOf(admin.deleteTopics({ topics: ['plt-admin'] }))).toBe(
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
  });
});
