import {
  createAddOffsetsToTxnRequest,
  createAddPartitionsToTxnRequest,
  createDescribeTransactionsRequest,
  createEndTxnRequest,
  createInitProducerIdRequest,
  createListTransactionsRequest,
  decodeAddOffsetsToTxnRequest,
  decodeAddPartitionsToTxnRequest,
  decodeDescribeTransactionsRequest,
  decodeEndTxnRequest,
  decodeInitProducerIdRequest,
  decodeListTransactionsRequest,
  ErrorCode,
  encodeAddOffsetsToTxnRequest,
  encodeAddPartitionsToTxnRequest,
  encodeAddPartitionsToTxnResponse,
  encodeDescribeTransactionsRequest,
  encodeDescribeTransactionsResponse,
  encodeEndTxnRequest,
  encodeEndTxnResponse,
  encodeInitProducerIdRequest,
  encodeInitProducerIdResponse,
  encodeListTransactionsRequest,
  encodeListTransactionsResponse,
} from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { gate, settle, transactionHarness } from '../../transactions/testing-fakes.js';
import type { TransactionCoordinator } from '../../transactions/transaction-coordinator.js';
import { fromTransactionLogValue } from '../../transactions/transaction-log.js';
import type { RequestContext } from '../request-context.js';
import { handleAddOffsetsToTxn } from './add-offsets-to-txn.js';
import { handleAddPartitionsToTxn } from './add-partitions-to-txn.js';
import { handleDescribeTransactions } from './describe-transactions.js';
import { handleEndTxn } from './end-txn.js';
import { handleInitProducerId } from './init-producer-id.js';
import { handleListTransactions } from './list-transactions.js';

function ctx(apiKey: number, apiVersion: number): RequestContext {
  return {
    connectionId: 1,
    clientId: 'test',
    clientAddress: '127.0.0.1:5000',
    apiKey,
    apiVersion,
    correlationId: 1,
  };
}

// Requests go through the codec at their version, as the server hands them over.
const initReq = (v: number, init: Parameters<typeof createInitProducerIdRequest>[0]) =>
  decodeInitProducerIdRequest(encodeInitProducerIdRequest(createInitProducerIdRequest(init), v), v);
const addReq = (v: number, init: Parameters<typeof createAddPartitionsToTxnRequest>[0]) =>
  decodeAddPartitionsToTxnRequest(
    encodeAddPartitionsToTxnRequest(createAddPartitionsToTxnRequest(init), v),
    v,
  );
const endReq = (v: number, init: Parameters<typeof createEndTxnRequest>[0]) =>
  decodeEndTxnRequest(encodeEndTxnRequest(createEndTxnRequest(init), v), v);

async function services() {
  const h = await transactionHarness();
  return { h, s: { transactions: h.coordinator } };
}

async function initTxn(s: { transactions: TransactionCoordinator }, v = 4, transactionalId = 'txn') {
  return handleInitProducerId(s, ctx(22, v), initReq(v, { transactionalId, transactionTimeoutMs: 60_000 }));
}

describe('InitProducerId handler', () => {
  it.each([0, 2, 3, 5])('initializes an idempotent and a transactional producer at v%i', async (v) => {
    const { s } = await services();
    const idempotent = await handleInitProducerId(
      s,
      ctx(22, v),
      initReq(v, { transactionalId: null, transactionTimeoutMs: 60_000 }),
    );
    expect(idempotent).toMatchObject({ errorCode: 0, producerId: 1000n, producerEpoch: 0 });
    const txn = await initTxn(s, v);
    expect(txn).toMatchObject({ errorCode: 0, producerId: 1001n, producerEpoch: 0 });
    expect(() => encodeInitProducerIdResponse(txn, v)).not.toThrow();
  });

  it('answers a fenced KIP-360 producer with PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH at v3', async () => {
    const { s } = await services();
    await initTxn(s);
    await initTxn(s);
    const stale = (v: number) =>
      handleInitProducerId(
        s,
        ctx(22, v),
        initReq(v, {
          transactionalId: 'txn',
          transactionTimeoutMs: 60_000,
          producerId: 1000n,
          producerEpoch: 7,
        }),
      );
    expect((await stale(3)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await stale(4)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('refuses two-phase commit (v6)', async () => {
    const { s } = await services();
    const r = await handleInitProducerId(
      s,
      ctx(22, 6),
      initReq(6, { transactionalId: 'txn', transactionTimeoutMs: 60_000, enable2Pc: true }),
    );
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    expect(() => encodeInitProducerIdResponse(r, 6)).not.toThrow();
  });
});

describe('AddPartitionsToTxn handler', () => {
  const topics = [
    { name: 'topic', partitions: [0, 1] },
    { name: 'missing', partitions: [3] },
  ];

  it.each([0, 1, 2, 3])('adds partitions to one transaction at v%i, answering per topic', async (v) => {
    const { s } = await services();
    const p = await initTxn(s);
    const ok = await handleAddPartitionsToTxn(
      s,
      ctx(24, v),
      addReq(v, {
        v3AndBelowTransactionalId: 'txn',
        v3AndBelowProducerId: p.producerId,
        v3AndBelowProducerEpoch: p.producerEpoch,
        v3AndBelowTopics: [topics[0]!],
      }),
    );
    expect(ok.resultsByTopicV3AndBelow).toEqual([
      {
        name: 'topic',
        resultsByPartition: [
          { partitionIndex: 0, partitionErrorCode: 0 },
          { partitionIndex: 1, partitionErrorCode: 0 },
        ],
      },
    ]);
    expect(() => encodeAddPartitionsToTxnResponse(ok, v)).not.toThrow();
    const unknown = await handleAddPartitionsToTxn(
      s,
      ctx(24, v),
      addReq(v, {
        v3AndBelowTransactionalId: 'txn',
        v3AndBelowProducerId: p.producerId,
        v3AndBelowProducerEpoch: p.producerEpoch,
        v3AndBelowTopics: topics,
      }),
    );
    expect(
      unknown.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((r) => r.partitionErrorCode)),
    ).toEqual([
      ErrorCode.OPERATION_NOT_ATTEMPTED,
      ErrorCode.OPERATION_NOT_ATTEMPTED,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
  });

  it('answers a fenced producer with INVALID_PRODUCER_EPOCH before v2, PRODUCER_FENCED from v2', async () => {
    const { s } = await services();
    const p = await initTxn(s);
    await initTxn(s);
    const fenced = async (v: number) => {
      const r = await handleAddPartitionsToTxn(
        s,
        ctx(24, v),
        addReq(v, {
          v3AndBelowTransactionalId: 'txn',
          v3AndBelowProducerId: p.producerId,
          v3AndBelowProducerEpoch: p.producerEpoch,
          v3AndBelowTopics: [{ name: 'topic', partitions: [0] }],
        }),
      );
      return r.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode;
    };
    expect(await fenced(1)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(await fenced(2)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it.each([4, 5])(
    'batches transactions and verifies at v%i (TRANSACTION_ABORTABLE only from v5)',
    async (v) => {
      const { h, s } = await services();
      const a = await initTxn(s, 4, 'a');
      const b = await initTxn(s, 4, 'b');
      await h.coordinator.addPartitions({
        transactionalId: 'b',
        producerId: b.producerId,
        producerEpoch: 0,
        partitions: [{ topic: 'topic', partition: 0 }],
        transactionVersion: 0,
      });
      const r = await handleAddPartitionsToTxn(
        s,
        ctx(24, v),
        addReq(v, {
          transactions: [
            {
              transactionalId: 'a',
              producerId: a.producerId,
              producerEpoch: 0,
              verifyOnly: false,
              topics: [{ name: 'topic', partitions: [1] }],
            },
            {
              transactionalId: 'b',
              producerId: b.producerId,
              producerEpoch: 0,
              verifyOnly: true,
              topics: [{ name: 'topic', partitions: [0, 1] }],
            },
          ],
        }),
      );
      expect(r.errorCode).toBe(0);
      expect(r.resultsByTransaction).toEqual([
        {
          transactionalId: 'a',
          topicResults: [
            { name: 'topic', resultsByPartition: [{ partitionIndex: 1, partitionErrorCode: 0 }] },
          ],
        },
        {
          transactionalId: 'b',
          topicResults: [
            {
              name: 'topic',
              resultsByPartition: [
                { partitionIndex: 0, partitionErrorCode: 0 },
                {
                  partitionIndex: 1,
                  partitionErrorCode: v >= 5 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE,
                },
              ],
            },
          ],
        },
      ]);
      expect(() => encodeAddPartitionsToTxnResponse(r, v)).not.toThrow();
      // A v5 add is a partition leader adding for a transactions v2 producer.
      expect(h.coordinator.describeTransaction('a').transactionState).toBe('Ongoing');
      expect(fromTransactionLogValue(h.log.latest('a')!).clientTransactionVersion).toBe(v >= 5 ? 2 : 0);
    },
  );
});

describe('AddOffsetsToTxn handler', () => {
  it.each([0, 1, 2, 3, 4])('adds the group offsets partition at v%i', async (v) => {
    const { h, s } = await services();
    const p = await initTxn(s);
    const req = decodeAddOffsetsToTxnRequest(
      encodeAddOffsetsToTxnRequest(
        createAddOffsetsToTxnRequest({
          transactionalId: 'txn',
          producerId: p.producerId,
          producerEpoch: 0,
          groupId: 'g',
        }),
        v,
      ),
      v,
    );
    expect((await handleAddOffsetsToTxn(s, ctx(25, v), req)).errorCode).toBe(0);
    expect(h.coordinator.describeTransaction('txn').topics).toEqual([
      { topic: '__consumer_offsets', partitions: [1] },
    ]);
    const fenced = await handleAddOffsetsToTxn(s, ctx(25, v), { ...req, producerEpoch: 5 });
    expect(fenced.errorCode).toBe(v < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED);
  });
});

describe('EndTxn handler', () => {
  it.each([0, 3, 4])('commits without an epoch bump at v%i', async (v) => {
    const { h, s } = await services();
    const p = await initTxn(s);
    await h.coordinator.addPartitions({
      transactionalId: 'txn',
      producerId: p.producerId,
      producerEpoch: 0,
      partitions: [{ topic: 'topic', partition: 0 }],
      transactionVersion: 0,
    });
    const r = await handleEndTxn(
      s,
      ctx(26, v),
      endReq(v, { transactionalId: 'txn', producerId: p.producerId, producerEpoch: 0, committed: true }),
    );
    expect(r).toMatchObject({ errorCode: 0, producerId: -1n, producerEpoch: -1 });
    expect(() => encodeEndTxnResponse(r, v)).not.toThrow();
    await settle();
    expect(h.coordinator.describeTransaction('txn')).toMatchObject({
      transactionState: 'CompleteCommit',
      producerEpoch: 0,
    });
  });

  it('bumps the epoch at v5 and answers with it', async () => {
    const { h, s } = await services();
    h.markers.gate = gate().promise;
    const p = await initTxn(s, 5);
    await h.coordinator.addPartitions({
      transactionalId: 'txn',
      producerId: p.producerId,
      producerEpoch: 0,
      partitions: [{ topic: 'topic', partition: 0 }],
      transactionVersion: 2,
    });
    const r = await handleEndTxn(
      s,
      ctx(26, 5),
      endReq(5, { transactionalId: 'txn', producerId: p.producerId, producerEpoch: 0, committed: false }),
    );
    expect(r).toMatchObject({ errorCode: 0, producerId: p.producerId, producerEpoch: 1 });
    expect(() => encodeEndTxnResponse(r, 5)).not.toThrow();
  });

  it('answers a fenced producer with INVALID_PRODUCER_EPOCH before v2', async () => {
    const { s } = await services();
    const p = await initTxn(s);
    const fenced = (v: number) =>
      handleEndTxn(
        s,
        ctx(26, v),
        endReq(v, { transactionalId: 'txn', producerId: p.producerId, producerEpoch: 3, committed: true }),
      );
    expect((await fenced(1)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await fenced(2)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });
});

describe('DescribeTransactions and ListTransactions handlers', () => {
  it('describes known and unknown ids', async () => {
    const { h, s } = await services();
    const p = await initTxn(s);
    await h.coordinator.addPartitions({
      transactionalId: 'txn',
      producerId: p.producerId,
      producerEpoch: 0,
      partitions: [{ topic: 'topic', partition: 1 }],
      transactionVersion: 0,
    });
    const req = decodeDescribeTransactionsRequest(
      encodeDescribeTransactionsRequest(
        createDescribeTransactionsRequest({ transactionalIds: ['txn', 'no'] }),
        0,
      ),
      0,
    );
    const r = handleDescribeTransactions(s, ctx(65, 0), req);
    expect(r.transactionStates).toEqual([
      {
        errorCode: 0,
        transactionalId: 'txn',
        transactionState: 'Ongoing',
        transactionTimeoutMs: 60_000,
        transactionStartTimeMs: BigInt(h.clock.now()),
        producerId: 1000n,
        producerEpoch: 0,
        topics: [{ topic: 'topic', partitions: [1] }],
      },
      expect.objectContaining({ errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId: 'no' }),
    ]);
    expect(() => encodeDescribeTransactionsResponse(r, 0)).not.toThrow();
  });

  it.each([0, 1, 2])('lists with the filters version %i carries', async (v) => {
    const { h, s } = await services();
    const a = await initTxn(s, 4, 'app-a');
    await initTxn(s, 4, 'other');
    await h.coordinator.addPartitions({
      transactionalId: 'app-a',
      producerId: a.producerId,
      producerEpoch: 0,
      partitions: [{ topic: 'topic', partition: 0 }],
      transactionVersion: 0,
    });
    h.clock.advance(1000);
    const req = decodeListTransactionsRequest(
      encodeListTransactionsRequest(
        createListTransactionsRequest({
          stateFilters: ['Ongoing', 'Empty', 'Nope'],
          durationFilter: v >= 1 ? 500n : -1n,
          transactionalIdPattern: v >= 2 ? 'app-.*' : null,
        }),
        v,
      ),
      v,
    );
    const r = handleListTransactions(s, ctx(66, v), req);
    expect(r.unknownStateFilters).toEqual(['Nope']);
    const ids = r.transactionStates.map((t) => t.transactionalId).sort();
    // Empty ids have no start time, so a duration filter keeps them; the pattern drops 'other'.
    expect(ids).toEqual(v >= 2 ? ['app-a'] : ['app-a', 'other']);
    expect(() => encodeListTransactionsResponse(r, v)).not.toThrow();
  });
});

describe('a whole transaction through the handlers', () => {
  it('runs as a transactions v1 client sends it (InitProducerId v4, AddPartitionsToTxn v3, AddOffsetsToTxn v3, EndTxn v3)', async () => {
    const { h, s } = await services();
    const p = await initTxn(s, 4);
    const added = await handleAddPartitionsToTxn(
      s,
      ctx(24, 3),
      addReq(3, {
        v3AndBelowTransactionalId: 'txn',
        v3AndBelowProducerId: p.producerId,
        v3AndBelowProducerEpoch: p.producerEpoch,
        v3AndBelowTopics: [{ name: 'topic', partitions: [0] }],
      }),
    );
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
    const offsets = await handleAddOffsetsToTxn(
      s,
      ctx(25, 3),
      decodeAddOffsetsToTxnRequest(
        encodeAddOffsetsToTxnRequest(
          createAddOffsetsToTxnRequest({
            transactionalId: 'txn',
            producerId: p.producerId,
            producerEpoch: 0,
            groupId: 'g',
          }),
          3,
        ),
        3,
      ),
    );
    expect(offsets.errorCode).toBe(0);
    const ended = await handleEndTxn(
      s,
      ctx(26, 3),
      endReq(3, { transactionalId: 'txn', producerId: p.producerId, producerEpoch: 0, committed: true }),
    );
    expect(ended.errorCode).toBe(0);
    await settle();
    expect(h.markers.writes).toEqual([
      expect.objectContaining({
        result: 'commit',
        producerEpoch: 0,
        partitions: [
          { topic: 'topic', partition: 0 },
          { topic: '__consumer_offsets', partition: 1 },
        ],
      }),
    ]);
    // The next transaction keeps the epoch under v1.
    expect(h.coordinator.describeTransaction('txn')).toMatchObject({
      transactionState: 'CompleteCommit',
      producerEpoch: 0,
    });
  });

  it('runs as a transactions v2 client sends it (InitProducerId v5, partitions added by the leader, EndTxn v5)', async () => {
    const { h, s } = await services();
    const p = await initTxn(s, 5);
    // Produce v12: the partition leader adds the partition itself.
    expect(
      await h.coordinator.ensurePartitionsInTransaction({
        transactionalId: 'txn',
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        partitions: [{ topic: 'topic', partition: 0 }],
        operation: 'addPartition',
      }),
    ).toEqual([]);
    const first = await handleEndTxn(
      s,
      ctx(26, 5),
      endReq(5, { transactionalId: 'txn', producerId: p.producerId, producerEpoch: 0, committed: true }),
    );
    expect(first).toMatchObject({ errorCode: 0, producerId: p.producerId, producerEpoch: 1 });
    await settle();
    // The next transaction uses the epoch EndTxn returned.
    expect(
      await h.coordinator.ensurePartitionsInTransaction({
        transactionalId: 'txn',
        producerId: p.producerId,
        producerEpoch: 1,
        partitions: [{ topic: 'topic', partition: 1 }],
        operation: 'addPartition',
      }),
    ).toEqual([]);
    const second = await handleEndTxn(
      s,
      ctx(26, 5),
      endReq(5, { transactionalId: 'txn', producerId: p.producerId, producerEpoch: 1, committed: false }),
    );
    expect(second).toMatchObject({ errorCode: 0, producerEpoch: 2 });
    await settle();
    expect(h.markers.writes.map((w) => [w.result, w.producerEpoch, w.transactionVersion])).toEqual([
      ['commit', 1, 2],
      ['abort', 2, 2],
    ]);
  });
});
