import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { StoredTopic } from '@tributary/core/storage';
import { appendInput, makeBatch, makeProducerBatch, makeTopic, markerInput } from '@tributary/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CLEAN_SHUTDOWN_FILE,
  FileStorage,
  type FileStorageOptions,
  PRODUCER_ID_FILE,
  SNAPSHOT_SUFFIX,
  snapshotFileName,
} from '../src/index.js';
import { recordingLogger, tempDir } from './helpers.js';

const idOf = (t: StoredTopic) => t.topicId.toString('base64url');
const open: FileStorage[] = [];

async function start(options: Partial<FileStorageOptions> & { dataDir: string }): Promise<FileStorage> {
  const s = new FileStorage({ flush: { mode: 'always' }, segmentBytes: 400, ...options });
  await s.open();
  open.push(s);
  return s;
}

async function stop(s: FileStorage): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const snapshots = (pdir: string): number[] =>
  readdirSync(pdir)
    .filter((n) => n.endsWith(SNAPSHOT_SUFFIX))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);

const segments = (pdir: string): string[] =>
  readdirSync(pdir)
    .filter((n) => n.endsWith('.log'))
    .sort();

/** A copy of the data directory taken while the storage is open: what a kill -9 leaves. */
function crashImage(dir: string): string {
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true });
  expect(existsSync(join(copy, CLEAN_SHUTDOWN_FILE))).toBe(false);
  return copy;
}

/** Everything a restart must bring back: producers, offsets, and the aborted transactions. */
async function stateOf(s: FileStorage, id: string) {
  const offsets = await s.offsets(id, 0);
  const read = await s.read(id, 0, {
    offset: offsets.logStartOffset,
    maxBytes: 1 << 20,
    minOneBatch: true,
    readCommitted: true,
  });
  const producers = (await s.describeProducers(id, 0)).sort((a, b) => a.producerId - b.producerId);
  return { offsets, producers, aborted: read.abortedTransactions, batches: read.batches.length };
}

/**
 * Idempotent, transactional (aborted, committed, still open) and plain batches over several small
 * segments, so that snapshots are written at rolls and batches follow the last one.
 */
async function mixedLog(s: FileStorage, t: StoredTopic): Promise<void> {
  const id = idOf(t);
  const ok = async (r: Promise<{ status?: string }>) => expect((await r).status).toBe('appended');
  for (let i = 0; i < 4; i++) {
    await ok(
      s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: i * 2, count: 2 }))),
    );
    await ok(s.append(id, 0, appendInput(makeBatch(2))));
  }
  await ok(s.append(id, 0, appendInput(makeProducerBatch({ producerId: 2, transactional: true, count: 3 }))));
  await ok(s.appendMarker(id, 0, markerInput({ producerId: 2, commit: false, coordinatorEpoch: 3 })));
  await ok(s.append(id, 0, appendInput(makeProducerBatch({ producerId: 3, transactional: true }))));
  await ok(s.append(id, 0, appendInput(makeProducerBatch({ producerId: 4, transactional: true, count: 2 }))));
  await ok(s.appendMarker(id, 0, markerInput({ producerId: 3, commit: true, coordinatorEpoch: 3 })));
  await ok(
    s.append(
      id,
      0,
      appendInput(
        makeProducerBatch({ producerId: 2, producerEpoch: 0, baseSequence: 3, transactional: true }),
      ),
    ),
  );
  await ok(s.appendMarker(id, 0, markerInput({ producerId: 2, commit: false, coordinatorEpoch: 3 })));
  await ok(s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 8, count: 2 }))));
}

describe('producer state across restarts', () => {
  it('restores producers, the open transaction and the aborted transactions from the snapshot written at a clean close', async () => {
    const dir = tempDir();
    let s = await start({ dataDir: dir });
    const t = makeTopic('clean');
    await s.createTopic(t);
    const id = idOf(t);
    await mixedLog(s, t);
    const before = await stateOf(s, id);
    expect(before.offsets).toEqual({ logStartOffset: 0, highWatermark: 28, lastStableOffset: 21 });
    expect(before.aborted).toEqual([{ producerId: 2, firstOffset: 16, lastOffset: 19 }]);
    await stop(s);
    const pdir = join(dir, 'clean-0');
    expect(snapshots(pdir).at(-1)).toBe(28);
    s = await start({ dataDir: dir });
    expect(await stateOf(s, id)).toEqual(before);
    // A retry of the producer's last batch is acknowledged with its original offsets.
    expect(
      await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 8, count: 2 }))),
    ).toMatchObject({ status: 'duplicate', baseOffset: 26, lastOffset: 27 });
    expect(
      (await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 11 })))).status,
    ).toBe('out-of-order-sequence');
    expect(
      (await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 10 })))).status,
    ).toBe('appended');
    // The open transaction goes on after the restart, and its abort lands in the index.
    expect((await s.appendMarker(id, 0, markerInput({ producerId: 4, commit: false }))).status).toBe(
      'appended',
    );
    const after = await stateOf(s, id);
    expect(after.offsets).toEqual({ logStartOffset: 0, highWatermark: 30, lastStableOffset: 30 });
    expect(after.aborted).toEqual([
      { producerId: 2, firstOffset: 16, lastOffset: 19 },
      { producerId: 2, firstOffset: 24, lastOffset: 25 },
      { producerId: 4, firstOffset: 21, lastOffset: 29 },
    ]);
  });

  it('rebuilds the same state after a crash from the last roll snapshot and the batches after it', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir });
    const t = makeTopic('crashy');
    await s.createTopic(t);
    const id = idOf(t);
    await mixedLog(s, t);
    await s.flushAll();
    const before = await stateOf(s, id);
    const copy = crashImage(dir);
    const pdir = join(copy, 'crashy-0');
    const taken = snapshots(pdir);
    // Rolls left snapshots, none at the log end: the open has batches to replay.
    expect(taken.length).toBeGreaterThan(0);
    expect(taken.at(-1)).toBeLessThan(28);
    expect(segments(pdir).length).toBeGreaterThan(2);
    const again = await start({ dataDir: copy });
    expect(await stateOf(again, id)).toEqual(before);
    expect(
      await again.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 6, count: 2 }))),
    ).toMatchObject({ status: 'duplicate', baseOffset: 12, lastOffset: 13 });
    // The coordinator epoch of producer 2's markers was restored: an older coordinator is fenced.
    expect(
      (await again.appendMarker(id, 0, markerInput({ producerId: 2, commit: true, coordinatorEpoch: 2 })))
        .status,
    ).toBe('coordinator-fenced');
  });

  it('writes no snapshot at close for a partition without producer state, and a clean open replays nothing', async () => {
    const dir = tempDir();
    let s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    const t = makeTopic('plain', 2);
    await s.createTopic(t);
    const id = idOf(t);
    await s.append(id, 0, appendInput(makeBatch(3)));
    await s.append(id, 1, appendInput(makeProducerBatch({ producerId: 4 })));
    await stop(s);
    expect(snapshots(join(dir, 'plain-0'))).toEqual([]);
    expect(snapshots(join(dir, 'plain-1'))).toEqual([1]);
    // A clean open trusts that a partition without a snapshot at its log end had no producer
    // state: with partition 1's removed, it does not replay the log to find producer 4.
    rmSync(join(dir, 'plain-1', snapshotFileName(1)));
    s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    expect(await s.describeProducers(id, 0)).toEqual([]);
    expect(await s.describeProducers(id, 1)).toEqual([]);
  });

  it('rebuilds it from the whole log when no snapshot is readable, warning about the corrupt one', async () => {
    const dir = tempDir();
    let s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    const t = makeTopic('corrupt');
    await s.createTopic(t);
    const id = idOf(t);
    await mixedLog(s, t);
    const before = await stateOf(s, id);
    await stop(s);
    const pdir = join(dir, 'corrupt-0');
    expect(snapshots(pdir)).toEqual([28]);
    const file = join(pdir, snapshotFileName(28));
    const bytes = readFileSync(file);
    bytes[bytes.length - 3]! ^= 0xff;
    writeFileSync(file, bytes);
    const logger = recordingLogger();
    s = await start({ dataDir: dir, segmentBytes: 1_000_000, logger });
    expect(await stateOf(s, id)).toEqual(before);
    expect(
      logger.lines.find((l) => l.msg === 'ignoring an unreadable producer-state snapshot')?.obj,
    ).toMatchObject({
      problem: 'CRC mismatch',
    });
  });

  it('deletes snapshots past the log end a crash recovered and reopens a transaction whose marker was torn', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    const t = makeTopic('torn');
    await s.createTopic(t);
    const id = idOf(t);
    await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 7, transactional: true, count: 2 })));
    await s.append(id, 0, appendInput(makeBatch(1)));
    await s.appendMarker(id, 0, markerInput({ producerId: 7, commit: false, coordinatorEpoch: 1 }));
    expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 4, lastStableOffset: 4 });
    await stop(s);
    const pdir = join(dir, 'torn-0');
    expect(snapshots(pdir)).toEqual([4]);
    // What a power failure can leave: the marker's last bytes never reached the disk, the
    // snapshot written after it did.
    const log = join(pdir, snapshotFileName(0).replace(SNAPSHOT_SUFFIX, '.log'));
    truncateSync(log, statSync(log).size - 5);
    rmSync(join(dir, CLEAN_SHUTDOWN_FILE));
    const logger = recordingLogger();
    const again = await start({ dataDir: dir, segmentBytes: 1_000_000, logger });
    expect(
      logger.lines.some((l) => l.msg === 'removed producer-state snapshots past the recovered log end'),
    ).toBe(true);
    expect(snapshots(pdir)).toEqual([]);
    expect(await again.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 3, lastStableOffset: 0 });
    const [producer] = await again.describeProducers(id, 0);
    expect(producer).toMatchObject({ producerId: 7, currentTxnStartOffset: 0, coordinatorEpoch: -1 });
    const uncommitted = await again.read(id, 0, {
      offset: 0,
      maxBytes: 1 << 20,
      minOneBatch: true,
      readCommitted: true,
    });
    expect(uncommitted).toMatchObject({ batches: [], abortedTransactions: [] });
    // The coordinator writes the marker again.
    await again.appendMarker(id, 0, markerInput({ producerId: 7, commit: false, coordinatorEpoch: 1 }));
    const read = await again.read(id, 0, {
      offset: 0,
      maxBytes: 1 << 20,
      minOneBatch: true,
      readCommitted: true,
    });
    expect(read.abortedTransactions).toEqual([{ producerId: 7, firstOffset: 0, lastOffset: 3 }]);
  });

  it('keeps the aborted transactions across restarts and crashes, dropping those below the log start offset', async () => {
    const dir = tempDir();
    let s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    const t = makeTopic('aborted');
    await s.createTopic(t);
    const id = idOf(t);
    for (const producerId of [1, 2, 3]) {
      await s.append(id, 0, appendInput(makeProducerBatch({ producerId, transactional: true })));
      await s.appendMarker(id, 0, markerInput({ producerId, commit: false }));
    }
    const all = [
      { producerId: 1, firstOffset: 0, lastOffset: 1 },
      { producerId: 2, firstOffset: 2, lastOffset: 3 },
      { producerId: 3, firstOffset: 4, lastOffset: 5 },
    ];
    expect((await stateOf(s, id)).aborted).toEqual(all);
    await s.deleteRecordsBefore(id, 0, 2);
    const kept = all.slice(1);
    expect((await stateOf(s, id)).aborted).toEqual(kept);
    await s.flushAll();
    const crashed = crashImage(dir);
    await stop(s);
    s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    expect((await stateOf(s, id)).aborted).toEqual(kept);
    const c = await start({ dataDir: crashed, segmentBytes: 1_000_000 });
    expect((await stateOf(c, id)).aborted).toEqual(kept);
    // The producers whose batches went stay until they expire, as in Kafka.
    expect((await c.describeProducers(id, 0)).map((p) => p.producerId).sort()).toEqual([1, 2, 3]);
  });

  it('keeps producers of segments that retention deleted, across a restart', async () => {
    const dir = tempDir();
    let s = await start({ dataDir: dir, segmentBytes: 14 });
    const t = makeTopic('retained');
    await s.createTopic(t);
    const id = idOf(t);
    await s.append(
      id,
      0,
      appendInput(makeProducerBatch({ producerId: 5, baseSequence: 0, timestamp: 1_000 })),
    );
    await s.append(
      id,
      0,
      appendInput(makeProducerBatch({ producerId: 6, transactional: true, timestamp: 1_000 })),
    );
    expect(await s.applyRetention(id, 0, { retentionMs: 10, retentionBytes: -1, now: 1_000_000 })).toBe(2);
    // The open transaction's first offset went with its segment: the LSO is the log start offset.
    expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 2, highWatermark: 2, lastStableOffset: 2 });
    await stop(s);
    s = await start({ dataDir: dir, segmentBytes: 14 });
    expect((await s.describeProducers(id, 0)).map((p) => [p.producerId, p.currentTxnStartOffset])).toEqual([
      [5, -1],
      [6, 1],
    ]);
    expect(
      await s.append(
        id,
        0,
        appendInput(makeProducerBatch({ producerId: 5, baseSequence: 0, timestamp: 1_000 })),
      ),
    ).toMatchObject({ status: 'duplicate', baseOffset: 0 });
  });
});

describe('producer state and the write pipeline', () => {
  it('forgets the producer state of a failed write along with its offsets', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir, segmentBytes: 1_000_000 });
    const t = makeTopic('failing');
    await s.createTopic(t);
    const id = idOf(t);
    await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 0, count: 2 })));
    const { open: openFile } = await import('node:fs/promises');
    const probe = await openFile(
      join(dir, 'failing-0', snapshotFileName(0).replace(SNAPSHOT_SUFFIX, '.log')),
      'r',
    );
    const proto = Object.getPrototypeOf(probe) as { writev: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const spy = vi
      .spyOn(proto, 'writev')
      .mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    let results: PromiseSettledResult<unknown>[];
    try {
      const first = s.append(
        id,
        0,
        appendInput(makeProducerBatch({ producerId: 1, baseSequence: 2, count: 2 })),
      );
      const second = s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 4 })));
      // A retry of `first` while it is in flight waits for it, and fails with it.
      const retry = s.append(
        id,
        0,
        appendInput(makeProducerBatch({ producerId: 1, baseSequence: 2, count: 2 })),
      );
      const marker = s.append(id, 0, appendInput(makeProducerBatch({ producerId: 9, transactional: true })));
      results = await Promise.allSettled([first, second, retry, marker]);
    } finally {
      spy.mockRestore();
    }
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 2, lastStableOffset: 2 });
    expect((await s.describeProducers(id, 0)).map((p) => [p.producerId, p.lastSequence])).toEqual([[1, 1]]);
    // The producer's retry is a new batch again, at the offsets handed back.
    expect(
      await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, baseSequence: 2, count: 2 }))),
    ).toMatchObject({ status: 'appended', baseOffset: 2 });
  });

  it('acknowledges a retry of a batch in flight with its offsets once the original is durable', async () => {
    const s = await start({ dataDir: tempDir() });
    const t = makeTopic('retry');
    await s.createTopic(t);
    const id = idOf(t);
    await s.append(id, 0, appendInput(makeBatch(3)));
    const original = s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, count: 2 })));
    const retry = s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, count: 2 })));
    let retried = false;
    void retry.then(() => {
      retried = true;
    });
    await Promise.resolve();
    expect(retried).toBe(false);
    expect(await original).toMatchObject({ status: 'appended', baseOffset: 3 });
    expect(await retry).toMatchObject({ status: 'duplicate', baseOffset: 3, lastOffset: 4 });
    expect((await s.offsets(id, 0)).highWatermark).toBe(5);
  });

  it('moves the last stable offset only once a marker is durable, never past the high watermark', async () => {
    const s = await start({ dataDir: tempDir() });
    const t = makeTopic('lso');
    await s.createTopic(t);
    const id = idOf(t);
    await s.append(id, 0, appendInput(makeBatch(2)));
    await s.append(id, 0, appendInput(makeProducerBatch({ producerId: 1, transactional: true, count: 2 })));
    const data = s.append(id, 0, appendInput(makeProducerBatch({ producerId: 2, transactional: true })));
    // Offsets are asked for in the same turn as the appends: nothing is synced yet.
    expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 4, lastStableOffset: 2 });
    await data;
    const commit = s.appendMarker(id, 0, markerInput({ producerId: 1, commit: true }));
    const pending = await s.offsets(id, 0);
    expect(pending).toEqual({ logStartOffset: 0, highWatermark: 5, lastStableOffset: 2 });
    const read = await s.read(id, 0, {
      offset: 2,
      maxBytes: 1 << 20,
      minOneBatch: true,
      readCommitted: true,
    });
    expect(read.batches).toEqual([]);
    await commit;
    expect(await s.offsets(id, 0)).toEqual({ logStartOffset: 0, highWatermark: 6, lastStableOffset: 4 });
  });
});

describe('producer id blocks', () => {
  it('persists the high mark before handing a block out, so no id is handed out twice after a crash', async () => {
    const dir = tempDir();
    const s = await start({ dataDir: dir });
    expect(await s.allocateProducerIds(1000)).toBe(0);
    expect(await s.allocateProducerIds(10)).toBe(1000);
    expect(readFileSync(join(dir, PRODUCER_ID_FILE), 'utf8')).toBe('version: 1\nnext_producer_id: 1010\n');
    const crashed = await start({ dataDir: crashImage(dir) });
    expect(await crashed.allocateProducerIds(5)).toBe(1010);
    await expect(s.allocateProducerIds(0)).rejects.toThrow(RangeError);
  });

  it('names the file when the high mark is corrupt', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, PRODUCER_ID_FILE), 'next: x\n');
    await expect(start({ dataDir: dir })).rejects.toThrow(PRODUCER_ID_FILE);
  });
});
