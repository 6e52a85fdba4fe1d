// A @platformatic/kafka producer as a load generator, in its own process: sends `messages` records
// of `size` bytes in sends of `batch` records, `inFlight` sends outstanding, stops at the count or
// the time limit, and prints one JSON line with what it achieved.
//
//   node --import tsx platformatic-producer.ts '{"bootstrap":"127.0.0.1:9092","topic":"t",...}'
import { Producer } from '@platformatic/kafka';

export interface PlatformaticProducerJob {
  bootstrap: string;
  topic: string;
  partitions: number;
  messages: number;
  size: number;
  acks: number;
  batch: number;
  inFlight: number;
  timeoutMs: number;
}

export interface PlatformaticProducerResult {
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  timedOut: boolean;
}

async function main(job: PlatformaticProducerJob): Promise<PlatformaticProducerResult> {
  const producer = new Producer({
    clientId: 'bench-broker-platformatic',
    bootstrapBrokers: [job.bootstrap],
    acks: job.acks,
    retries: 0,
  });
  const value = Buffer.alloc(job.size, 0x61);
  // Each send carries records for every partition, spread evenly, so each produce request holds
  // one batch per partition.
  const records = Array.from({ length: job.batch }, (_, i) => ({
    topic: job.topic,
    partition: i % job.partitions,
    value,
  }));
  await producer.send({ messages: records.slice(0, 1) }); // metadata and connection, not timed
  let sent = 0;
  let timedOut = false;
  const started = performance.now();
  const deadline = started + job.timeoutMs;
  async function loop(): Promise<void> {
    while (sent < job.messages) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      sent += job.batch;
      await producer.send({ messages: records });
    }
  }
  await Promise.all(Array.from({ length: job.inFlight }, loop));
  const elapsedMs = performance.now() - started;
  await producer.close();
  return {
    messages: sent,
    elapsedMs,
    msgsPerSec: (sent * 1000) / elapsedMs,
    mbPerSec: (sent * job.size) / 1000 / elapsedMs,
    timedOut,
  };
}

const job = JSON.parse(process.argv[2]!) as PlatformaticProducerJob;
main(job).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
