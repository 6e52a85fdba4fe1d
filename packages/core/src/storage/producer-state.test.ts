import { buildEndTxnMarkerBatch, buildRecordBatch } from '@tributary/codec/records';
import { describe, expect, it } from 'vitest';
import {
  AbortedTransactionIndex,
  addSequence,
  NUM_BATCHES_TO_RETAIN,
  PartitionProducerState,
  type ProducerAppend,
  type ProducerMarker,
} from './producer-state.js';

const INT32_MAX = 0x7fffffff;

function data(over: Partial<ProducerAppend> = {}): ProducerAppend {
  return {
    producerId: 7,
    producerEpoch: 0,
    baseSequence: 0,
    lastOffsetDelta: 0,
    maxTimestamp: 1_000,
    transactional: false,
    ...over,
  };
}

function marker(over: Partial<ProducerMarker> = {}): ProducerMarker {
  return {
    producerId: 7,
    producerEpoch: 0,
    coordinatorEpoch: 0,
    commit: true,
    transactionVersion: 0,
    timestamp: 2_000,
    ...over,
  };
}

/** A log stand-in: assigns offsets as an adapter would, only to accepted batches. */
class Log {
  next = 0;
  readonly state = new PartitionProducerState();

  append(a: ProducerAppend) {
    const check = this.state.checkData(a);
    if (check.kind !== 'ok') return check;
    const offset = this.next;
    this.next += a.lastOffsetDelta + 1;
    this.state.recordData(a, offset);
    return { kind: 'appended' as const, offset };
  }

  marker(m: ProducerMarker) {
    const check = this.state.checkMarker(m);
    if (check.kind !== 'ok') return check;
    const offset = this.next++;
    return { kind: 'appended' as const, offset, aborted: this.state.recordMarker(m, offset) };
  }
}

const statusOf = (r: { kind: string; status?: string }) => (r.kind === 'rejected' ? r.status : r.kind);

describe('PartitionProducerState: sequences and epochs', () => {
  it('accepts a producer it has no state for at any sequence and epoch, then wants lastSeq + 1', () => {
    const log = new Log();
    expect(log.append(data({ producerEpoch: 3, baseSequence: 42, lastOffsetDelta: 2 }))).toEqual({
      kind: 'appended',
      offset: 0,
    });
    expect(log.state.entry(7)).toMatchObject({ producerEpoch: 3, batches: [{ firstSeq: 42, lastSeq: 44 }] });
    expect(statusOf(log.append(data({ producerEpoch: 3, baseSequence: 46 })))).toBe('out-of-order-sequence');
    expect(statusOf(log.append(data({ producerEpoch: 3, baseSequence: 44 })))).toBe('out-of-order-sequence');
    expect(log.append(data({ producerEpoch: 3, baseSequence: 45 }))).toEqual({ kind: 'appended', offset: 3 });
  });

  it('answers a retry of any of the last five batches with the original offsets; the sixth-oldest is out of order', () => {
    const log = new Log();
    for (let i = 0; i < 6; i++)
      log.append(data({ baseSequence: i * 2, lastOffsetDelta: 1, maxTimestamp: 100 + i }));
    const oldestRetained = log.state.checkData(data({ baseSequence: 2, lastOffsetDelta: 1 }));
    expect(oldestRetained).toEqual({
      kind: 'duplicate',
      batch: { firstSeq: 2, lastSeq: 3, lastOffset: 3, offsetDelta: 1, timestamp: 101 },
    });
    const newest = log.state.checkData(data({ baseSequence: 10, lastOffsetDelta: 1 }));
    expect(newest).toMatchObject({ kind: 'duplicate', batch: { lastOffset: 11 } });
    expect(statusOf(log.state.checkData(data({ baseSequence: 0, lastOffsetDelta: 1 })))).toBe(
      'out-of-order-sequence',
    );
    expect(log.state.entry(7)?.batches).toHaveLength(NUM_BATCHES_TO_RETAIN);
    // A same-start retry with a different range is not a duplicate.
    expect(statusOf(log.state.checkData(data({ baseSequence: 10, lastOffsetDelta: 0 })))).toBe(
      'out-of-order-sequence',
    );
  });

  it('refuses an older epoch with INVALID_PRODUCER_EPOCH, even for a batch that would be a duplicate', () => {
    const log = new Log();
    log.append(data({ producerEpoch: 0 }));
    log.append(data({ producerEpoch: 1, baseSequence: 0 }));
    expect(statusOf(log.append(data({ producerEpoch: 0, baseSequence: 1 })))).toBe('invalid-producer-epoch');
    expect(statusOf(log.append(data({ producerEpoch: 0, baseSequence: 0 })))).toBe('invalid-producer-epoch');
  });

  it('wants a new epoch to start at sequence 0, and forgets the old epoch batches', () => {
    const log = new Log();
    log.append(data({ baseSequence: 0, lastOffsetDelta: 4 }));
    expect(statusOf(log.append(data({ producerEpoch: 1, baseSequence: 5 })))).toBe('out-of-order-sequence');
    expect(log.append(data({ producerEpoch: 1, baseSequence: 0 }))).toMatchObject({ kind: 'appended' });
    expect(log.state.entry(7)?.batches).toHaveLength(1);
    // The old epoch's batch is no longer a duplicate: that epoch is fenced now.
    expect(statusOf(log.append(data({ producerEpoch: 0, baseSequence: 0, lastOffsetDelta: 4 })))).toBe(
      'invalid-producer-epoch',
    );
  });

  it('wraps the sequence after 2^31 - 1, within a batch and between batches', () => {
    expect(addSequence(INT32_MAX - 1, 3)).toBe(1);
    expect(addSequence(5, 3)).toBe(8);
    const log = new Log();
    log.append(data({ baseSequence: INT32_MAX - 1, lastOffsetDelta: 1 }));
    expect(log.state.entry(7)?.batches[0]?.lastSeq).toBe(INT32_MAX);
    expect(log.append(data({ baseSequence: 0, lastOffsetDelta: 0 }))).toMatchObject({ kind: 'appended' });
    const spanning = new Log();
    spanning.append(data({ baseSequence: INT32_MAX - 10, lastOffsetDelta: 9 }));
    spanning.append(data({ baseSequence: INT32_MAX, lastOffsetDelta: 2 }));
    expect(spanning.state.entry(7)?.batches[1]).toMatchObject({ firstSeq: INT32_MAX, lastSeq: 1 });
    expect(spanning.append(data({ baseSequence: 2 }))).toMatchObject({ kind: 'appended' });
    expect(spanning.state.checkData(data({ baseSequence: INT32_MAX, lastOffsetDelta: 2 }))).toMatchObject({
      kind: 'duplicate',
    });
  });

  it('refuses a wrap to 0 from anywhere but 2^31 - 1', () => {
    const log = new Log();
    log.append(data({ baseSequence: 10, lastOffsetDelta: 6 }));
    expect(statusOf(log.append(data({ baseSequence: 0 })))).toBe('out-of-order-sequence');
  });

  it('keeps producers apart', () => {
    const log = new Log();
    log.append(data({ producerId: 1, baseSequence: 0 }));
    log.append(data({ producerId: 2, baseSequence: 0 }));
    expect(log.append(data({ producerId: 1, baseSequence: 1 }))).toMatchObject({ kind: 'appended' });
    expect(log.state.checkData(data({ producerId: 2, baseSequence: 0 }))).toMatchObject({
      kind: 'duplicate',
    });
  });
});

describe('PartitionProducerState: transactions', () => {
  it('opens a transaction at the first transactional batch and holds the first unstable offset there', () => {
    const log = new Log();
    log.append(data({ producerId: 1, baseSequence: 0, lastOffsetDelta: 1 })); // 0-1 plain
    log.append(data({ producerId: 2, transactional: true, lastOffsetDelta: 2 })); // 2-4
    log.append(data({ producerId: 3, transactional: true })); // 5
    log.append(data({ producerId: 2, transactional: true, baseSequence: 3 })); // 6
    expect(log.state.entry(2)?.currentTxnFirstOffset).toBe(2);
    expect(log.state.firstUnstableOffset()).toBe(2);
    expect(log.state.lastStableOffset(0, 7)).toBe(2);
    expect(log.marker(marker({ producerId: 2 }))).toMatchObject({ offset: 7, aborted: null });
    expect(log.state.firstUnstableOffset()).toBe(5);
    expect(log.marker(marker({ producerId: 3, commit: false }))).toEqual({
      kind: 'appended',
      offset: 8,
      aborted: { producerId: 3, firstOffset: 5, lastOffset: 8 },
    });
    expect(log.state.firstUnstableOffset()).toBe(-1);
    expect(log.state.lastStableOffset(0, 9)).toBe(9);
  });

  it('keeps the last stable offset within [log start offset, high watermark]', () => {
    const log = new Log();
    log.append(data({ transactional: true }));
    expect(log.state.lastStableOffset(0, 1)).toBe(0);
    expect(log.state.lastStableOffset(1, 1)).toBe(1);
    const empty = new PartitionProducerState();
    expect(empty.lastStableOffset(3, 10)).toBe(10);
  });

  it('refuses a plain batch while the producer has a transaction open (INVALID_TXN_STATE)', () => {
    const log = new Log();
    log.append(data({ transactional: true }));
    expect(statusOf(log.append(data({ baseSequence: 1 })))).toBe('invalid-txn-state');
    log.marker(marker());
    expect(log.append(data({ baseSequence: 1 }))).toMatchObject({ kind: 'appended' });
  });

  it('fences a marker from an older coordinator epoch (TRANSACTION_COORDINATOR_FENCED)', () => {
    const log = new Log();
    log.append(data({ transactional: true }));
    log.marker(marker({ coordinatorEpoch: 5 }));
    log.append(data({ transactional: true, baseSequence: 1 }));
    expect(statusOf(log.marker(marker({ coordinatorEpoch: 4 })))).toBe('coordinator-fenced');
    expect(log.state.entry(7)?.currentTxnFirstOffset).toBe(2);
    expect(log.marker(marker({ coordinatorEpoch: 5, commit: false }))).toMatchObject({
      aborted: { firstOffset: 2, lastOffset: 3 },
    });
  });

  it('refuses a marker with an older producer epoch', () => {
    const log = new Log();
    log.append(data({ producerEpoch: 2, transactional: true }));
    expect(statusOf(log.marker(marker({ producerEpoch: 1 })))).toBe('invalid-producer-epoch');
    expect(log.state.entry(7)?.currentTxnFirstOffset).toBe(0);
  });

  it('lets a marker bump the epoch: the old epoch is fenced and the new one starts at sequence 0', () => {
    const log = new Log();
    log.append(data({ producerEpoch: 0, transactional: true, lastOffsetDelta: 2 }));
    log.marker(marker({ producerEpoch: 1, commit: false, coordinatorEpoch: 3 }));
    expect(log.state.entry(7)).toMatchObject({
      producerEpoch: 1,
      coordinatorEpoch: 3,
      currentTxnFirstOffset: -1,
      batches: [],
      lastTimestamp: 2_000,
    });
    expect(statusOf(log.append(data({ producerEpoch: 0, baseSequence: 3 })))).toBe('invalid-producer-epoch');
    expect(statusOf(log.append(data({ producerEpoch: 1, baseSequence: 3 })))).toBe('out-of-order-sequence');
    expect(log.append(data({ producerEpoch: 1, baseSequence: 0 }))).toMatchObject({ kind: 'appended' });
  });

  it('with transaction version 2 wants the marker epoch above the producer epoch, but takes a retried marker', () => {
    const log = new Log();
    log.append(data({ producerEpoch: 4, transactional: true }));
    expect(statusOf(log.marker(marker({ producerEpoch: 4, transactionVersion: 2 })))).toBe(
      'invalid-producer-epoch',
    );
    expect(log.marker(marker({ producerEpoch: 5, transactionVersion: 2 }))).toMatchObject({
      kind: 'appended',
    });
    // The same marker again (its response was lost): no transaction is open, so it is a retry.
    expect(log.marker(marker({ producerEpoch: 5, transactionVersion: 2 }))).toMatchObject({
      kind: 'appended',
      aborted: null,
    });
  });

  it('writes a marker for a producer without an open transaction without recording an aborted one', () => {
    const log = new Log();
    expect(log.marker(marker({ commit: false, producerEpoch: 2 }))).toMatchObject({ aborted: null });
    expect(log.state.entry(7)).toMatchObject({ producerEpoch: 2, currentTxnFirstOffset: -1 });
    expect(log.state.firstUnstableOffset()).toBe(-1);
  });
});

describe('PartitionProducerState: expiry, description and snapshots', () => {
  it('expires producers idle for producer.id.expiration.ms, never one with an open transaction', () => {
    const log = new Log();
    log.append(data({ producerId: 1, maxTimestamp: 1_000 }));
    log.append(data({ producerId: 2, maxTimestamp: 1_000, transactional: true }));
    log.append(data({ producerId: 3, maxTimestamp: 5_000 }));
    expect(log.state.expire(10_999, 10_000)).toBe(0);
    expect(log.state.expire(11_000, 10_000)).toBe(1);
    expect(log.state.entry(1)).toBeUndefined();
    expect(log.state.entry(2)).toBeDefined();
    expect(log.state.expire(100_000, 10_000)).toBe(1);
    expect(log.state.size).toBe(1);
    // An expired producer is unknown again: any sequence is accepted.
    expect(log.append(data({ producerId: 1, baseSequence: 77 }))).toMatchObject({ kind: 'appended' });
  });

  it('describes each producer as DescribeProducers reports it', () => {
    const log = new Log();
    log.append(
      data({ producerId: 1, producerEpoch: 2, baseSequence: 5, lastOffsetDelta: 3, maxTimestamp: 9 }),
    );
    log.append(data({ producerId: 2, transactional: true }));
    expect(log.state.describe()).toEqual([
      {
        producerId: 1,
        producerEpoch: 2,
        lastSequence: 8,
        lastTimestamp: 9,
        coordinatorEpoch: -1,
        currentTxnStartOffset: -1,
      },
      {
        producerId: 2,
        producerEpoch: 0,
        lastSequence: 0,
        lastTimestamp: 1_000,
        coordinatorEpoch: -1,
        currentTxnStartOffset: 4,
      },
    ]);
  });

  it('restores from a plain-data snapshot with duplicates, fencing and open transactions intact', () => {
    const log = new Log();
    log.append(data({ producerId: 1, lastOffsetDelta: 1 }));
    log.append(data({ producerId: 2, transactional: true }));
    log.marker(marker({ producerId: 3, coordinatorEpoch: 9 }));
    const snapshot = JSON.parse(JSON.stringify(log.state.snapshot()));
    const restored = PartitionProducerState.restore(snapshot);
    expect(restored.snapshot()).toEqual(log.state.snapshot());
    expect(restored.checkData(data({ producerId: 1, lastOffsetDelta: 1 }))).toMatchObject({
      kind: 'duplicate',
      batch: { lastOffset: 1 },
    });
    expect(restored.firstUnstableOffset()).toBe(2);
    expect(statusOf(restored.checkMarker(marker({ producerId: 3, coordinatorEpoch: 8 })))).toBe(
      'coordinator-fenced',
    );
  });
});

describe('AbortedTransactionIndex', () => {
  it('collects the aborted transactions overlapping a range', () => {
    const index = new AbortedTransactionIndex();
    index.add({ producerId: 1, firstOffset: 0, lastOffset: 5 });
    index.add({ producerId: 2, firstOffset: 3, lastOffset: 10 });
    index.add({ producerId: 3, firstOffset: 12, lastOffset: 15 });
    index.add({ producerId: 4, firstOffset: 1, lastOffset: 20 });
    expect(index.collect(6, 11).map((t) => t.producerId)).toEqual([2, 4]);
    expect(index.collect(0, 0).map((t) => t.producerId)).toEqual([1]);
    expect(index.collect(16, 30).map((t) => t.producerId)).toEqual([4]);
    expect(index.collect(21, 30)).toEqual([]);
  });

  it('wants markers in offset order and drops transactions wholly before the log start offset', () => {
    const index = new AbortedTransactionIndex();
    index.add({ producerId: 1, firstOffset: 0, lastOffset: 5 });
    expect(() => index.add({ producerId: 2, firstOffset: 1, lastOffset: 5 })).toThrow();
    index.add({ producerId: 2, firstOffset: 1, lastOffset: 9 });
    index.dropBefore(6);
    expect(index.snapshot()).toEqual([{ producerId: 2, firstOffset: 1, lastOffset: 9 }]);
    expect(AbortedTransactionIndex.restore(index.snapshot()).collect(0, 100)).toHaveLength(1);
  });
});

describe('PartitionProducerState.replay', () => {
  it('rebuilds the state a live append sequence built, from the stored batches', () => {
    const stored = [
      buildRecordBatch({ baseOffset: 0, records: [{ value: Buffer.from('plain') }] }),
      buildRecordBatch({
        baseOffset: 1,
        producerId: 7,
        producerEpoch: 1,
        baseSequence: 0,
        records: [
          { value: Buffer.from('a'), timestamp: 10 },
          { value: Buffer.from('b'), timestamp: 11 },
        ],
      }),
      buildRecordBatch({
        baseOffset: 3,
        producerId: 8,
        producerEpoch: 0,
        baseSequence: 0,
        transactional: true,
        records: [{ value: Buffer.from('t'), timestamp: 12 }],
      }),
      buildRecordBatch({
        baseOffset: 4,
        producerId: 9,
        producerEpoch: 0,
        baseSequence: 0,
        transactional: true,
        records: [{ value: Buffer.from('u'), timestamp: 13 }],
      }),
      buildEndTxnMarkerBatch({
        baseOffset: 5,
        commit: false,
        producerId: 8,
        producerEpoch: 0,
        coordinatorEpoch: 2,
        timestamp: 14,
      }),
    ];
    const state = new PartitionProducerState();
    const aborted = stored.map((b) => state.replay(b));
    expect(aborted).toEqual([null, null, null, null, { producerId: 8, firstOffset: 3, lastOffset: 5 }]);
    expect(state.entry(7)).toEqual({
      producerId: 7,
      producerEpoch: 1,
      coordinatorEpoch: -1,
      lastTimestamp: 11,
      currentTxnFirstOffset: -1,
      batches: [{ firstSeq: 0, lastSeq: 1, lastOffset: 2, offsetDelta: 1, timestamp: 11 }],
    });
    expect(state.entry(8)).toMatchObject({
      coordinatorEpoch: 2,
      currentTxnFirstOffset: -1,
      lastTimestamp: 14,
    });
    expect(state.firstUnstableOffset()).toBe(4);
    expect(state.checkData(data({ producerEpoch: 1, lastOffsetDelta: 1 }))).toMatchObject({
      kind: 'duplicate',
    });
  });
});
