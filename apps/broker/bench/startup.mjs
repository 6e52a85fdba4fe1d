// Start-up time and idle memory of the `tributary` command (bundled, as `pnpm start` runs it).
// Start-up: from spawn to the first successful TCP connect to the Kafka port. Idle RSS: resident
// memory 3 s after start with no clients. Run: pnpm --filter @tributary/broker run bench
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/tributary.js', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 15);
const PORT = 19_192;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function connectable(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function once(args) {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [BIN, ...args, '--port', String(PORT), '--admin-port', '-1', '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const deadline = t0 + 10_000;
  while (!(await connectable(PORT))) {
    if (performance.now() > deadline) throw new Error('did not start within 10 s');
    await sleep(2);
  }
  const startMs = performance.now() - t0;
  await sleep(3_000);
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { startMs, rssMb };
}

const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

const results = {};
for (const [name, mk] of [
  ['memory', () => ({ args: ['--memory'], cleanup: () => {} })],
  [
    'file (empty data dir)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tributary-startup-'));
      return { args: ['--data-dir', dir], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
]) {
  const start = [];
  const rss = [];
  for (let i = 0; i < RUNS; i++) {
    const { args, cleanup } = mk();
    try {
      const r = await once(args);
      start.push(r.startMs);
      rss.push(r.rssMb);
    } finally {
      cleanup();
    }
  }
  results[name] = {
    startMedianMs: pct(start, 50),
    startP90Ms: pct(start, 90),
    idleRssMedianMb: pct(rss, 50),
    idleRssMaxMb: Math.max(...rss),
  };
}
console.log(`tributary start-up and idle memory, ${RUNS} runs each, node ${process.version}`);
console.table(
  Object.fromEntries(
    Object.entries(results).map(([k, v]) => [
      k,
      {
        'start median (ms)': v.startMedianMs.toFixed(0),
        'start p90 (ms)': v.startP90Ms.toFixed(0),
        'idle RSS median (MB)': v.idleRssMedianMb.toFixed(1),
        'idle RSS max (MB)': v.idleRssMaxMb.toFixed(1),
      },
    ]),
  ),
);
