import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

// Committed offsets must survive the broker process being killed (SIGKILL: no shutdown at all).
// The `tributary` command runs from source on file storage in a temporary directory.

const BROKER_APP = fileURLToPath(new URL('../../../../apps/broker', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'tributary-groups-kill-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startBroker(): Promise<{ child: ChildProcess; bootstrap: string }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@tributary/source',
      '--import',
      'tsx',
      'src/main.ts',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--admin-port',
      '-1',
    ],
    { cwd: BROKER_APP, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`tributary did not start: ${stderr}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tributary exited with ${code}: ${stderr}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.includes('"tributary started"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { kafka: string }).kafka);
      }
    });
  });
  return { child, bootstrap };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('committed offsets and a killed broker', () => {
  it('keeps acknowledged commits and the group across kill -9', async () => {
    const first = await startBroker();
    const kafka = new Kafka({
      brokers: [first.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'killed', numPartitions: 3 }] });
    // A standalone commit (generation -1), acknowledged only once stored.
    await admin.setOffsets({
      groupId: 'survivor',
      topic: 'killed',
      partitions: [
        { partition: 0, offset: '5' },
        { partition: 2, offset: '9' },
      ],
    });
    await admin.disconnect();
    await kill(first.child);

    const second = await startBroker();
    const admin2 = new Kafka({ brokers: [second.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin2.connect();
    const offsets = await admin2.fetchOffsets({ groupId: 'survivor', topics: ['killed'] });
    expect(offsets[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual([
      '5',
      '-1',
      '9',
    ]);
    expect((await admin2.listGroups()).groups.map((g) => g.groupId)).toContain('survivor');
    await admin2.disconnect();
    await kill(second.child);
  }, 60_000);
});
