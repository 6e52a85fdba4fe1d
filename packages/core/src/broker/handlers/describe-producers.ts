import {
  createDescribeProducersResponse,
  type DescribeProducersRequest,
  type DescribeProducersResponse,
  type DescribeProducersResponsePartitionResponse,
  ErrorCode,
} from '@tributary/codec';
import { UnknownPartitionError } from '../../storage/index.js';
import { leaderEpochError } from '../leadership.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big } from '../services.js';

/**
 * DescribeProducers: the producers each partition holds state for (id, epoch, last sequence and
 * timestamp, coordinator epoch, the first offset of an open transaction), as the storage keeps it.
 */
export async function handleDescribeProducers(
  s: BrokerServices,
  _ctx: RequestContext,
  req: DescribeProducersRequest,
): Promise<DescribeProducersResponse> {
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      const topic = s.topics.byName(t.name);
      const partitions = await Promise.all(
        t.partitionIndexes.map(async (index): Promise<DescribeProducersResponsePartitionResponse> => {
          const answer = (errorCode: number, errorMessage: string | null = null) => ({
            partitionIndex: index,
            errorCode,
            errorMessage,
            activeProducers: [],
          });
          if (topic === undefined || index < 0 || index >= topic.partitionCount)
            return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          const leaderError = leaderEpochError(s, topic.name, index);
          if (leaderError !== ErrorCode.NONE) return answer(leaderError);
          try {
            const producers = await s.storage.describeProducers(topic.id, index);
            return {
              ...answer(ErrorCode.NONE),
              activeProducers: producers.map((p) => ({
                producerId: big(p.producerId),
                producerEpoch: p.producerEpoch,
                lastSequence: p.lastSequence,
                lastTimestamp: big(p.lastTimestamp),
                coordinatorEpoch: p.coordinatorEpoch,
                currentTxnStartOffset: big(p.currentTxnStartOffset),
              })),
            };
          } catch (e) {
            if (e instanceof UnknownPartitionError) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            throw e;
          }
        }),
      );
      return { name: t.name, partitions };
    }),
  );
  return createDescribeProducersResponse({ topics });
}
