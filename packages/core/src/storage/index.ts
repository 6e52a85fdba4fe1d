// @tributary/core/storage: the storage port. Interfaces only: an adapter (memory, file, a shared
// database) implements StorageAdapter and proves itself with the conformance suite in
// @tributary/core/testing.
//
// The logger and clock ports are re-exported here so an adapter that logs or keeps time needs no
// other import from core.
//
// Offsets are numbers: exact to 2^53, which a partition appending a million records a second
// reaches in 285 years. The wire's int64 bigints are converted at the protocol edge.

export type { Clock, Logger, TimerHandle } from '../services.js';

/** A topic as stored. Topic ids are stable for the life of the topic and never reused. */
export interface StoredTopic {
  readonly name: string;
  /** 16 bytes. */
  readonly topicId: Buffer;
  readonly partitionCount: number;
  /** Topic-level overrides only (what `kafka-configs --alter` set); defaults live in the broker. */
  readonly configs: Readonly<Record<string, string>>;
}

/** The log start offset and the high watermark (the log end offset: there are no followers). */
export interface PartitionOffsets {
  readonly logStartOffset: number;
  readonly highWatermark: number;
}

/** One v2 record batch to append, with what the broker already read from its header. */
export interface AppendInput {
  /**
   * The producer's batch bytes. The adapter writes the assigned base offset into them in place
   * (outside the CRC) and stores them; it never re-encodes them. The adapter may keep this Buffer
   * (a slice of the request frame, which nothing writes to after the append) or copy it, e.g. so a
   * small batch does not pin a larger network buffer.
   */
  readonly batch: Buffer;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
}

export interface AppendResult {
  /** The offset assigned to the batch's first record. */
  readonly baseOffset: number;
  readonly logStartOffset: number;
}

export interface ReadInput {
  readonly offset: number;
  /** Stop adding batches once this many bytes are gathered. */
  readonly maxBytes: number;
  /** Return the first batch even when it alone is larger than maxBytes (Kafka's rule for progress). */
  readonly minOneBatch: boolean;
}

export interface ReadResult {
  /**
   * Whole stored batches, bytes untouched, starting with the batch that contains `offset` (which
   * may begin before it). Empty when `offset` is the high watermark.
   */
  readonly batches: readonly Buffer[];
  readonly logStartOffset: number;
  readonly highWatermark: number;
}

/** A stored batch located by a timestamp or offset query. */
export interface BatchLocation {
  readonly batch: Buffer;
  readonly baseOffset: number;
}

export interface RetentionPolicy {
  /** Delete data whose newest timestamp is older than this many ms; -1 keeps everything. */
  readonly retentionMs: number;
  /** Keep the log at most this many bytes; -1 for no limit. */
  readonly retentionBytes: number;
  readonly now: number;
}

/** Where an adapter keeps its data, as DescribeLogDirs reports it. */
export interface LogDirDescription {
  /** An absolute directory, or a name for storage that has none ("memory", a database URL without secrets). */
  readonly path: string;
  /** Size of the volume holding it in bytes, or -1 when unknown. */
  readonly totalBytes: number;
  /** Bytes still free on that volume, or -1 when unknown. */
  readonly usableBytes: number;
}

/** The error an adapter throws for a topic id or partition it does not hold. */
export class UnknownPartitionError extends Error {
  override readonly name = 'UnknownPartitionError';
}

/** Thrown by read when `offset` is below the log start offset or above the high watermark. */
export class OffsetOutOfRangeError extends Error {
  override readonly name = 'OffsetOutOfRangeError';
  constructor(
    readonly offset: number,
    readonly offsets: PartitionOffsets,
  ) {
    super(`offset ${offset} is outside [${offsets.logStartOffset}, ${offsets.highWatermark}]`);
  }
}

/**
 * The storage port. Topics are addressed by topic id (Kafka's base64url text form), partitions by
 * index. Appends to one partition may be called concurrently: the adapter assigns offsets
 * atomically and in call order, so that batches of one producer connection keep their order.
 */
export interface StorageAdapter {
  open(): Promise<void>;
  /** Flushes and releases everything; the adapter is unusable afterwards. */
  close(): Promise<void>;

  listTopics(): Promise<StoredTopic[]>;
  /** Creates the topic and its empty partitions; false (nothing changed) when the name exists. */
  createTopic(topic: StoredTopic): Promise<boolean>;
  /** Removes the topic and all its data; false when it does not exist. */
  deleteTopic(topicId: string): Promise<boolean>;
  /** Replaces the topic-level config overrides. */
  setTopicConfigs(topicId: string, configs: Readonly<Record<string, string>>): Promise<void>;
  /** Grows the topic to `partitionCount` partitions (never shrinks). */
  addPartitions(topicId: string, partitionCount: number): Promise<void>;

  append(topicId: string, partition: number, input: AppendInput): Promise<AppendResult>;
  read(topicId: string, partition: number, input: ReadInput): Promise<ReadResult>;
  offsets(topicId: string, partition: number): Promise<PartitionOffsets>;
  /** The first batch whose max timestamp is at or after `timestamp`, or null. */
  findBatchByTimestamp(topicId: string, partition: number, timestamp: number): Promise<BatchLocation | null>;
  /** The batch holding the largest timestamp in the log (the first such batch), or null when empty. */
  findMaxTimestampBatch(topicId: string, partition: number): Promise<BatchLocation | null>;
  /**
   * Moves the log start offset up to `offset` (DeleteRecords); never down, never past the high
   * watermark. Returns the new log start offset.
   */
  deleteRecordsBefore(topicId: string, partition: number, offset: number): Promise<number>;
  /** Drops whole old batches or segments per the policy; returns the new log start offset. */
  applyRetention(topicId: string, partition: number, policy: RetentionPolicy): Promise<number>;
  /** Bytes stored for the partition (for DescribeLogDirs and metrics). */
  sizeInBytes(topicId: string, partition: number): Promise<number>;
  /**
   * Optional: where the data lives (DescribeLogDirs). Without it the broker reports one log
   * directory named "memory" with unknown volume sizes, which suits in-memory adapters.
   */
  describeLogDir?(): Promise<LogDirDescription>;
}

/** Writes a v2 batch's base offset in place (bytes 0-7, outside the CRC). For adapters. */
export function writeBatchBaseOffset(batch: Buffer, baseOffset: number): void {
  batch.writeUInt32BE(Math.floor(baseOffset / 0x100000000), 0);
  batch.writeUInt32BE(baseOffset >>> 0, 4);
}
