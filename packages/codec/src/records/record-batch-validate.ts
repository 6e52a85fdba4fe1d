import { crc32c } from './crc32c.js';
import { readInt32 } from './int64.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import {
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  RECORD_COUNT_OFFSET,
} from './record-batch-layout.js';
import { RecordBatchScanner } from './record-batch-scanner.js';

export interface ValidateOptions {
  /**
   * The batch comes straight from a producer: require recordCount === lastOffsetDelta + 1, as
   * Kafka does for produce requests (the log cleaner may later leave gaps, so stored batches are
   * not held to it).
   */
  fromProducer?: boolean;
}

/**
 * Checks the v2 batch that starts at `scan.position`: magic, counts and CRC. Allocates nothing.
 */
function checkCurrent(scan: RecordBatchScanner, options: ValidateOptions): void {
  const buf = scan.buf;
  const p = scan.position;
  const magic = buf[p + MAGIC_OFFSET]!;
  if (magic !== CURRENT_MAGIC)
    throw new InvalidRecordBatchError(
      'magic',
      `expected a magic 2 batch, found magic ${magic}`,
      p + MAGIC_OFFSET,
    );
  const end = p + scan.size;
  const stored = readInt32(buf, p + CRC_OFFSET) >>> 0;
  const actual = crc32c(buf, p + CRC_START, end);
  if (stored !== actual)
    throw new InvalidRecordBatchError(
      'crc',
      `record batch CRC is 0x${stored.toString(16)}, data gives 0x${actual.toString(16)}`,
      p + CRC_OFFSET,
    );
  const count = readInt32(buf, p + RECORD_COUNT_OFFSET);
  const lastOffsetDelta = readInt32(buf, p + LAST_OFFSET_DELTA_OFFSET);
  if (count < 0)
    throw new InvalidRecordBatchError(
      'offsets',
      `record count ${count} is negative`,
      p + RECORD_COUNT_OFFSET,
    );
  if (lastOffsetDelta < -1 || (count > 0 && lastOffsetDelta < count - 1))
    throw new InvalidRecordBatchError(
      'offsets',
      `last offset delta ${lastOffsetDelta} cannot hold ${count} records`,
      p + LAST_OFFSET_DELTA_OFFSET,
    );
  if (options.fromProducer && lastOffsetDelta !== count - 1)
    throw new InvalidRecordBatchError(
      'offsets',
      `producer batch has ${count} records but last offset delta ${lastOffsetDelta}`,
      p + LAST_OFFSET_DELTA_OFFSET,
    );
}

/**
 * Validates the v2 batch at `position`: complete in `buf`, a sane length, magic 2, the CRC, and
 * consistent counts. Returns the batch's size. Throws InvalidRecordBatchError (a DecodeError)
 * whose `problem` says what failed. Records are not decoded: see `iterateRecords` for that.
 */
export function validateRecordBatch(buf: Buffer, position = 0, options: ValidateOptions = {}): number {
  const scan = new RecordBatchScanner(buf, position);
  if (!scan.next())
    throw new InvalidRecordBatchError(
      'truncated',
      `record batch needs more than the ${buf.length - position} bytes left`,
      position,
    );
  checkCurrent(scan, options);
  return scan.size;
}

/**
 * Validates every batch in a `records` field, as a broker does for a produce request: all v2,
 * all complete (no trailing partial batch), all with a matching CRC. Returns the batch count.
 */
export function validateRecords(records: Buffer, options: ValidateOptions = {}): number {
  const scan = new RecordBatchScanner(records);
  let batches = 0;
  while (scan.next()) {
    checkCurrent(scan, options);
    batches++;
  }
  if (scan.partialBytes > 0)
    throw new InvalidRecordBatchError(
      'truncated',
      `records end in a partial batch of ${scan.partialBytes} bytes`,
      records.length - scan.partialBytes,
    );
  return batches;
}
