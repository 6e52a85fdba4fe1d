// A coordinator's log: one internal topic (such as __consumer_offsets or __transaction_state)
// whose partitions each hold the records of the coordinator state placed on them, as key/value
// records in Kafka's batch format. A coordinator loads a partition by replaying it from its start,
// and unloads it when it stops coordinating that partition.
//
// Replay follows Kafka's transactional rules: records in a transactional batch (written for a
// producer's transaction, such as TxnOffsetCommit's offsets) take effect only when a COMMIT marker
// of that producer follows on the same partition, and an ABORT marker discards them. A transaction
// with no marker yet at the end of the partition stays pending: the load hands it to the owner, who
// completes it once the transaction coordinator writes the marker.
import {
  buildEndTxnMarkerBatch,
  buildRecordBatch,
  iterateRecords,
  parseEndTxnMarker,
  RecordBatchScanner,
} from '@tributary/codec/records';
import type { Topic, TopicRegistry } from '../broker/topics.js';
import type { Clock, Logger } from '../services.js';
import type { AppendResult, MarkerResult, StorageAdapter } from '../storage/index.js';

/** One record of a coordinator log; a null value is a tombstone. */
export interface CoordinatorRecord {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/** A record as read back, with its offset in the partition. */
export interface LoggedRecord extends CoordinatorRecord {
  readonly offset: number;
}

/** The producer a transactional batch is written for. */
export interface TransactionalProducer {
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** A transaction with records in a partition and no marker after them (yet). */
export interface PendingTransaction extends TransactionalProducer {
  /** The offset of its first record in the partition. */
  readonly firstOffset: number;
  /** Its records, in log order. */
  readonly records: readonly LoggedRecord[];
}

/** What a partition's replay hands its owner. */
export interface ReplayHandler {
  /**
   * One record that takes effect, in the order it takes effect: a non-transactional record at its
   * place in the log, a committed transaction's records when its COMMIT marker is read. Each comes
   * with its own offset, so that an owner can tell a transactional record from a later
   * non-transactional one of the same key (Kafka keeps whichever was written last).
   */
  apply(record: LoggedRecord): void;
}

export interface PartitionLoad {
  readonly partition: number;
  /** Records handed to `apply`. */
  readonly applied: number;
  /** Transactions still open at the end of the partition, by producer id. */
  readonly pending: ReadonlyMap<number, PendingTransaction>;
}

export interface CoordinatorLogOptions {
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The internal topic, created when missing. */
  readonly topic: string;
  /** Partitions to create the topic with; an existing topic keeps its own count. */
  readonly partitions: number;
  /** Configs to create the topic with (coordinator logs are compacted). */
  readonly configs: Readonly<Record<string, string>>;
}

/** Reads are this large; a larger batch still comes whole. */
const READ_BYTES = 1 << 20;

/**
 * Appends coordinator records to an internal topic through the storage port and replays its
 * partitions. It knows nothing of what the records mean: keys, values and placement are the
 * owner's.
 */
export class CoordinatorLog {
  private topic: Topic | null = null;
  /** The partitions loaded here, with the transactions their replay left open. */
  private readonly loaded = new Map<number, ReadonlyMap<number, PendingTransaction>>();

  constructor(private readonly options: CoordinatorLogOptions) {}

  /** Creates the topic when missing. */
  async open(): Promise<void> {
    const { topics, topic, partitions, configs } = this.options;
    this.topic =
      topics.byName(topic) ??
      (await topics.create(topic, partitions, { ...configs })) ??
      (await topics.ensure(topic, partitions));
  }

  private get openTopic(): Topic {
    if (this.topic === null) throw new Error(`the ${this.options.topic} log is not open`);
    return this.topic;
  }

  /** The topic's partition count (the topic's own, which may differ from the configured one). */
  get partitionCount(): number {
    return this.openTopic.partitionCount;
  }

  isLoaded(partition: number): boolean {
    return this.loaded.has(partition);
  }

  /** The transactions the partition's load found open. */
  pendingTransactions(partition: number): ReadonlyMap<number, PendingTransaction> {
    return this.loaded.get(partition) ?? new Map();
  }

  /**
   * Replays one partition from its log start into `handler` and marks it loaded. Records that do
   * not decode are the handler's to skip; a handler that throws skips that record only.
   */
  async load(partition: number, handler: ReplayHandler): Promise<PartitionLoad> {
    const topic = this.openTopic;
    const { storage, logger } = this.options;
    const open = new Map<number, PendingTransaction & { records: LoggedRecord[] }>();
    let applied = 0;
    const apply = (record: LoggedRecord) => {
      try {
        handler.apply(record);
        applied++;
      } catch (e) {
        logger.warn(
          { err: e, topic: this.options.topic, partition, offset: record.offset },
          'skipped a coordinator record that could not be applied',
        );
      }
    };
    let { logStartOffset: offset, highWatermark } = await storage.offsets(topic.id, partition);
    while (offset < highWatermark) {
      const read = await storage.read(topic.id, partition, {
        offset,
        maxBytes: READ_BYTES,
        minOneBatch: true,
      });
      if (read.batches.length === 0) break;
      for (const batch of read.batches) {
        const scan = new RecordBatchScanner(batch);
        while (scan.next()) {
          const last = scan.lastOffsetNumber;
          if (last >= offset) {
            const producerId = scan.producerIdNumber;
            for (const rec of iterateRecords(batch, scan.position)) {
              const at = Number(rec.offset);
              if (at < offset) continue;
              if (scan.control) {
                if (!scan.transactional) continue;
                let commit: boolean;
                try {
                  commit = parseEndTxnMarker(rec.key, rec.value).commit;
                } catch {
                  continue; // a control record that is not a transaction marker
                }
                const txn = open.get(producerId);
                open.delete(producerId);
                if (commit && txn !== undefined) for (const r of txn.records) apply(r);
                continue;
              }
              if (rec.key === null) continue;
              // Copied: the read buffer is not kept alive by what the owner keeps.
              const record: LoggedRecord = {
                key: Buffer.from(rec.key),
                value: rec.value === null ? null : Buffer.from(rec.value),
                offset: at,
              };
              if (!scan.transactional) {
                apply(record);
                continue;
              }
              let txn = open.get(producerId);
              if (txn === undefined) {
                txn = { producerId, producerEpoch: scan.producerEpoch, firstOffset: at, records: [] };
                open.set(producerId, txn);
              }
              txn.records.push(record);
            }
          }
          offset = Math.max(offset, last + 1);
        }
      }
      highWatermark = read.highWatermark;
    }
    this.loaded.set(partition, open);
    return { partition, applied, pending: open };
  }

  /** Forgets a partition's load; the owner drops the state it built from it. */
  unload(partition: number): void {
    this.loaded.delete(partition);
  }

  /**
   * Appends records to a partition as one batch; resolves to its base offset once storage has it.
   * With `transactional`, the batch is written as that producer's transactional batch: it takes
   * effect on replay only once a COMMIT marker of the producer follows.
   */
  async append(
    partition: number,
    records: readonly CoordinatorRecord[],
    transactional?: TransactionalProducer,
  ): Promise<number> {
    const now = this.options.clock.now();
    const batch = buildRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
      ...(transactional === undefined
        ? {}
        : {
            producerId: transactional.producerId,
            producerEpoch: transactional.producerEpoch,
            transactional: true,
          }),
    });
    return this.appendBatch(partition, batch, records.length - 1, now, transactional);
  }

  /**
   * Appends a COMMIT or ABORT marker of a producer's transaction to a partition, through the
   * storage's marker path, which closes the producer's transaction there (transaction version 0:
   * the marker carries the transaction's epoch).
   */
  async appendEndMarker(
    partition: number,
    producer: TransactionalProducer,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<number> {
    const now = this.options.clock.now();
    const topic = await this.writableTopic(partition);
    const result = await this.options.storage.appendMarker(topic.id, partition, {
      batch: buildEndTxnMarkerBatch({
        commit,
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        coordinatorEpoch,
        timestamp: now,
      }),
      producerId: producer.producerId,
      producerEpoch: producer.producerEpoch,
      coordinatorEpoch,
      commit,
      transactionVersion: 0,
      timestamp: now,
    });
    return this.appended(topic, partition, result);
  }

  /** The topic to write to, recreated when an admin deleted it, with `partition` checked. */
  private async writableTopic(partition: number): Promise<Topic> {
    let topic = this.openTopic;
    // A topic deleted by an admin is recreated on the next write, where Kafka's coordinator would
    // fail its writes instead: failing every write forever is worse for a single broker.
    if (this.options.topics.byName(this.options.topic) !== topic) {
      await this.open();
      topic = this.openTopic;
    }
    if (partition < 0 || partition >= topic.partitionCount)
      throw new Error(`${this.options.topic} has no partition ${partition}`);
    return topic;
  }

  private async appendBatch(
    partition: number,
    batch: Buffer,
    lastOffsetDelta: number,
    now: number,
    transactional?: TransactionalProducer,
  ): Promise<number> {
    const topic = await this.writableTopic(partition);
    // A transactional batch goes through the partition's producer state like a client's, with no
    // sequence (a coordinator's writes are not de-duplicated), so that the partition knows the
    // transaction is open until its marker.
    const result = await this.options.storage.append(topic.id, partition, {
      batch,
      lastOffsetDelta,
      maxTimestamp: now,
      ...(transactional !== undefined && {
        producerId: transactional.producerId,
        producerEpoch: transactional.producerEpoch,
        baseSequence: -1,
        transactional: true,
      }),
    });
    return this.appended(topic, partition, result);
  }

  /** The base offset of a stored batch, waking the partition's readers; a refusal throws. */
  private appended(topic: Topic, partition: number, result: AppendResult | MarkerResult): number {
    if ('message' in result)
      throw new Error(`${this.options.topic}-${partition} refused the batch: ${result.message}`);
    topic.partitions[partition]?.notifyAppend();
    return result.baseOffset;
  }
}
