import {
  createListTransactionsResponse,
  type ListTransactionsRequest,
  type ListTransactionsResponse,
} from '@tributary/codec';
import type { TransactionCoordinator } from '../../transactions/transaction-coordinator.js';
import type { RequestContext } from '../request-context.js';

export interface ListTransactionsServices {
  readonly transactions: Pick<TransactionCoordinator, 'listTransactions'>;
}

/**
 * ListTransactions: the coordinator's transactional ids, filtered by state and producer id, from
 * v1 by how long the transaction has run, from v2 by a regular expression over the id (KIP-1152).
 * State names the coordinator does not know come back in UnknownStateFilters.
 */
export function handleListTransactions(
  s: ListTransactionsServices,
  ctx: RequestContext,
  req: ListTransactionsRequest,
): ListTransactionsResponse {
  const v = ctx.apiVersion;
  const listing = s.transactions.listTransactions({
    stateFilters: req.stateFilters,
    producerIdFilters: req.producerIdFilters,
    durationFilterMs: v >= 1 ? Number(req.durationFilter) : -1,
    transactionalIdPattern: v >= 2 ? req.transactionalIdPattern : null,
  });
  return createListTransactionsResponse({
    errorCode: listing.errorCode,
    unknownStateFilters: [...listing.unknownStateFilters],
    transactionStates: listing.transactionStates.map((t) => ({ ...t })),
  });
}
