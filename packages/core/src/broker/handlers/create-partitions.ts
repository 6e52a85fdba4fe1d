import {
  type CreatePartitionsRequest,
  type CreatePartitionsRequestCreatePartitionsTopic,
  type CreatePartitionsResponse,
  type CreatePartitionsResponseCreatePartitionsTopicResult,
  createCreatePartitionsResponse,
  ErrorCode,
} from '@tributary/codec';
import { UnknownPartitionError } from '../../storage/index.js';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/**
 * Most partitions one request may add, over all its topics (Kafka's controller caps the records of
 * one operation at this many, one record per partition).
 */
export const MAX_NEW_PARTITIONS_PER_REQUEST = 10_000;

/** Why a grow of `topic` cannot happen, as Kafka's controller words it; null when it can. */
function growProblem(
  s: BrokerServices,
  t: CreatePartitionsRequestCreatePartitionsTopic,
  current: number,
): { code: number; message: string } | null {
  if (t.count === current)
    return { code: ErrorCode.INVALID_PARTITIONS, message: `Topic already has ${current} partition(s).` };
  if (t.count < current)
    return {
      code: ErrorCode.INVALID_PARTITIONS,
      message: `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`,
    };
  const additional = t.count - current;
  if (t.assignments === null) return null;
  if (t.assignments.length !== additional)
    return {
      code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      message: `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`,
    };
  for (const a of t.assignments) {
    const invalid = (message: string) => ({
      code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      message: `The manual partition assignment includes ${message}`,
    });
    if (a.brokerIds.length === 0) return invalid('an empty replica list.');
    // Kafka checks the ids in ascending order, so the first problem it names is the lowest id's.
    const sorted = [...a.brokerIds].sort((x, y) => x - y);
    for (let i = 0; i < sorted.length; i++) {
      const id = sorted[i]!;
      if (id !== s.config.nodeId) return invalid(`broker ${id}, but no such broker is registered.`);
      if (i > 0 && sorted[i - 1] === id) return invalid(`the broker ${id} more than once.`);
    }
    // Every existing partition has one replica: this broker.
    if (sorted.length !== 1)
      return invalid(
        `a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have 1 replica(s).`,
      );
  }
  return null;
}

export async function handleCreatePartitions(
  s: BrokerServices,
  ctx: RequestContext,
  req: CreatePartitionsRequest,
): Promise<CreatePartitionsResponse> {
  const occurrences = new Map<string, number>();
  for (const t of req.topics) occurrences.set(t.name, (occurrences.get(t.name) ?? 0) + 1);
  let budget = MAX_NEW_PARTITIONS_PER_REQUEST;
  const results: CreatePartitionsResponseCreatePartitionsTopicResult[] = [];
  const answered = new Set<string>();
  for (const t of req.topics) {
    // A name given twice is answered once.
    if (answered.has(t.name)) continue;
    answered.add(t.name);
    const result = (errorCode: number, errorMessage: string | null) => {
      results.push({ name: t.name, errorCode, errorMessage });
    };
    if (occurrences.get(t.name)! > 1) {
      result(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
      continue;
    }
    const topic = s.topics.byName(t.name);
    if (topic === undefined) {
      result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null);
      continue;
    }
    const problem = growProblem(s, t, topic.partitionCount);
    if (problem !== null) {
      result(problem.code, problem.message);
      continue;
    }
    const additional = t.count - topic.partitionCount;
    if (additional > budget) {
      result(
        ErrorCode.UNKNOWN_SERVER_ERROR,
        `Adding ${additional} partition(s) would exceed ${MAX_NEW_PARTITIONS_PER_REQUEST} new partitions in one request.`,
      );
      continue;
    }
    budget -= additional;
    if (!req.validateOnly) {
      try {
        await s.topics.addPartitions(topic, t.count);
      } catch (e) {
        // Deleted while this request waited.
        if (!(e instanceof UnknownPartitionError)) throw e;
        result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null);
        continue;
      }
      s.logger.info({ topic: t.name, partitions: t.count, client: ctx.clientId }, 'added partitions');
    }
    result(ErrorCode.NONE, null);
  }
  return createCreatePartitionsResponse({ results });
}
