import {
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  createAddOffsetsToTxnResponse,
  ErrorCode,
} from '@tributary/codec';
import type { TransactionCoordinator } from '../../transactions/transaction-coordinator.js';
import type { RequestContext } from '../request-context.js';

export interface AddOffsetsToTxnServices {
  readonly transactions: Pick<TransactionCoordinator, 'addOffsetsToTxn'>;
}

/**
 * AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction, so its
 * TxnOffsetCommit offsets are committed or dropped with it. Clients before v2 know only
 * INVALID_PRODUCER_EPOCH for a fenced producer.
 */
export async function handleAddOffsetsToTxn(
  s: AddOffsetsToTxnServices,
  ctx: RequestContext,
  req: AddOffsetsToTxnRequest,
): Promise<AddOffsetsToTxnResponse> {
  const errorCode = await s.transactions.addOffsetsToTxn({
    transactionalId: req.transactionalId,
    producerId: req.producerId,
    producerEpoch: req.producerEpoch,
    groupId: req.groupId,
  });
  return createAddOffsetsToTxnResponse({
    errorCode:
      ctx.apiVersion < 2 && errorCode === ErrorCode.PRODUCER_FENCED
        ? ErrorCode.INVALID_PRODUCER_EPOCH
        : errorCode,
  });
}
