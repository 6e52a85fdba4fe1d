// A @platformatic/kafka producer as a load generator, in its own process, printing one JSON line
// with what it achieved. Two modes:
//
// - throughput: sends `messages` records of `size` bytes in sends of `batch` records, `inFlight`
//   sends outstanding, and with `transaction` set, inside transactions of that many records (one
//   transaction at a time); stops at the count or the time limit.
// - endTxn: `transactions` transactions of one record, one after another, timing each commit
//   (one EndTxn round trip), each whole transaction, and from each commit until a read_committed
//   ListOffsets shows the record committed (its marker written and durable: the last stable offset
//   is past it); the first `warmup` are reported apart.
//
//   node --import tsx platformatic-producer.ts '{"bootstrap":"127.0.0.1:9092","topic":"t",...}'
import { Admin, FetchIsolationLevels, Producer } from '@platformatic/kafka';
import { type LatencySummary, summarizeMicros } from './stats.js';

export interface PlatformaticProducerJob {
  mode?: 'throughput' | 'endTxn';
  bootstrap: string;
  topic: string;
  partitions: number;
  messages: number;
  size: number;
  acks: number;
  batch: number;
  inFlight: number;
  /** Records per transaction; absent for a plain producer. */
  transaction?: number;
  /** endTxn mode: how many transactions, and how many of the first are reported apart. */
  transactions?: number;
  warmup?: number;
  timeoutMs: number;
}

export interface PlatformaticProducerResult {
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  timedOut: boolean;
  /** endTxn mode: transactions completed. */
  transactions?: number;
  /** endTxn mode, after the warm-up: the commit (EndTxn) round trip as the client sees it. */
  commitLatency?: LatencySummary;
  /** endTxn mode, after the warm-up: begin, send one record (AddPartitionsToTxn, Produce), commit. */
  transactionLatency?: LatencySummary;
  warmingCommitLatency?: LatencySummary;
  /**
   * endTxn mode, after the warm-up: from sending EndTxn until a read_committed ListOffsets (polled
   * back to back) returns a last stable offset past the record.
   */
  markersVisibleLatency?: LatencySummary;
}

/** How long one transaction's record may take to show as committed before the run gives up. */
const VISIBLE_LIMIT_MS = 5_000;

function createProducer(job: PlatformaticProducerJob, transactional: boolean): Producer {
  return new Producer({
    clientId: 'bench-broker-platformatic',
    bootstrapBrokers: [job.bootstrap],
    acks: job.acks,
    retries: transactional ? 10 : 0,
    // While a transaction's markers are being written, AddPartitionsToTxn for the next one is
    // answered CONCURRENT_TRANSACTIONS; the client's 1 s default retry delay would then set the
    // pace. Kafka's Java producer retries that case after 20 ms.
    ...(transactional && { retryDelay: 20 }),
    ...(transactional && {
      idempotent: true,
      // A new id per run: a broker keeps the state of the ids it has seen.
      transactionalId: `bench-${job.topic}-${process.pid}-${Date.now()}`,
    }),
  });
}

async function throughput(job: PlatformaticProducerJob): Promise<PlatformaticProducerResult> {
  const perTransaction = job.transaction;
  const producer = createProducer(job, perTransaction !== undefined);
  const value = Buffer.alloc(job.size, 0x61);
  // Each send carries records for every partition, spread evenly, so each produce request holds
  // one batch per partition.
  const records = Array.from({ length: job.batch }, (_, i) => ({
    topic: job.topic,
    partition: i % job.partitions,
    value,
  }));
  // Metadata, connection (and producer id, coordinator), not timed.
  if (perTransaction !== undefined) {
    const txn = await producer.beginTransaction();
    await txn.send({ messages: records.slice(0, 1) });
    await txn.commit();
  } else {
    await producer.send({ messages: records.slice(0, 1) });
  }
  let sent = 0;
  let committed = 0;
  let timedOut = false;
  const started = performance.now();
  const deadline = started + job.timeoutMs;
  async function plain(): Promise<void> {
    while (sent < job.messages) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      sent += job.batch;
      await producer.send({ messages: records });
    }
  }
  async function transactions(size: number): Promise<void> {
    while (sent < job.messages) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      const txn = await producer.beginTransaction();
      for (let n = 0; n < size && sent < job.messages; n += job.batch) {
        sent += job.batch;
        await txn.send({ messages: records });
      }
      await txn.commit();
      committed++;
    }
  }
  if (perTransaction !== undefined) await transactions(perTransaction);
  else await Promise.all(Array.from({ length: job.inFlight }, plain));
  const elapsedMs = performance.now() - started;
  await producer.close();
  return {
    messages: sent,
    elapsedMs,
    msgsPerSec: (sent * 1000) / elapsedMs,
    mbPerSec: (sent * job.size) / 1000 / elapsedMs,
    timedOut,
    // The warm-up transaction counts too: the broker's request counts cover it.
    ...(perTransaction !== undefined && { transactions: committed + 1 }),
  };
}

async function endTxn(job: PlatformaticProducerJob): Promise<PlatformaticProducerResult> {
  const producer = createProducer(job, true);
  const record = { topic: job.topic, partition: 0, value: Buffer.alloc(job.size, 0x61) };
  const count = job.transactions ?? 0;
  const warmup = Math.min(job.warmup ?? 0, Math.floor(count / 2));
  const admin = new Admin({ clientId: 'bench-broker-lso', bootstrapBrokers: [job.bootstrap], retries: 3 });
  const commits: number[] = [];
  const whole: number[] = [];
  const visible: number[] = [];
  /** Polls the last stable offset until it passes `offset`; the time it took, or NaN at the limit. */
  async function untilStable(offset: bigint, since: number): Promise<number> {
    for (;;) {
      const [topic] = await admin.listOffsets({
        topics: [{ name: job.topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
      const now = performance.now();
      if ((topic?.partitions[0]?.offset ?? -1n) > offset) return now - since;
      if (now - since > VISIBLE_LIMIT_MS) return Number.NaN;
    }
  }
  let timedOut = false;
  const started = performance.now();
  const deadline = started + job.timeoutMs;
  for (let i = 0; i < count; i++) {
    if (performance.now() > deadline) {
      timedOut = true;
      break;
    }
    const began = performance.now();
    const txn = await producer.beginTransaction();
    const sent = await txn.send({ messages: [record] });
    const committing = performance.now();
    await txn.commit();
    const done = performance.now();
    commits.push((done - committing) * 1000);
    whole.push((done - began) * 1000);
    const offset = sent.offsets?.[0]?.offset;
    if (offset !== undefined) visible.push((await untilStable(offset, committing)) * 1000);
  }
  const elapsedMs = performance.now() - started;
  await producer.close();
  await admin.close();
  const lost = visible.filter((v) => !Number.isFinite(v)).length;
  if (lost > 0)
    throw new Error(`${lost} committed records did not show as committed within ${VISIBLE_LIMIT_MS} ms`);
  return {
    messages: commits.length,
    transactions: commits.length,
    elapsedMs,
    msgsPerSec: (commits.length * 1000) / elapsedMs,
    mbPerSec: (commits.length * job.size) / 1000 / elapsedMs,
    timedOut,
    commitLatency: summarizeMicros(commits.slice(warmup)),
    transactionLatency: summarizeMicros(whole.slice(warmup)),
    warmingCommitLatency: summarizeMicros(commits.slice(0, warmup)),
    markersVisibleLatency: summarizeMicros(visible.slice(warmup)),
  };
}

const job = JSON.parse(process.argv[2]!) as PlatformaticProducerJob;
(job.mode === 'endTxn' ? endTxn(job) : throughput(job)).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
