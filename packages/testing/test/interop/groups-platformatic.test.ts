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

const options = (b: TestBroker) => clientOptions(b, 'groups-plt');

const startMember = (b: TestBroker, consumed: { partition: number; offset: number }[]): Promise<Member> =>
  startPlatformaticMember(b, consumed, {
    clientId: 'groups-plt',
    groupId: GROUP,
    topic: TOPIC,
    consume: { sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 200 },
  });

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
