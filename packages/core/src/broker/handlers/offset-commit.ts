import {
  createOffsetCommitResponse,
  ErrorCode,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetCommitResponsePartition,
} from '@tributary/codec';
import type { OffsetCommitInput } from '../../groups/group-requests.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, num } from '../services.js';

/**
 * OffsetCommit: partitions of unknown topics fail on their own; the rest go to the coordinator in
 * one append and are answered once it resolves. v10 names topics by id.
 */
export async function handleOffsetCommit(
  s: BrokerServices,
  ctx: RequestContext,
  req: OffsetCommitRequest,
): Promise<OffsetCommitResponse> {
  const v = ctx.apiVersion;
  const byId = v >= 10;
  const offsets: OffsetCommitInput['offsets'][number][] = [];
  /** Where each accepted offset's answer goes. */
  const slots: OffsetCommitResponsePartition[] = [];
  const topics = req.topics.map((t) => {
    const topic = byId ? s.topics.byId(t.topicId) : s.topics.byName(t.name);
    return {
      name: topic?.name ?? t.name,
      topicId: t.topicId,
      partitions: t.partitions.map((p): OffsetCommitResponsePartition => {
        const answer = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number };
        if (topic === undefined)
          answer.errorCode = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount)
          answer.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else {
          offsets.push({
            topic: topic.name,
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
  if (offsets.length > 0) {
    const codes = await s.groups.commitOffsets({
      groupId: req.groupId,
      generationId: req.generationIdOrMemberEpoch,
      memberId: req.memberId,
      groupInstanceId: v >= 7 ? req.groupInstanceId : null,
      retentionTimeMs: v <= 4 ? num(req.retentionTimeMs) : -1,
      apiVersion: v,
      offsets,
    });
    for (let i = 0; i < slots.length; i++) slots[i]!.errorCode = codes[i]!;
  }
  return createOffsetCommitResponse({ topics });
}
