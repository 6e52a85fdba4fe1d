// The crash test's parent side, shared by the vitest suite (a few cycles) and
// `pnpm --filter @tributary/storage-file crash-test --cycles N` (many).
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  iterateRecords,
  parseEndTxnMarker,
  readRecordBatchHeader,
  validateRecordBatch,
} from '@tributary/codec/records';
import type { AbortedTransaction, PartitionOffsets, StorageAdapter } from '@tributary/core/storage';
import { FileStorage, type StorageLogger } from '../src/index.js';
import { producerBatch } from './crash-batches.js';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE_DIR = join(here, '..');
const PARTITIONS = 3;

interface StoredBatch {
  readonly base: number;
  readonly last: number;
  readonly producerId: number;
  readonly sequence: number;
  readonly transactional: boolean;
  /** A marker's type (true for COMMIT); null for data. */
  readonly commit: boolean | null;
}

function markerOf(batch: Buffer): boolean {
  const [record] = iterateRecords(batch);
  return parseEndTxnMarker(record!.key, record!.value).commit;
}

/**
 * Checks the reopened partition's producer state against its log: no producer sequence stored
 * twice, every producer's epoch and last sequence as its last stored batch says, the open
 * transactions (and so the last stable offset) and the aborted transactions read_committed reads
 * report, all as a replay of the log gives them.
 */
async function checkProducerState(
  storage: StorageAdapter,
  id: string,
  p: number,
  order: StoredBatch[],
  offsets: PartitionOffsets,
): Promise<void> {
  const seen = new Set<string>();
  const lastSequence = new Map<number, number>();
  const open = new Map<number, number>();
  const aborted: AbortedTransaction[] = [];
  for (const b of order) {
    if (b.producerId < 0) continue;
    if (b.commit !== null) {
      const first = open.get(b.producerId);
      if (first !== undefined && !b.commit)
        aborted.push({ producerId: b.producerId, firstOffset: first, lastOffset: b.base });
      open.delete(b.producerId);
      continue;
    }
    const key = `${b.producerId}:${b.sequence}`;
    if (seen.has(key))
      throw new Error(`partition ${p}: producer ${b.producerId} sequence ${b.sequence} is stored twice`);
    seen.add(key);
    lastSequence.set(b.producerId, b.sequence + (b.last - b.base));
    if (b.transactional && !open.has(b.producerId)) open.set(b.producerId, b.base);
  }
  const described = new Map((await storage.describeProducers!(id, p)).map((d) => [d.producerId, d]));
  for (const [producerId, last] of lastSequence) {
    const d = described.get(producerId);
    const txn = open.get(producerId) ?? -1;
    if (
      d === undefined ||
      d.producerEpoch !== 0 ||
      d.lastSequence !== last ||
      d.currentTxnStartOffset !== txn
    )
      throw new Error(
        `partition ${p}: producer ${producerId} restored as ${JSON.stringify(d)}, the log says last sequence ${last}, open transaction at ${txn}`,
      );
  }
  let lso = offsets.highWatermark;
  for (const first of open.values()) lso = Math.min(lso, first);
  lso = Math.max(lso, offsets.logStartOffset);
  if (offsets.lastStableOffset !== lso)
    throw new Error(`partition ${p}: last stable offset ${offsets.lastStableOffset}, the log says ${lso}`);
  // read_committed reads up to the LSO report every aborted transaction they overlap.
  const reported = new Map<number, AbortedTransaction>();
  let offset = offsets.logStartOffset;
  let lastReturned = -1;
  while (offset < lso) {
    const r = await storage.read(id, p, {
      offset,
      maxBytes: 1 << 20,
      minOneBatch: true,
      readCommitted: true,
    });
    if (r.batches.length === 0)
      throw new Error(`partition ${p}: read_committed returned nothing at ${offset}`);
    for (const t of r.abortedTransactions ?? []) reported.set(t.lastOffset, t);
    const last = r.batches[r.batches.length - 1]!;
    const h = readRecordBatchHeader(last);
    lastReturned = Number(h.baseOffset) + h.lastOffsetDelta;
    offset = lastReturned + 1;
  }
  const expected = aborted.filter(
    (t) => t.lastOffset >= offsets.logStartOffset && t.firstOffset <= lastReturned,
  );
  const got = [...reported.values()].sort((a, b) => a.lastOffset - b.lastOffset);
  if (JSON.stringify(got) !== JSON.stringify(expected))
    throw new Error(
      `partition ${p}: aborted transactions ${JSON.stringify(got)}, the log says ${JSON.stringify(expected)}`,
    );
}

export interface CycleResult {
  /** Appends the child printed as acknowledged before it was killed. */
  acknowledged: number;
  /** Of those, idempotent and transactional batches and markers. */
  fromProducers: number;
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

  const lines = out.slice(0, out.lastIndexOf('\n')).split('\n');
  const refused = lines.filter((l) => l.startsWith('E '));
  if (refused.length > 0)
    throw new Error(`the crash child's appends were refused: ${refused.slice(0, 3).join('; ')}`);
  const acks = lines.map((line) => {
    const [kind, ...fields] = line.split(' ');
    return { kind: kind!, f: fields.map(Number) };
  });

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
      const offsets = await storage.offsets(id, p);
      const { logStartOffset, highWatermark } = offsets;
      const stored = new Map<number, StoredBatch>();
      const order: StoredBatch[] = [];
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
          const batch: StoredBatch = {
            base,
            last: offset - 1,
            producerId: Number(h.producerId),
            sequence: h.baseSequence,
            transactional: h.transactional,
            commit: h.control ? markerOf(b) : null,
          };
          stored.set(base, batch);
          order.push(batch);
          batches++;
        }
      }
      for (const { kind, f } of acks) {
        if (f[0] !== p) continue;
        const at = kind === 'a' ? f[1]! : kind === 'm' ? f[3]! : f[4]!;
        const b = stored.get(at);
        const ok =
          b !== undefined &&
          (kind === 'a'
            ? b.last === f[2]
            : kind === 'm'
              ? b.commit === (f[2] === 1) && b.producerId === f[1]
              : b.producerId === f[1] && b.sequence === f[2] && b.last === at + f[3]! - 1);
        if (!ok)
          throw new Error(
            `partition ${p}: acknowledged ${kind} ${f.join(' ')} is missing or different (high watermark ${highWatermark})`,
          );
      }
      await checkProducerState(storage, id, p, order, offsets);
      // A producer retrying its last acknowledged batch after the restart gets its original offsets.
      const lastAcked = new Map<number, number[]>();
      for (const { kind, f } of acks) if (kind === 'i' && f[0] === p) lastAcked.set(f[1]!, f);
      for (const [producerId, f] of lastAcked) {
        const [, , sequence, count, base] = f as [number, number, number, number, number];
        const retry = await storage.append(id, p, {
          batch: producerBatch(producerId, sequence, count, false),
          lastOffsetDelta: count - 1,
          maxTimestamp: Date.now(),
          producerId,
          producerEpoch: 0,
          baseSequence: sequence,
          transactional: false,
        });
        if (retry.status !== 'duplicate' || retry.baseOffset !== base)
          throw new Error(
            `partition ${p}: a retry of producer ${producerId}'s batch ${sequence} at ${base} got ${JSON.stringify(retry)}`,
          );
      }
    }
  } finally {
    await storage.close();
  }
  const fromProducers = acks.filter((a) => a.kind !== 'a').length;
  return { acknowledged: acks.length, fromProducers, batches, truncations };
}
