import {
  createDeleteGroupsResponse,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/** DeleteGroups: only empty groups go, with their offsets; others answer NON_EMPTY_GROUP. */
export async function handleDeleteGroups(
  s: BrokerServices,
  _ctx: RequestContext,
  req: DeleteGroupsRequest,
): Promise<DeleteGroupsResponse> {
  return createDeleteGroupsResponse({ results: await s.groups.deleteGroups(req.groupsNames) });
}
