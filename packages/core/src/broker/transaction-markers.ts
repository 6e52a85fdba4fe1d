import { ErrorCode } from '@tributary/codec';
import { buildEndTxnMarkerBatch } from '@tributary/codec/records';
import type { Clock, Logger } from '../services.js';
import { type MarkerResult, type StorageAdapter, UnknownPartitionError } from '../storage/index.js';
import type { MarkerPartitionResult, MarkerWrite, TransactionMarkerWriter } from '../transactions/ports.js';
import { REJECTION_CODES } from './append-rejections.js';
import type { TopicRegistry } from './topics.js';

/** What a marker on a `__consumer_offsets` partition tells the group coordinator. */
export interface TransactionalOffsetsCompletion {
  /** Whether `topic` holds group offsets (its markers complete pending transactional offsets). */
  holdsOffsets(topic: string): boolean;
  /** Applies (commit) or drops (abort) the producer's pending offsets kept in that partition. */
  completeTransaction(partition: number, producerId: number, commit: boolean): void;
}

export interface StorageMarkerWriterOptions {
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly offsets: TransactionalOffsetsCompletion;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Kafka's WriteTxnMarkers, inside the broker: each partition of a transaction gets a COMMIT or
 * ABORT control batch through the storage port, which closes the producer's transaction there and
 * moves the last stable offset; long-polling read_committed fetches of the partition are woken.
 * A marker on a `__consumer_offsets` partition also completes the producer's pending offsets.
 */
export class StorageMarkerWriter implements TransactionMarkerWriter {
  constructor(private readonly options: StorageMarkerWriterOptions) {}

  writeMarkers(write: MarkerWrite): Promise<readonly MarkerPartitionResult[]> {
    return Promise.all(
      write.partitions.map(async (tp): Promise<MarkerPartitionResult> => {
        const errorCode = await this.writeMarker(write, tp.topic, tp.partition);
        return { topic: tp.topic, partition: tp.partition, errorCode };
      }),
    );
  }

  private async writeMarker(write: MarkerWrite, topicName: string, partition: number): Promise<number> {
    const { storage, topics, offsets, clock, logger } = this.options;
    const topic = topics.byName(topicName);
    // A deleted partition needs no marker: nothing is left to read its transaction.
    if (topic === undefined || partition < 0 || partition >= topic.partitionCount)
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const commit = write.result === 'commit';
    const timestamp = clock.now();
    const producerId = Number(write.producerId);
    let result: MarkerResult;
    try {
      result = await storage.appendMarker(topic.id, partition, {
        batch: buildEndTxnMarkerBatch({
          commit,
          producerId,
          producerEpoch: write.producerEpoch,
          coordinatorEpoch: write.coordinatorEpoch,
          timestamp,
        }),
        producerId,
        producerEpoch: write.producerEpoch,
        coordinatorEpoch: write.coordinatorEpoch,
        commit,
        transactionVersion: write.transactionVersion,
        timestamp,
      });
    } catch (e) {
      if (e instanceof UnknownPartitionError) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      logger.error({ err: e, topic: topicName, partition }, 'could not write a transaction marker');
      return ErrorCode.KAFKA_STORAGE_ERROR;
    }
    if (result.status !== 'appended') {
      logger.warn(
        { topic: topicName, partition, producerId, status: result.status },
        'transaction marker refused',
      );
      return REJECTION_CODES[result.status];
    }
    if (offsets.holdsOffsets(topicName)) offsets.completeTransaction(partition, producerId, commit);
    topic.partitions[partition]!.notifyAppend();
    return ErrorCode.NONE;
  }
}
