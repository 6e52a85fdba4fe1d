// A storage fake for core's unit tests of the coordinators: just enough of a log store for a
// coordinator log (topics, append, read, offsets), with switches for failures and slow loads.
// Not part of any export: adapters prove themselves with the conformance suite instead.
import {
  type AppendInput,
  type AppendResult,
  type MarkerInput,
  type MarkerResult,
  type PartitionOffsets,
  type ReadInput,
  type ReadResult,
  type StorageAdapter,
  type StoredTopic,
  writeBatchBaseOffset,
} from '../storage/index.js';

const unsupported = (): never => {
  throw new Error('not used by these tests');
};

export class LogStorage implements StorageAdapter {
  readonly topics = new Map<string, StoredTopic>();
  readonly logs = new Map<string, { batches: Buffer[]; next: number }[]>();
  appends = 0;
  /** Set to make appends fail (a full disk, say). */
  failAppends = false;
  /** Set to hold reads until released (a slow load). */
  readGate: Promise<void> | null = null;

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async listTopics(): Promise<StoredTopic[]> {
    return [...this.topics.values()];
  }
  async createTopic(topic: StoredTopic): Promise<boolean> {
    for (const t of this.topics.values()) if (t.name === topic.name) return false;
    const id = topic.topicId.toString('base64url');
    this.topics.set(id, topic);
    this.logs.set(
      id,
      Array.from({ length: topic.partitionCount }, () => ({ batches: [], next: 0 })),
    );
    return true;
  }
  async addPartitions(topicId: string, count: number): Promise<void> {
    const t = this.topics.get(topicId)!;
    const logs = this.logs.get(topicId)!;
    while (logs.length < count) logs.push({ batches: [], next: 0 });
    this.topics.set(topicId, { ...t, partitionCount: count });
  }
  async append(topicId: string, partition: number, input: AppendInput): Promise<AppendResult> {
    const { baseOffset, logStartOffset } = await this.push(
      topicId,
      partition,
      input.batch,
      input.lastOffsetDelta,
    );
    return { status: 'appended', baseOffset, logStartOffset };
  }
  private async push(
    topicId: string,
    partition: number,
    input: Buffer,
    lastOffsetDelta: number,
  ): Promise<{ baseOffset: number; logStartOffset: number }> {
    if (this.failAppends) throw new Error('disk full');
    const log = this.logs.get(topicId)![partition]!;
    const batch = Buffer.from(input);
    writeBatchBaseOffset(batch, log.next);
    log.batches.push(batch);
    const baseOffset = log.next;
    log.next += lastOffsetDelta + 1;
    this.appends++;
    return { baseOffset, logStartOffset: 0 };
  }
  /** Stores the marker's control batch as it is; the fake keeps no producer state. */
  async appendMarker(topicId: string, partition: number, input: MarkerInput): Promise<MarkerResult> {
    const { baseOffset, logStartOffset } = await this.push(topicId, partition, input.batch, 0);
    return { status: 'appended', baseOffset, logStartOffset };
  }
  async read(topicId: string, partition: number, input: ReadInput): Promise<ReadResult> {
    if (this.readGate !== null) await this.readGate;
    const log = this.logs.get(topicId)![partition]!;
    // Offsets per batch are dense here: find the batches at or after the offset.
    const batches = log.batches.filter(
      (b) => Number(b.readBigInt64BE(0)) + b.readInt32BE(23) >= input.offset,
    );
    return { batches, logStartOffset: 0, highWatermark: log.next, lastStableOffset: log.next };
  }
  async offsets(topicId: string, partition: number): Promise<PartitionOffsets> {
    const next = this.logs.get(topicId)![partition]!.next;
    return { logStartOffset: 0, highWatermark: next, lastStableOffset: next };
  }
  /** Batches stored in a partition of the named topic. */
  batchesIn(topicName: string, partition: number): number {
    const topic = [...this.topics.values()].find((t) => t.name === topicName)!;
    return this.logs.get(topic.topicId.toString('base64url'))![partition]!.batches.length;
  }
  configureLog(): void {}
  deleteTopic = unsupported;
  describeProducers = unsupported;
  expireProducers = unsupported;
  allocateProducerIds = unsupported;
  setTopicConfigs = unsupported;
  findBatchByTimestamp = unsupported;
  findMaxTimestampBatch = unsupported;
  deleteRecordsBefore = unsupported;
  applyRetention = unsupported;
  sizeInBytes = unsupported;
}
