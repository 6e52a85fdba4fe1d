import { DecodeError } from '../protocol/errors.js';
import { readInt16, readInt32, writeInt16, writeInt32 } from './int64.js';
import { buildRecordBatch } from './record-batch-builder.js';

/**
 * Control record types (the `type` in a control record's key). Transaction markers are 0 and 1;
 * KRaft's own logs use the others, listed so a tool can name them.
 */
export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
  LeaderChange: 2,
  SnapshotHeader: 3,
  SnapshotFooter: 4,
  KRaftVersion: 5,
  KRaftVoters: 6,
} as const;

export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

/** Control record key: version int16 (0), type int16. */
export function encodeControlRecordKey(type: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  writeInt16(b, 0, 0);
  writeInt16(b, 2, type);
  return b;
}

/** Reads a control record key. Later key versions keep version and type first, so they are read too. */
export function parseControlRecordKey(key: Buffer | null): { version: number; type: number } {
  if (key === null || key.length < 4)
    throw new DecodeError(`control record key needs 4 bytes, has ${key?.length ?? 'null'}`, 0);
  const version = readInt16(key, 0);
  if (version < 0) throw new DecodeError(`control record key version ${version} is negative`, 0);
  return { version, type: readInt16(key, 2) };
}

/** End-transaction marker value: version int16 (0), coordinatorEpoch int32. */
export function encodeEndTxnMarkerValue(coordinatorEpoch: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  writeInt16(b, 0, 0);
  writeInt32(b, 2, coordinatorEpoch);
  return b;
}

export interface EndTxnMarker {
  /** True for COMMIT, false for ABORT. */
  commit: boolean;
  coordinatorEpoch: number;
}

/**
 * Parses a transaction marker from a control record's key and value. Throws DecodeError for a
 * control record that is not a COMMIT or ABORT marker, or a malformed one.
 */
export function parseEndTxnMarker(key: Buffer | null, value: Buffer | null): EndTxnMarker {
  const { type } = parseControlRecordKey(key);
  if (type !== ControlRecordType.Abort && type !== ControlRecordType.Commit)
    throw new DecodeError(`control record type ${type} is not a transaction marker`, 2);
  if (value === null || value.length < 6)
    throw new DecodeError(`transaction marker value needs 6 bytes, has ${value?.length ?? 'null'}`, 0);
  const version = readInt16(value, 0);
  if (version < 0) throw new DecodeError(`transaction marker version ${version} is negative`, 0);
  // Later versions may append fields; version 0's fields come first in all of them.
  return { commit: type === ControlRecordType.Commit, coordinatorEpoch: readInt32(value, 2) };
}

export interface EndTxnMarkerBatchInput {
  commit: boolean;
  producerId: number | bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** Milliseconds; the marker's timestamp (Kafka writes the coordinator's clock). */
  timestamp: number;
  baseOffset?: number | bigint;
  partitionLeaderEpoch?: number;
}

/**
 * A control batch holding one COMMIT or ABORT marker, as a transaction coordinator has a partition
 * leader append it: transactional and control bits set, no sequence, one record at offset delta 0.
 */
export function buildEndTxnMarkerBatch(input: EndTxnMarkerBatchInput): Buffer {
  return buildRecordBatch({
    baseOffset: input.baseOffset ?? 0,
    partitionLeaderEpoch: input.partitionLeaderEpoch ?? -1,
    producerId: input.producerId,
    producerEpoch: input.producerEpoch,
    transactional: true,
    control: true,
    records: [
      {
        key: encodeControlRecordKey(input.commit ? ControlRecordType.Commit : ControlRecordType.Abort),
        value: encodeEndTxnMarkerValue(input.coordinatorEpoch),
        timestamp: input.timestamp,
      },
    ],
  });
}
