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

// @platformatic/kafka with groupProtocol: 'consumer' speaks ConsumerGroupHeartbeat (KIP-848).

class KeptStorage extends MemoryStorage {
  override async close(): Promise<void> {}
}

const TOPIC = 'plt-cg';
const GROUP = 'plt-cg-group';
const PARTITIONS = [0, 1, 2, 3, 4, 5];
const CONFIG = {
  // Quicker heartbeats than Kafka's 5 s, so that reconciliation takes well under a second.
  groupConsumerMinHeartbeatIntervalMs: 100,
  groupConsumerHeartbeatIntervalMs: 200,
};

let storage: KeptStorage;
let broker: TestBroker;

beforeAll(async () => {
  storage = new KeptStorage();
  broker = await startTestBroker({ storage, config: CONFIG });
});
afterAll(async () => {
  await broker?.close();
});

const options = (b: TestBroker) => ({
  clientId: 'groups-plt-cg',
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
  const consumer = new Consumer({
    ...options(b),
    groupId: GROUP,
    groupProtocol: 'consumer',
    deserializers: stringDeserializers,
  });
  const stream = await consumer.consume({
    topics: [TOPIC],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: 100,
    rebalanceTimeout: 10_000,
    maxWaitTime: 200,
  });
  stream.on('data', (m) => consumed.push({ partition: m.partition, offset: Number(m.offset) }));
  return { consumer, stream };
}

function assigned(m: Member): number[] {
  return (m.consumer.assignments ?? []).filter((a) => a.topic === TOPIC).flatMap((a) => a.partitions);
}

const coverage = (members: Member[]) => members.flatMap(assigned).sort((a, b) => a - b);
const distinct = (consumed: { partition: number; offset: number }[]) =>
  new Set(consumed.map((c) => `${c.partition}:${c.offset}`)).size;

describe('@platformatic/kafka with the consumer group protocol', () => {
  it('shares 6 partitions between two members, hands them over when one leaves, commits with epochs', async () => {
    const admin = new Admin(options(broker));
    await admin.createTopics({ topics: [TOPIC], partitions: 6, replicas: 1 });
    const producer = new Producer({ ...options(broker), serializers: stringSerializers });
    const produce = async (count: number) => {
      for (const partition of PARTITIONS)
        await producer.send({
          messages: Array.from({ length: count }, (_, i) => ({ topic: TOPIC, partition, value: `v-${i}` })),
        });
    };
    await produce(20);

    const consumed: { partition: number; offset: number }[] = [];
    const members = [await startMember(broker, consumed), await startMember(broker, consumed)];
    await until(
      'two members sharing the partitions',
      () => coverage(members).join() === PARTITIONS.join() && members.every((m) => assigned(m).length === 3),
    );
    await until('the first 120 records', () => distinct(consumed) === 120);

    const described = broker.broker.groups.consumer.describe(GROUP);
    expect(described.groupState).toBe('Stable');
    expect(described.members).toHaveLength(2);
    expect(described.members.every((m) => m.memberEpoch === described.groupEpoch)).toBe(true);

    await leave(members[1]!);
    await until(
      'one member covering all six partitions',
      () => coverage([members[0]!]).join() === PARTITIONS.join(),
    );
    await produce(10);
    await until('all 180 records', () => distinct(consumed) === 180);
    // Autocommit stores the last offsets with the member's epoch.
    await until('committed offsets at 30', () =>
      broker.broker.groups
        .fetchOffsets(GROUP, [{ name: TOPIC, partitions: PARTITIONS }])
        .topics[0]!.partitions.every((p) => p.offset === 30),
    );
    await leave(members[0]!);
    expect(broker.broker.groups.consumer.describe(GROUP).groupState).toBe('Empty');
    await producer.close();
    await admin.close();
  }, 60_000);
});
