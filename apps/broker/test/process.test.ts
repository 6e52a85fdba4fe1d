import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  encodeRequestFrame,
  FetchRequestDescriptor,
} from '@tributary/codec';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processes, startTributary } from '../src/process-harness.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-cli-'));
});
afterEach(async () => {
  for (const p of processes.splice(0)) {
    p.kill('SIGKILL');
    await p.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const kafkaFor = (bootstrap: string) =>
  new Kafka({
    clientId: 'cli-test',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });

async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('tributary as a process', () => {
  it('hands its group settings to the broker, which reports them through DescribeConfigs', async () => {
    const p = startTributary([
      '--memory',
      '--port',
      '0',
      '--admin-port',
      '-1',
      '--group-initial-rebalance-delay-ms',
      '0',
      '--group-consumer-heartbeat-interval-ms',
      '6000',
      '--group-consumer-assignors',
      'range,uniform',
    ]);
    const { kafka: bootstrap } = await p.started();
    const admin = kafkaFor(bootstrap).admin();
    await admin.connect();
    try {
      const { brokers } = await admin.describeCluster();
      const result = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.BROKER, name: String(brokers[0]!.nodeId) }],
      });
      const entries = new Map(result.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
      expect(entries.get('group.initial.rebalance.delay.ms')).toBe('0');
      expect(entries.get('group.consumer.heartbeat.interval.ms')).toBe('6000');
      expect(entries.get('group.consumer.assignors')).toBe('range,uniform');
      expect(entries.get('group.consumer.session.timeout.ms')).toBe('45000');
    } finally {
      await admin.disconnect();
    }
  });

  it('serves Kafka clients, metrics and health, and shuts down cleanly on SIGTERM', async () => {
    const p = startTributary(['--memory', '--port', '0', '--admin-port', '0', '--num-partitions', '3']);
    const { kafka: bootstrap, admin } = await p.started();
    expect(admin).not.toBeNull();

    const client = kafkaFor(bootstrap);
    const producer = client.producer();
    await producer.connect();
    await producer.send({
      topic: 'cli-events',
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();
    const kafkaAdmin = client.admin();
    await kafkaAdmin.connect();
    const offsets = await kafkaAdmin.fetchTopicOffsets('cli-events');
    await kafkaAdmin.disconnect();
    expect(offsets).toHaveLength(3);
    expect(offsets.reduce((sum, o) => sum + Number(o.high), 0)).toBe(30);

    const base = `http://${admin}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^tributary_requests_total\{api="Produce",version="\d+"\} [1-9]/m);
    expect(metrics).toMatch(/^tributary_request_duration_seconds_bucket\{le="0\.001",api="Metadata"\} \d+/m);
    expect(metrics).toMatch(/^tributary_partitions\{topic="cli-events"\} 3$/m);
    expect(metrics).toMatch(/^tributary_log_size_bytes\{topic="cli-events"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^tributary_bytes_in_total [1-9]/m);
    expect(metrics).toMatch(/^tributary_process_resident_memory_bytes /m);

    p.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'tributary stopped']));
    expect(p.stderr).toBe('');
  });

  it('waits for in-flight requests on SIGTERM, and a second signal exits at once', async () => {
    const p = startTributary([
      '--memory',
      '--port',
      '0',
      '--admin-port',
      '0',
      '--shutdown-timeout-ms',
      '60000',
    ]);
    const { kafka: bootstrap, admin } = await p.started();
    const client = kafkaFor(bootstrap);
    const kafkaAdmin = client.admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.createTopics({ topics: [{ topic: 'idle', numPartitions: 1 }] });
    await kafkaAdmin.disconnect();

    // A long-poll Fetch at the end of an empty partition: in flight for 30 s.
    const [host, port] = bootstrap.split(':') as [string, string];
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(Number(port), host, resolve));
    socket.on('error', () => {});
    const fetch4 = createFetchRequest({
      maxWaitMs: 30_000,
      minBytes: 1,
      topics: [
        createFetchRequestFetchTopic({
          topic: 'idle',
          partitions: [
            createFetchRequestFetchPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }),
          ],
        }),
      ],
    });
    socket.write(encodeRequestFrame(FetchRequestDescriptor, 4, 1, 'cli-test', fetch4));
    await new Promise((resolve) => setTimeout(resolve, 200));

    p.kill('SIGTERM');
    await p.waitForLog((l) => l.msg === 'shutting down');
    expect((await fetch(`http://${admin}/readyz`)).status).toBe(503);
    p.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 143, signal: null });
    expect(p.logs.some((l) => l.msg === 'tributary stopped')).toBe(false);
    socket.destroy();
  });

  it('reports a port in use in one line, exits 1, and writes nothing to the data directory', async () => {
    const { server, port } = await occupyPort();
    try {
      const dataDir = join(dir, 'data');
      const p = startTributary(['--data-dir', dataDir, '--port', String(port), '--admin-port', '-1']);
      expect((await p.exited).code).toBe(1);
      expect(p.stderr).toBe(
        `tributary: cannot listen on 127.0.0.1:${port} (Kafka listener): address already in use\n`,
      );
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('reports an admin port in use the same way', async () => {
    const { server, port } = await occupyPort();
    try {
      const dataDir = join(dir, 'data');
      const p = startTributary(['--data-dir', dataDir, '--port', '0', '--admin-port', String(port)]);
      expect((await p.exited).code).toBe(1);
      expect(p.stderr).toBe(
        `tributary: cannot listen on 127.0.0.1:${port} (admin listener): address already in use\n`,
      );
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('exits 2 naming the setting for a corrupt config file, and writes nothing', async () => {
    const file = join(dir, 'broker.json');
    writeFileSync(file, '{"port": 9092,');
    const dataDir = join(dir, 'data');
    const p = startTributary(['--config', file, '--data-dir', dataDir]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toMatch(new RegExp(`^tributary: config file ${file} is not valid JSON: [^\\n]+\\n$`));
    expect(existsSync(dataDir)).toBe(false);

    const env = startTributary(['--data-dir', dataDir], { TRIBUTARY_LOG_LEVEL: 'loud' });
    expect((await env.exited).code).toBe(2);
    expect(env.stderr).toMatch(
      /^tributary: invalid setting log-level \(from TRIBUTARY_LOG_LEVEL\): [^\n]+\n$/,
    );
  });
});
