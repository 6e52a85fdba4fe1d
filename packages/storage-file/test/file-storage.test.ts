import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRecordBatchHeader, validateRecordBatch } from '@tributary/codec/records';
import { OffsetOutOfRangeError, type StoredTopic } from '@tributary/core/storage';
import { makeBatch, makeTopic } from '@tributary/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CLEAN_SHUTDOWN_FILE,
  FileStorage,
  type FileStorageOptions,
  LOCK_FILE,
  LOG_START_FILE,
  TOPICS_DIR,
} from '../src/index.js';
import { appendInput, configureTopics, ManualClock, recordingLogger, tempDir } from './helpers.js';

const idOf = (t: StoredTopic) => t.topicId.toString('base64url');
const open: FileStorage[] = [];

async function start(options: Partial<FileStorageOptions> & { dataDir: string }): Promise<FileStorage> {
  const s = new FileStorage({ flush: { mode: 'always' }, ...options });
  await s.open();
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** Every batch from `from` to the high watermark, read in small steps. */
async function readAll(s: FileStorage, topicId: string, from = 0): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = from;
  const { highWatermark } = await s.offsets(topicId, 0);
  while (offset < highWatermark) {
    const r = await s.read(topicId, 0, { offset, maxBytes: 3000, minOneBatch: true });
    expect(r.batches.length).toBeGreaterThan(0);
    for (const b of r.batches) {
      out.push(b);
      const h = readRecordBatchHeader(b);
      offset = Number(h.baseOffset) + h.lastOffsetDelta + 1;
    }
  }
  return out;
}

function segmentFiles(dir: string, suffix = '.log'): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(suffix))
    .sort();
}

describe('FileStorage options', () => {
  it('rejects invalid options with a message naming the option', () => {
    expect(() => new FileStorage({ dataDir: '', flush: { mode: 'always' } })).toThrow(/dataDir/);
    expect(() => new FileStorage({ dataDir: '/x', flush: { mode: 'sometimes' } as never })).toThrow(/flush/);
    expect(() => new FileStorage({ dataDir: '/x', flush: { mode: 'interval', intervalMs: 0 } })).toThrow(
      /flush.intervalMs/,
    );
    expect(
      () => new FileStorage({ dataDir: '/x', flush: { mode: 'interval', intervalMs: 10, bytes: -1 } }),
    ).toThrow(/flush.bytes/);
    expect(() => new FileStorage({ dataDir: '/x', flush: { mode: 'always' }, segmentBytes: 10 })).toThrow(
      /segmentBytes/,
    );
    expect(() => new FileStorage({ dataDir: '/x', flush: { mode: 'always' }, hotTailBytes: 1.5 })).toThrow(
      /hotTailBytes/,
    );
  });

  it('names the data directory when it cannot be used', async () => {
    const base = tempDir();
    writeFileSync(join(base, 'plain-file'), 'x');
    const s = new FileStorage({ dataDir: join(base, 'plain-file', 'data'), flush: { mode: 'always' } });
    await expect(s.open()).rejects.toThrow(/data directory .*plain-file\/data is not usable: .*ENOTDIR/);
  });

  it('names the file when topic metadata is corrupt', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, TOPICS_DIR));
    writeFileSync(join(dir, TOPICS_DIR, 'AAAAAAAAAAAAAAAAAAAAAA.json'), '{"version":1,');
    const s = new FileStorage({ dataDir: dir, flush: { mode: 'always' } });
    await expect(s.open()).rejects.toThrow(/corrupt topic metadata .*AAAAAAAAAAAAAAAAAAAAAA\.json/);
    // The failed open released the lock.
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});

describe('FileStorage', () => {
  it('keeps data, offsets, the log start offset and configs across a clean restart', async () => {
    const dir = tempDir();
    let s = await start({ dataDir: dir, segmentBytes: 2000 });
    const t = makeTopic('keep', 2, { 'retention.ms': '60000' });
    await s.createTopic(t);
    const written: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      const b = makeBatch(1 + (i % 4), 1_000 + i * 10, 50);
      written.push(Buffer.from(b));
      await s.append(idOf(t), 0, appendInput(b));
    }
    await s.deleteRecordsBefore(idOf(t), 0, 12);
    await s.setTopicConfigs(idOf(t), { 'cleanup.policy': 'delete' });
    const before = await s.offsets(idOf(t), 0);
    await s.close();
    open.pop();
    expect(existsSync(join(dir, CLEAN_SHUTDOWN_FILE))).toBe(true);

    s = await start({ dataDir: dir, segmentBytes: 2000 });
    expect(existsSync(join(dir, CLEAN_SHUTDOWN_FILE))).toBe(false);
    expect(await s.offsets(idOf(t), 0)).toEqual(before);
    expect(before.logStartOffset).toBe(12);
    const [listed] = await s.listTopics();
    expect(listed).toMatchObject({
      name: 'keep',
      partitionCount: 2,
      configs: { 'cleanup.policy': 'delete' },
    });
    const batches = await readAll(s, idOf(t), 12);
    const firstKept = written.findIndex((_, i) => {
      const last = written.slice(0, i + 1).reduce((n, b) => n + readRecordBatchHeader(b).recordCount, 0) - 1;
      return last >= 12;
    });
    expect(batches).toHaveLength(written.length - firstKept);
    batches.forEach((b, i) => {
      expect(() => validateRecordBatch(b)).not.toThrow();
      expect(b.subarray(8).equals(written[firstKept + i]!.subarray(8))).toBe(true);
    });
    const next = await s.append(idOf(t), 0, appendInput(makeBatch(2)));
    expect(next.baseOffset).toBe(before.highWatermark);
  });

  it('keeps the log start offset after a crash (no clean shutdown)', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir });
    const t = makeTopic('crashy');
    await s.createTopic(t);
    for (let i = 0; i < 5; i++) await s.append(idOf(t), 0, appendInput(makeBatch(4)));
    await s.deleteRecordsBefore(idOf(t), 0, 9);
    expect(readFileSync(join(dir, 'crashy-0', LOG_START_FILE), 'utf8').trim()).toBe('9');
    // A copy of the directory while it is open is what a crash leaves: no clean shutdown marker,
    // a lock naming a process that no longer holds it.
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });
    expect(existsSync(join(copy, CLEAN_SHUTDOWN_FILE))).toBe(false);
    const again = await start({ dataDir: copy });
    expect(await again.offsets(idOf(t), 0)).toEqual({
      logStartOffset: 9,
      highWatermark: 20,
      lastStableOffset: 20,
    });
  });

  it('rolls segments by size (segment.bytes of the topic LogConfig) and names them by base offset', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    const big = makeTopic('big');
    const small = makeTopic('small', 1, { 'segment.bytes': '1000' });
    await s.createTopic(big);
    await s.createTopic(small);
    await configureTopics(s, { segmentBytes: 1_000_000 });
    const size = makeBatch(5, 1_000, 100).length;
    for (let i = 0; i < 10; i++) {
      await s.append(idOf(big), 0, appendInput(makeBatch(5, 1_000, 100)));
      await s.append(idOf(small), 0, appendInput(makeBatch(5, 1_000, 100)));
    }
    expect(segmentFiles(join(dir, 'big-0'))).toEqual(['00000000000000000000.log']);
    const perSegment = Math.floor(1000 / size);
    const expected = Array.from(
      { length: Math.ceil(10 / perSegment) },
      (_, i) => `${String(i * perSegment * 5).padStart(20, '0')}.log`,
    );
    expect(segmentFiles(join(dir, 'small-0'))).toEqual(expected);
    for (const f of expected.slice(0, -1))
      expect(statSync(join(dir, 'small-0', f)).size).toBeLessThanOrEqual(1000);
    // Sealed segments have their indexes on disk (written just after the append that rolled
    // resolved; flushAll queues behind that).
    await s.flushAll();
    expect(segmentFiles(join(dir, 'small-0'), '.index')).toEqual(
      expected.slice(0, -1).map((f) => f.replace('.log', '.index')),
    );
    // Each sealed segment's index ends with its last batch, so a reopen can trust it unread.
    for (let i = 0; i + 1 < expected.length; i++) {
      const index = readFileSync(join(dir, 'small-0', expected[i]!.replace('.log', '.index')));
      const base = Number(expected[i]!.slice(0, 20));
      const nextBase = Number(expected[i + 1]!.slice(0, 20));
      expect(index.length % 8).toBe(0);
      expect(base + index.readInt32BE(index.length - 8)).toBe(nextBase - 1);
    }
    expect((await readAll(s, idOf(small))).length).toBe(10);
  });

  it('fails the appends of a failed write, hands their offsets out again and keeps the log whole', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir, segmentBytes: 2_000 });
    const t = makeTopic('failing');
    await s.createTopic(t);
    for (let i = 0; i < 3; i++) await s.append(idOf(t), 0, appendInput(makeBatch(5, 1_000, 100)));
    const { open: openFile } = await import('node:fs/promises');
    const probe = await openFile(join(dir, 'failing-0', '00000000000000000000.log'), 'r');
    const proto = Object.getPrototypeOf(probe) as { writev: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const spy = vi
      .spyOn(proto, 'writev')
      .mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' }));
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => s.append(idOf(t), 0, appendInput(makeBatch(5, 1_000, 100)))),
      );
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
      expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/failing-0.*ENOSPC/);
    } finally {
      spy.mockRestore();
    }
    expect(await s.offsets(idOf(t), 0)).toEqual({
      logStartOffset: 0,
      highWatermark: 15,
      lastStableOffset: 15,
    });
    expect((await s.append(idOf(t), 0, appendInput(makeBatch(5, 1_000, 100)))).baseOffset).toBe(15);
    const batches = await readAll(s, idOf(t));
    expect(batches.map((b) => Number(readRecordBatchHeader(b).baseOffset))).toEqual([0, 5, 10, 15]);
    for (const b of batches) expect(() => validateRecordBatch(b)).not.toThrow();
  });

  it('rolls a segment once it is older than segment.ms', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const s = await start({ dataDir: dir, clock, segmentMs: 60_000 });
    const t = makeTopic('aging');
    await s.createTopic(t);
    await s.append(idOf(t), 0, appendInput(makeBatch(3)));
    clock.advance(59_000);
    await s.append(idOf(t), 0, appendInput(makeBatch(3)));
    expect(segmentFiles(join(dir, 'aging-0'))).toHaveLength(1);
    clock.advance(1_000);
    await s.append(idOf(t), 0, appendInput(makeBatch(3)));
    expect(segmentFiles(join(dir, 'aging-0'))).toEqual([
      '00000000000000000000.log',
      '00000000000000000006.log',
    ]);
  });

  it('finds every offset through the indexes, across segments and after a reopen', async () => {
    const dir = tempDir();
    const opts = { dataDir: dir, segmentBytes: 2_000, indexIntervalBytes: 700, hotTailBytes: 0 };
    let s = await start(opts);
    const t = makeTopic('lookup');
    await s.createTopic(t);
    const ranges: [number, number][] = [];
    for (let i = 0; i < 60; i++) {
      const n = 1 + ((i * 7) % 5);
      const { baseOffset } = await s.append(idOf(t), 0, appendInput(makeBatch(n, 10_000 + i * 100, 40)));
      ranges.push([baseOffset, baseOffset + n - 1]);
    }
    for (let round = 0; round < 2; round++) {
      for (const [first, last] of ranges)
        for (let o = first; o <= last; o++) {
          const r = await s.read(idOf(t), 0, { offset: o, maxBytes: 1, minOneBatch: true });
          expect(r.batches).toHaveLength(1);
          expect(Number(readRecordBatchHeader(r.batches[0]!).baseOffset)).toBe(first);
        }
      // By timestamp: batch i holds timestamps 10_000 + i * 100 .. + n - 1.
      const found = await s.findBatchByTimestamp(idOf(t), 0, 10_000 + 37 * 100 + 50);
      expect(found?.baseOffset).toBe(ranges[38]![0]);
      expect((await s.findMaxTimestampBatch(idOf(t), 0))?.baseOffset).toBe(ranges[59]![0]);
      await s.close();
      open.pop();
      s = await start(opts);
    }
    expect(segmentFiles(join(dir, 'lookup-0')).length).toBeGreaterThan(3);
  });

  it('applies retention by time and by size to whole segments, rolling the active one when all of it expired', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir, segmentBytes: 1_500 });
    const t = makeTopic('ret');
    await s.createTopic(t);
    // Ten batches of ~670 bytes: two per segment, five segments; segment k holds timestamps k*1000.
    for (let i = 0; i < 10; i++)
      await s.append(idOf(t), 0, appendInput(makeBatch(5, Math.floor(i / 2) * 1_000 + (i % 2) * 10, 100)));
    const pdir = join(dir, 'ret-0');
    expect(segmentFiles(pdir)).toHaveLength(5);
    // Segments 0 and 1 end before 1_500; segment 2's newest batch (2_014) is not older.
    expect(await s.applyRetention(idOf(t), 0, { retentionMs: 1_000, retentionBytes: -1, now: 2_500 })).toBe(
      20,
    );
    expect(segmentFiles(pdir)).toHaveLength(3);
    await expect(s.read(idOf(t), 0, { offset: 19, maxBytes: 100, minOneBatch: true })).rejects.toThrow(
      OffsetOutOfRangeError,
    );
    const size = await s.sizeInBytes(idOf(t), 0);
    const segment = size / 3;
    // A segment goes only while what remains stays at or above the limit, so a limit of 1.5
    // segments keeps two and a limit of one segment keeps one.
    expect(
      await s.applyRetention(idOf(t), 0, { retentionMs: -1, retentionBytes: segment * 1.5, now: 2_500 }),
    ).toBe(30);
    expect(segmentFiles(pdir)).toHaveLength(2);
    expect(await s.applyRetention(idOf(t), 0, { retentionMs: -1, retentionBytes: segment, now: 2_500 })).toBe(
      40,
    );
    expect(segmentFiles(pdir)).toEqual(['00000000000000000040.log']);
    expect(await s.sizeInBytes(idOf(t), 0)).toBe(segment);
    // Everything expired: the active segment goes too and the log carries on at 50.
    expect(await s.applyRetention(idOf(t), 0, { retentionMs: 0, retentionBytes: -1, now: 100_000 })).toBe(50);
    expect(segmentFiles(pdir)).toEqual(['00000000000000000050.log']);
    expect(await s.offsets(idOf(t), 0)).toEqual({
      logStartOffset: 50,
      highWatermark: 50,
      lastStableOffset: 50,
    });
    expect((await s.append(idOf(t), 0, appendInput(makeBatch(1)))).baseOffset).toBe(50);
    expect(await s.sizeInBytes(idOf(t), 0)).toBe(makeBatch(1).length);
  });

  it("removes a deleted topic's files and lets the name be created again", async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir });
    const t = makeTopic('gone', 3);
    await s.createTopic(t);
    await s.append(idOf(t), 1, appendInput(makeBatch(3)));
    expect(existsSync(join(dir, 'gone-2'))).toBe(true);
    expect(await s.deleteTopic(idOf(t))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('gone'))).toEqual([]);
    expect(readdirSync(join(dir, TOPICS_DIR))).toEqual([]);
    const again = makeTopic('gone', 1);
    expect(await s.createTopic(again)).toBe(true);
    expect(await s.offsets(idOf(again), 0)).toEqual({
      logStartOffset: 0,
      highWatermark: 0,
      lastStableOffset: 0,
    });
  });

  it('removes partition directories left by an interrupted create or delete on open', async () => {
    const dir = tempDir();
    const logger = recordingLogger();
    const s = await start({ dataDir: dir });
    const keep = makeTopic('keep');
    await s.createTopic(keep);
    await s.close();
    open.pop();
    mkdirSync(join(dir, 'orphan-0'));
    writeFileSync(
      join(dir, 'orphan-0', 'partition.metadata'),
      'version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n',
    );
    mkdirSync(join(dir, 'old-0.AAAAAAAAAAAAAAAAAAAAAA-delete'));
    await start({ dataDir: dir, logger });
    expect(readdirSync(dir).sort()).toEqual(['.lock', 'keep-0', TOPICS_DIR].sort());
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('lets one process at a time open a data directory', async () => {
    const dir = tempDir();
    const first = await start({ dataDir: dir });
    const second = new FileStorage({ dataDir: dir, flush: { mode: 'always' } });
    await expect(second.open()).rejects.toThrow(new RegExp(`data directory ${dir} is already open`));
    await first.close();
    open.pop();
    // A lock left by a live process (our parent) is refused, naming the directory and the pid.
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    await expect(new FileStorage({ dataDir: dir, flush: { mode: 'always' } }).open()).rejects.toThrow(
      new RegExp(`data directory ${dir} is in use by process ${process.ppid}`),
    );
    // A lock left by a dead process is taken over.
    writeFileSync(join(dir, LOCK_FILE), '999999999\n');
    const logger = recordingLogger();
    await start({ dataDir: dir, logger });
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    expect(logger.lines.some((l) => l.msg?.includes('stale'))).toBe(true);
  });

  it('shares one fdatasync among the appends waiting at the same moment (flush=always)', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir });
    const t = makeTopic('group');
    await s.createTopic(t);
    await s.append(idOf(t), 0, appendInput(makeBatch(1)));
    const { open: openFile } = await import('node:fs/promises');
    const probe = await openFile(join(dir, 'group-0', '00000000000000000000.log'), 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const spy = vi.spyOn(proto, 'datasync');
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, () => s.append(idOf(t), 0, appendInput(makeBatch(2)))),
      );
      expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 200 }, (_, i) => 1 + 2 * i));
      expect(spy.mock.calls.length).toBeGreaterThan(0);
      expect(spy.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      spy.mockRestore();
    }
  });

  it('acknowledges an append and moves the high watermark only after its fdatasync ends (flush=always)', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir });
    const t = makeTopic('durable');
    await s.createTopic(t);
    await s.append(idOf(t), 0, appendInput(makeBatch(1)));
    const { open: openFile } = await import('node:fs/promises');
    const probe = await openFile(join(dir, 'durable-0', '00000000000000000000.log'), 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const realSync = proto.datasync;
    const held: (() => void)[] = [];
    const spy = vi.spyOn(proto, 'datasync').mockImplementation(function (this: unknown) {
      return new Promise<void>((resolve, reject) => {
        held.push(() => realSync.call(this).then(resolve, reject));
      });
    });
    try {
      let acknowledged = 0;
      const first = s.append(idOf(t), 0, appendInput(makeBatch(2))).then(() => acknowledged++);
      await vi.waitFor(() => expect(held).toHaveLength(1));
      // Appends arriving while the sync runs wait for a sync of their own.
      const second = s.append(idOf(t), 0, appendInput(makeBatch(2))).then(() => acknowledged++);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(acknowledged).toBe(0);
      expect(await s.offsets(idOf(t), 0)).toEqual({
        logStartOffset: 0,
        highWatermark: 1,
        lastStableOffset: 1,
      });
      held.shift()!();
      await first;
      expect(acknowledged).toBe(1);
      expect((await s.offsets(idOf(t), 0)).highWatermark).toBe(3);
      await vi.waitFor(() => expect(held).toHaveLength(1));
      expect(acknowledged).toBe(1);
      held.shift()!();
      await second;
      expect((await s.offsets(idOf(t), 0)).highWatermark).toBe(5);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
      for (const release of held) release();
    }
  });

  it('with flush=interval, acknowledges without syncing and syncs on the clock', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const s = await start({ dataDir: dir, clock, flush: { mode: 'interval', intervalMs: 1_000 } });
    const t = makeTopic('lazy');
    await s.createTopic(t);
    const { open: openFile } = await import('node:fs/promises');
    const probe = await openFile(join(dir, 'lazy-0', '00000000000000000000.log'), 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const spy = vi.spyOn(proto, 'datasync');
    try {
      for (let i = 0; i < 10; i++) await s.append(idOf(t), 0, appendInput(makeBatch(2)));
      expect(spy).not.toHaveBeenCalled();
      clock.advance(1_000);
      await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(1));
    } finally {
      spy.mockRestore();
    }
  });

  it('serves the tail from memory and older data from the file', async () => {
    const dir = tempDir();
    const batch = makeBatch(10, 1_000, 100);
    const s = await start({ dataDir: dir, hotTailBytes: batch.length * 3 });
    const t = makeTopic('hot');
    await s.createTopic(t);
    for (let i = 0; i < 6; i++) await s.append(idOf(t), 0, appendInput(makeBatch(10, 1_000, 100)));
    // Zero the file behind the adapter's back: the last three batches still read from memory.
    const path = join(dir, 'hot-0', '00000000000000000000.log');
    writeFileSync(path, Buffer.alloc(statSync(path).size));
    const tail = await s.read(idOf(t), 0, { offset: 35, maxBytes: 1 << 20, minOneBatch: true });
    expect(tail.batches.map((b) => Number(readRecordBatchHeader(b).baseOffset))).toEqual([30, 40, 50]);
    for (const b of tail.batches) expect(() => validateRecordBatch(b)).not.toThrow();
    const old = await s.read(idOf(t), 0, { offset: 0, maxBytes: 1 << 20, minOneBatch: true });
    expect(old.batches).toEqual([]);
  });

  it('describes its log directory with the volume sizes', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir });
    const d = await s.describeLogDir();
    expect(d.path).toBe(dir);
    expect(d.totalBytes).toBeGreaterThan(0);
    expect(d.usableBytes).toBeGreaterThan(0);
    expect(d.usableBytes).toBeLessThanOrEqual(d.totalBytes);
  });
});
