import { Consumer as PltConsumer, stringDeserializers } from '@platformatic/kafka';
import { Kafka, type Consumer as KjsConsumer, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';
import { until } from './until.js';

// One group shared by a classic member (kafkajs: JoinGroup/SyncGroup/Heartbeat) and a member of
// the consumer group protocol (@platformatic/kafka with groupProtocol: 'consumer'): the classic
// group upgrades when the second joins and downgrades when it leaves.

const TOPIC = 'mixed-groups';
const GROUP = 'mixed-group';
const PARTITIONS = [0, 1, 2, 3, 4, 5];

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({
    config: {
      groupConsumerMinHeartbeatIntervalMs: 100,
      groupConsumerHeartbeatIntervalMs: 200,
    },
  });
});
afterAll(async () => {
  await broker?.close();
});

describe('kafkajs (classic) and @platformatic/kafka (consumer protocol) in one group', () => {
  it('share the partitions through an upgrade and a downgrade and consume every record', async () => {
    const kafka = new Kafka({
      clientId: 'mixed-kjs',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }] });
    const producer = kafka.producer();
    await producer.connect();
    const produce = async (count: number) => {
      for (const partition of PARTITIONS)
        await producer.send({
          topic: TOPIC,
          messages: Array.from({ length: count }, (_, i) => ({ partition, value: `v-${i}` })),
        });
    };
    await produce(20);
    const seen = new Set<string>();

    // The classic member alone: a classic group.
    const classic: KjsConsumer = kafka.consumer({
      groupId: GROUP,
      heartbeatInterval: 200,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      maxWaitTimeInMs: 200,
    });
    let classicAssigned: number[] = [];
    classic.on(classic.events.GROUP_JOIN, (e) => {
      classicAssigned = (e.payload.memberAssignment[TOPIC] ?? []).slice().sort((a, b) => a - b);
    });
    await classic.connect();
    await classic.subscribe({ topics: [TOPIC], fromBeginning: true });
    await classic.run({
      eachMessage: async ({ partition, message }) => {
        seen.add(`${partition}:${message.offset}`);
      },
    });
    await until('the classic member owning all six', () => classicAssigned.join() === PARTITIONS.join());
    expect(broker.broker.groups.group(GROUP)?.state).toBe('Stable');

    // A consumer-protocol member joins: the group is upgraded and the partitions are shared.
    const modern = new PltConsumer({
      clientId: 'mixed-plt',
      bootstrapBrokers: [broker.bootstrap],
      groupId: GROUP,
      groupProtocol: 'consumer',
      deserializers: stringDeserializers,
      retries: 5,
      retryDelay: 50,
    });
    const stream = await modern.consume({
      topics: [TOPIC],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: 100,
      rebalanceTimeout: 10_000,
      maxWaitTime: 200,
    });
    stream.on('data', (m) => seen.add(`${m.partition}:${m.offset}`));
    const modernAssigned = () =>
      (modern.assignments ?? [])
        .filter((a) => a.topic === TOPIC)
        .flatMap((a) => a.partitions)
        .sort((a, b) => a - b);
    await until(
      'three partitions each, together all six',
      () =>
        classicAssigned.length === 3 &&
        modernAssigned().length === 3 &&
        [...classicAssigned, ...modernAssigned()].sort((a, b) => a - b).join() === PARTITIONS.join(),
    );
    const described = broker.broker.groups.consumer.describe(GROUP);
    expect(described.errorCode).toBe(0);
    expect(described.members.map((m) => m.memberType).sort()).toEqual([0, 1]);
    await until(
      'the described group stable',
      () => broker.broker.groups.consumer.describe(GROUP).groupState === 'Stable',
    );
    await produce(10);
    await until('all 180 records', () => seen.size === 180);

    // The consumer-protocol member leaves: the group is a classic group again, all six to kafkajs.
    await modern.close(true);
    await until(
      'the classic member owning all six again',
      () => classicAssigned.join() === PARTITIONS.join(),
    );
    expect(broker.broker.groups.group(GROUP)?.state).toBe('Stable');
    await produce(5);
    await until('all 210 records', () => seen.size === 210);

    await classic.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }, 60_000);
});
