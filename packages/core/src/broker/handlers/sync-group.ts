import { createSyncGroupResponse, type SyncGroupRequest, type SyncGroupResponse } from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/** SyncGroup: the leader hands in the assignment; every member gets its own bytes back untouched. */
export async function handleSyncGroup(
  s: BrokerServices,
  ctx: RequestContext,
  req: SyncGroupRequest,
): Promise<SyncGroupResponse> {
  const v = ctx.apiVersion;
  const outcome = await s.groups.sync({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: v >= 3 ? req.groupInstanceId : null,
    protocolType: v >= 5 ? req.protocolType : null,
    protocolName: v >= 5 ? req.protocolName : null,
    assignments: req.assignments,
  });
  return createSyncGroupResponse({
    errorCode: outcome.errorCode,
    protocolType: outcome.protocolType,
    protocolName: outcome.protocolName,
    assignment: outcome.assignment,
  });
}
