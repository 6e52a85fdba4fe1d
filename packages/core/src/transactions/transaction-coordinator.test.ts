import { ErrorCode } from '@tributary/codec';
import { createTransactionLogValue } from '@tributary/codec/coordinator';
import { describe, expect, it } from 'vitest';
import { gate, type Harness, settle, transactionHarness } from './testing-fakes.js';
import type { TransactionCoordinator } from './transaction-coordinator.js';
import { fromTransactionLogValue, toTransactionLogValue } from './transaction-log.js';
import {
  MAX_PRODUCER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  partitionKey,
  type TransactionSnapshot,
} from './transaction-metadata.js';
import { TransactionState } from './transaction-state.js';

const TXN = 'txn-1';
const tp0 = { topic: 'topic', partition: 0 };
const tp1 = { topic: 'topic', partition: 1 };

async function init(
  c: TransactionCoordinator,
  over: Partial<Parameters<TransactionCoordinator['initProducerId']>[0]> = {},
) {
  return c.initProducerId({
    transactionalId: TXN,
    transactionTimeoutMs: 60_000,
    producerId: NO_PRODUCER_ID,
    producerEpoch: NO_PRODUCER_EPOCH,
    ...over,
  });
}

function add(
  c: TransactionCoordinator,
  producerId: bigint,
  producerEpoch: number,
  partitions = [tp0],
  transactionVersion = 0,
) {
  return c.addPartitions({ transactionalId: TXN, producerId, producerEpoch, partitions, transactionVersion });
}

function end(
  c: TransactionCoordinator,
  producerId: bigint,
  producerEpoch: number,
  committed: boolean,
  transactionVersion = 0,
) {
  return c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed, transactionVersion });
}

function state(h: Harness, id = TXN): TransactionSnapshot {
  const v = h.log.latest(id);
  if (v === undefined || v === null) throw new Error(`no state for ${id}`);
  return fromTransactionLogValue(v);
}

/** Seeds the log with a state, as a previous coordinator left it. */
function seed(h: Harness, s: Partial<TransactionSnapshot> & { partitions?: Set<string> }, id = TXN) {
  h.log.records.push({
    transactionalId: id,
    value: toTransactionLogValue({
      producerId: 10n,
      prevProducerId: NO_PRODUCER_ID,
      nextProducerId: NO_PRODUCER_ID,
      producerEpoch: 0,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnTimeoutMs: 60_000,
      state: TransactionState.Empty,
      partitions: new Set(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: h.clock.now(),
      clientTransactionVersion: 0,
      ...s,
    }),
  });
}

describe('TransactionCoordinator: InitProducerId', () => {
  it('hands an idempotent producer a fresh id at epoch 0 each time (shouldAcceptInitPidAndReturnNextPidWhenTransactionalIdIsNull)', async () => {
    const h = await transactionHarness();
    expect(await init(h.coordinator, { transactionalId: null })).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 0,
    });
    expect(await init(h.coordinator, { transactionalId: null })).toEqual({
      errorCode: 0,
      producerId: 1001n,
      producerEpoch: 0,
    });
    expect(h.log.records).toHaveLength(0);
  });

  it('refuses an empty transactional id and timeouts above transaction.max.timeout.ms or not positive', async () => {
    const h = await transactionHarness({ transactionMaxTimeoutMs: 900_000 });
    expect((await init(h.coordinator, { transactionalId: '' })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await init(h.coordinator, { transactionTimeoutMs: 900_001 })).errorCode).toBe(
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
    expect((await init(h.coordinator, { transactionTimeoutMs: 0 })).errorCode).toBe(
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
    expect((await init(h.coordinator, { transactionTimeoutMs: 900_000 })).errorCode).toBe(ErrorCode.NONE);
  });

  it('starts a new transactional id at epoch 0 and bumps the epoch on each InitProducerId (shouldInitPidWithEpochZeroForNewTransactionalId)', async () => {
    const h = await transactionHarness();
    expect(await init(h.coordinator)).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 0 });
    expect(state(h)).toMatchObject({
      producerId: 1000n,
      producerEpoch: 0,
      state: TransactionState.Empty,
      txnTimeoutMs: 60_000,
    });
    expect(await init(h.coordinator, { transactionTimeoutMs: 5000 })).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 1,
    });
    expect(state(h).txnTimeoutMs).toBe(5000);
  });

  it('answers with the error the allocator carries', async () => {
    const h = await transactionHarness(
      {},
      {
        producerIds: {
          nextProducerId: () => {
            throw Object.assign(new Error('no block yet'), {
              errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
            });
          },
        },
      },
    );
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect((await init(h.coordinator, { transactionalId: null })).errorCode).toBe(
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
  });

  it('rotates the producer id once the epochs are exhausted (shouldGenerateNewProducerIdIfEpochsExhausted)', async () => {
    const h = await transactionHarness({}, { start: false });
    seed(h, {
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: TransactionState.CompleteCommit,
      txnStartTimestamp: 1,
    });
    await h.coordinator.start();
    expect(await init(h.coordinator)).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 0 });
    expect(state(h)).toMatchObject({ producerId: 1000n, prevProducerId: 10n, producerEpoch: 0 });
  });

  it('needs both a producer id and an epoch, or neither (KIP-360)', async () => {
    const h = await transactionHarness();
    expect((await init(h.coordinator, { producerId: 5n })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await init(h.coordinator, { producerEpoch: 5 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('gives a new producer id to a recovering producer whose id expired (shouldGenerateNewProducerIdIfNoStateAndProducerIdAndEpochProvided)', async () => {
    const h = await transactionHarness();
    expect(await init(h.coordinator, { producerId: 10n, producerEpoch: 1 })).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 0,
    });
  });

  it('recovers a producer naming its current epoch, repeats a lost bump, fences stale epochs and ids (testInitProducerIdStaleCurrentEpochProvided)', async () => {
    const h = await transactionHarness();
    const first = await init(h.coordinator);
    const bumped = await init(h.coordinator, { producerId: first.producerId, producerEpoch: 0 });
    expect(bumped).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 1 });
    // The answer was lost: the retry names the epoch it had and gets the same bump.
    expect(await init(h.coordinator, { producerId: 1000n, producerEpoch: 0 })).toEqual(bumped);
    // Another producer initialized since: the old one is fenced.
    expect((await init(h.coordinator)).producerEpoch).toBe(2);
    expect((await init(h.coordinator, { producerId: 1000n, producerEpoch: 0 })).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect((await init(h.coordinator, { producerId: 77n, producerEpoch: 2 })).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
  });

  it('answers a retry after a producer id rotation with the new id (testRetryInitProducerIdAfterProducerIdRotation)', async () => {
    const h = await transactionHarness({}, { start: false });
    seed(h, {
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: TransactionState.CompleteAbort,
      txnStartTimestamp: 1,
    });
    await h.coordinator.start();
    const rotated = await init(h.coordinator, { producerId: 10n, producerEpoch: MAX_PRODUCER_EPOCH - 1 });
    expect(rotated).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 0 });
    expect(await init(h.coordinator, { producerId: 10n, producerEpoch: MAX_PRODUCER_EPOCH - 1 })).toEqual(
      rotated,
    );
  });

  it('aborts an ongoing transaction with a bumped epoch and answers CONCURRENT_TRANSACTIONS (shouldAbortTransactionOnHandleInitPidWhenExistingTransactionInOngoingState)', async () => {
    const h = await transactionHarness({ transactionVersion: 0 });
    const p = await init(h.coordinator);
    expect(await add(h.coordinator, p.producerId, p.producerEpoch)).toBe(ErrorCode.NONE);
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await settle();
    expect(h.markers.writes).toEqual([
      {
        producerId: 1000n,
        producerEpoch: 1,
        coordinatorEpoch: 0,
        result: 'abort',
        transactionVersion: 0,
        partitions: [tp0],
      },
    ]);
    expect(state(h)).toMatchObject({ state: TransactionState.CompleteAbort, producerEpoch: 1 });
    // The old producer is fenced; the new one, retrying, gets the next epoch.
    expect(await end(h.coordinator, p.producerId, p.producerEpoch, true)).toMatchObject({
      errorCode: ErrorCode.PRODUCER_FENCED,
    });
    expect(await init(h.coordinator)).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 2 });
  });

  it('bumps twice when fencing under transactions v2: once to fence, once for the abort', async () => {
    const h = await transactionHarness({ transactionVersion: 2 });
    const p = await init(h.coordinator);
    await add(h.coordinator, p.producerId, p.producerEpoch);
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await settle();
    expect(h.markers.writes[0]).toMatchObject({ producerEpoch: 2, result: 'abort', transactionVersion: 2 });
    expect(await init(h.coordinator)).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 3 });
  });

  it('waits for a commit to complete (shouldWaitForCommitToCompleteOnHandleInitPidAndExistingTransactionInPrepareCommitState)', async () => {
    const h = await transactionHarness();
    const g = gate();
    h.markers.gate = g.promise;
    const p = await init(h.coordinator);
    await add(h.coordinator, p.producerId, p.producerEpoch);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(ErrorCode.NONE);
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    g.open();
    await settle();
    expect(state(h).state).toBe(TransactionState.CompleteCommit);
    expect(await init(h.coordinator)).toMatchObject({ errorCode: 0, producerEpoch: 1 });
  });

  it('fences with the last epoch when the epochs are exhausted, then rotates the producer id (shouldUseLastEpochToFenceWhenEpochsAreExhausted)', async () => {
    const h = await transactionHarness({ transactionVersion: 0 }, { start: false });
    seed(h, {
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: TransactionState.Ongoing,
      partitions: new Set([partitionKey('topic', 0)]),
      txnStartTimestamp: h.clock.now(),
    });
    await h.coordinator.start();
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await settle();
    expect(h.markers.writes[0]).toMatchObject({
      producerId: 10n,
      producerEpoch: MAX_PRODUCER_EPOCH,
      result: 'abort',
    });
    expect(await init(h.coordinator)).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 0 });
  });

  it('hands a partition to another coordinator on the same log, which completes the transaction it finds decided there', async () => {
    const h = await transactionHarness();
    const g = gate();
    h.markers.gate = g.promise;
    const p = await init(h.coordinator);
    expect(await add(h.coordinator, p.producerId, p.producerEpoch)).toBe(ErrorCode.NONE);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(ErrorCode.NONE);
    expect(state(h).state).toBe(TransactionState.PrepareCommit);
    const partition = h.log.partitionFor(TXN);
    h.coordinator.unloadPartition(partition);
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    g.open();
    await settle();
    // The first coordinator gave the id up: it does not write the completion.
    expect(state(h).state).toBe(TransactionState.PrepareCommit);

    const next = await transactionHarness({}, { log: h.log, start: false });
    next.markers.gate = null;
    await next.coordinator.start();
    for (let q = 0; q < h.log.partitionCount; q++) if (q !== partition) next.coordinator.unloadPartition(q);
    await settle();
    expect(state(h).state).toBe(TransactionState.CompleteCommit);
    expect(next.markers.writes.at(-1)).toMatchObject({ producerId: p.producerId, result: 'commit' });
  });

  it('answers NOT_COORDINATOR for ids it does not own, COORDINATOR_LOAD_IN_PROGRESS while loading, COORDINATOR_NOT_AVAILABLE once stopped', async () => {
    const other = await transactionHarness();
    other.coordinator.unloadPartition(other.log.partitionFor(TXN));
    expect((await init(other.coordinator)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);

    const h = await transactionHarness({}, { start: false });
    const g = gate();
    h.log.loadGate = g.promise;
    const started = h.coordinator.start();
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(
      h.coordinator.listTransactions({
        stateFilters: [],
        producerIdFilters: [],
        durationFilterMs: -1,
        transactionalIdPattern: null,
      }).errorCode,
    ).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    g.open();
    await started;
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.NONE);
    h.coordinator.stop();
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('stays unavailable when the log cannot be loaded', async () => {
    const h = await transactionHarness({}, { start: false });
    h.log.load = () => Promise.reject(new Error('unreadable'));
    await expect(h.coordinator.start()).rejects.toThrow('unreadable');
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('answers a failed log write with COORDINATOR_NOT_AVAILABLE and leaves the id usable', async () => {
    const h = await transactionHarness();
    await init(h.coordinator);
    h.log.failAppends = true;
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    h.log.failAppends = false;
    expect(await init(h.coordinator)).toMatchObject({ errorCode: 0, producerEpoch: 1 });
  });
});

describe('TransactionCoordinator: AddPartitionsToTxn and AddOffsetsToTxn', () => {
  it('answers INVALID_PRODUCER_ID_MAPPING for an unknown id or another producer id', async () => {
    const h = await transactionHarness();
    expect(await add(h.coordinator, 1000n, 0)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    await init(h.coordinator);
    expect(await add(h.coordinator, 999n, 0)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  });

  it('answers PRODUCER_FENCED when the epochs differ, before looking at the state (shouldRespondWithProducerFencedOnAddPartitionsWhenEpochsAreDifferent)', async () => {
    const h = await transactionHarness();
    await init(h.coordinator);
    await init(h.coordinator);
    expect(await add(h.coordinator, 1000n, 0)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('starts the transaction and writes its partitions; partitions already in it need no write', async () => {
    const h = await transactionHarness();
    h.clock.advance(5);
    const p = await init(h.coordinator);
    expect(await add(h.coordinator, p.producerId, p.producerEpoch, [tp0])).toBe(ErrorCode.NONE);
    expect(state(h)).toMatchObject({ state: TransactionState.Ongoing, txnStartTimestamp: h.clock.now() });
    const writes = h.log.records.length;
    expect(await add(h.coordinator, p.producerId, p.producerEpoch, [tp0])).toBe(ErrorCode.NONE);
    expect(h.log.records).toHaveLength(writes);
    expect(await add(h.coordinator, p.producerId, p.producerEpoch, [tp1])).toBe(ErrorCode.NONE);
    expect([...state(h).partitions].sort()).toEqual([partitionKey('topic', 0), partitionKey('topic', 1)]);
  });

  it('answers CONCURRENT_TRANSACTIONS while the transaction commits (shouldRespondWithConcurrentTransactionsOnAddPartitionsWhenStateIsPrepareCommit)', async () => {
    const h = await transactionHarness();
    h.markers.gate = gate().promise;
    const p = await init(h.coordinator);
    await add(h.coordinator, p.producerId, p.producerEpoch);
    await end(h.coordinator, p.producerId, p.producerEpoch, true);
    expect(await add(h.coordinator, p.producerId, p.producerEpoch, [tp1])).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
  });

  it('fails the whole request when a partition does not exist', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    const results = await h.coordinator.addPartitionsToTxn({
      transactionalId: TXN,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      partitions: [tp0, { topic: 'missing', partition: 0 }],
      verifyOnly: false,
      transactionVersion: 0,
    });
    expect(results).toEqual([
      { ...tp0, errorCode: ErrorCode.OPERATION_NOT_ATTEMPTED },
      { topic: 'missing', partition: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
    expect(state(h).state).toBe(TransactionState.Empty);
  });

  it('verifies partitions without adding them (shouldRespondWithInvalidTxnStateWhenVerifyOnlyAndPartitionNotPresent)', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    await add(h.coordinator, p.producerId, p.producerEpoch, [tp0]);
    const verify = (producerEpoch: number) =>
      h.coordinator.addPartitionsToTxn({
        transactionalId: TXN,
        producerId: p.producerId,
        producerEpoch,
        partitions: [tp0, tp1],
        verifyOnly: true,
        transactionVersion: 0,
      });
    expect(await verify(p.producerEpoch)).toEqual([
      { ...tp0, errorCode: ErrorCode.NONE },
      { ...tp1, errorCode: ErrorCode.TRANSACTION_ABORTABLE },
    ]);
    expect((await verify(p.producerEpoch + 1)).map((r) => r.errorCode)).toEqual([
      ErrorCode.PRODUCER_FENCED,
      ErrorCode.PRODUCER_FENCED,
    ]);
    expect(state(h).partitions.size).toBe(1);
  });

  it('tells a partition leader what Kafka tells the producer, by the request version', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    await add(h.coordinator, p.producerId, p.producerEpoch, [tp0]);
    const ask = (operation: 'default' | 'genericError' | 'addPartition', producerEpoch = p.producerEpoch) =>
      h.coordinator.ensurePartitionsInTransaction({
        transactionalId: TXN,
        producerId: p.producerId,
        producerEpoch,
        partitions: [tp0, tp1],
        operation,
      });
    expect(await ask('default')).toEqual([{ ...tp1, errorCode: ErrorCode.INVALID_TXN_STATE }]);
    expect(await ask('genericError')).toEqual([{ ...tp1, errorCode: ErrorCode.TRANSACTION_ABORTABLE }]);
    expect(await ask('default', p.producerEpoch + 1)).toEqual([
      { ...tp0, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH },
      { ...tp1, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH },
    ]);
    expect(await ask('addPartition')).toEqual([]);
    expect(state(h)).toMatchObject({ clientTransactionVersion: 2 });
    expect(state(h).partitions.size).toBe(2);
  });

  it('adds the group offsets partition for AddOffsetsToTxn', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    const errorCode = await h.coordinator.addOffsetsToTxn({
      transactionalId: TXN,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      groupId: 'group',
    });
    expect(errorCode).toBe(ErrorCode.NONE);
    expect([...state(h).partitions]).toEqual([partitionKey('__consumer_offsets', 5)]);
  });

  it('answers a v2 producer already on its next producer id with CONCURRENT_TRANSACTIONS until the completion is written (shouldReturnConcurrentTxnOnAddPartitionsIfEndTxnV2EpochOverflowAndNotComplete)', async () => {
    const h = await transactionHarness({}, { start: false });
    seed(h, {
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: TransactionState.Ongoing,
      partitions: new Set([partitionKey('topic', 0)]),
      txnStartTimestamp: h.clock.now(),
      clientTransactionVersion: 2,
    });
    await h.coordinator.start();
    const g = gate();
    h.markers.gate = g.promise;
    const ended = await end(h.coordinator, 10n, MAX_PRODUCER_EPOCH - 1, true, 2);
    expect(ended).toEqual({ errorCode: 0, producerId: 1000n, producerEpoch: 0 });
    expect(await add(h.coordinator, 1000n, 0, [tp1], 2)).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    g.open();
    await settle();
    expect(await add(h.coordinator, 1000n, 0, [tp1], 2)).toBe(ErrorCode.NONE);
  });
});

describe('TransactionCoordinator: EndTxn', () => {
  async function ongoing(h: Harness, partitions = [tp0]) {
    const p = await init(h.coordinator);
    expect(await add(h.coordinator, p.producerId, p.producerEpoch, partitions)).toBe(ErrorCode.NONE);
    return p;
  }

  it('answers INVALID_PRODUCER_ID_MAPPING for an unknown id or producer id (shouldReplyWithInvalidPidMappingOnEndTxnWhenTxnIdDoesntExist)', async () => {
    const h = await transactionHarness();
    expect((await end(h.coordinator, 1000n, 0, true)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    await ongoing(h);
    expect((await end(h.coordinator, 1n, 0, true)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  });

  it.each([0, 2])(
    'answers PRODUCER_FENCED for a larger or smaller epoch (v%i; shouldReturnInvalidEpochOnEndTxnWhenEpochIsLarger/Smaller)',
    async (tv) => {
      const h = await transactionHarness();
      await init(h.coordinator);
      const p = await ongoing(h);
      expect((await end(h.coordinator, p.producerId, p.producerEpoch + 1, true, tv)).errorCode).toBe(
        ErrorCode.PRODUCER_FENCED,
      );
      expect((await end(h.coordinator, p.producerId, p.producerEpoch - 1, true, tv)).errorCode).toBe(
        ErrorCode.PRODUCER_FENCED,
      );
    },
  );

  it('commits: PrepareCommit, markers to every partition, CompleteCommit', async () => {
    const h = await transactionHarness({}, { start: false });
    h.log.coordinatorEpoch = 4;
    await h.coordinator.start();
    const p = await ongoing(h, [tp0, tp1]);
    expect(await end(h.coordinator, p.producerId, p.producerEpoch, true)).toEqual({
      errorCode: 0,
      producerId: -1n,
      producerEpoch: -1,
    });
    await settle();
    expect(h.log.records.slice(-2).map((r) => r.value?.transactionStatus)).toEqual([
      TransactionState.PrepareCommit,
      TransactionState.CompleteCommit,
    ]);
    expect(h.markers.writes).toEqual([
      {
        producerId: 1000n,
        producerEpoch: 0,
        coordinatorEpoch: 4,
        result: 'commit',
        transactionVersion: 0,
        partitions: [tp0, tp1],
      },
    ]);
    expect(state(h)).toMatchObject({ state: TransactionState.CompleteCommit, producerEpoch: 0 });
    expect(state(h).partitions.size).toBe(0);
  });

  it('answers a repeated commit with NONE and a wrong result with INVALID_TXN_STATE once complete (v1)', async () => {
    const h = await transactionHarness();
    const p = await ongoing(h);
    await end(h.coordinator, p.producerId, p.producerEpoch, true);
    await settle();
    const writes = h.log.records.length;
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(ErrorCode.NONE);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, false)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
    expect(h.log.records).toHaveLength(writes);

    await add(h.coordinator, p.producerId, p.producerEpoch);
    await end(h.coordinator, p.producerId, p.producerEpoch, false);
    await settle();
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, false)).errorCode).toBe(ErrorCode.NONE);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
  });

  it('answers CONCURRENT_TRANSACTIONS while markers are written, INVALID_TXN_STATE for the other result under v1 (shouldReturnConcurrentTransactionsOnEndTxnRequestWhenStatusIsPrepareCommit)', async () => {
    const h = await transactionHarness();
    h.markers.gate = gate().promise;
    const p = await ongoing(h);
    await end(h.coordinator, p.producerId, p.producerEpoch, true);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, false)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
  });

  it('answers INVALID_TXN_STATE for an EndTxn without a transaction under v1', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, false)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
  });

  it('bumps the epoch on every v2 EndTxn and answers with it; a retry gets NONE with the current epoch', async () => {
    const h = await transactionHarness();
    const p = await ongoing(h);
    expect(await end(h.coordinator, p.producerId, p.producerEpoch, true, 2)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 1,
    });
    await settle();
    expect(h.markers.writes[0]).toMatchObject({ producerEpoch: 1, transactionVersion: 2 });
    // The answer was lost: the retry carries the epoch before the bump.
    expect(await end(h.coordinator, p.producerId, p.producerEpoch, true, 2)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 1,
    });
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, false, 2)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
    // The same epoch again is the next EndTxn, not a retry (shouldReturnInvalidTxnRequestOnEndTxnV2IfNotEndTxnV2Retry).
    expect((await end(h.coordinator, p.producerId, 1, true, 2)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('answers CONCURRENT_TRANSACTIONS for either result while a v2 end is being completed', async () => {
    const h = await transactionHarness();
    h.markers.gate = gate().promise;
    const p = await ongoing(h);
    await end(h.coordinator, p.producerId, p.producerEpoch, false, 2);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true, 2)).errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    expect((await end(h.coordinator, p.producerId, 1, false, 2)).errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
  });

  it('wakes a caller waiting on the completion as soon as it is written, and one with nothing being written only after the wait', async () => {
    const h = await transactionHarness();
    const g = gate();
    h.markers.gate = g.promise;
    const p = await ongoing(h);
    await end(h.coordinator, p.producerId, p.producerEpoch, true, 2);
    let woken = false;
    void h.coordinator.completionOrTimeout(TXN, 10_000).then(() => {
      woken = true;
    });
    await settle();
    expect(woken).toBe(false);
    g.open();
    await settle();
    expect(woken).toBe(true);
    expect(state(h).state).toBe(TransactionState.CompleteCommit);

    let slept = false;
    void h.coordinator.completionOrTimeout(TXN, 50).then(() => {
      slept = true;
    });
    await settle();
    expect(slept).toBe(false);
    h.clock.advance(50);
    await settle();
    expect(slept).toBe(true);
  });

  it('aborts without a transaction under v2 (Empty and Complete states), with an epoch bump and no markers', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    h.clock.advance(100);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch - 1, false, 2)).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true, 2)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
    expect(await end(h.coordinator, p.producerId, p.producerEpoch, false, 2)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 1,
    });
    await settle();
    expect(h.markers.writes).toHaveLength(0);
    expect(state(h)).toMatchObject({
      state: TransactionState.CompleteAbort,
      producerEpoch: 1,
      txnStartTimestamp: h.clock.now(),
    });
    expect(await end(h.coordinator, p.producerId, 1, false, 2)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 2,
    });
  });

  it('rotates the producer id when a v2 bump overflows and answers retries with the new id (shouldReturnOkOnEndTxnV2IfEndTxnV2RetryEpochOverflow)', async () => {
    const h = await transactionHarness({}, { start: false });
    seed(h, {
      producerEpoch: MAX_PRODUCER_EPOCH - 1,
      state: TransactionState.Ongoing,
      partitions: new Set([partitionKey('topic', 0)]),
      txnStartTimestamp: h.clock.now(),
      clientTransactionVersion: 2,
    });
    await h.coordinator.start();
    const g = gate();
    h.markers.gate = g.promise;
    expect(await end(h.coordinator, 10n, MAX_PRODUCER_EPOCH - 1, true, 2)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 0,
    });
    expect(state(h)).toMatchObject({
      producerId: 10n,
      producerEpoch: MAX_PRODUCER_EPOCH,
      nextProducerId: 1000n,
    });
    expect((await end(h.coordinator, 10n, MAX_PRODUCER_EPOCH - 1, true, 2)).errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    g.open();
    await settle();
    expect(h.markers.writes[0]).toMatchObject({ producerId: 10n, producerEpoch: MAX_PRODUCER_EPOCH });
    expect(state(h)).toMatchObject({
      state: TransactionState.CompleteCommit,
      producerId: 1000n,
      producerEpoch: 0,
      prevProducerId: 10n,
    });
    expect(await end(h.coordinator, 10n, MAX_PRODUCER_EPOCH - 1, true, 2)).toEqual({
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 0,
    });
    expect(await add(h.coordinator, 1000n, 0, [tp0], 2)).toBe(ErrorCode.NONE);
  });

  it('retries the partitions whose markers failed and drops deleted partitions', async () => {
    const h = await transactionHarness();
    h.existing.add(partitionKey('gone', 0));
    const p = await ongoing(h, [tp0, tp1, { topic: 'gone', partition: 0 }]);
    h.existing.delete(partitionKey('gone', 0));
    h.markers.failures.push(
      new Map([
        [partitionKey('topic', 1), ErrorCode.NOT_LEADER_OR_FOLLOWER],
        [partitionKey('topic', 0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]),
    );
    await end(h.coordinator, p.producerId, p.producerEpoch, true);
    await settle();
    expect(h.markers.writes.map((w) => w.partitions)).toEqual([[tp0, tp1]]);
    expect(h.coordinator.describeTransaction(TXN).topics).toEqual([{ topic: 'topic', partitions: [0, 1] }]);
    h.clock.advance(h.config.markerRetryBackoffMs);
    await settle();
    expect(h.markers.writes[1]!.partitions).toEqual([tp0, tp1]);
    expect(state(h).state).toBe(TransactionState.CompleteCommit);
    expect(h.metrics.counts.get('tributary_transaction_marker_failures_total')).toBe(2);
  });

  it('stops sending markers a newer coordinator fenced, until the next sweep', async () => {
    const h = await transactionHarness();
    const p = await ongoing(h, [tp0, tp1]);
    h.markers.failures.push(new Map([[partitionKey('topic', 1), ErrorCode.TRANSACTION_COORDINATOR_FENCED]]));
    await end(h.coordinator, p.producerId, p.producerEpoch, true);
    await settle();
    h.clock.advance(h.config.markerRetryBackoffMs * 5);
    await settle();
    expect(h.markers.writes).toHaveLength(1);
    expect(h.coordinator.describeTransaction(TXN)).toMatchObject({
      transactionState: 'PrepareCommit',
      topics: [{ topic: 'topic', partitions: [1] }],
    });
    h.clock.advance(h.config.abortTimedOutTransactionCleanupIntervalMs);
    await settle();
    expect(h.markers.writes[1]!.partitions).toEqual([tp1]);
    expect(state(h).state).toBe(TransactionState.CompleteCommit);
  });

  it('leaves a transaction decided after the marker attempts run out; the sweep takes it up again', async () => {
    const h = await transactionHarness({ markerMaxAttempts: 2 });
    const p = await ongoing(h);
    const failing = new Map([[partitionKey('topic', 0), ErrorCode.NOT_LEADER_OR_FOLLOWER]]);
    h.markers.failures.push(failing, failing);
    await end(h.coordinator, p.producerId, p.producerEpoch, false);
    await settle();
    h.clock.advance(h.config.markerRetryBackoffMs);
    await settle();
    expect(h.markers.writes).toHaveLength(2);
    expect(state(h).state).toBe(TransactionState.PrepareAbort);
    h.clock.advance(h.config.abortTimedOutTransactionCleanupIntervalMs);
    await settle();
    expect(h.markers.writes).toHaveLength(3);
    expect(state(h).state).toBe(TransactionState.CompleteAbort);
  });
});

describe('TransactionCoordinator: concurrent requests', () => {
  it('answers CONCURRENT_TRANSACTIONS to every change while one is being written', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    const g = gate();
    h.log.appendGate = g.promise;
    const adding = add(h.coordinator, p.producerId, p.producerEpoch);
    await settle();
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(await add(h.coordinator, p.producerId, p.producerEpoch, [tp1])).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    g.open();
    h.log.appendGate = null;
    expect(await adding).toBe(ErrorCode.NONE);
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(ErrorCode.NONE);
  });

  it('does not abort a timed-out transaction while a change to it is being written (shouldNotAbortExpiredTransactionsThatHaveAPendingStateTransition)', async () => {
    const h = await transactionHarness({ transactionVersion: 0 });
    const p = await init(h.coordinator, { transactionTimeoutMs: 5_000 });
    await add(h.coordinator, p.producerId, p.producerEpoch);
    const g = gate();
    h.log.appendGate = g.promise;
    const ending = end(h.coordinator, p.producerId, p.producerEpoch, true);
    h.clock.advance(10_000);
    await settle();
    g.open();
    h.log.appendGate = null;
    expect((await ending).errorCode).toBe(ErrorCode.NONE);
    await settle();
    expect(h.markers.writes).toEqual([expect.objectContaining({ result: 'commit', producerEpoch: 0 })]);
    expect(state(h)).toMatchObject({ state: TransactionState.CompleteCommit, producerEpoch: 0 });
  });
});

describe('TransactionCoordinator: timeouts and expiration', () => {
  it('aborts an ongoing transaction past its timeout with a bumped epoch (shouldAbortExpiredTransactionsInOngoingStateAndBumpEpoch)', async () => {
    const h = await transactionHarness({ transactionVersion: 0 });
    const p = await init(h.coordinator, { transactionTimeoutMs: 15_000 });
    await add(h.coordinator, p.producerId, p.producerEpoch);
    h.clock.advance(10_000);
    await settle();
    expect(state(h).state).toBe(TransactionState.Ongoing);
    h.clock.advance(10_000);
    await settle();
    expect(h.markers.writes).toEqual([expect.objectContaining({ producerEpoch: 1, result: 'abort' })]);
    expect(state(h)).toMatchObject({ state: TransactionState.CompleteAbort, producerEpoch: 1 });
    expect((await end(h.coordinator, p.producerId, p.producerEpoch, true)).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect((await add(h.coordinator, p.producerId, p.producerEpoch)).valueOf()).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect(h.metrics.counts.get('tributary_transactions_timed_out_total')).toBe(1);
    expect(h.metrics.counts.get('tributary_transactions_completed_total{"result":"abort"}')).toBe(1);
  });

  it('does not bump the epoch again after a fencing abort failed to be written (shouldNotBumpEpochWhenAbortingExpiredTransactionIfAppendToLogFails)', async () => {
    const h = await transactionHarness({ transactionVersion: 0 });
    const p = await init(h.coordinator, { transactionTimeoutMs: 5_000 });
    await add(h.coordinator, p.producerId, p.producerEpoch);
    h.log.failAppends = true;
    h.clock.advance(10_000);
    await settle();
    expect(state(h)).toMatchObject({ state: TransactionState.Ongoing, producerEpoch: 0 });
    h.log.failAppends = false;
    h.clock.advance(10_000);
    await settle();
    expect(state(h)).toMatchObject({ state: TransactionState.CompleteAbort, producerEpoch: 1 });
    expect(h.markers.writes).toEqual([expect.objectContaining({ producerEpoch: 1 })]);
  });

  it('expires idle transactional ids with a tombstone, never an open transaction', async () => {
    const h = await transactionHarness({
      transactionalIdExpirationMs: 100_000,
      removeExpiredTransactionalIdsCleanupIntervalMs: 50_000,
      transactionMaxTimeoutMs: 1_000_000,
    });
    await init(h.coordinator, { transactionalId: 'idle' });
    const p = await init(h.coordinator, { transactionTimeoutMs: 1_000_000 });
    await add(h.coordinator, p.producerId, p.producerEpoch);
    h.clock.advance(150_000);
    await settle();
    expect(h.log.latest('idle')).toBeNull();
    expect(h.coordinator.describeTransaction('idle').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    expect(state(h).state).toBe(TransactionState.Ongoing);
  });
});

describe('TransactionCoordinator: expiration', () => {
  const config = {
    transactionalIdExpirationMs: 100_000,
    removeExpiredTransactionalIdsCleanupIntervalMs: 150_000,
  };

  it.each([
    [TransactionState.Empty, true],
    [TransactionState.CompleteCommit, true],
    [TransactionState.CompleteAbort, true],
    [TransactionState.Ongoing, false],
    [TransactionState.PrepareCommit, false],
    [TransactionState.PrepareAbort, false],
  ])(
    'expires an idle id in state %i: %s (shouldRemove*ExpiredTransactionalIds)',
    async (txnState, expires) => {
      const h = await transactionHarness({ ...config, markerMaxAttempts: 1 }, { start: false });
      const failing = new Map([[partitionKey('topic', 0), ErrorCode.NOT_LEADER_OR_FOLLOWER]]);
      for (let i = 0; i < 50; i++) h.markers.failures.push(failing);
      seed(h, {
        state: txnState,
        partitions: txnState === TransactionState.Empty ? new Set() : new Set([partitionKey('topic', 0)]),
        txnStartTimestamp: txnState === TransactionState.Empty ? -1 : h.clock.now(),
        txnTimeoutMs: 900_000,
      });
      await h.coordinator.start();
      h.clock.advance(150_000);
      await settle();
      expect(h.log.latest(TXN) === null).toBe(expires);
      expect(h.coordinator.describeTransaction(TXN).errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND).toBe(
        expires,
      );
    },
  );

  it('keeps an id whose tombstone could not be written (shouldNotRemoveExpiredTransactionalIdsIfLogAppendFails)', async () => {
    const h = await transactionHarness(config);
    await init(h.coordinator);
    h.log.failAppends = true;
    h.clock.advance(150_000);
    await settle();
    h.log.failAppends = false;
    expect(h.coordinator.describeTransaction(TXN)).toMatchObject({ errorCode: 0, transactionState: 'Empty' });
    expect(await init(h.coordinator)).toMatchObject({ errorCode: 0, producerEpoch: 1 });
  });

  it('expires an id whose first InitProducerId was never written (testTransactionExpirationShouldNotFailWithUninitializedTransactionMetadata)', async () => {
    const h = await transactionHarness(config);
    h.log.failAppends = true;
    expect((await init(h.coordinator)).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    h.log.failAppends = false;
    h.clock.advance(150_000);
    await settle();
    expect(h.log.records).toEqual([{ transactionalId: TXN, value: null }]);
    expect(await init(h.coordinator)).toEqual({ errorCode: 0, producerId: 1001n, producerEpoch: 0 });
  });
});

describe('TransactionCoordinator: restart', () => {
  it('completes decided transactions, keeps ongoing ones with their timeout and drops tombstoned ids', async () => {
    const h = await transactionHarness({ transactionVersion: 0 });
    const g = gate();
    h.markers.gate = g.promise;
    const a = await init(h.coordinator, { transactionalId: 'a' });
    await h.coordinator.addPartitions({
      transactionalId: 'a',
      producerId: a.producerId,
      producerEpoch: 0,
      partitions: [tp0],
      transactionVersion: 0,
    });
    await h.coordinator.endTxn({
      transactionalId: 'a',
      producerId: a.producerId,
      producerEpoch: 0,
      committed: true,
      transactionVersion: 0,
    });
    const b = await init(h.coordinator, { transactionalId: 'b', transactionTimeoutMs: 30_000 });
    await h.coordinator.addPartitions({
      transactionalId: 'b',
      producerId: b.producerId,
      producerEpoch: 0,
      partitions: [tp1],
      transactionVersion: 0,
    });
    h.log.records.push(
      { transactionalId: 'gone', value: createTransactionLogValue() },
      { transactionalId: 'gone', value: null },
    );
    h.clock.advance(20_000);

    h.markers.gate = null;
    const c = await h.restart();
    g.open();
    await settle();
    expect(fromTransactionLogValue(h.log.latest('a')!).state).toBe(TransactionState.CompleteCommit);
    expect(c.describeTransaction('b')).toMatchObject({
      transactionState: 'Ongoing',
      topics: [{ topic: 'topic', partitions: [1] }],
    });
    expect(c.describeTransaction('gone').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    h.clock.advance(10_000);
    await settle();
    expect(c.describeTransaction('b').transactionState).toBe('Ongoing');
    h.clock.advance(10_000);
    await settle();
    expect(c.describeTransaction('b')).toMatchObject({ transactionState: 'CompleteAbort', producerEpoch: 1 });
  });
});

describe('TransactionCoordinator: DescribeTransactions and ListTransactions', () => {
  it('describes a transaction, and answers for empty and unknown ids (testDescribeTransactions*)', async () => {
    const h = await transactionHarness();
    const p = await init(h.coordinator);
    await add(h.coordinator, p.producerId, p.producerEpoch, [tp1, tp0, { topic: 'other', partition: 0 }]);
    expect(h.coordinator.describeTransaction(TXN)).toEqual({
      errorCode: 0,
      transactionalId: TXN,
      transactionState: 'Ongoing',
      transactionTimeoutMs: 60_000,
      transactionStartTimeMs: h.clock.now(),
      producerId: 1000n,
      producerEpoch: 0,
      topics: [
        { topic: 'topic', partitions: [0, 1] },
        { topic: 'other', partitions: [0] },
      ],
    });
    expect(h.coordinator.describeTransaction('').errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(h.coordinator.describeTransaction('nope').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    h.coordinator.stop();
    expect(h.coordinator.describeTransaction(TXN).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('lists transactions by state, producer id, duration and id pattern', async () => {
    const h = await transactionHarness();
    const a = await init(h.coordinator, { transactionalId: 'app-a' });
    await init(h.coordinator, { transactionalId: 'app-b' });
    await init(h.coordinator, { transactionalId: 'other' });
    await h.coordinator.addPartitions({
      transactionalId: 'app-a',
      producerId: a.producerId,
      producerEpoch: 0,
      partitions: [tp0],
      transactionVersion: 0,
    });
    h.clock.advance(5000);
    const list = (over: Partial<Parameters<TransactionCoordinator['listTransactions']>[0]>) =>
      h.coordinator.listTransactions({
        stateFilters: [],
        producerIdFilters: [],
        durationFilterMs: -1,
        transactionalIdPattern: null,
        ...over,
      });
    const ids = (r: ReturnType<typeof list>) => r.transactionStates.map((t) => t.transactionalId).sort();
    expect(ids(list({}))).toEqual(['app-a', 'app-b', 'other']);
    const ongoing = list({ stateFilters: ['Ongoing', 'Bogus'] });
    expect(ongoing).toMatchObject({ errorCode: 0, unknownStateFilters: ['Bogus'] });
    expect(ongoing.transactionStates).toEqual([
      { transactionalId: 'app-a', producerId: 1000n, transactionState: 'Ongoing' },
    ]);
    expect(ids(list({ stateFilters: ['Bogus'] }))).toEqual([]);
    expect(ids(list({ producerIdFilters: [1001n, 1002n] }))).toEqual(['app-b', 'other']);
    expect(ids(list({ stateFilters: ['Ongoing'], durationFilterMs: 5000 }))).toEqual([]);
    expect(ids(list({ stateFilters: ['Ongoing'], durationFilterMs: 4999 }))).toEqual(['app-a']);
    expect(ids(list({ transactionalIdPattern: 'app-.*' }))).toEqual(['app-a', 'app-b']);
    expect(ids(list({ transactionalIdPattern: 'app' }))).toEqual([]);
    expect(ids(list({ transactionalIdPattern: '' }))).toEqual(['app-a', 'app-b', 'other']);
    expect(list({ transactionalIdPattern: '(ab(cd' }).errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
  });
});
