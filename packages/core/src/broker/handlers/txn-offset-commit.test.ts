import {
  ApiKey,
  createTxnOffsetCommitRequest,
  ErrorCode,
  type TxnOffsetCommitRequest,
} from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import type { TxnOffsetCommitInput } from '../../groups/group-requests.js';
import type { Topic } from '../topics.js';
import {
  handleTxnOffsetCommit,
  type TransactionCheck,
  type TxnOffsetCommitServices,
} from './txn-offset-commit.js';

/** Fakes of the three services, recording what the handler asked. */
function services(
  over: { unavailable?: number | null; verified?: number; codes?: (n: number) => number[] } = {},
) {
  const commits: TxnOffsetCommitInput[] = [];
  const checks: TransactionCheck[] = [];
  const s: TxnOffsetCommitServices = {
    topics: { byName: (name) => (name === 't' ? ({ name, partitionCount: 2 } as Topic) : undefined) },
    groups: {
      unavailableError: () => over.unavailable ?? null,
      commitTransactionalOffsets: async (input) => {
        commits.push(input);
        return over.codes?.(input.offsets.length) ?? input.offsets.map(() => ErrorCode.NONE);
      },
    },
    verifyTransaction: async (check) => {
      checks.push(check);
      return over.verified ?? ErrorCode.NONE;
    },
  };
  return { s, commits, checks };
}

const ctx = (apiVersion: number) => ({
  connectionId: 1,
  clientId: 'c',
  clientAddress: '127.0.0.1:1',
  apiKey: ApiKey.TxnOffsetCommit,
  apiVersion,
  correlationId: 1,
});

function request(over: Partial<TxnOffsetCommitRequest> = {}): TxnOffsetCommitRequest {
  return createTxnOffsetCommitRequest({
    transactionalId: 'tx',
    groupId: 'g',
    producerId: 7n,
    producerEpoch: 2,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: 3, committedMetadata: 'm' },
          { partitionIndex: 5, committedOffset: 11n, committedLeaderEpoch: -1, committedMetadata: null },
          { partitionIndex: 1, committedOffset: 12n, committedLeaderEpoch: -1, committedMetadata: null },
        ],
      },
      {
        name: 'gone',
        partitions: [
          { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
        ],
      },
    ],
    ...over,
  });
}

const codes = (r: Awaited<ReturnType<typeof handleTxnOffsetCommit>>) =>
  r.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]);

describe('TxnOffsetCommit', () => {
  it('commits the known partitions for the producer and member, and fails unknown ones on their own', async () => {
    const { s, commits, checks } = services({
      codes: () => [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE],
    });
    const r = await handleTxnOffsetCommit(
      s,
      ctx(3),
      request({ generationId: 4, memberId: 'member', groupInstanceId: 'instance' }),
    );
    expect(codes(r)).toEqual([
      [
        't',
        [
          [0, ErrorCode.NONE],
          [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
          [1, ErrorCode.OFFSET_METADATA_TOO_LARGE],
        ],
      ],
      ['gone', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ]);
    expect(checks).toEqual([
      { transactionalId: 'tx', producerId: 7, producerEpoch: 2, groupId: 'g', apiVersion: 3 },
    ]);
    expect(commits).toEqual([
      {
        groupId: 'g',
        producerId: 7,
        producerEpoch: 2,
        generationId: 4,
        memberId: 'member',
        groupInstanceId: 'instance',
        offsets: [
          { topic: 't', partition: 0, offset: 10, leaderEpoch: 3, metadata: 'm' },
          { topic: 't', partition: 1, offset: 12, leaderEpoch: -1, metadata: null },
        ],
      },
    ]);
  });

  it('answers every known partition with the transaction check’s error and commits nothing', async () => {
    const { s, commits } = services({ verified: ErrorCode.TRANSACTION_ABORTABLE });
    const r = await handleTxnOffsetCommit(s, ctx(5), request());
    expect(codes(r)[0]).toEqual([
      't',
      [
        [0, ErrorCode.TRANSACTION_ABORTABLE],
        [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        [1, ErrorCode.TRANSACTION_ABORTABLE],
      ],
    ]);
    expect(commits).toEqual([]);
  });

  it('refuses while the coordinator cannot serve, and an empty group id, before asking about the transaction', async () => {
    const loading = services({ unavailable: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS });
    expect(codes(await handleTxnOffsetCommit(loading.s, ctx(3), request()))[0]![1]).toContainEqual([
      0,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ]);
    expect(loading.checks).toEqual([]);
    const empty = services();
    expect(
      codes(await handleTxnOffsetCommit(empty.s, ctx(3), request({ groupId: '' })))[0]![1],
    ).toContainEqual([0, ErrorCode.INVALID_GROUP_ID]);
    expect(empty.checks).toEqual([]);
  });

  it('names no member before v3, and asks nothing when no partition is known', async () => {
    const { s, commits, checks } = services();
    await handleTxnOffsetCommit(s, ctx(2), request());
    expect(commits[0]).toMatchObject({ generationId: -1, memberId: '', groupInstanceId: null });
    const none = services();
    const r = await handleTxnOffsetCommit(none.s, ctx(2), request({ topics: [request().topics[1]!] }));
    expect(codes(r)).toEqual([['gone', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]]]);
    expect(none.checks).toEqual([]);
    expect(checks).toHaveLength(1);
  });
});
