// A partition's side of a transactional write (Kafka's KIP-890 verification): before a
// transactional batch or TxnOffsetCommit is stored, the transaction coordinator confirms that the
// producer's transaction holds the partition, or, for transactions v2 clients, adds it.
import { ErrorCode } from '@tributary/codec';
import { CONSUMER_OFFSETS_TOPIC } from '../groups/group-log.js';
import {
  produceTransactionOperation,
  produceVerificationError,
  txnOffsetCommitTransactionOperation,
} from '../transactions/append-verification.js';
import type { TransactionalBatch } from './handlers/produce.js';
import type { TransactionCheck } from './handlers/txn-offset-commit.js';
import type { BrokerServices } from './services.js';

/**
 * Produce's check of a transactional batch. A transactional batch needs the request's
 * transactional id: without one Kafka refuses it as TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
export async function verifyTransactionalProduce(b: TransactionalBatch, s: BrokerServices): Promise<number> {
  if (b.transactionalId === null) return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  const operation = produceTransactionOperation(b.apiVersion);
  const failed = await s.transactions.ensurePartitionsInTransaction({
    transactionalId: b.transactionalId,
    producerId: BigInt(b.producerId),
    producerEpoch: b.producerEpoch,
    partitions: [{ topic: b.topic.name, partition: b.partition }],
    operation,
  });
  return failed.length === 0
    ? ErrorCode.NONE
    : produceVerificationError(failed[0]!.errorCode, operation).errorCode;
}

/** TxnOffsetCommit's check: the group's offsets partition is in the producer's transaction. */
export async function verifyTxnOffsetCommit(c: TransactionCheck, s: BrokerServices): Promise<number> {
  const failed = await s.transactions.ensurePartitionsInTransaction({
    transactionalId: c.transactionalId,
    producerId: BigInt(c.producerId),
    producerEpoch: c.producerEpoch,
    partitions: [{ topic: CONSUMER_OFFSETS_TOPIC, partition: s.groups.partitionFor(c.groupId) }],
    operation: txnOffsetCommitTransactionOperation(c.apiVersion),
  });
  return failed.length === 0 ? ErrorCode.NONE : failed[0]!.errorCode;
}
