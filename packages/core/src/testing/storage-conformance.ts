// The storage port's conformance suite: every adapter runs it from its own tests with
// `describeStorageConformance('memory', () => new MemoryStorage())`.
import { randomBytes } from 'node:crypto';
import { buildRecordBatch, readRecordBatchHeader, validateRecordBatch } from '@tributary/codec/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
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

function appendInput(batch: Buffer) {
  const h = readRecordBatchHeader(batch);
  return { batch, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp };
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
    }
  });
}
