// pnpm --filter @tributary/storage-file measure-latency [--rate 1000] [--count 5000] [--passes 3]
//                                                        [--hot-tail-bytes N] [--dir PATH]
// Append latency of the adapter alone at a steady rate, as the broker's latency scenario loads it:
// one partition, one 1-record batch (100-byte value) per message at `rate` messages/s, each
// timed from the append call to its resolution, with flush=always (one fdatasync per round) and
// flush=interval. A reader follows the log end meanwhile, as a consumer at the tail does, and its
// reads are timed too, so the hot tail's worth shows beside a run without it (hot tail 0).
// A script, not a test: the figures depend on the disk and on the machine's load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRecordBatch, readRecordBatchHeader } from '@tributary/codec/records';
import { FileStorage, type FlushPolicy } from '../src/index.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    count: { type: 'string', default: '5000' },
    passes: { type: 'string', default: '3' },
    'hot-tail-bytes': { type: 'string' },
    dir: { type: 'string' },
  },
});
const rate = Number(values.rate);
const count = Number(values.count);
const passes = Number(values.passes);
if (!(rate > 0 && rate <= 100_000)) throw new Error('--rate must be in (0, 100000]');
if (!Number.isInteger(count) || count < 100 || count > 1_000_000)
  throw new Error('--count must be in [100, 1000000]');
if (!Number.isInteger(passes) || passes < 1 || passes > 20) throw new Error('--passes must be in [1, 20]');
const root = values.dir ?? mkdtempSync(join(tmpdir(), 'tributary-latency-'));

const template = buildRecordBatch({
  records: [{ key: null, value: Buffer.alloc(100, 0x61), timestamp: Date.now() }],
});
const topicId = Buffer.alloc(16, 0);
topicId[15] = 1;
const id = topicId.toString('base64url');

function summary(samples: number[]): string {
  const v = [...samples].sort((a, b) => a - b);
  if (v.length === 0) return 'no samples';
  const at = (p: number) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)]!;
  return `p50 ${at(0.5).toFixed(2)} / p99 ${at(0.99).toFixed(2)} / max ${v[v.length - 1]!.toFixed(2)} ms`;
}

async function run(label: string, flush: FlushPolicy, hotTailBytes: number): Promise<void> {
  const dir = mkdtempSync(join(root, 'run-'));
  const storage = new FileStorage({ dataDir: dir, flush, hotTailBytes });
  await storage.open();
  await storage.createTopic({ name: 'latency', topicId, partitionCount: 1, configs: {} });
  const appendMs: number[] = [];
  const readMs: number[] = [];
  let readBytes = 0;
  let acknowledged = 0;
  let waiting: (() => void) | null = null;
  // Bounded in count and in time: the run stops after count messages or twice their schedule.
  const deadline = performance.now() + (count / rate) * 2_000 + 10_000;
  const reader = (async () => {
    let offset = 0;
    while (offset < count && performance.now() < deadline) {
      if (acknowledged <= offset) {
        await new Promise<void>((r) => {
          waiting = r;
        });
        continue;
      }
      const started = performance.now();
      const r = await storage.read(id, 0, { offset, maxBytes: 1024 * 1024, minOneBatch: true });
      readMs.push(performance.now() - started);
      for (const b of r.batches) {
        readBytes += b.length;
        const h = readRecordBatchHeader(b);
        offset = Number(h.baseOffset) + h.lastOffsetDelta + 1;
      }
    }
  })();
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const due = Math.min(count, Math.floor(((performance.now() - began) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const started = performance.now();
        storage
          .append(id, 0, { batch: Buffer.from(template), lastOffsetDelta: 0, maxTimestamp: Date.now() })
          .then(
            () => {
              appendMs.push(performance.now() - started);
              acknowledged++;
              const w = waiting;
              waiting = null;
              w?.();
              if (acknowledged === count) done();
            },
            (e: unknown) => {
              console.error(`append failed: ${String(e)}`);
              process.exit(1);
            },
          );
      }
      if (sent < count && performance.now() < deadline) setTimeout(tick, 1);
      else if (sent < count) done();
    };
    tick();
  });
  const elapsed = performance.now() - began;
  await reader;
  const cpu = process.cpuUsage(cpuBefore);
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  const cpuPct = ((cpu.user + cpu.system) / 1000 / elapsed) * 100;
  console.log(
    `${label}: ${acknowledged} appends in ${(elapsed / 1000).toFixed(1)} s; append ${summary(appendMs)}; ` +
      `tail reads ${readMs.length} (${(readBytes / 1e6).toFixed(2)} MB) ${summary(readMs)}; CPU ${cpuPct.toFixed(0)} %`,
  );
}

const hotTail = values['hot-tail-bytes'] === undefined ? 1024 * 1024 : Number(values['hot-tail-bytes']);
try {
  for (let pass = 1; pass <= passes; pass++) {
    await run(`pass ${pass} always, hot tail ${hotTail}`, { mode: 'always' }, hotTail);
    await run(`pass ${pass} always, hot tail 0`, { mode: 'always' }, 0);
    await run(
      `pass ${pass} interval 1 s, hot tail ${hotTail}`,
      { mode: 'interval', intervalMs: 1_000 },
      hotTail,
    );
  }
} finally {
  if (values.dir === undefined) rmSync(root, { recursive: true, force: true });
}
