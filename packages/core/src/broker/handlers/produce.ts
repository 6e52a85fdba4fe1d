import {
  createProduceResponse,
  ErrorCode,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
  type ProduceResponseTopicProduceResponse,
} from '@tributary/codec';
import {
  CONTROL_BIT,
  InvalidRecordBatchError,
  RecordBatchScanner,
  setLogAppendTime,
  TRANSACTIONAL_BIT,
  validateRecordBatch,
} from '@tributary/codec/records';
import { type AppendInput, type AppendResult, UnknownPartitionError } from '../../storage/index.js';
import { REJECTION_CODES } from '../append-rejections.js';
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

/** A transactional batch about to be appended, for the transaction coordinator to vouch for. */
export interface TransactionalBatch {
  readonly transactionalId: string | null;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly topic: Topic;
  readonly partition: number;
  /** The Produce version: from v12 the partition may be added to the transaction implicitly. */
  readonly apiVersion: number;
}

/**
 * Checks a transactional batch against the transaction coordinator (the producer is in a
 * transaction that holds this partition, or, from Produce v12, the partition is added to it) and
 * returns a Kafka error code, NONE to append. A synchronous answer keeps the append in request
 * order; a Promise delays this partition's append until it settles.
 */
export type TransactionalProduceCheck = (
  batch: TransactionalBatch,
  s: BrokerServices,
) => number | Promise<number>;

export interface ProduceHandlerOptions {
  /** Without it transactional batches are appended unchecked (producer state still applies). */
  readonly checkTransactional?: TransactionalProduceCheck;
}

/**
 * Produce: every partition's records must be exactly one v2 batch with a valid CRC, within the
 * topic's max.message.bytes, and no control batch. Appends are issued before any await, in request
 * order, so batches from one connection reach each partition in the order they were sent. A batch
 * with a producer id is de-duplicated and fenced by the storage's producer state: a retried batch
 * is answered with its original offsets and no error, as Kafka does.
 */
export function createProduceHandler(
  options: ProduceHandlerOptions = {},
): (s: BrokerServices, ctx: RequestContext, req: ProduceRequest) => Promise<ProduceResponse | undefined> {
  return (s, ctx, req) => produce(s, ctx, req, options.checkTransactional);
}

/** The Produce handler with no transaction coordinator check. */
export const handleProduce = createProduceHandler();

async function produce(
  s: BrokerServices,
  ctx: RequestContext,
  req: ProduceRequest,
  checkTransactional: TransactionalProduceCheck | undefined,
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
      const appended = appendPartition(s, ctx, req, topic, pd.index, pd.records, result, checkTransactional);
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
  ctx: RequestContext,
  req: ProduceRequest,
  topic: Topic,
  partition: number,
  records: Buffer | null,
  result: ProduceResponsePartitionProduceResponse,
  checkTransactional: TransactionalProduceCheck | undefined,
): Promise<void> | null {
  const fail = (code: number, message: string | null = null): null => {
    result.errorCode = code;
    result.errorMessage = message;
    return null;
  };
  if (partition < 0 || partition >= topic.partitionCount) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  // Another broker leads it: the client refreshes its metadata and sends it there.
  const leadership = s.placement.leadership(topic.name, partition);
  if (leadership === null) return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const ownerEpoch = leadership.epoch;
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
  const header = new RecordBatchScanner(records);
  header.next();
  const attributes = header.attributes;
  // Markers come from the transaction coordinator only (Kafka's LogValidator refuses them too).
  if ((attributes & CONTROL_BIT) !== 0)
    return fail(ErrorCode.INVALID_RECORD, 'Clients are not allowed to write control records');
  const keyCheck = refuseKeylessRecords(s, topic, partition, records, result);
  if (result.errorCode !== ErrorCode.NONE) return keyCheck;

  let logAppendTime = -1;
  if (s.topics.configValue(topic, 'message.timestamp.type') === 'LogAppendTime') {
    logAppendTime = s.clock.now();
    setLogAppendTime(records, 0, logAppendTime);
  }
  const lastOffsetDelta = header.lastOffsetDelta;
  const maxTimestamp = header.maxTimestamp;
  let producerId: number;
  try {
    producerId = header.producerIdNumber;
  } catch {
    return fail(ErrorCode.INVALID_RECORD, 'The producer id is beyond the ids this broker hands out');
  }
  const state = topic.partitions[partition]!;
  const done = (r: AppendResult): void => {
    if (r.status === 'appended') {
      result.baseOffset = big(r.baseOffset);
      result.logStartOffset = big(r.logStartOffset);
      result.logAppendTimeMs = big(logAppendTime);
      s.metrics.increment('tributary_records_in_total', undefined, lastOffsetDelta + 1);
      s.metrics.increment('tributary_bytes_appended_total', undefined, size);
      state.notifyAppend();
    } else if (r.status === 'duplicate') {
      // Kafka answers a retried batch as it answered the original: its offsets, its timestamp.
      result.baseOffset = big(r.baseOffset);
      result.logStartOffset = big(r.logStartOffset);
      result.logAppendTimeMs = big(r.timestamp);
    } else {
      fail(REJECTION_CODES[r.status], r.message);
      result.logStartOffset = big(r.logStartOffset);
    }
  };
  const failed = (e: unknown): void => {
    if (e instanceof UnknownPartitionError) fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    else {
      s.logger.error({ err: e, topic: topic.name, partition }, 'append failed');
      fail(ErrorCode.KAFKA_STORAGE_ERROR, 'The broker could not store the batch');
    }
  };
  if (producerId < 0)
    return s.storage
      .append(topic.id, partition, { batch: records, lastOffsetDelta, maxTimestamp, ownerEpoch })
      .then(done, failed);

  const baseSequence = header.baseSequence;
  if (baseSequence < 0)
    return fail(
      ErrorCode.INVALID_RECORD,
      `Invalid sequence number ${baseSequence} in a record batch with producer id ${producerId}`,
    );
  const input: AppendInput = {
    batch: records,
    lastOffsetDelta,
    maxTimestamp,
    producerId,
    producerEpoch: header.producerEpoch,
    baseSequence,
    transactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    ownerEpoch,
  };
  if (input.transactional && checkTransactional !== undefined) {
    const verdict = checkTransactional(
      {
        transactionalId: req.transactionalId,
        producerId,
        producerEpoch: header.producerEpoch,
        topic,
        partition,
        apiVersion: ctx.apiVersion,
      },
      s,
    );
    const proceed = (code: number): Promise<void> | null =>
      code === ErrorCode.NONE ? s.storage.append(topic.id, partition, input).then(done, failed) : fail(code);
    if (typeof verdict === 'number') return proceed(verdict);
    return verdict.then(proceed, failed).then(() => {});
  }
  return s.storage.append(topic.id, partition, input).then(done, failed);
}
