import { createListGroupsResponse, type ListGroupsRequest, type ListGroupsResponse } from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/** ListGroups: every group, filtered by state (v4+) and type (v5+). */
export function handleListGroups(
  s: BrokerServices,
  ctx: RequestContext,
  req: ListGroupsRequest,
): ListGroupsResponse {
  const v = ctx.apiVersion;
  const unavailable = s.groups.unavailableError();
  if (unavailable !== null) return createListGroupsResponse({ errorCode: unavailable });
  const groups = s.groups.listGroups(v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []);
  return createListGroupsResponse({ groups });
}
