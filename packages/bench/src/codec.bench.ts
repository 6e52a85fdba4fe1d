// The codec benchmark: Tributary beside KafkaJS and @platformatic/kafka on four messages, encode
// and decode, in one run. Every implementation is checked against Tributary's decoder before it is
// timed, so none is measured doing less work. Each measurement runs in a fresh child process, and
// the whole set is repeated in passes of alternating order; prints Markdown.
//
//   pnpm bench                       3 passes, about five minutes
//   pnpm bench --quick               1 short pass, for a smoke run
//   pnpm bench --only fetch          one case (produce, fetch, metadata, join-group)
//   pnpm bench --no-context          skip the record-level context rows
//   pnpm bench --json out.json       also save every figure
//   pnpm bench --v8-defaults         keep V8's allocation-site pretenuring on (see V8_FLAGS)
import { deepStrictEqual } from 'node:assert';
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Case, Implementation } from './case.js';
import { fetchCase } from './cases/fetch.js';
import { joinGroupCase } from './cases/join-group.js';
import { metadataCase } from './cases/metadata.js';
import { produceCase } from './cases/produce.js';
import { contextGroups } from './context.js';
import { buildRecordBatches } from './fixtures.js';
import { type Measurement, measure, median, type Options } from './harness.js';
import { kafkaJsVersion } from './libs/kafkajs.js';
import { platformaticVersion } from './libs/platformatic.js';
import { machine } from './machine.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
    'no-context': { type: 'boolean', default: false },
    passes: { type: 'string' },
    'v8-defaults': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
  allowPositionals: true,
});

const options: Options = args.quick
  ? { warmupMs: 150, roundMs: 50, rounds: 5 }
  : { warmupMs: 300, roundMs: 100, rounds: 7 };
const passes = Number(args.passes ?? (args.quick ? 1 : 3));

/**
 * `encode`: the body into one Buffer. `frame`: the whole frame as the library hands it to the socket
 * (one Buffer, or Tributary's chunks for socket.writev), measured for the cases that move bulk data,
 * where it is the figure held to the target. `decode`: the body into the library's object model.
 */
type Direction = 'encode' | 'frame' | 'decode';
const DIRECTIONS: readonly Direction[] = ['encode', 'frame', 'decode'];
const directionsOf = (c: Case): Direction[] =>
  DIRECTIONS.filter((d) => d !== 'frame' || c.frame !== undefined);
/** Every row is held to the target but the body `encode` of a case measured as frames. */
const heldToTarget = (row: Row): boolean => row.direction !== 'encode' || !row.hasFrame;
const TARGET = 2;

/**
 * V8's allocation-site pretenuring decides early in a process's life, from GC timing, whether the
 * objects a decoder allocates go straight to the old generation; when it does, that process decodes
 * up to 3.5x slower until it exits. Seen on KafkaJS's decoders and on Tributary's alike, at random
 * from one process to the next, it made the figures bimodal; it is switched off for every
 * implementation so each is measured on its own code. `--v8-defaults` measures with it on.
 */
const V8_FLAGS = args['v8-defaults'] ? [] : ['--no-allocation-site-pretenuring'];

/** One measurement, run in its own process. */
type Job =
  | { kind: 'case'; caseId: string; index: number; direction: Direction }
  | { kind: 'context'; group: number; index: number };

function buildCases(batches: readonly Buffer[]): Case[] {
  return [produceCase(batches), fetchCase(batches), metadataCase(), joinGroupCase()];
}

async function runChild(job: Job): Promise<void> {
  const batches = await buildRecordBatches();
  let subject: { label: string; run: () => unknown };
  if (job.kind === 'case') {
    const impl = buildCases(batches).find((c) => c.id === job.caseId)!.implementations[job.index]!;
    const run = job.direction === 'frame' ? impl.encodeFrame! : impl[job.direction];
    subject = { label: label(impl), run };
  } else {
    subject = (await contextGroups(batches))[job.group]!.subjects[job.index]!;
  }
  const m = await measure(subject, options);
  process.send!(m, () => process.disconnect());
}

function spawnJob(job: Job): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(
      fileURLToPath(import.meta.url),
      ['--child', JSON.stringify(job), ...(args.quick ? ['--quick'] : [])],
      {
        execArgv: [...process.execArgv, ...V8_FLAGS],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    let result: Measurement | undefined;
    child.on('message', (m) => {
      result = m as Measurement;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`measurement ${JSON.stringify(job)} exited with ${code}`)),
    );
  });
}

interface Figure {
  label: string;
  library: string;
  version: number;
  via: string;
  /** Median of the passes' medians, in operations per second. */
  opsPerSec: number;
  /** Each pass's median. */
  passes: number[];
}

interface Row {
  caseId: string;
  title: string;
  direction: Direction;
  dataHeavy: boolean;
  /** The case is measured as frames too, so its body `encode` row is context, not the target. */
  hasFrame: boolean;
  bytes: Record<string, number>;
  figures: Figure[];
}

const label = (i: Implementation) => `${i.library} v${i.version}`;

function fmtOps(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)} k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}
const fmtMBps = (opsPerSec: number, bytes: number) =>
  `${Math.round((opsPerSec * bytes) / 1e6).toLocaleString('en-US')} MB/s`;
const fmtRatio = (x: number) => `${x.toFixed(2)}x`;
const range = (xs: number[]) =>
  xs.length < 2 ? '' : ` [${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}]`;
/** Half the range of the passes' medians, relative to the figure. */
function spread(f: Figure): string {
  if (f.passes.length < 2) return '';
  return ` ±${(((Math.max(...f.passes) - Math.min(...f.passes)) / 2 / f.opsPerSec) * 100).toFixed(0)}%`;
}

async function verify(c: Case): Promise<string[]> {
  const notes: string[] = [];
  for (const impl of c.implementations) {
    const wire = c.wire.get(impl.version)!;
    const expected = c.judge(wire, impl.version);
    const bytes = await impl.encode();
    deepStrictEqual(
      c.judge(bytes, impl.version),
      expected,
      `${label(impl)} encodes ${c.id} with different content`,
    );
    if (!bytes.equals(wire))
      notes.push(`${label(impl)} writes ${c.id} with the same content in different bytes`);
    if (c.frame) {
      const out = impl.encodeFrame!();
      const frame = Array.isArray(out) ? Buffer.concat(out) : out;
      deepStrictEqual(
        c.frame.judge(frame, impl.version),
        expected,
        `${label(impl)} frames ${c.id} with different content`,
      );
      if (!frame.equals(c.frame.wire.get(impl.version)!))
        notes.push(`${label(impl)} frames ${c.id} with the same content in different bytes`);
    }
    const decoded = await impl.decode();
    deepStrictEqual(impl.content(decoded), expected, `${label(impl)} decodes ${c.id} to different content`);
  }
  return notes;
}

/**
 * Tributary against each library at that library's version. For a version all three share this is
 * Tributary over each; the lower of the two is the figure held to the target. Within a pass the
 * jobs of one case run back to back, so the ratio is taken per pass and the median kept: drift in
 * the machine's load between passes then cancels out.
 */
function ratios(row: Row): { library: string; version: number; ratio: number; perPass: number[] }[] {
  const tributary = row.figures.filter((f) => f.library === 'Tributary');
  return row.figures
    .filter((f) => f.library !== 'Tributary')
    .map((f) => {
      const t = tributary.find((x) => x.version === f.version)!;
      const perPass = f.passes.map((ops, i) => t.passes[i]! / ops);
      return { library: f.library, version: f.version, ratio: median(perPass), perPass };
    });
}

const ROW_NAMES: Record<Direction, string> = {
  encode: 'encode',
  frame: 'frame for the socket',
  decode: 'decode',
};

function printCase(rows: Row[]): void {
  const first = rows[0]!;
  const sizes = Object.entries(first.bytes)
    .map(([v, n]) => `${v} ${n.toLocaleString('en-US')} bytes`)
    .join(', ');
  console.log(`### ${first.title}\n\nBody: ${sizes}.\n`);
  console.log(`| | ${first.figures.map((f) => f.label).join(' | ')} |`);
  console.log(`| --- |${first.figures.map(() => ' ---: |').join('')}`);
  for (const row of rows) {
    const cells = row.figures.map((f) => {
      // A decoder leaves the records as a slice, and Tributary's frames reference them, so only the
      // body's encoding into one buffer moves the bytes MB/s would count.
      const mbps =
        row.dataHeavy && row.direction === 'encode'
          ? `<br>${fmtMBps(f.opsPerSec, row.bytes[`v${f.version}`]!)}`
          : '';
      return `${fmtOps(f.opsPerSec)} ops/s${spread(f)}${mbps}`;
    });
    console.log(`| ${ROW_NAMES[row.direction]} | ${cells.join(' | ')} |`);
  }
  console.log(
    `| via | ${first.figures.map((_, i) => [...new Set(rows.map((r) => r.figures[i]!.via))].join(' / ')).join(' | ')} |`,
  );
  console.log('');
}

function printSummary(rows: Row[]): void {
  console.log(`### Tributary against the others (target: at least ${TARGET}x the faster of the two)\n`);
  console.log(
    "Median over the passes of Tributary's ops/s over the other library's in the same pass; in brackets, the lowest and highest pass.\n",
  );
  console.log('| Case | | vs KafkaJS | vs @platformatic/kafka | vs the faster | target |');
  console.log('| --- | --- | ---: | ---: | ---: | --- |');
  for (const row of rows) {
    const rs = ratios(row);
    const k = rs.find((r) => r.library === 'KafkaJS')!;
    const p = rs.find((r) => r.library === '@platformatic/kafka')!;
    const worst = Math.min(k.ratio, p.ratio);
    const verdict = !heldToTarget(row) ? 'context' : worst >= TARGET ? 'met' : 'missed';
    console.log(
      `| ${row.caseId} | ${ROW_NAMES[row.direction]} | ${fmtRatio(k.ratio)}${range(k.perPass)} (v${k.version}) | ${fmtRatio(p.ratio)}${range(p.perPass)} (v${p.version}) | ${fmtRatio(worst)} | ${verdict} |`,
    );
  }
  console.log('');
}

async function main(): Promise<void> {
  const m = machine();
  const started = Date.now();
  console.log('## Codec benchmark run\n');
  console.log(`- CPU: ${m.cpu}, ${m.cores} cores; RAM: ${m.memoryGiB} GiB`);
  console.log(`- Node ${m.node} (V8 ${m.v8}); ${m.os}`);
  console.log(`- KafkaJS ${kafkaJsVersion}; @platformatic/kafka ${platformaticVersion}`);
  console.log(`- V8 flags for every measurement: ${V8_FLAGS.join(' ') || 'none'}`);
  console.log(
    `- Each figure: ${passes} pass${passes > 1 ? 'es' : ''}, each a fresh process per implementation: ${options.warmupMs} ms warm-up, then ${options.rounds} rounds of ~${options.roundMs} ms; the median of the rounds, then the median of the passes (± half their range)`,
  );

  const batches = await buildRecordBatches();
  const recordBytes = batches.reduce((n, b) => n + b.length, 0);
  console.log(
    `- Records: ${batches.length} batches of 256 records (16-byte key, 1000-byte value), ${recordBytes.toLocaleString('en-US')} bytes in all\n`,
  );

  const cases = buildCases(batches).filter((c) => args.only === undefined || c.id === args.only);
  for (const c of cases) for (const n of await verify(c)) console.log(`note: ${n}`);
  const context = !args['no-context'] && args.only === undefined ? await contextGroups(batches) : [];
  console.error('verified: every encoder writes, and every decoder returns, the same content as Tributary');

  const jobs: Job[] = [];
  for (const c of cases)
    for (const direction of directionsOf(c))
      c.implementations.forEach((_, index) => {
        jobs.push({ kind: 'case', caseId: c.id, index, direction });
      });
  context.forEach((g, group) => {
    g.subjects.forEach((_, index) => {
      jobs.push({ kind: 'context', group, index });
    });
  });

  // Alternate the order between passes, so drift in the machine's load falls on every job alike.
  const perPass = new Map<string, number[]>();
  for (let pass = 0; pass < passes; pass++) {
    const order = pass % 2 === 0 ? jobs : [...jobs].reverse();
    for (const [k, job] of order.entries()) {
      process.stderr.write(`\rpass ${pass + 1}/${passes}: ${k + 1}/${jobs.length}   `);
      const result = await spawnJob(job);
      const key = JSON.stringify(job);
      perPass.set(key, [...(perPass.get(key) ?? []), result.opsPerSec]);
    }
  }
  process.stderr.write('\n');

  const rows: Row[] = [];
  for (const c of cases) {
    const caseRows = directionsOf(c).map(
      (direction): Row => ({
        caseId: c.id,
        title: c.title,
        direction,
        dataHeavy: c.dataHeavy,
        hasFrame: c.frame !== undefined,
        bytes: Object.fromEntries([...c.wire].map(([v, b]) => [`v${v}`, b.length])),
        figures: c.implementations.map((impl, index) => {
          const ps = perPass.get(JSON.stringify({ kind: 'case', caseId: c.id, index, direction }))!;
          return {
            label: label(impl),
            library: impl.library,
            version: impl.version,
            via: { encode: impl.encodeVia, frame: impl.frameVia!, decode: impl.decodeVia }[direction],
            opsPerSec: median(ps),
            passes: ps,
          };
        }),
      }),
    );
    rows.push(...caseRows);
    printCase(caseRows);
  }
  printSummary(rows);

  const contextFigures = context.map((g, group) => ({
    section: g.section,
    title: g.title,
    bytes: g.bytes,
    figures: g.subjects.map((s, index) => {
      const ps = perPass.get(JSON.stringify({ kind: 'context', group, index }))!;
      return { label: s.label, opsPerSec: median(ps), passes: ps };
    }),
  }));
  const sections = [
    ['context', 'Context: record-level work in the clients (not compared)', 'Shipped function'],
  ] as const;
  for (const [section, heading, what] of sections) {
    const groups = contextFigures.filter((g) => g.section === section);
    if (groups.length === 0) continue;
    console.log(`### ${heading}\n`);
    console.log(`| ${what} | Library | ops/s | MB/s |\n| --- | --- | ---: | ---: |`);
    for (const g of groups)
      for (const f of g.figures)
        console.log(
          `| ${g.title} | ${f.label} | ${fmtOps(f.opsPerSec)} | ${fmtMBps(f.opsPerSec, g.bytes)} |`,
        );
    console.log('');
  }
  console.log(`Run took ${Math.round((Date.now() - started) / 1000)} s.`);

  if (args.json) {
    writeFileSync(
      args.json,
      `${JSON.stringify({ machine: m, kafkaJsVersion, platformaticVersion, options, passes, recordBytes, rows, context: contextFigures }, null, 2)}\n`,
    );
    console.error(`saved ${args.json}`);
  }
}

if (args.child) await runChild(JSON.parse(args.child) as Job);
else await main();
