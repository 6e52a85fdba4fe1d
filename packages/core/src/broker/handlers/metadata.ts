import {
  createMetadataResponse,
  createMetadataResponsePartition,
  createMetadataResponseTopic,
  ErrorCode,
  type MetadataRequest,
  type MetadataResponse,
  type MetadataResponseTopic,
  ZERO_UUID,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import { AUTHORIZED_OPERATIONS_OMITTED, type BrokerServices } from '../services.js';
import { type Topic, topicNameProblem } from '../topics.js';

// Authorized-operation bitfields (bit n = Kafka AclOperation code n). Everything applicable is
// granted: there are no ACLs yet.
const bits = (...ops: number[]): number => ops.reduce((a, op) => a | (1 << op), 0);
// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS
export const ALL_TOPIC_OPERATIONS = bits(3, 4, 5, 6, 7, 8, 10, 11);
// CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, CREATE_TOKENS, DESCRIBE_TOKENS
export const ALL_CLUSTER_OPERATIONS = bits(5, 7, 8, 9, 10, 11, 12, 13, 14);

export function describeTopic(s: BrokerServices, topic: Topic, includeOps: boolean): MetadataResponseTopic {
  return createMetadataResponseTopic({
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.name.startsWith('__'),
    partitions: topic.partitions.map((_, i) => {
      const leader = s.placement.leaderOf(topic.name, i);
      // With no live leader the partition has no replica to name (Kafka: LEADER_NOT_AVAILABLE).
      if (leader === null)
        return createMetadataResponsePartition({
          errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
          partitionIndex: i,
          leaderId: -1,
          leaderEpoch: -1,
        });
      const node = leader.node.nodeId;
      return createMetadataResponsePartition({
        partitionIndex: i,
        leaderId: node,
        leaderEpoch: leader.leaderEpoch,
        replicaNodes: [node],
        isrNodes: [node],
        offlineReplicas: [],
      });
    }),
    topicAuthorizedOperations: includeOps ? ALL_TOPIC_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
  });
}

export async function handleMetadata(
  s: BrokerServices,
  ctx: RequestContext,
  req: MetadataRequest,
): Promise<MetadataResponse> {
  const v = ctx.apiVersion;
  const includeOps = req.includeTopicAuthorizedOperations;
  let topics: MetadataResponseTopic[];
  // v0: an empty list means every topic; v1+: null means every topic, empty means none.
  const all = req.topics === null || (v === 0 && req.topics.length === 0);
  if (all) {
    topics = s.topics
      .all()
      .filter((t) => !t.name.startsWith('__'))
      .map((t) => describeTopic(s, t, includeOps));
  } else {
    // Versions before 4 have no flag: they always ask for auto-creation.
    const autoCreate = s.config.autoCreateTopics && (v < 4 || req.allowAutoTopicCreation);
    topics = await Promise.all(
      req.topics!.map(async (rt): Promise<MetadataResponseTopic> => {
        if (rt.name === null) {
          const byId = s.topics.byId(rt.topicId);
          if (byId) return describeTopic(s, byId, includeOps);
          return createMetadataResponseTopic({
            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
            name: null,
            topicId: rt.topicId,
            topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
          });
        }
        const existing = s.topics.byName(rt.name);
        if (existing) return describeTopic(s, existing, includeOps);
        const unknown = (errorCode: number) =>
          createMetadataResponseTopic({
            errorCode,
            name: rt.name,
            topicId: ZERO_UUID,
            topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
          });
        if (topicNameProblem(rt.name) !== null) return unknown(ErrorCode.INVALID_TOPIC_EXCEPTION);
        if (!autoCreate) return unknown(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        const created = await s.topics.ensure(rt.name, s.config.numPartitions);
        s.logger.info({ topic: rt.name, partitions: created.partitionCount }, 'auto-created topic');
        return describeTopic(s, created, includeOps);
      }),
    );
  }
  return createMetadataResponse({
    brokers: s.placement
      .brokers()
      .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    clusterId: s.config.clusterId,
    controllerId: s.placement.controllerId(),
    topics,
    clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
      ? ALL_CLUSTER_OPERATIONS
      : AUTHORIZED_OPERATIONS_OMITTED,
  });
}
