/*
 * Byte layout of a record batch v2 (magic 2). All integers are big-endian.
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records
 *
 * batchLength counts from partitionLeaderEpoch to the end; the CRC-32C covers attributes to the end,
 * so the broker may rewrite baseOffset and partitionLeaderEpoch without touching it.
 */

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** baseOffset and batchLength: the part of a batch (or legacy message) outside its length. */
export const LOG_OVERHEAD = 12;
/** A batch with no records. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** The smallest legal batchLength for magic 2. */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;
/** The CRC covers [CRC_START, end of batch). */
export const CRC_START = ATTRIBUTES_OFFSET;

export const CURRENT_MAGIC = 2;

/** Kafka's sentinels: no producer id/epoch/sequence, no partition leader epoch, no timestamp. */
export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

/** The smallest encoded record: length, attributes, timestamp/offset deltas, key, value, header count. */
export const MIN_RECORD_SIZE = 7;
