import {
  createDescribeTransactionsResponse,
  type DescribeTransactionsRequest,
  type DescribeTransactionsResponse,
} from '@tributary/codec';
import type { TransactionCoordinator } from '../../transactions/transaction-coordinator.js';
import type { RequestContext } from '../request-context.js';

export interface DescribeTransactionsServices {
  readonly transactions: Pick<TransactionCoordinator, 'describeTransaction'>;
}

/**
 * DescribeTransactions: the state, producer and partitions of each transactional id asked for
 * (TRANSACTIONAL_ID_NOT_FOUND for unknown ones). While markers are being written, only the
 * partitions still without one are listed.
 */
export function handleDescribeTransactions(
  s: DescribeTransactionsServices,
  _ctx: RequestContext,
  req: DescribeTransactionsRequest,
): DescribeTransactionsResponse {
  return createDescribeTransactionsResponse({
    transactionStates: req.transactionalIds.map((id) => {
      const d = s.transactions.describeTransaction(id);
      return {
        errorCode: d.errorCode,
        transactionalId: d.transactionalId,
        transactionState: d.transactionState,
        transactionTimeoutMs: d.transactionTimeoutMs,
        transactionStartTimeMs: BigInt(d.transactionStartTimeMs),
        producerId: d.producerId,
        producerEpoch: d.producerEpoch,
        topics: d.topics.map((t) => ({ topic: t.topic, partitions: [...t.partitions] })),
      };
    }),
  });
}
