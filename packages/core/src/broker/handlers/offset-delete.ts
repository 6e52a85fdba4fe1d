import {
  createOffsetDeleteResponse,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
} from '@tributary/codec';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';

/** OffsetDelete: drops a group's offsets for topics its members do not subscribe to. */
export async function handleOffsetDelete(
  s: BrokerServices,
  _ctx: RequestContext,
  req: OffsetDeleteRequest,
): Promise<OffsetDeleteResponse> {
  const r = await s.groups.deleteOffsets(
    req.groupId,
    req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
  );
  return createOffsetDeleteResponse({
    errorCode: r.errorCode,
    topics: r.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: p.errorCode })),
    })),
  });
}
