/** Batch attribute bits (int16), magic 2. Bits 0-2 are the compression id. */
export const COMPRESSION_MASK = 0x07;
/** Set when timestamps are LogAppendTime: consumers then take maxTimestamp for every record. */
export const TIMESTAMP_TYPE_BIT = 0x08;
export const TRANSACTIONAL_BIT = 0x10;
/** Set on batches holding control records (transaction markers). */
export const CONTROL_BIT = 0x20;
/** Set when baseTimestamp holds the delete horizon the log cleaner assigned. */
export const DELETE_HORIZON_BIT = 0x40;

export const TimestampType = {
  /** Legacy magic 0 messages carry no timestamp. */
  NoTimestamp: -1,
  CreateTime: 0,
  LogAppendTime: 1,
} as const;

export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

export function compressionOf(attributes: number): number {
  return attributes & COMPRESSION_MASK;
}

export function timestampTypeOf(attributes: number): TimestampType {
  return attributes & TIMESTAMP_TYPE_BIT ? TimestampType.LogAppendTime : TimestampType.CreateTime;
}

export function isTransactional(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_BIT) !== 0;
}

export function isControl(attributes: number): boolean {
  return (attributes & CONTROL_BIT) !== 0;
}

export function hasDeleteHorizon(attributes: number): boolean {
  return (attributes & DELETE_HORIZON_BIT) !== 0;
}

export function batchAttributes(fields: {
  compression?: number;
  timestampType?: TimestampType;
  transactional?: boolean;
  control?: boolean;
  deleteHorizon?: boolean;
}): number {
  return (
    ((fields.compression ?? 0) & COMPRESSION_MASK) |
    (fields.timestampType === TimestampType.LogAppendTime ? TIMESTAMP_TYPE_BIT : 0) |
    (fields.transactional ? TRANSACTIONAL_BIT : 0) |
    (fields.control ? CONTROL_BIT : 0) |
    (fields.deleteHorizon ? DELETE_HORIZON_BIT : 0)
  );
}
