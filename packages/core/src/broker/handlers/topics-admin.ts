import {
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicConfigs,
  type CreateTopicsResponseCreatableTopicResult,
  createCreateTopicsResponse,
  createDeleteTopicsResponse,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  type DeleteTopicsResponseDeletableTopicResult,
  ErrorCode,
  ZERO_UUID,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';
import { ConfigSource, TOPIC_CONFIGS, validateTopicConfigs } from '../topic-configs.js';
import type { Topic } from '../topics.js';
import { topicNameProblem } from '../topics.js';

function describeConfigs(
  s: BrokerServices,
  overrides: Readonly<Record<string, string>>,
): CreateTopicsResponseCreatableTopicConfigs[] {
  return TOPIC_CONFIGS.map((d) => {
    const override = overrides[d.name];
    return {
      name: d.name,
      value: override ?? d.defaultValue(s.config),
      readOnly: false,
      configSource: override !== undefined ? ConfigSource.TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG,
      isSensitive: false,
    };
  });
}

export async function handleCreateTopics(
  s: BrokerServices,
  ctx: RequestContext,
  req: CreateTopicsRequest,
): Promise<CreateTopicsResponse> {
  const seen = new Map<string, number>();
  for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  const topics = await Promise.all(
    req.topics.map(async (t): Promise<CreateTopicsResponseCreatableTopicResult> => {
      const result: CreateTopicsResponseCreatableTopicResult = {
        name: t.name,
        topicId: ZERO_UUID,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topicConfigErrorCode: ErrorCode.NONE,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      };
      const fail = (code: number, message: string): CreateTopicsResponseCreatableTopicResult => ({
        ...result,
        errorCode: code,
        errorMessage: message,
      });
      if ((seen.get(t.name) ?? 0) > 1)
        return fail(ErrorCode.INVALID_REQUEST, `Create topics request has topic ${t.name} more than once`);
      const nameProblem = topicNameProblem(t.name);
      if (nameProblem !== null) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
      if (s.topics.byName(t.name))
        return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);

      let partitions = t.numPartitions;
      let replication = t.replicationFactor;
      if (t.assignments.length > 0) {
        if (partitions !== -1 || replication !== -1)
          return fail(
            ErrorCode.INVALID_REQUEST,
            'Both numPartitions or replicationFactor and replicasAssignments were set',
          );
        const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
        if (indexes.some((p, i) => p !== i))
          return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be 0-based and consecutive');
        const sizes = new Set(t.assignments.map((a) => a.brokerIds.length));
        if (sizes.size !== 1)
          return fail(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'All partitions should have the same number of replicas',
          );
        for (const a of t.assignments) {
          if (new Set(a.brokerIds).size !== a.brokerIds.length)
            return fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `Duplicate brokers in the assignment of partition ${a.partitionIndex}`,
            );
          const unknown = a.brokerIds.find((b) => b !== s.config.nodeId);
          if (unknown !== undefined)
            return fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `Unknown broker id ${unknown} in the assignment`,
            );
        }
        partitions = t.assignments.length;
        replication = t.assignments[0]!.brokerIds.length;
      }
      if (partitions === -1) partitions = s.config.numPartitions;
      if (replication === -1) replication = 1;
      if (partitions <= 0)
        return fail(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
      if (replication <= 0)
        return fail(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
      if (replication > 1)
        return fail(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Unable to replicate the partition ${replication} time(s): The target replication factor of ${replication} cannot be reached because only 1 broker(s) are registered.`,
        );
      const configs: Record<string, string> = {};
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      const configProblem = validateTopicConfigs(Object.fromEntries(t.configs.map((c) => [c.name, c.value])));
      if (configProblem !== null) return fail(ErrorCode.INVALID_CONFIG, configProblem);

      const described = {
        ...result,
        numPartitions: partitions,
        replicationFactor: replication,
        configs: describeConfigs(s, configs),
      };
      if (req.validateOnly) return described;
      const created = await s.topics.create(t.name, partitions, configs);
      if (created === null) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
      s.logger.info({ topic: t.name, partitions, client: ctx.clientId }, 'created topic');
      return { ...described, topicId: created.topicId };
    }),
  );
  return createCreateTopicsResponse({ topics });
}

export async function handleDeleteTopics(
  s: BrokerServices,
  ctx: RequestContext,
  req: DeleteTopicsRequest,
): Promise<DeleteTopicsResponse> {
  // v0-5 name topics in topicNames; v6+ in topics, by name or by id.
  const targets =
    ctx.apiVersion >= 6
      ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
      : req.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
  const responses = await Promise.all(
    targets.map(async (t): Promise<DeleteTopicsResponseDeletableTopicResult> => {
      const byName = t.name !== null;
      const topic: Topic | undefined = byName ? s.topics.byName(t.name!) : s.topics.byId(t.topicId);
      if (topic === undefined) {
        return {
          name: t.name,
          topicId: t.topicId,
          errorCode: byName ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID,
          errorMessage: byName
            ? 'This server does not host this topic-partition.'
            : 'This server does not host this topic ID.',
        };
      }
      await s.topics.delete(topic);
      s.logger.info({ topic: topic.name, client: ctx.clientId }, 'deleted topic');
      return { name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null };
    }),
  );
  return createDeleteTopicsResponse({ responses });
}
