import {
  createOffsetForLeaderEpochResponse,
  ErrorCode,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from '@tributary/codec';
import { UnknownPartitionError } from '../../storage/index.js';
import { leaderEpochError } from '../leadership.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big } from '../services.js';

/** Kafka's "no epoch" (RecordBatch.NO_PARTITION_LEADER_EPOCH). */
const NO_EPOCH = -1;

/**
 * Kafka's leader epoch cache lookup. The current epoch ends at the log end offset (here the high
 * watermark). The log is one shared log that a change of leader never truncates, so an earlier
 * epoch (0 up to the current one) ends there too: a client checking for truncation finds none. A
 * negative epoch ends where the log starts; a newer or undefined one is unknown (-1, -1), no error.
 */
function endOffsetFor(
  requested: number,
  current: number,
  logStartOffset: number,
  logEndOffset: number,
): [number, number] {
  if (requested === NO_EPOCH || requested > current) return [NO_EPOCH, -1];
  if (requested >= 0) return [requested, logEndOffset];
  return [requested, logStartOffset];
}

export async function handleOffsetForLeaderEpoch(
  s: BrokerServices,
  _ctx: RequestContext,
  req: OffsetForLeaderEpochRequest,
): Promise<OffsetForLeaderEpochResponse> {
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      const topic = s.topics.byName(t.topic);
      const partitions = await Promise.all(
        t.partitions.map(async (p): Promise<OffsetForLeaderEpochResponseEpochEndOffset> => {
          const result = (errorCode: number, leaderEpoch = NO_EPOCH, endOffset = -1) => ({
            errorCode,
            partition: p.partition,
            leaderEpoch,
            endOffset: big(endOffset),
          });
          if (topic === undefined || p.partition < 0 || p.partition >= topic.partitionCount)
            return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          // -1 skips fencing; a client behind our epoch is fenced, one ahead of it knows more than we do.
          const leaderError = leaderEpochError(s, topic.name, p.partition, p.currentLeaderEpoch);
          if (leaderError !== ErrorCode.NONE) return result(leaderError);
          const current = s.placement.leadership(topic.name, p.partition)!.leaderEpoch;
          try {
            const offsets = await s.storage.offsets(topic.id, p.partition);
            const [epoch, end] = endOffsetFor(
              p.leaderEpoch,
              current,
              offsets.logStartOffset,
              offsets.highWatermark,
            );
            return result(ErrorCode.NONE, epoch, end);
          } catch (e) {
            if (e instanceof UnknownPartitionError) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            throw e;
          }
        }),
      );
      return { topic: t.topic, partitions };
    }),
  );
  return createOffsetForLeaderEpochResponse({ topics });
}
