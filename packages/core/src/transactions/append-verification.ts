// What a partition leader needs to check a transactional append against the coordinator
// (KIP-890): which check a request's version asks for, and how the coordinator's answer reaches
// the producer in a Produce response.

import { ErrorCode, errorName } from '@tributary/codec';

/**
 * How a partition leader asks about a transactional append, by the request's version (Kafka's
 * TransactionSupportedOperation): `default` for clients that do not know TRANSACTION_ABORTABLE,
 * `genericError` for those that do, `addPartition` for transactions v2 clients, whose partitions
 * the leader adds to the transaction itself.
 */
export type TransactionSupportedOperation = 'default' | 'genericError' | 'addPartition';

/** Produce v12+ adds partitions (transactions v2), v11 knows TRANSACTION_ABORTABLE. */
export function produceTransactionOperation(version: number): TransactionSupportedOperation {
  if (version > 11) return 'addPartition';
  if (version > 10) return 'genericError';
  return 'default';
}

/** TxnOffsetCommit v5+ adds the offsets partition (transactions v2), v4 knows TRANSACTION_ABORTABLE. */
export function txnOffsetCommitTransactionOperation(version: number): TransactionSupportedOperation {
  if (version > 4) return 'addPartition';
  if (version > 3) return 'genericError';
  return 'default';
}

export interface ProducePartitionError {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/**
 * The Produce answer for a partition whose append failed verification. Retriable coordinator
 * errors become NOT_ENOUGH_REPLICAS, which every producer retries without refreshing metadata;
 * under transactions v2 CONCURRENT_TRANSACTIONS stays, as it is common while the previous
 * transaction completes and those clients retry it.
 */
export function produceVerificationError(
  errorCode: number,
  operation: TransactionSupportedOperation,
): ProducePartitionError {
  switch (errorCode) {
    case ErrorCode.INVALID_TXN_STATE:
      return { errorCode, errorMessage: 'Partition was not added to the transaction' };
    case ErrorCode.NETWORK_EXCEPTION:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return notEnoughReplicas(errorCode);
    case ErrorCode.CONCURRENT_TRANSACTIONS:
      return operation === 'addPartition' ? { errorCode, errorMessage: null } : notEnoughReplicas(errorCode);
    default:
      return { errorCode, errorMessage: null };
  }
}

function notEnoughReplicas(underlying: number): ProducePartitionError {
  const name = errorName(underlying) ?? String(underlying);
  return {
    errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
    errorMessage: `Unable to verify the partition has been added to the transaction. Underlying error: ${name}`,
  };
}
