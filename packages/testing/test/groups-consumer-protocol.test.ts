import {
  API_TABLE,
  ApiKey,
  decodeConsumerProtocolAssignment,
  ErrorCode,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '@tributary/codec';
import { ManualClock } from '@tributary/core';
import { MemoryStorage } from '@tributary/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { WireClient } from './wire.js';

// The consumer group protocol (KIP-848) over the wire, driven by a small consumer built on the
// codec: it heartbeats with ConsumerGroupHeartbeat v1, takes the partitions it is assigned,
// drops those it no longer is, and acknowledges by reporting what it owns.

let broker: TestBroker;
let admin: WireClient;

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
function send<T = any>(c: WireClient, apiKey: number, version: number, body: object): Promise<T> {
  return c.send<T>(apiKey, version, { ...(API_TABLE[apiKey]!.request.create() as object), ...body });
}

interface ConsumerOptions {
  topics?: string[];
  regex?: string;
  assignor?: string;
  instanceId?: string;
}

/** A consumer of the consumer group protocol over its own connection. */
class ProtocolConsumer {
  epoch = 0;
  /** topic id (base64url) -> owned partitions. */
  owned = new Map<string, Set<number>>();
  heartbeatIntervalMs = 0;
  private constructor(
    readonly client: WireClient,
    readonly groupId: string,
    readonly memberId: string,
    readonly opts: ConsumerOptions,
  ) {}

  static async connect(b: TestBroker, groupId: string, memberId: string, opts: ConsumerOptions = {}) {
    return new ProtocolConsumer(await WireClient.connect(b.port), groupId, memberId, opts);
  }

  /** One heartbeat; a full request when joining. Applies the assignment it gets back. */
  // biome-ignore lint/suspicious/noExplicitAny: the decoded response
  async heartbeat(over: Record<string, unknown> = {}): Promise<any> {
    const joining = this.epoch === 0;
    const r = await send(this.client, ApiKey.ConsumerGroupHeartbeat, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: this.opts.instanceId ?? null,
      rackId: null,
      rebalanceTimeoutMs: joining ? 30_000 : -1,
      subscribedTopicNames: joining ? (this.opts.topics ?? null) : null,
      subscribedTopicRegex: joining ? (this.opts.regex ?? null) : null,
      serverAssignor: joining ? (this.opts.assignor ?? null) : null,
      topicPartitions: [...this.owned].map(([id, ps]) => ({
        topicId: Buffer.from(id, 'base64url'),
        partitions: [...ps].sort((a, b) => a - b),
      })),
      ...over,
    });
    if (r.errorCode !== ErrorCode.NONE) return r;
    this.epoch = r.memberEpoch;
    this.heartbeatIntervalMs = r.heartbeatIntervalMs;
    if (r.assignment !== null)
      this.owned = new Map(
        r.assignment.topicPartitions.map((tp: { topicId: Buffer; partitions: number[] }) => [
          tp.topicId.toString('base64url'),
          new Set(tp.partitions),
        ]),
      );
    return r;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the decoded response
  async leave(epoch = -1): Promise<any> {
    return send(this.client, ApiKey.ConsumerGroupHeartbeat, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: epoch,
      instanceId: this.opts.instanceId ?? null,
      rebalanceTimeoutMs: -1,
      topicPartitions: null,
    });
  }

  partitions(topicId: Buffer): number[] {
    return [...(this.owned.get(topicId.toString('base64url')) ?? [])].sort((a, b) => a - b);
  }

  close(): void {
    this.client.close();
  }
}

/** Whether any partition is owned by two consumers at once. */
function expectExclusive(consumers: ProtocolConsumer[]): void {
  const seen = new Map<string, string>();
  for (const c of consumers)
    for (const [t, ps] of c.owned)
      for (const p of ps) {
        const k = `${t}:${p}`;
        expect(seen.get(k), `${k} owned by ${seen.get(k)} and ${c.memberId}`).toBeUndefined();
        seen.set(k, c.memberId);
      }
}

/** The heartbeat loop of every consumer, until a full round changes nothing (bounded). */
async function settle(consumers: ProtocolConsumer[]): Promise<void> {
  const state = () =>
    JSON.stringify(consumers.map((c) => [c.epoch, [...c.owned].map(([t, s]) => [t, [...s]])]));
  for (let round = 0; round < 10; round++) {
    const before = state();
    for (const c of consumers) {
      expect((await c.heartbeat()).errorCode).toBe(0);
      expectExclusive(consumers);
    }
    if (state() === before) return;
  }
  throw new Error('the group did not settle within 10 rounds');
}

function covered(consumers: ProtocolConsumer[], topicId: Buffer): number[] {
  return consumers.flatMap((c) => c.partitions(topicId)).sort((a, b) => a - b);
}

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await WireClient.connect(broker.port);
});
afterAll(async () => {
  admin.close();
  await broker.close();
});

describe('ConsumerGroupHeartbeat', () => {
  it('is advertised by default and not when the consumer protocol is switched off', async () => {
    const on = await send(admin, ApiKey.ApiVersions, 3, {});
    expect(on.apiKeys).toContainEqual(
      expect.objectContaining({ apiKey: ApiKey.ConsumerGroupHeartbeat, minVersion: 0, maxVersion: 1 }),
    );
    expect(on.apiKeys).toContainEqual(
      expect.objectContaining({ apiKey: ApiKey.ConsumerGroupDescribe, minVersion: 0, maxVersion: 1 }),
    );
    const classicOnly = await startTestBroker({
      config: { groupCoordinatorRebalanceProtocols: ['classic'] },
    });
    const c = await WireClient.connect(classicOnly.port);
    const off = await send(c, ApiKey.ApiVersions, 3, {});
    expect(off.apiKeys.map((k: { apiKey: number }) => k.apiKey)).not.toContain(ApiKey.ConsumerGroupHeartbeat);
    c.close();
    await classicOnly.close();
  });

  it('gives three members of a group disjoint, complete assignments of a 6-partition topic', async () => {
    const id = (await broker.broker.topics.ensure('cg-three', 6)).topicId;
    const cs = await Promise.all(
      ['m1', 'm2', 'm3'].map((m) =>
        ProtocolConsumer.connect(broker, 'cg-three', m, { topics: ['cg-three'] }),
      ),
    );
    for (const c of cs) await c.heartbeat();
    await settle(cs);
    expect(covered(cs, id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(cs.map((c) => c.partitions(id).length)).toEqual([2, 2, 2]);
    expect(cs[0]!.heartbeatIntervalMs).toBe(5000);
    // Everyone at the group epoch.
    const d = await send(admin, ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg-three'] });
    expect(d.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable' });
    for (const c of cs) expect(c.epoch).toBe(d.groups[0].groupEpoch);
    for (const c of cs) c.close();
  });

  it('revokes before it assigns: a partition never has two owners', async () => {
    const id = (await broker.broker.topics.ensure('cg-revoke', 4)).topicId;
    const a = await ProtocolConsumer.connect(broker, 'cg-revoke', 'a', { topics: ['cg-revoke'] });
    await a.heartbeat();
    expect(a.partitions(id)).toEqual([0, 1, 2, 3]);
    const b = await ProtocolConsumer.connect(broker, 'cg-revoke', 'b', { topics: ['cg-revoke'] });
    const joined = await b.heartbeat();
    // At the new epoch, but its partitions are still a's.
    expect(joined.memberEpoch).toBeGreaterThan(a.epoch);
    expect(b.partitions(id)).toEqual([]);
    const revoke = await a.heartbeat();
    expect(revoke.memberEpoch).toBe(1);
    expect(a.partitions(id)).toHaveLength(2);
    await b.heartbeat();
    expect(b.partitions(id)).toEqual([]);
    // a's next heartbeat no longer reports the revoked ones: now they move.
    await a.heartbeat();
    await b.heartbeat();
    expectExclusive([a, b]);
    expect(b.partitions(id)).toHaveLength(2);
    expect(covered([a, b], id)).toEqual([0, 1, 2, 3]);
    a.close();
    b.close();
  });

  it('hands the partitions of a member that leaves (epoch -1) to the others', async () => {
    const id = (await broker.broker.topics.ensure('cg-leave', 6)).topicId;
    const cs = await Promise.all(
      ['x', 'y', 'z'].map((m) => ProtocolConsumer.connect(broker, 'cg-leave', m, { topics: ['cg-leave'] })),
    );
    for (const c of cs) await c.heartbeat();
    await settle(cs);
    const left = await cs[2]!.leave();
    expect(left).toMatchObject({ errorCode: 0, memberId: 'z', memberEpoch: -1 });
    await settle(cs.slice(0, 2));
    expect(covered(cs.slice(0, 2), id)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const c of cs) c.close();
  });

  it('hands the partitions of a member whose session expires to the others', async () => {
    const clock = new ManualClock();
    const timed = await startTestBroker({ clock });
    const id = (await timed.broker.topics.ensure('cg-expire', 6)).topicId;
    const cs = await Promise.all(
      ['s1', 's2', 's3'].map((m) =>
        ProtocolConsumer.connect(timed, 'cg-expire', m, { topics: ['cg-expire'] }),
      ),
    );
    for (const c of cs) await c.heartbeat();
    await settle(cs);
    // s3 stops heartbeating; the others keep to the 5 s interval past its 45 s session.
    for (let i = 0; i < 10; i++) {
      clock.advance(5000);
      for (const c of cs.slice(0, 2)) expect((await c.heartbeat()).errorCode).toBe(0);
    }
    await settle(cs.slice(0, 2));
    expect(covered(cs.slice(0, 2), id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await cs[2]!.heartbeat()).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    for (const c of cs) c.close();
    await timed.close();
  });

  it('subscribes by regular expression and picks up a topic created later', async () => {
    const first = (await broker.broker.topics.ensure('rx.alpha', 2)).topicId;
    const c = await ProtocolConsumer.connect(broker, 'cg-regex', 'r', { regex: 'rx\\..*' });
    await c.heartbeat();
    expect(c.partitions(first)).toEqual([0, 1]);
    const created = await send(admin, ApiKey.CreateTopics, 7, {
      topics: [{ name: 'rx.beta', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
    });
    expect(created.topics[0].errorCode).toBe(0);
    await c.heartbeat();
    expect(c.partitions(created.topics[0].topicId)).toEqual([0, 1, 2]);
    const d = await send(admin, ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg-regex'] });
    expect(d.groups[0].members[0]).toMatchObject({
      subscribedTopicRegex: 'rx\\..*',
      subscribedTopicNames: [],
    });
    c.close();
  });

  it('splits with the uniform assignor by default and with range when asked', async () => {
    // The members join before the topics exist, so each group is assigned in one go.
    const uni = await Promise.all(
      ['u1', 'u2', 'u3'].map((m) =>
        ProtocolConsumer.connect(broker, 'cg-uniform', m, { topics: ['split-u'] }),
      ),
    );
    const rng = await Promise.all(
      ['r1', 'r2', 'r3'].map((m) =>
        ProtocolConsumer.connect(broker, 'cg-range', m, { topics: ['split-r'], assignor: 'range' }),
      ),
    );
    for (const c of [...uni, ...rng]) await c.heartbeat();
    const u = (await broker.broker.topics.ensure('split-u', 6)).topicId;
    const r = (await broker.broker.topics.ensure('split-r', 6)).topicId;
    await settle(uni);
    await settle(rng);
    expect(uni.map((c) => c.partitions(u))).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(rng.map((c) => c.partitions(r))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    const d = await send(admin, ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg-uniform', 'cg-range'] });
    expect(d.groups.map((g: { assignorName: string }) => g.assignorName)).toEqual(['uniform', 'range']);
    for (const c of [...uni, ...rng]) c.close();
  });

  it('lets a static member come back under a new member id with its assignment', async () => {
    const id = (await broker.broker.topics.ensure('cg-static', 4)).topicId;
    const a = await ProtocolConsumer.connect(broker, 'cg-static', 'a-1', {
      topics: ['cg-static'],
      instanceId: 'host-a',
    });
    const b = await ProtocolConsumer.connect(broker, 'cg-static', 'b', { topics: ['cg-static'] });
    await a.heartbeat();
    await b.heartbeat();
    await settle([a, b]);
    const mine = a.partitions(id);
    expect(mine).toHaveLength(2);
    expect(await a.leave(-2)).toMatchObject({ errorCode: 0, memberEpoch: -2 });
    a.close();
    const restarted = await ProtocolConsumer.connect(broker, 'cg-static', 'a-2', {
      topics: ['cg-static'],
      instanceId: 'host-a',
    });
    const r = await restarted.heartbeat();
    expect(r.errorCode).toBe(0);
    expect(restarted.partitions(id)).toEqual(mine);
    await settle([restarted, b]);
    expect(restarted.partitions(id)).toEqual(mine);
    restarted.close();
    b.close();
  });

  it('answers with the errors Kafka uses', async () => {
    const c = await ProtocolConsumer.connect(broker, 'cg-errors', 'e', { topics: ['nothing'] });
    const missing = await c.heartbeat({ memberEpoch: 3 });
    expect(missing).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
    expect(await c.heartbeat({ serverAssignor: 'sticky' })).toMatchObject({
      errorCode: ErrorCode.UNSUPPORTED_ASSIGNOR,
    });
    expect(await c.heartbeat({ memberId: '' })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    await c.heartbeat();
    expect(await c.heartbeat({ memberEpoch: c.epoch + 7 })).toMatchObject({
      errorCode: ErrorCode.FENCED_MEMBER_EPOCH,
    });
    c.close();
  });
});

describe('ConsumerGroupDescribe', () => {
  it('shows members, epochs and current and target assignments', async () => {
    const id = (await broker.broker.topics.ensure('cg-describe', 2)).topicId;
    const c = await ProtocolConsumer.connect(broker, 'cg-describe', 'd1', { topics: ['cg-describe'] });
    await c.heartbeat();
    const d = await send(admin, ApiKey.ConsumerGroupDescribe, 1, {
      groupIds: ['cg-describe', 'cg-unknown'],
      includeAuthorizedOperations: false,
    });
    expect(d.groups[0]).toMatchObject({
      errorCode: 0,
      groupId: 'cg-describe',
      groupState: 'Stable',
      groupEpoch: 1,
      assignmentEpoch: 1,
      assignorName: 'uniform',
      members: [
        {
          memberId: 'd1',
          memberEpoch: 1,
          clientId: 'wire-test',
          clientHost: '/127.0.0.1',
          subscribedTopicNames: ['cg-describe'],
          assignment: { topicPartitions: [{ topicId: id, topicName: 'cg-describe', partitions: [0, 1] }] },
          targetAssignment: {
            topicPartitions: [{ topicId: id, topicName: 'cg-describe', partitions: [0, 1] }],
          },
          memberType: 1,
        },
      ],
    });
    expect(d.groups[1]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, groupId: 'cg-unknown' });
    // A classic group is not described here.
    await send(admin, ApiKey.OffsetCommit, 9, {
      groupId: 'cg-classic',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [
        {
          name: 'cg-describe',
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '' },
          ],
        },
      ],
    });
    const classic = await send(admin, ApiKey.ConsumerGroupDescribe, 0, { groupIds: ['cg-classic'] });
    expect(classic.groups[0]).toMatchObject({
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: 'Group cg-classic is not a consumer group',
    });
    const listed = await send(admin, ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(listed.groups).toContainEqual(
      expect.objectContaining({ groupId: 'cg-describe', groupType: 'consumer', groupState: 'Stable' }),
    );
    c.close();
  });
});

/** A classic member of the embedded consumer protocol over the wire: JoinGroup v9, SyncGroup v5, Heartbeat v4. */
class WireClassicMember {
  memberId = '';
  generation = -1;
  protocolName: string | null = null;
  owned: { topic: string; partitions: number[] }[] = [];
  private constructor(
    readonly client: WireClient,
    readonly groupId: string,
    readonly topics: string[],
  ) {}

  static async connect(b: TestBroker, groupId: string, topics: string[]) {
    return new WireClassicMember(await WireClient.connect(b.port), groupId, topics);
  }

  private metadata(): Buffer {
    return Buffer.concat([
      Buffer.from([0, 1]),
      encodeConsumerProtocolSubscription(
        { topics: this.topics, userData: null, ownedPartitions: this.owned, generationId: -1, rackId: null },
        1,
      ),
    ]);
  }

  /** Joins (two steps when new) and syncs; as a classic leader it assigns itself every partition. */
  async joinAndSync(leaderPartitions: Record<string, number> = {}): Promise<number> {
    const join = () =>
      send(this.client, ApiKey.JoinGroup, 9, {
        groupId: this.groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [
          { name: 'cooperative-sticky', metadata: this.metadata() },
          { name: 'range', metadata: this.metadata() },
        ],
      });
    let j = await join();
    if (j.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = j.memberId;
      j = await join();
    }
    if (j.errorCode !== 0) return j.errorCode;
    this.memberId = j.memberId;
    this.generation = j.generationId;
    this.protocolName = j.protocolName;
    const mine = Object.entries(leaderPartitions).map(([topic, n]) => ({
      topic,
      partitions: Array.from({ length: n }, (_, i) => i),
    }));
    const assignment = Buffer.concat([
      Buffer.from([0, 0]),
      encodeConsumerProtocolAssignment({ assignedPartitions: mine, userData: null }, 0),
    ]);
    const sync = await send(this.client, ApiKey.SyncGroup, 5, {
      groupId: this.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: this.protocolName,
      assignments: j.leader === this.memberId ? [{ memberId: this.memberId, assignment }] : [],
    });
    if (sync.errorCode !== 0) return sync.errorCode;
    const a = decodeConsumerProtocolAssignment(sync.assignment, sync.assignment.readInt16BE(0), 2);
    this.owned = a.assignedPartitions.map((p) => ({ topic: p.topic, partitions: p.partitions }));
    return 0;
  }

  async heartbeat(): Promise<number> {
    const r = await send(this.client, ApiKey.Heartbeat, 4, {
      groupId: this.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: null,
    });
    return r.errorCode;
  }

  partitions(topic: string): number[] {
    return (this.owned.find((o) => o.topic === topic)?.partitions ?? []).sort((a, b) => a - b);
  }

  close(): void {
    this.client.close();
  }
}

describe('classic and consumer-protocol members in one group', () => {
  it('upgrades a classic group for a consumer-protocol member and downgrades it when that member leaves', async () => {
    const id = (await broker.broker.topics.ensure('cg-mixed', 4)).topicId;
    const classic = await WireClassicMember.connect(broker, 'cg-mixed', ['cg-mixed']);
    expect(await classic.joinAndSync({ 'cg-mixed': 4 })).toBe(0);
    expect(classic.partitions('cg-mixed')).toEqual([0, 1, 2, 3]);
    const generation = classic.generation;

    // A consumer-protocol member joins: the group becomes a consumer group.
    const modern = await ProtocolConsumer.connect(broker, 'cg-mixed', 'modern-1', { topics: ['cg-mixed'] });
    expect((await modern.heartbeat()).errorCode).toBe(0);
    expect(modern.partitions(id)).toEqual([]);
    const d = await send(admin, ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg-mixed'] });
    expect(
      d.groups[0].members.find((m: { memberId: string }) => m.memberId === classic.memberId),
    ).toMatchObject({
      memberEpoch: generation,
      memberType: 0,
    });

    // The classic member is told to rejoin, keeps two partitions, revokes, rejoins at the new epoch.
    expect(await classic.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await classic.joinAndSync()).toBe(0);
    expect(classic.partitions('cg-mixed')).toHaveLength(2);
    await modern.heartbeat();
    expect(modern.partitions(id)).toEqual([]); // not released yet
    expect(await classic.joinAndSync()).toBe(0);
    expect(await classic.heartbeat()).toBe(0);
    await modern.heartbeat();
    expect(modern.partitions(id)).toHaveLength(2);
    const all = [...classic.partitions('cg-mixed'), ...modern.partitions(id)].sort();
    expect(all).toEqual([0, 1, 2, 3]);

    // The last consumer-protocol member leaves: a classic group again, which rebalances.
    expect(await modern.leave()).toMatchObject({ errorCode: 0 });
    const listed = await send(admin, ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] });
    expect(listed.groups).toContainEqual(
      expect.objectContaining({ groupId: 'cg-mixed', groupType: 'classic' }),
    );
    expect(await classic.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await classic.joinAndSync({ 'cg-mixed': 4 })).toBe(0);
    expect(classic.partitions('cg-mixed')).toEqual([0, 1, 2, 3]);
    classic.close();
    modern.close();
  });

  it('lets a classic member join a consumer-protocol group, assigned by the server', async () => {
    const id = (await broker.broker.topics.ensure('cg-join-classic', 2)).topicId;
    const modern = await ProtocolConsumer.connect(broker, 'cg-join-classic', 'n1', {
      topics: ['cg-join-classic'],
    });
    await modern.heartbeat();
    const classic = await WireClassicMember.connect(broker, 'cg-join-classic', ['cg-join-classic']);
    expect(await classic.joinAndSync()).toBe(0);
    expect(classic.protocolName).toBe('cooperative-sticky');
    await modern.heartbeat();
    await modern.heartbeat();
    expect(await classic.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await classic.joinAndSync()).toBe(0);
    expect([...classic.partitions('cg-join-classic'), ...modern.partitions(id)].sort()).toEqual([0, 1]);
    expect(classic.partitions('cg-join-classic')).toHaveLength(1);
    classic.close();
    modern.close();
  });

  it('refuses a consumer-protocol member into a live classic group when upgrades are disabled', async () => {
    const strict = await startTestBroker({ config: { groupConsumerMigrationPolicy: 'disabled' } });
    await strict.broker.topics.ensure('cg-strict', 1);
    const classic = await WireClassicMember.connect(strict, 'cg-strict', ['cg-strict']);
    expect(await classic.joinAndSync({ 'cg-strict': 1 })).toBe(0);
    const modern = await ProtocolConsumer.connect(strict, 'cg-strict', 'n2', { topics: ['cg-strict'] });
    expect(await modern.heartbeat()).toMatchObject({
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: 'Group cg-strict is not a consumer group',
    });
    classic.close();
    modern.close();
    await strict.close();
  });
});

describe('offset commits and fetches check the member epoch', () => {
  const commitBody = (groupId: string, topic: string, memberId: string, epoch: number) => ({
    groupId,
    generationIdOrMemberEpoch: epoch,
    memberId,
    topics: [
      {
        name: topic,
        partitions: [
          { partitionIndex: 0, committedOffset: 9n, committedLeaderEpoch: -1, committedMetadata: '' },
        ],
      },
    ],
  });
  const commitError = async (c: WireClient, version: number, body: object): Promise<number> =>
    (await send(c, ApiKey.OffsetCommit, version, body)).topics[0].partitions[0].errorCode;
  // biome-ignore lint/suspicious/noExplicitAny: the decoded group
  const fetchGroup = async (c: WireClient, version: number, group: object): Promise<any> =>
    (await send(c, ApiKey.OffsetFetch, version, { groups: [group] })).groups[0];

  it('answers OffsetCommit with UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH and UNSUPPORTED_VERSION as Kafka does', async () => {
    await broker.broker.topics.ensure('cg-commit', 1);
    const m = await ProtocolConsumer.connect(broker, 'cg-commit', 'oc1', { topics: ['cg-commit'] });
    await m.heartbeat();
    const body = (memberId: string, epoch: number) => commitBody('cg-commit', 'cg-commit', memberId, epoch);
    expect(await commitError(m.client, 9, body('oc1', m.epoch))).toBe(ErrorCode.NONE);
    expect(await commitError(m.client, 9, body('oc1', m.epoch + 1))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(await commitError(m.client, 9, body('oc1', m.epoch - 1))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(await commitError(m.client, 9, body('nobody', m.epoch))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // Epoch -1 (a tool, a consumer without a group) commits only into an empty group.
    expect(await commitError(admin, 9, body('', -1))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // A member of the consumer protocol needs v9+ to name its epoch.
    expect(await commitError(m.client, 8, body('oc1', m.epoch))).toBe(ErrorCode.UNSUPPORTED_VERSION);
    // No such group: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before.
    expect(await commitError(admin, 9, commitBody('cg-none', 'cg-commit', 'x', 1))).toBe(
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
    expect(await commitError(admin, 8, commitBody('cg-none', 'cg-commit', 'x', 1))).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );
    await m.leave();
    expect(await commitError(admin, 9, body('', -1))).toBe(ErrorCode.NONE);
    m.close();
  });

  it('answers OffsetFetch v9+ with UNKNOWN_MEMBER_ID and STALE_MEMBER_EPOCH for a consumer group, and serves no-member fetches', async () => {
    const id = (await broker.broker.topics.ensure('cg-fetch', 1)).topicId;
    const m = await ProtocolConsumer.connect(broker, 'cg-fetch', 'of1', { topics: ['cg-fetch'] });
    await m.heartbeat();
    expect(await commitError(m.client, 9, commitBody('cg-fetch', 'cg-fetch', 'of1', m.epoch))).toBe(0);
    const byName = [{ name: 'cg-fetch', partitionIndexes: [0] }];
    const ask = (memberId: string | null, memberEpoch: number) => ({
      groupId: 'cg-fetch',
      memberId,
      memberEpoch,
      topics: byName,
    });
    const ok = await fetchGroup(m.client, 9, ask('of1', m.epoch));
    expect(ok.errorCode).toBe(0);
    expect(ok.topics[0].partitions[0].committedOffset).toBe(9n);
    const byId = await fetchGroup(m.client, 10, {
      ...ask('of1', m.epoch),
      topics: [{ topicId: id, partitionIndexes: [0] }],
    });
    expect(byId.topics[0].partitions[0].committedOffset).toBe(9n);
    expect(await fetchGroup(m.client, 9, ask('of1', m.epoch + 1))).toMatchObject({
      groupId: 'cg-fetch',
      errorCode: ErrorCode.STALE_MEMBER_EPOCH,
      topics: [],
    });
    expect((await fetchGroup(m.client, 9, ask('of1', -1))).errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect((await fetchGroup(m.client, 9, ask('nobody', m.epoch))).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    expect((await fetchGroup(m.client, 9, ask(null, m.epoch))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // No member (id null, epoch -1): an admin; v8 and older carry no member at all.
    const anon = await fetchGroup(admin, 9, ask(null, -1));
    expect(anon.errorCode).toBe(0);
    expect(anon.topics[0].partitions[0].committedOffset).toBe(9n);
    const v8 = await fetchGroup(admin, 8, { groupId: 'cg-fetch', topics: byName });
    expect(v8.topics[0].partitions[0].committedOffset).toBe(9n);
    const v7 = await send(admin, ApiKey.OffsetFetch, 7, { groupId: 'cg-fetch', topics: byName });
    expect(v7.topics[0].partitions[0].committedOffset).toBe(9n);
    // Of several groups, only the one with the stale member fails.
    const both = await send(m.client, ApiKey.OffsetFetch, 9, {
      groups: [ask('of1', m.epoch + 5), { ...ask(null, -1), groupId: 'cg-fetch-other' }],
    });
    expect(both.groups.map((g: { errorCode: number }) => g.errorCode)).toEqual([
      ErrorCode.STALE_MEMBER_EPOCH,
      0,
    ]);
    m.close();
  });

  it('ignores member ids and epochs on fetches from classic groups; a classic member of a consumer group gets ILLEGAL_GENERATION', async () => {
    await broker.broker.topics.ensure('cg-fetch-classic', 2);
    // A classic group: member fields are not checked.
    const classic = await WireClassicMember.connect(broker, 'cg-fetch-classic', ['cg-fetch-classic']);
    expect(await classic.joinAndSync({ 'cg-fetch-classic': 2 })).toBe(0);
    const group = await fetchGroup(admin, 9, {
      groupId: 'cg-fetch-classic',
      memberId: 'nobody',
      memberEpoch: 42,
      topics: [{ name: 'cg-fetch-classic', partitionIndexes: [0] }],
    });
    expect(group).toMatchObject({ errorCode: 0, topics: [{ partitions: [{ committedOffset: -1n }] }] });
    classic.close();

    // A classic member inside a consumer group: its generation is checked as its member epoch.
    const modern = await ProtocolConsumer.connect(broker, 'cg-mixed-fetch', 'mf1', {
      topics: ['cg-fetch-classic'],
    });
    await modern.heartbeat();
    const member = await WireClassicMember.connect(broker, 'cg-mixed-fetch', ['cg-fetch-classic']);
    expect(await member.joinAndSync()).toBe(0);
    const commit = (epoch: number) =>
      commitError(member.client, 9, commitBody('cg-mixed-fetch', 'cg-fetch-classic', member.memberId, epoch));
    expect(await commit(member.generation)).toBe(0);
    expect(await commit(member.generation + 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    const fetch = (epoch: number) =>
      fetchGroup(member.client, 9, {
        groupId: 'cg-mixed-fetch',
        memberId: member.memberId,
        memberEpoch: epoch,
        topics: [{ name: 'cg-fetch-classic', partitionIndexes: [0] }],
      });
    expect((await fetch(member.generation)).topics[0].partitions[0].committedOffset).toBe(9n);
    expect((await fetch(member.generation + 1)).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    member.close();
    modern.close();
  });
});

describe('persistence', () => {
  it('keeps the group, its members, epochs, assignments and offsets across a restart over the same storage', async () => {
    class KeptStorage extends MemoryStorage {
      override async close(): Promise<void> {}
    }
    const storage = new KeptStorage();
    const first = await startTestBroker({ storage });
    const id = (await first.broker.topics.ensure('cg-restart', 6)).topicId;
    const cs = await Promise.all(
      ['p1', 'p2'].map((m) => ProtocolConsumer.connect(first, 'cg-restart', m, { topics: ['cg-restart'] })),
    );
    for (const c of cs) await c.heartbeat();
    await settle(cs);
    const commit = await send(cs[0]!.client, ApiKey.OffsetCommit, 9, {
      groupId: 'cg-restart',
      generationIdOrMemberEpoch: cs[0]!.epoch,
      memberId: 'p1',
      topics: [
        {
          name: 'cg-restart',
          partitions: [
            {
              partitionIndex: cs[0]!.partitions(id)[0],
              committedOffset: 5n,
              committedLeaderEpoch: -1,
              committedMetadata: '',
            },
          ],
        },
      ],
    });
    expect(commit.topics[0].partitions[0].errorCode).toBe(0);
    const c1 = await WireClient.connect(first.port);
    const before = await send(c1, ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg-restart'] });
    c1.close();
    for (const c of cs) c.close();
    // No close of the first broker: the restart reads what a kill -9 would have left.
    const second = await startTestBroker({ storage });
    const c2 = await WireClient.connect(second.port);
    const after = await send(c2, ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg-restart'] });
    expect(after.groups[0]).toEqual(before.groups[0]);
    const fetched = await send(c2, ApiKey.OffsetFetch, 9, {
      groups: [{ groupId: 'cg-restart', memberId: null, memberEpoch: -1, topics: null }],
    });
    expect(fetched.groups[0].topics[0].partitions[0].committedOffset).toBe(5n);
    // The members carry on at their epochs on the new broker.
    const again = await Promise.all(
      cs.map(async (c) => {
        const n = await ProtocolConsumer.connect(second, 'cg-restart', c.memberId, c.opts);
        n.epoch = c.epoch;
        n.owned = c.owned;
        return n;
      }),
    );
    await settle(again);
    expect(again.map((c) => c.epoch)).toEqual(cs.map((c) => c.epoch));
    expect(covered(again, id)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const c of again) c.close();
    c2.close();
    await second.close();
    await first.close();
  });
});
