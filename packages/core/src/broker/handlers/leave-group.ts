import {
  createLeaveGroupResponse,
  ErrorCode,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/** LeaveGroup: one member before v3, a batch (static members by instance id) from v3. */
export function handleLeaveGroup(
  s: BrokerServices,
  ctx: RequestContext,
  req: LeaveGroupRequest,
): LeaveGroupResponse {
  if (ctx.apiVersion < 3) {
    const outcome = s.groups.leave(req.groupId, [{ memberId: req.memberId, groupInstanceId: null }]);
    // Before v3 the one member's error is the response's error.
    const errorCode =
      outcome.errorCode !== ErrorCode.NONE
        ? outcome.errorCode
        : (outcome.members[0]?.errorCode ?? ErrorCode.NONE);
    return createLeaveGroupResponse({ errorCode });
  }
  const outcome = s.groups.leave(
    req.groupId,
    req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })),
  );
  return createLeaveGroupResponse({ errorCode: outcome.errorCode, members: outcome.members });
}
