// Reads a partition back through the codec, without a consumer group, so interop tests can see
// exactly what was stored: each record with the compression of the batch that carried it.
import { ApiKey, createFetchRequest, type FetchRequest, type FetchResponse } from '@tributary/codec';
import { iterateRecordBatches } from '@tributary/codec/records';
import type { WireClient } from './wire.js';

export interface ConsumedRecord {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  timestamp: number;
  compression: number;
}

/** A sessionless Fetch of one partition by name, as a consumer sends it. */
export function fetchRequest(
  topic: string,
  partition: number,
  offset: bigint,
  wait: { maxWaitMs?: number; minBytes?: number } = {},
): FetchRequest {
  return createFetchRequest({
    replicaId: -1,
    maxWaitMs: wait.maxWaitMs ?? 0,
    minBytes: wait.minBytes ?? 0,
    maxBytes: 1 << 20,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: Buffer.alloc(16),
        partitions: [
          {
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: offset,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 1 << 20,
            replicaDirectoryId: Buffer.alloc(16),
            highWatermark: -1n,
          },
        ],
      },
    ],
  });
}

export async function readPartition(
  client: WireClient,
  topic: string,
  partition: number,
): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  let offset = 0n;
  for (let round = 0; round < 10_000; round++) {
    const res = await client.send<FetchResponse>(ApiKey.Fetch, 12, fetchRequest(topic, partition, offset));
    const p = res.responses[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode}`);
    let progressed = false;
    for (const b of iterateRecordBatches(p.records!)) {
      for (const r of b.records) {
        if (r.offset < offset) continue;
        out.push({
          partition,
          offset: r.offset,
          key: r.key,
          value: r.value,
          headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
          timestamp: r.timestamp,
          compression: b.header.compression,
        });
        offset = r.offset + 1n;
        progressed = true;
      }
    }
    if (!progressed && offset >= p.highWatermark) return out;
    if (!progressed) throw new Error(`no progress at offset ${offset} of ${topic}-${partition}`);
  }
  throw new Error('too many fetch rounds');
}
