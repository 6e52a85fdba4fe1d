import {
  createTxnOffsetCommitResponse,
  ErrorCode,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
  type TxnOffsetCommitResponsePartition,
} from '@tributary/codec';
import type { GroupCoordinator } from '../../groups/group-coordinator.js';
import type { TxnOffsetCommitInput } from '../../groups/group-requests.js';
import type { RequestContext } from '../request-context.js';
import { num } from '../services.js';
import type { TopicRegistry } from '../topics.js';

/** What the transaction coordinator is asked about a producer committing offsets to a group. */
export interface TransactionCheck {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly groupId: string;
  /** The request's version: from v5 (KIP-890) Kafka answers TRANSACTION_ABORTABLE where older versions get INVALID_TXN_STATE. */
  readonly apiVersion: number;
}

export interface TxnOffsetCommitServices {
  readonly topics: Pick<TopicRegistry, 'byName'>;
  readonly groups: Pick<GroupCoordinator, 'unavailableError' | 'commitTransactionalOffsets'>;
  /**
   * Whether the producer id and epoch have an ongoing transaction to which this group was added
   * (AddOffsetsToTxn): resolves to ErrorCode.NONE, or to the code Kafka answers for every
   * partition (INVALID_PRODUCER_EPOCH or PRODUCER_FENCED for a stale epoch, UNKNOWN_PRODUCER_ID,
   * INVALID_TXN_STATE before v5 and TRANSACTION_ABORTABLE from v5 when the group is not in the
   * transaction, COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR while the transaction
   * coordinator cannot answer).
   *
   * TODO(lead): wire this to the transaction coordinator, then register the handler in broker.ts
   * (ApiKey.TxnOffsetCommit) with these services.
   */
  readonly verifyTransaction: (check: TransactionCheck) => Promise<number>;
}

/**
 * TxnOffsetCommit: a transactional producer commits a consumer group's offsets as part of its
 * transaction (KIP-98, KIP-447). Partitions of unknown topics fail on their own; the transaction
 * coordinator confirms the producer's transaction; the group coordinator validates the member and
 * generation (v3+) and stores the offsets as pending until the transaction's marker.
 */
export async function handleTxnOffsetCommit(
  s: TxnOffsetCommitServices,
  ctx: RequestContext,
  req: TxnOffsetCommitRequest,
): Promise<TxnOffsetCommitResponse> {
  const offsets: TxnOffsetCommitInput['offsets'][number][] = [];
  /** Where each accepted offset's answer goes. */
  const slots: TxnOffsetCommitResponsePartition[] = [];
  const topics = req.topics.map((t) => {
    const topic = s.topics.byName(t.name);
    return {
      name: t.name,
      partitions: t.partitions.map((p): TxnOffsetCommitResponsePartition => {
        const answer = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number };
        if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount)
          answer.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else {
          offsets.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: num(p.committedOffset),
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata,
          });
          slots.push(answer);
        }
        return answer;
      }),
    };
  });
  if (offsets.length === 0) return createTxnOffsetCommitResponse({ topics });
  const answer = (codes: readonly number[]) => {
    for (let i = 0; i < slots.length; i++) slots[i]!.errorCode = codes[i]!;
    return createTxnOffsetCommitResponse({ topics });
  };
  const all = (code: number) => answer(slots.map(() => code));
  // Kafka's coordinator refuses before it asks the transaction coordinator anything.
  const unavailable = s.groups.unavailableError(req.groupId);
  if (unavailable !== null) return all(unavailable);
  if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
  const producerId = num(req.producerId);
  const verified = await s.verifyTransaction({
    transactionalId: req.transactionalId,
    producerId,
    producerEpoch: req.producerEpoch,
    groupId: req.groupId,
    apiVersion: ctx.apiVersion,
  });
  if (verified !== ErrorCode.NONE) return all(verified);
  // Before v3 the request carries no member: its defaults (-1, '', null) name none.
  return answer(
    await s.groups.commitTransactionalOffsets({
      groupId: req.groupId,
      producerId,
      producerEpoch: req.producerEpoch,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      offsets,
    }),
  );
}
