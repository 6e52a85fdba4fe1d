import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';

// librdkafka 2.10+ with group.protocol=consumer, through @confluentinc/kafka-javascript. Debian's
// librdkafka is older than KIP-848, and the npm package builds its librdkafka from source, so this
// suite runs only where such a build exists: set TRIBUTARY_CONFLUENT_JS to its directory, e.g. one
// installed with `CKJS_LINKING=dynamic npm_config_nodedir=/usr npm install @confluentinc/kafka-javascript`.
const modulePath = process.env.TRIBUTARY_CONFLUENT_JS;

const TOPIC = 'rdk-848';
const GROUP = 'rdk-848-group';

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(modulePath === undefined)('librdkafka with group.protocol=consumer', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({
      config: { groupConsumerMinHeartbeatIntervalMs: 200, groupConsumerHeartbeatIntervalMs: 500 },
    });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('shares 6 partitions between two members, hands them over on leave, and commits', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: an optional module loaded by path
    const lib: any = createRequire(import.meta.url)(modulePath!);
    const [major, minor] = String(lib.librdkafkaVersion).split('.').map(Number);
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(210);
    await broker.broker.topics.ensure(TOPIC, 6);
    const kafka = new lib.KafkaJS.Kafka({
      kafkaJS: { brokers: [broker.bootstrap], logLevel: lib.KafkaJS.logLevel.ERROR },
    });
    const producer = kafka.producer();
    await producer.connect();
    const produce = async (count: number) => {
      for (let partition = 0; partition < 6; partition++)
        await producer.send({
          topic: TOPIC,
          messages: Array.from({ length: count }, (_, i) => ({ partition, value: `v${i}` })),
        });
    };
    await produce(10);
    const seen = new Set<string>();
    const consumers = [];
    for (let i = 0; i < 2; i++) {
      const c = kafka.consumer({
        kafkaJS: { groupId: GROUP, fromBeginning: true },
        'group.protocol': 'consumer',
      });
      await c.connect();
      await c.subscribe({ topics: [TOPIC] });
      await c.run({
        eachMessage: async ({ partition, message }: { partition: number; message: { offset: string } }) => {
          seen.add(`${partition}:${message.offset}`);
        },
      });
      consumers.push(c);
    }
    const described = () => broker.broker.groups.consumer.describe(GROUP);
    await until('60 records', () => seen.size === 60);
    await until(
      'two members with three partitions each',
      () =>
        described().groupState === 'Stable' &&
        described().members.length === 2 &&
        described().members.every((m) => m.assignment.topicPartitions[0]?.partitions.length === 3),
    );
    const all = described().members.flatMap((m) => m.assignment.topicPartitions.flatMap((t) => t.partitions));
    expect(all.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(described().members.every((m) => m.memberEpoch === described().groupEpoch)).toBe(true);

    await consumers[1].disconnect();
    await until(
      'one member with all six',
      () =>
        described().members.length === 1 &&
        described().members[0]!.assignment.topicPartitions[0]?.partitions.length === 6,
    );
    await produce(1);
    await until('66 records', () => seen.size === 66);
    await consumers[0].disconnect();
    expect(described().groupState).toBe('Empty');
    const committed = broker.broker.groups.fetchOffsets(GROUP, [
      { name: TOPIC, partitions: [0, 1, 2, 3, 4, 5] },
    ]);
    expect(committed.topics[0]!.partitions.map((p) => p.offset)).toEqual([11, 11, 11, 11, 11, 11]);
    await producer.disconnect();
  }, 60_000);
});
