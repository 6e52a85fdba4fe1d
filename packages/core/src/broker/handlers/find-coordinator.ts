import {
  createFindCoordinatorResponse,
  ErrorCode,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/** Kafka's coordinator key types. */
const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

interface Answer {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

/**
 * FindCoordinator: the broker owning the key's partition of __consumer_offsets (groups) or
 * __transaction_state (transactional ids), as the placement says. Until the
 * group coordinator has loaded __consumer_offsets (the transaction coordinator
 * __transaction_state), or once it has stopped, the answer is COORDINATOR_NOT_AVAILABLE, which
 * clients retry.
 */
export function handleFindCoordinator(
  s: BrokerServices,
  ctx: RequestContext,
  req: FindCoordinatorRequest,
): FindCoordinatorResponse {
  const v = ctx.apiVersion;
  const keyType = v >= 1 ? req.keyType : KEY_TYPE_GROUP;
  const answer = (key: string): Answer => {
    if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION)
      return noNode(ErrorCode.INVALID_REQUEST, `Unsupported coordinator key type ${keyType}`);
    const active = keyType === KEY_TYPE_GROUP ? s.groups.isActive : s.transactions.isActive;
    if (!active) return noNode(ErrorCode.COORDINATOR_NOT_AVAILABLE, null);
    const owner =
      keyType === KEY_TYPE_GROUP
        ? s.placement.coordinatorOf('group', s.groups.partitionFor(key))
        : s.placement.coordinatorOf('transaction', s.transactions.partitionFor(key));
    if (owner === null) return noNode(ErrorCode.COORDINATOR_NOT_AVAILABLE, null);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      nodeId: owner.nodeId,
      host: owner.host,
      port: owner.port,
    };
  };
  if (v < 4) return createFindCoordinatorResponse(answer(req.key));
  // v4+ batches keys; each gets its own answer.
  return createFindCoordinatorResponse({
    coordinators: req.coordinatorKeys.map((key) => ({ key, ...answer(key) })),
  });
}

function noNode(errorCode: number, errorMessage: string | null): Answer {
  return { errorCode, errorMessage, nodeId: -1, host: '', port: -1 };
}
