import {
  createDeleteRecordsResponse,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
  type DeleteRecordsResponseDeleteRecordsPartitionResult,
  ErrorCode,
} from '@tributary/codec';
import { UnknownPartitionError } from '../../storage/index.js';
import { leaderEpochError } from '../leadership.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big, num } from '../services.js';

/** The DeleteRecords offset that means "up to the high watermark". */
export const HIGH_WATERMARK = -1;

/** Kafka's lowWatermark for a partition that could not be changed. */
const INVALID_LOW_WATERMARK = -1n;

export async function handleDeleteRecords(
  s: BrokerServices,
  _ctx: RequestContext,
  req: DeleteRecordsRequest,
): Promise<DeleteRecordsResponse> {
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      const topic = s.topics.byName(t.name);
      // A compacted-only topic keeps its records by key: Kafka refuses to cut its log start.
      const deletable = topic?.cleanupPolicy.delete === true;
      const partitions = await Promise.all(
        t.partitions.map(async (p): Promise<DeleteRecordsResponseDeleteRecordsPartitionResult> => {
          const result = (errorCode: number, lowWatermark = INVALID_LOW_WATERMARK) => ({
            partitionIndex: p.partitionIndex,
            lowWatermark,
            errorCode,
          });
          if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount)
            return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          const leaderError = leaderEpochError(s, topic.name, p.partitionIndex);
          if (leaderError !== ErrorCode.NONE) return result(leaderError);
          if (!deletable) return result(ErrorCode.POLICY_VIOLATION);
          try {
            const { highWatermark } = await s.storage.offsets(topic.id, p.partitionIndex);
            const requested = p.offset === BigInt(HIGH_WATERMARK) ? highWatermark : num(p.offset);
            if (requested < 0 || requested > highWatermark) return result(ErrorCode.OFFSET_OUT_OF_RANGE);
            // Below the current log start this changes nothing and answers the current log start.
            const logStartOffset = await s.storage.deleteRecordsBefore(topic.id, p.partitionIndex, requested);
            return result(ErrorCode.NONE, big(logStartOffset));
          } catch (e) {
            if (e instanceof UnknownPartitionError) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            throw e;
          }
        }),
      );
      return { name: t.name, partitions };
    }),
  );
  return createDeleteRecordsResponse({ topics });
}
