import { ErrorCode, encodeConsumerProtocolSubscription } from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { type BrokerConfig, defaultBrokerConfig } from '../broker/config.js';
import { ManualClock } from '../services.js';
import { startGroupCoordinator } from '../test-support/group-coordinator.js';
import { LogStorage } from '../test-support/log-storage.js';
import { validateConsumerGroupConfig } from './consumer-group-config.js';
import { decodeAssignment, encodeAssignment } from './embedded-protocol.js';
import type { ConsumerHeartbeatInput, ConsumerHeartbeatOutcome, JoinGroupInput } from './group-requests.js';

function setup(config: Partial<BrokerConfig> = {}, storage = new LogStorage(), clock = new ManualClock()) {
  return startGroupCoordinator(3, config, storage, clock);
}

type Ctx = Awaited<ReturnType<typeof setup>>;

/**
 * A consumer as the protocol expects one: it heartbeats with what it owns, takes what it is
 * assigned, and gives up what the assignment no longer lists (acknowledged on the next heartbeat).
 */
class Member {
  epoch = 0;
  owned = new Map<string, Set<number>>();
  last: ConsumerHeartbeatOutcome | null = null;

  constructor(
    readonly ctx: Ctx,
    readonly groupId: string,
    readonly memberId: string,
    readonly opts: {
      topics?: string[];
      regex?: string;
      assignor?: string;
      instanceId?: string;
      rebalanceTimeoutMs?: number;
    } = {},
  ) {}

  request(over: Partial<ConsumerHeartbeatInput> = {}): ConsumerHeartbeatInput {
    const joining = this.epoch === 0;
    return {
      apiVersion: 1,
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: this.opts.instanceId ?? null,
      rackId: null,
      rebalanceTimeoutMs: joining ? (this.opts.rebalanceTimeoutMs ?? 30_000) : -1,
      subscribedTopicNames: joining
        ? (this.opts.topics ?? (this.opts.regex === undefined ? [] : null))
        : null,
      subscribedTopicRegex: joining ? (this.opts.regex ?? null) : null,
      serverAssignor: joining ? (this.opts.assignor ?? null) : null,
      topicPartitions: [...this.owned].map(([t, ps]) => ({
        topicId: Buffer.from(t, 'base64url'),
        partitions: [...ps],
      })),
      clientId: 'test',
      clientHost: '/127.0.0.1',
      ...over,
    };
  }

  async heartbeat(over: Partial<ConsumerHeartbeatInput> = {}): Promise<ConsumerHeartbeatOutcome> {
    const r = await this.ctx.gc.consumer.heartbeat(this.request(over));
    this.last = r;
    if (r.errorCode !== ErrorCode.NONE) return r;
    this.epoch = r.memberEpoch;
    if (r.assignment !== null)
      this.owned = new Map(
        r.assignment.map((tp) => [tp.topicId.toString('base64url'), new Set(tp.partitions)]),
      );
    return r;
  }

  async leave(epoch = -1): Promise<ConsumerHeartbeatOutcome> {
    return this.ctx.gc.consumer.heartbeat(this.request({ memberEpoch: epoch, topicPartitions: null }));
  }

  partitions(topicId: string): number[] {
    return [...(this.owned.get(topicId) ?? [])].sort((a, b) => a - b);
  }
}

/** Heartbeats every member in turn until nothing changes, checking exclusive ownership after each. */
async function settle(members: Member[], rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const before = JSON.stringify(members.map((m) => [m.epoch, [...m.owned].map(([t, s]) => [t, [...s]])]));
    for (const m of members) {
      const r = await m.heartbeat();
      expect(r.errorCode).toBe(ErrorCode.NONE);
      expectExclusive(members);
    }
    const after = JSON.stringify(members.map((m) => [m.epoch, [...m.owned].map(([t, s]) => [t, [...s]])]));
    if (before === after) return;
  }
}

function expectExclusive(members: Member[]): void {
  const seen = new Map<string, string>();
  for (const m of members)
    for (const [t, ps] of m.owned)
      for (const p of ps) {
        const k = `${t}:${p}`;
        expect(seen.get(k), `${k} owned by ${seen.get(k)} and ${m.memberId}`).toBeUndefined();
        seen.set(k, m.memberId);
      }
}

function covered(members: Member[], topicId: string): number[] {
  return members.flatMap((m) => m.partitions(topicId)).sort((a, b) => a - b);
}

describe('consumer group protocol (KIP-848)', () => {
  it('splits a 6-partition topic over three members, disjoint and complete', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 6)).id;
    const ms = ['a', 'b', 'c'].map((id) => new Member(ctx, 'g', id, { topics: ['orders'] }));
    for (const m of ms) await m.heartbeat();
    await settle(ms);
    expect(ms.map((m) => m.partitions(t).length)).toEqual([2, 2, 2]);
    expect(covered(ms, t)).toEqual([0, 1, 2, 3, 4, 5]);
    const g = ctx.gc.consumerGroup('g')!;
    expect(g.state).toBe('Stable');
    expect(new Set(ms.map((m) => m.epoch))).toEqual(new Set([g.groupEpoch]));
  });

  it('gives the partitions of a member that leaves (epoch -1) to the others', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 6)).id;
    const ms = ['a', 'b', 'c'].map((id) => new Member(ctx, 'g', id, { topics: ['orders'] }));
    for (const m of ms) await m.heartbeat();
    await settle(ms);
    const left = await ms[1]!.leave();
    expect(left).toMatchObject({ errorCode: 0, memberId: 'b', memberEpoch: -1 });
    const rest = [ms[0]!, ms[2]!];
    await settle(rest);
    expect(covered(rest, t)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rest.map((m) => m.partitions(t).length)).toEqual([3, 3]);
    // The member that left is unknown now.
    expect((await ms[1]!.heartbeat()).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('removes a member whose session expires and reassigns its partitions', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 6)).id;
    const ms = ['a', 'b', 'c'].map((id) => new Member(ctx, 'g', id, { topics: ['orders'] }));
    for (const m of ms) await m.heartbeat();
    await settle(ms);
    // a and b keep heartbeating; c goes silent past the 45 s session.
    for (let i = 0; i < 10; i++) {
      ctx.clock.advance(5000);
      await ms[0]!.heartbeat();
      await ms[1]!.heartbeat();
    }
    expect(ctx.gc.consumerGroup('g')!.members.has('c')).toBe(false);
    await settle([ms[0]!, ms[1]!]);
    expect(covered([ms[0]!, ms[1]!], t)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('revokes before it assigns: a new member waits for partitions until their owner gives them up', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 4)).id;
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    expect(a.partitions(t)).toEqual([0, 1, 2, 3]);
    const b = new Member(ctx, 'g', 'b', { topics: ['orders'] });
    const joined = await b.heartbeat();
    // b is at the new epoch but gets nothing yet: a still owns everything.
    expect(joined.memberEpoch).toBe(2);
    expect(b.partitions(t)).toEqual([]);
    expect(ctx.gc.consumerGroup('g')!.members.get('b')!.state).toBe(2); // UNRELEASED_PARTITIONS
    // a hears it must revoke two, staying at epoch 1.
    const revoke = await a.heartbeat();
    expect(revoke.memberEpoch).toBe(1);
    expect(a.partitions(t)).toHaveLength(2);
    expect(ctx.gc.consumerGroup('g')!.members.get('a')!.state).toBe(1); // UNREVOKED_PARTITIONS
    // Until a's heartbeat acknowledges, b still gets nothing.
    await b.heartbeat();
    expect(b.partitions(t)).toEqual([]);
    await a.heartbeat();
    expect(a.epoch).toBe(2);
    await b.heartbeat();
    expect(b.partitions(t)).toHaveLength(2);
    expectExclusive([a, b]);
    expect(covered([a, b], t)).toEqual([0, 1, 2, 3]);
  });

  it('fences a member that does not revoke within its rebalance timeout', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 2);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'], rebalanceTimeoutMs: 10_000 });
    await a.heartbeat();
    const b = new Member(ctx, 'g', 'b', { topics: ['orders'] });
    await b.heartbeat();
    // a is told to revoke one partition but keeps reporting both.
    const stuck = [...a.owned].map(([tid, ps]) => ({
      topicId: Buffer.from(tid, 'base64url'),
      partitions: [...ps, 0, 1],
    }));
    await a.heartbeat({ topicPartitions: stuck });
    ctx.clock.advance(5000);
    await a.heartbeat({ topicPartitions: stuck });
    ctx.clock.advance(5001);
    expect(ctx.gc.consumerGroup('g')!.members.has('a')).toBe(false);
  });

  it('fences stale and future epochs, and unknown members', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 2);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    expect((await a.heartbeat({ memberEpoch: a.epoch + 1 })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect((await a.heartbeat({ memberEpoch: 0 + a.epoch - 5 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const ghost = new Member(ctx, 'g', 'ghost');
    ghost.epoch = 3;
    expect((await ghost.heartbeat()).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const other = new Member(ctx, 'nope', 'x');
    other.epoch = 1;
    expect((await other.heartbeat()).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('accepts the previous epoch from a member whose answer was lost, if it owns no more than before', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 2);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const first = a.epoch;
    const b = new Member(ctx, 'g', 'b', { topics: ['orders'] });
    await b.heartbeat();
    await a.heartbeat(); // revoke
    await a.heartbeat(); // acknowledged: new epoch
    expect(a.epoch).toBeGreaterThan(first);
    const r = await ctx.gc.consumer.heartbeat(a.request({ memberEpoch: first }));
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.memberEpoch).toBe(a.epoch);
  });

  it('validates requests as Kafka does', async () => {
    const ctx = await setup();
    const m = new Member(ctx, 'g', 'a', { topics: ['x'] });
    const cases: [Partial<ConsumerHeartbeatInput>, number][] = [
      [{ memberId: '' }, ErrorCode.INVALID_REQUEST],
      [{ groupId: '' }, ErrorCode.INVALID_REQUEST],
      [{ instanceId: '' }, ErrorCode.INVALID_REQUEST],
      [{ rebalanceTimeoutMs: -1 }, ErrorCode.INVALID_REQUEST],
      [{ topicPartitions: null }, ErrorCode.INVALID_REQUEST],
      [{ subscribedTopicNames: null }, ErrorCode.INVALID_REQUEST],
      [{ memberEpoch: -3 }, ErrorCode.INVALID_REQUEST],
      [{ memberEpoch: -2, instanceId: null }, ErrorCode.INVALID_REQUEST],
      [{ serverAssignor: 'sticky' }, ErrorCode.UNSUPPORTED_ASSIGNOR],
      [{ subscribedTopicNames: null, subscribedTopicRegex: '(' }, ErrorCode.INVALID_REGULAR_EXPRESSION],
    ];
    for (const [over, code] of cases) {
      const r = await ctx.gc.consumer.heartbeat(m.request(over));
      expect(r.errorCode, JSON.stringify(over)).toBe(code);
      expect(r.errorMessage).not.toBeNull();
    }
  });

  it('subscribes by regular expression and picks up a topic created later', async () => {
    const ctx = await setup();
    const first = (await ctx.topics.ensure('metrics.cpu', 2)).id;
    await ctx.topics.ensure('logs', 2);
    const m = new Member(ctx, 'g', 'a', { regex: 'metrics\\..*' });
    await m.heartbeat();
    expect([...m.owned.keys()]).toEqual([first]);
    const later = (await ctx.topics.ensure('metrics.mem', 3)).id;
    await m.heartbeat();
    expect(m.partitions(later)).toEqual([0, 1, 2]);
    expect(m.partitions(first)).toEqual([0, 1]);
    expect(ctx.gc.consumerGroup('g')!.resolvedRegexes.get('metrics\\..*')).toEqual(
      new Set(['metrics.cpu', 'metrics.mem']),
    );
  });

  it('uses the range assignor when members ask for it', async () => {
    const ctx = await setup();
    // The members join before the topic exists, so one assignment covers all three.
    const ms = ['a', 'b', 'c'].map(
      (id) => new Member(ctx, 'g', id, { topics: ['orders'], assignor: 'range' }),
    );
    for (const m of ms) await m.heartbeat();
    const t = (await ctx.topics.ensure('orders', 6)).id;
    await settle(ms);
    expect(ms.map((m) => m.partitions(t))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(ctx.gc.consumer.describe('g').assignorName).toBe('range');
  });

  it('lets a static member leave for a while (epoch -2) and come back with its assignment', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 4)).id;
    const a = new Member(ctx, 'g', 'a1', { topics: ['orders'], instanceId: 'inst-a' });
    const b = new Member(ctx, 'g', 'b', { topics: ['orders'] });
    await a.heartbeat();
    await b.heartbeat();
    await settle([a, b]);
    const mine = a.partitions(t);
    const epoch = ctx.gc.consumerGroup('g')!.groupEpoch;
    expect((await a.leave(-2)).memberEpoch).toBe(-2);
    // Its partitions stay its own: b does not get them.
    await settle([b]);
    expect(b.partitions(t)).not.toEqual(expect.arrayContaining(mine));
    // Another process with the same instance id takes over.
    const again = new Member(ctx, 'g', 'a2', { topics: ['orders'], instanceId: 'inst-a' });
    await again.heartbeat();
    expect(again.partitions(t)).toEqual(mine);
    expect(ctx.gc.consumerGroup('g')!.groupEpoch).toBe(epoch);
    expect(ctx.gc.consumerGroup('g')!.members.has('a1')).toBe(false);
    // While the instance is held by a live member, a third one is refused.
    const third = new Member(ctx, 'g', 'a3', { topics: ['orders'], instanceId: 'inst-a' });
    expect((await third.heartbeat()).errorCode).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
  });

  it('describes members, epochs and assignments', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 2)).id;
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'], instanceId: 'i' });
    await a.heartbeat();
    const d = ctx.gc.consumer.describe('g');
    expect(d).toMatchObject({
      errorCode: 0,
      groupState: 'Stable',
      groupEpoch: 1,
      assignmentEpoch: 1,
      assignorName: 'uniform',
      members: [
        {
          memberId: 'a',
          instanceId: 'i',
          memberEpoch: 1,
          clientId: 'test',
          subscribedTopicNames: ['orders'],
          assignment: { topicPartitions: [{ topicName: 'orders', partitions: [0, 1] }] },
          targetAssignment: { topicPartitions: [{ topicName: 'orders', partitions: [0, 1] }] },
          memberType: 1,
        },
      ],
    });
    expect(d.members[0]!.assignment.topicPartitions[0]!.topicId.toString('base64url')).toBe(t);
    expect(ctx.gc.consumer.describe('missing')).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
    expect(ctx.gc.listGroups([], ['consumer'])).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' },
    ]);
  });

  it('restores groups, members, epochs and assignments from the log after a restart', async () => {
    const storage = new LogStorage();
    const ctx = await setup({}, storage);
    const t = (await ctx.topics.ensure('orders', 6)).id;
    const ms = ['a', 'b', 'c'].map((id) => new Member(ctx, 'g', id, { topics: ['orders'] }));
    for (const m of ms) await m.heartbeat();
    await settle(ms);
    const codes = await ctx.gc.commitOffsets({
      groupId: 'g',
      generationId: ms[0]!.epoch,
      memberId: 'a',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 9,
      offsets: [{ topic: 'orders', partition: 0, offset: 42, leaderEpoch: -1, metadata: null }],
    });
    expect(codes).toEqual([ErrorCode.NONE]);
    const before = ctx.gc.consumer.describe('g');
    await ctx.gc.close();

    const restarted = await setup({}, storage);
    expect(restarted.gc.consumer.describe('g')).toEqual(before);
    expect(
      restarted.gc.fetchOffsets('g', [{ name: 'orders', partitions: [0] }]).topics[0]!.partitions[0]!.offset,
    ).toBe(42);
    // The members carry on with their epochs.
    const again = ms.map((m) =>
      Object.assign(new Member(restarted, 'g', m.memberId), { epoch: m.epoch, owned: m.owned }),
    );
    await settle(again);
    expect(covered(again, t)).toEqual([0, 1, 2, 3, 4, 5]);
    await restarted.gc.close();
  });

  it('checks member epochs on offset commits', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 1);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const commit = (generationId: number, memberId = 'a', apiVersion = 9) =>
      ctx.gc.commitOffsets({
        groupId: 'g',
        generationId,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion,
        offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
      });
    expect(await commit(a.epoch)).toEqual([ErrorCode.NONE]);
    expect(await commit(a.epoch + 1)).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await commit(a.epoch, 'nobody')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit(-1, '')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit(a.epoch, 'a', 8)).toEqual([ErrorCode.UNSUPPORTED_VERSION]);
  });

  it('checks member epochs on offset fetches, serving fetches that name no member', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 1);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    await ctx.gc.commitOffsets({
      groupId: 'g',
      generationId: a.epoch,
      memberId: 'a',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 9,
      offsets: [{ topic: 'orders', partition: 0, offset: 4, leaderEpoch: -1, metadata: null }],
    });
    const fetch = (memberId: string | null, memberEpoch: number) =>
      ctx.gc.fetchOffsets('g', [{ name: 'orders', partitions: [0] }], { memberId, memberEpoch });
    expect(fetch('a', a.epoch)).toEqual({
      errorCode: ErrorCode.NONE,
      topics: [
        {
          name: 'orders',
          partitions: [{ partition: 0, offset: 4, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }],
        },
      ],
    });
    // An admin or a consumer without a group (no member id, epoch -1) is always served.
    expect(fetch(null, -1).topics[0]!.partitions[0]!.offset).toBe(4);
    expect(ctx.gc.fetchOffsets('g', null).topics[0]!.partitions[0]!.offset).toBe(4);
    expect(fetch('a', a.epoch - 1)).toEqual({ errorCode: ErrorCode.STALE_MEMBER_EPOCH, topics: [] });
    expect(fetch('a', a.epoch + 1).errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    // A member id with epoch -1 is checked like any other epoch.
    expect(fetch('a', -1).errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(fetch('nobody', a.epoch).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(fetch(null, a.epoch).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // A group that does not exist has nothing committed, whoever asks.
    expect(
      ctx.gc.fetchOffsets('missing', [{ name: 'orders', partitions: [0] }], {
        memberId: 'a',
        memberEpoch: 3,
      }),
    ).toMatchObject({ errorCode: ErrorCode.NONE, topics: [{ partitions: [{ offset: -1 }] }] });
    // Once the member has left, its id is unknown.
    await a.leave();
    expect(fetch('a', a.epoch).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(fetch(null, -1).topics[0]!.partitions[0]!.offset).toBe(4);
  });

  it('ignores member ids and epochs on fetches from classic groups, and checks v9 commits as generations', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 1);
    const c = new ClassicMember(ctx, 'g', ['orders']);
    expect(await c.joinAndSync({ orders: 1 })).toBe(ErrorCode.NONE);
    const commit = (generationId: number, memberId: string, apiVersion = 9) =>
      ctx.gc.commitOffsets({
        groupId: 'g',
        generationId,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion,
        offsets: [{ topic: 'orders', partition: 0, offset: 2, leaderEpoch: -1, metadata: null }],
      });
    expect(await commit(c.generation, c.memberId)).toEqual([ErrorCode.NONE]);
    expect(await commit(c.generation + 1, c.memberId)).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit(c.generation, 'nobody')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit(-1, '')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    const fetched = ctx.gc.fetchOffsets('g', [{ name: 'orders', partitions: [0] }], {
      memberId: 'nobody',
      memberEpoch: 99,
    });
    expect(fetched).toMatchObject({ errorCode: ErrorCode.NONE, topics: [{ partitions: [{ offset: 2 }] }] });
    // A group that does not exist: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before.
    const missing = (apiVersion: number) =>
      ctx.gc.commitOffsets({
        groupId: 'missing',
        generationId: 1,
        memberId: 'm',
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion,
        offsets: [{ topic: 'orders', partition: 0, offset: 2, leaderEpoch: -1, metadata: null }],
      });
    expect(await missing(9)).toEqual([ErrorCode.GROUP_ID_NOT_FOUND]);
    expect(await missing(8)).toEqual([ErrorCode.ILLEGAL_GENERATION]);
  });

  it('takes over an empty classic group, keeping its offsets, and deletes an empty consumer group', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 1);
    await ctx.gc.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 9,
      offsets: [{ topic: 'orders', partition: 0, offset: 7, leaderEpoch: -1, metadata: null }],
    });
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    expect((await a.heartbeat()).errorCode).toBe(0);
    expect(ctx.gc.fetchOffsets('g', null).topics[0]!.partitions[0]!.offset).toBe(7);
    expect(await ctx.gc.deleteGroups(['g'])).toEqual([
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
    ]);
    await a.leave();
    expect(await ctx.gc.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    expect(ctx.gc.consumer.describe('g').errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

/** A classic consumer of the embedded consumer protocol: JoinGroup, SyncGroup, Heartbeat. */
class ClassicMember {
  memberId = '';
  generation = -1;
  protocolName: string | null = null;
  owned: { topic: string; partitions: number[] }[] = [];

  constructor(
    readonly ctx: Ctx,
    readonly groupId: string,
    readonly topics: string[],
    readonly protocols = ['cooperative-sticky', 'range'],
  ) {}

  private subscription(): Buffer {
    const body = encodeConsumerProtocolSubscription(
      {
        topics: this.topics,
        userData: null,
        ownedPartitions: this.owned.map((o) => ({ topic: o.topic, partitions: o.partitions })),
        generationId: -1,
        rackId: null,
      },
      1,
    );
    return Buffer.concat([Buffer.from([0, 1]), body]);
  }

  private input(): JoinGroupInput {
    const metadata = this.subscription();
    return {
      groupId: this.groupId,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: this.protocols.map((name) => ({ name, metadata })),
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 20_000,
      clientId: 'classic',
      clientHost: '/127.0.0.1',
      requireKnownMemberId: true,
      supportsSkippingAssignment: true,
    };
  }

  /** Joins (two steps for a new member) and syncs; as a classic leader it takes every partition. */
  async joinAndSync(partitionsIfLeader: Record<string, number> = {}): Promise<number> {
    let r = await this.join();
    if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = r.memberId;
      r = await this.join();
    }
    if (r.errorCode !== ErrorCode.NONE) return r.errorCode;
    this.memberId = r.memberId;
    this.generation = r.generationId;
    this.protocolName = r.protocolName;
    const leader = r.leader === this.memberId;
    const mine = Object.entries(partitionsIfLeader).map(([topic, n]) => ({
      topic,
      partitions: Array.from({ length: n }, (_, i) => i),
    }));
    const synced = await this.ctx.gc.sync({
      groupId: this.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: this.protocolName,
      assignments: leader ? [{ memberId: this.memberId, assignment: encodeAssignment(mine) }] : [],
    });
    if (synced.errorCode !== ErrorCode.NONE) return synced.errorCode;
    this.owned = decodeAssignment(synced.assignment)!.partitions.map((p) => ({
      topic: p.topic,
      partitions: [...p.partitions],
    }));
    return ErrorCode.NONE;
  }

  heartbeat(): number {
    return this.ctx.gc.heartbeat(this.groupId, this.memberId, null, this.generation);
  }

  /** A classic group's join phase ends on a timer (the initial delay is 0 here): run it. */
  private join() {
    const pending = this.ctx.gc.join(this.input());
    this.ctx.clock.advance(0);
    return pending;
  }

  partitions(topic: string): number[] {
    return (this.owned.find((o) => o.topic === topic)?.partitions ?? []).sort((a, b) => a - b);
  }
}

/** Neither member owns a partition the other owns. */
function expectDisjoint(classic: ClassicMember, member: Member, topic: string, topicId: string): void {
  const mine = new Set(classic.partitions(topic));
  for (const p of member.partitions(topicId)) expect(mine.has(p), `partition ${p} owned twice`).toBe(false);
}

describe('consumer groups and topics, limits, offsets', () => {
  it('moves the epoch and assigns new partitions when a subscribed topic grows', async () => {
    const ctx = await setup();
    const topic = await ctx.topics.ensure('orders', 2);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const epoch = a.epoch;
    await ctx.topics.addPartitions(topic, 4);
    await a.heartbeat();
    expect(a.epoch).toBe(epoch + 1);
    expect(a.partitions(topic.id)).toEqual([0, 1, 2, 3]);
  });

  it('removes a static member that left for a while once its session runs out', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 2)).id;
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'], instanceId: 'i' });
    const b = new Member(ctx, 'g', 'b', { topics: ['orders'] });
    await a.heartbeat();
    await b.heartbeat();
    await settle([a, b]);
    await a.leave(-2);
    for (let i = 0; i < 10; i++) {
      ctx.clock.advance(5000);
      await b.heartbeat();
    }
    expect(ctx.gc.consumerGroup('g')!.members.has('a')).toBe(false);
    await settle([b]);
    expect(b.partitions(t)).toEqual([0, 1]);
  });

  it('refuses members beyond group.consumer.max.size', async () => {
    const ctx = await setup({ groupConsumerMaxSize: 1 });
    const a = new Member(ctx, 'g', 'a', { topics: ['x'] });
    const b = new Member(ctx, 'g', 'b', { topics: ['x'] });
    expect((await a.heartbeat()).errorCode).toBe(0);
    expect((await b.heartbeat()).errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  it('keeps subscribed topics from OffsetDelete and expires offsets of an empty group', async () => {
    const ctx = await setup({ offsetsRetentionMinutes: 1 });
    await ctx.topics.ensure('orders', 1);
    await ctx.topics.ensure('other', 1);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const commit = (topic: string) =>
      ctx.gc.commitOffsets({
        groupId: 'g',
        generationId: a.epoch,
        memberId: 'a',
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion: 9,
        offsets: [{ topic, partition: 0, offset: 3, leaderEpoch: -1, metadata: null }],
      });
    await commit('orders');
    await commit('other');
    const deleted = await ctx.gc.deleteOffsets('g', [
      { name: 'orders', partitions: [0] },
      { name: 'other', partitions: [0] },
    ]);
    expect(deleted.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([
      ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
      0,
    ]);
    // A subscribed topic's offsets stay while the member does; once it left, they expire.
    ctx.clock.advance(30_000);
    await a.heartbeat();
    ctx.clock.advance(40_000);
    expect(await ctx.gc.expireOffsets()).toBe(0);
    await a.leave();
    ctx.clock.advance(61_000);
    expect(await ctx.gc.expireOffsets()).toBe(1);
    expect(ctx.gc.consumerGroup('g')).toBeUndefined();
  });
});

describe('classic and consumer-protocol members in one group', () => {
  it('lets a classic member join a consumer group, assigned by the server, revoking before assigning', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 4)).id;
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    expect(a.partitions(t)).toEqual([0, 1, 2, 3]);
    const c = new ClassicMember(ctx, 'g', ['orders']);
    expect(await c.joinAndSync()).toBe(ErrorCode.NONE);
    // It joined at the new epoch, as a follower, with the protocol it prefers; a still owns all.
    expect(c.generation).toBe(ctx.gc.consumerGroup('g')!.groupEpoch);
    expect(c.protocolName).toBe('cooperative-sticky');
    expect(c.partitions('orders')).toEqual([]);
    expect(c.heartbeat()).toBe(ErrorCode.NONE);
    await a.heartbeat(); // told to revoke two
    await a.heartbeat(); // acknowledged
    expect(a.partitions(t)).toHaveLength(2);
    // The partitions are free: the classic member is asked to rejoin and gets them.
    expect(c.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await c.joinAndSync()).toBe(ErrorCode.NONE);
    expect(c.partitions('orders')).toHaveLength(2);
    expectDisjoint(c, a, 'orders', t);
    expect(c.heartbeat()).toBe(ErrorCode.NONE);
    const d = ctx.gc.consumer.describe('g');
    expect(d.groupState).toBe('Stable');
    expect(d.members.map((m) => m.memberType).sort()).toEqual([0, 1]);
  });

  it('upgrades a classic group when a consumer-protocol member joins, and downgrades when it leaves', async () => {
    const ctx = await setup();
    const t = (await ctx.topics.ensure('orders', 4)).id;
    const c = new ClassicMember(ctx, 'g', ['orders']);
    expect(await c.joinAndSync({ orders: 4 })).toBe(ErrorCode.NONE);
    expect(c.partitions('orders')).toEqual([0, 1, 2, 3]);
    expect(ctx.gc.group('g')!.state).toBe('Stable');
    const generation = c.generation;

    // Upgrade: the classic member keeps its generation as epoch and its partitions.
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    expect((await a.heartbeat()).errorCode).toBe(ErrorCode.NONE);
    const g = ctx.gc.consumerGroup('g')!;
    expect(g.members.get(c.memberId)).toMatchObject({ memberEpoch: generation });
    expect(a.partitions(t)).toEqual([]);
    // The classic member rejoins reporting what it owns, is told to keep two, revokes, rejoins.
    expect(c.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await c.joinAndSync()).toBe(ErrorCode.NONE);
    expect(c.generation).toBe(generation);
    expect(c.partitions('orders')).toHaveLength(2);
    expect(await c.joinAndSync()).toBe(ErrorCode.NONE);
    expect(c.generation).toBe(g.groupEpoch);
    await a.heartbeat();
    expect(a.partitions(t)).toHaveLength(2);
    expectDisjoint(c, a, 'orders', t);
    expect(ctx.gc.listGroups([], [])).toMatchObject([{ groupId: 'g', groupType: 'consumer' }]);

    // Downgrade: the last consumer-protocol member leaves; a classic rebalance follows.
    expect((await a.leave()).errorCode).toBe(ErrorCode.NONE);
    expect(ctx.gc.consumerGroup('g')).toBeUndefined();
    const classic = ctx.gc.group('g')!;
    expect(classic.state).toBe('PreparingRebalance');
    expect(classic.generationId).toBe(c.generation);
    expect(c.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await c.joinAndSync({ orders: 4 })).toBe(ErrorCode.NONE);
    expect(c.partitions('orders')).toEqual([0, 1, 2, 3]);
    expect(ctx.gc.group('g')!.state).toBe('Stable');
    expect(ctx.gc.listGroups([], [])).toMatchObject([{ groupId: 'g', groupType: 'classic' }]);
  });

  it('replays an upgrade and a downgrade from the log, offsets included', async () => {
    const storage = new LogStorage();
    const ctx = await setup({}, storage);
    await ctx.topics.ensure('orders', 2);
    const c = new ClassicMember(ctx, 'g', ['orders']);
    await c.joinAndSync({ orders: 2 });
    await ctx.gc.commitOffsets({
      groupId: 'g',
      generationId: c.generation,
      memberId: c.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 'orders', partition: 1, offset: 9, leaderEpoch: -1, metadata: null }],
    });
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const upgraded = await setup({}, storage);
    expect(upgraded.gc.consumer.describe('g')).toEqual(ctx.gc.consumer.describe('g'));
    await upgraded.gc.close();
    await a.leave();
    const downgraded = await setup({}, storage);
    expect(downgraded.gc.consumerGroup('g')).toBeUndefined();
    expect([...downgraded.gc.group('g')!.members.keys()]).toEqual([c.memberId]);
    expect(downgraded.gc.fetchOffsets('g', null).topics[0]!.partitions[0]).toMatchObject({
      partition: 1,
      offset: 9,
    });
    await downgraded.gc.close();
  });

  it('fences a classic member that stops heartbeating or does not rejoin in time', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 2);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const c = new ClassicMember(ctx, 'g', ['orders']);
    await c.joinAndSync();
    expect(ctx.gc.consumerGroup('g')!.members.has(c.memberId)).toBe(true);
    // Its session is its own 10 s; a keeps heartbeating.
    for (let i = 0; i < 3; i++) {
      ctx.clock.advance(4000);
      await a.heartbeat();
    }
    expect(ctx.gc.consumerGroup('g')!.members.has(c.memberId)).toBe(false);
    // A classic member told to rejoin that never does is fenced after its rebalance timeout.
    const d = new ClassicMember(ctx, 'g', ['orders']);
    await d.joinAndSync();
    const b = new Member(ctx, 'g', 'b', { topics: ['orders'] });
    await b.heartbeat();
    expect(d.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    for (let i = 0; i < 5; i++) {
      ctx.clock.advance(4000);
      d.heartbeat();
      await a.heartbeat();
      await b.heartbeat();
    }
    expect(ctx.gc.consumerGroup('g')!.members.has(d.memberId)).toBe(false);
  });

  it('checks classic members as Kafka does: generation, protocol, membership', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 2);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const c = new ClassicMember(ctx, 'g', ['orders'], ['range']);
    await c.joinAndSync();
    expect(ctx.gc.heartbeat('g', c.memberId, null, c.generation + 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(ctx.gc.heartbeat('g', 'a', null, a.epoch)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const sync = await ctx.gc.sync({
      groupId: 'g',
      generationId: c.generation,
      memberId: c.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'roundrobin',
      assignments: [],
    });
    expect(sync.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // Another classic member must share a protocol with the classic members already there.
    const other = new ClassicMember(ctx, 'g', ['orders'], ['roundrobin']);
    expect(await other.joinAndSync()).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(ctx.gc.leave('g', [{ memberId: c.memberId, groupInstanceId: null }]).members[0]!.errorCode).toBe(
      0,
    );
    expect(ctx.gc.consumerGroup('g')!.members.has(c.memberId)).toBe(false);
  });

  it("checks a classic member's commits and fetches against its member epoch as a generation", async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 2);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    const c = new ClassicMember(ctx, 'g', ['orders']);
    expect(await c.joinAndSync()).toBe(ErrorCode.NONE);
    const commit = (generationId: number, apiVersion: number) =>
      ctx.gc.commitOffsets({
        groupId: 'g',
        generationId,
        memberId: c.memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion,
        offsets: [{ topic: 'orders', partition: 0, offset: 3, leaderEpoch: -1, metadata: null }],
      });
    // Classic clients commit with older versions too: no UNSUPPORTED_VERSION for them.
    expect(await commit(c.generation, 7)).toEqual([ErrorCode.NONE]);
    expect(await commit(c.generation, 9)).toEqual([ErrorCode.NONE]);
    expect(await commit(c.generation - 1, 9)).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit(c.generation + 1, 2)).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    const fetch = (memberEpoch: number) =>
      ctx.gc.fetchOffsets('g', [{ name: 'orders', partitions: [0] }], { memberId: c.memberId, memberEpoch })
        .errorCode;
    expect(fetch(c.generation)).toBe(ErrorCode.NONE);
    expect(fetch(c.generation + 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('turns an empty consumer group into a classic group for a classic JoinGroup', async () => {
    const ctx = await setup();
    await ctx.topics.ensure('orders', 1);
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    await a.heartbeat();
    await a.leave();
    const c = new ClassicMember(ctx, 'g', ['orders']);
    expect(await c.joinAndSync({ orders: 1 })).toBe(ErrorCode.NONE);
    expect(ctx.gc.group('g')!.state).toBe('Stable');
    expect(ctx.gc.consumerGroup('g')).toBeUndefined();
  });

  it('refuses the upgrade of a live classic group when the migration policy does not allow it', async () => {
    const ctx = await setup({ groupConsumerMigrationPolicy: 'downgrade' });
    await ctx.topics.ensure('orders', 1);
    const c = new ClassicMember(ctx, 'g', ['orders']);
    await c.joinAndSync({ orders: 1 });
    const a = new Member(ctx, 'g', 'a', { topics: ['orders'] });
    expect(await a.heartbeat()).toMatchObject({
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: 'Group g is not a consumer group',
    });
  });
});

describe('group.consumer.* settings', () => {
  const problem = (overrides: Partial<BrokerConfig>): string | null => {
    try {
      validateConsumerGroupConfig(defaultBrokerConfig(overrides));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };

  it("accepts the defaults and refuses contradictions with Kafka's messages, naming the setting", () => {
    expect(problem({})).toBeNull();
    expect(problem({ groupConsumerMinHeartbeatIntervalMs: 20_000 })).toBe(
      'group.consumer.max.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms',
    );
    expect(problem({ groupConsumerHeartbeatIntervalMs: 1000 })).toBe(
      'group.consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms',
    );
    expect(problem({ groupConsumerHeartbeatIntervalMs: 16_000 })).toBe(
      'group.consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms',
    );
    expect(problem({ groupConsumerMaxSessionTimeoutMs: 40_000 })).toBe(
      'group.consumer.max.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms',
    );
    expect(problem({ groupConsumerSessionTimeoutMs: 30_000 })).toBe(
      'group.consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms',
    );
    expect(problem({ groupConsumerSessionTimeoutMs: 90_000 })).toBe(
      'group.consumer.session.timeout.ms must be less than or equal to group.consumer.max.session.timeout.ms',
    );
    expect(
      problem({
        groupConsumerMinSessionTimeoutMs: 1000,
        groupConsumerSessionTimeoutMs: 5000,
        groupConsumerHeartbeatIntervalMs: 5000,
      }),
    ).toBe('group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms');
    expect(problem({ groupConsumerAssignors: [] })).toBe(
      'group.consumer.assignors must name at least one assignor',
    );
    expect(problem({ groupConsumerAssignors: ['range', 'range'] })).toBe(
      'group.consumer.assignors must not name an assignor twice',
    );
    expect(problem({ groupConsumerAssignors: ['sticky'] })).toBe(
      'group.consumer.assignors: unknown assignor sticky (known: uniform, range)',
    );
  });

  it('refuses to start a coordinator with contradicting settings', async () => {
    await expect(setup({ groupConsumerHeartbeatIntervalMs: 60_000 })).rejects.toThrow(
      'group.consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms',
    );
  });
});
