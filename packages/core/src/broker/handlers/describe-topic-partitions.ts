import {
  createDescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponseCursor,
  type DescribeTopicPartitionsResponsePartition,
  type DescribeTopicPartitionsResponseTopic,
  ErrorCode,
  ZERO_UUID,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import { AUTHORIZED_OPERATIONS_OMITTED, type BrokerServices } from '../services.js';
import { topicNameProblem } from '../topics.js';
import { ALL_TOPIC_OPERATIONS } from './metadata.js';

/** Kafka's max.request.partition.size.limit default: the most partitions one response carries. */
export const MAX_RESPONSE_PARTITIONS = 2000;

export function handleDescribeTopicPartitions(
  s: BrokerServices,
  _ctx: RequestContext,
  req: DescribeTopicPartitionsRequest,
): DescribeTopicPartitionsResponse {
  const cursor = req.cursor;
  const cursorTopic = cursor?.topicName ?? '';
  const all = req.topics.length === 0;
  // Topics sort by name; the cursor's topic is where this page starts.
  const names = new Set(
    (all ? s.topics.all().map((t) => t.name) : req.topics.map((t) => t.name)).filter((n) => n >= cursorTopic),
  );
  if (cursor !== null && (cursor.partitionIndex < 0 || !names.has(cursor.topicName))) {
    // Kafka fails the whole request: every named topic carries the error (asking for all topics,
    // that leaves an empty answer).
    return createDescribeTopicPartitionsResponse({
      topics: req.topics.map((t) => ({
        errorCode: ErrorCode.INVALID_REQUEST,
        name: t.name,
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      })),
    });
  }

  let remaining = Math.max(Math.min(MAX_RESPONSE_PARTITIONS, req.responsePartitionLimit), 1);
  const topics: DescribeTopicPartitionsResponseTopic[] = [];
  let nextCursor: DescribeTopicPartitionsResponseCursor | null = null;
  for (const name of [...names].sort()) {
    if (remaining === 0) {
      // The page is full at a topic boundary: the next page starts with this topic.
      nextCursor = { topicName: name, partitionIndex: 0 };
      break;
    }
    const topic = s.topics.byName(name);
    if (topic === undefined) {
      if (!all)
        topics.push({
          errorCode:
            topicNameProblem(name) === null
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : ErrorCode.INVALID_TOPIC_EXCEPTION,
          name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        });
      continue;
    }
    const start = name === cursorTopic ? cursor!.partitionIndex : 0;
    const end = Math.min(topic.partitionCount, start + remaining);
    const partitions: DescribeTopicPartitionsResponsePartition[] = [];
    for (let i = start; i < end; i++) {
      const leader = s.placement.leaderOf(topic.name, i);
      const node = leader?.node.nodeId ?? -1;
      partitions.push({
        errorCode: leader === null ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
        partitionIndex: i,
        leaderId: node,
        leaderEpoch: leader?.leaderEpoch ?? -1,
        replicaNodes: leader === null ? [] : [node],
        isrNodes: leader === null ? [] : [node],
        eligibleLeaderReplicas: [],
        lastKnownElr: [],
        offlineReplicas: [],
      });
    }
    topics.push({
      errorCode: ErrorCode.NONE,
      name,
      topicId: topic.topicId,
      isInternal: name.startsWith('__'),
      partitions,
      topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
    });
    if (end < topic.partitionCount) {
      // The page filled inside this topic: the next page resumes at its next partition.
      nextCursor = { topicName: name, partitionIndex: end };
      break;
    }
    remaining -= partitions.length;
  }
  return createDescribeTopicPartitionsResponse({ topics, nextCursor });
}
