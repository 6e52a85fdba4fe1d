import { ErrorCode } from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import {
  MAX_PRODUCER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  partitionKey,
  TransactionMetadata,
  type TransactionSnapshot,
} from './transaction-metadata.js';
import { isValidTransition, TransactionState as S } from './transaction-state.js';

const T0 = 1_700_000_000_000;
const tp0 = partitionKey('topic', 0);
const tp1 = partitionKey('topic', 1);

function metadata(over: Partial<Omit<TransactionSnapshot, 'partitions'>> & { partitions?: string[] } = {}) {
  return new TransactionMetadata('txn', {
    producerId: 10n,
    prevProducerId: NO_PRODUCER_ID,
    nextProducerId: NO_PRODUCER_ID,
    producerEpoch: 0,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs: 30_000,
    state: S.Empty,
    txnStartTimestamp: -1,
    txnLastUpdateTimestamp: T0,
    clientTransactionVersion: 0,
    ...over,
  });
}

function ok(r: ReturnType<TransactionMetadata['prepareIncrementProducerEpoch']>) {
  if (!r.ok) throw new Error(`expected a transition, got error ${r.errorCode}`);
  return r.transit;
}

describe('transaction states', () => {
  it('allow PrepareAbort from Empty and the Complete states (transactions v2), PrepareCommit only from Ongoing', () => {
    for (const from of [S.Ongoing, S.PrepareEpochFence, S.Empty, S.CompleteCommit, S.CompleteAbort])
      expect(isValidTransition(from, S.PrepareAbort)).toBe(true);
    expect(isValidTransition(S.PrepareCommit, S.PrepareAbort)).toBe(false);
    expect(isValidTransition(S.Ongoing, S.PrepareCommit)).toBe(true);
    expect(isValidTransition(S.Empty, S.PrepareCommit)).toBe(false);
    expect(isValidTransition(S.Ongoing, S.Dead)).toBe(false);
    expect(isValidTransition(S.CompleteAbort, S.Dead)).toBe(true);
  });
});

describe('TransactionMetadata', () => {
  it('bumps the epoch of a new producer from -1 to 0 (testAttemptedEpochBumpWithNewlyCreatedMetadata)', () => {
    const md = metadata({ producerEpoch: NO_PRODUCER_EPOCH });
    const t = ok(md.prepareIncrementProducerEpoch(30_000, null, T0));
    md.completeTransitionTo(t);
    expect(md.producerEpoch).toBe(0);
    expect(md.lastProducerEpoch).toBe(NO_PRODUCER_EPOCH);
    expect(md.state).toBe(S.Empty);
  });

  it('bumps the epoch by one (testNormalEpochBump)', () => {
    const md = metadata({ producerEpoch: 735, lastProducerEpoch: 734 });
    md.completeTransitionTo(ok(md.prepareIncrementProducerEpoch(30_000, null, T0)));
    expect(md.producerEpoch).toBe(736);
    expect(md.lastProducerEpoch).toBe(NO_PRODUCER_EPOCH);
  });

  it('records the last epoch when the producer names its current one, and answers a retry with it (testAttemptedEpochBumpWithLastEpoch)', () => {
    const md = metadata({ producerEpoch: 5 });
    md.completeTransitionTo(ok(md.prepareIncrementProducerEpoch(30_000, 5, T0)));
    expect([md.producerEpoch, md.lastProducerEpoch]).toEqual([6, 5]);
    // The answer was lost; the producer retries with the epoch it still has.
    md.completeTransitionTo(ok(md.prepareIncrementProducerEpoch(30_000, 5, T0)));
    expect([md.producerEpoch, md.lastProducerEpoch]).toEqual([6, 5]);
  });

  it('fences a producer naming an epoch that is neither current nor last (testAttemptedEpochBumpWithFencedEpoch)', () => {
    const md = metadata({ producerEpoch: 6, lastProducerEpoch: 5 });
    const r = md.prepareIncrementProducerEpoch(30_000, 3, T0);
    expect(r).toEqual({ ok: false, errorCode: ErrorCode.PRODUCER_FENCED });
    expect(md.pendingTransitionInProgress).toBe(false);
  });

  it('refuses to bump an exhausted epoch (testBumpEpochNotAllowedIfEpochsExhausted)', () => {
    const md = metadata({ producerEpoch: MAX_PRODUCER_EPOCH - 1 });
    expect(md.isProducerEpochExhausted).toBe(true);
    expect(() => md.prepareIncrementProducerEpoch(30_000, null, T0)).toThrow(/epochs/);
  });

  it('still fences once the epochs are exhausted, with the last epoch (testFenceProducerAfterEpochsExhausted)', () => {
    const md = metadata({
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: S.Ongoing,
      partitions: [tp0],
      txnStartTimestamp: T0,
    });
    const fence = md.prepareFenceProducerEpoch();
    expect(fence.producerEpoch).toBe(MAX_PRODUCER_EPOCH);
    expect(fence.state).toBe(S.PrepareEpochFence);
    expect(md.pendingState).toBe(S.PrepareEpochFence);
  });

  it('does not bump again after a fence that failed to be written', () => {
    const md = metadata({ producerEpoch: 7, state: S.Ongoing, partitions: [tp0], txnStartTimestamp: T0 });
    md.hasFailedEpochFence = true;
    expect(md.prepareFenceProducerEpoch().producerEpoch).toBe(7);
  });

  it('rotates the producer id at epoch 0, keeping the last epoch when asked (testRotateProducerId*)', () => {
    const md = metadata({
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: S.CompleteCommit,
      txnStartTimestamp: T0,
    });
    const t = md.prepareProducerIdRotation(11n, 30_000, T0 + 1, true);
    md.completeTransitionTo(t);
    expect([md.producerId, md.producerEpoch, md.lastProducerEpoch, md.prevProducerId]).toEqual([
      11n,
      0,
      MAX_PRODUCER_EPOCH - 1,
      10n,
    ]);
    const fresh = metadata({ producerEpoch: MAX_PRODUCER_EPOCH - 1 });
    fresh.completeTransitionTo(fresh.prepareProducerIdRotation(12n, 30_000, T0, false));
    expect(fresh.lastProducerEpoch).toBe(NO_PRODUCER_EPOCH);
  });

  it('does not rotate the producer id while a transaction is open (testRotateProducerIdInOngoingState)', () => {
    const md = metadata({ state: S.Ongoing, partitions: [tp0], txnStartTimestamp: T0 });
    expect(() => md.prepareProducerIdRotation(11n, 30_000, T0, false)).toThrow(/pending/);
  });

  it('starts a transaction at the first partition and keeps its start as partitions join', () => {
    const md = metadata();
    md.completeTransitionTo(md.prepareAddPartitions([tp0], T0 + 5, 0));
    expect(md.state).toBe(S.Ongoing);
    expect(md.txnStartTimestamp).toBe(T0 + 5);
    md.completeTransitionTo(md.prepareAddPartitions([tp1], T0 + 9, 0));
    expect(md.txnStartTimestamp).toBe(T0 + 5);
    expect([...md.partitions].sort()).toEqual([tp0, tp1]);
  });

  it('keeps the epoch on EndTxn under transactions v1 and bumps it under v2 (testEpochBumpOnEndTxn)', () => {
    const v1 = metadata({ producerEpoch: 4, state: S.Ongoing, partitions: [tp0], txnStartTimestamp: T0 });
    v1.completeTransitionTo(v1.prepareAbortOrCommit(S.PrepareCommit, 0, NO_PRODUCER_ID, T0 + 1, false));
    expect(v1.producerEpoch).toBe(4);
    v1.completeTransitionTo(v1.prepareComplete(T0 + 2));
    expect([v1.state, v1.producerEpoch, v1.partitions.size]).toEqual([S.CompleteCommit, 4, 0]);

    const v2 = metadata({ producerEpoch: 4, state: S.Ongoing, partitions: [tp0], txnStartTimestamp: T0 });
    v2.completeTransitionTo(v2.prepareAbortOrCommit(S.PrepareCommit, 2, NO_PRODUCER_ID, T0 + 1, false));
    expect([v2.producerEpoch, v2.lastProducerEpoch]).toEqual([5, 4]);
    v2.completeTransitionTo(v2.prepareComplete(T0 + 2));
    expect([v2.state, v2.producerId, v2.producerEpoch]).toEqual([S.CompleteCommit, 10n, 5]);
  });

  it('moves to the next producer id at epoch 0 when the v2 bump overflows (testEpochBumpOnEndTxnOverflow)', () => {
    const md = metadata({
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: S.Ongoing,
      partitions: [tp0],
      txnStartTimestamp: T0,
    });
    md.completeTransitionTo(md.prepareAbortOrCommit(S.PrepareCommit, 2, 11n, T0 + 1, false));
    expect([md.producerId, md.producerEpoch, md.nextProducerId]).toEqual([10n, MAX_PRODUCER_EPOCH, 11n]);
    md.completeTransitionTo(md.prepareComplete(T0 + 2));
    expect([md.producerId, md.producerEpoch, md.prevProducerId, md.nextProducerId]).toEqual([
      11n,
      0,
      10n,
      NO_PRODUCER_ID,
    ]);
    expect(md.lastProducerEpoch).toBe(MAX_PRODUCER_EPOCH - 1);
  });

  it('lets a v2 abort through at the maximum epoch without bumping it', () => {
    const md = metadata({
      producerEpoch: MAX_PRODUCER_EPOCH,
      state: S.Ongoing,
      partitions: [tp0],
      txnStartTimestamp: T0,
    });
    md.completeTransitionTo(md.prepareAbortOrCommit(S.PrepareAbort, 2, NO_PRODUCER_ID, T0, false));
    expect(md.producerEpoch).toBe(MAX_PRODUCER_EPOCH);
  });

  it('starts an abort without partitions (v2) at its own time', () => {
    const md = metadata({ state: S.CompleteCommit, txnStartTimestamp: T0 });
    md.completeTransitionTo(md.prepareAbortOrCommit(S.PrepareAbort, 2, NO_PRODUCER_ID, T0 + 50, true));
    expect([md.state, md.txnStartTimestamp, md.producerEpoch]).toEqual([S.PrepareAbort, T0 + 50, 1]);
  });

  it('tolerates the clock going back across every transition (testTolerateTimeShiftDuring*)', () => {
    const md = metadata({ state: S.Empty });
    md.completeTransitionTo(md.prepareAddPartitions([tp0], T0 - 1000, 0));
    md.completeTransitionTo(md.prepareAddPartitions([tp1], T0 - 2000, 0));
    md.completeTransitionTo(md.prepareAbortOrCommit(S.PrepareCommit, 0, NO_PRODUCER_ID, T0 - 3000, false));
    md.completeTransitionTo(md.prepareComplete(T0 - 4000));
    expect([md.state, md.txnLastUpdateTimestamp]).toEqual([S.CompleteCommit, T0 - 4000]);
    md.completeTransitionTo(md.prepareAddPartitions([tp0], T0 - 5000, 0));
    md.completeTransitionTo(md.prepareAbortOrCommit(S.PrepareAbort, 0, NO_PRODUCER_ID, T0 - 6000, false));
    md.completeTransitionTo(md.prepareComplete(T0 - 7000));
    expect(md.state).toBe(S.CompleteAbort);
  });

  it('refuses a second prepared transition and invalid transitions', () => {
    const md = metadata({ state: S.Ongoing, partitions: [tp0], txnStartTimestamp: T0 });
    md.prepareAbortOrCommit(S.PrepareCommit, 0, NO_PRODUCER_ID, T0, false);
    expect(() => md.prepareAddPartitions([tp1], T0, 0)).toThrow(/pending/);
    md.abandonPendingTransition();
    expect(() => metadata().prepareAbortOrCommit(S.PrepareCommit, 0, NO_PRODUCER_ID, T0, false)).toThrow(
      /cannot go/,
    );
  });

  it('completes only the transition that was prepared', () => {
    const md = metadata({ state: S.Ongoing, partitions: [tp0], txnStartTimestamp: T0 });
    const commit = md.prepareAbortOrCommit(S.PrepareCommit, 0, NO_PRODUCER_ID, T0, false);
    md.abandonPendingTransition();
    expect(() => md.completeTransitionTo(commit)).toThrow(/without a pending state/);
    md.prepareAbortOrCommit(S.PrepareAbort, 0, NO_PRODUCER_ID, T0, false);
    expect(() => md.completeTransitionTo(commit)).toThrow(/unexpected metadata/);
  });

  it('never completes a fence or a Dead transition on their own', () => {
    const md = metadata({ state: S.Ongoing, partitions: [tp0], txnStartTimestamp: T0 });
    expect(() => md.completeTransitionTo(md.prepareFenceProducerEpoch())).toThrow();
    const idle = metadata({ state: S.CompleteAbort, txnStartTimestamp: T0 });
    expect(() => idle.completeTransitionTo(idle.prepareDead())).toThrow(/Dead/);
  });
});
