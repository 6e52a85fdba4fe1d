// A producer that keeps several Produce requests in flight on one connection, as the Java producer
// does (max.in.flight.requests.per.connection=5, idempotent or not), as a load generator in its own
// process. It is built on Tributary's codec and does only what the measurement needs: one
// partition, fixed records of `size` bytes, one batch of about `batchBytes` per request (the Java
// producer's batch.size), acks from the job, and with `idempotent` an InitProducerId first and each
// batch stamped with the producer id, epoch and next sequence.
//
// The record batch is built once; each request takes a buffer from a small ring (a buffer is
// reused only after its request was answered), writes the sequence (or -1) and the CRC, and sends
// it, so a plain and an idempotent run cost the client the same and differ only in what the broker
// does. Prints one JSON line with what it achieved; exits non-zero on any error code.
//
//   node --import tsx pipelined-producer.ts '{"bootstrap":"127.0.0.1:9092","topic":"t",...}'
import { connect, type Socket } from 'node:net';
import {
  API_TABLE,
  createInitProducerIdRequest,
  createProduceRequest,
  decodeResponseFrame,
  encodeRequestFrameChunks,
  FrameSplitter,
} from '@tributary/codec';
import { buildRecordBatch, crc32c } from '@tributary/codec/records';

export interface PipelinedProducerJob {
  bootstrap: string;
  topic: string;
  messages: number;
  size: number;
  acks: number;
  /** Bytes of records per batch (one batch per request). */
  batchBytes: number;
  /** Produce requests outstanding at once. */
  inFlight: number;
  idempotent: boolean;
  timeoutMs: number;
}

export interface PipelinedProducerResult {
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  timedOut: boolean;
  requests: number;
}

const PRODUCE = 0;
const INIT_PRODUCER_ID = 22;
// Versions librdkafka's mock cluster also serves, so that the two brokers run the same requests.
const PRODUCE_VERSION = 7;
const INIT_PRODUCER_ID_VERSION = 1;
/** v2 record batch layout: where the CRC, the CRC'd range and the base sequence sit. */
const CRC_AT = 17;
const CRC_FROM = 21;
const BASE_SEQUENCE_AT = 53;
/** Bytes a record of `size` value bytes takes beyond its value, about (no key, no headers). */
const RECORD_OVERHEAD = 10;
const NO_TOPIC_ID = Buffer.alloc(16);

class Connection {
  private readonly splitter = new FrameSplitter();
  private readonly waiting = new Map<
    number,
    { resolve: (frame: Buffer) => void; reject: (e: Error) => void }
  >();
  private correlationId = 0;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.splitter.push(chunk)) {
        const id = frame.readInt32BE(0);
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        w?.resolve(frame);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('the broker closed the connection'));
      this.waiting.clear();
    });
  }

  static open(bootstrap: string): Promise<Connection> {
    const [host, port] = bootstrap.split(':');
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), host, () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  send<T>(apiKey: number, version: number, body: unknown): Promise<T> {
    const id = ++this.correlationId;
    const p = new Promise<Buffer>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    const chunks = encodeRequestFrameChunks(API_TABLE[apiKey]!.request, version, id, 'bench-pipelined', body);
    for (const c of chunks) this.socket.write(c);
    return p.then((frame) => decodeResponseFrame<T>(frame, apiKey, version).body);
  }

  close(): void {
    this.socket.destroy();
  }
}

interface ProduceAnswer {
  responses: {
    name: string;
    partitionResponses: { index: number; errorCode: number; errorMessage: string | null }[];
  }[];
}

async function run(job: PipelinedProducerJob): Promise<PipelinedProducerResult> {
  const conn = await Connection.open(job.bootstrap);
  let producerId = -1n;
  let producerEpoch = -1;
  if (job.idempotent) {
    const init = await conn.send<{ errorCode: number; producerId: bigint; producerEpoch: number }>(
      INIT_PRODUCER_ID,
      INIT_PRODUCER_ID_VERSION,
      createInitProducerIdRequest({
        transactionalId: null,
        transactionTimeoutMs: 2_147_483_647,
        producerId: -1n,
        producerEpoch: -1,
      }),
    );
    if (init.errorCode !== 0) throw new Error(`InitProducerId failed with error code ${init.errorCode}`);
    producerId = init.producerId;
    producerEpoch = init.producerEpoch;
  }
  const perBatch = Math.max(1, Math.floor(job.batchBytes / (job.size + RECORD_OVERHEAD)));
  const value = Buffer.alloc(job.size, 0x61);
  const template = buildRecordBatch({
    records: Array.from({ length: perBatch }, () => ({ value })),
    producerId,
    producerEpoch,
    baseSequence: job.idempotent ? 0 : -1,
  });
  // A buffer goes back to the ring when its request is answered, so the ring never runs dry.
  const ring = Array.from({ length: job.inFlight + 1 }, () => Buffer.from(template));
  let sequence = 0;
  let sent = 0;
  let acknowledged = 0;
  let requests = 0;
  let timedOut = false;
  const started = performance.now();
  const deadline = started + job.timeoutMs;

  await new Promise<void>((resolve, reject) => {
    let outstanding = 0;
    const pump = (): void => {
      while (outstanding < job.inFlight && sent < job.messages) {
        if (performance.now() > deadline) {
          timedOut = true;
          break;
        }
        const batch = ring.pop()!;
        batch.writeInt32BE(job.idempotent ? sequence : -1, BASE_SEQUENCE_AT);
        batch.writeUInt32BE(crc32c(batch, CRC_FROM), CRC_AT);
        sequence = (sequence + perBatch) | 0;
        sent += perBatch;
        outstanding++;
        requests++;
        conn
          .send<ProduceAnswer>(
            PRODUCE,
            PRODUCE_VERSION,
            createProduceRequest({
              acks: job.acks,
              timeoutMs: 30_000,
              topicData: [
                { name: job.topic, topicId: NO_TOPIC_ID, partitionData: [{ index: 0, records: batch }] },
              ],
            }),
          )
          .then((answer) => {
            outstanding--;
            ring.push(batch);
            const p = answer.responses[0]?.partitionResponses[0];
            if (p === undefined || p.errorCode !== 0) {
              reject(new Error(`Produce failed: error code ${p?.errorCode} ${p?.errorMessage ?? ''}`));
              return;
            }
            acknowledged += perBatch;
            if (outstanding === 0 && (sent >= job.messages || timedOut)) resolve();
            else pump();
          }, reject);
      }
      if (outstanding === 0) resolve();
    };
    pump();
  });
  const elapsedMs = performance.now() - started;
  conn.close();
  return {
    messages: acknowledged,
    elapsedMs,
    msgsPerSec: (acknowledged * 1000) / elapsedMs,
    mbPerSec: (acknowledged * job.size) / elapsedMs / 1000,
    timedOut,
    requests,
  };
}

const job = JSON.parse(process.argv[2] ?? '{}') as PipelinedProducerJob;
run(job).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
