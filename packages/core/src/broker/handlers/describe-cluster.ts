import {
  createDescribeClusterResponse,
  type DescribeClusterRequest,
  type DescribeClusterResponse,
  ErrorCode,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import { AUTHORIZED_OPERATIONS_OMITTED, type BrokerServices } from '../services.js';
import { ALL_CLUSTER_OPERATIONS } from './metadata.js';

/** DescribeCluster's endpoint types (KIP-919): Tributary is a broker and has no controller endpoint. */
export const EndpointType = { UNKNOWN: 0, BROKER: 1, CONTROLLER: 2 } as const;

const ENDPOINT_TYPE_NAMES: Record<number, string> = { 1: 'BROKER', 2: 'CONTROLLER' };

export function handleDescribeCluster(
  s: BrokerServices,
  ctx: RequestContext,
  req: DescribeClusterRequest,
): DescribeClusterResponse {
  const requested = req.endpointType;
  // A v0 request carries no endpoint type (it decodes as BROKER); the v0 codes mirror Kafka's.
  if (ENDPOINT_TYPE_NAMES[requested] === undefined)
    return createDescribeClusterResponse({
      errorCode: ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: `Unsupported endpoint type ${requested}`,
    });
  if (requested !== EndpointType.BROKER)
    return createDescribeClusterResponse({
      errorCode: ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
      errorMessage: `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${ENDPOINT_TYPE_NAMES[requested]}`,
    });
  return createDescribeClusterResponse({
    endpointType: EndpointType.BROKER,
    clusterId: s.config.clusterId,
    // A broker names a live broker as the controller.
    controllerId: s.placement.controllerId(),
    // Only live brokers are listed: includeFencedBrokers has nothing to add.
    brokers: s.placement.brokers().map((b) => ({
      brokerId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
      isFenced: false,
    })),
    clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
      ? ALL_CLUSTER_OPERATIONS
      : AUTHORIZED_OPERATIONS_OMITTED,
  });
}
