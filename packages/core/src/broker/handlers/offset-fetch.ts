import {
  createOffsetFetchResponse,
  ErrorCode,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type OffsetFetchResponseGroup,
  type OffsetFetchResponseTopic,
  ZERO_UUID,
} from '@tributary/codec';
import type { FetchedOffset } from '../../groups/group-requests.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big } from '../services.js';

/**
 * OffsetFetch: one group before v8, several from v8, topics by id from v10. A partition with no
 * committed offset answers -1; a null topic list asks for every committed partition. From v9 a
 * member of a consumer-protocol group names itself and its epoch, checked by the coordinator
 * (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH, ILLEGAL_GENERATION as a group error).
 * require_stable (v7+) answers UNSTABLE_OFFSET_COMMIT for a partition with offsets pending in an
 * open transaction (TxnOffsetCommit); a client retries until the transaction ends.
 */
export function handleOffsetFetch(
  s: BrokerServices,
  ctx: RequestContext,
  req: OffsetFetchRequest,
): OffsetFetchResponse {
  const v = ctx.apiVersion;
  if (v < 8) return singleGroup(s, v, req);
  const groups = req.groups.map((g): OffsetFetchResponseGroup => {
    const byId = v >= 10;
    const unknownIds: { topicId: Buffer; partitions: number[] }[] = [];
    let asked: { name: string; partitions: number[] }[] | null = null;
    if (g.topics !== null) {
      asked = [];
      for (const t of g.topics) {
        if (!byId) {
          asked.push({ name: t.name, partitions: t.partitionIndexes });
          continue;
        }
        const topic = s.topics.byId(t.topicId);
        if (topic === undefined) unknownIds.push({ topicId: t.topicId, partitions: t.partitionIndexes });
        else asked.push({ name: topic.name, partitions: t.partitionIndexes });
      }
    }
    // v8 carries no member: its defaults (null, -1) name none.
    const r = s.groups.fetchOffsets(
      g.groupId,
      asked,
      { memberId: g.memberId, memberEpoch: g.memberEpoch },
      req.requireStable,
    );
    if (r.errorCode !== ErrorCode.NONE) return { groupId: g.groupId, topics: [], errorCode: r.errorCode };
    const topics: OffsetFetchResponseGroup['topics'] = [];
    for (const t of r.topics) {
      const topicId = s.topics.byName(t.name)?.topicId;
      // By id, a topic that no longer exists cannot be named in the answer.
      if (byId && topicId === undefined) continue;
      topics.push({ name: t.name, topicId: topicId ?? ZERO_UUID, partitions: t.partitions.map(toPartition) });
    }
    for (const t of unknownIds)
      topics.push({
        name: '',
        topicId: t.topicId,
        partitions: t.partitions.map((p) =>
          toPartition({
            partition: p,
            offset: -1,
            leaderEpoch: -1,
            metadata: '',
            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          }),
        ),
      });
    return { groupId: g.groupId, topics, errorCode: ErrorCode.NONE };
  });
  return createOffsetFetchResponse({ groups });
}

function toPartition(p: FetchedOffset) {
  return {
    partitionIndex: p.partition,
    committedOffset: big(p.offset),
    committedLeaderEpoch: p.leaderEpoch,
    metadata: p.metadata,
    errorCode: p.errorCode,
  };
}

function singleGroup(s: BrokerServices, v: number, req: OffsetFetchRequest): OffsetFetchResponse {
  // v1 has no null list (v0's "all topics" was never served): an empty list asks for nothing.
  const asked =
    req.topics === null ? null : req.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes }));
  const r = s.groups.fetchOffsets(req.groupId, asked, undefined, v >= 7 && req.requireStable);
  if (r.errorCode !== ErrorCode.NONE) {
    // v2+ carry a group-level error; v1 can only say it per partition.
    if (v >= 2) return createOffsetFetchResponse({ errorCode: r.errorCode });
    return createOffsetFetchResponse({
      topics: (asked ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          ...toPartition({ partition: p, offset: -1, leaderEpoch: -1, metadata: '', errorCode: r.errorCode }),
        })),
      })),
    });
  }
  const topics: OffsetFetchResponseTopic[] = r.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map(toPartition),
  }));
  return createOffsetFetchResponse({ topics, errorCode: ErrorCode.NONE });
}
