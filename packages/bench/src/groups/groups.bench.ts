// The consumer group benchmark: Tributary's classic group coordinator in its own process (in-memory
// storage, group.initial.rebalance.delay.ms=0), driven by a protocol-level group member built on
// @tributary/codec and, for reference, by KafkaJS. Prints Markdown; asserts nothing.
//
//   pnpm bench:groups                       every scenario, 3 passes (about 6 minutes)
//   pnpm bench:groups --quick               1 pass, fewer iterations, a 10 s idle window
//   pnpm bench:groups --passes 5            more passes (each figure is the median pass's)
//   pnpm bench:groups --scenario idle       scenarios whose name contains the text (form, join4, idle)
//   pnpm bench:groups --client protocol     one client (protocol or kafkajs)
//   pnpm bench:groups --heartbeat-ms 100    the latency scenarios' heartbeat interval
//   pnpm bench:groups --json out.json       also save every figure (default bench-results/)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type RunningBroker, startTributary } from '../broker/brokers.js';
import { medianPass, type Spread } from '../broker/passes.js';
import { loadAverage, percentile } from '../broker/stats.js';
import { machine } from '../machine.js';
import type { KafkajsSettings } from './kafkajs-member.js';
import {
  type IdleResult,
  idleGroups,
  kafkajsForm,
  kafkajsJoinFourth,
  type LatencySample,
  PARTITIONS,
  protocolForm,
  protocolJoinFourth,
  TOPIC,
} from './scenarios.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..', '..');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    passes: { type: 'string' },
    scenario: { type: 'string' },
    client: { type: 'string' },
    'heartbeat-ms': { type: 'string', default: '100' },
    'idle-seconds': { type: 'string' },
    groups: { type: 'string', default: '1000' },
    json: { type: 'string' },
  },
});

const log = (s: string) => process.stderr.write(`# ${s}\n`);

const passes = Number(args.passes ?? (args.quick ? 1 : 3));
const heartbeatMs = Number(args['heartbeat-ms']);
const iterations = { protocol: args.quick ? 5 : 15, kafkajs: args.quick ? 3 : 8 };
const idleWindowMs = Number(args['idle-seconds'] ?? (args.quick ? 10 : 30)) * 1000;
const idleGroupCount = Number(args.groups);

const KAFKAJS: KafkajsSettings = {
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  heartbeatIntervalMs: heartbeatMs,
  maxWaitTimeMs: heartbeatMs,
};

const TARGET_MS = { form: 100, join4: 200 } as const;
const TARGET_IDLE_CPU_PCT = 10;

const wanted = (scenario: string, client: string) =>
  (args.scenario === undefined || scenario.includes(args.scenario)) &&
  (args.client === undefined || client === args.client);

function startBroker(): Promise<RunningBroker> {
  return startTributary(
    [
      process.execPath,
      '--conditions=@tributary/source',
      '--import',
      'tsx',
      join(here, '..', 'broker', 'tributary-broker.ts'),
      // Groups form as soon as their members have joined.
      JSON.stringify({ groupInitialRebalanceDelayMs: 0 }),
    ],
    [{ name: TOPIC, partitions: PARTITIONS }],
    packageDir,
  );
}

interface LatencyRow {
  broker: string;
  scenario: 'form' | 'join4';
  client: 'protocol' | 'kafkajs';
  pass: number;
  iterations: number;
  failed: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  /** Median and max of the time from the last JoinGroup sent to all assigned (protocol client). */
  afterLastJoinP50Ms: number;
  afterLastJoinMaxMs: number;
  /** Median generation the group ended at (1: formed in one generation). */
  generation: number;
  /** Median count of heartbeats answered REBALANCE_IN_PROGRESS per iteration. */
  heartbeatRejoins: number;
  load1: number;
  msgsPerSec: number;
  rankBy: number;
  spread?: Spread;
  errors: string[];
}

async function latencyRow(
  scenario: LatencyRow['scenario'],
  client: LatencyRow['client'],
  pass: number,
  count: number,
  run: () => Promise<LatencySample>,
): Promise<LatencyRow> {
  const load1 = loadAverage()[0];
  const samples: LatencySample[] = [];
  const errors: string[] = [];
  // One iteration first, not counted: the broker's first group of the pass (and this process's
  // first use of the client code) would otherwise time JIT compilation.
  await run().catch(() => {});
  for (let i = 0; i < count; i++) {
    try {
      samples.push(await run());
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
  }
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const p50 = percentile(ms, 50);
  log(`${scenario} ${client} pass ${pass}: p50 ${p50.toFixed(1)} ms, max ${ms.at(-1)?.toFixed(1)} ms`);
  return {
    broker: 'tributary',
    scenario,
    client,
    pass,
    iterations: samples.length,
    failed: errors.length,
    p50Ms: p50,
    p90Ms: percentile(ms, 90),
    maxMs: ms.at(-1) ?? Number.NaN,
    afterLastJoinP50Ms: median(samples.map((s) => s.afterLastJoinMs)),
    afterLastJoinMaxMs: Math.max(...samples.map((s) => s.afterLastJoinMs)),
    generation: median(samples.map((s) => s.generation)),
    heartbeatRejoins: median(samples.map((s) => s.heartbeatRejoins)),
    load1,
    msgsPerSec: Number.NaN,
    rankBy: p50,
    errors,
  };
}

interface IdleRow extends IdleResult {
  broker: string;
  scenario: 'idle';
  pass: number;
  load1: number;
  msgsPerSec: number;
  rankBy: number;
  spread?: Spread;
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

async function main(): Promise<void> {
  const latency: LatencyRow[] = [];
  const idle: IdleRow[] = [];
  for (let pass = 1; pass <= passes; pass++) {
    log(`pass ${pass} of ${passes}`);
    if (
      wanted('form', 'protocol') ||
      wanted('join4', 'protocol') ||
      wanted('form', 'kafkajs') ||
      wanted('join4', 'kafkajs')
    ) {
      const broker = await startBroker();
      try {
        if (wanted('form', 'protocol'))
          latency.push(
            await latencyRow('form', 'protocol', pass, iterations.protocol, () =>
              protocolForm(broker.bootstrap, heartbeatMs),
            ),
          );
        if (wanted('join4', 'protocol'))
          latency.push(
            await latencyRow('join4', 'protocol', pass, iterations.protocol, () =>
              protocolJoinFourth(broker.bootstrap, heartbeatMs),
            ),
          );
        if (wanted('form', 'kafkajs'))
          latency.push(
            await latencyRow('form', 'kafkajs', pass, iterations.kafkajs, () =>
              kafkajsForm(broker.bootstrap, KAFKAJS),
            ),
          );
        if (wanted('join4', 'kafkajs'))
          latency.push(
            await latencyRow('join4', 'kafkajs', pass, iterations.kafkajs, () =>
              kafkajsJoinFourth(broker.bootstrap, KAFKAJS),
            ),
          );
      } finally {
        await broker.stop();
      }
    }
    if (wanted('idle', 'protocol')) {
      // A fresh broker, so nothing from the latency scenarios is left in it.
      const broker = await startBroker();
      try {
        const load1 = loadAverage()[0];
        const r = await idleGroups(broker.bootstrap, {
          groups: idleGroupCount,
          heartbeatIntervalMs: 3000,
          setupHeartbeatIntervalMs: 200,
          sessionTimeoutMs: 45_000,
          warmupMs: args.quick ? 4000 : 6000,
          windowMs: idleWindowMs,
          brokerCpuSeconds: () => broker.cpuSeconds(),
          brokerRssMiB: () => broker.rssMiB(),
          log,
        });
        log(
          `idle pass ${pass}: broker ${f2(r.brokerCpuPct)} % of a core, ${f1(r.heartbeatsPerSec)} heartbeats/s`,
        );
        idle.push({
          ...r,
          broker: 'tributary',
          scenario: 'idle',
          pass,
          load1,
          msgsPerSec: Number.NaN,
          rankBy: r.brokerCpuPct,
        });
      } finally {
        await broker.stop();
      }
    }
  }

  const m = machine();
  const out: string[] = [];
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}; ${passes} pass(es), median pass kept.`,
    '',
  );
  const keptLatency = medianPass(latency.map((r) => ({ ...r, broker: `${r.client}`, scenario: r.scenario })));
  if (keptLatency.length > 0) {
    out.push(
      `Latency scenarios: protocol member heartbeat ${heartbeatMs} ms; KafkaJS heartbeatInterval ${KAFKAJS.heartbeatIntervalMs} ms, maxWaitTimeInMs ${KAFKAJS.maxWaitTimeMs} ms; topic of ${PARTITIONS} partitions.`,
      '',
      '| Scenario | Client | Iterations | p50 ms | p90 ms | max ms | p50 over passes | After last JoinGroup p50 / max ms | Generation | HB rejoins | Target | Load |',
      '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |',
    );
    for (const r of keptLatency) {
      const target = TARGET_MS[r.scenario];
      const spread = r.spread ? `${f1(r.spread.low)}-${f1(r.spread.high)}` : '-';
      const ok = r.client === 'protocol' ? `${target} ms: ${verdict(r.p50Ms <= target)}` : `(${target} ms)`;
      out.push(
        `| ${r.scenario} | ${r.client} | ${r.iterations}${r.failed ? ` (${r.failed} failed)` : ''} | ${f1(r.p50Ms)} | ${f1(r.p90Ms)} | ${f1(r.maxMs)} | ${spread} | ${f1(r.afterLastJoinP50Ms)} / ${f1(r.afterLastJoinMaxMs)} | ${f1(r.generation)} | ${f1(r.heartbeatRejoins)} | ${ok} | ${f1(r.load1)} |`,
      );
    }
    out.push('');
    for (const r of latency)
      if (r.errors.length > 0) out.push(`- ${r.scenario} ${r.client} pass ${r.pass}: ${r.errors[0]}`);
  }
  const keptIdle = medianPass(idle);
  for (const r of keptIdle) {
    const spread = r.spread ? `${f2(r.spread.low)}-${f2(r.spread.high)}` : '-';
    out.push(
      '',
      `Idle groups: ${r.groups} groups of 2 (${r.members} members, one connection each), heartbeat 3000 ms, session 45 s; broker CPU from /proc/<pid>/stat over ${f1(r.windowMs / 1000)} s.`,
      '',
      '| Broker CPU % of a core | Over passes | Same broker before the groups | Heartbeats/s | HB errors | Broker RSS MiB | Setup s | Client CPU % | Target | Load |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
      `| ${f2(r.brokerCpuPct)} | ${spread} | ${f2(r.brokerBaselineCpuPct)} | ${f1(r.heartbeatsPerSec)} | ${r.heartbeatRejoins} | ${f1(r.brokerRssMiB)} | ${f1(r.setupMs / 1000)} | ${f1(r.clientCpuPct)} | < ${TARGET_IDLE_CPU_PCT} %: ${verdict(r.brokerCpuPct < TARGET_IDLE_CPU_PCT)} | ${f1(r.load1)} |`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);

  const jsonPath =
    args.json ??
    join(packageDir, 'bench-results', `groups-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(
    jsonPath,
    JSON.stringify({ machine: m, heartbeatMs, kafkajs: KAFKAJS, latency, idle }, null, 2),
  );
  log(`figures saved to ${jsonPath}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
