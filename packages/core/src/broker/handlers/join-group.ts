import { createJoinGroupResponse, type JoinGroupRequest, type JoinGroupResponse } from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';
import { clientHost } from './group-handler-util.js';

/**
 * JoinGroup: parks until the group's join phase ends (everyone rejoined, the rebalance timeout,
 * or the initial delay of a new group); the leader's answer carries every member's metadata.
 */
export async function handleJoinGroup(
  s: BrokerServices,
  ctx: RequestContext,
  req: JoinGroupRequest,
): Promise<JoinGroupResponse> {
  const v = ctx.apiVersion;
  const groupInstanceId = v >= 5 ? req.groupInstanceId : null;
  const seen = new Set<string>();
  const protocols = [];
  for (const p of req.protocols) {
    // Protocol names are a set in Kafka: a repeated name keeps its first entry.
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    // Copied so the member's metadata does not keep the request frame alive.
    protocols.push({ name: p.name, metadata: Buffer.from(p.metadata) });
  }
  const outcome = await s.groups.join({
    groupId: req.groupId,
    memberId: req.memberId,
    groupInstanceId,
    protocolType: req.protocolType,
    protocols,
    sessionTimeoutMs: req.sessionTimeoutMs,
    // v0 has no rebalance timeout: the session timeout serves as one.
    rebalanceTimeoutMs: v >= 1 && req.rebalanceTimeoutMs >= 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
    clientId: ctx.clientId ?? '',
    clientHost: clientHost(ctx),
    requireKnownMemberId: v >= 4 && groupInstanceId === null,
    supportsSkippingAssignment: v >= 9,
  });
  return createJoinGroupResponse({
    errorCode: outcome.errorCode,
    generationId: outcome.generationId,
    protocolType: outcome.protocolType,
    // Before v7 the protocol name is not nullable: no protocol is the empty string.
    protocolName: v >= 7 ? outcome.protocolName : (outcome.protocolName ?? ''),
    leader: outcome.leader,
    skipAssignment: v >= 9 && outcome.skipAssignment,
    memberId: outcome.memberId,
    members: outcome.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata,
    })),
  });
}
