import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processes, startTributary } from '../src/process-harness.js';
import { runCrashCycles } from './crash-cycles.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-file-'));
});
afterEach(async () => {
  for (const p of processes.splice(0)) {
    p.kill('SIGKILL');
    await p.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const flags = (dataDir: string) => ['--data-dir', dataDir, '--port', '0', '--admin-port', '-1'];

describe('tributary with file storage', () => {
  it('keeps topics, records, offsets and the cluster id across a restart', async () => {
    const dataDir = join(dir, 'data');
    const first = startTributary(flags(dataDir));
    const started = await first.started();
    const kafka = new Kafka({ brokers: [started.kafka], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'kept', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '86400000' }] },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'kept',
      acks: -1,
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(readFileSync(join(dataDir, 'meta.properties'), 'utf8')).toContain(
      `cluster.id=${started.clusterId}`,
    );

    const second = startTributary(flags(dataDir));
    const again = await second.started();
    expect(again.clusterId).toBe(started.clusterId);
    const admin2 = new Kafka({ brokers: [again.kafka], logLevel: logLevel.NOTHING }).admin();
    await admin2.connect();
    const offsets = await admin2.fetchTopicOffsets('kept');
    const configs = await admin2.describeConfigs({
      resources: [{ type: 2, name: 'kept', configNames: ['retention.ms'] }],
      includeSynonyms: false,
    });
    const cluster = await admin2.describeCluster();
    await admin2.disconnect();
    expect(offsets.reduce((sum, o) => sum + Number(o.high), 0)).toBe(50);
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('86400000');
    expect(cluster.clusterId).toBe(started.clusterId);
  });

  it('refuses a data directory it cannot create, in one line, with status 1', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const p = startTributary(flags(join(file, 'data')));
    expect((await p.exited).code).toBe(1);
    expect(p.stderr).toMatch(
      new RegExp(`^tributary: [^\\n]*${file}/data[^\\n]*not a directory[^\\n]*\\n$`, 'i'),
    );
  });

  it('refuses a data directory of another cluster', async () => {
    const dataDir = join(dir, 'data');
    const first = startTributary(flags(dataDir));
    const { clusterId } = await first.started();
    first.kill('SIGTERM');
    await first.exited;
    const other = startTributary([...flags(dataDir), '--cluster-id', 'BBBBBBBBBBBBBBBBBBBBBB']);
    expect((await other.exited).code).toBe(1);
    expect(p2(other.stderr)).toBe(
      `cluster-id BBBBBBBBBBBBBBBBBBBBBB does not match ${clusterId} recorded in ${dataDir}`,
    );
  });

  it('loses no acknowledged record and serves no corrupt batch across kill -9 during acks=-1 produce', async () => {
    const report = await runCrashCycles({ cycles: 3, dataDir: join(dir, 'crash') });
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.lost).toEqual([]);
    expect(report.duplicates).toBe(0);
    expect(report.offsetGaps).toBe(0);
    expect(report.stored).toBeGreaterThanOrEqual(report.acknowledged);
  }, 120_000);
});

/** The message of a one-line `tributary: ...` error. */
function p2(stderr: string): string {
  expect(stderr).toMatch(/^tributary: [^\n]+\n$/);
  return stderr.slice('tributary: '.length, -1);
}
