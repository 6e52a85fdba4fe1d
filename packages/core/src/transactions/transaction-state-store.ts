// The transaction coordinator's persistence over a coordinator log: Kafka's TransactionLogKey and
// TransactionLogValue records in `__transaction_state`, each id's records on the partition its id
// hashes to, as Kafka places them.

import type { TransactionLogValue } from '@tributary/codec/coordinator';
import type { TopicRegistry } from '../broker/topics.js';
import { CoordinatorLog, type LoggedRecord } from '../coordinator/coordinator-log.js';
import type { Clock, Logger } from '../services.js';
import type { StorageAdapter } from '../storage/index.js';
import {
  decodeTransactionLogRecord,
  encodeTransactionLogRecord,
  type LoadedTransactionLog,
  partitionForTransactionalId,
  TRANSACTION_STATE_TOPIC,
  type TransactionLogRecord,
  type TransactionStateLog,
} from './transaction-log.js';

export interface TransactionStateStoreOptions {
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** transaction.state.log.num.partitions: used when the topic is created. */
  readonly partitions: number;
  /**
   * The coordinator epoch markers carry. One broker coordinates every id for its whole life, so a
   * constant serves; brokers sharing storage will pass the epoch of their ownership of the
   * partition, which fences a former owner's markers.
   */
  readonly coordinatorEpoch?: number;
}

export class TransactionStateStore implements TransactionStateLog {
  private readonly log: CoordinatorLog;

  constructor(private readonly options: TransactionStateStoreOptions) {
    this.log = new CoordinatorLog({
      storage: options.storage,
      topics: options.topics,
      clock: options.clock,
      logger: options.logger,
      topic: TRANSACTION_STATE_TOPIC,
      partitions: options.partitions,
      configs: { 'cleanup.policy': 'compact' },
    });
  }

  open(): Promise<void> {
    return this.log.open();
  }

  /** Creates the topic when missing, then replays every partition in order. */
  async load(): Promise<LoadedTransactionLog> {
    await this.log.open();
    const records: TransactionLogRecord[] = [];
    for (let p = 0; p < this.log.partitionCount; p++) await this.replay(p, records);
    return { coordinatorEpoch: this.options.coordinatorEpoch ?? 0, records };
  }

  /** Creates the topic when missing, then replays one partition. */
  async loadPartition(partition: number): Promise<LoadedTransactionLog> {
    await this.log.open();
    const records: TransactionLogRecord[] = [];
    await this.replay(partition, records);
    return { coordinatorEpoch: this.options.coordinatorEpoch ?? 0, records };
  }

  unloadPartition(partition: number): void {
    this.log.unload(partition);
  }

  partitionFor(transactionalId: string): number {
    return partitionForTransactionalId(transactionalId, this.log.partitionCount);
  }

  get partitionCount(): number {
    return this.log.partitionCount;
  }

  private async replay(partition: number, into: TransactionLogRecord[]): Promise<void> {
    const { logger } = this.options;
    await this.log.load(partition, {
      apply(r: LoggedRecord) {
        const decoded = decodeTransactionLogRecord(r.key, r.value);
        if (decoded === null) logger.warn({ partition, offset: r.offset }, 'skipped an unknown record');
        else into.push(decoded);
      },
    });
  }

  async append(transactionalId: string, value: TransactionLogValue | null): Promise<void> {
    await this.log.append(this.partitionFor(transactionalId), [
      encodeTransactionLogRecord({ transactionalId, value }),
    ]);
  }
}
