import {
  type ConsumerGroupDescribeRequest,
  type ConsumerGroupDescribeResponse,
  createConsumerGroupDescribeResponse,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import { AUTHORIZED_OPERATIONS_OMITTED, type BrokerServices } from '../services.js';

// READ, DELETE, DESCRIBE (Kafka AclOperation codes): all a group allows, with no ACLs yet.
const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

/**
 * ConsumerGroupDescribe: a consumer-protocol group's epochs, assignor and members with their
 * current and target assignments. A classic group answers GROUP_ID_NOT_FOUND ("is not a consumer
 * group"), which tells admin clients to describe it with DescribeGroups instead.
 */
export function handleConsumerGroupDescribe(
  s: BrokerServices,
  ctx: RequestContext,
  req: ConsumerGroupDescribeRequest,
): ConsumerGroupDescribeResponse {
  const ops = req.includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
  const v = ctx.apiVersion;
  return createConsumerGroupDescribeResponse({
    groups: req.groupIds.map((groupId) => {
      const d = s.groups.consumer.describe(groupId);
      return {
        ...d,
        // MemberType exists from v1.
        members: d.members.map((m) => ({ ...m, memberType: v >= 1 ? m.memberType : -1 })),
        authorizedOperations: d.errorCode === 0 ? ops : AUTHORIZED_OPERATIONS_OMITTED,
      };
    }),
  });
}
