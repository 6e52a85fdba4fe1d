// What the transaction coordinator needs from the rest of the broker. The broker implements these
// over the storage port (producer id blocks, `__transaction_state`, control batches) and the
// group coordinator; tests pass in-memory fakes.

import type { TopicPartition } from './transaction-metadata.js';

/**
 * Hands out producer ids, unique across the cluster and across restarts (Kafka allocates them in
 * blocks from the controller). A rejection or throw fails the request that needed the id: an error
 * with a numeric `errorCode` answers with that code (COORDINATOR_LOAD_IN_PROGRESS while a block is
 * being fetched, say), any other with UNKNOWN_SERVER_ERROR.
 */
export interface ProducerIdAllocator {
  nextProducerId(): bigint | Promise<bigint>;
}

export type TransactionResult = 'commit' | 'abort';

export interface MarkerWrite {
  readonly producerId: bigint;
  /** The epoch the markers carry: the producer's epoch after the bump, under transactions v2. */
  readonly producerEpoch: number;
  /** Written into each marker so a partition rejects markers of an older coordinator. */
  readonly coordinatorEpoch: number;
  readonly result: TransactionResult;
  /** The client's transaction version (0, 1 or 2), as Kafka's WriteTxnMarkers carries it. */
  readonly transactionVersion: number;
  readonly partitions: readonly TopicPartition[];
}

export interface MarkerPartitionResult extends TopicPartition {
  readonly errorCode: number;
}

/**
 * Writes COMMIT or ABORT control batches (Kafka's WriteTxnMarkers). For a `__consumer_offsets`
 * partition, the marker also makes the group coordinator apply (commit) or drop (abort) the
 * producer's pending transactional offsets. Resolves with an error code per partition; the
 * coordinator retries those that failed (a partition the catalog no longer has is dropped
 * instead: it was deleted, and no reader is left to need the marker), except that
 * TRANSACTION_COORDINATOR_FENCED or INVALID_PRODUCER_EPOCH stops the sending, and
 * UNSUPPORTED_FOR_MESSAGE_FORMAT drops the partition, as in Kafka.
 */
export interface TransactionMarkerWriter {
  writeMarkers(write: MarkerWrite): Promise<readonly MarkerPartitionResult[]>;
}

/**
 * Which topic partitions exist, internal topics included: AddPartitionsToTxn answers
 * UNKNOWN_TOPIC_OR_PARTITION for others, and markers skip a partition that no longer exists (a
 * `__consumer_offsets` partition must exist, or a transaction's offsets never get their marker).
 */
export interface PartitionCatalog {
  partitionExists(topic: string, partition: number): boolean;
}
