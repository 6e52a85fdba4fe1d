import {
  createInitProducerIdResponse,
  ErrorCode,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '@tributary/codec';
import type { TransactionCoordinator } from '../../transactions/transaction-coordinator.js';
import type { RequestContext } from '../request-context.js';

export interface InitProducerIdServices {
  readonly transactions: Pick<TransactionCoordinator, 'initProducerId'>;
}

/**
 * InitProducerId: a producer id and epoch for an idempotent producer (no transactional id) or a
 * transactional one, which fences its previous incarnation. v3+ names the producer's current id
 * and epoch (KIP-360). Clients before v4 know only INVALID_PRODUCER_EPOCH for a fenced producer.
 * Two-phase commit (v6's Enable2Pc and KeepPreparedTxn) is not enabled on this broker.
 */
export async function handleInitProducerId(
  s: InitProducerIdServices,
  ctx: RequestContext,
  req: InitProducerIdRequest,
): Promise<InitProducerIdResponse> {
  if (req.enable2Pc || req.keepPreparedTxn)
    return createInitProducerIdResponse({
      errorCode: ErrorCode.INVALID_REQUEST,
      producerId: -1n,
      producerEpoch: -1,
    });
  const outcome = await s.transactions.initProducerId({
    transactionalId: req.transactionalId,
    transactionTimeoutMs: req.transactionTimeoutMs,
    producerId: req.producerId,
    producerEpoch: req.producerEpoch,
  });
  const fencedForOldClient = ctx.apiVersion < 4 && outcome.errorCode === ErrorCode.PRODUCER_FENCED;
  return createInitProducerIdResponse({
    errorCode: fencedForOldClient ? ErrorCode.INVALID_PRODUCER_EPOCH : outcome.errorCode,
    producerId: outcome.producerId,
    producerEpoch: outcome.producerEpoch,
  });
}
