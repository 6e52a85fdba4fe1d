// A consumer commits what it has processed when it learns of a rebalance, before it rejoins
// (kafkajs commits from the heartbeat that reports the rebalance, and after each batch): the
// coordinator must take that commit while the group prepares the rebalance, or the partition's
// next owner reads the same records again.
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { until } from './until.js';

const TOPIC = 'kjs-commit-on-rebalance';
const GROUP = 'kjs-commit-on-rebalance';
const PARTITIONS = [0, 1];
const PER_PARTITION = 5;

let broker: BrokerProcess;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startBrokerProcess();
  kafka = new Kafka({
    clientId: 'groups-kjs-rebalance',
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
  });
});
afterAll(async () => {
  await broker?.close();
});

interface Member {
  consumer: Consumer;
  assigned: number[];
}

/** Resolves once the group reports `state` over DescribeGroups; bounded like until(). */
async function groupReaches(admin: Admin, state: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await admin.describeGroups([GROUP])).groups[0]?.state !== state) {
    if (Date.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for the group to be ${state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A member counting each delivery; `beforeFirst` runs inside the handler of its first record, so
 * the member holds a batch with uncommitted work for as long as it takes.
 */
async function startMember(
  deliveries: Map<string, number>,
  beforeFirst: () => Promise<void> = async () => {},
): Promise<Member> {
  const consumer = kafka.consumer({
    groupId: GROUP,
    heartbeatInterval: 100,
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
  let first = true;
  // Not awaited: run() returns only once the member has joined, and the second member's join
  // waits for the first member, which waits in its handler for the second to join.
  void consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (first) {
        first = false;
        await beforeFirst();
      }
      const key = `${partition}:${message.offset}`;
      deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
    },
  });
  return member;
}

function total(deliveries: Map<string, number>): number {
  let n = 0;
  for (const c of deliveries.values()) n += c;
  return n;
}

describe('kafkajs commit on rebalance', () => {
  it('keeps the offsets a member commits while the group prepares a rebalance: nothing is delivered twice', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS.length }] });
    const producer = kafka.producer();
    await producer.connect();
    const produce = async (label: string) => {
      for (const p of PARTITIONS)
        await producer.send({
          topic: TOPIC,
          messages: Array.from({ length: PER_PARTITION }, (_, i) => ({
            partition: p,
            value: `${label}-${i}`,
          })),
        });
    };
    await produce('before');
    const n = PARTITIONS.length * PER_PARTITION;

    const deliveries = new Map<string, number>();
    let holding = false;
    // The first member holds its first batch until a second member has started a rebalance, so it
    // finishes that batch, and commits it, while the group prepares the rebalance.
    const a = await startMember(deliveries, async () => {
      holding = true;
      await groupReaches(admin, 'PreparingRebalance');
    });
    await until('the first member holding its first batch', () => holding);
    const b = await startMember(deliveries);
    await until(
      'the two members sharing the partitions',
      () => a.assigned.length === 1 && b.assigned.length === 1,
    );
    // Records produced after the rebalance reach each partition's new owner after anything it
    // would read again, so once they are delivered every duplicate has shown itself.
    await produce('after');
    await until('every record delivered', () => deliveries.size === 2 * n);

    expect(total(deliveries)).toBe(2 * n);
    expect([...deliveries.entries()].filter(([, count]) => count !== 1)).toEqual([]);

    await Promise.all([a.consumer.disconnect(), b.consumer.disconnect()]);
    await producer.disconnect();
    await admin.disconnect();
  }, 60_000);
});
