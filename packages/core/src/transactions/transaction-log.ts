// Transaction metadata in `__transaction_state`: Kafka's TransactionLogKey/TransactionLogValue
// records, so a log written here reads the same way Kafka's coordinator reads its own.

import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from '@tributary/codec/coordinator';
import { partitionForGroup } from '../groups/group-log.js';
import {
  NO_PRODUCER_EPOCH,
  partitionKey,
  partitionsByTopic,
  type TransactionSnapshot,
} from './transaction-metadata.js';
import { TransactionState, transactionStateFromId } from './transaction-state.js';

/**
 * The TransactionLogValue version written: 1 is flexible and carries the previous and next
 * producer ids and the client's transaction version as tagged fields (Kafka writes it from
 * transaction version 1 on).
 */
export const TRANSACTION_LOG_VALUE_VERSION = 1;

/** The topic Kafka keeps transaction state in. */
export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** The record type of TransactionLogKey: the int16 a record's key starts with. */
const TRANSACTION_LOG_KEY_VERSION = 0;
const MAX_TRANSACTION_LOG_VALUE_VERSION = 1;

/**
 * The `__transaction_state` partition that holds a transactional id: abs(hash) mod partitions
 * (transaction.state.log.num.partitions, 50 by default), placed as Kafka places it.
 */
export function partitionForTransactionalId(transactionalId: string, partitions: number): number {
  return partitionForGroup(transactionalId, partitions);
}

/** One record read back from the log: the latest value for an id, or a tombstone (null). */
export interface TransactionLogRecord {
  readonly transactionalId: string;
  readonly value: TransactionLogValue | null;
}

/** What the log holds when the coordinator starts. */
export interface LoadedTransactionLog {
  /**
   * The coordinator epoch: higher than that of any earlier coordinator of these ids, so markers it
   * writes fence a zombie coordinator's (TRANSACTION_COORDINATOR_FENCED).
   */
  readonly coordinatorEpoch: number;
  /** Records in log order; a later record for an id replaces an earlier one, null removes it. */
  readonly records: Iterable<TransactionLogRecord>;
}

/**
 * The persistence port of the transaction coordinator: a compacted log keyed by transactional
 * id (Kafka's `__transaction_state`). `append` resolves once the record is durable; a rejection
 * fails the change that wrote it (the client is told to retry).
 */
export interface TransactionStateLog {
  /** Creates the log (`__transaction_state`) when missing. */
  open(): Promise<void>;
  /** Every partition's records: what a coordinator of all transactional ids loads at start. */
  load(): Promise<LoadedTransactionLog>;
  /** One partition's records, when this coordinator takes the partition on. */
  loadPartition(partition: number): Promise<LoadedTransactionLog>;
  /** Forgets a partition this coordinator gives up (another broker takes it on). */
  unloadPartition(partition: number): void;
  /** The partition holding a transactional id's state. */
  partitionFor(transactionalId: string): number;
  /** Partitions of the log; known once `load` or `loadPartition` has run. */
  readonly partitionCount: number;
  /** Writes the value for an id, or its tombstone (null) when the id expires. */
  append(transactionalId: string, value: TransactionLogValue | null): Promise<void>;
}

/** The log record for a transactional id's state. Empty records carry no partitions (null). */
export function toTransactionLogValue(s: TransactionSnapshot): TransactionLogValue {
  if (s.state === TransactionState.Empty && s.partitions.size > 0)
    throw new Error('An Empty transaction has no partitions');
  let partitions: TransactionLogValue['transactionPartitions'] = null;
  if (s.state !== TransactionState.Empty) {
    partitions = partitionsByTopic(s.partitions).map((t) => ({ topic: t.topic, partitionIds: t.partitions }));
  }
  return {
    producerId: s.producerId,
    previousProducerId: s.prevProducerId,
    nextProducerId: s.nextProducerId,
    producerEpoch: s.producerEpoch,
    nextProducerEpoch: NO_PRODUCER_EPOCH,
    transactionTimeoutMs: s.txnTimeoutMs,
    transactionStatus: s.state,
    transactionPartitions: partitions,
    transactionLastUpdateTimestampMs: BigInt(s.txnLastUpdateTimestamp),
    transactionStartTimestampMs: BigInt(s.txnStartTimestamp),
    clientTransactionVersion: s.clientTransactionVersion,
  };
}

/**
 * The state a log record describes. The last epoch is not in the record: it reads back as -1, as
 * Kafka's coordinator reads it, so a retried InitProducerId spanning a restart is fenced.
 */
export function fromTransactionLogValue(v: TransactionLogValue): TransactionSnapshot {
  const state = transactionStateFromId(v.transactionStatus);
  const partitions = new Set<string>();
  if (state !== TransactionState.Empty)
    for (const t of v.transactionPartitions ?? [])
      for (const p of t.partitionIds) partitions.add(partitionKey(t.topic, p));
  return {
    producerId: v.producerId,
    prevProducerId: v.previousProducerId,
    nextProducerId: v.nextProducerId,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs: v.transactionTimeoutMs,
    state,
    partitions,
    txnStartTimestamp: Number(v.transactionStartTimestampMs),
    txnLastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs),
    clientTransactionVersion: v.clientTransactionVersion,
  };
}

function withVersion(version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, 2);
  return out;
}

/**
 * A record's key and value bytes as Kafka writes them in `__transaction_state`: each starts with
 * an int16 version (the key's is the record type, 0), and an expired id's value is null.
 */
export function encodeTransactionLogRecord(r: TransactionLogRecord): { key: Buffer; value: Buffer | null } {
  return {
    key: withVersion(
      TRANSACTION_LOG_KEY_VERSION,
      encodeTransactionLogKey({ transactionalId: r.transactionalId }, 0),
    ),
    value:
      r.value === null
        ? null
        : withVersion(
            TRANSACTION_LOG_VALUE_VERSION,
            encodeTransactionLogValue(r.value, TRANSACTION_LOG_VALUE_VERSION),
          ),
  };
}

/**
 * The record a key and value hold, or null for a record this coordinator skips as Kafka's does:
 * another key type, or a value version newer than it knows.
 */
export function decodeTransactionLogRecord(key: Buffer, value: Buffer | null): TransactionLogRecord | null {
  if (key.readInt16BE(0) !== TRANSACTION_LOG_KEY_VERSION) return null;
  const { transactionalId } = decodeTransactionLogKey(key, 0, 2);
  if (value === null) return { transactionalId, value: null };
  const version = value.readInt16BE(0);
  if (version < 0 || version > MAX_TRANSACTION_LOG_VALUE_VERSION) return null;
  return { transactionalId, value: decodeTransactionLogValue(value, version, 2) };
}
