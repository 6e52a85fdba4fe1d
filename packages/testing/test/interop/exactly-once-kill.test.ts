import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TributaryProcess } from '@tributary/broker/process-harness';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './until.js';

// A consume-transform-produce loop (KafkaJS, transactions with sendOffsets) across a kill -9 of
// the broker, which keeps its log on file storage with flush=always: afterwards the output read
// with read_committed equals the input, nothing lost and nothing twice.

const dataDir = mkdtempSync(join(tmpdir(), 'tributary-eos-kill-'));
const started: TributaryProcess[] = [];
afterAll(() => {
  for (const p of started) p.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** A port free now, so that the restarted broker listens where the clients already look. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startBroker(port: number): Promise<TributaryProcess> {
  const p = TributaryProcess.start([
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--admin-port',
    '-1',
    '--flush',
    'always',
    '--group-initial-rebalance-delay-ms',
    '0',
  ]);
  started.push(p);
  await p.started(30_000);
  return p;
}

const INPUT = Array.from({ length: 240 }, (_, i) => `v${i}`);

/** A copier: each polled batch becomes one transaction holding its copies and the consumed offsets. */
async function startCopier(kafka: Kafka, copied: { n: number }): Promise<{ stop(): Promise<void> }> {
  const producer: Producer = kafka.producer({
    transactionalId: 'eos-kill-copier',
    maxInFlightRequests: 1,
    idempotent: true,
  });
  const consumer: Consumer = kafka.consumer({ groupId: 'eos-kill-copier', maxBytesPerPartition: 400 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: 'eos-kill-in', fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      const txn = await producer.transaction();
      try {
        await txn.send({
          topic: 'eos-kill-out',
          messages: batch.messages.map((m) => ({ value: `copy-${m.value!.toString()}` })),
        });
        await txn.sendOffsets({
          consumerGroupId: 'eos-kill-copier',
          topics: [
            {
              topic: batch.topic,
              partitions: [
                { partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
              ],
            },
          ],
        });
        await txn.commit();
      } catch (e) {
        await txn.abort().catch(() => {});
        throw e;
      }
      for (const m of batch.messages) resolveOffset(m.offset);
      copied.n += batch.messages.length;
    },
  });
  const bounded = (p: Promise<unknown>) =>
    Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  return {
    async stop() {
      await bounded(consumer.disconnect());
      await bounded(producer.disconnect());
    },
  };
}

describe('consume-transform-produce across kill -9', () => {
  it('copies every input record exactly once', async () => {
    const port = await freePort();
    const first = await startBroker(port);
    const kafka = () =>
      new Kafka({
        brokers: [`127.0.0.1:${port}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
      });
    const setup = kafka();
    const admin = setup.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'eos-kill-in', numPartitions: 2 },
        { topic: 'eos-kill-out', numPartitions: 2 },
      ],
    });
    await admin.disconnect();
    const seed = setup.producer();
    await seed.connect();
    await seed.send({
      topic: 'eos-kill-in',
      messages: INPUT.map((value, i) => ({ value, partition: i % 2 })),
    });
    await seed.disconnect();

    // Copy part of the input, then kill the broker mid-stream.
    const copied = { n: 0 };
    const copier = await startCopier(kafka(), copied);
    await until('a third of the input copied', () => copied.n >= INPUT.length / 3, 60_000);
    first.kill('SIGKILL');
    await first.exited;
    await copier.stop();

    // A new copier with the same transactional id and group finishes the job.
    await startBroker(port);
    const resumed = await startCopier(kafka(), copied);
    const reader = kafka().consumer({ groupId: 'eos-kill-check' });
    await reader.connect();
    await reader.subscribe({ topic: 'eos-kill-out', fromBeginning: true });
    const output: string[] = [];
    await reader.run({
      eachMessage: async ({ message }) => {
        output.push(message.value!.toString());
      },
    });
    await until('the whole input copied', () => output.length >= INPUT.length, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    await reader.disconnect();
    await resumed.stop();

    expect(output.length).toBe(INPUT.length);
    expect([...output].sort()).toEqual(INPUT.map((v) => `copy-${v}`).sort());
  }, 150_000);
});
