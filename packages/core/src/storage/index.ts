// @tributary/core/storage: the storage port. Interfaces, plus the producer-state rules every
// adapter shares (producer-state.ts: pure logic that each adapter persists its own way): an adapter
// (memory, file, a shared database) implements StorageAdapter and proves itself with the
// conformance suite in @tributary/core/testing.
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

/**
 * The log start offset, the high watermark (the log end offset: there are no followers) and the
 * last stable offset: the first offset of the earliest open transaction, else the high watermark
 * (never below the log start offset).
 */
export interface PartitionOffsets {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
}

/** Kafka's "no producer id" (-1): a batch from a plain, non-idempotent producer. */
export const NO_PRODUCER_ID = -1;

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
  /**
   * The batch header's producer id; absent or NO_PRODUCER_ID (-1) for a plain producer, whose
   * append skips producer state entirely. When set, the adapter checks and updates the producer's
   * state (`PartitionProducerState`) atomically with the offset assignment.
   */
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  /** The batch's transactional attribute bit. */
  readonly transactional?: boolean;
  /**
   * The epoch of the appending broker's ownership of the partition, when several brokers share
   * the store: an adapter that keeps ownership (a ClusterStore) refuses the append as 'not-owner'
   * unless it is the partition's current epoch, checked atomically with the offset assignment. An
   * adapter for one broker ignores it.
   */
  readonly ownerEpoch?: number | undefined;
}

/** Why an append or a marker was refused; each maps to one Kafka error code. */
export type AppendRejection =
  /** OUT_OF_ORDER_SEQUENCE_NUMBER (45). */
  | 'out-of-order-sequence'
  /** INVALID_PRODUCER_EPOCH (47): the epoch is older than the producer's current one. */
  | 'invalid-producer-epoch'
  /** INVALID_TXN_STATE (48): a non-transactional batch while the producer's transaction is open. */
  | 'invalid-txn-state'
  /** TRANSACTION_COORDINATOR_FENCED (52): a marker from an older coordinator epoch. */
  | 'coordinator-fenced'
  /** NOT_LEADER_OR_FOLLOWER (6): the appending broker no longer owns the partition (`ownerEpoch`). */
  | 'not-owner';

/** The batch was stored. */
export interface AppendedResult {
  readonly status: 'appended';
  /** The offset assigned to the batch's first record. */
  readonly baseOffset: number;
  readonly logStartOffset: number;
}

/**
 * The batch repeats one of the producer's last five batches (same epoch, same sequence range):
 * nothing was stored, and the producer is answered with the original batch's offsets, as Kafka
 * does, so a retry after a lost response is acknowledged and not written twice.
 */
export interface DuplicateResult {
  readonly status: 'duplicate';
  /** The original batch's base offset. */
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The original batch's max timestamp as stored (its log append time on LogAppendTime topics). */
  readonly timestamp: number;
  readonly logStartOffset: number;
}

/** The batch was refused by the producer-state rules; nothing was stored. */
export interface RejectedResult {
  readonly status: AppendRejection;
  /** Always -1: nothing was stored. */
  readonly baseOffset: -1;
  readonly logStartOffset: number;
  /** Why, for the response's error message. */
  readonly message: string;
}

export type AppendResult = AppendedResult | DuplicateResult | RejectedResult;

/** A COMMIT or ABORT marker that the transaction coordinator has a partition write. */
export interface MarkerInput {
  /**
   * The control batch holding the one marker record (core builds it with the codec's
   * `buildEndTxnMarkerBatch`); the adapter writes its base offset in place and stores it.
   */
  readonly batch: Buffer;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly commit: boolean;
  /**
   * The transaction version the coordinator runs (0 and 1: markers carry the transaction's epoch;
   * 2: markers carry the epoch the coordinator bumped at EndTxn, which must be above the producer's).
   */
  readonly transactionVersion: number;
  /** The marker record's timestamp (the coordinator's clock). */
  readonly timestamp: number;
  /** As AppendInput's: the writing broker's ownership epoch of the partition, when stores are shared. */
  readonly ownerEpoch?: number | undefined;
}

/** A marker was stored at `baseOffset`, or refused ('invalid-producer-epoch', 'coordinator-fenced'). */
export type MarkerResult = AppendedResult | RejectedResult;

/** An aborted transaction's range: from its first batch to its ABORT marker, both inclusive. */
export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
  /** The offset of the ABORT marker. */
  readonly lastOffset: number;
}

export interface ReadInput {
  readonly offset: number;
  /** Stop adding batches once this many bytes are gathered. */
  readonly maxBytes: number;
  /** Return the first batch even when it alone is larger than maxBytes (Kafka's rule for progress). */
  readonly minOneBatch: boolean;
  /**
   * read_committed: return only batches below the last stable offset, and the aborted
   * transactions overlapping what is returned. Absent or false: read_uncommitted, up to the high
   * watermark.
   */
  readonly readCommitted?: boolean;
}

export interface ReadResult {
  /**
   * Whole stored batches, bytes untouched, starting with the batch that contains `offset` (which
   * may begin before it). Empty when `offset` is the high watermark (or, read_committed, at or
   * past the last stable offset).
   */
  readonly batches: readonly Buffer[];
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  /**
   * read_committed reads only: the aborted transactions whose range overlaps
   * [offset, last offset returned], in the order their markers were written (empty when none).
   * Absent on read_uncommitted reads.
   */
  readonly abortedTransactions?: readonly AbortedTransaction[];
}

/** One producer's state on a partition, as DescribeProducers reports it; -1 where there is none. */
export interface ProducerDescription {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastTimestamp: number;
  readonly coordinatorEpoch: number;
  readonly currentTxnStartOffset: number;
}

/**
 * A topic's effective log settings: the broker's defaults with the topic's overrides applied,
 * resolved and validated by core, so that no adapter parses topic configs or keeps defaults of its
 * own. Durations in ms and sizes in bytes; -1 means unlimited where Kafka allows it.
 */
export interface LogConfig {
  /** `cleanup.policy` contains `delete`: retention applies. */
  readonly deleteEnabled: boolean;
  /** `cleanup.policy` contains `compact`: the cleaner keeps the latest record per key. */
  readonly compactEnabled: boolean;
  /** `segment.bytes`. */
  readonly segmentBytes: number;
  /** `segment.ms`. */
  readonly segmentMs: number;
  /** `retention.ms`; -1 keeps everything. */
  readonly retentionMs: number;
  /** `retention.bytes`; -1 for no limit. */
  readonly retentionBytes: number;
  /** `delete.retention.ms`: how long tombstones outlive the pass that first cleaned them. */
  readonly deleteRetentionMs: number;
  /** `min.cleanable.dirty.ratio`, in [0, 1]. */
  readonly minCleanableDirtyRatio: number;
  /** `min.compaction.lag.ms`. */
  readonly minCompactionLagMs: number;
  /** `max.compaction.lag.ms`; Number.MAX_SAFE_INTEGER when unbounded. */
  readonly maxCompactionLagMs: number;
  /** `flush.messages`: records between forced syncs; Number.MAX_SAFE_INTEGER leaves it to the adapter's policy. */
  readonly flushMessages: number;
  /** `flush.ms`: ms between forced syncs; Number.MAX_SAFE_INTEGER leaves it to the adapter's policy. */
  readonly flushMs: number;
  /** `index.interval.bytes`. */
  readonly indexIntervalBytes: number;
  /** `max.message.bytes` (core enforces it; an adapter may size buffers by it). */
  readonly maxMessageBytes: number;
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
    readonly offsets: Pick<PartitionOffsets, 'logStartOffset' | 'highWatermark'>,
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
  /**
   * The topic's resolved log settings (broker defaults under its overrides). Core calls it after
   * open() for every listed topic, after createTopic and after setTopicConfigs; an adapter keeps
   * no topic defaults of its own.
   */
  configureLog(topicId: string, config: LogConfig): void;
  /** Replaces the topic-level config overrides. */
  setTopicConfigs(topicId: string, configs: Readonly<Record<string, string>>): Promise<void>;
  /** Grows the topic to `partitionCount` partitions (never shrinks). */
  addPartitions(topicId: string, partitionCount: number): Promise<void>;

  // Producer state (storage port v2): appends carry the producer's fields, markers close
  // transactions, reads report the last stable offset, and producer ids come in durable blocks.

  /**
   * Appends one batch. A batch with a producer id is checked against the partition's producer
   * state and recorded in it in the same step as its offsets are assigned (see
   * `PartitionProducerState`): a duplicate or a refusal stores nothing and takes no offsets. A
   * plain batch (no producer id) skips producer state altogether.
   */
  append(topicId: string, partition: number, input: AppendInput): Promise<AppendResult>;
  /**
   * Appends a transaction marker: checks the producer and coordinator epochs, stores the control
   * batch, closes the producer's open transaction (moving the last stable offset) and, for an
   * ABORT that closed one, records it in the partition's aborted-transaction index.
   */
  appendMarker(topicId: string, partition: number, input: MarkerInput): Promise<MarkerResult>;
  read(topicId: string, partition: number, input: ReadInput): Promise<ReadResult>;
  offsets(topicId: string, partition: number): Promise<PartitionOffsets>;
  /** The producers the partition holds state for (DescribeProducers). */
  describeProducers(topicId: string, partition: number): Promise<ProducerDescription[]>;
  /**
   * Forgets producers whose last write is `producerIdExpirationMs` or more before `now`
   * (`producer.id.expiration.ms`); never one with an open transaction. Returns how many it dropped.
   */
  expireProducers(
    topicId: string,
    partition: number,
    now: number,
    producerIdExpirationMs: number,
  ): Promise<number>;
  /**
   * Reserves `count` producer ids and returns the first: [first, first + count) is never handed out
   * again by this store, across restarts and crashes (a durable adapter persists its high mark
   * before returning) and, for a shared store, across brokers.
   */
  allocateProducerIds(count: number): Promise<number>;
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

export {
  AbortedTransactionIndex,
  addSequence,
  type BatchMetadata,
  NUM_BATCHES_TO_RETAIN,
  PartitionProducerState,
  type ProducerAppend,
  type ProducerCheck,
  type ProducerMarker,
  type ProducerStateEntry,
  type ProducerStateSnapshot,
} from './producer-state.js';
