// pnpm --filter @tributary/storage-file measure [--dir PATH] [--skip-restart]
// Quick figures for docs/storage-file.md, not a benchmark suite:
//   1. append throughput of 1,000-record batches (100-byte values) from concurrent appenders,
//      with flush=interval and with flush=always;
//   2. open time of a data directory with 1,000 partitions of ~1 MB each, after a clean close and
//      after a crash (no clean shutdown marker: every partition's tail segment is verified).
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRecordBatch } from '@tributary/codec/records';
import { CLEAN_SHUTDOWN_FILE, FileStorage, type FlushPolicy } from '../src/index.js';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, 'skip-restart': { type: 'boolean', default: false } },
});
const root = values.dir ?? mkdtempSync(join(tmpdir(), 'tributary-measure-'));

const RECORDS = 1_000;
const template = buildRecordBatch({
  records: Array.from({ length: RECORDS }, (_, i) => ({
    key: null,
    value: Buffer.alloc(100, i & 0xff),
    timestamp: Date.now(),
  })),
});

function topicId(n: number): Buffer {
  const id = Buffer.alloc(16);
  id.writeUInt32BE(n + 1, 12);
  return id;
}

async function appendThroughput(
  name: string,
  flush: FlushPolicy,
  partitions: number,
  appendersPerPartition: number,
): Promise<void> {
  const dir = join(root, name);
  const storage = new FileStorage({ dataDir: dir, flush });
  await storage.open();
  await storage.createTopic({ name: 'tp', topicId: topicId(0), partitionCount: partitions, configs: {} });
  const id = topicId(0).toString('base64url');
  // Bounded in count and time.
  const maxBatches = 3_000;
  const deadline = Date.now() + 10_000;
  let issued = 0;
  const started = process.hrtime.bigint();
  const appender = async (p: number): Promise<void> => {
    while (issued < maxBatches && Date.now() < deadline) {
      issued++;
      await storage.append(id, p, {
        batch: Buffer.from(template),
        lastOffsetDelta: RECORDS - 1,
        maxTimestamp: Date.now(),
      });
    }
  };
  const loops: Promise<void>[] = [];
  for (let p = 0; p < partitions; p++)
    for (let i = 0; i < appendersPerPartition; i++) loops.push(appender(p));
  await Promise.all(loops);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await storage.close();
  const bytes = issued * template.length;
  console.log(
    `${name}: ${partitions} partitions x ${appendersPerPartition} appenders, ${issued} batches of ${RECORDS} records (${template.length} B): ` +
      `${((issued * RECORDS) / seconds / 1e6).toFixed(2)} M records/s, ${(bytes / seconds / 1e6).toFixed(0)} MB/s, ` +
      `${(issued / seconds).toFixed(0)} appends/s`,
  );
  rmSync(dir, { recursive: true, force: true });
}

async function restartTime(): Promise<void> {
  const dir = join(root, 'restart');
  const partitionCount = 1_000;
  const perPartition = Math.ceil((1024 * 1024) / template.length);
  let storage = new FileStorage({ dataDir: dir, flush: { mode: 'interval', intervalMs: 1_000 } });
  await storage.open();
  const topics = 10;
  for (let t = 0; t < topics; t++)
    await storage.createTopic({
      name: `restart-${t}`,
      topicId: topicId(t),
      partitionCount: partitionCount / topics,
      configs: {},
    });
  for (let t = 0; t < topics; t++) {
    const id = topicId(t).toString('base64url');
    await Promise.all(
      Array.from({ length: partitionCount / topics }, async (_, p) => {
        for (let i = 0; i < perPartition; i++)
          await storage.append(id, p, {
            batch: Buffer.from(template),
            lastOffsetDelta: RECORDS - 1,
            maxTimestamp: Date.now(),
          });
      }),
    );
  }
  const closing = process.hrtime.bigint();
  await storage.close();
  console.log(
    `close (every partition synced, indexes written): ${(Number(process.hrtime.bigint() - closing) / 1e6).toFixed(0)} ms`,
  );
  const total = partitionCount * perPartition * template.length;
  const names = {
    clean: 'clean close',
    crash: 'crash (all tails verified)',
    replay: 'crash, no producer-state snapshot (all tails verified and replayed)',
  };
  for (const mode of ['clean', 'crash', 'replay'] as const) {
    if (mode !== 'clean') unlinkSync(join(dir, CLEAN_SHUTDOWN_FILE));
    // Without a snapshot at the log end, an open replays the log after the newest one (here,
    // with one segment per partition, the whole log): what a crash leaves before the first roll.
    if (mode === 'replay')
      for (const d of readdirSync(dir))
        if (d.startsWith('restart-'))
          for (const f of readdirSync(join(dir, d))) if (f.endsWith('.snapshot')) unlinkSync(join(dir, d, f));
    storage = new FileStorage({ dataDir: dir, flush: { mode: 'interval', intervalMs: 1_000 } });
    const started = process.hrtime.bigint();
    await storage.open();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(
      `open after a ${names[mode]}: ${partitionCount} partitions, ` +
        `${(total / 1024 / 1024).toFixed(0)} MiB: ${ms.toFixed(0)} ms`,
    );
    await storage.close();
  }
  rmSync(dir, { recursive: true, force: true });
}

try {
  await appendThroughput('interval-1', { mode: 'interval', intervalMs: 1_000 }, 1, 1);
  await appendThroughput('interval-4x4', { mode: 'interval', intervalMs: 1_000 }, 4, 4);
  await appendThroughput('always-1', { mode: 'always' }, 1, 1);
  await appendThroughput('always-1x16', { mode: 'always' }, 1, 16);
  await appendThroughput('always-4x4', { mode: 'always' }, 4, 4);
  if (!values['skip-restart']) await restartTime();
} finally {
  if (values.dir === undefined) rmSync(root, { recursive: true, force: true });
}
