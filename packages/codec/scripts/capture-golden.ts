// Captures golden request bytes from real Kafka clients.
//
//   npx tsx packages/codec/scripts/capture-golden.ts [client ...] [--budget-ms=60000]
//
// For each client (default: all of kafkajs, platformatic-kafka, kcat, kafka-python,
// confluent-kafka-python) it starts the scripted broker on 127.0.0.1, runs the client's short script
// against it, and writes one request frame per (API, version) the client sent to
// test/golden/<client>/<ApiName>-v<version>.bin, with an index.json beside them. A client that is
// not installed keeps the fixtures it has. Versions outside the specs are reported, not written:
// the codec cannot decode them by design.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  API_TABLE,
  decodeRequestBody,
  encodeRequestHeader,
  parseRequestHeader,
  Writer,
} from '../src/index.js';
import { type ClientDriver, DRIVERS } from './golden/drivers.js';
import { type CapturedFrame, ScriptedBroker } from './golden/scripted-broker.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'golden');
/** Fixtures stay small: the largest frame of an (API, version) up to this size is kept. */
const MAX_FIXTURE_BYTES = 4096;

interface GoldenIndex {
  client: string;
  clientVersion: string;
  clientId: string;
  topic: string;
  group: string;
  /** The steps of the client's script it completed against the scripted broker. */
  reached: string[];
  frames: { file: string; apiKey: number; apiName: string; apiVersion: number; bytes: number }[];
}

/** The frame kept for one (API, version): the largest that fits, so Metadata names topics and so on. */
function pick(frames: CapturedFrame[]): CapturedFrame {
  const fitting = frames.filter((f) => f.frame.length <= MAX_FIXTURE_BYTES);
  if (fitting.length > 0) return fitting.reduce((a, b) => (b.frame.length > a.frame.length ? b : a));
  return frames.reduce((a, b) => (b.frame.length < a.frame.length ? b : a));
}

/** Re-encodes a frame with our codec and returns the first differing byte, or -1 when identical. */
function firstDifference(frame: Buffer): number {
  const header = parseRequestHeader(frame);
  const body = decodeRequestBody(frame, header);
  const api = API_TABLE[header.apiKey]!;
  const head = encodeRequestHeader(
    {
      requestApiKey: header.apiKey,
      requestApiVersion: header.apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      ...(header.unknownTaggedFields === undefined
        ? {}
        : { unknownTaggedFields: header.unknownTaggedFields }),
    },
    header.headerVersion,
  );
  const w = Writer.alloc(api.request.size(body, header.apiVersion));
  api.request.write(w, body, header.apiVersion);
  const again = Buffer.concat([head, w.buf]);
  const n = Math.min(again.length, frame.length);
  for (let i = 0; i < n; i++) if (again[i] !== frame[i]) return i;
  return again.length === frame.length ? -1 : n;
}

async function capture(driver: ClientDriver, budgetMs: number): Promise<void> {
  const version = driver.version();
  if (version === undefined) {
    console.log(`${driver.name}: not installed, fixtures left as they are`);
    return;
  }
  const broker = new ScriptedBroker();
  const port = await broker.start();
  const started = Date.now();
  let report: Awaited<ReturnType<ClientDriver['run']>>;
  try {
    report = await driver.run(`127.0.0.1:${port}`, budgetMs);
  } finally {
    await broker.stop();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${driver.name} ${version}: ${broker.received} frames in ${seconds} s`);
  console.log(`  reached: ${report.steps.join(', ') || '(nothing)'}`);
  if (report.error !== undefined) console.log(`  stopped: ${report.error}`);
  for (const p of new Set(broker.problems)) console.log(`  broker: ${p}`);
  if (broker.frames.length === 0) return;

  const byVersion = new Map<string, CapturedFrame[]>();
  for (const f of broker.frames) {
    const key = `${f.apiKey}:${f.apiVersion}`;
    byVersion.set(key, [...(byVersion.get(key) ?? []), f]);
  }
  const dir = join(GOLDEN_DIR, driver.name);
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir))
    if (old.endsWith('.bin') || old === 'index.json') rmSync(join(dir, old));
  const index: GoldenIndex = {
    client: driver.name,
    clientVersion: version,
    clientId: driver.clientId,
    topic: driver.topic,
    group: driver.group,
    reached: report.steps,
    frames: [],
  };
  const sorted = [...byVersion.values()].sort(
    (a, b) => a[0]!.apiKey - b[0]!.apiKey || a[0]!.apiVersion - b[0]!.apiVersion,
  );
  for (const frames of sorted) {
    const { apiKey, apiVersion, frame } = pick(frames);
    const api = API_TABLE[apiKey];
    const name = api?.name ?? `Api${apiKey}`;
    if (
      api === undefined ||
      api.minVersion < 0 ||
      apiVersion < api.minVersion ||
      apiVersion > api.maxVersion
    ) {
      console.log(`  ${name} v${apiVersion}: outside the specs (${frames.length} sent), not written`);
      continue;
    }
    const file = `${name}-v${apiVersion}.bin`;
    writeFileSync(join(dir, file), frame);
    index.frames.push({ file, apiKey, apiName: name, apiVersion, bytes: frame.length });
    let verdict: string;
    try {
      const at = firstDifference(frame);
      verdict = at < 0 ? 'round-trips' : `DIFFERS at byte ${at}`;
    } catch (e) {
      verdict = `DOES NOT DECODE: ${(e as Error).message}`;
    }
    console.log(`  ${file} (${frame.length} bytes, ${frames.length} sent): ${verdict}`);
  }
  writeFileSync(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const budgetArg = args.find((a) => a.startsWith('--budget-ms='));
  const budgetMs = budgetArg === undefined ? 60000 : Number(budgetArg.slice('--budget-ms='.length));
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !DRIVERS.some((d) => d.name === n));
  if (unknown.length > 0) throw new Error(`unknown client(s): ${unknown.join(', ')}`);
  for (const driver of DRIVERS) {
    if (names.length > 0 && !names.includes(driver.name)) continue;
    await capture(driver, budgetMs);
  }
  // index.json is written by JSON.stringify; let the repository's formatter have the last word so a
  // fresh capture shows only the changes that matter.
  const biome = spawnSync('npx', ['biome', 'format', '--write', GOLDEN_DIR], {
    encoding: 'utf8',
    timeout: 60000,
  });
  if (biome.status !== 0) console.log(`biome format did not run: ${biome.stderr || biome.error?.message}`);
}

main().then(
  // Client libraries can leave retry timers behind after their budget ran out: exit explicitly.
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
