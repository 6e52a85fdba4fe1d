import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildEndTxnMarkerBatch,
  buildRecordBatch,
  CompressionType,
  DELETE_HORIZON_BIT,
  iterateRecords,
  type RecordInput,
  readRecordBatchHeader,
  validateRecordBatch,
} from '@tributary/codec/records';
import { decodeGroupLogRecord, encodeGroupLogRecord, type GroupLogRecord } from '@tributary/core';
import type { StoredTopic } from '@tributary/core/storage';
import { makeTopic, markerInput, appendInput as withProducer } from '@tributary/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CLEAN_SHUTDOWN_FILE, FileStorage, type FileStorageOptions, segmentFileName } from '../src/index.js';
import { appendInput, configureTopics, logConfig, ManualClock, recordingLogger, tempDir } from './helpers.js';

const idOf = (t: StoredTopic) => t.topicId.toString('base64url');
const open: FileStorage[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function start(
  options: Partial<FileStorageOptions> & { dataDir: string; clock: ManualClock },
): Promise<FileStorage> {
  const s = new FileStorage({ flush: { mode: 'always' }, cleanerEnabled: false, ...options });
  await s.open();
  await configureTopics(s, { indexIntervalBytes: options.indexIntervalBytes ?? 4096 });
  open.push(s);
  return s;
}

async function stop(s: FileStorage): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}

async function createTopic(s: FileStorage, name: string, configs: Record<string, string>): Promise<string> {
  const t = makeTopic(name, 1, { 'cleanup.policy': 'compact', ...configs });
  await s.createTopic(t);
  await configureTopics(s);
  return idOf(t);
}

type Kv = [key: string | null, value: string | null];

function batchOf(
  records: Kv[],
  timestamp: number,
  extra: Partial<Parameters<typeof buildRecordBatch>[0]> = {},
) {
  return buildRecordBatch({
    records: records.map(
      ([k, v], i): RecordInput => ({
        key: k === null ? null : Buffer.from(k),
        value: v === null ? null : Buffer.from(v),
        timestamp: timestamp + i,
      }),
    ),
    ...extra,
  });
}

async function append(s: FileStorage, id: string, batch: Buffer): Promise<number> {
  return (await s.append(id, 0, appendInput(batch))).baseOffset;
}

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

/** Every batch from `from` to the high watermark, read a few hundred bytes at a time. */
async function readBatches(s: FileStorage, id: string, from = 0, maxBytes = 300): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = from;
  const { highWatermark } = await s.offsets(id, 0);
  while (offset < highWatermark) {
    const r = await s.read(id, 0, { offset, maxBytes, minOneBatch: true });
    expect(r.batches.length).toBeGreaterThan(0);
    for (const b of r.batches) {
      out.push(b);
      const h = readRecordBatchHeader(b);
      offset = Number(h.baseOffset) + h.lastOffsetDelta + 1;
    }
  }
  return out;
}

async function readRecords(s: FileStorage, id: string, from = 0): Promise<Rec[]> {
  const out: Rec[] = [];
  for (const b of await readBatches(s, id, from)) {
    validateRecordBatch(b);
    for (const r of iterateRecords(b)) {
      if (Number(r.offset) < from) continue;
      out.push({
        offset: Number(r.offset),
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        timestamp: r.timestamp,
      });
    }
  }
  return out;
}

function partitionDir(s: FileStorage, name: string): string {
  return join(s.dataDir, `${name}-0`);
}

function logFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .sort();
}

describe('log compaction', () => {
  for (const indexIntervalBytes of [0, 4096]) {
    it(`keeps the latest record per key across segments, with offsets kept and reads across gaps (index interval ${indexIntervalBytes})`, async () => {
      const clock = new ManualClock();
      const dataDir = tempDir();
      let s = await start({ dataDir, clock, indexIntervalBytes });
      // Two one-record batches per segment.
      const id = await createTopic(s, 'kv', { 'segment.bytes': '200' });
      for (let i = 0; i < 30; i++) await append(s, id, batchOf([[`k${i % 5}`, `v${i}`]], clock.now()));
      const dir = partitionDir(s, 'kv');
      const before = logFiles(dir).length;
      expect(before).toBe(15);

      const result = await s.compact(id, 0);
      // Everything but the active segment (offsets 28 and 29) is cleaned.
      expect(result).toMatchObject({ recordsBefore: 28, recordsAfter: 5, cleanedUpTo: 28, keys: 5 });
      const expected = [23, 24, 25, 26, 27, 28, 29];
      const check = async (st: FileStorage) => {
        const recs = await readRecords(st, id);
        expect(recs.map((r) => r.offset)).toEqual(expected);
        for (const r of recs) expect(r).toMatchObject({ key: `k${r.offset % 5}`, value: `v${r.offset}` });
        // A read at any offset returns the batch holding it or the first one after it.
        for (let o = 0; o < 30; o++) {
          const r = await st.read(id, 0, { offset: o, maxBytes: 1, minOneBatch: true });
          expect(Number(readRecordBatchHeader(r.batches[0]!).baseOffset)).toBe(expected.find((e) => e >= o));
        }
        expect(await st.offsets(id, 0)).toEqual({
          logStartOffset: 0,
          highWatermark: 30,
          lastStableOffset: 30,
        });
      };
      await check(s);

      // A clean reopen trusts the indexes; a crash reopen without indexes rebuilds them over the gaps.
      await stop(s);
      s = await start({ dataDir, clock, indexIntervalBytes });
      await check(s);
      await stop(s);
      rmSync(join(dataDir, CLEAN_SHUTDOWN_FILE));
      for (const n of readdirSync(dir))
        if (n.endsWith('.index') || n.endsWith('.timeindex')) rmSync(join(dir, n));
      s = await start({ dataDir, clock, indexIntervalBytes });
      await check(s);

      // Appending goes on at the log end.
      expect(await append(s, id, batchOf([['k0', 'again']], clock.now()))).toBe(30);
    });
  }

  it('merges small cleaned segments into groups under segment.bytes', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    const id = await createTopic(s, 'merge', { 'segment.bytes': '200' });
    for (let i = 0; i < 40; i++) await append(s, id, batchOf([[`k${i % 3}`, `v${i}`]], clock.now()));
    const dir = partitionDir(s, 'merge');
    expect(logFiles(dir)).toHaveLength(20);
    // Each full segment is its own group at first (two of them exceed segment.bytes)...
    const first = await s.compact(id, 0);
    expect(first).toMatchObject({ segmentsBefore: 19, segmentsAfter: 19 });
    const recs = await readRecords(s, id);
    // ...then the shrunken ones merge.
    const second = await s.compact(id, 0);
    expect(second!.segmentsAfter).toBeLessThan(second!.segmentsBefore);
    expect(logFiles(dir).length).toBe(second!.segmentsAfter + 1);
    expect(await readRecords(s, id)).toEqual(recs);
    expect(recs.map((r) => r.offset)).toEqual([35, 36, 37, 38, 39]);
  });

  it('keeps tombstones for delete.retention.ms after the pass that first cleaned them, then removes them', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    const id = await createTopic(s, 'tomb', { 'segment.bytes': '250', 'delete.retention.ms': '1000' });
    const t0 = clock.now();
    await append(s, id, batchOf([['a', 'a1']], t0)); // 0
    await append(s, id, batchOf([['b', 'b1']], t0)); // 1
    await append(
      s,
      id,
      batchOf(
        [
          ['a', null],
          ['c', 'c1'],
        ],
        t0 + 10,
      ),
    ); // 2, 3
    await append(s, id, batchOf([['d', 'd1']], t0)); // 4
    await append(s, id, batchOf([['e', 'e1']], t0)); // 5: the active segment
    const offsets = async () => (await readRecords(s, id)).map((r) => `${r.offset}:${r.key}=${r.value}`);

    await s.compact(id, 0);
    expect(await offsets()).toEqual(['1:b=b1', '2:a=null', '3:c=c1', '4:d=d1', '5:e=e1']);
    // The batch holding the tombstone got its delete horizon; record timestamps are unchanged.
    const batch = (await readBatches(s, id)).find((b) => readRecordBatchHeader(b).baseOffset === 2n)!;
    const h = readRecordBatchHeader(batch);
    expect(h.attributes & DELETE_HORIZON_BIT).toBe(DELETE_HORIZON_BIT);
    expect(h.baseTimestamp).toBe(t0 + 1000);
    expect(h.maxTimestamp).toBe(t0 + 11);
    expect([...iterateRecords(batch)].map((r) => r.timestamp)).toEqual([t0 + 10, t0 + 11]);

    // Not due yet: nothing dirty, horizon not reached.
    clock.advance(999);
    await s.runCleaner();
    expect(await offsets()).toContain('2:a=null');
    // A forced pass before the horizon keeps it too.
    await s.compact(id, 0);
    expect(await offsets()).toContain('2:a=null');
    // At the horizon the cleaner runs on its own (nothing dirty) and drops the tombstone.
    clock.advance(1);
    await s.runCleaner();
    expect(await offsets()).toEqual(['1:b=b1', '3:c=c1', '4:d=d1', '5:e=e1']);
    const rewritten = (await readBatches(s, id)).find((b) => readRecordBatchHeader(b).baseOffset === 2n)!;
    expect(readRecordBatchHeader(rewritten)).toMatchObject({ recordCount: 1, lastOffsetDelta: 1 });
  });

  for (const [name, compression] of Object.entries({
    gzip: CompressionType.Gzip,
    snappy: CompressionType.Snappy,
    lz4: CompressionType.Lz4,
    zstd: CompressionType.Zstd,
  })) {
    it(`recompresses ${name} batches it rewrites, keeping the batch fields`, async () => {
      const clock = new ManualClock();
      const s = await start({ dataDir: tempDir(), clock });
      const id = await createTopic(s, `z-${name}`, { 'segment.bytes': '100' });
      const t0 = clock.now();
      const fields = {
        compression,
        producerId: 7n,
        producerEpoch: 3,
        baseSequence: 0,
        partitionLeaderEpoch: 4,
      };
      const big = 'x'.repeat(200);
      await append(
        s,
        id,
        batchOf(
          [
            ['a', big],
            ['b', big],
            ['c', `c${big}`],
            ['d', null],
          ],
          t0,
          fields,
        ),
      ); // 0-3
      await append(
        s,
        id,
        batchOf(
          [
            ['a', 'a2'],
            ['b', 'b2'],
          ],
          t0 + 100,
          { ...fields, baseSequence: 4 },
        ),
      ); // 4-5
      await append(s, id, batchOf([['e', 'e']], t0 + 200)); // 6: active
      await s.compact(id, 0);
      const batches = await readBatches(s, id);
      const first = batches[0]!;
      validateRecordBatch(first);
      const h = readRecordBatchHeader(first);
      expect(h).toMatchObject({
        baseOffset: 0n,
        lastOffsetDelta: 3,
        compression,
        producerId: 7n,
        producerEpoch: 3,
        baseSequence: 0,
        partitionLeaderEpoch: 4,
        recordCount: 2,
      });
      // The tombstone got a horizon, so the records were re-encoded around a new base timestamp.
      expect(h.attributes & DELETE_HORIZON_BIT).toBe(DELETE_HORIZON_BIT);
      expect(
        [...iterateRecords(first)].map((r) => [
          Number(r.offset),
          r.key?.toString(),
          r.value?.toString(),
          r.timestamp,
        ]),
      ).toEqual([
        [2, 'c', `c${big}`, t0 + 2],
        [3, 'd', undefined, t0 + 3],
      ]);
      expect(readRecordBatchHeader(batches[1]!)).toMatchObject({
        baseOffset: 4n,
        compression,
        recordCount: 2,
      });
      // Without a horizon to set, a partly kept batch copies its records as they were.
      await append(s, id, batchOf([['c', 'c3']], t0 + 300)); // 7
      await append(s, id, batchOf([['f', 'f']], t0 + 300)); // 8: active
      await s.compact(id, 0);
      const again = (await readBatches(s, id))[0]!;
      validateRecordBatch(again);
      expect(readRecordBatchHeader(again)).toMatchObject({
        baseOffset: 0n,
        compression,
        recordCount: 1,
        baseTimestamp: h.baseTimestamp,
      });
      expect(
        [...iterateRecords(again)].map((r) => [Number(r.offset), r.key?.toString(), r.timestamp]),
      ).toEqual([[3, 'd', t0 + 3]]);
    });
  }

  it('keeps control batches, drops aborted transactions and stops before an open one', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    // One batch per segment.
    const id = await createTopic(s, 'txn', { 'segment.bytes': '60' });
    const t = clock.now();
    const txn = (producerId: bigint, records: Kv[]) =>
      batchOf(records, t, { producerId, producerEpoch: 0, baseSequence: 0, transactional: true });
    const marker = (producerId: bigint, commit: boolean) =>
      buildEndTxnMarkerBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 1, timestamp: t });
    await append(
      s,
      id,
      txn(5n, [
        ['a', 'a1'],
        ['b', 'b1'],
      ]),
    ); // 0-1
    await append(s, id, marker(5n, true)); // 2
    await append(s, id, txn(6n, [['a', 'a2']])); // 3
    await append(s, id, marker(6n, false)); // 4
    await append(s, id, batchOf([['c', 'c1']], t)); // 5
    await append(s, id, txn(7n, [['b', 'b3']])); // 6: never ends here
    await append(s, id, batchOf([['c', 'c2']], t)); // 7
    await append(s, id, batchOf([['e', 'e']], t)); // 8: active
    const result = await s.compact(id, 0);
    // Cleaning stops before the segment holding the open transaction.
    expect(result!.cleanedUpTo).toBe(6);
    const batches = await readBatches(s, id);
    const summary = batches.map((b) => {
      const h = readRecordBatchHeader(b);
      return `${h.baseOffset}${h.control ? 'C' : ''}:${[...iterateRecords(b)].map((r) => r.offset).join(',')}`;
    });
    // The aborted a2 is gone and does not supersede a1; both markers stay; c1 waits for the open
    // transaction to end, since c2 is beyond what was cleaned.
    expect(summary).toEqual(['0:0,1', '2C:2', '4C:4', '5:5', '6:6', '7:7', '8:8']);
  });

  it('removes a transaction marker once its data is gone and delete.retention.ms has passed, never before', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    const id = await createTopic(s, 'markers', { 'segment.bytes': '60', 'delete.retention.ms': '1000' });
    const t = clock.now();
    const txn = (producerId: bigint, records: Kv[]) =>
      withProducer(
        batchOf(records, t, { producerId, producerEpoch: 0, baseSequence: 0, transactional: true }),
      );
    const marker = (producerId: number, commit: boolean) =>
      markerInput({ producerId, commit, coordinatorEpoch: 1, timestamp: t });
    await s.append(id, 0, txn(6n, [['x', 'x1']])); // 0: aborted below
    await s.appendMarker(id, 0, marker(6, false)); // 1
    await s.append(id, 0, txn(5n, [['a', 'a1']])); // 2
    await s.appendMarker(id, 0, marker(5, true)); // 3
    await append(s, id, batchOf([['a', 'a2']], t)); // 4: supersedes a1
    await append(s, id, batchOf([['z', 'z']], t)); // 5: last segment with data
    await append(s, id, batchOf([['e', 'e']], t)); // 6: active
    const summary = async () =>
      (await readBatches(s, id)).map((b) => {
        const h = readRecordBatchHeader(b);
        return `${h.baseOffset}${h.control ? 'C' : ''}${h.attributes & DELETE_HORIZON_BIT ? 'H' : ''}`;
      });
    const committed = async () =>
      (await s.read(id, 0, { offset: 0, maxBytes: 1 << 20, minOneBatch: true, readCommitted: true }))
        .abortedTransactions;
    // The first pass drops the aborted x1 and the superseded a1; their markers stay, as the pass
    // read their data.
    await s.compact(id, 0);
    expect(await summary()).toEqual(['1C', '3C', '4', '5', '6']);
    expect(await committed()).toEqual([{ producerId: 6, firstOffset: 0, lastOffset: 1 }]);
    // The next pass finds no data left: the markers get a delete horizon...
    await s.compact(id, 0);
    expect(await summary()).toEqual(['1CH', '3CH', '4', '5', '6']);
    clock.advance(999);
    await s.compact(id, 0);
    expect(await summary()).toEqual(['1CH', '3CH', '4', '5', '6']);
    // ...and go in the first pass after it.
    clock.advance(1);
    await s.compact(id, 0);
    expect(await summary()).toEqual(['4', '5', '6']);
    for (const b of await readBatches(s, id)) expect(() => validateRecordBatch(b)).not.toThrow();
  });

  it('drops records without a key', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    const id = await createTopic(s, 'nokey', { 'segment.bytes': '100' });
    await append(
      s,
      id,
      batchOf(
        [
          [null, 'x'],
          ['a', 'a'],
        ],
        clock.now(),
      ),
    );
    await append(s, id, batchOf([['b', 'b']], clock.now()));
    await s.compact(id, 0);
    expect((await readRecords(s, id)).map((r) => r.offset)).toEqual([1, 2]);
  });

  it('rolls back a pass whose .cleaned files were left by a crash', async () => {
    const clock = new ManualClock();
    const dataDir = tempDir();
    let s = await start({ dataDir, clock });
    const id = await createTopic(s, 'rollback', { 'segment.bytes': '200' });
    for (let i = 0; i < 10; i++) await append(s, id, batchOf([[`k${i % 2}`, `v${i}`]], clock.now()));
    const before = await readRecords(s, id);
    const dir = partitionDir(s, 'rollback');
    await stop(s);
    writeFileSync(join(dir, `${segmentFileName(0, '.log')}.cleaned`), Buffer.alloc(100, 7));
    rmSync(join(dataDir, CLEAN_SHUTDOWN_FILE));
    const logger = recordingLogger();
    s = await start({ dataDir, clock, logger });
    expect(readdirSync(dir).filter((n) => n.endsWith('.cleaned'))).toEqual([]);
    expect(await readRecords(s, id)).toEqual(before);
    expect(logger.lines.some((l) => l.msg === 'removing a compacted segment that was not swapped in')).toBe(
      true,
    );
  });

  for (const partial of [false, true]) {
    it(`completes a swap that a crash interrupted${partial ? ' after removing some old files' : ''}`, async () => {
      const clock = new ManualClock();
      const dirA = tempDir();
      let a = await start({ dataDir: dirA, clock });
      const id = await createTopic(a, 'swap', { 'segment.bytes': '200' });
      for (let i = 0; i < 20; i++) await append(a, id, batchOf([[`k${i % 4}`, `v${i}`]], clock.now()));
      await stop(a);
      const dirB = tempDir();
      cpSync(dirA, dirB, { recursive: true });

      // A compacts everything but the active segment into one segment.
      a = await start({ dataDir: dirA, clock });
      const topic = (await a.listTopics())[0]!;
      await a.setTopicConfigs(id, { ...topic.configs, 'segment.bytes': '100000' });
      await configureTopics(a);
      const result = await a.compact(id, 0);
      expect(result).toMatchObject({ segmentsAfter: 1, cleanedUpTo: 18 });
      const compacted = await readRecords(a, id);
      const partA = partitionDir(a, 'swap');
      await stop(a);

      // B is A before the pass, plus the committed swap file: a crash right after the commit point.
      const partB = join(dirB, 'swap-0');
      const swapName = `${segmentFileName(0, '')}-${segmentFileName(18, '')}.log.swap`;
      cpSync(join(partA, segmentFileName(0, '.log')), join(partB, swapName));
      if (partial) {
        rmSync(join(partB, segmentFileName(0, '.index')));
        rmSync(join(partB, segmentFileName(2, '.log')));
        rmSync(join(partB, segmentFileName(4, '.timeindex')));
      }
      rmSync(join(dirB, CLEAN_SHUTDOWN_FILE));
      const logger = recordingLogger();
      const b = await start({ dataDir: dirB, clock, logger });
      expect(logger.lines.some((l) => l.msg === 'completing an interrupted swap of compacted segments')).toBe(
        true,
      );
      expect(readdirSync(partB).filter((n) => n.endsWith('.swap'))).toEqual([]);
      expect(logFiles(partB)).toEqual([segmentFileName(0, '.log'), segmentFileName(18, '.log')]);
      expect(await readRecords(b, id)).toEqual(compacted);
      expect(existsSync(join(partB, segmentFileName(0, '.index')))).toBe(true);
    });
  }

  it('lets appends go on during a pass, with their offsets kept', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    const id = await createTopic(s, 'busy', { 'segment.bytes': '2000' });
    for (let i = 0; i < 400; i++) await append(s, id, batchOf([[`k${i % 20}`, `v${i}`]], clock.now()));
    let passDone = false;
    const pass = s.compact(id, 0).then((r) => {
      passDone = true;
      return r;
    });
    let beforePassEnded = 0;
    const appends = Array.from({ length: 50 }, (_, i) =>
      append(s, id, batchOf([[`n${i}`, `w${i}`]], clock.now())).then((o) => {
        if (!passDone) beforePassEnded++;
        return o;
      }),
    );
    // Readers walking the whole log while segments are swapped under them see valid batches in
    // offset order and every key's latest value.
    const reads = Array.from({ length: 3 }, async () => {
      const recs = await readRecords(s, id);
      const offsets = recs.map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
      for (let k = 0; k < 20; k++)
        expect(recs.find((r) => r.offset === 380 + k)).toMatchObject({ key: `k${k}` });
    });
    const offsets = await Promise.all(appends);
    expect(offsets).toEqual(Array.from({ length: 50 }, (_, i) => 400 + i));
    await Promise.all(reads);
    const result = await pass;
    // The pass did not hold the appends back until it was over.
    expect(beforePassEnded).toBeGreaterThan(0);
    expect(result!.recordsAfter).toBeLessThan(result!.recordsBefore);
    const recs = await readRecords(s, id);
    const byOffset = new Map(recs.map((r) => [r.offset, r]));
    for (let i = 0; i < 50; i++)
      expect(byOffset.get(400 + i)).toMatchObject({ key: `n${i}`, value: `w${i}` });
    // The latest value of every key is still there.
    for (let k = 0; k < 20; k++)
      expect(byOffset.get(380 + k)).toMatchObject({ key: `k${k}`, value: `v${380 + k}` });
    expect(recs.length).toBeLessThan(450);
  });

  it('compacts the group coordinator log: byte keys and values, tombstones', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    const id = await createTopic(s, '__consumer_offsets', { 'segment.bytes': '1000' });
    const commit = (partition: number, offset: number): GroupLogRecord => ({
      type: 'offset',
      groupId: 'g1',
      topic: 'orders',
      partition,
      value: { offset, leaderEpoch: 0, metadata: '', commitTimestamp: clock.now(), expireTimestamp: -1 },
    });
    const write = async (records: GroupLogRecord[]) => {
      const batch = buildRecordBatch({
        records: records.map((r) => ({ ...encodeGroupLogRecord(r), timestamp: clock.now() })),
      });
      await append(s, id, batch);
    };
    for (let i = 1; i <= 30; i++) await write([commit(0, i * 10), commit(1, i)]);
    await write([{ type: 'offset', groupId: 'g1', topic: 'orders', partition: 1, value: null }]);
    for (let i = 31; i <= 40; i++) await write([commit(0, i * 10)]);
    const replay = async () => {
      const state = new Map<string, number | null>();
      let n = 0;
      for (const b of await readBatches(s, id)) {
        for (const r of iterateRecords(b)) {
          const rec = decodeGroupLogRecord(r.key!, r.value);
          if (rec?.type !== 'offset') continue;
          n++;
          state.set(`${rec.topic}-${rec.partition}`, rec.value?.offset ?? null);
        }
      }
      return { state, n };
    };
    const before = await replay();
    await s.compact(id, 0);
    const after = await replay();
    expect(after.state).toEqual(before.state);
    expect(after.state).toEqual(
      new Map<string, number | null>([
        ['orders-0', 400],
        ['orders-1', null],
      ]),
    );
    expect(after.n).toBeLessThan(before.n / 5);
  });

  it('runs on the cleaner timer for compacted topics only, by min.cleanable.dirty.ratio and min.compaction.lag.ms', async () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    const s = await start({
      dataDir: tempDir(),
      clock,
      logger,
      cleanerEnabled: true,
      cleanerBackoffMs: 1000,
    });
    const compacted = await createTopic(s, 'c', { 'segment.bytes': '200' });
    const lagged = await createTopic(s, 'lag', { 'segment.bytes': '200', 'min.compaction.lag.ms': '60000' });
    const plain = makeTopic('d', 1, { 'segment.bytes': '200' });
    await s.createTopic(plain);
    await configureTopics(s);
    for (const id of [compacted, lagged, idOf(plain)])
      for (let i = 0; i < 40; i++) await append(s, id, batchOf([[`k${i % 10}`, `v${i}`]], clock.now()));
    const passes = () =>
      logger.lines
        .filter((l) => l.msg === 'compacted log segments')
        .map((l) => (l.obj as { dir: string }).dir);
    clock.advance(1000);
    await s.cleanerIdle();
    expect(passes().map((d) => d.split('/').at(-1))).toEqual(['c-0']);
    expect((await readRecords(s, idOf(plain))).length).toBe(40);
    expect((await readRecords(s, compacted)).length).toBe(12);

    // A little new dirt over a clean log is below the 0.5 ratio: no pass.
    await append(s, compacted, batchOf([['k0', 'x']], clock.now()));
    await append(s, compacted, batchOf([['k1', 'y']], clock.now()));
    clock.advance(1000);
    await s.cleanerIdle();
    expect(passes()).toHaveLength(1);

    // Once the lag has passed, the lagged topic is cleaned too.
    clock.advance(60_000);
    await s.cleanerIdle();
    expect(passes().map((d) => d.split('/').at(-1))).toEqual(['c-0', 'lag-0']);
  });

  it('takes the cleanup policy and segment size from configureLog, not from the stored topic overrides', async () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    const s = await start({ dataDir: tempDir(), clock, logger, segmentBytes: 200 });
    const t = makeTopic('configured', 1, { 'cleanup.policy': 'compact', 'segment.bytes': '100000' });
    await s.createTopic(t);
    const id = idOf(t);
    for (let i = 0; i < 20; i++) await append(s, id, batchOf([[`k${i % 2}`, `v${i}`]], clock.now()));
    // Until core hands in the LogConfig, the options apply: 200-byte segments, no compaction.
    expect(logFiles(partitionDir(s, 'configured')).length).toBeGreaterThan(2);
    await s.runCleaner();
    expect(logger.lines.filter((l) => l.msg === 'compacted log segments')).toEqual([]);
    s.configureLog(id, logConfig({ 'cleanup.policy': 'compact', 'segment.bytes': '200' }));
    await s.runCleaner();
    expect(logger.lines.filter((l) => l.msg === 'compacted log segments')).toHaveLength(1);
  });

  it('keeps its checkpoint across a restart, so a clean log is not cleaned again', async () => {
    const clock = new ManualClock();
    const dataDir = tempDir();
    let s = await start({ dataDir, clock });
    const id = await createTopic(s, 'ckpt', { 'segment.bytes': '200' });
    for (let i = 0; i < 20; i++) await append(s, id, batchOf([[`k${i % 2}`, `v${i}`]], clock.now()));
    await s.runCleaner();
    const after = await readRecords(s, id);
    expect(after.length).toBeLessThan(20);
    await stop(s);
    const logger = recordingLogger();
    s = await start({ dataDir, clock, logger });
    await s.runCleaner();
    expect(logger.lines.filter((l) => l.msg === 'compacted log segments')).toEqual([]);
    expect(await readRecords(s, id)).toEqual(after);
  });

  it('lets retention delete segments that compaction emptied', async () => {
    const clock = new ManualClock();
    const s = await start({ dataDir: tempDir(), clock });
    const id = await createTopic(s, 'both', { 'segment.bytes': '200', 'cleanup.policy': 'compact,delete' });
    const t0 = clock.now();
    for (let i = 0; i < 10; i++) await append(s, id, batchOf([['k', `v${i}`]], i < 6 ? t0 : t0 + 10_000));
    await s.compact(id, 0);
    expect((await readRecords(s, id)).map((r) => r.offset)).toEqual([7, 8, 9]);
    // The emptied segments from 0, 2 and 4 are past retention; the one from 6 holds newer records.
    clock.advance(10_000);
    const logStart = await s.applyRetention(id, 0, {
      retentionMs: 5000,
      retentionBytes: -1,
      now: clock.now(),
    });
    expect(logStart).toBe(6);
    expect((await readRecords(s, id, 6)).map((r) => r.offset)).toEqual([7, 8, 9]);
  });
});
