// Producer state rows <-> core's ProducerStateEntry.
import type { BatchMetadata, ProducerDescription, ProducerStateEntry } from '@tributary/core/storage';

/** A producer_state row as read (bigints parsed to numbers, jsonb to arrays). */
export interface ProducerRow {
  part_id: number;
  producer_id: number;
  producer_epoch: number;
  coordinator_epoch: number;
  last_timestamp: number;
  txn_first_offset: number;
  batches: readonly (readonly number[])[];
}

export const PRODUCER_COLUMNS =
  'part_id, producer_id, producer_epoch, coordinator_epoch, last_timestamp, txn_first_offset, batches';

export function entryOfRow(row: ProducerRow): ProducerStateEntry {
  return {
    producerId: row.producer_id,
    producerEpoch: row.producer_epoch,
    coordinatorEpoch: row.coordinator_epoch,
    lastTimestamp: row.last_timestamp,
    currentTxnFirstOffset: row.txn_first_offset,
    batches: row.batches.map(
      ([firstSeq, lastSeq, lastOffset, offsetDelta, timestamp]): BatchMetadata => ({
        firstSeq: firstSeq!,
        lastSeq: lastSeq!,
        lastOffset: lastOffset!,
        offsetDelta: offsetDelta!,
        timestamp: timestamp!,
      }),
    ),
  };
}

export function describeRow(row: ProducerRow): ProducerDescription {
  const last = row.batches[row.batches.length - 1];
  return {
    producerId: row.producer_id,
    producerEpoch: row.producer_epoch,
    lastSequence: last === undefined ? -1 : last[1]!,
    lastTimestamp: row.last_timestamp,
    coordinatorEpoch: row.coordinator_epoch,
    currentTxnStartOffset: row.txn_first_offset,
  };
}

/** Column arrays for an `unnest` upsert of many producers. */
export class ProducerUpserts {
  readonly partIds: number[] = [];
  readonly producerIds: number[] = [];
  readonly epochs: number[] = [];
  readonly coordinatorEpochs: number[] = [];
  readonly lastTimestamps: number[] = [];
  readonly txnFirstOffsets: number[] = [];
  readonly batches: string[] = [];

  get size(): number {
    return this.partIds.length;
  }

  add(partId: number, e: ProducerStateEntry): void {
    this.partIds.push(partId);
    this.producerIds.push(e.producerId);
    this.epochs.push(e.producerEpoch);
    this.coordinatorEpochs.push(e.coordinatorEpoch);
    this.lastTimestamps.push(e.lastTimestamp);
    this.txnFirstOffsets.push(e.currentTxnFirstOffset);
    this.batches.push(
      JSON.stringify(e.batches.map((b) => [b.firstSeq, b.lastSeq, b.lastOffset, b.offsetDelta, b.timestamp])),
    );
  }

  params(): unknown[] {
    return [
      this.partIds,
      this.producerIds,
      this.epochs,
      this.coordinatorEpochs,
      this.lastTimestamps,
      this.txnFirstOffsets,
      this.batches,
    ];
  }
}
