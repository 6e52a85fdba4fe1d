import { createHeartbeatResponse, type HeartbeatRequest, type HeartbeatResponse } from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/** Heartbeat: keeps a member's session and tells it when to rejoin (REBALANCE_IN_PROGRESS). */
export function handleHeartbeat(
  s: BrokerServices,
  ctx: RequestContext,
  req: HeartbeatRequest,
): HeartbeatResponse {
  const groupInstanceId = ctx.apiVersion >= 3 ? req.groupInstanceId : null;
  return createHeartbeatResponse({
    errorCode: s.groups.heartbeat(req.groupId, req.memberId, groupInstanceId, req.generationId),
  });
}
