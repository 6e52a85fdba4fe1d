import {
  createDescribeGroupsResponse,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  type DescribeGroupsResponseDescribedGroup,
  ErrorCode,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import { AUTHORIZED_OPERATIONS_OMITTED, type BrokerServices } from '../services.js';

// READ, DELETE, DESCRIBE (Kafka AclOperation codes): all a group allows, with no ACLs yet.
const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

/** DescribeGroups: live state, protocol and members (metadata and assignment once stable). */
export function handleDescribeGroups(
  s: BrokerServices,
  ctx: RequestContext,
  req: DescribeGroupsRequest,
): DescribeGroupsResponse {
  const v = ctx.apiVersion;
  const ops =
    v >= 3 && req.includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
  const groups = req.groups.map((groupId): DescribeGroupsResponseDescribedGroup => {
    const unavailable = s.groups.unavailableError(groupId);
    const base = {
      errorCode: ErrorCode.NONE as number,
      errorMessage: null as string | null,
      groupId,
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
    if (unavailable !== null) return { ...base, errorCode: unavailable };
    const d = s.groups.describeGroup(groupId);
    if (d === null) {
      // v6 reports an unknown group as such; older versions describe it as Dead.
      if (v >= 6)
        return {
          ...base,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: `Group ${groupId} not found.`,
        };
      return { ...base, groupState: 'Dead' };
    }
    return { ...d, errorMessage: v >= 6 ? d.errorMessage : null, authorizedOperations: ops };
  });
  return createDescribeGroupsResponse({ groups });
}
