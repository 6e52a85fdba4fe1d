// Transactions at the wire, as a transactions v2 client (Java's 4.x) runs them: the feature in
// ApiVersions, InitProducerId, Produce v12 adding its partition, EndTxn v5 bumping the epoch, and
// what DescribeTransactions, ListTransactions and DescribeProducers show meanwhile. No client here
// speaks transactions v2, so these requests are built with the codec.
import {
  type AddPartitionsToTxnResponse,
  ApiKey,
  type ApiVersionsResponse,
  createAddPartitionsToTxnRequest,
  createApiVersionsRequest,
  createDescribeProducersRequest,
  createDescribeTransactionsRequest,
  createEndTxnRequest,
  createFindCoordinatorRequest,
  createInitProducerIdRequest,
  createListTransactionsRequest,
  createProduceRequest,
  type DescribeProducersResponse,
  type DescribeTransactionsResponse,
  type EndTxnResponse,
  ErrorCode,
  type FetchResponse,
  type FindCoordinatorResponse,
  type InitProducerIdResponse,
  type ListTransactionsResponse,
  type ProduceResponse,
} from '@tributary/codec';
import type { MarkerInput, MarkerResult } from '@tributary/core/storage';
import { makeProducerBatch } from '@tributary/core/testing';
import { MemoryStorage } from '@tributary/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { fetchRequest } from './consume.js';
import { WireClient } from './wire.js';

let broker: TestBroker;
let client: WireClient;

beforeAll(async () => {
  broker = await startTestBroker();
  client = await WireClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.close();
});

async function initProducerId(transactionalId: string | null, version = 5, on = client) {
  return on.send<InitProducerIdResponse>(
    ApiKey.InitProducerId,
    version,
    createInitProducerIdRequest({
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    }),
  );
}

async function produce(
  transactionalId: string | null,
  topic: string,
  batch: Buffer,
  version = 12,
  on = client,
): Promise<{ errorCode: number; baseOffset: bigint }> {
  const res = await on.send<ProduceResponse>(
    ApiKey.Produce,
    version,
    createProduceRequest({
      transactionalId,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, topicId: Buffer.alloc(16), partitionData: [{ index: 0, records: batch }] }],
    }),
  );
  return res.responses[0]!.partitionResponses[0]!;
}

async function endTxn(
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  committed: boolean,
  version = 5,
  on = client,
) {
  return on.send<EndTxnResponse>(
    ApiKey.EndTxn,
    version,
    createEndTxnRequest({ transactionalId, producerId, producerEpoch, committed }),
  );
}

async function fetchPartition(topic: string, isolationLevel: number) {
  const res = await client.send<FetchResponse>(ApiKey.Fetch, 12, {
    ...fetchRequest(topic, 0, 0n),
    isolationLevel,
  });
  return res.responses[0]!.partitions[0]!;
}

const txnBatch = (producerId: bigint, producerEpoch: number, baseSequence: number, count = 2) =>
  makeProducerBatch({
    producerId: Number(producerId),
    producerEpoch,
    baseSequence,
    count,
    transactional: true,
  });

describe('transactions v2 at the wire', () => {
  it('offers transaction.version 2 and EndTxn v5 in ApiVersions', async () => {
    const res = await client.send<ApiVersionsResponse>(
      ApiKey.ApiVersions,
      3,
      createApiVersionsRequest({ clientSoftwareName: 'wire', clientSoftwareVersion: '1' }),
    );
    expect(res.finalizedFeatures).toEqual([
      expect.objectContaining({ name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 }),
    ]);
    expect(res.supportedFeatures).toEqual([
      expect.objectContaining({ name: 'transaction.version', minVersion: 0, maxVersion: 2 }),
    ]);
    expect(res.apiKeys.find((k) => k.apiKey === ApiKey.EndTxn)?.maxVersion).toBe(5);
    for (const key of [
      ApiKey.InitProducerId,
      ApiKey.AddPartitionsToTxn,
      ApiKey.TxnOffsetCommit,
      ApiKey.DescribeProducers,
    ])
      expect(res.apiKeys.some((k) => k.apiKey === key)).toBe(true);
  });

  it('names this broker the coordinator of a transactional id', async () => {
    const res = await client.send<FindCoordinatorResponse>(
      ApiKey.FindCoordinator,
      4,
      createFindCoordinatorRequest({ keyType: 1, coordinatorKeys: ['tv2-a'] }),
    );
    expect(res.coordinators).toEqual([
      expect.objectContaining({ key: 'tv2-a', errorCode: ErrorCode.NONE, nodeId: 1, port: broker.port }),
    ]);
  });

  it('adds the partition at Produce v12, bumps the epoch at every EndTxn v5, and shows the transaction meanwhile', async () => {
    await broker.broker.topics.ensure('tv2-data', 1);
    const init = await initProducerId('tv2-a');
    expect(init.errorCode).toBe(ErrorCode.NONE);
    const pid = init.producerId;
    expect(init.producerEpoch).toBe(0);

    // No AddPartitionsToTxn: Produce v12 adds the partition itself.
    expect((await produce('tv2-a', 'tv2-data', txnBatch(pid, 0, 0))).errorCode).toBe(ErrorCode.NONE);

    const described = await client.send<DescribeTransactionsResponse>(
      ApiKey.DescribeTransactions,
      0,
      createDescribeTransactionsRequest({ transactionalIds: ['tv2-a'] }),
    );
    expect(described.transactionStates[0]).toMatchObject({
      errorCode: ErrorCode.NONE,
      transactionState: 'Ongoing',
      producerId: pid,
      topics: [expect.objectContaining({ topic: 'tv2-data', partitions: [0] })],
    });
    const listed = await client.send<ListTransactionsResponse>(
      ApiKey.ListTransactions,
      1,
      createListTransactionsRequest({
        stateFilters: ['Ongoing'],
        producerIdFilters: [],
        durationFilter: -1n,
      }),
    );
    expect(listed.transactionStates.map((t) => t.transactionalId)).toContain('tv2-a');
    const producers = await client.send<DescribeProducersResponse>(
      ApiKey.DescribeProducers,
      0,
      createDescribeProducersRequest({ topics: [{ name: 'tv2-data', partitionIndexes: [0, 7] }] }),
    );
    expect(producers.topics[0]!.partitions[0]!.activeProducers).toEqual([
      expect.objectContaining({
        producerId: pid,
        producerEpoch: 0,
        lastSequence: 1,
        currentTxnStartOffset: 0n,
      }),
    ]);
    expect(producers.topics[0]!.partitions[1]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    // Open: read_committed sees nothing yet, read_uncommitted the records.
    expect((await fetchPartition('tv2-data', 1)).lastStableOffset).toBe(0n);
    expect((await fetchPartition('tv2-data', 0)).highWatermark).toBe(2n);

    const committed = await endTxn('tv2-a', pid, 0, true);
    expect(committed).toMatchObject({ errorCode: ErrorCode.NONE, producerId: pid, producerEpoch: 1 });
    // The markers follow the answer: the LSO passes the COMMIT marker (offset 2).
    await untilAsync(async () => (await fetchPartition('tv2-data', 1)).lastStableOffset === 3n);

    // A write at the old epoch is fenced; the next transaction runs at the bumped one.
    expect((await produce('tv2-a', 'tv2-data', txnBatch(pid, 0, 2))).errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    expect((await produce('tv2-a', 'tv2-data', txnBatch(pid, 1, 0))).errorCode).toBe(ErrorCode.NONE);
    const aborted = await endTxn('tv2-a', pid, 1, false);
    expect(aborted).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 2 });
    await untilAsync(async () => (await fetchPartition('tv2-data', 1)).lastStableOffset === 6n);
    const read = await fetchPartition('tv2-data', 1);
    expect(read.abortedTransactions).toEqual([expect.objectContaining({ producerId: pid, firstOffset: 3n })]);
  });

  it('refuses a transactional batch outside a transaction, and one without a transactional id', async () => {
    await broker.broker.topics.ensure('tv2-stray', 1);
    const init = await initProducerId('tv2-stray');
    // Below v12 Produce does not add partitions: the partition is not in the transaction. v11
    // clients know TRANSACTION_ABORTABLE; older ones are told INVALID_TXN_STATE.
    expect((await produce('tv2-stray', 'tv2-stray', txnBatch(init.producerId, 0, 0), 11)).errorCode).toBe(
      ErrorCode.TRANSACTION_ABORTABLE,
    );
    expect((await produce('tv2-stray', 'tv2-stray', txnBatch(init.producerId, 0, 0), 9)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
    expect((await produce(null, 'tv2-stray', txnBatch(init.producerId, 0, 0))).errorCode).toBe(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    expect((await fetchPartition('tv2-stray', 0)).highWatermark).toBe(0n);
  });

  it('answers an unknown producer id mapping and a client older than transactions v2 the way Kafka does', async () => {
    await broker.broker.topics.ensure('tv1-data', 1);
    const unknown = await endTxn('tv2-never', 12345n, 0, true, 3);
    expect(unknown.errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);

    // A v1 client adds partitions explicitly and keeps its epoch across EndTxn v4.
    const init = await initProducerId('tv1-a', 4);
    const added = await client.send<AddPartitionsToTxnResponse>(
      ApiKey.AddPartitionsToTxn,
      3,
      createAddPartitionsToTxnRequest({
        v3AndBelowTransactionalId: 'tv1-a',
        v3AndBelowProducerId: init.producerId,
        v3AndBelowProducerEpoch: init.producerEpoch,
        v3AndBelowTopics: [{ name: 'tv1-data', partitions: [0] }],
      }),
    );
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.NONE);
    expect((await produce('tv1-a', 'tv1-data', txnBatch(init.producerId, 0, 0), 9)).errorCode).toBe(
      ErrorCode.NONE,
    );
    const ended = await endTxn('tv1-a', init.producerId, 0, true, 4);
    expect(ended.errorCode).toBe(ErrorCode.NONE);
    await untilAsync(async () => (await fetchPartition('tv1-data', 1)).lastStableOffset === 3n);
    // The same epoch goes on: sequences continue.
    const again = await client.send<AddPartitionsToTxnResponse>(
      ApiKey.AddPartitionsToTxn,
      3,
      createAddPartitionsToTxnRequest({
        v3AndBelowTransactionalId: 'tv1-a',
        v3AndBelowProducerId: init.producerId,
        v3AndBelowProducerEpoch: 0,
        v3AndBelowTopics: [{ name: 'tv1-data', partitions: [0] }],
      }),
    );
    expect(again.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.NONE);
  });
});

/** Memory storage whose marker writes wait while `hold` is set: a transaction stays completing. */
class HeldMarkers extends MemoryStorage {
  hold: Promise<void> | null = null;
  override async appendMarker(topicId: string, partition: number, input: MarkerInput): Promise<MarkerResult> {
    if (this.hold !== null) await this.hold;
    return super.appendMarker(topicId, partition, input);
  }
}

describe('transactions v2 while the previous transaction completes', () => {
  let storage: HeldMarkers;
  let held: TestBroker;
  let c: WireClient;
  let release = (): void => {};

  beforeAll(async () => {
    storage = new HeldMarkers();
    held = await startTestBroker({ storage, config: { addPartitionsToTxnRetryBackoffMaxMs: 300 } });
    c = await WireClient.connect(held.port);
    await held.broker.topics.ensure('tv2-next', 1);
  });
  afterAll(async () => {
    release();
    c.close();
    await held.close();
  });

  function holdMarkers(): void {
    storage.hold = new Promise((resolve) => {
      release = () => {
        storage.hold = null;
        resolve();
      };
    });
  }

  async function firstTransactionCommitting(transactionalId: string) {
    const init = await initProducerId(transactionalId, 5, c);
    const pid = init.producerId;
    expect((await produce(transactionalId, 'tv2-next', txnBatch(pid, 0, 0), 12, c)).errorCode).toBe(
      ErrorCode.NONE,
    );
    holdMarkers();
    // Answered once PrepareCommit is written; the markers wait.
    const ended = await endTxn(transactionalId, pid, 0, true, 5, c);
    expect(ended).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 1 });
    return pid;
  }

  it('retries the add of a Produce v12 itself and answers it once the previous transaction completes', async () => {
    const pid = await firstTransactionCommitting('tv2-next-a');
    let answered = false;
    const next = produce('tv2-next-a', 'tv2-next', txnBatch(pid, 1, 0), 12, c).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 60));
    // Still retrying, not answered CONCURRENT_TRANSACTIONS.
    expect(answered).toBe(false);
    release();
    expect((await next).errorCode).toBe(ErrorCode.NONE);
    const described = await c.send<DescribeTransactionsResponse>(
      ApiKey.DescribeTransactions,
      0,
      createDescribeTransactionsRequest({ transactionalIds: ['tv2-next-a'] }),
    );
    expect(described.transactionStates[0]).toMatchObject({ transactionState: 'Ongoing', producerEpoch: 1 });
  });

  it('answers CONCURRENT_TRANSACTIONS once the retries pass add-partitions-to-txn-retry-backoff-max-ms', async () => {
    const pid = await firstTransactionCommitting('tv2-next-b');
    const started = performance.now();
    const next = await produce('tv2-next-b', 'tv2-next', txnBatch(pid, 1, 0), 12, c);
    expect(next.errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    // AddPartitionsToTxn (transactions v1) is not retried by the broker: refused at once.
    const added = await c.send<AddPartitionsToTxnResponse>(
      ApiKey.AddPartitionsToTxn,
      3,
      createAddPartitionsToTxnRequest({
        v3AndBelowTransactionalId: 'tv2-next-b',
        v3AndBelowProducerId: pid,
        v3AndBelowProducerEpoch: 1,
        v3AndBelowTopics: [{ name: 'tv2-next', partitions: [0] }],
      }),
    );
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    release();
  });
});

/** Polls an async condition every 20 ms for up to 5 s. */
async function untilAsync(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met within 5 s');
}
