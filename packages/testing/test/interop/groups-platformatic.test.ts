import {
  Admin,
  Consumer,
  type MessagesStream,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { MemoryStorage } from '@tributary/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';

/** Memory storage that survives the broker closing it, so a second broker finds the same data. */
class KeptStorage extends MemoryStorage {
  override async close(): Promise<void> {}
}

const TOPIC = 'plt-groups';
const GROUP = 'plt-group';
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

const options = (b: TestBroker) => ({
  clientId: 'groups-plt',
  bootstrapBrokers: [b.bootstrap],
  retries: 5,
  retryDelay: 50,
});

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Member {
  consumer: Consumer<string, string, string, string>;
  stream: MessagesStream<string, string, string, string>;
}

/**
 * Stops a member: its stream first, then, once a fetch already under way has had time to come back
 * (maxWaitTime is 200 ms), the consumer, which leaves the group. @platformatic/kafka 1.35 throws
 * "Client is closed" out of a metadata callback that lands after `consumer.close()` while its
 * stream is still fetching, as an uncaught exception.
 */
async function leave(m: Member): Promise<void> {
  await m.stream.close();
  await new Promise((r) => setTimeout(r, 300));
  await m.consumer.close(true);
}

async function startMember(
  b: TestBroker,
  consumed: { partition: number; offset: number }[],
): Promise<Member> {
  const consumer = new Consumer({ ...options(b), groupId: GROUP, deserializers: stringDeserializers });
  const stream = await consumer.consume({
    topics: [TOPIC],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: 100,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 200,
    maxWaitTime: 200,
  });
  stream.on('data', (m) => consumed.push({ partition: m.partition, offset: Number(m.offset) }));
  return { consumer, stream };
}

function assigned(m: Member): number[] {
  return (m.consumer.assignments ?? []).filter((a) => a.topic === TOPIC).flatMap((a) => a.partitions);
}

const coverage = (members: Member[]) => members.flatMap(assigned).sort((a, b) => a - b);

function offsetsOf(consumed: { partition: number; offset: number }[], partition: number): number[] {
  return [...new Set(consumed.filter((c) => c.partition === partition).map((c) => c.offset))].sort(
    (a, b) => a - b,
  );
}

describe('@platformatic/kafka consumer group', () => {
  it('splits 6 partitions over 3 members, rebalances when one leaves, commits, and resumes after a broker restart', async () => {
    const admin = new Admin(options(broker));
    await admin.createTopics({ topics: [TOPIC], partitions: 6, replicas: 1 });
    const producer = new Producer({ ...options(broker), serializers: stringSerializers });
    const produce = async (count: number) => {
      for (const partition of PARTITIONS)
        await producer.send({
          messages: Array.from({ length: count }, (_, i) => ({ topic: TOPIC, partition, value: `v-${i}` })),
        });
    };
    await produce(40);

    const consumed: { partition: number; offset: number }[] = [];
    const members = await Promise.all([0, 1, 2].map(() => startMember(broker, consumed)));
    await until(
      'three members sharing the partitions',
      () => coverage(members).join() === PARTITIONS.join() && members.every((m) => assigned(m).length === 2),
    );
    await until(
      'the first 240 records',
      () => new Set(consumed.map((c) => `${c.partition}:${c.offset}`)).size === 240,
    );

    const groups = await admin.describeGroups({ groups: [GROUP] });
    const group = groups.get(GROUP)!;
    expect(group.state).toBe('STABLE');
    expect(group.members.size).toBe(3);
    const listed = await admin.listGroups();
    expect([...listed.keys()]).toContain(GROUP);

    await leave(members[2]!);
    const rest = members.slice(0, 2);
    await until('two members covering all six partitions', () => coverage(rest).join() === PARTITIONS.join());
    await produce(20);
    await until(
      'all 360 records',
      () => new Set(consumed.map((c) => `${c.partition}:${c.offset}`)).size === 360,
    );
    for (const p of PARTITIONS)
      expect(offsetsOf(consumed, p)).toEqual(Array.from({ length: 60 }, (_, i) => i));

    // Let autocommit store the last offsets, then leave.
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(rest.map(leave));
    await producer.close();
    await admin.close();

    await broker.close();
    broker = await startTestBroker({ storage });
    const producer2 = new Producer({ ...options(broker), serializers: stringSerializers });
    for (const partition of PARTITIONS)
      await producer2.send({ messages: [{ topic: TOPIC, partition, value: 'after-restart' }] });
    const resumed: { partition: number; offset: number }[] = [];
    const member = await startMember(broker, resumed);
    await until('the six records produced after the restart', () => resumed.length >= 6);
    expect(resumed.map((r) => r.offset)).toEqual(PARTITIONS.map(() => 60));
    await leave(member);
    await producer2.close();
  }, 60_000);
});
