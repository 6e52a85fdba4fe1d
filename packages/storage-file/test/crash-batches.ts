// What the crash child and its parent share (the child module runs on import).
import { buildRecordBatch } from '@tributary/codec/records';

/** Idempotent producers per partition (ids 100 + 10 * partition + k). */
export const IDEMPOTENT_PER_PARTITION = 2;
/** The transactional producer of a partition. */
export const transactionalId = (partition: number) => 200 + partition;
export const idempotentId = (partition: number, k: number) => 100 + 10 * partition + k;

/** A batch of `count` records from a producer (epoch 0). */
export function producerBatch(
  producerId: number,
  sequence: number,
  count: number,
  transactional: boolean,
  now = Date.now(),
): Buffer {
  return buildRecordBatch({
    producerId,
    producerEpoch: 0,
    baseSequence: sequence,
    transactional,
    records: Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`${producerId}-${i}`),
      value: Buffer.alloc(100, sequence & 0xff),
      timestamp: now,
    })),
  });
}
