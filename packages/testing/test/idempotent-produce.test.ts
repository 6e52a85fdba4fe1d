// Produce, Fetch and ListOffsets against producer state in the storage: duplicates, fencing,
// read_committed reads to the last stable offset with the aborted transactions, at the wire.
import {
  ApiKey,
  createListOffsetsRequest,
  createProduceRequest,
  ErrorCode,
  type FetchResponse,
  type ListOffsetsResponse,
  type ProduceResponse,
} from '@tributary/codec';
import { buildRecordBatch, scanRecordBatches } from '@tributary/codec/records';
import { ManualClock } from '@tributary/core';
import { appendInput, makeProducerBatch, markerInput } from '@tributary/core/testing';
import { MemoryStorage } from '@tributary/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { fetchRequest } from './consume.js';
import { WireClient } from './wire.js';

let storage: MemoryStorage;
let broker: TestBroker;
let client: WireClient;
let topicCount = 0;

beforeAll(async () => {
  storage = new MemoryStorage();
  broker = await startTestBroker({ storage });
  client = await WireClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.close();
});

async function newTopic(): Promise<string> {
  const name = `idem-${++topicCount}`;
  await broker.broker.topics.ensure(name, 1);
  return name;
}

async function produce(topic: string, records: Buffer, version = 9) {
  const res = await client.send<ProduceResponse>(
    ApiKey.Produce,
    version,
    createProduceRequest({
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, topicId: Buffer.alloc(16), partitionData: [{ index: 0, records }] }],
    }),
  );
  return res.responses[0]!.partitionResponses[0]!;
}

async function fetch(
  topic: string,
  offset: bigint,
  isolationLevel: number,
  wait: { maxWaitMs?: number; minBytes?: number } = {},
) {
  const req = { ...fetchRequest(topic, 0, offset, wait), isolationLevel };
  const res = await client.send<FetchResponse>(ApiKey.Fetch, 12, req);
  return res.responses[0]!.partitions[0]!;
}

async function latest(topic: string, isolationLevel: number): Promise<bigint> {
  const res = await client.send<ListOffsetsResponse>(
    ApiKey.ListOffsets,
    7,
    createListOffsetsRequest({
      replicaId: -1,
      isolationLevel,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
    }),
  );
  const p = res.topics[0]!.partitions[0]!;
  expect(p.errorCode).toBe(ErrorCode.NONE);
  return p.offset;
}

const baseOffsets = (records: Buffer) => scanRecordBatches(records).batches.map((b) => b.baseOffset);

/**
 * Appends a transactional batch straight to storage, as Produce does once the transaction
 * coordinator has vouched for it: these tests are about producer state and read_committed reads,
 * not the coordinator (transactions-protocol.test.ts runs whole transactions).
 */
async function appendTransactional(topic: string, batch: Buffer): Promise<void> {
  const t = broker.broker.topics.byName(topic)!;
  const r = await storage.append(t.id, 0, appendInput(batch));
  expect(r.status).toBe('appended');
  t.partitions[0]!.notifyAppend();
}

/** Writes a marker the way the transaction coordinator's WriteTxnMarkers does, waking long polls. */
async function writeMarker(topic: string, producerId: number, commit: boolean): Promise<void> {
  const t = broker.broker.topics.byName(topic)!;
  const r = await storage.appendMarker(t.id, 0, markerInput({ producerId, commit }));
  expect(r.status).toBe('appended');
  t.partitions[0]!.notifyAppend();
}

describe('Produce with producer ids', () => {
  it('answers a retried batch with its original offsets and no error, and stores it once', async () => {
    const topic = await newTopic();
    await produce(topic, buildRecordBatch({ records: [{ value: Buffer.from('plain') }] }));
    const first = await produce(topic, makeProducerBatch({ producerId: 1000, count: 3 }));
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 1n });
    const retry = await produce(topic, makeProducerBatch({ producerId: 1000, count: 3 }));
    expect(retry).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 1n, logStartOffset: 0n });
    expect(await latest(topic, 0)).toBe(4n);
    const next = await produce(topic, makeProducerBatch({ producerId: 1000, baseSequence: 3 }));
    expect(next).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 4n });
  });

  it('refuses a sequence gap with OUT_OF_ORDER_SEQUENCE_NUMBER and an older epoch with INVALID_PRODUCER_EPOCH', async () => {
    const topic = await newTopic();
    await produce(topic, makeProducerBatch({ producerId: 1001, producerEpoch: 2 }));
    const gap = await produce(
      topic,
      makeProducerBatch({ producerId: 1001, producerEpoch: 2, baseSequence: 5 }),
    );
    expect(gap).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1n });
    const old = await produce(
      topic,
      makeProducerBatch({ producerId: 1001, producerEpoch: 1, baseSequence: 1 }),
    );
    expect(old.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(await latest(topic, 0)).toBe(1n);
  });

  it('refuses a plain batch from a producer with an open transaction with INVALID_TXN_STATE', async () => {
    const topic = await newTopic();
    await appendTransactional(topic, makeProducerBatch({ producerId: 1002, transactional: true }));
    const plain = await produce(topic, makeProducerBatch({ producerId: 1002, baseSequence: 1 }));
    expect(plain.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('refuses control batches and producer batches without a sequence with INVALID_RECORD', async () => {
    const topic = await newTopic();
    const control = await produce(topic, markerInput({ producerId: 1003, commit: true }).batch);
    expect(control.errorCode).toBe(ErrorCode.INVALID_RECORD);
    const noSequence = await produce(topic, makeProducerBatch({ producerId: 1003, baseSequence: -1 }));
    expect(noSequence.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(await latest(topic, 0)).toBe(0n);
  });
});

describe('read_committed', () => {
  it('reads to the last stable offset and returns the aborted transactions of the range read', async () => {
    const topic = await newTopic();
    await produce(topic, buildRecordBatch({ records: [{ value: Buffer.from('a') }] })); // 0
    await appendTransactional(topic, makeProducerBatch({ producerId: 2000, transactional: true, count: 2 })); // 1-2
    await appendTransactional(topic, makeProducerBatch({ producerId: 2001, transactional: true })); // 3
    await produce(topic, buildRecordBatch({ records: [{ value: Buffer.from('b') }] })); // 4

    const committed = await fetch(topic, 0n, 1);
    expect(committed).toMatchObject({ highWatermark: 5n, lastStableOffset: 1n, abortedTransactions: [] });
    expect(baseOffsets(committed.records!)).toEqual([0n]);
    const uncommitted = await fetch(topic, 0n, 0);
    expect(uncommitted).toMatchObject({ highWatermark: 5n, lastStableOffset: 1n, abortedTransactions: null });
    expect(baseOffsets(uncommitted.records!)).toEqual([0n, 1n, 3n, 4n]);
    expect(await latest(topic, 1)).toBe(1n);
    expect(await latest(topic, 0)).toBe(5n);

    await writeMarker(topic, 2000, false); // 5
    await writeMarker(topic, 2001, true); // 6
    const after = await fetch(topic, 0n, 1);
    expect(after).toMatchObject({ lastStableOffset: 7n, highWatermark: 7n });
    expect(after.abortedTransactions).toEqual([{ producerId: 2000n, firstOffset: 1n }]);
    expect(baseOffsets(after.records!)).toEqual([0n, 1n, 3n, 4n, 5n, 6n]);
    expect(await latest(topic, 1)).toBe(7n);
    // A read past the aborted transaction does not report it.
    expect((await fetch(topic, 6n, 1)).abortedTransactions).toEqual([]);
  });

  it('fills lastStableOffset and the aborted transactions in a long poll woken by the marker', async () => {
    const topic = await newTopic();
    await appendTransactional(topic, makeProducerBatch({ producerId: 3000, transactional: true })); // 0
    // The open transaction holds the LSO at 0: the poll has nothing to return and waits. Its
    // waiter registering tells the test it is parked, so the marker lands after, not before.
    const state = broker.broker.topics.byName(topic)!.partitions[0]!;
    const parked = new Promise<void>((resolve) => {
      const onAppend = state.onAppend.bind(state);
      state.onAppend = (fn) => {
        onAppend(fn);
        resolve();
      };
    });
    const polling = fetch(topic, 0n, 1, { maxWaitMs: 10_000, minBytes: 1 });
    await parked;
    await writeMarker(topic, 3000, false); // 1
    const woken = await polling;
    expect(woken).toMatchObject({ errorCode: ErrorCode.NONE, lastStableOffset: 2n, highWatermark: 2n });
    expect(woken.abortedTransactions).toEqual([{ producerId: 3000n, firstOffset: 0n }]);
    expect(baseOffsets(woken.records!)).toEqual([0n, 1n]);
  });
});

describe('a retried batch on a LogAppendTime topic', () => {
  it('is answered with the original append time, as Kafka answers duplicates', async () => {
    const clock = new ManualClock(50_000);
    const own = await startTestBroker({ clock, config: { logMessageTimestampType: 'LogAppendTime' } });
    const c = await WireClient.connect(own.port);
    try {
      await own.broker.topics.ensure('append-time', 1);
      const send = async () => {
        const res = await c.send<ProduceResponse>(
          ApiKey.Produce,
          9,
          createProduceRequest({
            acks: -1,
            timeoutMs: 5000,
            topicData: [
              {
                name: 'append-time',
                topicId: Buffer.alloc(16),
                partitionData: [{ index: 0, records: makeProducerBatch({ producerId: 5000, count: 2 }) }],
              },
            ],
          }),
        );
        return res.responses[0]!.partitionResponses[0]!;
      };
      expect(await send()).toMatchObject({
        errorCode: ErrorCode.NONE,
        baseOffset: 0n,
        logAppendTimeMs: 50_000n,
      });
      clock.advance(7_000);
      expect(await send()).toMatchObject({
        errorCode: ErrorCode.NONE,
        baseOffset: 0n,
        logAppendTimeMs: 50_000n,
      });
    } finally {
      c.close();
      await own.close();
    }
  });
});
