import { createRequire } from 'node:module';
import type * as ConfluentJs from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';
import { until as waitUntil } from './until.js';

// librdkafka with group.protocol=consumer (KIP-848), through @confluentinc/kafka-javascript. Its
// native module is built from the librdkafka source the npm package carries, by
// scripts/build-confluent-js.mjs, which the testing package's global setup runs (cached).

const TOPIC = 'rdk-848';
const GROUP = 'rdk-848-group';
const PARTITIONS = [0, 1, 2, 3, 4, 5];

function loadConfluentJs(): typeof ConfluentJs {
  try {
    return createRequire(import.meta.url)('@confluentinc/kafka-javascript');
  } catch (e) {
    throw new Error(
      'the native module of @confluentinc/kafka-javascript is not built: run ' +
        '`pnpm --filter @tributary/testing run build:confluent-js` (it needs g++, make, python3, ' +
        `pkg-config, zlib1g-dev and libssl-dev). Loading it failed with: ${(e as Error).message.split('\n')[0]}`,
    );
  }
}

/** Polls a condition every 50 ms, failing after `timeoutMs` with what it waited for. */
/** librdkafka's group protocol moves on its heartbeat interval: a longer bound than the default. */
const until = (what: string, check: () => boolean) => waitUntil(what, check, 30_000);

describe('librdkafka with group.protocol=consumer', () => {
  let broker: TestBroker;
  const running: ConfluentJs.KafkaJS.Consumer[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({
      config: { groupConsumerMinHeartbeatIntervalMs: 200, groupConsumerHeartbeatIntervalMs: 500 },
    });
  });
  afterAll(async () => {
    for (const c of running.splice(0)) await c.disconnect().catch(() => {});
    await broker?.close();
  });

  // Loaded in each test, so that a missing build fails them (with the fix) rather than skipping them.
  it('is a build of librdkafka with KIP-848 (2.10 or later)', () => {
    const lib = loadConfluentJs();
    const [major, minor] = String(lib.librdkafkaVersion).split('.').map(Number);
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(210);
  });

  it('shares 6 partitions disjointly and completely, hands them over when a member leaves, and resumes at the committed offsets', async () => {
    const lib = loadConfluentJs();
    const kafka = new lib.KafkaJS.Kafka({
      kafkaJS: { brokers: [broker.bootstrap], logLevel: lib.KafkaJS.logLevel.ERROR },
    });
    await broker.broker.topics.ensure(TOPIC, PARTITIONS.length);
    const producer = kafka.producer();
    await producer.connect();
    /** What was produced: `partition:offset`, from the offsets the broker acknowledged. */
    const produced = new Set<string>();
    const produce = async (perPartition: number) => {
      for (const partition of PARTITIONS) {
        const [meta] = await producer.send({
          topic: TOPIC,
          messages: Array.from({ length: perPartition }, (_, i) => ({ partition, value: `v${i}` })),
        });
        const base = Number(meta!.baseOffset);
        for (let i = 0; i < perPartition; i++) produced.add(`${partition}:${base + i}`);
      }
    };

    /** What each consumer received, and every delivery in order (duplicates show up here). */
    const seen = new Set<string>();
    const deliveries: string[] = [];
    const startConsumer = async () => {
      const c = kafka.consumer({
        kafkaJS: { groupId: GROUP, fromBeginning: true, autoCommit: true, autoCommitInterval: 200 },
        'group.protocol': 'consumer',
      });
      await c.connect();
      await c.subscribe({ topics: [TOPIC] });
      await c.run({
        eachMessage: async ({ partition, message }) => {
          const key = `${partition}:${message.offset}`;
          seen.add(key);
          deliveries.push(key);
        },
      });
      running.push(c);
      return c;
    };
    const stop = async (c: ConfluentJs.KafkaJS.Consumer) => {
      running.splice(running.indexOf(c), 1);
      await c.disconnect();
    };
    const described = () => broker.broker.groups.consumer.describe(GROUP);
    const owned = () =>
      described().members.map((m) => m.assignment.topicPartitions.flatMap((t) => t.partitions));
    /** Stable, with `members` members whose partitions are disjoint and cover all six. */
    const shared = (members: number) => () => {
      const d = described();
      if (d.groupState !== 'Stable' || d.members.length !== members) return false;
      const all = owned().flat();
      return all.length === PARTITIONS.length && new Set(all).size === PARTITIONS.length;
    };

    await produce(10);
    const consumers = [await startConsumer(), await startConsumer(), await startConsumer()];
    await until('60 records consumed', () => seen.size === 60);
    await until('three members sharing the six partitions', shared(3));
    expect(owned().map((ps) => ps.length)).toEqual([2, 2, 2]);
    expect(described().members.every((m) => m.memberEpoch === described().groupEpoch)).toBe(true);

    // One leaves: the other two take its partitions, and consume what is produced next.
    await stop(consumers.pop()!);
    await until('two members sharing the six partitions', shared(2));
    expect(owned().map((ps) => ps.length)).toEqual([3, 3]);
    await produce(5);
    await until('90 records consumed', () => seen.size === 90);
    expect(seen).toEqual(produced);

    // Both leave, committing as they go: the group is empty and holds each partition's end.
    for (const c of consumers.splice(0)) await stop(c);
    await until('an empty group', () => described().groupState === 'Empty');
    const committed = () =>
      broker.broker.groups
        .fetchOffsets(GROUP, [{ name: TOPIC, partitions: PARTITIONS }])
        .topics[0]!.partitions.map((p) => p.offset);
    expect(committed()).toEqual([15, 15, 15, 15, 15, 15]);

    // New consumers of the group resume at the committed offsets, not from the beginning.
    await produce(3);
    const before = deliveries.length;
    const resumed = [await startConsumer(), await startConsumer()];
    await until('108 records consumed', () => seen.size === 108);
    await until('two members sharing the six partitions again', shared(2));
    const afterRestart = deliveries.slice(before);
    expect(afterRestart.map((k) => Number(k.split(':')[1])).every((offset) => offset >= 15)).toBe(true);
    expect(new Set(afterRestart).size).toBe(18);
    expect(seen).toEqual(produced);
    for (const c of resumed) await stop(c);
    await until('an empty group again', () => described().groupState === 'Empty');
    expect(committed()).toEqual([18, 18, 18, 18, 18, 18]);
    await producer.disconnect();
  }, 120_000);
});
