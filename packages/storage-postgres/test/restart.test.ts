// A PostgreSQL restart under load, on a server of this test's own (another port and data
// directory, started with .ci/postgres.sh), so the server the other test files share is untouched.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readRecordBatchHeader } from '@tributary/codec/records';
import { makeBatch, makeTopic } from '@tributary/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresStorage } from '../src/index.js';
import { plain, testUrl } from './helpers.js';

const script = fileURLToPath(new URL('../../../.ci/postgres.sh', import.meta.url));
const port = 55_000 + Math.floor(Math.random() * 1_000);
const data = `/tmp/tributary-postgres-restart-${port}-${process.pid}`;
/** The binaries .ci/postgres.sh uses: 15 when installed, else the newest installed major version. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const wanted = process.env.TRIBUTARY_TEST_POSTGRES_VERSION;
  if (wanted !== undefined && wanted !== '') return `${root}/${wanted}/bin`;
  if (existsSync(`${root}/15/bin/pg_ctl`)) return `${root}/15/bin`;
  const versions = existsSync(root) ? readdirSync(root).map(Number).filter(Number.isFinite) : [];
  return `${root}/${Math.max(15, ...versions)}/bin`;
}
const bin = binDir();
let url = '';

/** Runs pg_ctl as the postgres user (it refuses root), as .ci/postgres.sh does. */
function pgCtl(...args: string[]): void {
  const command = [`${bin}/pg_ctl`, '-D', data, ...args];
  if (process.getuid?.() === 0)
    execFileSync('su', ['postgres', '-s', '/bin/bash', '-c', command.join(' ')], { stdio: 'ignore' });
  else execFileSync(command[0]!, command.slice(1), { stdio: 'ignore' });
}

const start = () =>
  pgCtl(
    '-l',
    `${data}/server.log`,
    '-w',
    '-t',
    '60',
    'start',
    '-o',
    `"-c listen_addresses=127.0.0.1 -p ${port} -k /tmp"`,
  );

beforeAll(() => {
  testUrl(); // fails here, with the reason, when the test database is missing (CI without it)
  const out = execFileSync('bash', [script], {
    encoding: 'utf8',
    env: { ...process.env, TRIBUTARY_TEST_POSTGRES_PORT: String(port), TRIBUTARY_TEST_POSTGRES_DATA: data },
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 120_000,
  });
  url = /TRIBUTARY_TEST_POSTGRES_URL=(\S+)/.exec(out)![1]!;
}, 150_000);

afterAll(() => {
  try {
    pgCtl('stop', '-m', 'immediate');
  } catch {}
  rmSync(data, { recursive: true, force: true });
});

it('fails the appends in flight when PostgreSQL stops, acknowledges none wrongly, and appends again once it is back', async () => {
  const storage = new PostgresStorage({ connectionString: url, schema: 'restart', connectTimeoutMs: 2_000 });
  await storage.open();
  const t = makeTopic('restart', 2);
  await storage.createTopic(t);
  const id = t.topicId.toString('base64url');
  const acked: { partition: number; baseOffset: number }[] = [];
  let failed = 0;
  // Four producers appending until stopped, bounded in count.
  let stop = false;
  const producer = async (partition: number): Promise<void> => {
    for (let i = 0; i < 5_000 && !stop; i++) {
      try {
        const r = await storage.append(id, partition, plain(makeBatch(1)));
        acked.push({ partition, baseOffset: r.baseOffset });
      } catch (err) {
        expect((err as Error).message).toMatch(/PostgreSQL storage: .* failed/);
        failed++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const producers = [0, 1, 0, 1].map(producer);
  while (acked.length < 50) await new Promise((r) => setTimeout(r, 10));
  pgCtl('stop', '-m', 'immediate'); // a crash: no shutdown checkpoint, recovery at start
  const ackedBeforeStop = acked.length;
  await new Promise((r) => setTimeout(r, 300));
  start();
  const deadline = Date.now() + 20_000;
  while (acked.length < ackedBeforeStop + 50 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await Promise.all(producers);
  expect(failed).toBeGreaterThan(0);
  expect(acked.length).toBeGreaterThanOrEqual(ackedBeforeStop + 50);
  for (const p of [0, 1]) {
    const r = await storage.read(id, p, { offset: 0, maxBytes: 1 << 24, minOneBatch: true });
    const stored = r.batches.map((b) => Number(readRecordBatchHeader(b).baseOffset));
    expect(stored).toEqual(Array.from({ length: r.highWatermark }, (_, i) => i));
    for (const a of acked.filter((x) => x.partition === p)) expect(stored).toContain(a.baseOffset);
  }
  await storage.close();
}, 90_000);
