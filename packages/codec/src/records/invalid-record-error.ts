import { DecodeError } from '../protocol/errors.js';

/**
 * What is wrong with a batch, so a broker can answer with the error code Kafka would:
 * `crc` -> CORRUPT_MESSAGE; `magic` -> UNSUPPORTED_FOR_MESSAGE_FORMAT (or INVALID_RECORD);
 * the others -> INVALID_RECORD (CORRUPT_MESSAGE for a produce request, as Kafka does).
 */
export type RecordBatchProblem =
  /** The data ends before the batch does. */
  | 'truncated'
  /** batchLength is smaller than a batch can be, or negative. */
  | 'length'
  /** An unknown magic byte, or a legacy message where a v2 batch was required. */
  | 'magic'
  /** The stored CRC does not match the data. */
  | 'crc'
  /** recordCount, lastOffsetDelta or a record's offsetDelta disagree with each other. */
  | 'offsets'
  /** A record, header or the compressed data inside the batch is malformed. */
  | 'records';

/** A record batch failed a check. It is a DecodeError, so generic handlers catch it too. */
export class InvalidRecordBatchError extends DecodeError {
  readonly problem: RecordBatchProblem;

  constructor(problem: RecordBatchProblem, reason: string, offset: number) {
    super(reason, offset);
    this.problem = problem;
  }
}
