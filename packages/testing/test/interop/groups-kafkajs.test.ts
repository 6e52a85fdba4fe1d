import { MemoryStorage } from '@tributary/storage-memory';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';
import { until } from './until.js';

/** Memory storage that survives the broker closing it, so a second broker finds the same data. */
class KeptStorage extends MemoryStorage {
  override async close(): Promise<void> {}
}

const TOPIC = 'kjs-groups';
const GROUP = 'kjs-group';
const PARTITIONS = [0, 1, 2, 3, 4, 5];

let storage: KeptStorage;
let broker: TestBroker;

beforeAll(async () => {
  storage = new KeptStorage();
  broker = await startTestBroker({ storage });
});
afterAll(async () => {
  await broker?.close();
});

function client(b: TestBroker): Kafka {
  return new Kafka({
    clientId: 'groups-kjs',
    brokers: [b.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
  });
}

interface Member {
  consumer: Consumer;
  /** The partitions of the member's latest assignment. */
  assigned: number[];
}

async function startMember(
  kafka: Kafka,
  seen: Map<string, number>,
  consumed: { partition: number; offset: number }[],
) {
  // Short fetch waits: kafkajs heartbeats (and so learns of rebalances) between fetches.
  const consumer = kafka.consumer({
    groupId: GROUP,
    heartbeatInterval: 300,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    maxWaitTimeInMs: 300,
  });
  const member: Member = { consumer, assigned: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.assigned = (e.payload.memberAssignment[TOPIC] ?? []).slice().sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const key = `${partition}:${message.offset}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      consumed.push({ partition, offset: Number(message.offset) });
    },
  });
  return member;
}

function coverage(members: Member[]): number[] {
  return members.flatMap((m) => m.assigned).sort((a, b) => a - b);
}

describe('kafkajs consumer group', () => {
  it('splits 6 partitions over 3 members, rebalances when one leaves, commits, and resumes after a broker restart', async () => {
    let kafka = client(broker);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }] });
    const producer = kafka.producer();
    await producer.connect();
    const produce = async (from: number, count: number) => {
      for (const p of PARTITIONS)
        await producer.send({
          topic: TOPIC,
          messages: Array.from({ length: count }, (_, i) => ({ partition: p, value: `v-${from + i}` })),
        });
    };
    await produce(0, 50);

    const seen = new Map<string, number>();
    const consumed: { partition: number; offset: number }[] = [];
    const members = await Promise.all([0, 1, 2].map(() => startMember(kafka, seen, consumed)));
    await until(
      'three members sharing the partitions',
      () => coverage(members).join() === PARTITIONS.join() && members.every((m) => m.assigned.length === 2),
    );
    await until('the first 300 records', () => seen.size === 300);

    const described = await admin.describeGroups([GROUP]);
    expect(described.groups[0]).toMatchObject({ groupId: GROUP, state: 'Stable', protocolType: 'consumer' });
    expect(described.groups[0]!.members).toHaveLength(3);
    const listed = await admin.listGroups();
    expect(listed.groups).toContainEqual({ groupId: GROUP, protocolType: 'consumer' });

    // One leaves: the other two cover every partition between them.
    await members[2]!.consumer.disconnect();
    const rest = members.slice(0, 2);
    await until('two members covering all six partitions', () => coverage(rest).join() === PARTITIONS.join());
    await produce(50, 30);
    await until('all 480 records', () => seen.size === 480);
    // Consumed equals produced: every offset of every partition, no gaps.
    for (const p of PARTITIONS) {
      const offsets = [...new Set(consumed.filter((c) => c.partition === p).map((c) => c.offset))].sort(
        (a, b) => a - b,
      );
      expect(offsets).toEqual(Array.from({ length: 80 }, (_, i) => i));
    }

    await Promise.all(rest.map((m) => m.consumer.disconnect()));
    const committed = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    expect(committed[0]!.partitions.map((p) => Number(p.offset)).sort()).toEqual(PARTITIONS.map(() => 80));
    expect((await admin.describeGroups([GROUP])).groups[0]!.state).toBe('Empty');
    await producer.disconnect();
    await admin.disconnect();

    // Restart on the same storage: the group and its offsets come back from __consumer_offsets.
    await broker.close();
    broker = await startTestBroker({ storage });
    kafka = client(broker);
    const admin2 = kafka.admin();
    await admin2.connect();
    const again = await admin2.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    expect(again[0]!.partitions.map((p) => Number(p.offset))).toEqual(PARTITIONS.map(() => 80));
    const producer2 = kafka.producer();
    await producer2.connect();
    for (const p of PARTITIONS)
      await producer2.send({ topic: TOPIC, messages: [{ partition: p, value: 'after-restart' }] });
    const resumed: { partition: number; offset: number }[] = [];
    const member = await startMember(kafka, new Map(), resumed);
    await until('the six records produced after the restart', () => resumed.length >= 6);
    // Nothing before the committed offsets is read again.
    expect(resumed.map((r) => r.offset)).toEqual(PARTITIONS.map(() => 80));
    await member.consumer.disconnect();
    await producer2.disconnect();
    await admin2.disconnect();
  }, 60_000);
});
