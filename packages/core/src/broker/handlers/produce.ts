import {
  createProduceResponse,
  ErrorCode,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
  type ProduceResponseTopicProduceResponse,
} from '@tributary/codec';
import {
  InvalidRecordBatchError,
  RecordBatchScanner,
  setLogAppendTime,
  validateRecordBatch,
} from '@tributary/codec/records';
import { UnknownPartitionError } from '../../storage/index.js';
import { refuseKeylessRecords } from '../compacted-topic.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big } from '../services.js';
import type { Topic } from '../topics.js';

function partitionResult(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

/**
 * Produce: every partition's records must be exactly one v2 batch with a valid CRC, within the
 * topic's max.message.bytes. Appends are issued before any await, in request order, so batches
 * from one connection reach each partition in the order they were sent.
 */
export async function handleProduce(
  s: BrokerServices,
  ctx: RequestContext,
  req: ProduceRequest,
): Promise<ProduceResponse | undefined> {
  const acks = req.acks;
  if (acks !== 0 && acks !== 1 && acks !== -1) {
    return createProduceResponse({
      responses: req.topicData.map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitionResponses: t.partitionData.map((p) =>
          partitionResult(p.index, ErrorCode.INVALID_REQUIRED_ACKS),
        ),
      })),
    });
  }
  const byId = ctx.apiVersion >= 13;
  const pending: Promise<void>[] = [];
  const responses: ProduceResponseTopicProduceResponse[] = [];
  for (const td of req.topicData) {
    const topic = byId ? s.topics.byId(td.topicId) : s.topics.byName(td.name);
    const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
    responses.push({ name: td.name, topicId: td.topicId, partitionResponses });
    for (const pd of td.partitionData) {
      if (topic === undefined) {
        partitionResponses.push(
          partitionResult(pd.index, byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        );
        continue;
      }
      const result = partitionResult(pd.index, ErrorCode.NONE);
      partitionResponses.push(result);
      const appended = appendPartition(s, topic, pd.index, pd.records, result);
      if (appended) pending.push(appended);
    }
  }
  if (pending.length > 0) await Promise.all(pending);
  s.metrics.increment('tributary_produce_requests_total', { acks });
  if (acks === 0) return undefined;
  return createProduceResponse({ responses });
}

/** Validates and appends one partition's batch, filling `result`; returns the append to await. */
function appendPartition(
  s: BrokerServices,
  topic: Topic,
  partition: number,
  records: Buffer | null,
  result: ProduceResponsePartitionProduceResponse,
): Promise<void> | null {
  const fail = (code: number, message: string | null = null): null => {
    result.errorCode = code;
    result.errorMessage = message;
    return null;
  };
  if (partition < 0 || partition >= topic.partitionCount) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (records === null || records.length === 0)
    return fail(ErrorCode.INVALID_RECORD, 'Produce request has no records');
  const maxBytes = Number(s.topics.configValue(topic, 'max.message.bytes'));
  let size: number;
  try {
    size = validateRecordBatch(records, 0, { fromProducer: true });
  } catch (e) {
    if (e instanceof InvalidRecordBatchError) {
      if (e.problem === 'magic')
        return fail(
          ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
          'Produce requests must carry magic v2 record batches',
        );
      // A bad checksum or framing is corruption; inconsistent counts are an invalid record.
      const corrupt = e.problem === 'crc' || e.problem === 'truncated' || e.problem === 'length';
      return fail(corrupt ? ErrorCode.CORRUPT_MESSAGE : ErrorCode.INVALID_RECORD, e.message);
    }
    throw e;
  }
  if (size !== records.length)
    return fail(
      ErrorCode.INVALID_RECORD,
      'Produce requests must contain exactly one record batch per partition',
    );
  if (size > maxBytes)
    return fail(
      ErrorCode.MESSAGE_TOO_LARGE,
      `The batch of ${size} bytes exceeds max.message.bytes ${maxBytes}`,
    );
  const keyCheck = refuseKeylessRecords(s, topic, partition, records, result);
  if (result.errorCode !== ErrorCode.NONE) return keyCheck;

  let logAppendTime = -1;
  if (s.topics.configValue(topic, 'message.timestamp.type') === 'LogAppendTime') {
    logAppendTime = s.clock.now();
    setLogAppendTime(records, 0, logAppendTime);
  }
  const header = new RecordBatchScanner(records);
  header.next();
  const lastOffsetDelta = header.lastOffsetDelta;
  const maxTimestamp = header.maxTimestamp;
  const state = topic.partitions[partition]!;
  return s.storage.append(topic.id, partition, { batch: records, lastOffsetDelta, maxTimestamp }).then(
    (r) => {
      result.baseOffset = big(r.baseOffset);
      result.logStartOffset = big(r.logStartOffset);
      result.logAppendTimeMs = big(logAppendTime);
      s.metrics.increment('tributary_records_in_total', undefined, lastOffsetDelta + 1);
      s.metrics.increment('tributary_bytes_appended_total', undefined, size);
      state.notifyAppend();
    },
    (e: unknown) => {
      if (e instanceof UnknownPartitionError) fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else {
        s.logger.error({ err: e, topic: topic.name, partition }, 'append failed');
        fail(ErrorCode.KAFKA_STORAGE_ERROR, 'The broker could not store the batch');
      }
    },
  );
}
