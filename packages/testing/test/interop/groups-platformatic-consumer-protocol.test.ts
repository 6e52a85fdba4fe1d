import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';
import {
  assigned,
  clientOptions,
  coverage,
  KeptStorage,
  leave,
  type Member,
  startMember as startPlatformaticMember,
} from './platformatic-members.js';
import { until } from './until.js';

// @platformatic/kafka with groupProtocol: 'consumer' speaks ConsumerGroupHeartbeat (KIP-848).

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

const options = (b: TestBroker) => clientOptions(b, 'groups-plt-cg');

const startMember = (b: TestBroker, consumed: { partition: number; offset: number }[]): Promise<Member> =>
  startPlatformaticMember(b, consumed, {
    clientId: 'groups-plt-cg',
    groupId: GROUP,
    topic: TOPIC,
    group: { groupProtocol: 'consumer' },
    consume: { rebalanceTimeout: 10_000 },
  });

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
