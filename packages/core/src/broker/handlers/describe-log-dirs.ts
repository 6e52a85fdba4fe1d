import {
  createDescribeLogDirsResponse,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  type DescribeLogDirsResponseDescribeLogDirsPartition,
  type DescribeLogDirsResponseDescribeLogDirsTopic,
  ErrorCode,
} from '@tributary/codec';
import { type LogDirDescription, UnknownPartitionError } from '../../storage/index.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big } from '../services.js';
import type { Topic } from '../topics.js';

const IN_MEMORY: LogDirDescription = { path: 'memory', totalBytes: -1, usableBytes: -1 };

export async function handleDescribeLogDirs(
  s: BrokerServices,
  _ctx: RequestContext,
  req: DescribeLogDirsRequest,
): Promise<DescribeLogDirsResponse> {
  // null asks for every partition; otherwise only those named that exist (Kafka drops the rest
  // silently, and topics left without partitions).
  const wanted: [Topic, number[]][] = [];
  if (req.topics === null) {
    for (const topic of s.topics.all()) wanted.push([topic, topic.partitions.map((_, i) => i)]);
  } else {
    const byTopic = new Map<Topic, Set<number>>();
    for (const t of req.topics) {
      const topic = s.topics.byName(t.topic);
      if (topic === undefined) continue;
      const set = byTopic.get(topic) ?? new Set<number>();
      for (const p of t.partitions) if (p >= 0 && p < topic.partitionCount) set.add(p);
      byTopic.set(topic, set);
    }
    for (const [topic, set] of byTopic) wanted.push([topic, [...set].sort((a, b) => a - b)]);
  }

  const topics: DescribeLogDirsResponseDescribeLogDirsTopic[] = [];
  for (const [topic, indexes] of wanted) {
    const partitions: DescribeLogDirsResponseDescribeLogDirsPartition[] = [];
    for (const partitionIndex of indexes) {
      try {
        const size = await s.storage.sizeInBytes(topic.id, partitionIndex);
        // offsetLag is the log end offset's lead over the high watermark: they are one offset here.
        partitions.push({ partitionIndex, partitionSize: big(size), offsetLag: 0n, isFutureKey: false });
      } catch (e) {
        // Deleted while this request waited.
        if (!(e instanceof UnknownPartitionError)) throw e;
      }
    }
    if (partitions.length > 0) topics.push({ name: topic.name, partitions });
  }

  const dir = (await s.storage.describeLogDir?.()) ?? IN_MEMORY;
  return createDescribeLogDirsResponse({
    results: [
      {
        errorCode: ErrorCode.NONE,
        logDir: dir.path,
        topics,
        totalBytes: big(dir.totalBytes),
        usableBytes: big(dir.usableBytes),
        isCordoned: false,
      },
    ],
  });
}
