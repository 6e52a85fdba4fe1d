// The producer-state rules of a partition (idempotence and transactions), shared by every storage
// adapter so that all of them de-duplicate, fence and track transactions alike. Pure: no I/O, no
// clock. An adapter keeps one PartitionProducerState per partition, calls `checkData`/`checkMarker`
// and then `recordData`/`recordMarker` in the same synchronous step as it assigns offsets, and
// persists `snapshot()` (and the AbortedTransactionIndex) its own way, rebuilding what came after
// its last snapshot with `replay()` over the stored batches.
//
// The rules are Kafka's (ProducerAppendInfo, ProducerStateEntry, ProducerStateManager): a retained
// batch with the same sequence range is a duplicate answered with its original offsets; an older
// epoch is refused; a new epoch starts at sequence 0; the same epoch continues at lastSeq + 1
// (wrapping after 2^31 - 1); a producer with no state is accepted at any sequence (KIP-360); a
// plain batch while the producer's transaction is open is refused; a marker from an older
// coordinator epoch is fenced.

import { iterateRecords, parseEndTxnMarker, RecordBatchScanner } from '@tributary/codec/records';
import type { AbortedTransaction, AppendRejection, ProducerDescription } from './index.js';

/** Batches per producer whose sequence ranges are kept for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN). */
export const NUM_BATCHES_TO_RETAIN = 5;

const NO_EPOCH = -1;
const NO_SEQUENCE = -1;
const INT32_MAX = 0x7fffffff;

/** One retained batch of a producer. */
export interface BatchMetadata {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly lastOffset: number;
  /** lastOffset minus the batch's first offset. */
  readonly offsetDelta: number;
  /** The batch's max timestamp as stored. */
  readonly timestamp: number;
}

/** A producer's state on one partition, as plain data (the snapshot form). */
export interface ProducerStateEntry {
  readonly producerId: number;
  /** -1 before any epoch is known. */
  readonly producerEpoch: number;
  /** -1 before any marker. */
  readonly coordinatorEpoch: number;
  readonly lastTimestamp: number;
  /** The first offset of the producer's open transaction, or -1 when none is open. */
  readonly currentTxnFirstOffset: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN, all of the current epoch. */
  readonly batches: readonly BatchMetadata[];
}

export interface ProducerStateSnapshot {
  readonly producers: readonly ProducerStateEntry[];
}

/** What the rules need of a data batch (an AppendInput with its producer fields fits). */
export interface ProducerAppend {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
  readonly transactional: boolean;
}

/** What the rules need of a marker (a MarkerInput fits). */
export interface ProducerMarker {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly commit: boolean;
  readonly transactionVersion: number;
  readonly timestamp: number;
}

export type ProducerCheck =
  /** Store it, then call recordData/recordMarker with the offset it got. */
  | { readonly kind: 'ok' }
  /** Store nothing; answer with this batch's original offsets. */
  | { readonly kind: 'duplicate'; readonly batch: BatchMetadata }
  /** Store nothing; answer with the error. */
  | { readonly kind: 'rejected'; readonly status: AppendRejection; readonly message: string };

const OK: ProducerCheck = { kind: 'ok' };

/** The sequence `delta` after `seq`, wrapping from 2^31 - 1 to 0 as producers do. */
export function addSequence(seq: number, delta: number): number {
  return seq > INT32_MAX - delta ? delta - (INT32_MAX - seq) - 1 : seq + delta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

class Entry {
  producerEpoch = NO_EPOCH;
  coordinatorEpoch = -1;
  lastTimestamp = -1;
  currentTxnFirstOffset = -1;
  batches: BatchMetadata[] = [];

  constructor(readonly producerId: number) {}

  get lastSeq(): number {
    const b = this.batches;
    return b.length === 0 ? NO_SEQUENCE : b[b.length - 1]!.lastSeq;
  }

  /** A new epoch forgets the old epoch's batches. */
  setEpoch(epoch: number): void {
    if (epoch !== this.producerEpoch) {
      this.batches = [];
      this.producerEpoch = epoch;
    }
  }

  toData(): ProducerStateEntry {
    return {
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      coordinatorEpoch: this.coordinatorEpoch,
      lastTimestamp: this.lastTimestamp,
      currentTxnFirstOffset: this.currentTxnFirstOffset,
      batches: this.batches.map((b) => ({ ...b })),
    };
  }
}

const rejected = (status: AppendRejection, message: string): ProducerCheck => ({
  kind: 'rejected',
  status,
  message,
});

/**
 * One partition's producer state: per producer id its epoch, coordinator epoch, last five batches
 * and open transaction, plus the open transactions that hold the last stable offset back.
 */
export class PartitionProducerState {
  private readonly producers = new Map<number, Entry>();
  /** Open transactions: producer id -> first offset. */
  private readonly ongoing = new Map<number, number>();
  /** Smallest first offset in `ongoing`, or -1; recomputed lazily. */
  private firstUnstable = -1;
  private firstUnstableStale = false;

  /** Restores the state a snapshot describes. */
  static restore(snapshot: ProducerStateSnapshot): PartitionProducerState {
    const state = new PartitionProducerState();
    for (const p of snapshot.producers) {
      const e = new Entry(p.producerId);
      e.producerEpoch = p.producerEpoch;
      e.coordinatorEpoch = p.coordinatorEpoch;
      e.lastTimestamp = p.lastTimestamp;
      e.currentTxnFirstOffset = p.currentTxnFirstOffset;
      e.batches = p.batches.slice(-NUM_BATCHES_TO_RETAIN).map((b) => ({ ...b }));
      state.producers.set(p.producerId, e);
      if (p.currentTxnFirstOffset >= 0) state.openTxn(p.producerId, p.currentTxnFirstOffset);
    }
    return state;
  }

  /** Plain data to persist; `restore` turns it back into state. */
  snapshot(): ProducerStateSnapshot {
    return { producers: [...this.producers.values()].map((e) => e.toData()) };
  }

  get size(): number {
    return this.producers.size;
  }

  /** The producer's state, or undefined when there is none. */
  entry(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId)?.toData();
  }

  /**
   * Checks a data batch against the producer's state without changing it: a duplicate of a
   * retained batch, an older epoch (INVALID_PRODUCER_EPOCH), a sequence gap (OUT_OF_ORDER_SEQUENCE)
   * or a plain batch inside an open transaction (INVALID_TXN_STATE), in Kafka's order.
   */
  checkData(a: ProducerAppend): ProducerCheck {
    const e = this.producers.get(a.producerId);
    if (e === undefined) return OK;
    const epoch = a.producerEpoch;
    const firstSeq = a.baseSequence;
    // A coordinator's own transactional writes (TxnOffsetCommit's offsets in __consumer_offsets)
    // carry no sequence: Kafka checks only their epoch and transaction, never their sequence.
    if (firstSeq === NO_SEQUENCE) {
      if (epoch < e.producerEpoch)
        return rejected(
          'invalid-producer-epoch',
          `Epoch of producer ${a.producerId} is ${epoch}, older than the last seen epoch ${e.producerEpoch}`,
        );
      return OK;
    }
    if (epoch === e.producerEpoch) {
      const lastSeq = addSequence(firstSeq, a.lastOffsetDelta);
      for (const b of e.batches)
        if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return { kind: 'duplicate', batch: b };
    }
    if (epoch < e.producerEpoch)
      return rejected(
        'invalid-producer-epoch',
        `Epoch of producer ${a.producerId} is ${epoch}, older than the last seen epoch ${e.producerEpoch}`,
      );
    if (epoch !== e.producerEpoch) {
      if (firstSeq !== 0 && e.producerEpoch !== NO_EPOCH)
        return rejected(
          'out-of-order-sequence',
          `Invalid sequence number ${firstSeq} for new epoch ${epoch} of producer ${a.producerId}: a new epoch starts at 0`,
        );
    } else if (e.producerEpoch !== NO_EPOCH && !inSequence(e.lastSeq, firstSeq)) {
      return rejected(
        'out-of-order-sequence',
        `Out of order sequence number for producer ${a.producerId}: ${firstSeq} (incoming), ${e.lastSeq} (current end)`,
      );
    }
    if (e.currentTxnFirstOffset >= 0 && !a.transactional)
      return rejected(
        'invalid-txn-state',
        `Expected a transactional write from producer ${a.producerId}, whose transaction is open`,
      );
    return OK;
  }

  /** Records a data batch that checkData accepted and that was stored at `firstOffset`. */
  recordData(a: ProducerAppend, firstOffset: number): void {
    let e = this.producers.get(a.producerId);
    if (e === undefined) {
      e = new Entry(a.producerId);
      this.producers.set(a.producerId, e);
    }
    e.setEpoch(a.producerEpoch);
    if (a.baseSequence !== NO_SEQUENCE) {
      if (e.batches.length === NUM_BATCHES_TO_RETAIN) e.batches.shift();
      e.batches.push({
        firstSeq: a.baseSequence,
        lastSeq: addSequence(a.baseSequence, a.lastOffsetDelta),
        lastOffset: firstOffset + a.lastOffsetDelta,
        offsetDelta: a.lastOffsetDelta,
        timestamp: a.maxTimestamp,
      });
    }
    e.lastTimestamp = a.maxTimestamp;
    if (a.transactional && e.currentTxnFirstOffset < 0) {
      e.currentTxnFirstOffset = firstOffset;
      this.openTxn(a.producerId, firstOffset);
    }
  }

  /**
   * Replays one stored batch (its base offset already assigned) without checks, as when rebuilding
   * state from the log past the last persisted snapshot: data batches as recordData, markers as
   * recordMarker. Returns the aborted transaction an ABORT marker closed, for the adapter's index.
   * Plain batches and empty control batches (a transaction compacted away) change nothing.
   */
  replay(batch: Buffer): AbortedTransaction | null {
    const h = new RecordBatchScanner(batch);
    if (!h.next()) throw new Error('replay needs one whole record batch');
    const producerId = h.producerIdNumber;
    if (producerId < 0) return null;
    const offset = h.baseOffsetNumber;
    if (!h.control) {
      this.recordData(
        {
          producerId,
          producerEpoch: h.producerEpoch,
          baseSequence: h.baseSequence,
          lastOffsetDelta: h.lastOffsetDelta,
          maxTimestamp: h.maxTimestamp,
          transactional: h.transactional,
        },
        offset,
      );
      return null;
    }
    for (const r of iterateRecords(batch, 0, { verifyCrc: false })) {
      const marker = parseEndTxnMarker(r.key, r.value);
      return this.recordMarker(
        {
          producerId,
          producerEpoch: h.producerEpoch,
          coordinatorEpoch: marker.coordinatorEpoch,
          commit: marker.commit,
          transactionVersion: 0,
          timestamp: r.timestamp,
        },
        offset,
      );
    }
    return null;
  }

  /**
   * Checks a marker: its epoch must not be older than the producer's (with transaction version 2,
   * it must be newer, except a retry of a marker already written: same epoch, no transaction
   * open), and its coordinator epoch not older than the last marker's.
   */
  checkMarker(m: ProducerMarker): ProducerCheck {
    const e = this.producers.get(m.producerId);
    if (e === undefined) return OK;
    const current = e.producerEpoch;
    const tv2 = m.transactionVersion >= 2;
    const stale = tv2 ? m.producerEpoch <= current : m.producerEpoch < current;
    const retry = tv2 && m.producerEpoch === current && e.currentTxnFirstOffset < 0;
    if (stale && !retry)
      return rejected(
        'invalid-producer-epoch',
        `Marker epoch ${m.producerEpoch} of producer ${m.producerId} is ${tv2 ? 'not above' : 'below'} the last seen epoch ${current}`,
      );
    if (e.coordinatorEpoch > m.coordinatorEpoch)
      return rejected(
        'coordinator-fenced',
        `Coordinator epoch ${m.coordinatorEpoch} of the marker for producer ${m.producerId} is older than ${e.coordinatorEpoch}`,
      );
    return OK;
  }

  /**
   * Records a marker that checkMarker accepted and that was stored at `offset`: closes the
   * producer's transaction and takes the marker's epochs. Returns the aborted transaction to add to
   * the aborted-transaction index when it was an ABORT closing an open transaction, else null.
   */
  recordMarker(m: ProducerMarker, offset: number): AbortedTransaction | null {
    let e = this.producers.get(m.producerId);
    if (e === undefined) {
      e = new Entry(m.producerId);
      this.producers.set(m.producerId, e);
    }
    const first = e.currentTxnFirstOffset;
    e.setEpoch(m.producerEpoch);
    e.coordinatorEpoch = m.coordinatorEpoch;
    e.lastTimestamp = m.timestamp;
    if (first < 0) return null;
    e.currentTxnFirstOffset = -1;
    this.ongoing.delete(m.producerId);
    if (first === this.firstUnstable) this.firstUnstableStale = true;
    return m.commit ? null : { producerId: m.producerId, firstOffset: first, lastOffset: offset };
  }

  /** The first offset of the earliest open transaction, or -1 when none is open. */
  firstUnstableOffset(): number {
    if (this.firstUnstableStale) {
      let min = -1;
      for (const offset of this.ongoing.values()) if (min < 0 || offset < min) min = offset;
      this.firstUnstable = min;
      this.firstUnstableStale = false;
    }
    return this.firstUnstable;
  }

  /** The last stable offset for a log with these offsets. */
  lastStableOffset(logStartOffset: number, highWatermark: number): number {
    const first = this.firstUnstableOffset();
    const lso = first >= 0 && first < highWatermark ? first : highWatermark;
    return Math.max(lso, logStartOffset);
  }

  /**
   * Forgets producers whose last write is `expirationMs` or more before `now`, except those with
   * an open transaction. Returns how many were dropped.
   */
  expire(now: number, expirationMs: number): number {
    let dropped = 0;
    for (const [id, e] of this.producers)
      if (e.currentTxnFirstOffset < 0 && now - e.lastTimestamp >= expirationMs) {
        this.producers.delete(id);
        dropped++;
      }
    return dropped;
  }

  /** Every producer, as DescribeProducers reports them. */
  describe(): ProducerDescription[] {
    return [...this.producers.values()].map((e) => ({
      producerId: e.producerId,
      producerEpoch: e.producerEpoch,
      lastSequence: e.lastSeq,
      lastTimestamp: e.lastTimestamp,
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: e.currentTxnFirstOffset,
    }));
  }

  private openTxn(producerId: number, firstOffset: number): void {
    this.ongoing.set(producerId, firstOffset);
    if (!this.firstUnstableStale && (this.firstUnstable < 0 || firstOffset < this.firstUnstable))
      this.firstUnstable = firstOffset;
  }
}

/**
 * A partition's aborted transactions, in the order their ABORT markers were written, for
 * read_committed reads. Kafka keeps the same list per segment (the .txnindex files).
 */
export class AbortedTransactionIndex {
  private entries: AbortedTransaction[] = [];

  static restore(entries: readonly AbortedTransaction[]): AbortedTransactionIndex {
    const index = new AbortedTransactionIndex();
    index.entries = entries.map((t) => ({ ...t }));
    return index;
  }

  snapshot(): AbortedTransaction[] {
    return this.entries.map((t) => ({ ...t }));
  }

  get size(): number {
    return this.entries.length;
  }

  add(t: AbortedTransaction): void {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && t.lastOffset <= last.lastOffset)
      throw new Error(`aborted transaction ending at ${t.lastOffset} is not after ${last.lastOffset}`);
    this.entries.push({ producerId: t.producerId, firstOffset: t.firstOffset, lastOffset: t.lastOffset });
  }

  /** The aborted transactions overlapping [from, to] (both inclusive). */
  collect(from: number, to: number): AbortedTransaction[] {
    const out: AbortedTransaction[] = [];
    const entries = this.entries;
    // Markers are in offset order: skip those ending before `from` by bisection.
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.lastOffset < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < entries.length; i++) if (entries[i]!.firstOffset <= to) out.push(entries[i]!);
    return out;
  }

  /** Drops the transactions wholly before the log start offset. */
  dropBefore(logStartOffset: number): void {
    let n = 0;
    while (n < this.entries.length && this.entries[n]!.lastOffset < logStartOffset) n++;
    if (n > 0) this.entries = this.entries.slice(n);
  }
}
