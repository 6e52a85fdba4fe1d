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
 *
 * A transactions v2 producer's first batch of a transaction often arrives while its previous
 * transaction's markers are still being written, and the coordinator refuses the add with
 * CONCURRENT_TRANSACTIONS. As Kafka does (add.partitions.to.txn.retry.backoff.ms and .max.ms), the
 * broker retries the add itself instead of answering, for up to the max; here each retry also
 * comes as soon as that completion is written rather than only at the end of the backoff.
 */
export async function verifyTransactionalProduce(b: TransactionalBatch, s: BrokerServices): Promise<number> {
  const { transactionalId } = b;
  if (transactionalId === null) return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  const operation = produceTransactionOperation(b.apiVersion);
  const started = s.clock.monotonic();
  for (;;) {
    const failed = await s.transactions.ensurePartitionsInTransaction({
      transactionalId,
      producerId: BigInt(b.producerId),
      producerEpoch: b.producerEpoch,
      partitions: [{ topic: b.topic.name, partition: b.partition }],
      operation,
    });
    if (failed.length === 0) return ErrorCode.NONE;
    const errorCode = failed[0]!.errorCode;
    const retry =
      operation === 'addPartition' &&
      errorCode === ErrorCode.CONCURRENT_TRANSACTIONS &&
      s.clock.monotonic() - started < s.config.addPartitionsToTxnRetryBackoffMaxMs;
    if (!retry) return produceVerificationError(errorCode, operation).errorCode;
    await s.transactions.completionOrTimeout(transactionalId, s.config.addPartitionsToTxnRetryBackoffMs);
  }
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
