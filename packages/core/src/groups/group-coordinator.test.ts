import { ErrorCode, encodeConsumerProtocolSubscription } from '@tributary/codec';
import { buildEndTxnMarkerBatch } from '@tributary/codec/records';
import { describe, expect, it } from 'vitest';
import { type BrokerConfig, defaultBrokerConfig } from '../broker/config.js';
import { TopicRegistry } from '../broker/topics.js';
import { ManualClock, noopMetrics, silentLogger } from '../services.js';
import { startGroupCoordinator } from '../test-support/group-coordinator.js';
import { LogStorage } from '../test-support/log-storage.js';
import type { JoinOutcome } from './classic-group.js';
import { GroupCoordinator } from './group-coordinator.js';
import { CONSUMER_OFFSETS_TOPIC, partitionForGroup } from './group-log.js';
import type { JoinGroupInput, TxnOffsetCommitInput } from './group-requests.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(config: Partial<BrokerConfig> = {}, storage = new LogStorage(), clock = new ManualClock()) {
  return startGroupCoordinator(5, config, storage, clock);
}

/** A consumer-protocol subscription as clients send it: an int16 version, then the struct. */
const subscription = (...topics: string[]) =>
  Buffer.concat([
    Buffer.from([0, 0]),
    encodeConsumerProtocolSubscription(
      { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null },
      0,
    ),
  ]);

function input(over: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('t') }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
    supportsSkippingAssignment: true,
    ...over,
  };
}

/** Tracks whether a promise has settled, to assert that a request is still parked. */
function track<T>(p: Promise<T> | T): { done: boolean; value: T | undefined; promise: Promise<T> } {
  const t = { done: false, value: undefined as T | undefined, promise: Promise.resolve(p) };
  t.promise.then((v) => {
    t.done = true;
    t.value = v;
  });
  return t;
}

/** Joins a member into a fresh group and completes its first generation, assignment included. */
async function stableMember(gc: GroupCoordinator, clock: ManualClock, over: Partial<JoinGroupInput> = {}) {
  const join = track(gc.join(input(over)));
  clock.advance(0);
  const joined = await join.promise;
  expect(joined.errorCode).toBe(ErrorCode.NONE);
  const sync = await gc.sync({
    groupId: over.groupId ?? 'g',
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: over.groupInstanceId ?? null,
    protocolType: 'consumer',
    protocolName: joined.protocolName,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('all') }],
  });
  expect(sync.errorCode).toBe(ErrorCode.NONE);
  return joined;
}

describe('JoinGroup', () => {
  it('hands a new member its id first when asked (MEMBER_ID_REQUIRED), then admits it with that id', async () => {
    const { gc, clock } = await setup();
    const first = await gc.join(input({ requireKnownMemberId: true }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^client-[0-9a-f-]{36}$/);
    const second = track(gc.join(input({ memberId: first.memberId, requireKnownMemberId: true })));
    clock.advance(0);
    const joined = await second.promise;
    expect(joined).toMatchObject({
      errorCode: ErrorCode.NONE,
      generationId: 1,
      memberId: first.memberId,
      leader: first.memberId,
      protocolName: 'range',
      protocolType: 'consumer',
    });
    expect(joined.members.map((m) => m.memberId)).toEqual([first.memberId]);
  });

  it('forgets a handed-out member id that does not come back within the session timeout', async () => {
    const { gc, clock } = await setup();
    const first = await gc.join(input({ requireKnownMemberId: true }));
    clock.advance(10_000);
    const late = await gc.join(input({ memberId: first.memberId }));
    expect(late.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('waits out the initial rebalance delay, extended by each member that joins during it', async () => {
    const { gc, clock } = await setup({ groupInitialRebalanceDelayMs: 3000 });
    const a = track(gc.join(input({ clientId: 'a' })));
    clock.advance(2000);
    const b = track(gc.join(input({ clientId: 'b' })));
    clock.advance(1000); // first delay over, but b joined: one more delay
    await flush();
    expect(a.done).toBe(false);
    clock.advance(3000);
    const [ja, jb] = await Promise.all([a.promise, b.promise]);
    expect(ja.generationId).toBe(1);
    expect(jb.generationId).toBe(1);
    // One leader, given every member's metadata; the follower gets none.
    const [leader, follower] = ja.memberId === ja.leader ? [ja, jb] : [jb, ja];
    expect(leader.members.map((m) => m.memberId).sort()).toEqual([ja.memberId, jb.memberId].sort());
    expect(follower.members).toEqual([]);
    expect(follower.leader).toBe(leader.memberId);
  });

  it('chooses the protocol by vote among the protocols every member supports', async () => {
    const { gc, clock } = await setup({ groupInitialRebalanceDelayMs: 100 });
    const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
    const joins = [
      gc.join(input({ protocols: p('roundrobin', 'range', 'sticky') })),
      gc.join(input({ protocols: p('range', 'roundrobin') })),
      gc.join(input({ protocols: p('range', 'roundrobin', 'cooperative-sticky') })),
    ];
    const odd = await gc.join(input({ protocols: p('sticky') }));
    expect(odd.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const otherType = await gc.join(input({ protocolType: 'connect' }));
    expect(otherType.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    clock.advance(300);
    const results = await Promise.all(joins);
    expect(results.map((r) => r.protocolName)).toEqual(['range', 'range', 'range']);
    // The leader sees each member's metadata for the chosen protocol.
    const leader = results.find((r) => r.members.length > 0)!;
    expect(leader.members.map((m) => m.metadata.toString())).toEqual(['range', 'range', 'range']);
  });

  it('refuses an empty protocol type or list, an empty group id and out-of-range session timeouts', async () => {
    const { gc } = await setup({ groupMinSessionTimeoutMs: 6000, groupMaxSessionTimeoutMs: 60_000 });
    expect((await gc.join(input({ protocolType: '' }))).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await gc.join(input({ protocols: [] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await gc.join(input({ groupId: '' }))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await gc.join(input({ sessionTimeoutMs: 5999 }))).errorCode).toBe(
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    expect((await gc.join(input({ sessionTimeoutMs: 60_001 }))).errorCode).toBe(
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    expect((await gc.join(input({ memberId: 'nobody' }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(gc.listGroups([], [])).toEqual([]);
  });

  it('enforces group.max.size', async () => {
    const { gc, clock } = await setup({ groupMaxSize: 2, groupInitialRebalanceDelayMs: 10 });
    const a = track(gc.join(input({ clientId: 'a' })));
    const b = track(gc.join(input({ clientId: 'b' })));
    clock.advance(20);
    expect((await a.promise).errorCode).toBe(ErrorCode.NONE);
    expect((await b.promise).errorCode).toBe(ErrorCode.NONE);
    const third = await gc.join(input({ clientId: 'c' }));
    expect(third.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(gc.describeGroup('g')!.members).toHaveLength(2);
  });
});

describe('rebalancing a stable group', () => {
  async function twoMembers(config: Partial<BrokerConfig> = {}) {
    const env = await setup({ groupInitialRebalanceDelayMs: 10, ...config });
    const { gc, clock } = env;
    const a = track(gc.join(input({ clientId: 'a' })));
    const b = track(gc.join(input({ clientId: 'b' })));
    // b joined during the initial delay, so the group waits one more delay.
    clock.advance(20);
    const [ja, jb] = await Promise.all([a.promise, b.promise]);
    const leader = ja.leader;
    const syncs = [ja, jb].map((j) =>
      track(
        gc.sync({
          groupId: 'g',
          generationId: j.generationId,
          memberId: j.memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocolName: 'range',
          assignments:
            j.memberId === leader
              ? [
                  { memberId: ja.memberId, assignment: Buffer.from([1, 2, 3]) },
                  { memberId: jb.memberId, assignment: Buffer.from([4, 5]) },
                ]
              : [],
        }),
      ),
    );
    const [sa, sb] = await Promise.all(syncs.map((s) => s.promise));
    return { ...env, ja, jb, sa, sb };
  }

  it('makes followers wait for the leader and delivers each member its assignment bytes untouched', async () => {
    const { gc, clock } = await setup({ groupInitialRebalanceDelayMs: 10 });
    const a = track(gc.join(input({ clientId: 'a' })));
    const b = track(gc.join(input({ clientId: 'b' })));
    // b joined during the initial delay, so the group waits one more delay.
    clock.advance(20);
    const [ja, jb] = await Promise.all([a.promise, b.promise]);
    const [leader, follower] = ja.memberId === ja.leader ? [ja, jb] : [jb, ja];
    const base = {
      groupId: 'g',
      generationId: 1,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
    };
    const followerSync = track(gc.sync({ ...base, memberId: follower.memberId, assignments: [] }));
    await flush();
    expect(followerSync.done).toBe(false);
    expect(gc.describeGroup('g')!.groupState).toBe('CompletingRebalance');
    const leaderSync = await gc.sync({
      ...base,
      memberId: leader.memberId,
      assignments: [
        { memberId: leader.memberId, assignment: Buffer.from([0xff, 0, 1]) },
        { memberId: follower.memberId, assignment: Buffer.from([7]) },
      ],
    });
    expect(leaderSync).toMatchObject({ errorCode: 0, protocolName: 'range', protocolType: 'consumer' });
    expect([...leaderSync.assignment]).toEqual([0xff, 0, 1]);
    expect([...(await followerSync.promise).assignment]).toEqual([7]);
    expect(gc.describeGroup('g')!.groupState).toBe('Stable');
  });

  it('checks SyncGroup generation and protocol', async () => {
    const { gc, ja } = await twoMembers();
    const base = { groupId: 'g', memberId: ja.memberId, groupInstanceId: null, assignments: [] };
    expect(
      (await gc.sync({ ...base, generationId: 2, protocolType: null, protocolName: null })).errorCode,
    ).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(
      (await gc.sync({ ...base, generationId: 1, protocolType: 'connect', protocolName: null })).errorCode,
    ).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(
      (await gc.sync({ ...base, generationId: 1, protocolType: null, protocolName: 'sticky' })).errorCode,
    ).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const stable = await gc.sync({
      ...base,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
    });
    expect(stable.errorCode).toBe(ErrorCode.NONE);
    expect(stable.assignment.length).toBeGreaterThan(0);
    expect(
      (
        await gc.sync({
          ...base,
          memberId: 'nobody',
          generationId: 1,
          protocolType: null,
          protocolName: null,
        })
      ).errorCode,
    ).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('rebalances when a member joins: others learn it by heartbeat, rejoin, and get the next generation', async () => {
    const { gc, clock, ja, jb } = await twoMembers();
    const c = track(gc.join(input({ clientId: 'c' })));
    expect(gc.heartbeat('g', ja.memberId, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    // While the group prepares the rebalance, members still commit with the current generation:
    // consumers commit what they processed before they rejoin.
    expect(gc.describeGroup('g')!.groupState).toBe('PreparingRebalance');
    const commit = await gc.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: ja.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 5, leaderEpoch: -1, metadata: null }],
    });
    expect(commit).toEqual([ErrorCode.NONE]);
    expect(gc.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(5);
    // A wrong generation is ILLEGAL_GENERATION.
    const stale = await gc.commitOffsets({
      groupId: 'g',
      generationId: 0,
      memberId: ja.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 5, leaderEpoch: -1, metadata: null }],
    });
    expect(stale).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    const ra = track(gc.join(input({ memberId: ja.memberId })));
    await flush();
    expect(ra.done).toBe(false);
    const rb = track(gc.join(input({ memberId: jb.memberId })));
    clock.advance(0);
    const outcomes = await Promise.all([ra.promise, rb.promise, c.promise]);
    expect(outcomes.map((o) => o.generationId)).toEqual([2, 2, 2]);
    expect(outcomes.filter((o) => o.members.length === 3)).toHaveLength(1);
    // While the new generation completes, its members have no assignment yet: their commits are
    // REBALANCE_IN_PROGRESS, after the generation check.
    const during = await gc.commitOffsets({
      groupId: 'g',
      generationId: 2,
      memberId: ja.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 6, leaderEpoch: -1, metadata: null }],
    });
    expect(gc.describeGroup('g')!.groupState).toBe('CompletingRebalance');
    expect(during).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
    const old = await gc.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: ja.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 6, leaderEpoch: -1, metadata: null }],
    });
    expect(old).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(gc.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(5);
  });

  it('drops members that do not rejoin within the rebalance timeout', async () => {
    const { gc, clock, ja, jb } = await twoMembers();
    const ra = track(gc.join(input({ memberId: ja.memberId, rebalanceTimeoutMs: 5000 })));
    clock.advance(4999);
    await flush();
    expect(ra.done).toBe(false);
    // b's rebalance timeout (30 s) is the group's: the phase lasts until the largest.
    clock.advance(30_000);
    const outcome = await ra.promise;
    expect(outcome.generationId).toBe(2);
    expect(outcome.members.map((m) => m.memberId)).toEqual([ja.memberId]);
    expect(gc.heartbeat('g', jb.memberId, null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('expires a silent member after its session timeout and rebalances the rest', async () => {
    const { gc, clock, ja, jb } = await twoMembers();
    // a heartbeats every 3 s; b stays silent.
    for (let t = 0; t < 3; t++) {
      clock.advance(3000);
      expect(gc.heartbeat('g', ja.memberId, null, 1)).toBe(ErrorCode.NONE);
    }
    clock.advance(3000); // 12 s: b's 10 s session is over
    expect(gc.heartbeat('g', jb.memberId, null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(gc.heartbeat('g', ja.memberId, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = track(gc.join(input({ memberId: ja.memberId })));
    clock.advance(0);
    expect((await rejoin.promise).generationId).toBe(2);
  });

  it('answers heartbeats exactly: unknown group or member, wrong generation', async () => {
    const { gc, ja } = await twoMembers();
    expect(gc.heartbeat('other', ja.memberId, null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(gc.heartbeat('g', 'nobody', null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(gc.heartbeat('g', ja.memberId, null, 7)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(gc.heartbeat('g', ja.memberId, null, 1)).toBe(ErrorCode.NONE);
  });

  it('removes members that never sync within the rebalance timeout', async () => {
    const { gc, clock } = await setup({ groupInitialRebalanceDelayMs: 10 });
    const a = track(gc.join(input({ clientId: 'a', rebalanceTimeoutMs: 5000 })));
    const b = track(gc.join(input({ clientId: 'b', rebalanceTimeoutMs: 5000 })));
    // b joined during the initial delay, so the group waits one more delay.
    clock.advance(20);
    const [ja, jb] = await Promise.all([a.promise, b.promise]);
    const leader = ja.memberId === ja.leader ? ja : jb;
    const follower = leader === ja ? jb : ja;
    // Only the follower syncs; the leader never does.
    const sync = track(
      gc.sync({
        groupId: 'g',
        generationId: 1,
        memberId: follower.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    );
    clock.advance(4999);
    await flush();
    expect(sync.done).toBe(false);
    clock.advance(1);
    expect((await sync.promise).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(gc.describeGroup('g')).toMatchObject({ groupState: 'PreparingRebalance' });
    expect(gc.describeGroup('g')!.members.map((m) => m.memberId)).toEqual([follower.memberId]);
  });

  it('leaves in a batch, then rebalances; unknown members get UNKNOWN_MEMBER_ID', async () => {
    const { gc, ja, jb } = await twoMembers();
    const out = gc.leave('g', [
      { memberId: ja.memberId, groupInstanceId: null },
      { memberId: 'nobody', groupInstanceId: null },
    ]);
    expect(out.members.map((m) => m.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(gc.describeGroup('g')!.groupState).toBe('PreparingRebalance');
    expect(gc.heartbeat('g', jb.memberId, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(gc.leave('missing', [{ memberId: 'x', groupInstanceId: null }]).members[0]!.errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // The last member leaving empties the group.
    gc.leave('g', [{ memberId: jb.memberId, groupInstanceId: null }]);
    expect(gc.describeGroup('g')!.groupState).toBe('Empty');
  });
});

describe('static membership', () => {
  it('lets a returning instance keep its assignment without a rebalance and fences the old member id', async () => {
    const { gc, clock } = await setup();
    const first = await stableMember(gc, clock, { groupInstanceId: 'instance-1' });
    const again = await gc.join(input({ groupInstanceId: 'instance-1' }));
    expect(again.errorCode).toBe(ErrorCode.NONE);
    expect(again.memberId).not.toBe(first.memberId);
    expect(again.generationId).toBe(first.generationId);
    // The leader is told it may skip assigning (v9+) and sees the members.
    expect(again.skipAssignment).toBe(true);
    expect(again.members.map((m) => m.groupInstanceId)).toEqual(['instance-1']);
    expect(gc.describeGroup('g')!.groupState).toBe('Stable');
    const sync = await gc.sync({
      groupId: 'g',
      generationId: again.generationId,
      memberId: again.memberId,
      groupInstanceId: 'instance-1',
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect(sync.assignment.toString()).toBe('all');
    expect(gc.heartbeat('g', first.memberId, 'instance-1', 1)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(gc.heartbeat('g', again.memberId, 'instance-1', 1)).toBe(ErrorCode.NONE);
    expect(gc.heartbeat('g', again.memberId, 'instance-2', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('removes a static member by instance id alone', async () => {
    const { gc, clock } = await setup();
    await stableMember(gc, clock, { groupInstanceId: 'i' });
    const out = gc.leave('g', [{ memberId: '', groupInstanceId: 'i' }]);
    expect(out.members[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(gc.describeGroup('g')!.groupState).toBe('Empty');
    expect(gc.leave('g', [{ memberId: '', groupInstanceId: 'i' }]).members[0]!.errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });
});

describe('offsets', () => {
  const commit = (
    gc: GroupCoordinator,
    over: Partial<Parameters<GroupCoordinator['commitOffsets']>[0]> = {},
  ) =>
    gc.commitOffsets({
      groupId: 'solo',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 10, leaderEpoch: 4, metadata: 'm' }],
      ...over,
    });

  it('accepts standalone commits (generation -1), creating the group, and fetches them back', async () => {
    const { gc } = await setup();
    expect(await commit(gc)).toEqual([ErrorCode.NONE]);
    expect(gc.fetchOffsets('solo', [{ name: 't', partitions: [0, 1] }])).toEqual({
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, offset: 10, leaderEpoch: 4, metadata: 'm', errorCode: 0 },
            { partition: 1, offset: -1, leaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ],
    });
    expect(gc.fetchOffsets('solo', null).topics.map((t) => t.name)).toEqual(['t']);
    expect(gc.fetchOffsets('nobody', null).topics).toEqual([]);
    expect(gc.listGroups([], [])).toEqual([
      { groupId: 'solo', protocolType: '', groupState: 'Empty', groupType: 'classic' },
    ]);
  });

  it('refuses a generation for a group that does not exist, by version', async () => {
    const { gc } = await setup();
    expect(await commit(gc, { generationId: 1, memberId: 'm', apiVersion: 8 })).toEqual([
      ErrorCode.ILLEGAL_GENERATION,
    ]);
    expect(await commit(gc, { generationId: 1, memberId: 'm', apiVersion: 9 })).toEqual([
      ErrorCode.GROUP_ID_NOT_FOUND,
    ]);
  });

  it('refuses metadata longer than offset.metadata.max.bytes for that partition only', async () => {
    const { gc } = await setup({ offsetMetadataMaxBytes: 4 });
    const codes = await commit(gc, {
      offsets: [
        { topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: 'short' },
        { topic: 't', partition: 1, offset: 1, leaderEpoch: -1, metadata: 'ok' },
      ],
    });
    expect(codes).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE]);
  });

  it('acknowledges a commit only once its append resolves, and fails it when the append fails', async () => {
    const { gc, storage } = await setup();
    storage.failAppends = true;
    expect(await commit(gc)).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(gc.fetchOffsets('solo', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(
      -1,
    );
  });

  it('refuses standalone commits into a group with members (UNKNOWN_MEMBER_ID)', async () => {
    const { gc, clock } = await setup();
    await stableMember(gc, clock, { groupId: 'solo' });
    expect(await commit(gc)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
  });

  it('expires offsets of an empty group once retention has passed since it emptied, then the group', async () => {
    const { gc, clock } = await setup({
      offsetsRetentionMinutes: 1,
      offsetsRetentionCheckIntervalMs: 10_000,
    });
    // A long session, so that the member outlives the two minutes without heartbeats.
    const joined = await stableMember(gc, clock, { groupId: 'c', sessionTimeoutMs: 600_000 });
    await gc.commitOffsets({
      groupId: 'c',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 3, leaderEpoch: -1, metadata: null }],
    });
    // Offsets of a live group's subscribed topic never expire.
    clock.advance(120_000);
    await flush();
    expect(gc.fetchOffsets('c', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(3);
    gc.leave('c', [{ memberId: joined.memberId, groupInstanceId: null }]);
    clock.advance(50_000);
    await flush();
    expect(gc.describeGroup('c')!.groupState).toBe('Empty');
    clock.advance(20_000);
    await flush();
    expect(gc.describeGroup('c')).toBeNull();
    expect(gc.fetchOffsets('c', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset).toBe(-1);
  });

  it('honours a commit-level retention (OffsetCommit v2-v4)', async () => {
    const { gc, clock } = await setup({ offsetsRetentionCheckIntervalMs: 1000 });
    await commit(gc, { retentionTimeMs: 5000 });
    clock.advance(4000);
    await flush();
    expect(gc.fetchOffsets('solo', null).topics).toHaveLength(1);
    clock.advance(1000);
    await flush();
    expect(gc.fetchOffsets('solo', null).topics).toHaveLength(0);
  });

  it('deletes offsets of unsubscribed topics only (OffsetDelete)', async () => {
    const { gc, clock } = await setup();
    const joined = await stableMember(gc, clock, {
      groupId: 'c',
      protocols: [{ name: 'range', metadata: subscription('t') }],
    });
    await gc.commitOffsets({
      groupId: 'c',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [
        { topic: 't', partition: 0, offset: 3, leaderEpoch: -1, metadata: null },
        { topic: 'u', partition: 0, offset: 4, leaderEpoch: -1, metadata: null },
      ],
    });
    const out = await gc.deleteOffsets('c', [
      { name: 't', partitions: [0] },
      { name: 'u', partitions: [0] },
    ]);
    expect(out.errorCode).toBe(0);
    expect(out.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([
      ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
      0,
    ]);
    expect(gc.fetchOffsets('c', null).topics.map((t) => t.name)).toEqual(['t']);
    expect((await gc.deleteOffsets('missing', [])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

describe('DeleteGroups, DescribeGroups, ListGroups', () => {
  it('refuses to delete a group with members and deletes an empty one with its offsets', async () => {
    const { gc, clock } = await setup();
    const joined = await stableMember(gc, clock);
    expect(await gc.deleteGroups(['g', 'missing'])).toEqual([
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    const d = gc.describeGroup('g')!;
    expect(d).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.members[0]!.memberAssignment.toString()).toBe('all');
    expect(gc.listGroups(['stable'], ['classic']).map((g) => g.groupId)).toEqual(['g']);
    expect(gc.listGroups(['empty'], [])).toEqual([]);
    expect(gc.listGroups([], ['consumer'])).toEqual([]);
    gc.leave('g', [{ memberId: joined.memberId, groupInstanceId: null }]);
    expect(await gc.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    expect(gc.describeGroup('g')).toBeNull();
  });
});

describe('persistence through __consumer_offsets', () => {
  it('replays groups, assignments and offsets into a new coordinator over the same storage', async () => {
    const storage = new LogStorage();
    const first = await setup({}, storage);
    const joined = await stableMember(first.gc, first.clock, { groupId: 'persisted', groupInstanceId: 'i' });
    await first.gc.commitOffsets({
      groupId: 'persisted',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: 'i',
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 2, offset: 77, leaderEpoch: 5, metadata: 'meta' }],
    });
    await first.gc.commitOffsets({
      groupId: 'gone',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
    });
    expect(await first.gc.deleteGroups(['gone'])).toEqual([{ groupId: 'gone', errorCode: 0 }]);
    // Records land on the group's own partition of the topic.
    // (the assignment and the commit: a completed join phase of a non-empty group writes nothing).
    expect(storage.batchesIn(CONSUMER_OFFSETS_TOPIC, partitionForGroup('persisted', 5))).toBe(2);
    await first.gc.close();

    const second = await setup({}, storage);
    const d = second.gc.describeGroup('persisted')!;
    expect(d).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.members).toMatchObject([{ memberId: joined.memberId, groupInstanceId: 'i' }]);
    expect(d.members[0]!.memberAssignment.toString()).toBe('all');
    expect(second.gc.fetchOffsets('persisted', null).topics).toEqual([
      {
        name: 't',
        partitions: [{ partition: 2, offset: 77, leaderEpoch: 5, metadata: 'meta', errorCode: 0 }],
      },
    ]);
    expect(second.gc.describeGroup('gone')).toBeNull();
    // The loaded member carries on with its generation, then expires if it never heartbeats.
    expect(second.gc.heartbeat('persisted', joined.memberId, 'i', joined.generationId)).toBe(ErrorCode.NONE);
    second.clock.advance(10_000);
    expect(second.gc.describeGroup('persisted')).toMatchObject({ groupState: 'Empty', members: [] });
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS until the groups are loaded', async () => {
    const storage = new LogStorage();
    const before = await setup({}, storage);
    await before.gc.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
    });
    await before.gc.close();
    let release!: () => void;
    storage.readGate = new Promise((r) => {
      release = r;
    });
    const cfg = defaultBrokerConfig({ offsetsTopicNumPartitions: 5 });
    const topics = new TopicRegistry(storage, cfg);
    await topics.load();
    const clock = new ManualClock();
    const gc = new GroupCoordinator({
      storage,
      topics,
      config: cfg,
      clock,
      logger: silentLogger,
      metrics: noopMetrics,
    });
    const started = gc.start();
    await flush();
    expect(gc.isActive).toBe(false);
    expect((await gc.join(input())).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(gc.heartbeat('g', 'm', null, 1)).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(gc.fetchOffsets('g', null).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    release();
    await started;
    expect(gc.isActive).toBe(true);
    await gc.close();
    expect(gc.heartbeat('g', 'm', null, 1)).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('creates __consumer_offsets compacted, with the configured partitions', async () => {
    const { topics } = await setup({ offsetsTopicNumPartitions: 7 });
    const t = topics.byName(CONSUMER_OFFSETS_TOPIC)!;
    expect(t.partitionCount).toBe(7);
    expect(t.configs['cleanup.policy']).toBe('compact');
  });
});

describe('parked requests', () => {
  it('answers a superseded JoinGroup and the parked requests of a closing coordinator', async () => {
    const { gc, clock } = await setup({ groupInitialRebalanceDelayMs: 1000 });
    const first = await gc.join(input({ requireKnownMemberId: true }));
    const a = track(gc.join(input({ memberId: first.memberId })));
    const again = track(gc.join(input({ memberId: first.memberId })));
    await flush();
    expect(a.done).toBe(true);
    expect((a.value as JoinOutcome).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(again.done).toBe(false);
    await gc.close();
    expect((await again.promise).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    clock.advance(5000);
  });
});

describe('transactional offsets (TxnOffsetCommit)', () => {
  const P1 = 4001;
  const P2 = 4002;
  const txn = (
    producerId: number,
    offsets: [string, number, number][],
    over: Partial<TxnOffsetCommitInput> = {},
  ) =>
    ({
      groupId: 'g',
      producerId,
      producerEpoch: 0,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: offsets.map(([topic, partition, offset]) => ({
        topic,
        partition,
        offset,
        leaderEpoch: -1,
        metadata: null,
      })),
      ...over,
    }) satisfies TxnOffsetCommitInput;
  const commit = (gc: GroupCoordinator, offsets: [string, number, number][]) =>
    gc.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: offsets.map(([topic, partition, offset]) => ({
        topic,
        partition,
        offset,
        leaderEpoch: -1,
        metadata: null,
      })),
    });
  /** offset and error code per asked partition of topic t. */
  const fetched = (gc: GroupCoordinator, partitions: number[], requireStable = false) =>
    gc
      .fetchOffsets('g', [{ name: 't', partitions }], undefined, requireStable)
      .topics[0]!.partitions.map((p) => [p.offset, p.errorCode]);
  /** Writes the producer's COMMIT or ABORT marker to the group's partition, as the transaction coordinator would. */
  const writeMarker = async (
    storage: LogStorage,
    topics: TopicRegistry,
    producerId: number,
    commit: boolean,
  ) => {
    const topic = topics.byName(CONSUMER_OFFSETS_TOPIC)!;
    const batch = buildEndTxnMarkerBatch({
      commit,
      producerId,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      timestamp: 0,
    });
    await storage.append(topic.id, partitionForGroup('g', topic.partitionCount), {
      batch,
      lastOffsetDelta: 0,
      maxTimestamp: 0,
    });
  };

  it('keeps a transaction’s offsets pending, invisible to OffsetFetch, until its commit applies them', async () => {
    const { gc } = await setup();
    expect(await commit(gc, [['t', 0, 5]])).toEqual([ErrorCode.NONE]);
    expect(
      await gc.commitTransactionalOffsets(
        txn(P1, [
          ['t', 0, 9],
          ['t', 1, 3],
        ]),
      ),
    ).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    expect(fetched(gc, [0, 1])).toEqual([
      [5, ErrorCode.NONE],
      [-1, ErrorCode.NONE],
    ]);
    gc.completeTransaction(P1, 'commit');
    expect(fetched(gc, [0, 1], true)).toEqual([
      [9, ErrorCode.NONE],
      [3, ErrorCode.NONE],
    ]);
  });

  it('completes a transaction one __consumer_offsets partition at a time, as the markers land', async () => {
    const { gc } = await setup();
    // Two groups on different partitions of five.
    const other = ['h', 'i', 'j', 'k'].find((id) => gc.partitionFor(id) !== gc.partitionFor('g'))!;
    await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 9]]));
    await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 8]], { groupId: other }));
    gc.completeTransaction(P1, 'commit', gc.partitionFor('g'));
    expect(fetched(gc, [0], true)).toEqual([[9, ErrorCode.NONE]]);
    const pendingOther = () =>
      gc.fetchOffsets(other, [{ name: 't', partitions: [0] }], undefined, true).topics[0]!.partitions[0]!;
    expect(pendingOther()).toMatchObject({ offset: -1, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    gc.completeTransaction(P1, 'commit', gc.partitionFor(other));
    expect(pendingOther()).toMatchObject({ offset: 8, errorCode: ErrorCode.NONE });
  });

  it('discards the offsets of an aborted transaction', async () => {
    const { gc } = await setup();
    await commit(gc, [['t', 0, 5]]);
    await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 9]]));
    gc.completeTransaction(P1, 'abort');
    expect(fetched(gc, [0], true)).toEqual([[5, ErrorCode.NONE]]);
    // A marker for a producer with nothing pending changes nothing.
    gc.completeTransaction(P2, 'commit');
    expect(fetched(gc, [0], true)).toEqual([[5, ErrorCode.NONE]]);
  });

  it('answers UNSTABLE_OFFSET_COMMIT to a fetch requiring stable offsets, per partition with pending offsets', async () => {
    const { gc } = await setup();
    await commit(gc, [
      ['t', 0, 5],
      ['t', 1, 6],
    ]);
    await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 9]]));
    expect(fetched(gc, [0, 1, 2], true)).toEqual([
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      [6, ErrorCode.NONE],
      [-1, ErrorCode.NONE],
    ]);
    // Every committed partition when no topics are named; the group itself is not in error.
    const all = gc.fetchOffsets('g', null, undefined, true);
    expect(all.errorCode).toBe(ErrorCode.NONE);
    expect(all.topics[0]!.partitions.map((p) => [p.partition, p.offset, p.errorCode])).toEqual([
      [0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      [1, 6, ErrorCode.NONE],
    ]);
  });

  it('keeps a commit written after the transaction’s offset when the transaction commits', async () => {
    const { gc } = await setup();
    await gc.commitTransactionalOffsets(
      txn(P1, [
        ['t', 0, 9],
        ['t', 1, 9],
      ]),
    );
    await commit(gc, [['t', 0, 12]]);
    gc.completeTransaction(P1, 'commit');
    expect(fetched(gc, [0, 1])).toEqual([
      [12, ErrorCode.NONE],
      [9, ErrorCode.NONE],
    ]);
  });

  it('restores committed transactions on load, drops aborted ones, and keeps open ones pending', async () => {
    const storage = new LogStorage();
    const first = await setup({}, storage);
    await first.gc.commitTransactionalOffsets(txn(P1, [['t', 0, 10]]));
    await first.gc.commitTransactionalOffsets(txn(P2, [['t', 1, 20]]));
    await first.gc.commitTransactionalOffsets(txn(4003, [['t', 2, 30]]));
    await writeMarker(storage, first.topics, P1, true);
    await writeMarker(storage, first.topics, 4003, false);
    await first.gc.close();

    const { gc } = await setup({}, storage);
    expect(fetched(gc, [0, 1, 2], true)).toEqual([
      [10, ErrorCode.NONE],
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      [-1, ErrorCode.NONE],
    ]);
    // The open one completes after the load like any other.
    gc.completeTransaction(P2, 'commit');
    expect(fetched(gc, [1], true)).toEqual([[20, ErrorCode.NONE]]);
  });

  it('on load, keeps the later of a transactional commit and a plain one, and a tombstone discards the transaction before it', async () => {
    const storage = new LogStorage();
    const first = await setup({}, storage);
    await first.gc.commitTransactionalOffsets(
      txn(P1, [
        ['t', 0, 10],
        ['t', 1, 11],
      ]),
    );
    await commit(first.gc, [['t', 0, 15]]);
    await first.gc.deleteOffsets('g', [{ name: 't', partitions: [1] }]);
    await writeMarker(storage, first.topics, P1, true);
    first.gc.completeTransaction(P1, 'commit');
    const live = fetched(first.gc, [0, 1]);
    await first.gc.close();

    const { gc } = await setup({}, storage);
    expect(live).toEqual([
      [15, ErrorCode.NONE],
      [-1, ErrorCode.NONE],
    ]);
    expect(fetched(gc, [0, 1])).toEqual(live);
  });

  it('deletes pending offsets with OffsetDelete and DeleteGroups', async () => {
    const { gc } = await setup();
    await gc.commitTransactionalOffsets(
      txn(P1, [
        ['t', 0, 9],
        ['t', 1, 9],
      ]),
    );
    const deleted = await gc.deleteOffsets('g', [{ name: 't', partitions: [0] }]);
    expect(deleted.topics[0]!.partitions).toEqual([{ partition: 0, errorCode: ErrorCode.NONE }]);
    expect(fetched(gc, [0, 1], true)).toEqual([
      [-1, ErrorCode.NONE],
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);
    expect(await gc.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    gc.completeTransaction(P1, 'commit');
    expect(fetched(gc, [0, 1], true)).toEqual([
      [-1, ErrorCode.NONE],
      [-1, ErrorCode.NONE],
    ]);
  });

  it('does not expire an offset a transaction may still replace, nor delete its group', async () => {
    const { gc, clock } = await setup({ offsetsRetentionMinutes: 1 });
    await commit(gc, [['t', 0, 5]]);
    await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 9]]));
    clock.advance(120_000);
    expect(await gc.expireOffsets()).toBe(0);
    gc.completeTransaction(P1, 'abort');
    expect(await gc.expireOffsets()).toBe(1);
    expect(gc.group('g')).toBeUndefined();
  });

  it('validates like Kafka: generations and members, but not the group state, and no member at all is accepted', async () => {
    const { gc, clock } = await setup();
    const a = await stableMember(gc, clock);
    // Unknown group with a generation: ILLEGAL_GENERATION; a stale one, an unknown member, a fenced instance.
    expect(
      await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 1]], { groupId: 'other', generationId: 1 })),
    ).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(
      await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 1]], { memberId: a.memberId, generationId: 0 })),
    ).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(
      await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 1]], { memberId: 'nobody', generationId: 1 })),
    ).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(
      await gc.commitTransactionalOffsets(
        txn(P1, [['t', 0, 1]], { memberId: a.memberId, generationId: 1, groupInstanceId: 'someone' }),
      ),
    ).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // No member and no generation (TxnOffsetCommit before v3) into a group with members.
    expect(await gc.commitTransactionalOffsets(txn(P1, [['t', 0, 1]]))).toEqual([ErrorCode.NONE]);
    expect(await commit(gc, [['t', 0, 1]])).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);

    // While the group completes a rebalance, a transactional commit of the new generation is taken.
    const b = track(gc.join(input({ clientId: 'b' })));
    const ra = track(gc.join(input({ memberId: a.memberId })));
    clock.advance(0);
    const [rb, rejoined] = await Promise.all([b.promise, ra.promise]);
    expect(rb.generationId).toBe(2);
    expect(gc.describeGroup('g')!.groupState).toBe('CompletingRebalance');
    expect(
      await gc.commitTransactionalOffsets(
        txn(P2, [['t', 0, 2]], { memberId: rejoined.memberId, generationId: 2 }),
      ),
    ).toEqual([ErrorCode.NONE]);
    expect(
      await gc.commitOffsets({
        groupId: 'g',
        generationId: 2,
        memberId: rejoined.memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion: 8,
        offsets: [{ topic: 't', partition: 0, offset: 2, leaderEpoch: -1, metadata: null }],
      }),
    ).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
  });

  it('refuses metadata over the limit per offset, and a coordinator that is not serving', async () => {
    const { gc } = await setup({ offsetMetadataMaxBytes: 4 });
    const input = txn(P1, [
      ['t', 0, 1],
      ['t', 1, 1],
    ]);
    expect(
      await gc.commitTransactionalOffsets({
        ...input,
        offsets: [input.offsets[0]!, { ...input.offsets[1]!, metadata: 'too long' }],
      }),
    ).toEqual([ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
    await gc.close();
    expect(await gc.commitTransactionalOffsets(input)).toEqual([
      ErrorCode.NOT_COORDINATOR,
      ErrorCode.NOT_COORDINATOR,
    ]);
  });
});

describe('loading and unloading partitions of __consumer_offsets', () => {
  it('hands a partition’s groups to another coordinator on the same storage: parked requests get NOT_COORDINATOR there, the groups and offsets come back here', async () => {
    const storage = new LogStorage();
    const clock = new ManualClock();
    const { gc: first } = await setup({}, storage, clock);
    const joined = await stableMember(first, clock, { groupId: 'moving' });
    expect(
      await first.commitOffsets({
        groupId: 'moving',
        generationId: joined.generationId,
        memberId: joined.memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion: 8,
        offsets: [{ topic: 't', partition: 0, offset: 42, leaderEpoch: 0, metadata: '' }],
      }),
    ).toEqual([ErrorCode.NONE]);
    // A second member's join is parked in the rebalance it starts when the partition moves away.
    const parked = track(first.join(input({ groupId: 'moving', memberId: '' })));
    clock.advance(0);
    const partition = partitionForGroup('moving', 5);
    const other = partitionForGroup('elsewhere', 5);
    expect(other).not.toBe(partition);

    first.unloadPartition(partition);
    await flush();
    expect(parked.done).toBe(true);
    expect(parked.value?.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(first.heartbeat('moving', joined.memberId, null, joined.generationId)).toBe(
      ErrorCode.NOT_COORDINATOR,
    );
    expect(first.fetchOffsets('moving', null).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(first.describeGroup('moving')).toBeNull();
    // Groups of the partitions it keeps are served as before.
    expect(first.unavailableError('elsewhere')).toBeNull();

    const cfg = defaultBrokerConfig({ groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 5 });
    const topics = new TopicRegistry(storage, cfg);
    await topics.load();
    const second = new GroupCoordinator({
      storage,
      topics,
      config: cfg,
      clock,
      logger: silentLogger,
      metrics: noopMetrics,
    });
    await second.start();
    for (let p = 0; p < 5; p++) if (p !== partition) second.unloadPartition(p);
    expect(second.unavailableError('elsewhere')).toBe(ErrorCode.NOT_COORDINATOR);
    expect(
      second.fetchOffsets('moving', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset,
    ).toBe(42);
    expect(second.describeGroup('moving')?.members.map((m) => m.memberId)).toEqual([joined.memberId]);

    // Taking the partition back replays it again.
    await first.loadPartition(partition);
    expect(first.unavailableError('moving')).toBeNull();
    expect(
      first.fetchOffsets('moving', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset,
    ).toBe(42);
  });
});
