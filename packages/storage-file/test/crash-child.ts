// Run by the crash test as a child process: appends to a FileStorage with flush=always and prints
// each acknowledged batch ("<partition> <baseOffset> <lastOffset>") after its append resolved. The
// parent kills it with SIGKILL at a random moment. Stops by itself after a bounded run.
import { buildRecordBatch } from '@tributary/codec/records';
import { FileStorage } from '../src/index.js';

export const CRASH_TOPIC = 'crash';
export const CRASH_PARTITIONS = 3;
const APPENDERS_PER_PARTITION = 4;
const MAX_APPENDS = 200_000;
const MAX_MS = 30_000;

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (dataDir === undefined) throw new Error('usage: crash-child <dataDir>');
  const storage = new FileStorage({
    dataDir,
    flush: { mode: 'always' },
    // Small segments and indexes so that kills land during rolls too.
    segmentBytes: 64 * 1024,
    indexIntervalBytes: 1024,
  });
  await storage.open();
  let topic = (await storage.listTopics()).find((t) => t.name === CRASH_TOPIC);
  if (topic === undefined) {
    const topicId = Buffer.alloc(16);
    topicId.writeUInt32BE(0xc0ffee, 0);
    await storage.createTopic({ name: CRASH_TOPIC, topicId, partitionCount: CRASH_PARTITIONS, configs: {} });
    topic = (await storage.listTopics())[0]!;
  }
  const id = topic.topicId.toString('base64url');
  const deadline = Date.now() + MAX_MS;
  let appends = 0;
  const appender = async (partition: number): Promise<void> => {
    while (appends < MAX_APPENDS && Date.now() < deadline) {
      appends++;
      const count = 1 + Math.floor(Math.random() * 30);
      const now = Date.now();
      const batch = buildRecordBatch({
        records: Array.from({ length: count }, (_, i) => ({
          key: Buffer.from(`p${partition}-${i}`),
          value: Buffer.alloc(100, appends & 0xff),
          timestamp: now,
        })),
      });
      const r = await storage.append(id, partition, { batch, lastOffsetDelta: count - 1, maxTimestamp: now });
      process.stdout.write(`${partition} ${r.baseOffset} ${r.baseOffset + count - 1}\n`);
    }
  };
  const loops: Promise<void>[] = [];
  for (let p = 0; p < CRASH_PARTITIONS; p++)
    for (let i = 0; i < APPENDERS_PER_PARTITION; i++) loops.push(appender(p));
  await Promise.all(loops);
  await storage.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
