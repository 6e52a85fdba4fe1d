import { ErrorCode, type ProduceResponsePartitionProduceResponse } from '@tributary/codec';
import { InvalidRecordBatchError, openRecords, type ReadRecordsOptions } from '@tributary/codec/records';
import { type BrokerServices, big } from './services.js';
import type { Topic } from './topics.js';

/** A record's problem, as Produce v8+ reports it per record (KIP-467). */
export interface RecordError {
  /** The record's index within its batch. */
  readonly batchIndex: number;
  readonly batchIndexErrorMessage: string | null;
}

/**
 * One record error for each record without a key in the v2 batch at the start of `batch`, whose
 * CRC is already checked. Compaction keeps the latest record per key, so a keyless record could
 * never be compacted away: Kafka refuses it. The records are decompressed when they need to be.
 * Throws InvalidRecordBatchError when they cannot be read.
 */
export function keylessRecordErrors(
  batch: Buffer,
  topicPartition: string,
  options: ReadRecordsOptions = {},
): RecordError[] {
  const { cursor } = openRecords(batch, 0, { ...options, verifyCrc: false });
  const errors: RecordError[] = [];
  let message: string | null = null;
  while (cursor.next()) {
    if (cursor.keyLength >= 0) continue;
    message ??= `Compacted topic cannot accept message without key in topic partition ${topicPartition}`;
    errors.push({ batchIndex: cursor.index - 1, batchIndexErrorMessage: message });
  }
  return errors;
}

/** The partition-level message Kafka gives with record errors: their count and the first three. */
export function recordErrorsMessage(errors: readonly RecordError[]): string {
  const shown = errors
    .slice(0, 3)
    .map(
      (e) =>
        `RecordError(batchIndex=${e.batchIndex}, message=${e.batchIndexErrorMessage === null ? 'null' : `'${e.batchIndexErrorMessage}'`})`,
    );
  return `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown.join(', ')}]`;
}

/**
 * Produce's check for topics whose cleanup.policy includes compact: a batch holding any record
 * without a key is refused whole with INVALID_RECORD, a record error per keyless record and, as
 * Kafka reports with record errors, the partition's log start offset. A refusal sets
 * `result.errorCode`; the returned promise (the log start offset lookup) is then to be awaited
 * before answering. Records that cannot be read are refused as INVALID_RECORD too.
 */
export function refuseKeylessRecords(
  s: BrokerServices,
  topic: Topic,
  partition: number,
  records: Buffer,
  result: ProduceResponsePartitionProduceResponse,
): Promise<void> | null {
  if (!topic.cleanupPolicy.compact) return null;
  let errors: RecordError[];
  try {
    errors = keylessRecordErrors(records, `${topic.name}-${partition}`);
  } catch (e) {
    if (!(e instanceof InvalidRecordBatchError)) throw e;
    result.errorCode = ErrorCode.INVALID_RECORD;
    result.errorMessage = e.message;
    return null;
  }
  if (errors.length === 0) return null;
  result.errorCode = ErrorCode.INVALID_RECORD;
  result.errorMessage = recordErrorsMessage(errors);
  result.recordErrors = errors.map((e) => ({ ...e }));
  return s.storage.offsets(topic.id, partition).then(
    (o) => {
      result.logStartOffset = big(o.logStartOffset);
    },
    // Deleted meanwhile: the error stands without an offset.
    () => {},
  );
}
