import {
  createOffsetForLeaderEpochResponse,
  ErrorCode,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from '@tributary/codec';
import { UnknownPartitionError } from '../../storage/index.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big } from '../services.js';

/** Every partition has had one leader, this broker, since it was created: epoch 0. */
const LEADER_EPOCH = 0;
/** Kafka's "no epoch" (RecordBatch.NO_PARTITION_LEADER_EPOCH). */
const NO_EPOCH = -1;

/**
 * Kafka's leader epoch cache lookup with a single epoch starting at the log start offset: the
 * current epoch ends at the log end offset (here the high watermark); an older epoch ends where
 * epoch 0 starts; a newer or undefined one is unknown (-1, -1) with no error.
 */
function endOffsetFor(requested: number, logStartOffset: number, logEndOffset: number): [number, number] {
  if (requested === NO_EPOCH || requested > LEADER_EPOCH) return [NO_EPOCH, -1];
  if (requested === LEADER_EPOCH) return [LEADER_EPOCH, logEndOffset];
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
          if (p.currentLeaderEpoch !== NO_EPOCH) {
            if (p.currentLeaderEpoch < LEADER_EPOCH) return result(ErrorCode.FENCED_LEADER_EPOCH);
            if (p.currentLeaderEpoch > LEADER_EPOCH) return result(ErrorCode.UNKNOWN_LEADER_EPOCH);
          }
          try {
            const offsets = await s.storage.offsets(topic.id, p.partition);
            const [epoch, end] = endOffsetFor(p.leaderEpoch, offsets.logStartOffset, offsets.highWatermark);
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
