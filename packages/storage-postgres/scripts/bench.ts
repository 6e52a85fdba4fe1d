// pnpm --filter @tributary/storage-postgres bench [--producers 1,16] [--seconds 4] [--max-appends 20000]
//   [--concurrent-transactions 2]
// Quick figures for docs/storage-postgres.md, not a benchmark suite: appends of batches of 100-byte
// records (1 record and 100 records per batch) from N producers, each with one append in flight,
// to 1 and 6 partitions, reporting appends/s and MB/s. Needs TRIBUTARY_TEST_POSTGRES_URL (see
// .ci/postgres.sh); runs in a fresh schema, dropped at the end. Every scenario is bounded in
// appends and in time.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { buildRecordBatch } from '@tributary/codec/records';
import pg from 'pg';
import { PostgresStorage } from '../src/index.js';

const { values } = parseArgs({
  options: {
    producers: { type: 'string', default: '1,16' },
    seconds: { type: 'string', default: '4' },
    'max-appends': { type: 'string', default: '20000' },
    'concurrent-transactions': { type: 'string', default: '2' },
  },
});
const url = process.env.TRIBUTARY_TEST_POSTGRES_URL;
if (url === undefined || url === '') {
  console.error('Set TRIBUTARY_TEST_POSTGRES_URL first: eval "$(bash .ci/postgres.sh)"');
  process.exit(1);
}
const producerCounts = values.producers.split(',').map(Number);
const seconds = Number(values.seconds);
const maxAppends = Number(values['max-appends']);
const concurrentTransactions = Number(values['concurrent-transactions']);

function template(records: number): Buffer {
  return buildRecordBatch({
    records: Array.from({ length: records }, (_, i) => ({
      key: null,
      value: randomBytes(100),
      timestamp: Date.now() + i,
    })),
  });
}

const schema = `bench_${randomBytes(4).toString('hex')}`;
const storage = new PostgresStorage({
  connectionString: url,
  schema,
  maxConcurrentTransactions: concurrentTransactions,
});
await storage.open();

let topicNo = 0;
async function scenario(records: number, partitions: number, producers: number): Promise<void> {
  const t = template(records);
  const topicId = randomBytes(16);
  await storage.createTopic({ name: `bench-${topicNo++}`, topicId, partitionCount: partitions, configs: {} });
  const id = topicId.toString('base64url');
  let issued = 0;
  let done = 0;
  const deadline = Date.now() + seconds * 1_000;
  const started = performance.now();
  const producer = async (n: number): Promise<void> => {
    const partition = n % partitions;
    while (issued < maxAppends && Date.now() < deadline) {
      issued++;
      await storage.append(id, partition, {
        batch: Buffer.from(t),
        lastOffsetDelta: records - 1,
        maxTimestamp: Date.now(),
      });
      done++;
    }
  };
  await Promise.all(Array.from({ length: producers }, (_, n) => producer(n)));
  const elapsed = (performance.now() - started) / 1_000;
  const rate = done / elapsed;
  console.log(
    `| ${records} | ${t.length} | ${partitions} | ${producers} | ${Math.round(rate).toLocaleString('en-US')} | ${((rate * t.length) / 1e6).toFixed(1)} | ${Math.round(rate * records).toLocaleString('en-US')} |`,
  );
}

console.log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; maxConcurrentTransactions ${concurrentTransactions}`,
);
console.log('| Records/batch | Batch bytes | Partitions | Producers | Appends/s | MB/s | Records/s |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
try {
  for (const records of [1, 100])
    for (const partitions of [1, 6])
      for (const producers of producerCounts) await scenario(records, partitions, producers);
} finally {
  await storage.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
