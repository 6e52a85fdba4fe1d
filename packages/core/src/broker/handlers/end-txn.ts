import { createEndTxnResponse, type EndTxnRequest, type EndTxnResponse, ErrorCode } from '@tributary/codec';
import type { TransactionCoordinator } from '../../transactions/transaction-coordinator.js';
import type { RequestContext } from '../request-context.js';

export interface EndTxnServices {
  readonly transactions: Pick<TransactionCoordinator, 'endTxn'>;
}

/**
 * EndTxn: commits or aborts the producer's transaction. v5 is transactions v2 (KIP-890): the
 * epoch is bumped on every EndTxn and the answer carries the producer id and epoch to use next.
 * Clients before v2 know only INVALID_PRODUCER_EPOCH for a fenced producer.
 */
export async function handleEndTxn(
  s: EndTxnServices,
  ctx: RequestContext,
  req: EndTxnRequest,
): Promise<EndTxnResponse> {
  const v = ctx.apiVersion;
  const outcome = await s.transactions.endTxn({
    transactionalId: req.transactionalId,
    producerId: req.producerId,
    producerEpoch: req.producerEpoch,
    committed: req.committed,
    transactionVersion: v >= 5 ? 2 : 0,
  });
  return createEndTxnResponse({
    errorCode:
      v < 2 && outcome.errorCode === ErrorCode.PRODUCER_FENCED
        ? ErrorCode.INVALID_PRODUCER_EPOCH
        : outcome.errorCode,
    producerId: v >= 5 ? outcome.producerId : -1n,
    producerEpoch: v >= 5 ? outcome.producerEpoch : -1,
  });
}
