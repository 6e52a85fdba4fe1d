import {
  createTransactionLogValue,
  decodeTransactionLogValue,
  encodeTransactionLogValue,
} from '@tributary/codec/coordinator';
import { describe, expect, it } from 'vitest';
import {
  decodeTransactionLogRecord,
  encodeTransactionLogRecord,
  fromTransactionLogValue,
  partitionForTransactionalId,
  TRANSACTION_LOG_VALUE_VERSION,
  toTransactionLogValue,
} from './transaction-log.js';
import {
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  partitionKey,
  type TransactionSnapshot,
} from './transaction-metadata.js';
import { TransactionState } from './transaction-state.js';

const base: TransactionSnapshot = {
  producerId: 4000n,
  prevProducerId: 3999n,
  nextProducerId: NO_PRODUCER_ID,
  producerEpoch: 12,
  lastProducerEpoch: NO_PRODUCER_EPOCH,
  txnTimeoutMs: 60_000,
  state: TransactionState.Ongoing,
  partitions: new Set([
    partitionKey('orders', 2),
    partitionKey('orders', 0),
    partitionKey('__consumer_offsets', 17),
  ]),
  txnStartTimestamp: 1_700_000_000_000,
  txnLastUpdateTimestamp: 1_700_000_000_500,
  clientTransactionVersion: 2,
};

function roundTrip(s: TransactionSnapshot): TransactionSnapshot {
  const bytes = encodeTransactionLogValue(toTransactionLogValue(s), TRANSACTION_LOG_VALUE_VERSION);
  return fromTransactionLogValue(decodeTransactionLogValue(bytes, TRANSACTION_LOG_VALUE_VERSION));
}

describe('transaction log records', () => {
  it('round-trip every field but the last epoch through TransactionLogValue v1 bytes', () => {
    for (const state of [
      TransactionState.Ongoing,
      TransactionState.PrepareCommit,
      TransactionState.PrepareAbort,
      TransactionState.CompleteCommit,
      TransactionState.CompleteAbort,
    ]) {
      const s = {
        ...base,
        state,
        nextProducerId: state === TransactionState.PrepareCommit ? 4001n : NO_PRODUCER_ID,
      };
      expect(roundTrip(s)).toEqual(s);
    }
  });

  it('read the last epoch back as -1, as it is not in the record', () => {
    expect(roundTrip({ ...base, lastProducerEpoch: 11 }).lastProducerEpoch).toBe(NO_PRODUCER_EPOCH);
  });

  it('write an Empty state with null partitions and the status byte, ids and versions in their fields', () => {
    const v = toTransactionLogValue({
      ...base,
      state: TransactionState.Empty,
      partitions: new Set(),
      txnStartTimestamp: -1,
    });
    expect(v).toMatchObject({
      producerId: 4000n,
      previousProducerId: 3999n,
      nextProducerId: -1n,
      producerEpoch: 12,
      transactionTimeoutMs: 60_000,
      transactionStatus: 0,
      transactionPartitions: null,
      transactionStartTimestampMs: -1n,
      transactionLastUpdateTimestampMs: 1_700_000_000_500n,
      clientTransactionVersion: 2,
    });
    expect(
      roundTrip({ ...base, state: TransactionState.Empty, partitions: new Set(), txnStartTimestamp: -1 })
        .partitions.size,
    ).toBe(0);
  });

  it('group partitions by topic in ascending order', () => {
    expect(toTransactionLogValue(base).transactionPartitions).toEqual([
      { topic: 'orders', partitionIds: [0, 2] },
      { topic: '__consumer_offsets', partitionIds: [17] },
    ]);
  });

  it('refuse an Empty state with partitions', () => {
    expect(() => toTransactionLogValue({ ...base, state: TransactionState.Empty })).toThrow(/no partitions/);
  });

  it('read a version 0 record written by an older Kafka, without the tagged fields', () => {
    const v0 = createTransactionLogValue({
      producerId: 7n,
      producerEpoch: 3,
      transactionTimeoutMs: 1000,
      transactionStatus: TransactionState.CompleteAbort,
      transactionPartitions: [],
      transactionLastUpdateTimestampMs: 5n,
      transactionStartTimestampMs: 4n,
    });
    const s = fromTransactionLogValue(decodeTransactionLogValue(encodeTransactionLogValue(v0, 0), 0));
    expect(s).toMatchObject({
      producerId: 7n,
      prevProducerId: -1n,
      nextProducerId: -1n,
      producerEpoch: 3,
      state: TransactionState.CompleteAbort,
      clientTransactionVersion: 0,
    });
  });

  it('refuse an unknown status byte', () => {
    expect(() => fromTransactionLogValue(createTransactionLogValue({ transactionStatus: 9 }))).toThrow(
      /Unknown/,
    );
  });
});

describe('transaction log record bytes', () => {
  it('frame key and value with their versions, and read them back', () => {
    const value = toTransactionLogValue(base);
    const { key, value: bytes } = encodeTransactionLogRecord({ transactionalId: 'txn-é', value });
    expect(key.readInt16BE(0)).toBe(0);
    expect(key.subarray(2)).toEqual(Buffer.from([0, 6, ...Buffer.from('txn-é')]));
    expect(bytes!.readInt16BE(0)).toBe(1);
    expect(decodeTransactionLogRecord(key, bytes)).toEqual({ transactionalId: 'txn-é', value });
  });

  it('write and read tombstones', () => {
    const { key, value } = encodeTransactionLogRecord({ transactionalId: 'gone', value: null });
    expect(value).toBeNull();
    expect(decodeTransactionLogRecord(key, null)).toEqual({ transactionalId: 'gone', value: null });
  });

  it('skip other key types and value versions newer than it knows', () => {
    const { key, value } = encodeTransactionLogRecord({
      transactionalId: 'x',
      value: toTransactionLogValue(base),
    });
    const otherKey = Buffer.from(key);
    otherKey.writeInt16BE(1, 0);
    expect(decodeTransactionLogRecord(otherKey, value)).toBeNull();
    const newer = Buffer.from(value!);
    newer.writeInt16BE(2, 0);
    expect(decodeTransactionLogRecord(key, newer)).toBeNull();
  });

  it('place transactional ids as Kafka does: abs(String.hashCode) mod partitions', () => {
    // In Java "hello".hashCode() is 99162322 and "polygenelubricants".hashCode() is Integer.MIN_VALUE.
    expect(partitionForTransactionalId('hello', 50)).toBe(22);
    expect(partitionForTransactionalId('polygenelubricants', 50)).toBe(0);
  });
});
