// kill -9 during acks=-1 produce with flush=always, restart, and check that nothing acknowledged
// was lost and nothing corrupt is served. Used by the test suite (a few cycles) and by
// `pnpm --filter @tributary/broker crash-test` (50 cycles).
import { execFile } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { TributaryProcess } from '../src/process-harness.js';

export interface CrashReport {
  cycles: number;
  acknowledged: number;
  stored: number;
  lost: string[];
  duplicates: number;
  offsetGaps: number;
}

const TOPIC = 'crash';

function kcatConsume(bootstrap: string): Promise<{ offset: number; value: string }[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'kcat',
      [
        '-b',
        bootstrap,
        '-C',
        '-t',
        TOPIC,
        '-p',
        '0',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-X',
        'check.crcs=true',
        '-f',
        '%o|%s\n',
      ],
      { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kcat failed: ${stderr || error.message}`));
        else
          resolve(
            stdout
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => {
                const bar = l.indexOf('|');
                return { offset: Number(l.slice(0, bar)), value: l.slice(bar + 1) };
              }),
          );
      },
    );
  });
}

async function produceUntilKilled(bootstrap: string, cycle: number, acked: Set<string>, stopAfterMs: number) {
  const kafka = new Kafka({
    clientId: 'crash-test',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  let i = 0;
  try {
    // Several sends in flight at once, so the kill lands among appends waiting for one fsync.
    while (Date.now() - started < stopAfterMs + 5_000) {
      const sends = [];
      for (let k = 0; k < 4; k++) {
        const values = Array.from({ length: 20 }, () => `c${cycle}-${i++}`);
        sends.push(
          producer
            .send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ value, partition: 0 })) })
            .then(() => {
              for (const v of values) acked.add(v);
            }),
        );
      }
      await Promise.all(sends);
    }
  } catch {
    // The broker was killed under the producer.
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

export async function runCrashCycles(options: {
  cycles: number;
  dataDir: string;
  onCycle?: (cycle: number, acknowledged: number) => void;
}): Promise<CrashReport> {
  const acked = new Set<string>();
  const start = () =>
    TributaryProcess.start([
      '--data-dir',
      options.dataDir,
      '--flush',
      'always',
      '--port',
      '0',
      '--admin-port',
      '-1',
      '--log-level',
      'info',
    ]);
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const broker = start();
    const { kafka } = await broker.started();
    if (cycle === 0) {
      const admin = new Kafka({ brokers: [kafka], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
      await admin.disconnect();
    }
    const killAfterMs = 200 + Math.floor(Math.random() * 800);
    const producing = produceUntilKilled(kafka, cycle, acked, killAfterMs);
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    broker.kill('SIGKILL');
    await broker.exited;
    await producing;
    options.onCycle?.(cycle, acked.size);
  }

  // Restart once more and read everything back.
  const broker = start();
  const { kafka } = await broker.started();
  try {
    const records = await kcatConsume(kafka);
    const values = new Set(records.map((r) => r.value));
    let offsetGaps = 0;
    for (let n = 0; n < records.length; n++) if (records[n]!.offset !== n) offsetGaps++;
    return {
      cycles: options.cycles,
      acknowledged: acked.size,
      stored: records.length,
      lost: [...acked].filter((v) => !values.has(v)),
      duplicates: records.length - values.size,
      offsetGaps,
    };
  } finally {
    broker.kill('SIGTERM');
    await broker.exited;
  }
}
