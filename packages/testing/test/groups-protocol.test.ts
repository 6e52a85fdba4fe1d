import { API_TABLE, ApiKey, ErrorCode, type MetadataResponse } from '@tributary/codec';
import { MemoryStorage } from '@tributary/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { WireClient } from './wire.js';

// The group APIs over the wire, at the versions whose shapes differ.

let broker: TestBroker;
let client: WireClient;
let topicId: Buffer;

/** Sends a request whose unspecified top-level fields take their defaults. */
// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
function send<T = any>(c: WireClient, apiKey: number, version: number, body: object): Promise<T> {
  return c.send<T>(apiKey, version, { ...(API_TABLE[apiKey]!.request.create() as object), ...body });
}

beforeAll(async () => {
  broker = await startTestBroker();
  client = await WireClient.connect(broker.port);
  topicId = (await broker.broker.topics.ensure('orders', 3)).topicId;
});
afterAll(async () => {
  client.close();
  await broker.close();
});

const protocols = [
  {
    name: 'range',
    metadata: Buffer.from([
      0, 0, 0, 0, 0, 1, 0, 6, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0xff, 0xff, 0xff, 0xff,
    ]),
  },
];

function joinBody(groupId: string, memberId = '', groupInstanceId: string | null = null) {
  return {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId,
    protocolType: 'consumer',
    protocols,
    reason: null,
  };
}

/** A one-member group through JoinGroup v9 and SyncGroup v5. */
async function member(groupId: string, groupInstanceId: string | null = null) {
  let joined = await send(client, ApiKey.JoinGroup, 9, joinBody(groupId, '', groupInstanceId));
  if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED)
    joined = await send(client, ApiKey.JoinGroup, 9, joinBody(groupId, joined.memberId));
  expect(joined.errorCode).toBe(0);
  const synced = await send(client, ApiKey.SyncGroup, 5, {
    groupId,
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('assigned') }],
  });
  expect(synced.errorCode).toBe(0);
  return { memberId: joined.memberId as string, generationId: joined.generationId as number };
}

function commitBody(groupId: string, offset: bigint, over: Record<string, unknown> = {}) {
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: 'orders',
        topicId,
        partitions: [
          { partitionIndex: 1, committedOffset: offset, committedLeaderEpoch: 3, committedMetadata: 'meta' },
        ],
      },
    ],
    ...over,
  };
}

describe('FindCoordinator', () => {
  it('names this broker, one key before v4 and each of a batch from v4', async () => {
    const md = await send<MetadataResponse>(client, ApiKey.Metadata, 12, {
      topics: [],
      allowAutoTopicCreation: false,
    });
    const self = md.brokers[0]!;
    for (const v of [0, 1, 2, 3]) {
      const r = await send(client, ApiKey.FindCoordinator, v, {
        key: 'some-group',
        keyType: 0,
        coordinatorKeys: [],
      });
      expect(r).toMatchObject({ errorCode: 0, nodeId: self.nodeId, host: self.host, port: self.port });
    }
    const r = await send(client, ApiKey.FindCoordinator, 4, {
      key: '',
      keyType: 0,
      coordinatorKeys: ['a', 'b'],
    });
    expect(r.coordinators).toMatchObject([
      { key: 'a', nodeId: self.nodeId, host: self.host, port: self.port, errorCode: 0 },
      { key: 'b', nodeId: self.nodeId, errorCode: 0 },
    ]);
    const txn = await send(client, ApiKey.FindCoordinator, 6, {
      key: '',
      keyType: 1,
      coordinatorKeys: ['tx'],
    });
    expect(txn.coordinators[0]).toMatchObject({ key: 'tx', nodeId: self.nodeId, errorCode: 0 });
    const bad = await send(client, ApiKey.FindCoordinator, 3, { key: 'x', keyType: 9, coordinatorKeys: [] });
    expect(bad).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, nodeId: -1 });
  });
});

describe('JoinGroup versions', () => {
  it('admits an unknown member at once before v4 and asks for the two-step join from v4', async () => {
    const v3 = await send(client, ApiKey.JoinGroup, 3, joinBody('join-v3'));
    expect(v3).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    const v4 = await send(client, ApiKey.JoinGroup, 4, joinBody('join-v4'));
    expect(v4.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(v4.memberId).not.toBe('');
    // A static member (v5+) needs no second step.
    const v5 = await send(client, ApiKey.JoinGroup, 5, joinBody('join-v5', '', 'static-a'));
    expect(v5).toMatchObject({ errorCode: 0, generationId: 1 });
    expect(v5.members).toMatchObject([{ groupInstanceId: 'static-a' }]);
  });
});

describe('LeaveGroup versions', () => {
  it('reports the one member error at the top before v3 and per member from v3', async () => {
    const v0 = await send(client, ApiKey.LeaveGroup, 0, {
      groupId: 'leave-none',
      memberId: 'ghost',
      members: [],
    });
    expect(v0.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const m = await member('leave-batch');
    const v3 = await send(client, ApiKey.LeaveGroup, 3, {
      groupId: 'leave-batch',
      memberId: '',
      members: [
        { memberId: m.memberId, groupInstanceId: null, reason: null },
        { memberId: 'ghost', groupInstanceId: null, reason: null },
      ],
    });
    expect(v3.errorCode).toBe(0);
    expect(v3.members.map((x: { errorCode: number }) => x.errorCode)).toEqual([
      0,
      ErrorCode.UNKNOWN_MEMBER_ID,
    ]);
  });
});

describe('OffsetCommit and OffsetFetch versions', () => {
  it('answers require_stable with UNSTABLE_OFFSET_COMMIT for a partition a transaction has pending offsets on (v7 and v8)', async () => {
    await send(client, ApiKey.OffsetCommit, 8, commitBody('offsets-txn', 5n));
    // TxnOffsetCommit is not served yet: the coordinator is asked directly, as its handler will.
    const codes = await broker.broker.groups.commitTransactionalOffsets({
      groupId: 'offsets-txn',
      producerId: 900,
      producerEpoch: 0,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 'orders', partition: 1, offset: 9, leaderEpoch: -1, metadata: null }],
    });
    expect(codes).toEqual([ErrorCode.NONE]);
    const topics = [{ name: 'orders', partitionIndexes: [1, 2] }];
    const stable = await send(client, ApiKey.OffsetFetch, 7, {
      groupId: 'offsets-txn',
      topics,
      requireStable: true,
    });
    expect(stable.errorCode).toBe(0);
    expect(stable.topics[0].partitions).toMatchObject([
      { partitionIndex: 1, committedOffset: -1n, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT },
      { partitionIndex: 2, committedOffset: -1n, errorCode: 0 },
    ]);
    const v8 = await send(client, ApiKey.OffsetFetch, 8, {
      groups: [{ groupId: 'offsets-txn', memberId: null, memberEpoch: -1, topics }],
      requireStable: true,
    });
    expect(v8.groups[0].topics[0].partitions[0]).toMatchObject({
      committedOffset: -1n,
      errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
    });
    // Without require_stable the committed offset shows; after the commit marker, the transaction's.
    const loose = await send(client, ApiKey.OffsetFetch, 7, {
      groupId: 'offsets-txn',
      topics,
      requireStable: false,
    });
    expect(loose.topics[0].partitions[0]).toMatchObject({ committedOffset: 5n, errorCode: 0 });
    broker.broker.groups.completeTransaction(900, 'commit');
    const after = await send(client, ApiKey.OffsetFetch, 7, {
      groupId: 'offsets-txn',
      topics,
      requireStable: true,
    });
    expect(after.topics[0].partitions[0]).toMatchObject({ committedOffset: 9n, errorCode: 0 });
  });

  it('commits standalone and fetches back across v1-v10, with -1 for never-committed partitions', async () => {
    const commit = await send(client, ApiKey.OffsetCommit, 9, commitBody('offsets-a', 42n));
    expect(commit.topics[0].partitions).toEqual([{ partitionIndex: 1, errorCode: 0 }]);

    const v1 = await send(client, ApiKey.OffsetFetch, 1, {
      groupId: 'offsets-a',
      topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
    });
    expect(v1.topics[0].partitions).toMatchObject([
      { partitionIndex: 0, committedOffset: -1n, metadata: '', errorCode: 0 },
      { partitionIndex: 1, committedOffset: 42n, metadata: 'meta', errorCode: 0 },
    ]);
    const v5 = await send(client, ApiKey.OffsetFetch, 5, { groupId: 'offsets-a', topics: null });
    expect(v5.topics).toMatchObject([
      { name: 'orders', partitions: [{ partitionIndex: 1, committedLeaderEpoch: 3 }] },
    ]);
    const v7 = await send(client, ApiKey.OffsetFetch, 7, {
      groupId: 'offsets-a',
      topics: null,
      requireStable: true,
    });
    expect(v7.errorCode).toBe(0);
    expect(v7.topics[0].partitions[0].committedOffset).toBe(42n);

    await send(client, ApiKey.OffsetCommit, 8, commitBody('offsets-b', 7n));
    const v8 = await send(client, ApiKey.OffsetFetch, 8, {
      groups: [
        { groupId: 'offsets-a', memberId: null, memberEpoch: -1, topics: null },
        {
          groupId: 'offsets-b',
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: 'orders', partitionIndexes: [1, 2] }],
        },
        { groupId: 'offsets-none', memberId: null, memberEpoch: -1, topics: null },
      ],
      requireStable: false,
    });
    expect(v8.groups.map((g: { groupId: string }) => g.groupId)).toEqual([
      'offsets-a',
      'offsets-b',
      'offsets-none',
    ]);
    expect(v8.groups[0].topics[0].partitions[0].committedOffset).toBe(42n);
    expect(
      v8.groups[1].topics[0].partitions.map((p: { committedOffset: bigint }) => p.committedOffset),
    ).toEqual([7n, -1n]);
    expect(v8.groups[2].topics).toEqual([]);

    // v10 names topics by id.
    const unknownId = Buffer.alloc(16, 7);
    const c10 = await send(client, ApiKey.OffsetCommit, 10, {
      ...commitBody('offsets-c', 9n),
      topics: [
        {
          name: '',
          topicId,
          partitions: [
            { partitionIndex: 0, committedOffset: 9n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
        {
          name: '',
          topicId: unknownId,
          partitions: [
            { partitionIndex: 0, committedOffset: 9n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    expect(
      c10.topics.map((t: { partitions: { errorCode: number }[] }) => t.partitions[0]!.errorCode),
    ).toEqual([0, ErrorCode.UNKNOWN_TOPIC_ID]);
    const f10 = await send(client, ApiKey.OffsetFetch, 10, {
      groups: [
        {
          groupId: 'offsets-c',
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: '', topicId, partitionIndexes: [0] }],
        },
      ],
      requireStable: true,
    });
    expect(f10.groups[0].topics[0].topicId.equals(topicId)).toBe(true);
    expect(f10.groups[0].topics[0].partitions[0]).toMatchObject({ committedOffset: 9n, metadata: '' });
  });

  it('refuses commits to unknown topics and partitions per partition', async () => {
    const r = await send(client, ApiKey.OffsetCommit, 8, {
      ...commitBody('offsets-d', 1n),
      topics: [
        {
          name: 'missing',
          topicId,
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
        {
          name: 'orders',
          topicId,
          partitions: [
            { partitionIndex: 9, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    expect(r.topics.map((t: { partitions: { errorCode: number }[] }) => t.partitions[0]!.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
  });

  it('checks a member commit: ILLEGAL_GENERATION for a wrong generation, UNKNOWN_MEMBER_ID for a stranger', async () => {
    const m = await member('offsets-member');
    const ok = await send(
      client,
      ApiKey.OffsetCommit,
      8,
      commitBody('offsets-member', 5n, { generationIdOrMemberEpoch: m.generationId, memberId: m.memberId }),
    );
    expect(ok.topics[0].partitions[0].errorCode).toBe(0);
    const stale = await send(
      client,
      ApiKey.OffsetCommit,
      8,
      commitBody('offsets-member', 5n, {
        generationIdOrMemberEpoch: m.generationId + 1,
        memberId: m.memberId,
      }),
    );
    expect(stale.topics[0].partitions[0].errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    const stranger = await send(
      client,
      ApiKey.OffsetCommit,
      8,
      commitBody('offsets-member', 5n, { generationIdOrMemberEpoch: m.generationId, memberId: 'stranger' }),
    );
    expect(stranger.topics[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('DescribeGroups, ListGroups, DeleteGroups, OffsetDelete', () => {
  it('describes live groups and unknown ones per version', async () => {
    const m = await member('described', 'instance-d');
    const v5 = await send(client, ApiKey.DescribeGroups, 5, {
      groups: ['described', 'nope'],
      includeAuthorizedOperations: true,
    });
    const [live, unknown] = v5.groups;
    expect(live).toMatchObject({
      errorCode: 0,
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
    });
    expect(live.members).toMatchObject([
      {
        memberId: m.memberId,
        groupInstanceId: 'instance-d',
        clientId: 'wire-test',
        clientHost: '/127.0.0.1',
      },
    ]);
    expect(live.members[0].memberAssignment.toString()).toBe('assigned');
    expect(live.members[0].memberMetadata.equals(protocols[0]!.metadata)).toBe(true);
    expect(live.authorizedOperations).toBeGreaterThan(0);
    expect(unknown).toMatchObject({ errorCode: 0, groupState: 'Dead' });
    const v6 = await send(client, ApiKey.DescribeGroups, 6, {
      groups: ['nope'],
      includeAuthorizedOperations: false,
    });
    expect(v6.groups[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('lists groups with state (v4) and type (v5) filters', async () => {
    await member('listed-stable');
    await send(client, ApiKey.OffsetCommit, 8, commitBody('listed-empty', 1n));
    const all = await send(client, ApiKey.ListGroups, 0, { statesFilter: [], typesFilter: [] });
    const ids = all.groups.map((g: { groupId: string }) => g.groupId);
    expect(ids).toEqual(expect.arrayContaining(['listed-stable', 'listed-empty']));
    const stable = await send(client, ApiKey.ListGroups, 4, { statesFilter: ['Stable'], typesFilter: [] });
    expect(stable.groups.map((g: { groupId: string }) => g.groupId)).toContain('listed-stable');
    expect(stable.groups.map((g: { groupId: string }) => g.groupId)).not.toContain('listed-empty');
    expect(stable.groups.find((g: { groupId: string }) => g.groupId === 'listed-stable')).toMatchObject({
      protocolType: 'consumer',
      groupState: 'Stable',
    });
    const classic = await send(client, ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['classic'] });
    expect(classic.groups.find((g: { groupId: string }) => g.groupId === 'listed-empty')).toMatchObject({
      groupType: 'classic',
    });
    const consumer = await send(client, ApiKey.ListGroups, 5, {
      statesFilter: [],
      typesFilter: ['consumer'],
    });
    expect(consumer.groups).toEqual([]);
  });

  it('refuses to delete a non-empty group and deletes an empty one with its offsets', async () => {
    const m = await member('to-delete');
    await send(
      client,
      ApiKey.OffsetCommit,
      8,
      commitBody('to-delete', 3n, { generationIdOrMemberEpoch: m.generationId, memberId: m.memberId }),
    );
    const refused = await send(client, ApiKey.DeleteGroups, 2, { groupsNames: ['to-delete', 'never-was'] });
    expect(refused.results).toEqual([
      { groupId: 'to-delete', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'never-was', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    await send(client, ApiKey.LeaveGroup, 1, { groupId: 'to-delete', memberId: m.memberId, members: [] });
    const deleted = await send(client, ApiKey.DeleteGroups, 0, { groupsNames: ['to-delete'] });
    expect(deleted.results).toEqual([{ groupId: 'to-delete', errorCode: 0 }]);
    const after = await send(client, ApiKey.OffsetFetch, 6, {
      groupId: 'to-delete',
      topics: null,
      requireStable: false,
    });
    expect(after.topics).toEqual([]);
  });

  it('deletes the offsets of a topic no member subscribes to', async () => {
    await send(client, ApiKey.OffsetCommit, 8, commitBody('offset-delete', 3n));
    const r = await send(client, ApiKey.OffsetDelete, 0, {
      groupId: 'offset-delete',
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1 }] }],
    });
    expect(r).toMatchObject({
      errorCode: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 0 }] }],
    });
    const missing = await send(client, ApiKey.OffsetDelete, 0, { groupId: 'no-such-group', topics: [] });
    expect(missing.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

describe('__consumer_offsets', () => {
  it('is internal: left out of a Metadata request for all topics, marked internal when asked for', async () => {
    const all = await send<MetadataResponse>(client, ApiKey.Metadata, 12, {
      topics: null,
      allowAutoTopicCreation: false,
    });
    expect(all.topics.map((t) => t.name)).not.toContain('__consumer_offsets');
    const asked = await send<MetadataResponse>(client, ApiKey.Metadata, 12, {
      topics: [{ name: '__consumer_offsets', topicId: Buffer.alloc(16) }],
      allowAutoTopicCreation: false,
    });
    expect(asked.topics[0]).toMatchObject({ name: '__consumer_offsets', isInternal: true, errorCode: 0 });
    expect(asked.topics[0]!.partitions).toHaveLength(50);
  });

  it('keeps committed offsets and groups for a broker that starts over the same storage after a crash', async () => {
    class KeptStorage extends MemoryStorage {
      override async close(): Promise<void> {}
    }
    const storage = new KeptStorage();
    const first = await startTestBroker({ storage });
    const c1 = await WireClient.connect(first.port);
    const id = (await first.broker.topics.ensure('orders', 3)).topicId;
    const r = await send(c1, ApiKey.OffsetCommit, 8, {
      ...commitBody('crash', 11n),
      topics: [{ ...commitBody('crash', 11n).topics[0], topicId: id }],
    });
    expect(r.topics[0].partitions[0].errorCode).toBe(0);
    // No close: the acknowledged commit is already in storage, as after a kill -9.
    const second = await startTestBroker({ storage });
    const c2 = await WireClient.connect(second.port);
    const f = await send(c2, ApiKey.OffsetFetch, 6, { groupId: 'crash', topics: null, requireStable: false });
    expect(f.topics).toMatchObject([
      {
        name: 'orders',
        partitions: [{ partitionIndex: 1, committedOffset: 11n, committedLeaderEpoch: 3, metadata: 'meta' }],
      },
    ]);
    const listed = await send(c2, ApiKey.ListGroups, 4, { statesFilter: [], typesFilter: [] });
    expect(listed.groups.map((g: { groupId: string }) => g.groupId)).toContain('crash');
    c1.close();
    c2.close();
    await second.close();
    await first.close();
  });
});
