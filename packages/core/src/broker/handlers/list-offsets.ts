import {
  createListOffsetsResponse,
  ErrorCode,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type ListOffsetsResponseListOffsetsPartitionResponse,
} from '@tributary/codec';
import { iterateRecords } from '@tributary/codec/records';
import { UnknownPartitionError } from '../../storage/index.js';
import { leaderEpochError } from '../leadership.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big, num } from '../services.js';
import type { Topic } from '../topics.js';

/** Kafka's special ListOffsets timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;
export const LATEST_TIERED_TIMESTAMP = -5;
export const EARLIEST_PENDING_UPLOAD_TIMESTAMP = -6;

type Found = { offset: number; timestamp: number } | null;

/** The first record at or after `target` in a batch (records inside are in offset order). */
function firstRecordAtOrAfter(batch: Buffer, target: number, minOffset: number): Found {
  let best: Found = null;
  for (const r of iterateRecords(batch, 0, { verifyCrc: false })) {
    const offset = Number(r.offset);
    if (offset < minOffset) continue;
    if (r.timestamp >= target) {
      best = { offset, timestamp: r.timestamp };
      break;
    }
  }
  return best;
}

/** The first record holding the batch's max timestamp. */
function maxTimestampRecord(batch: Buffer, minOffset: number): Found {
  let best: Found = null;
  for (const r of iterateRecords(batch, 0, { verifyCrc: false })) {
    const offset = Number(r.offset);
    if (offset < minOffset) continue;
    if (best === null || r.timestamp > best.timestamp) best = { offset, timestamp: r.timestamp };
  }
  return best;
}

const READ_COMMITTED = 1;
const NOT_FOUND = { offset: -1, timestamp: -1 };

async function lookup(
  s: BrokerServices,
  topic: Topic,
  partition: number,
  timestamp: number,
  readCommitted: boolean,
): Promise<{ offset: number; timestamp: number }> {
  const offsets = await s.storage.offsets(topic.id, partition);
  // What a consumer of this isolation level may read: records at or past it are not answered.
  const lastFetchable = readCommitted ? offsets.lastStableOffset : offsets.highWatermark;
  const fetchable = (found: Found) => (found !== null && found.offset < lastFetchable ? found : NOT_FOUND);
  switch (timestamp) {
    case LATEST_TIMESTAMP:
      return { offset: lastFetchable, timestamp: -1 };
    case LATEST_TIERED_TIMESTAMP:
    case EARLIEST_PENDING_UPLOAD_TIMESTAMP:
      return { offset: offsets.highWatermark, timestamp: -1 };
    case EARLIEST_TIMESTAMP:
    case EARLIEST_LOCAL_TIMESTAMP:
      return { offset: offsets.logStartOffset, timestamp: -1 };
    case MAX_TIMESTAMP: {
      const loc = await s.storage.findMaxTimestampBatch(topic.id, partition);
      return fetchable(loc ? maxTimestampRecord(loc.batch, offsets.logStartOffset) : null);
    }
    default: {
      // The first batch whose max timestamp reaches the target holds the first record that does.
      const loc = await s.storage.findBatchByTimestamp(topic.id, partition, timestamp);
      return fetchable(loc ? firstRecordAtOrAfter(loc.batch, timestamp, offsets.logStartOffset) : null);
    }
  }
}

export async function handleListOffsets(
  s: BrokerServices,
  ctx: RequestContext,
  req: ListOffsetsRequest,
): Promise<ListOffsetsResponse> {
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      const topic = s.topics.byName(t.name);
      const partitions = await Promise.all(
        t.partitions.map(async (p): Promise<ListOffsetsResponseListOffsetsPartitionResponse> => {
          const out = {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.NONE,
            timestamp: -1n,
            offset: -1n,
            leaderEpoch: -1,
          };
          if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount)
            return { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          const leaderError = leaderEpochError(s, topic.name, p.partitionIndex, p.currentLeaderEpoch);
          if (leaderError !== ErrorCode.NONE) return { ...out, errorCode: leaderError };
          try {
            const found = await lookup(
              s,
              topic,
              p.partitionIndex,
              num(p.timestamp),
              req.isolationLevel === READ_COMMITTED,
            );
            // leaderEpoch exists from v4 (and is not ignorable): older versions keep its default.
            return {
              ...out,
              offset: big(found.offset),
              timestamp: big(found.timestamp),
              leaderEpoch: ctx.apiVersion >= 4 ? 0 : -1,
            };
          } catch (e) {
            if (e instanceof UnknownPartitionError)
              return { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
            throw e;
          }
        }),
      );
      return { name: t.name, partitions };
    }),
  );
  void ctx;
  return createListOffsetsResponse({ topics });
}
