// pnpm --filter @tributary/storage-file crash-test [--cycles 50] [--max-delay-ms 300] [--dir PATH]
// Repeats the crash cycle of test/crash.test.ts on one data directory: a child appends with
// flush=always and is SIGKILLed at a random moment; the reopened log must hold every acknowledged
// batch, pass every CRC and have contiguous offsets, and its producer state (sequences, open and
// aborted transactions, the LSO, retries answered with their original offsets) must match the log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crashCycle } from '../test/crash-harness.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '50' },
    'max-delay-ms': { type: 'string', default: '300' },
    dir: { type: 'string' },
  },
});
const cycles = Number(values.cycles);
const maxDelay = Number(values['max-delay-ms']);
if (!Number.isInteger(cycles) || cycles < 1) throw new Error('--cycles must be a positive integer');
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'tributary-crash-'));
let acknowledged = 0;
let truncations = 0;
const started = Date.now();
try {
  for (let i = 1; i <= cycles; i++) {
    const r = await crashCycle(dir, maxDelay);
    acknowledged += r.acknowledged;
    truncations += r.truncations;
    console.log(
      `cycle ${i}/${cycles}: ${r.acknowledged} acknowledged (${r.fromProducers} idempotent/transactional), ${r.batches} batches in the log, ${r.truncations} tail truncations`,
    );
  }
  console.log(
    `ok: ${cycles} cycles, ${acknowledged} acknowledged batches all present, ${truncations} torn tails truncated, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
} finally {
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}
