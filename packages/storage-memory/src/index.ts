import { partitionResource } from '@tributary/core';
import {
  AbortedTransactionIndex,
  type AppendInput,
  type AppendResult,
  type BatchLocation,
  type MarkerInput,
  type MarkerResult,
  OffsetOutOfRangeError,
  type PartitionOffsets,
  PartitionProducerState,
  type ProducerDescription,
  type ReadInput,
  type ReadResult,
  type RetentionPolicy,
  type StorageAdapter,
  type StoredTopic,
  UnknownPartitionError,
  writeBatchBaseOffset,
} from '@tributary/core/storage';

/**
 * One partition's log: parallel arrays per batch, with `head` marking the first live batch so that
 * dropping old batches does not shift the arrays on every call.
 */
class MemoryLog {
  batches: Buffer[] = [];
  baseOffsets: number[] = [];
  lastOffsets: number[] = [];
  maxTimestamps: number[] = [];
  head = 0;
  logStartOffset = 0;
  nextOffset = 0;
  bytes = 0;
  /** Created by the first batch with a producer id: plain producers never pay for it. */
  producers: PartitionProducerState | null = null;
  aborted: AbortedTransactionIndex | null = null;

  lastStableOffset(): number {
    return this.producers === null
      ? this.nextOffset
      : this.producers.lastStableOffset(this.logStartOffset, this.nextOffset);
  }

  offsets(): PartitionOffsets {
    return {
      logStartOffset: this.logStartOffset,
      highWatermark: this.nextOffset,
      lastStableOffset: this.lastStableOffset(),
    };
  }

  push(batch: Buffer, lastOffsetDelta: number, maxTimestamp: number): number {
    const baseOffset = this.nextOffset;
    writeBatchBaseOffset(batch, baseOffset);
    this.batches.push(batch);
    this.baseOffsets.push(baseOffset);
    this.lastOffsets.push(baseOffset + lastOffsetDelta);
    this.maxTimestamps.push(maxTimestamp);
    this.nextOffset = baseOffset + lastOffsetDelta + 1;
    this.bytes += batch.length;
    return baseOffset;
  }

  /** Index of the first live batch whose last offset is at or after `offset`. */
  indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lastOffsets[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  dropBefore(index: number): void {
    for (let i = this.head; i < index; i++) {
      this.bytes -= this.batches[i]!.length;
      this.batches[i] = EMPTY;
    }
    this.head = index;
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.baseOffsets = this.baseOffsets.slice(this.head);
      this.lastOffsets = this.lastOffsets.slice(this.head);
      this.maxTimestamps = this.maxTimestamps.slice(this.head);
      this.head = 0;
    }
    this.aborted?.dropBefore(this.logStartOffset);
  }
}

const EMPTY = Buffer.alloc(0);

/** Whether keeping `b` keeps at most twice its size alive. */
/** Where the current ownership epoch of each partition is kept (core's MemoryClusterStore). */
export interface OwnershipEpochs {
  epochOf(resource: string): number;
}

export interface MemoryStorageOptions {
  readonly ownership?: OwnershipEpochs;
}

const owns = (b: Buffer): boolean => b.length * 2 >= b.buffer.byteLength;

/**
 * Storage that lives in the process: the broker's `--memory` mode and the default for tests.
 * A batch that fills most of the buffer it is a slice of (a large request frame) is kept as it
 * is; a small one is copied, so that it never pins a network buffer many times its size. Stored
 * batches are served as they are.
 */
export class MemoryStorage implements StorageAdapter {
  private readonly topics = new Map<string, StoredTopic>();
  private readonly logs = new Map<string, MemoryLog[]>();
  private nextProducerId = 0;
  private readonly ownership: OwnershipEpochs | undefined;

  /**
   * With `ownership` (the cluster store of brokers sharing this storage in one process), an
   * append or marker carrying an `ownerEpoch` that is not the partition's current ownership epoch
   * is refused as 'not-owner'.
   */
  constructor(options: MemoryStorageOptions = {}) {
    this.ownership = options.ownership;
  }

  /** A refusal when a broker that no longer owns the partition writes to it; null otherwise. */
  private fenced(topicId: string, partition: number, ownerEpoch: number | undefined, log: MemoryLog) {
    if (ownerEpoch === undefined || this.ownership === undefined) return null;
    const name = this.topics.get(topicId)?.name;
    if (name !== undefined && this.ownership.epochOf(partitionResource(name, partition)) === ownerEpoch)
      return null;
    return {
      status: 'not-owner' as const,
      baseOffset: -1 as const,
      logStartOffset: log.logStartOffset,
      message: `This broker's ownership (epoch ${ownerEpoch}) of partition ${partition} has passed to another broker`,
    };
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {
    this.topics.clear();
    this.logs.clear();
  }

  async listTopics(): Promise<StoredTopic[]> {
    return [...this.topics.values()];
  }

  async createTopic(topic: StoredTopic): Promise<boolean> {
    for (const t of this.topics.values()) if (t.name === topic.name) return false;
    const id = topic.topicId.toString('base64url');
    this.topics.set(id, { ...topic, topicId: Buffer.from(topic.topicId), configs: { ...topic.configs } });
    this.logs.set(
      id,
      Array.from({ length: topic.partitionCount }, () => new MemoryLog()),
    );
    return true;
  }

  /** Memory keeps no segments: retention comes from core's policy, so the settings change nothing here. */
  configureLog(): void {}

  async deleteTopic(topicId: string): Promise<boolean> {
    this.logs.delete(topicId);
    return this.topics.delete(topicId);
  }

  async setTopicConfigs(topicId: string, configs: Readonly<Record<string, string>>): Promise<void> {
    const t = this.topic(topicId);
    this.topics.set(topicId, { ...t, configs: { ...configs } });
  }

  async addPartitions(topicId: string, partitionCount: number): Promise<void> {
    const t = this.topic(topicId);
    const logs = this.logs.get(topicId)!;
    while (logs.length < partitionCount) logs.push(new MemoryLog());
    if (partitionCount > t.partitionCount) this.topics.set(topicId, { ...t, partitionCount });
  }

  private topic(topicId: string): StoredTopic {
    const t = this.topics.get(topicId);
    if (t === undefined) throw new UnknownPartitionError(`no topic with id ${topicId}`);
    return t;
  }

  private log(topicId: string, partition: number): MemoryLog {
    const log = this.logs.get(topicId)?.[partition];
    if (log === undefined) throw new UnknownPartitionError(`no partition ${partition} of topic ${topicId}`);
    return log;
  }

  async append(topicId: string, partition: number, input: AppendInput): Promise<AppendResult> {
    const log = this.log(topicId, partition);
    const fenced = this.fenced(topicId, partition, input.ownerEpoch, log);
    if (fenced !== null) return fenced;
    const batch = owns(input.batch) ? input.batch : Buffer.from(input.batch);
    const producerId = input.producerId;
    if (producerId === undefined || producerId < 0) {
      const baseOffset = log.push(batch, input.lastOffsetDelta, input.maxTimestamp);
      return { status: 'appended', baseOffset, logStartOffset: log.logStartOffset };
    }
    const producer = {
      producerId,
      producerEpoch: input.producerEpoch ?? -1,
      baseSequence: input.baseSequence ?? -1,
      lastOffsetDelta: input.lastOffsetDelta,
      maxTimestamp: input.maxTimestamp,
      transactional: input.transactional === true,
    };
    log.producers ??= new PartitionProducerState();
    const check = log.producers.checkData(producer);
    if (check.kind === 'duplicate') {
      const b = check.batch;
      return {
        status: 'duplicate',
        baseOffset: b.lastOffset - b.offsetDelta,
        lastOffset: b.lastOffset,
        timestamp: b.timestamp,
        logStartOffset: log.logStartOffset,
      };
    }
    if (check.kind === 'rejected')
      return {
        status: check.status,
        baseOffset: -1,
        logStartOffset: log.logStartOffset,
        message: check.message,
      };
    const baseOffset = log.push(batch, input.lastOffsetDelta, input.maxTimestamp);
    log.producers.recordData(producer, baseOffset);
    return { status: 'appended', baseOffset, logStartOffset: log.logStartOffset };
  }

  async appendMarker(topicId: string, partition: number, input: MarkerInput): Promise<MarkerResult> {
    const log = this.log(topicId, partition);
    const fenced = this.fenced(topicId, partition, input.ownerEpoch, log);
    if (fenced !== null) return fenced;
    log.producers ??= new PartitionProducerState();
    const check = log.producers.checkMarker(input);
    if (check.kind === 'rejected')
      return {
        status: check.status,
        baseOffset: -1,
        logStartOffset: log.logStartOffset,
        message: check.message,
      };
    const batch = Buffer.from(input.batch);
    const baseOffset = log.push(batch, 0, input.timestamp);
    const aborted = log.producers.recordMarker(input, baseOffset);
    if (aborted !== null) {
      log.aborted ??= new AbortedTransactionIndex();
      log.aborted.add(aborted);
    }
    return { status: 'appended', baseOffset, logStartOffset: log.logStartOffset };
  }

  async read(topicId: string, partition: number, input: ReadInput): Promise<ReadResult> {
    const log = this.log(topicId, partition);
    if (input.offset < log.logStartOffset || input.offset > log.nextOffset)
      throw new OffsetOutOfRangeError(input.offset, log.offsets());
    const lastStableOffset = log.lastStableOffset();
    const end = input.readCommitted === true ? lastStableOffset : log.nextOffset;
    const batches: Buffer[] = [];
    let bytes = 0;
    let last = -1;
    for (let i = log.indexOf(input.offset); i < log.batches.length && log.baseOffsets[i]! < end; i++) {
      const b = log.batches[i]!;
      if (bytes + b.length > input.maxBytes && !(batches.length === 0 && input.minOneBatch)) break;
      batches.push(b);
      bytes += b.length;
      last = i;
      if (bytes >= input.maxBytes) break;
    }
    const result = {
      batches,
      logStartOffset: log.logStartOffset,
      highWatermark: log.nextOffset,
      lastStableOffset,
    };
    if (input.readCommitted !== true) return result;
    const abortedTransactions =
      log.aborted === null || last < 0 ? [] : log.aborted.collect(input.offset, log.lastOffsets[last]!);
    return { ...result, abortedTransactions };
  }

  async offsets(topicId: string, partition: number): Promise<PartitionOffsets> {
    return this.log(topicId, partition).offsets();
  }

  async findBatchByTimestamp(
    topicId: string,
    partition: number,
    timestamp: number,
  ): Promise<BatchLocation | null> {
    const log = this.log(topicId, partition);
    for (let i = log.head; i < log.batches.length; i++)
      if (log.maxTimestamps[i]! >= timestamp)
        return { batch: log.batches[i]!, baseOffset: log.baseOffsets[i]! };
    return null;
  }

  async findMaxTimestampBatch(topicId: string, partition: number): Promise<BatchLocation | null> {
    const log = this.log(topicId, partition);
    let best = -1;
    for (let i = log.head; i < log.batches.length; i++)
      if (best < 0 || log.maxTimestamps[i]! > log.maxTimestamps[best]!) best = i;
    return best < 0 ? null : { batch: log.batches[best]!, baseOffset: log.baseOffsets[best]! };
  }

  async deleteRecordsBefore(topicId: string, partition: number, offset: number): Promise<number> {
    const log = this.log(topicId, partition);
    const target = Math.min(offset, log.nextOffset);
    if (target > log.logStartOffset) {
      log.logStartOffset = target;
      log.dropBefore(log.indexOf(target));
    }
    return log.logStartOffset;
  }

  async applyRetention(topicId: string, partition: number, policy: RetentionPolicy): Promise<number> {
    const log = this.log(topicId, partition);
    let i = log.head;
    if (policy.retentionMs >= 0) {
      const cutoff = policy.now - policy.retentionMs;
      while (i < log.batches.length && log.maxTimestamps[i]! < cutoff) i++;
    }
    if (policy.retentionBytes >= 0) {
      let bytes = log.bytes;
      for (let j = log.head; j < i; j++) bytes -= log.batches[j]!.length;
      while (i < log.batches.length && bytes > policy.retentionBytes) bytes -= log.batches[i++]!.length;
    }
    if (i > log.head) {
      log.logStartOffset = i < log.batches.length ? log.baseOffsets[i]! : log.nextOffset;
      log.dropBefore(i);
    }
    return log.logStartOffset;
  }

  async sizeInBytes(topicId: string, partition: number): Promise<number> {
    return this.log(topicId, partition).bytes;
  }

  async describeProducers(topicId: string, partition: number): Promise<ProducerDescription[]> {
    return this.log(topicId, partition).producers?.describe() ?? [];
  }

  async expireProducers(
    topicId: string,
    partition: number,
    now: number,
    producerIdExpirationMs: number,
  ): Promise<number> {
    return this.log(topicId, partition).producers?.expire(now, producerIdExpirationMs) ?? 0;
  }

  async allocateProducerIds(count: number): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new RangeError(`cannot allocate ${count} producer ids`);
    const first = this.nextProducerId;
    this.nextProducerId += count;
    return first;
  }
}
