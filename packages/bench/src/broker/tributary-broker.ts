// The Tributary broker under load in `pnpm bench:broker` and `pnpm bench:groups`, in its own
// process: in-memory storage (or, with `--file-storage DIR`, file storage in DIR with
// flush=always), 127.0.0.1, a free port, and broker settings from an optional JSON argument
// (`{"groupInitialRebalanceDelayMs":0}`). Prints one line
// `{"bootstrap":"127.0.0.1:PORT","pid":N}` once it listens, and closes the broker when stdin
// closes or on SIGTERM/SIGINT. `--broker-cmd` (or `--broker cli` for the `tributary` command)
// swaps in any command that keeps the same contract.
//
// Lines on stdin drive V8's CPU profiler, so a profile covers one scenario and not the filling
// before it: `profile-start`, then `profile-stop PATH` writes a .cpuprofile to PATH.
// They also read the broker's own request times (read to written, by API), which tell a client's
// latency apart from the broker's: `timings-reset`, then `timings` prints
// `{"timings":{"Produce":{"count":N,"p50Ms":..,"p99Ms":..,"maxMs":..},...}}`.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type CreateBrokerOptions, createBroker } from '@tributary/server';
import { FileStorage } from '@tributary/storage-file';
import { MemoryStorage } from '@tributary/storage-memory';
import { type LatencySummary, summarizeMicros } from './stats.js';

/** Request durations in microseconds by API, at most this many kept per API between resets. */
const MAX_SAMPLES = 1_000_000;
let durations = new Map<string, number[]>();
const metrics: NonNullable<CreateBrokerOptions['metrics']> = {
  increment() {},
  set() {},
  observe(name, value, labels) {
    if (name !== 'tributary_request_duration_seconds' || typeof labels?.api !== 'string') return;
    let list = durations.get(labels.api);
    if (list === undefined) {
      list = [];
      durations.set(labels.api, list);
    }
    if (list.length < MAX_SAMPLES) list.push(value * 1e6);
  },
};

function timings(): Record<string, LatencySummary> {
  const out: Record<string, LatencySummary> = {};
  for (const [api, list] of durations) out[api] = summarizeMicros(list);
  return out;
}

const { values: options, positionals } = parseArgs({
  options: { 'file-storage': { type: 'string' } },
  allowPositionals: true,
});
const config = JSON.parse(positionals[0] ?? '{}') as NonNullable<CreateBrokerOptions['config']>;
const dataDir = options['file-storage'];
const broker = await createBroker({
  // flush=always: every append, marker and coordinator record is fdatasync'ed before it counts.
  storage: dataDir ? new FileStorage({ dataDir, flush: { mode: 'always' } }) : new MemoryStorage(),
  host: '127.0.0.1',
  port: 0,
  config,
  metrics,
});
process.stdout.write(`${JSON.stringify({ bootstrap: broker.bootstrap, pid: process.pid })}\n`);

let session: Session | null = null;

async function onCommand(line: string): Promise<void> {
  const [command, path] = line.trim().split(/\s+/, 2);
  if (command === 'profile-start' && session === null) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
  } else if (command === 'timings-reset') {
    durations = new Map();
  } else if (command === 'timings') {
    process.stdout.write(`${JSON.stringify({ timings: timings() })}\n`);
  } else if (command === 'profile-stop' && session !== null && path) {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    session = null;
    writeFileSync(path, JSON.stringify(profile));
  }
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await broker.close({ drainTimeoutMs: 2000 }).catch(() => {});
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  onCommand(line).catch((e: unknown) => process.stderr.write(`profiler: ${String(e)}\n`));
});
lines.on('close', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
