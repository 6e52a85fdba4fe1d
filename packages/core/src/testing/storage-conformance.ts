// The storage port's conformance suite: every adapter runs it from its own tests with
// `describeStorageConformance('memory', () => new MemoryStorage())`.
import { randomBytes } from 'node:crypto';
import {
  buildEndTxnMarkerBatch,
  buildRecordBatch,
  readRecordBatchHeader,
  validateRecordBatch,
} from '@tributary/codec/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppendInput,
  type MarkerInput,
  OffsetOutOfRangeError,
  type StorageAdapter,
  type StoredTopic,
  UnknownPartitionError,
} from '../storage/index.js';

export interface ConformanceOptions {
  /** Reopens the same data (for durable adapters); when given, persistence is tested too. */
  reopen?: (previous: StorageAdapter) => Promise<StorageAdapter>;
}

export function makeTopic(
  name: string,
  partitionCount = 1,
  configs: Record<string, string> = {},
): StoredTopic {
  return { name, topicId: randomBytes(16), partitionCount, configs };
}

/** A v2 batch of `count` records whose timestamps start at `timestamp`, one ms apart. */
export function makeBatch(count: number, timestamp = 1_000, valueSize = 10): Buffer {
  return buildRecordBatch({
    records: Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.alloc(valueSize, i),
      timestamp: timestamp + i,
    })),
  });
}

export interface ProducerBatchOptions {
  producerId: number;
  producerEpoch?: number;
  baseSequence?: number;
  count?: number;
  transactional?: boolean;
  timestamp?: number;
}

/** A v2 batch from an idempotent (or, with `transactional`, a transactional) producer. */
export function makeProducerBatch(o: ProducerBatchOptions): Buffer {
  const timestamp = o.timestamp ?? 1_000;
  return buildRecordBatch({
    producerId: o.producerId,
    producerEpoch: o.producerEpoch ?? 0,
    baseSequence: o.baseSequence ?? 0,
    transactional: o.transactional ?? false,
    records: Array.from({ length: o.count ?? 1 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      timestamp: timestamp + i,
    })),
  });
}

/** What the broker reads from a batch header and hands to `append`. */
export function appendInput(batch: Buffer): AppendInput {
  const h = readRecordBatchHeader(batch);
  return {
    batch,
    lastOffsetDelta: h.lastOffsetDelta,
    maxTimestamp: h.maxTimestamp,
    producerId: Number(h.producerId),
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    transactional: h.transactional,
  };
}

export interface MarkerOptions {
  producerId: number;
  producerEpoch?: number;
  coordinatorEpoch?: number;
  commit: boolean;
  transactionVersion?: number;
  timestamp?: number;
}

/** A COMMIT or ABORT marker as the broker hands it to `appendMarker`. */
export function markerInput(o: MarkerOptions): MarkerInput {
  const producerEpoch = o.producerEpoch ?? 0;
  const coordinatorEpoch = o.coordinatorEpoch ?? 0;
  const timestamp = o.timestamp ?? 5_000;
  return {
    batch: buildEndTxnMarkerBatch({
      commit: o.commit,
      producerId: o.producerId,
      producerEpoch,
      coordinatorEpoch,
      timestamp,
    }),
    producerId: o.producerId,
    producerEpoch,
    coordinatorEpoch,
    commit: o.commit,
    transactionVersion: o.transactionVersion ?? 0,
    timestamp,
  };
}

export function describeStorageConformance(
  name: string,
  create: () => StorageAdapter | Promise<StorageAdapter>,
  options: ConformanceOptions = {},
): void {
  describe(`storage conformance: ${name}`, () => {
    let storage: StorageAdapter;
    beforeEach(async () => {
      storage = await create();
      await storage.open();
    });
    afterEach(async () => {
      await storage.close();
    });

    const idOf = (t: StoredTopic) => t.topicId.toString('base64url');

    it('creates, lists and deletes topics; a second create of the same name changes nothing', async () => {
      const t = makeTopic('orders', 3, { 'retention.ms': '1000' });
      expect(await storage.createTopic(t)).toBe(true);
      expect(await storage.createTopic(makeTopic('orders', 5))).toBe(false);
      const listed = await storage.listTopics();
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({
        name: 'orders',
        partitionCount: 3,
        configs: { 'retention.ms': '1000' },
      });
      expect(Buffer.compare(listed[0]!.topicId, t.topicId)).toBe(0);
      expect(await storage.deleteTopic(idOf(t))).toBe(true);
      expect(await storage.deleteTopic(idOf(t))).toBe(false);
      expect(await storage.listTopics()).toEqual([]);
      await expect(storage.offsets(idOf(t), 0)).rejects.toThrow(UnknownPartitionError);
    });

    it('replaces topic configs and grows partitions', async () => {
      const t = makeTopic('cfg', 1);
      await storage.createTopic(t);
      await storage.setTopicConfigs(idOf(t), { 'cleanup.policy': 'delete' });
      await storage.addPartitions(idOf(t), 4);
      const [listed] = await storage.listTopics();
      expect(listed).toMatchObject({ partitionCount: 4, configs: { 'cleanup.policy': 'delete' } });
      expect(await storage.offsets(idOf(t), 3)).toMatchObject({ logStartOffset: 0, highWatermark: 0 });
      await expect(storage.offsets(idOf(t), 4)).rejects.toThrow(UnknownPartitionError);
    });

    it('assigns consecutive offsets, writes the base offset into the stored bytes and keeps the CRC valid', async () => {
      const t = makeTopic('log', 2);
      await storage.createTopic(t);
      const a = await storage.append(idOf(t), 1, appendInput(makeBatch(3)));
      const b = await storage.append(idOf(t), 1, appendInput(makeBatch(2)));
      expect(a.baseOffset).toBe(0);
      expect(b.baseOffset).toBe(3);
      expect(await storage.offsets(idOf(t), 1)).toMatchObject({ logStartOffset: 0, highWatermark: 5 });
      expect(await storage.offsets(idOf(t), 0)).toMatchObject({ logStartOffset: 0, highWatermark: 0 });
      const read = await storage.read(idOf(t), 1, { offset: 0, maxBytes: 1 << 20, minOneBatch: true });
      expect(read.batches.map((x) => readRecordBatchHeader(x).baseOffset)).toEqual([0n, 3n]);
      for (const x of read.batches) expect(() => validateRecordBatch(x)).not.toThrow();
      expect(read.highWatermark).toBe(5);
    });

    it('stores the batch bytes untouched apart from the base offset', async () => {
      const t = makeTopic('bytes');
      await storage.createTopic(t);
      await storage.append(idOf(t), 0, appendInput(makeBatch(1)));
      const original = makeBatch(4, 5_000, 100);
      await storage.append(idOf(t), 0, appendInput(Buffer.from(original)));
      const { batches } = await storage.read(idOf(t), 0, { offset: 1, maxBytes: 1 << 20, minOneBatch: true });
      expect(batches).toHaveLength(1);
      expect(batches[0]!.subarray(8).equals(original.subarray(8))).toBe(true);
    });

    it('keeps the order of concurrent appends to one partition', async () => {
      const t = makeTopic('concurrent');
      await storage.createTopic(t);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => storage.append(idOf(t), 0, appendInput(makeBatch(i + 1)))),
      );
      let expected = 0;
      for (let i = 0; i < results.length; i++) {
        expect(results[i]!.baseOffset).toBe(expected);
        expected += i + 1;
      }
    });

    it('reads from the batch containing the offset, honouring maxBytes and minOneBatch', async () => {
      const t = makeTopic('reads');
      await storage.createTopic(t);
      for (let i = 0; i < 5; i++)
        await storage.append(idOf(t), 0, appendInput(makeBatch(10, 1_000 + i * 10, 100)));
      const one = (await storage.read(idOf(t), 0, { offset: 0, maxBytes: 1 << 20, minOneBatch: true }))
        .batches[0]!;
      const size = one.length;
      const mid = await storage.read(idOf(t), 0, { offset: 25, maxBytes: size * 2, minOneBatch: true });
      expect(mid.batches.map((x) => readRecordBatchHeader(x).baseOffset)).toEqual([20n, 30n]);
      const tiny = await storage.read(idOf(t), 0, { offset: 25, maxBytes: 10, minOneBatch: true });
      expect(tiny.batches).toHaveLength(1);
      const none = await storage.read(idOf(t), 0, { offset: 25, maxBytes: 10, minOneBatch: false });
      expect(none.batches).toHaveLength(0);
      const atEnd = await storage.read(idOf(t), 0, { offset: 50, maxBytes: 1 << 20, minOneBatch: true });
      expect(atEnd.batches).toHaveLength(0);
      expect(atEnd.highWatermark).toBe(50);
      await expect(
        storage.read(idOf(t), 0, { offset: 51, maxBytes: 100, minOneBatch: true }),
      ).rejects.toThrow(OffsetOutOfRangeError);
    });

    it('finds batches by timestamp and the batch with the largest timestamp', async () => {
      const t = makeTopic('times');
      await storage.createTopic(t);
      await storage.append(idOf(t), 0, appendInput(makeBatch(5, 1_000)));
      await storage.append(idOf(t), 0, appendInput(makeBatch(5, 9_000)));
      await storage.append(idOf(t), 0, appendInput(makeBatch(5, 2_000)));
      expect((await storage.findBatchByTimestamp(idOf(t), 0, 1_003))?.baseOffset).toBe(0);
      expect((await storage.findBatchByTimestamp(idOf(t), 0, 1_005))?.baseOffset).toBe(5);
      expect(await storage.findBatchByTimestamp(idOf(t), 0, 10_000)).toBeNull();
      expect((await storage.findMaxTimestampBatch(idOf(t), 0))?.baseOffset).toBe(5);
    });

    it('moves the log start offset forward only, within the log (DeleteRecords)', async () => {
      const t = makeTopic('delete-records');
      await storage.createTopic(t);
      for (let i = 0; i < 4; i++) await storage.append(idOf(t), 0, appendInput(makeBatch(5)));
      expect(await storage.deleteRecordsBefore(idOf(t), 0, 7)).toBe(7);
      expect(await storage.deleteRecordsBefore(idOf(t), 0, 3)).toBe(7);
      expect(await storage.deleteRecordsBefore(idOf(t), 0, 100)).toBe(20);
      expect(await storage.offsets(idOf(t), 0)).toMatchObject({ logStartOffset: 20, highWatermark: 20 });
      await expect(
        storage.read(idOf(t), 0, { offset: 19, maxBytes: 100, minOneBatch: true }),
      ).rejects.toThrow(OffsetOutOfRangeError);
      const after = await storage.append(idOf(t), 0, appendInput(makeBatch(1)));
      expect(after).toMatchObject({ baseOffset: 20, logStartOffset: 20 });
    });

    it('applies retention by time and by size', async () => {
      const t = makeTopic('retention');
      await storage.createTopic(t);
      for (let i = 0; i < 4; i++)
        await storage.append(idOf(t), 0, appendInput(makeBatch(5, 1_000 * (i + 1), 100)));
      const byTime = await storage.applyRetention(idOf(t), 0, {
        retentionMs: 1_500,
        retentionBytes: -1,
        now: 4_000,
      });
      expect(byTime).toBe(10);
      const size = await storage.sizeInBytes(idOf(t), 0);
      const bySize = await storage.applyRetention(idOf(t), 0, {
        retentionMs: -1,
        retentionBytes: Math.floor(size / 2),
        now: 4_000,
      });
      expect(bySize).toBe(15);
      expect((await storage.offsets(idOf(t), 0)).highWatermark).toBe(20);
      expect(await storage.sizeInBytes(idOf(t), 0)).toBeLessThan(size);
    });

    describe('producer state', () => {
      const topic = async (): Promise<string> => {
        const t = makeTopic(`producers-${randomBytes(4).toString('hex')}`);
        await storage.createTopic(t);
        return idOf(t);
      };
      const all = { offset: 0, maxBytes: 1 << 20, minOneBatch: true };
      const baseOffsets = (batches: readonly Buffer[]) =>
        batches.map((b) => Number(readRecordBatchHeader(b).baseOffset));

      it('acks a retry of any of the last five batches with its original offsets and stores nothing; the sixth-oldest is out of order', async () => {
        const s = storage;
        const id = await topic();
        const first = await s.append(id, 0, appendInput(makeBatch(2)));
        expect(first).toMatchObject({ status: 'appended', baseOffset: 0 });
        for (let i = 0; i < 6; i++)
          await s.append(
            id,
            0,
            appendInput(
              makeProducerBatch({ producerId: 9, baseSequence: i * 3, count: 3, timestamp: 100 * i }),
            ),
          );
        // Producer batches sit at 2-4, 5-7, 8-10, 11-13, 14-16, 17-19.
        const retry = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 9, baseSequence: 3, count: 3, timestamp: 100 })),
        );
        expect(retry).toMatchObject({ status: 'duplicate', baseOffset: 5, lastOffset: 7, timestamp: 102 });
        const newest = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 9, baseSequence: 15, count: 3 })),
        );
        expect(newest).toMatchObject({ status: 'duplicate', baseOffset: 17, lastOffset: 19 });
        const oldest = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 9, baseSequence: 0, count: 3 })),
        );
        expect(oldest).toMatchObject({ status: 'out-of-order-sequence', baseOffset: -1 });
        expect((await s.offsets(id, 0)).highWatermark).toBe(20);
        expect((await s.read(id, 0, all)).batches).toHaveLength(7);
        const next = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 9, baseSequence: 18 })),
        );
        expect(next).toMatchObject({ status: 'appended', baseOffset: 20 });
      });

      it('refuses a sequence gap, an older epoch, and a new epoch not starting at 0', async () => {
        const s = storage;
        const id = await topic();
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 3, producerEpoch: 1, count: 2 })));
        const gap = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 3, producerEpoch: 1, baseSequence: 3 })),
        );
        expect(gap.status).toBe('out-of-order-sequence');
        const old = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 3, producerEpoch: 0, baseSequence: 2 })),
        );
        expect(old.status).toBe('invalid-producer-epoch');
        const newEpoch = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 3, producerEpoch: 2, baseSequence: 2 })),
        );
        expect(newEpoch.status).toBe('out-of-order-sequence');
        const bumped = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 3, producerEpoch: 2 })),
        );
        expect(bumped).toMatchObject({ status: 'appended', baseOffset: 2 });
        const fenced = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 3, producerEpoch: 1, baseSequence: 2 })),
        );
        expect(fenced.status).toBe('invalid-producer-epoch');
        expect((await s.offsets(id, 0)).highWatermark).toBe(3);
      });

      it('accepts any first sequence from a producer it has no state for (KIP-360) and wraps after 2^31 - 1', async () => {
        const s = storage;
        const id = await topic();
        const max = 0x7fffffff;
        const first = await s.append(
          id,
          0,
          appendInput(
            makeProducerBatch({ producerId: 4, producerEpoch: 7, baseSequence: max - 1, count: 2 }),
          ),
        );
        expect(first.status).toBe('appended');
        const wrapped = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 4, producerEpoch: 7, baseSequence: 0, count: 2 })),
        );
        expect(wrapped).toMatchObject({ status: 'appended', baseOffset: 2 });
        const [described] = await s.describeProducers(id, 0);
        expect(described).toMatchObject({
          producerId: 4,
          producerEpoch: 7,
          lastSequence: 1,
          currentTxnStartOffset: -1,
        });
      });

      it('refuses a plain batch from a producer whose transaction is open (INVALID_TXN_STATE)', async () => {
        const s = storage;
        const id = await topic();
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 5, transactional: true })));
        const plain = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 5, baseSequence: 1 })),
        );
        expect(plain.status).toBe('invalid-txn-state');
        expect((await s.offsets(id, 0)).highWatermark).toBe(1);
      });

      it('holds the last stable offset at the earliest open transaction, with mixed producers, until its marker', async () => {
        const s = storage;
        const id = await topic();
        await s.append(id, 0, appendInput(makeBatch(2))); // 0-1 plain
        await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 1, transactional: true, count: 2 })),
        ); // 2-3
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 2 }))); // 4 idempotent
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 3, transactional: true }))); // 5
        await s.append(id, 0, appendInput(makeBatch(1))); // 6 plain
        expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 7, lastStableOffset: 2 });
        const committed = await s.read(id, 0, { ...all, readCommitted: true });
        expect(baseOffsets(committed.batches)).toEqual([0]);
        expect(committed).toMatchObject({ highWatermark: 7, lastStableOffset: 2, abortedTransactions: [] });
        const uncommitted = await s.read(id, 0, all);
        expect(baseOffsets(uncommitted.batches)).toEqual([0, 2, 4, 5, 6]);
        expect(uncommitted.lastStableOffset).toBe(2);
        expect(uncommitted.abortedTransactions).toBeUndefined();
        const atLso = await s.read(id, 0, { ...all, offset: 3, readCommitted: true });
        expect(atLso.batches).toEqual([]);

        const commit = await s.appendMarker(id, 0, markerInput({ producerId: 1, commit: true }));
        expect(commit).toMatchObject({ status: 'appended', baseOffset: 7 });
        expect((await s.offsets(id, 0)).lastStableOffset).toBe(5);
        const abort = await s.appendMarker(id, 0, markerInput({ producerId: 3, commit: false }));
        expect(abort).toMatchObject({ status: 'appended', baseOffset: 8 });
        expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 9, lastStableOffset: 9 });
        const stored = (await s.read(id, 0, { ...all, offset: 7 })).batches;
        expect(stored.map((b) => readRecordBatchHeader(b))).toMatchObject([
          { baseOffset: 7n, control: true, transactional: true, producerId: 1n },
          { baseOffset: 8n, control: true, transactional: true, producerId: 3n },
        ]);
        for (const b of stored) expect(() => validateRecordBatch(b)).not.toThrow();
      });

      it('returns the aborted transactions overlapping a read_committed read', async () => {
        const s = storage;
        const id = await topic();
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, transactional: true }))); // 0
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 2, transactional: true }))); // 1
        await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 1, transactional: true, baseSequence: 1 })),
        ); // 2
        await s.appendMarker(id, 0, markerInput({ producerId: 1, commit: false })); // 3
        await s.appendMarker(id, 0, markerInput({ producerId: 2, commit: false })); // 4
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 3, transactional: true }))); // 5
        await s.appendMarker(id, 0, markerInput({ producerId: 3, commit: true })); // 6
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 4, transactional: true }))); // 7
        await s.appendMarker(id, 0, markerInput({ producerId: 4, commit: false })); // 8
        await s.append(id, 0, appendInput(makeBatch(1))); // 9
        const everything = await s.read(id, 0, { ...all, readCommitted: true });
        expect(baseOffsets(everything.batches)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(everything.abortedTransactions).toEqual([
          { producerId: 1, firstOffset: 0, lastOffset: 3 },
          { producerId: 2, firstOffset: 1, lastOffset: 4 },
          { producerId: 4, firstOffset: 7, lastOffset: 8 },
        ]);
        const middle = await s.read(id, 0, {
          offset: 4,
          maxBytes: 1,
          minOneBatch: true,
          readCommitted: true,
        });
        expect(baseOffsets(middle.batches)).toEqual([4]);
        expect(middle.abortedTransactions).toEqual([{ producerId: 2, firstOffset: 1, lastOffset: 4 }]);
        const tail = await s.read(id, 0, { ...all, offset: 9, readCommitted: true });
        expect(tail.abortedTransactions).toEqual([]);
      });

      it('fences a marker from an older coordinator epoch or producer epoch, and lets a marker bump the epoch', async () => {
        const s = storage;
        const id = await topic();
        await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 6, producerEpoch: 2, transactional: true })),
        );
        await s.appendMarker(
          id,
          0,
          markerInput({ producerId: 6, producerEpoch: 2, coordinatorEpoch: 4, commit: true }),
        );
        await s.append(
          id,
          0,
          appendInput(
            makeProducerBatch({ producerId: 6, producerEpoch: 2, baseSequence: 1, transactional: true }),
          ),
        );
        const zombie = await s.appendMarker(
          id,
          0,
          markerInput({ producerId: 6, producerEpoch: 2, coordinatorEpoch: 3, commit: true }),
        );
        expect(zombie).toMatchObject({ status: 'coordinator-fenced', baseOffset: -1 });
        const oldEpoch = await s.appendMarker(
          id,
          0,
          markerInput({ producerId: 6, producerEpoch: 1, coordinatorEpoch: 4, commit: true }),
        );
        expect(oldEpoch.status).toBe('invalid-producer-epoch');
        expect((await s.offsets(id, 0)).lastStableOffset).toBe(2);
        const bump = await s.appendMarker(
          id,
          0,
          markerInput({ producerId: 6, producerEpoch: 3, coordinatorEpoch: 4, commit: false }),
        );
        expect(bump).toMatchObject({ status: 'appended', baseOffset: 3 });
        expect(await s.describeProducers(id, 0)).toEqual([
          {
            producerId: 6,
            producerEpoch: 3,
            lastSequence: -1,
            lastTimestamp: 5_000,
            coordinatorEpoch: 4,
            currentTxnStartOffset: -1,
          },
        ]);
        const late = await s.append(
          id,
          0,
          appendInput(
            makeProducerBatch({ producerId: 6, producerEpoch: 2, baseSequence: 2, transactional: true }),
          ),
        );
        expect(late.status).toBe('invalid-producer-epoch');
      });

      it('keeps the last stable offset at or above the log start offset', async () => {
        const s = storage;
        const id = await topic();
        await s.append(id, 0, appendInput(makeBatch(2)));
        await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 1, transactional: true, count: 3 })),
        );
        await s.append(id, 0, appendInput(makeBatch(2)));
        expect((await s.offsets(id, 0)).lastStableOffset).toBe(2);
        await s.deleteRecordsBefore(id, 0, 4);
        expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 4, highWatermark: 7, lastStableOffset: 4 });
      });

      it('expires idle producers, never one with an open transaction', async () => {
        const s = storage;
        const id = await topic();
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, timestamp: 1_000 })));
        await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 2, timestamp: 1_000, transactional: true })),
        );
        await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 3, timestamp: 50_000 })));
        expect(await s.expireProducers(id, 0, 10_999, 10_000)).toBe(0);
        expect(await s.expireProducers(id, 0, 11_000, 10_000)).toBe(1);
        expect((await s.describeProducers(id, 0)).map((p) => p.producerId).sort()).toEqual([2, 3]);
        expect(await s.expireProducers(id, 0, 1_000_000, 10_000)).toBe(1);
        expect((await s.describeProducers(id, 0)).map((p) => p.producerId)).toEqual([2]);
        // Producer 1 is unknown again: any sequence is accepted.
        const again = await s.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 1, baseSequence: 40 })),
        );
        expect(again.status).toBe('appended');
      });

      it('keeps no producer state for plain batches (producer id -1 or absent)', async () => {
        const s = storage;
        const id = await topic();
        await s.append(id, 0, appendInput(makeBatch(2)));
        const batch = makeBatch(1);
        const h = readRecordBatchHeader(batch);
        const bare = await s.append(id, 0, {
          batch,
          lastOffsetDelta: h.lastOffsetDelta,
          maxTimestamp: h.maxTimestamp,
        });
        expect(bare).toMatchObject({ status: 'appended', baseOffset: 2 });
        expect(await s.describeProducers(id, 0)).toEqual([]);
        expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 3, lastStableOffset: 3 });
      });

      it('hands out producer id blocks that never overlap', async () => {
        const s = storage;
        const a = await s.allocateProducerIds(1000);
        const b = await s.allocateProducerIds(10);
        const c = await s.allocateProducerIds(1000);
        const blocks = [
          [a, a + 1000],
          [b, b + 10],
          [c, c + 1000],
        ].sort((x, y) => x[0]! - y[0]!);
        for (const [start] of blocks) expect(start).toBeGreaterThanOrEqual(0);
        for (let i = 1; i < blocks.length; i++)
          expect(blocks[i]![0]).toBeGreaterThanOrEqual(blocks[i - 1]![1]!);
      });
    });

    if (options.reopen) {
      const reopen = options.reopen;
      it('keeps topics, configs and data across a reopen', async () => {
        const t = makeTopic('durable', 2, { 'retention.ms': '5' });
        await storage.createTopic(t);
        await storage.append(idOf(t), 1, appendInput(makeBatch(3)));
        await storage.deleteRecordsBefore(idOf(t), 1, 1);
        storage = await reopen(storage);
        const [listed] = await storage.listTopics();
        expect(listed).toMatchObject({
          name: 'durable',
          partitionCount: 2,
          configs: { 'retention.ms': '5' },
        });
        expect(await storage.offsets(idOf(t), 1)).toMatchObject({ logStartOffset: 1, highWatermark: 3 });
      });

      it('keeps producer state, open transactions, aborted transactions and the producer id high mark across a reopen', async () => {
        const t = makeTopic('durable-producers');
        await storage.createTopic(t);
        const id = idOf(t);
        await storage.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, count: 2 })));
        await storage.append(id, 0, appendInput(makeProducerBatch({ producerId: 2, transactional: true })));
        await storage.appendMarker(id, 0, markerInput({ producerId: 2, commit: false, coordinatorEpoch: 3 }));
        await storage.append(id, 0, appendInput(makeProducerBatch({ producerId: 3, transactional: true })));
        const block = await storage.allocateProducerIds(100);
        storage = await reopen(storage);
        const retry = await storage.append(
          id,
          0,
          appendInput(makeProducerBatch({ producerId: 1, count: 2 })),
        );
        expect(retry).toMatchObject({ status: 'duplicate', baseOffset: 0 });
        expect(await storage.offsets(id, 0)).toEqual({
          logStartOffset: 0,
          highWatermark: 5,
          lastStableOffset: 4,
        });
        const read = await storage.read(id, 0, {
          offset: 0,
          maxBytes: 1 << 20,
          minOneBatch: true,
          readCommitted: true,
        });
        expect(read.abortedTransactions).toEqual([{ producerId: 2, firstOffset: 2, lastOffset: 3 }]);
        const zombie = await storage.appendMarker(
          id,
          0,
          markerInput({ producerId: 2, commit: true, coordinatorEpoch: 2 }),
        );
        expect(zombie.status).toBe('coordinator-fenced');
        expect(await storage.allocateProducerIds(1)).toBeGreaterThanOrEqual(block + 100);
      });
    }
  });
}
