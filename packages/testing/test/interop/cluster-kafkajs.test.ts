// Three brokers in this process sharing one memory storage, driven by kafkajs: partition leaders
// and coordinators spread over the brokers, a request to a broker that does not lead the
// partition is refused so the client re-routes, and when a broker stops, the others take its
// share and the clients carry on from the committed offsets.
import {
  ApiKey,
  createMetadataRequest,
  createProduceRequest,
  ErrorCode,
  type MetadataResponse,
  type ProduceResponse,
} from '@tributary/codec';
import { makeBatch } from '@tributary/core/testing';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../../src/index.js';
import { WireClient } from '../wire.js';
import { until } from './until.js';

const TOPIC = 'cluster-orders';
const PARTITIONS = 12;
const GROUP = 'cluster-orders-readers';

let cluster: TestCluster;
let kafka: Kafka;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 3, heartbeatMs: 100, leaseMs: 600 });
  kafka = new Kafka({
    clientId: 'cluster-kafkajs',
    brokers: cluster.bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: false });
  await admin.disconnect();
  await cluster.settle();
});
afterAll(async () => {
  await cluster?.close();
});

async function metadata(client: WireClient): Promise<MetadataResponse> {
  return client.send<MetadataResponse>(
    ApiKey.Metadata,
    12,
    createMetadataRequest({
      topics: [{ name: TOPIC, topicId: Buffer.alloc(16) }],
      allowAutoTopicCreation: false,
    }),
  );
}

async function consumeAll(consumer: Consumer, into: string[], expected: number): Promise<void> {
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      into.push(message.value!.toString());
    },
  });
  await until(`${expected} messages`, () => into.length >= expected);
}

describe('three brokers on one memory storage', () => {
  it('lists every broker and spreads the leaders, each broker answering the same', async () => {
    const answers = [];
    for (const b of cluster.brokers) {
      const client = await WireClient.connect(b.port);
      answers.push(await metadata(client));
      client.close();
    }
    const [first] = answers;
    expect(first!.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
    const leaders = first!.topics[0]!.partitions.map((p) => p.leaderId);
    expect(leaders).toHaveLength(PARTITIONS);
    expect(new Set(leaders).size).toBeGreaterThanOrEqual(2);
    for (const a of answers) expect(a.topics[0]!.partitions.map((p) => p.leaderId)).toEqual(leaders);
  });

  it('refuses a produce sent to a broker that does not lead the partition, storing nothing', async () => {
    const client = await WireClient.connect(cluster.brokers[0]!.port);
    const md = await metadata(client);
    const notLed = md.topics[0]!.partitions.find((p) => p.leaderId !== 1)!;
    const res = await client.send<ProduceResponse>(
      ApiKey.Produce,
      9,
      createProduceRequest({
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          {
            name: TOPIC,
            topicId: Buffer.alloc(16),
            partitionData: [{ index: notLed.partitionIndex, records: makeBatch(1) }],
          },
        ],
      }),
    );
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    client.close();
  });

  it('produces and consumes through every leader, and carries on from the committed offsets when a broker stops', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const first = Array.from({ length: 60 }, (_, i) => `before-${i}`);
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: first.map((v, i) => ({ key: `k${i}`, value: v })),
    });

    const seen: string[] = [];
    const consumer = kafka.consumer({
      groupId: GROUP,
      heartbeatInterval: 100,
      sessionTimeout: 6000,
      maxWaitTimeInMs: 200,
    });
    await consumer.connect();
    await consumeAll(consumer, seen, first.length);
    expect([...seen].sort()).toEqual([...first].sort());
    await consumer.disconnect();

    // The group's coordinator stops: its partitions and coordinator partitions pass to the others.
    const any = cluster.brokers[0]!.broker;
    const coordinator = any.cluster!.coordinatorOf('group', any.groups.partitionFor(GROUP))!.nodeId;
    const stopped = cluster.brokers.find((b) => b.broker.config.nodeId === coordinator)!;
    expect(any.cluster!.brokers().length).toBe(3);
    await stopped.close();
    const live = cluster.brokers.filter((b) => b !== stopped);
    for (let i = 0; i < 2; i++) for (const b of live) await b.broker.cluster!.refresh();
    const client = await WireClient.connect(live[0]!.port);
    const md = await metadata(client);
    client.close();
    const remaining = live.map((b) => b.broker.config.nodeId).sort();
    expect(md.brokers.map((b) => b.nodeId).sort()).toEqual(remaining);
    expect(md.topics[0]!.partitions.every((p) => remaining.includes(p.leaderId))).toBe(true);
    expect(remaining).toContain(
      live[0]!.broker.cluster!.coordinatorOf('group', any.groups.partitionFor(GROUP))!.nodeId,
    );

    const second = Array.from({ length: 30 }, (_, i) => `after-${i}`);
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: second.map((v, i) => ({ key: `k${i}`, value: v })),
    });
    await producer.disconnect();

    // The group's committed offsets survived the move: a new consumer reads only the new messages.
    const resumed: string[] = [];
    const again = kafka.consumer({
      groupId: GROUP,
      heartbeatInterval: 100,
      sessionTimeout: 6000,
      maxWaitTimeInMs: 200,
    });
    await again.connect();
    await consumeAll(again, resumed, second.length);
    await new Promise((r) => setTimeout(r, 500));
    await again.disconnect();
    expect([...resumed].sort()).toEqual([...second].sort());
  });
});
