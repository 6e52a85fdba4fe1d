// pnpm --filter @tributary/storage-file measure-compaction [--dir PATH] [--runs N]
// Figures for docs/storage-file.md, not a benchmark suite: one forced cleaning pass over a log of
// 100,000 records (100-byte random values) spread over 1,000 keys, in batches of 100 records, uncompressed
// and compressed. Reports the input rate (MB of segments read per second of the pass) and the
// reduction.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRecordBatch, CompressionType } from '@tributary/codec/records';
import { FileStorage, type StorageClock } from '../src/index.js';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, runs: { type: 'string', default: '3' } },
});
const root = values.dir ?? mkdtempSync(join(tmpdir(), 'tributary-compaction-'));
const runs = Number(values.runs);

const RECORDS = 100_000;
const KEYS = 1_000;
const PER_BATCH = 100;

/** A clock the script moves to roll the last segment, so that every record is cleanable. */
class StepClock implements StorageClock {
  time = Date.now();
  now(): number {
    return this.time;
  }
  monotonic(): number {
    return this.time;
  }
  schedule(): { cancel(): void } {
    return { cancel: () => {} };
  }
}

/** xorshift32, so every run writes the same keys. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

async function run(name: string, compression: number, n: number): Promise<void> {
  const dir = join(root, `${name}-${n}`);
  const clock = new StepClock();
  const storage = new FileStorage({
    dataDir: dir,
    flush: { mode: 'interval', intervalMs: 60_000 },
    cleanerEnabled: false,
    clock,
  });
  await storage.open();
  const topicId = Buffer.alloc(16, 1);
  await storage.createTopic({
    name: 'compacted',
    topicId,
    partitionCount: 1,
    configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(1024 * 1024), 'segment.ms': '1000' },
  });
  const id = topicId.toString('base64url');
  const next = random(12345);
  const value = Buffer.alloc(100, 0x61);
  // Two passes: the first one reads every segment; the second one finds the clean section small
  // and merges it.
  for (let b = 0; b < RECORDS / PER_BATCH; b++) {
    const batch = buildRecordBatch({
      compression,
      records: Array.from({ length: PER_BATCH }, () => ({
        key: Buffer.from(`key-${Math.floor(next() * KEYS)}`),
        value: randomBytes(100),
        timestamp: clock.time,
      })),
    });
    await storage.append(id, 0, { batch, lastOffsetDelta: PER_BATCH - 1, maxTimestamp: clock.time });
  }
  // Roll by age so that the last data segment is closed, then append one more batch.
  clock.time += 2000;
  const tail = buildRecordBatch({ records: [{ key: Buffer.from('tail'), value, timestamp: clock.time }] });
  await storage.append(id, 0, { batch: tail, lastOffsetDelta: 0, maxTimestamp: clock.time });
  await storage.flushAll();

  const started = process.hrtime.bigint();
  const result = await storage.compact(id, 0);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result === null) throw new Error('nothing was compacted');
  const mb = result.bytesBefore / 1e6;
  console.log(
    `${name.padEnd(5)} run ${n}: ${result.recordsBefore} -> ${result.recordsAfter} records, ` +
      `${mb.toFixed(1)} MB -> ${(result.bytesAfter / 1e6).toFixed(2)} MB ` +
      `(${((100 * result.bytesAfter) / result.bytesBefore).toFixed(1)} %), ` +
      `${result.segmentsBefore} -> ${result.segmentsAfter} segments, ` +
      `${(seconds * 1000).toFixed(0)} ms, ${(mb / seconds).toFixed(0)} MB/s of input, ` +
      `${(result.recordsBefore / seconds / 1e6).toFixed(2)} M records/s`,
  );
  const again = Date.now();
  const second = await storage.compact(id, 0);
  console.log(
    `      second pass: ${second?.segmentsBefore} -> ${second?.segmentsAfter} segments, ${Date.now() - again} ms`,
  );
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
}

try {
  for (const [name, compression] of [
    ['none', CompressionType.None],
    ['lz4', CompressionType.Lz4],
    ['zstd', CompressionType.Zstd],
  ] as const)
    for (let n = 1; n <= runs; n++) await run(name, compression, n);
} finally {
  if (values.dir === undefined) rmSync(root, { recursive: true, force: true });
}
