// The crash test's parent side, shared by the vitest suite (a few cycles) and
// `pnpm --filter @tributary/storage-file crash-test --cycles N` (many).
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecordBatchHeader, validateRecordBatch } from '@tributary/codec/records';
import { FileStorage, type StorageLogger } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE_DIR = join(here, '..');
const PARTITIONS = 3;

export interface CycleResult {
  /** Appends the child printed as acknowledged before it was killed. */
  acknowledged: number;
  /** Batches found in the reopened log. */
  batches: number;
  /** Log segments whose tail the reopen truncated. */
  truncations: number;
}

function startChild(dataDir: string): ChildProcess {
  return spawn(
    process.execPath,
    ['--conditions=@tributary/source', '--import', 'tsx', join(here, 'crash-child.ts'), dataDir],
    { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/**
 * One cycle: start the child on `dataDir`, let it acknowledge appends, SIGKILL it after a random
 * delay, reopen the directory and check that every acknowledged batch is there, every batch passes
 * its CRC and offsets are contiguous from the log start to the high watermark.
 */
export async function crashCycle(dataDir: string, maxDelayMs = 300): Promise<CycleResult> {
  const child = startChild(dataDir);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait for the first acknowledgement (bounded), then a random moment more.
  const firstAck = Date.now() + 30_000;
  while (!out.includes('\n')) {
    if (child.exitCode !== null || Date.now() > firstAck) {
      child.kill('SIGKILL');
      throw new Error(`crash child acknowledged nothing (exit ${child.exitCode}): ${err}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, Math.random() * maxDelayMs));
  child.kill('SIGKILL');
  await exited;

  const acks = out
    .slice(0, out.lastIndexOf('\n'))
    .split('\n')
    .map((line) => line.split(' ').map(Number) as [number, number, number]);

  let truncations = 0;
  const logger: StorageLogger = {
    info: () => {},
    warn: (obj: object | string, msg?: string) => {
      if ((typeof obj === 'string' ? obj : msg)?.includes('truncated')) truncations++;
    },
    error: () => {},
  };
  const storage = new FileStorage({ dataDir, flush: { mode: 'always' }, logger });
  await storage.open();
  let batches = 0;
  try {
    const [topic] = await storage.listTopics();
    if (topic === undefined) throw new Error('the crash topic is missing after reopen');
    const id = topic.topicId.toString('base64url');
    for (let p = 0; p < PARTITIONS; p++) {
      const { logStartOffset, highWatermark } = await storage.offsets(id, p);
      const stored = new Map<number, number>();
      let offset = logStartOffset;
      while (offset < highWatermark) {
        const r = await storage.read(id, p, { offset, maxBytes: 1 << 20, minOneBatch: true });
        if (r.batches.length === 0)
          throw new Error(`partition ${p}: no batch at ${offset} below ${highWatermark}`);
        for (const b of r.batches) {
          validateRecordBatch(b);
          const h = readRecordBatchHeader(b);
          const base = Number(h.baseOffset);
          if (base !== offset) throw new Error(`partition ${p}: batch at ${base}, expected ${offset}`);
          offset = base + h.lastOffsetDelta + 1;
          stored.set(base, offset - 1);
          batches++;
        }
      }
      for (const [partition, base, last] of acks) {
        if (partition !== p) continue;
        if (stored.get(base) !== last)
          throw new Error(
            `partition ${p}: acknowledged batch ${base}..${last} is missing (high watermark ${highWatermark})`,
          );
      }
    }
  } finally {
    await storage.close();
  }
  return { acknowledged: acks.length, batches, truncations };
}
