// The broker load benchmark: Tributary (in-memory storage) and librdkafka's mock cluster, each in
// its own process on 127.0.0.1, loaded by librdkafka's rdkafka_performance and by
// @platformatic/kafka, in one run, beside the Node loopback limit. Prints Markdown; asserts nothing.
//
//   pnpm bench:broker                        every scenario, both brokers, 3 passes (about 3 minutes)
//   pnpm bench:broker --quick                smaller counts, 1 pass, a smoke run
//   pnpm bench:broker --passes 5             more passes (each figure is the median pass's)
//   pnpm bench:broker --only tributary       one broker (tributary or mock)
//   pnpm bench:broker --scenario consume     scenarios whose name contains the text ("a|b": a or b)
//   pnpm bench:broker --json out.json        also save every figure (default bench-results/)
//   pnpm bench:broker --broker cli            the tributary command (apps/broker) from source,
//                                            --memory, instead of the createBroker launcher
//   pnpm bench:broker --file-storage         the launcher with file storage, flush=always, in a
//                                            fresh data directory per start (its own request
//                                            timings, which the tributary command does not give)
//   pnpm bench:broker --broker-cmd "CMD ARGS" any command printing {"bootstrap":"host:port"}
//                                            (or the tributary command's start line)
//   pnpm bench:broker --profile "consume 100 B 1p"
//                                            CPU profile of Tributary under the first scenario
//                                            named so; prints the top self time
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine } from '../machine.js';
import {
  defaultTributaryCommand,
  type RunningBroker,
  startMock,
  startTributary,
  tributaryCliCommand,
} from './brokers.js';
import { ensureNativeTools, type NativeTools, SetupError } from './native-tools.js';
import { medianPass, passRatio, type Spread } from './passes.js';
import type { PipelinedProducerJob, PipelinedProducerResult } from './pipelined-producer.js';
import type { PlatformaticProducerJob, PlatformaticProducerResult } from './platformatic-producer.js';
import { type CpuProfile, formatProfileSummary, summarizeProfile } from './profile-summary.js';
import { parseSummary, runTool } from './rdkafka-performance.js';
import {
  FULL,
  passOrder,
  QUICK,
  type Scenario,
  scenarios,
  startsFresh,
  TARGETS,
  type Target,
  topicsOf,
  verdict,
  withFills,
} from './scenarios.js';
import { type LatencySummary, loadAverage, parseLatencyFile, summarizeMicros } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..', '..');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    scenario: { type: 'string' },
    json: { type: 'string' },
    'broker-cmd': { type: 'string' },
    broker: { type: 'string', default: 'launcher' },
    'file-storage': { type: 'boolean', default: false },
    profile: { type: 'string' },
    'no-loopback': { type: 'boolean', default: false },
    passes: { type: 'string' },
  },
  allowPositionals: true,
});

const log = (s: string) => process.stderr.write(`# ${s}\n`);

export interface Row {
  broker: string;
  scenario: string;
  kind: Scenario['kind'];
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  /** Broker CPU (user + system) over the scenario, in percent of one core. */
  brokerCpuPct: number;
  brokerRssMiB: number;
  produceLatency?: LatencySummary;
  endToEndLatency?: LatencySummary;
  /** Latency scenarios: produce latency while the broker warms up (left out of produceLatency). */
  warmingProduceLatency?: LatencySummary;
  /** Produce requests timed inside the broker, read to response written (default launcher only). */
  brokerProduceLatency?: LatencySummary;
  /** EndTxn scenario, after its warm-up: the commit round trip as the client sees it. */
  commitLatency?: LatencySummary;
  /** EndTxn scenario, after its warm-up: a whole transaction (begin, send one record, commit). */
  transactionLatency?: LatencySummary;
  warmingCommitLatency?: LatencySummary;
  /** EndTxn scenario, after its warm-up: from EndTxn sent until read_committed shows the record. */
  markersVisibleLatency?: LatencySummary;
  /** EndTxn requests timed inside the broker over the whole run (default launcher only). */
  brokerEndTxnLatency?: LatencySummary;
  /**
   * Transactional scenarios (default launcher only): every request the broker served over the
   * run, by API. More AddPartitionsToTxn than transactions are retries after
   * CONCURRENT_TRANSACTIONS (the previous transaction still completing).
   */
  brokerRequests?: Record<string, LatencySummary>;
  /** Transactions the client completed. */
  transactions?: number;
  /** 1-minute load average when the scenario started. */
  load1: number;
  /** Which pass (from 1) the row comes from. */
  pass?: number;
  /** Over all passes, the range of the figure the kept pass was chosen by. */
  spread?: Spread;
  rankBy?: number;
  timedOut: boolean;
  note?: string;
}

interface Loopback {
  sinkMbPerSec: number;
  echo: LatencySummary;
}

// -- running scenarios --------------------------------------------------------------------------

const TOOL_TIMEOUT_MS = 60_000;

function producerArgs(s: Extract<Scenario, { kind: 'produce' }>, bootstrap: string): string[] {
  return [
    '-P',
    '-t',
    s.topic,
    ...(s.partitions === 1 ? ['-p', '0'] : []),
    '-b',
    bootstrap,
    '-s',
    String(s.size),
    '-c',
    String(s.messages),
    '-a',
    String(s.acks),
    // rdkafka_performance sets linger.ms=1000, which would hold the last partial batch for a
    // second; 5 ms is librdkafka's own default.
    '-X',
    'linger.ms=5',
    ...(s.idempotent ? ['-X', 'enable.idempotence=true'] : []),
    '-q',
  ];
}

/**
 * Reads the topic from the start. It stops at `expected` messages (what this run produced into the
 * topic) or at end-of-partition, whichever comes first (the mock cluster keeps only 5 MiB per
 * partition). A consumer learns of the end only from a fetch at the high watermark, which a broker
 * holds for fetch.wait.max.ms when no data comes, so that is 10 ms here instead of 500: it only
 * matters once the data runs out.
 */
function consumerArgs(
  topic: string,
  partitions: number,
  bootstrap: string,
  expected: number | undefined,
  isolation?: string,
): string[] {
  const p: string[] = [];
  for (let i = 0; i < partitions; i++) p.push('-p', String(i));
  const count = expected !== undefined ? ['-c', String(expected)] : [];
  return ['-C', '-t', topic, ...p, '-b', bootstrap, '-o', 'beginning', '-e', ...count].concat([
    '-X',
    'fetch.wait.max.ms=10',
    ...(isolation ? ['-X', `isolation.level=${isolation}`] : []),
    '-q',
  ]);
}

async function measured(
  broker: RunningBroker,
  run: () => Promise<{ elapsedMs: number } & Partial<Row>>,
): Promise<Omit<Row, 'broker' | 'scenario' | 'kind'>> {
  const load1 = loadAverage()[0];
  const cpuBefore = broker.cpuSeconds();
  const wallBefore = performance.now();
  const r = await run();
  const cpu = broker.cpuSeconds() - cpuBefore;
  const wallMs = performance.now() - wallBefore;
  // Over the tool's own measured interval where it has one; the tool's start-up and metadata
  // round trips cost the broker next to nothing.
  const spanMs = r.elapsedMs > 0 ? r.elapsedMs : wallMs;
  return {
    messages: 0,
    msgsPerSec: 0,
    mbPerSec: 0,
    timedOut: false,
    ...r,
    brokerCpuPct: Number.isNaN(r.msgsPerSec ?? 0) ? Number.NaN : (cpu * 100 * 1000) / spanMs,
    brokerRssMiB: broker.rssMiB(),
    load1,
  };
}

async function rdkafka(bin: string, toolArgs: string[]): Promise<{ elapsedMs: number } & Partial<Row>> {
  const r = await runTool(bin, toolArgs, TOOL_TIMEOUT_MS);
  const summary = parseSummary(r.output);
  if (!summary) {
    throw new Error(
      `rdkafka_performance ${toolArgs.join(' ')} printed no summary:\n${r.output.slice(-2000)}`,
    );
  }
  const failed = summary.failed > 0 ? `${summary.failed} failed deliveries` : '';
  return {
    messages: summary.messages,
    elapsedMs: summary.elapsedMs,
    msgsPerSec: summary.msgsPerSec,
    mbPerSec: summary.mbPerSec,
    timedOut: r.timedOut,
    ...(failed && { note: failed }),
  };
}

async function latency(
  tools: NativeTools,
  s: Extract<Scenario, { kind: 'latency' }>,
  bootstrap: string,
  dir: string,
): Promise<{ elapsedMs: number } & Partial<Row>> {
  const producerFile = join(dir, 'latency-produce.txt');
  const consumerFile = join(dir, 'latency-consume.txt');
  rmSync(producerFile, { force: true });
  rmSync(consumerFile, { force: true });
  const budget = (s.messages / s.rate) * 1000 + 20_000;
  const consumer = runTool(
    tools.rdkafkaPerformance,
    ['-C', '-t', s.topic, '-p', '0', '-b', bootstrap, '-o', 'beginning', '-c', String(s.messages)].concat([
      '-l',
      '-A',
      consumerFile,
      '-q',
    ]),
    budget,
  );
  // The consumer needs its metadata and first fetch in place before the first message is sent.
  await new Promise((r) => setTimeout(r, 1500));
  const producer = await runTool(
    tools.rdkafkaPerformance,
    ['-P', '-t', s.topic, '-p', '0', '-b', bootstrap, '-s', String(s.size), '-c', String(s.messages)].concat([
      '-a',
      String(s.acks),
      '-r',
      String(s.rate),
      '-l',
      '-A',
      producerFile,
      '-X',
      'linger.ms=0',
      '-q',
    ]),
    budget,
  );
  const consumed = await consumer;
  // The producer stamps each message when it is queued, and it starts queueing before it has a
  // connection to the leader: the first messages wait out its start-up (tens of ms, hundreds on a
  // busy machine), which would set the p99 by itself. Then for about 3 s the broker's code for
  // this traffic is still being compiled. The figures are of the messages after that; the seconds
  // between the clients' start-up and then are reported apart.
  const startup = Math.min(s.rate, Math.floor(s.messages / 4));
  const warmup = Math.max(startup, Math.min(s.warmup, Math.floor(s.messages / 2)));
  const read = (f: string) => (existsSync(f) ? parseLatencyFile(readFileSync(f, 'utf8')) : []);
  const produced = read(producerFile);
  const consumedLatencies = read(consumerFile);
  const summary = parseSummary(producer.output);
  return {
    messages: summary?.messages ?? 0,
    elapsedMs: summary?.elapsedMs ?? 0,
    msgsPerSec: summary?.msgsPerSec ?? 0,
    mbPerSec: summary?.mbPerSec ?? 0,
    produceLatency: summarizeMicros(produced.slice(warmup)),
    warmingProduceLatency: summarizeMicros(produced.slice(startup, warmup)),
    endToEndLatency: summarizeMicros(consumedLatencies.slice(warmup)),
    timedOut: producer.timedOut || consumed.timedOut,
  };
}

/** Adds the broker's own timings of one API over a run, where the broker reports them. */
async function brokerTimed(
  broker: RunningBroker,
  api: 'Produce' | 'EndTxn' | 'all',
  run: () => Promise<{ elapsedMs: number } & Partial<Row>>,
): Promise<{ elapsedMs: number } & Partial<Row>> {
  broker.command('timings-reset');
  const r = await run();
  const t = (await broker.query('timings', 'timings', 2_000)) as Record<string, LatencySummary> | null;
  if (!t) return r;
  if (api === 'all') return { ...r, brokerRequests: t };
  const timed = t[api];
  if (!timed) return r;
  return api === 'Produce'
    ? { ...r, brokerProduceLatency: timed }
    : { ...r, brokerEndTxnLatency: timed, brokerRequests: t };
}

/** "1.02 AddPartitionsToTxn per transaction", from the broker's count of requests. */
function addPartitionsPerTransaction(r: Row): string {
  const add = r.brokerRequests?.AddPartitionsToTxn?.count;
  const txns = r.transactions ?? r.brokerRequests?.EndTxn?.count;
  return add !== undefined && txns ? `; ${dec(add / txns, 2)} AddPartitionsToTxn per transaction` : '';
}

function skipped(why: string): { elapsedMs: number } & Partial<Row> {
  return { elapsedMs: 0, msgsPerSec: Number.NaN, mbPerSec: Number.NaN, note: `skipped: ${why}` };
}

/** A consumer reading a partition while a producer writes it: consume at the rate data arrives. */
async function tail(
  tools: NativeTools,
  s: Extract<Scenario, { kind: 'tail' }>,
  bootstrap: string,
): Promise<{ elapsedMs: number } & Partial<Row>> {
  const consumer = runTool(
    tools.rdkafkaPerformance,
    ['-C', '-t', s.topic, '-p', '0', '-b', bootstrap, '-o', 'beginning', '-c', String(s.messages), '-q'],
    TOOL_TIMEOUT_MS,
  );
  await new Promise((r) => setTimeout(r, 1500));
  const produce: Extract<Scenario, { kind: 'produce' }> = { ...s, kind: 'produce', acks: 1 };
  const producer = await runTool(tools.rdkafkaPerformance, producerArgs(produce, bootstrap), TOOL_TIMEOUT_MS);
  const consumed = await consumer;
  const p = parseSummary(producer.output);
  const c = parseSummary(consumed.output);
  if (!c)
    throw new Error(`rdkafka_performance consumer printed no summary:\n${consumed.output.slice(-2000)}`);
  return {
    messages: c.messages,
    elapsedMs: c.elapsedMs,
    msgsPerSec: c.msgsPerSec,
    mbPerSec: c.mbPerSec,
    timedOut: producer.timedOut || consumed.timedOut,
    note: `producer ${int(p?.msgsPerSec ?? Number.NaN)} msg/s at the same time`,
  };
}

function platformatic(
  s: Extract<Scenario, { kind: 'platformatic' | 'endTxn' }>,
  bootstrap: string,
): Promise<{ elapsedMs: number } & Partial<Row>> {
  const job: PlatformaticProducerJob =
    s.kind === 'endTxn'
      ? {
          mode: 'endTxn',
          bootstrap,
          topic: s.topic,
          partitions: s.partitions,
          messages: s.transactions,
          size: s.size,
          acks: -1,
          batch: 1,
          inFlight: 1,
          transactions: s.transactions,
          warmup: s.warmup,
          timeoutMs: 30_000,
        }
      : {
          bootstrap,
          topic: s.topic,
          partitions: s.partitions,
          messages: s.messages,
          size: s.size,
          acks: s.acks,
          batch: s.batch,
          inFlight: s.inFlight,
          ...(s.transaction !== undefined && { transaction: s.transaction }),
          timeoutMs: 30_000,
        };
  const note =
    s.kind === 'endTxn'
      ? 'one transaction of 1 record at a time'
      : s.transaction !== undefined
        ? `transactions of ${int(s.transaction)} records, sends of ${int(s.batch)}, one at a time`
        : `sends of ${int(s.batch)} records, ${s.inFlight} in flight`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'platformatic-producer.ts'), JSON.stringify(job)],
      { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), job.timeoutMs + 30_000);
    child.on('close', (code) => {
      clearTimeout(limit);
      if (code !== 0)
        return reject(new Error(`@platformatic/kafka producer failed (${code}):\n${err.slice(-2000)}`));
      const r = JSON.parse(out.trim().split('\n').pop()!) as PlatformaticProducerResult;
      resolvePromise({ ...r, note });
    });
  });
}

function pipelined(
  s: Extract<Scenario, { kind: 'pipelined' }>,
  bootstrap: string,
): Promise<{ elapsedMs: number } & Partial<Row>> {
  const job: PipelinedProducerJob = {
    bootstrap,
    topic: s.topic,
    messages: s.messages,
    size: s.size,
    acks: s.acks,
    batchBytes: s.batchBytes,
    inFlight: s.inFlight,
    idempotent: s.idempotent,
    timeoutMs: 60_000,
  };
  return nodeJson<PipelinedProducerResult>(
    [
      '--conditions=@tributary/source',
      '--import',
      'tsx',
      join(here, 'pipelined-producer.ts'),
      JSON.stringify(job),
    ],
    job.timeoutMs + 30_000,
    { withTsx: false },
  ).then((r) => ({ ...r, note: `${int(r.requests)} requests, ${s.inFlight} in flight` }));
}

async function runScenario(
  tools: NativeTools,
  broker: RunningBroker,
  s: Scenario,
  workDir: string,
  produced: Map<string, number>,
): Promise<Row> {
  const run = () => {
    switch (s.kind) {
      case 'produce':
        return rdkafka(tools.rdkafkaPerformance, producerArgs(s, broker.bootstrap));
      case 'consume':
        // The transactional topic is filled by @platformatic/kafka, which the mock cannot serve.
        if (s.isolation && !produced.get(s.topic)) {
          return Promise.resolve(skipped('nothing was produced into its topic'));
        }
        return rdkafka(
          tools.rdkafkaPerformance,
          consumerArgs(s.topic, s.partitions, broker.bootstrap, produced.get(s.topic), s.isolation),
        );
      case 'latency':
        return brokerTimed(broker, 'Produce', () => latency(tools, s, broker.bootstrap, workDir));
      case 'tail':
        // The mock cluster keeps 5 MiB per partition: a consumer a moment behind falls off its log.
        if (broker.label === 'mock') return Promise.resolve(skipped('the mock keeps 5 MiB per partition'));
        return tail(tools, s, broker.bootstrap);
      case 'platformatic':
        if (s.transaction !== undefined)
          return brokerTimed(broker, 'all', () => platformatic(s, broker.bootstrap));
        return platformatic(s, broker.bootstrap);
      case 'endTxn':
        return brokerTimed(broker, 'EndTxn', () => platformatic(s, broker.bootstrap));
      case 'pipelined':
        return pipelined(s, broker.bootstrap);
    }
  };
  let r: Omit<Row, 'broker' | 'scenario' | 'kind'>;
  try {
    r = await measured(broker, run);
  } catch (e) {
    // One scenario failing (a client the broker cannot serve, say) is a finding, not the end.
    const why = (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 2).join(' ');
    return {
      broker: broker.label,
      scenario: s.id,
      kind: s.kind,
      messages: 0,
      elapsedMs: 0,
      msgsPerSec: Number.NaN,
      mbPerSec: Number.NaN,
      brokerCpuPct: Number.NaN,
      brokerRssMiB: broker.rssMiB(),
      load1: loadAverage()[0],
      timedOut: false,
      note: `failed: ${why.slice(0, 300)}`,
    };
  }
  if (s.kind === 'produce' || s.kind === 'platformatic' || s.kind === 'pipelined') {
    produced.set(s.topic, (produced.get(s.topic) ?? 0) + r.messages);
  }
  const wrote = produced.get(s.topic);
  if (s.kind === 'consume' && wrote !== undefined && r.messages < wrote) {
    r.note = [r.note, `the broker kept ${int(r.messages)} of ${int(wrote)}`].filter(Boolean).join(', ');
  }
  return { broker: broker.label, scenario: s.id, kind: s.kind, ...r };
}

// -- the loopback limit -------------------------------------------------------------------------

function nodeJson<T>(argv: string[], timeoutMs: number, options: { withTsx?: boolean } = {}): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, options.withTsx === false ? argv : ['--import', 'tsx', ...argv], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(limit);
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited with ${code}`));
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch {
        reject(new Error(`${argv.join(' ')} printed no result`));
      }
    });
  });
}

async function measureLoopback(quick: boolean): Promise<Loopback> {
  const script = join(here, 'loopback.ts');
  const server = spawn(process.execPath, ['--import', 'tsx', script, 'server'], {
    cwd: packageDir,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolvePromise, reject) => {
      const limit = setTimeout(() => reject(new Error('loopback server did not start')), 20_000);
      server.stdout.once('data', (b: Buffer) => {
        clearTimeout(limit);
        resolvePromise((JSON.parse(b.toString('utf8').split('\n')[0]!) as { port: number }).port);
      });
    });
    const sink = await nodeJson<{ mbPerSec: number }>(
      [script, 'sink', String(port), quick ? '1000' : '3000'],
      30_000,
    );
    const echo = await nodeJson<LatencySummary>(
      [script, 'echo', String(port), quick ? '5000' : '20000'],
      60_000,
    );
    return { sinkMbPerSec: sink.mbPerSec, echo };
  } finally {
    server.stdin.end();
    server.kill('SIGTERM');
  }
}

// -- output -------------------------------------------------------------------------------------

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const dec = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const ms = (l: LatencySummary | undefined) =>
  l && l.count > 0 ? `${dec(l.p50Ms, 2)} / ${dec(l.p99Ms, 2)} / ${dec(l.maxMs, 2)} ms` : '–';

function cell(r: Row | undefined): string {
  if (!r) return '–';
  if (r.note?.startsWith('failed:') || r.note?.startsWith('skipped:')) return r.note;
  if (r.kind === 'latency') {
    const spread =
      r.spread && r.spread.passes > 1
        ? ` (end-to-end p99 ${dec(r.spread.low, 2)}–${dec(r.spread.high, 2)} ms over ${r.spread.passes} passes)`
        : '';
    const inBroker = r.brokerProduceLatency ? `; in broker (whole run) ${ms(r.brokerProduceLatency)}` : '';
    const warming = r.warmingProduceLatency?.count
      ? `; warming up: produce ${ms(r.warmingProduceLatency)}`
      : '';
    return `produce ${ms(r.produceLatency)}${inBroker}; end to end ${ms(r.endToEndLatency)}${warming}${spread}`;
  }
  if (r.kind === 'endTxn') {
    const spread =
      r.spread && r.spread.passes > 1
        ? ` (commit p99 ${dec(r.spread.low, 2)}–${dec(r.spread.high, 2)} ms over ${r.spread.passes} passes)`
        : '';
    const inBroker = r.brokerEndTxnLatency ? `; in broker (whole run) ${ms(r.brokerEndTxnLatency)}` : '';
    const warming = r.warmingCommitLatency?.count
      ? `; first ${r.warmingCommitLatency.count}: commit ${ms(r.warmingCommitLatency)}`
      : '';
    const timedOut = r.timedOut ? ' [timed out]' : '';
    return `commit ${ms(r.commitLatency)}${inBroker}; EndTxn to committed (LSO) ${ms(r.markersVisibleLatency)}; whole transaction ${ms(r.transactionLatency)}${warming}; ${int(r.msgsPerSec)} txn/s${addPartitionsPerTransaction(r)}${spread}${timedOut}`;
  }
  const flags = [r.timedOut ? 'timed out' : '', r.note ?? ''].filter(Boolean).join(', ');
  const spread =
    r.spread && r.spread.passes > 1
      ? ` (${int(r.spread.low)}–${int(r.spread.high)} over ${r.spread.passes} passes)`
      : '';
  return `${int(r.msgsPerSec)}${spread} msg/s, ${dec(r.mbPerSec)} MB/s (${int(r.messages)} msgs)${addPartitionsPerTransaction(r)}${flags ? ` [${flags}]` : ''}`;
}

function resultsTable(rows: readonly Row[], brokers: readonly string[]): string {
  const scenarioIds = [...new Set(rows.map((r) => r.scenario))];
  const head = ['Scenario', ...brokers.flatMap((b) => [b, `${b} CPU`]), 'load'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const id of scenarioIds) {
    const cells = [id];
    let load = Number.NaN;
    for (const b of brokers) {
      const r = rows.find((x) => x.scenario === id && x.broker === b);
      cells.push(cell(r), r ? `${dec(r.brokerCpuPct, 0)} %` : '–');
      if (r && !Number.isFinite(load)) load = r.load1;
    }
    cells.push(dec(load, 2));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

interface Check {
  target: string;
  unit: string;
  scenario: string;
  goal: string;
  values: Record<string, { value: number; met: boolean; ratio: number; low?: number; high?: number }>;
}

function checks(
  rows: readonly Row[],
  brokers: readonly string[],
  passRows: readonly Row[],
  list: readonly Scenario[],
): Check[] {
  const out: Check[] = [];
  const add = (t: Target, scenario: string, pick: (r: Row) => number | undefined) => {
    const values: Check['values'] = {};
    for (const b of brokers) {
      const r = rows.find((x) => x.scenario === scenario && x.broker === b);
      const v = r && pick(r);
      if (v !== undefined && Number.isFinite(v)) values[b] = { value: v, ...verdict(t, v) };
    }
    if (Object.keys(values).length > 0) {
      out.push({
        target: t.what,
        unit: t.unit,
        scenario,
        goal: `${t.atLeast ? '≥' : '≤'} ${int(t.goal)} ${t.unit}`,
        values,
      });
    }
  };
  for (const r of rows.filter((x) => x.broker === brokers[0])) {
    if (r.kind === 'produce' && r.scenario.includes('100 B')) {
      add(TARGETS.produceSmall!, r.scenario, (x) => x.msgsPerSec);
      // Linear in the rate: the CPU one core would need at 1,000,000 msg/s.
      add(TARGETS.produceCpu!, r.scenario, (x) => (x.brokerCpuPct * 1_000_000) / x.msgsPerSec);
    }
    // The tail scenario is held to no target: it consumes no faster than its producer writes.
    // The transactional topic holds what @platformatic/kafka wrote, too little for the consume
    // target's steady rate; those scenarios are held against each other instead.
    if (r.kind === 'consume' && r.scenario.includes('100 B') && !r.scenario.includes('transactional'))
      add(TARGETS.consumeSmall!, r.scenario, (x) => x.msgsPerSec);
    if (r.kind === 'produce' && r.scenario.includes('10 KB'))
      add(TARGETS.produceLarge!, r.scenario, (x) => x.mbPerSec);
    if (r.kind === 'consume' && r.scenario.includes('10 KB'))
      add(TARGETS.consumeLarge!, r.scenario, (x) => x.mbPerSec);
    if (r.kind === 'latency') {
      add(TARGETS.produceP99!, r.scenario, (x) => x.produceLatency?.p99Ms);
      add(TARGETS.endToEndP99!, r.scenario, (x) => x.endToEndLatency?.p99Ms);
    }
    if (r.kind === 'endTxn') add(TARGETS.endTxnP99!, r.scenario, (x) => x.commitLatency?.p99Ms);
  }
  // Rates held against a baseline: the ratio within each pass, the median pass's kept.
  for (const s of list) {
    if (!('baseline' in s) || !s.baseline) continue;
    const t =
      s.kind === 'consume'
        ? TARGETS.readCommittedRatio!
        : s.kind === 'platformatic'
          ? TARGETS.transactionalRatio!
          : TARGETS.idempotentRatio!;
    const values: Check['values'] = {};
    for (const b of brokers) {
      const q = passRatio(passRows, b, s.id, s.baseline);
      if (q) values[b] = { value: q.median, ...verdict(t, q.median), low: q.low, high: q.high };
    }
    if (Object.keys(values).length > 0) {
      out.push({
        target: t.what,
        unit: t.unit,
        scenario: `${s.id} / ${s.baseline}`,
        goal: `≥ ${t.goal}x`,
        values,
      });
    }
  }
  return out;
}

function checksTable(list: readonly Check[], brokers: readonly string[]): string {
  const head = ['Target', 'Scenario', 'Goal', ...brokers];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const c of list) {
    const cells = brokers.map((b) => {
      const v = c.values[b];
      if (!v) return '–';
      const shown = v.value >= 100 ? int(v.value) : dec(v.value, 2);
      const range =
        v.low !== undefined && v.high !== undefined && v.low !== v.high
          ? ` (${dec(v.low, 2)}–${dec(v.high, 2)} over the passes)`
          : '';
      const unit = c.unit === 'x' ? 'x' : ` ${c.unit}`;
      return `${shown}${unit}${range}: ${v.met ? 'met' : 'missed'} (${dec(v.ratio * 100, 0)} % of goal)`;
    });
    lines.push(`| ${[c.target, c.scenario, c.goal, ...cells].join(' | ')} |`);
  }
  return lines.join('\n');
}

// -- profiling ----------------------------------------------------------------------------------

/**
 * Profiles Tributary under the first scenario whose name contains `what` (after filling its topic
 * when it consumes): the profiler runs only while that scenario does.
 */
async function profile(tools: NativeTools, what: string, resultsDir: string, workDir: string): Promise<void> {
  const all = scenarios(args.quick ? QUICK : FULL);
  const target = all.find((s) => s.id.includes(what));
  if (!target)
    throw new Error(`--profile: no scenario named like "${what}": ${all.map((s) => s.id).join('; ')}`);
  const fills = withFills(all, (s) => s === target).filter((s) => s !== target);
  const dir = join(resultsDir, 'profiles');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `broker-${target.id.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
  rmSync(file, { force: true });
  const broker = await startTributary(defaultTributaryCommand(), topicsOf([...fills, target]), packageDir);
  try {
    const produced = new Map<string, number>();
    for (const fill of fills) await runScenario(tools, broker, fill, workDir, produced);
    broker.command('profile-start');
    await new Promise((r) => setTimeout(r, 200));
    const row = await runScenario(tools, broker, target, workDir, produced);
    broker.command(`profile-stop ${file}`);
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    console.log(resultsTable([row], ['tributary']));
  } finally {
    await broker.stop();
  }
  if (!existsSync(file)) throw new Error(`no profile written to ${file}`);
  console.log(`\nCPU profile: ${file}\n`);
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  console.log(formatProfileSummary(summary));
}

// -- main ---------------------------------------------------------------------------------------

function platformaticVersion(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@platformatic/kafka');
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string })
    .version;
}

async function main(): Promise<void> {
  let tools: NativeTools;
  try {
    tools = ensureNativeTools(log);
  } catch (e) {
    if (e instanceof SetupError) {
      console.error(`bench:broker setup: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const resultsDir = join(packageDir, 'bench-results');
  mkdirSync(resultsDir, { recursive: true });
  // Each run its own scratch directory (latency files, data directories), so runs side by side
  // do not overwrite each other's files.
  const workDir = mkdtempSync(join(tmpdir(), 'tributary-bench-broker-'));
  try {
    if (args.profile) await profile(tools, args.profile, resultsDir, workDir);
    else await measure(tools, resultsDir, workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * The broker command with each `{data-dir}` replaced by a new empty directory under `workDir`, so
 * that every broker start (every pass) gets a fresh data directory.
 */
function withFreshDataDir(argv: readonly string[], workDir: string, start: string): string[] {
  if (!argv.some((a) => a.includes(DATA_DIR_PLACEHOLDER))) return [...argv];
  const dir = join(workDir, `data-${start}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return argv.map((a) => a.replaceAll(DATA_DIR_PLACEHOLDER, dir));
}

const DATA_DIR_PLACEHOLDER = '{data-dir}';

async function measure(tools: NativeTools, resultsDir: string, workDir: string): Promise<void> {
  const scale = args.quick ? QUICK : FULL;
  const passes = Number(args.passes ?? (args.quick ? 1 : 3));
  if (!Number.isInteger(passes) || passes < 1) throw new Error('--passes takes a whole number from 1');
  // "a|b" chooses the scenarios whose name contains a or b.
  const wanted = args.scenario?.split('|').filter(Boolean);
  const list = withFills(scenarios(scale), (s) => !wanted || wanted.some((w) => s.id.includes(w)));
  const brokers = ['tributary', 'mock'].filter((b) => !args.only || b === args.only);
  if (args.broker !== 'launcher' && args.broker !== 'cli') throw new Error('--broker takes launcher or cli');
  const cli = tributaryCliCommand();
  if (args['file-storage'] && (args.broker !== 'launcher' || args['broker-cmd'])) {
    throw new Error(
      '--file-storage is an option of the default launcher, not of --broker cli or --broker-cmd',
    );
  }
  const launcher = args['file-storage']
    ? [...defaultTributaryCommand(), '--file-storage', DATA_DIR_PLACEHOLDER]
    : defaultTributaryCommand();
  const brokerCmd =
    args['broker-cmd']?.split(/\s+/).filter(Boolean) ?? (args.broker === 'cli' ? cli.argv : launcher);
  const brokerCwd = args.broker === 'cli' && !args['broker-cmd'] ? cli.cwd : packageDir;
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();

  const loopback = args['no-loopback'] ? null : await measureLoopback(args.quick);
  if (loopback) log(`loopback: sink ${dec(loopback.sinkMbPerSec)} MB/s, echo ${ms(loopback.echo)}`);

  // Each pass starts every broker afresh; the brokers' order alternates between passes so that
  // drift in the machine's load falls on both alike.
  const passRows: Row[] = [];
  for (let pass = 0; pass < passes; pass++) {
    for (const b of pass % 2 === 0 ? brokers : [...brokers].reverse()) {
      let starts = 0;
      const start = (): Promise<RunningBroker> => {
        starts++;
        log(`pass ${pass + 1}/${passes}: starting ${b}`);
        return b === 'tributary'
          ? startTributary(
              withFreshDataDir(brokerCmd, workDir, `${pass + 1}-${starts}`),
              topicsOf(list),
              brokerCwd,
            )
          : startMock(tools.mockCluster, topicsOf(list), packageDir);
      };
      let broker = await start();
      try {
        const produced = new Map<string, number>();
        let ran = 0;
        for (const s of passOrder(list, pass)) {
          if (startsFresh(s) && ran > 0) {
            await broker.stop();
            broker = await start();
            ran = 0;
          }
          ran++;
          const row = await runScenario(tools, broker, s, workDir, produced);
          log(`${b}: ${s.id}: ${cell(row)}, broker CPU ${dec(row.brokerCpuPct, 0)} %`);
          passRows.push({ ...row, pass: pass + 1 });
        }
      } finally {
        await broker.stop();
      }
    }
  }
  const rows = medianPass(
    passRows.map((r) =>
      r.kind === 'latency'
        ? { ...r, rankBy: r.endToEndLatency?.p99Ms ?? Number.NaN }
        : r.kind === 'endTxn'
          ? { ...r, rankBy: r.commitLatency?.p99Ms ?? Number.NaN }
          : r,
    ),
  );

  const m = machine();
  const checkList = checks(rows, brokers, passRows, list);
  const loadAtEnd = loadAverage();
  console.log(`## Broker load benchmark, ${startedAt}\n`);
  console.log(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}`);
  console.log(
    `librdkafka ${tools.librdkafkaVersion}, @platformatic/kafka ${platformaticVersion()}; load average ${loadAtStart.map((x) => dec(x, 2)).join(' ')} at start, ${loadAtEnd.map((x) => dec(x, 2)).join(' ')} at end`,
  );
  console.log(`Tributary broker command: ${brokerCmd.join(' ')}\n`);
  if (loopback) {
    console.log(
      `Node loopback limit: ${dec(loopback.sinkMbPerSec)} MB/s one-way (64 KiB writes); 100-byte echo round trip p50/p99/max ${ms(loopback.echo)}\n`,
    );
  }
  console.log(resultsTable(rows, brokers));
  console.log(
    '\nLatency cells: p50 / p99 / max. CPU: broker process user+system time over the scenario, % of one core.\n',
  );
  console.log(checksTable(checkList, brokers));

  // pnpm runs the script in packages/bench; a relative --json is meant from where pnpm was called.
  const jsonPath = args.json
    ? resolve(process.env.INIT_CWD ?? process.cwd(), args.json)
    : join(resultsDir, `broker-${startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(resolve(jsonPath)), { recursive: true });
  writeFileSync(
    jsonPath,
    `${JSON.stringify(
      {
        startedAt,
        machine: m,
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        librdkafka: tools.librdkafkaVersion,
        platformatic: platformaticVersion(),
        brokerCommand: brokerCmd,
        scale,
        passes,
        loopback,
        rows,
        checks: checkList,
        everyPass: passRows,
      },
      null,
      2,
    )}\n`,
  );
  log(`figures saved to ${jsonPath}`);
}

await main();
