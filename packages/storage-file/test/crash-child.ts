// Run by the crash test as a child process: appends to a FileStorage with flush=always and prints
// each acknowledged append after it resolved, one line each:
//   a <partition> <baseOffset> <lastOffset>                      a plain batch
//   i <partition> <producerId> <sequence> <count> <baseOffset>   an idempotent batch
//   t <partition> <producerId> <sequence> <count> <baseOffset>   a transactional batch
//   m <partition> <producerId> <commit 0|1> <offset>             a COMMIT or ABORT marker
//   E <message>                                                  an append refused or failed
// The parent kills it with SIGKILL at a random moment. Stops by itself after a bounded run.
// Producers carry on after a restart from the state the storage restored (DescribeProducers),
// so a lost or wrong producer state shows as refused appends or duplicated sequences.
import { buildEndTxnMarkerBatch, buildRecordBatch } from '@tributary/codec/records';
import type { AppendResult, ProducerDescription } from '@tributary/core/storage';
import { FileStorage } from '../src/index.js';
import { IDEMPOTENT_PER_PARTITION, idempotentId, producerBatch, transactionalId } from './crash-batches.js';

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
    // Small segments and indexes so that kills land during rolls (and snapshots) too.
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
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const running = () => appends < MAX_APPENDS && Date.now() < deadline;

  const plain = async (partition: number): Promise<void> => {
    while (running()) {
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
      out(`a ${partition} ${r.baseOffset} ${r.baseOffset + count - 1}`);
    }
  };

  const send = async (partition: number, producerId: number, seq: number, count: number, txn: boolean) => {
    const now = Date.now();
    const batch = producerBatch(producerId, seq, count, txn, now);
    const r: AppendResult = await storage.append(id, partition, {
      batch,
      lastOffsetDelta: count - 1,
      maxTimestamp: now,
      producerId,
      producerEpoch: 0,
      baseSequence: seq,
      transactional: txn,
    });
    if (r.status !== 'appended') throw new Error(`producer ${producerId} seq ${seq}: ${r.status}`);
    out(`${txn ? 't' : 'i'} ${partition} ${producerId} ${seq} ${count} ${r.baseOffset}`);
  };

  const marker = async (partition: number, producerId: number, commit: boolean) => {
    const timestamp = Date.now();
    const r = await storage.appendMarker(id, partition, {
      batch: buildEndTxnMarkerBatch({ commit, producerId, producerEpoch: 0, coordinatorEpoch: 0, timestamp }),
      producerId,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      commit,
      transactionVersion: 0,
      timestamp,
    });
    if (r.status !== 'appended') throw new Error(`marker of producer ${producerId}: ${r.status}`);
    out(`m ${partition} ${producerId} ${commit ? 1 : 0} ${r.baseOffset}`);
  };

  const idempotent = async (partition: number, producerId: number, state?: ProducerDescription) => {
    let seq = (state?.lastSequence ?? -1) + 1;
    while (running()) {
      appends++;
      const count = 1 + Math.floor(Math.random() * 10);
      await send(partition, producerId, seq, count, false);
      seq += count;
    }
  };

  const transactional = async (partition: number, producerId: number, state?: ProducerDescription) => {
    let seq = (state?.lastSequence ?? -1) + 1;
    // A transaction the crash left open is aborted first, as its coordinator would.
    if (state !== undefined && state.currentTxnStartOffset >= 0) await marker(partition, producerId, false);
    while (running()) {
      const batches = 1 + Math.floor(Math.random() * 3);
      for (let b = 0; b < batches && running(); b++) {
        appends++;
        const count = 1 + Math.floor(Math.random() * 5);
        await send(partition, producerId, seq, count, true);
        seq += count;
      }
      await marker(partition, producerId, Math.random() < 0.5);
    }
  };

  const loops: Promise<void>[] = [];
  for (let p = 0; p < CRASH_PARTITIONS; p++) {
    const known = new Map((await storage.describeProducers(id, p)).map((d) => [d.producerId, d]));
    for (let i = 0; i < APPENDERS_PER_PARTITION; i++) loops.push(plain(p));
    for (let k = 0; k < IDEMPOTENT_PER_PARTITION; k++)
      loops.push(idempotent(p, idempotentId(p, k), known.get(idempotentId(p, k))));
    loops.push(transactional(p, transactionalId(p), known.get(transactionalId(p))));
  }
  await Promise.all(
    loops.map((l) =>
      l.catch((e: unknown) => {
        out(`E ${(e as Error).message}`);
      }),
    ),
  );
  await storage.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
