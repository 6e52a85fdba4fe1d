import { randomBytes } from 'node:crypto';
import {
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  createConsumerGroupHeartbeatResponse,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';
import { clientHost } from './group-handler-util.js';

/**
 * ConsumerGroupHeartbeat (KIP-848): joins, heartbeats and leaves a consumer-protocol group in one
 * API. The answer carries the member's epoch and, when it changed, its assignment. From v1 the
 * client names itself; a v0 client joining without an id gets one here.
 */
export async function handleConsumerGroupHeartbeat(
  s: BrokerServices,
  ctx: RequestContext,
  req: ConsumerGroupHeartbeatRequest,
): Promise<ConsumerGroupHeartbeatResponse> {
  const v = ctx.apiVersion;
  const memberId =
    v === 0 && req.memberId === '' && req.memberEpoch === 0
      ? randomBytes(16).toString('base64url')
      : req.memberId;
  const outcome = await s.groups.consumer.heartbeat({
    apiVersion: v,
    groupId: req.groupId,
    memberId,
    memberEpoch: req.memberEpoch,
    instanceId: req.instanceId,
    rackId: req.rackId,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    subscribedTopicNames: req.subscribedTopicNames,
    subscribedTopicRegex: v >= 1 ? req.subscribedTopicRegex : null,
    serverAssignor: req.serverAssignor,
    topicPartitions: req.topicPartitions,
    clientId: ctx.clientId ?? '',
    clientHost: clientHost(ctx),
  });
  return createConsumerGroupHeartbeatResponse({
    errorCode: outcome.errorCode,
    errorMessage: outcome.errorMessage,
    memberId: outcome.memberId,
    memberEpoch: outcome.memberEpoch,
    heartbeatIntervalMs: outcome.heartbeatIntervalMs,
    assignment: outcome.assignment === null ? null : { topicPartitions: outcome.assignment },
  });
}
