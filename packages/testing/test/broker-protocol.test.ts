import {
  ApiKey,
  createApiVersionsRequest,
  createCreateTopicsRequest,
  createDeleteTopicsRequest,
  createListOffsetsRequest,
  createMetadataRequest,
  createProduceRequest,
  ErrorCode,
  type FetchResponse,
  type MetadataResponse,
  type ProduceResponse,
} from '@tributary/codec';
import { buildRecordBatch, iterateRecordBatches } from '@tributary/codec/records';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { fetchRequest } from './consume.js';
import { WireClient } from './wire.js';

let broker: TestBroker;
let client: WireClient;

beforeAll(async () => {
  broker = await startTestBroker({ config: { numPartitions: 3 } });
  client = await WireClient.connect(broker.port);
  // Produce never creates topics (as in Kafka): a client's Metadata request does.
  await client.send(
    ApiKey.Metadata,
    12,
    createMetadataRequest({ topics: ['data', 'times'].map((name) => ({ topicId: Buffer.alloc(16), name })) }),
  );
});
afterAll(async () => {
  client.close();
  await broker.close();
});

const batch = (values: string[], timestamp = Date.now()) =>
  buildRecordBatch({
    records: values.map((v, i) => ({
      key: Buffer.from(`k-${v}`),
      value: Buffer.from(v),
      timestamp: timestamp + i,
    })),
  });

async function produce(
  topic: string,
  partition: number,
  records: Buffer,
  version = 9,
): Promise<ProduceResponse> {
  return client.send<ProduceResponse>(
    ApiKey.Produce,
    version,
    createProduceRequest({
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, topicId: Buffer.alloc(16), partitionData: [{ index: partition, records }] }],
    }),
  );
}

async function fetch(
  topic: string,
  partition: number,
  offset: bigint,
  extra: Partial<{ maxWaitMs: number; minBytes: number }> = {},
) {
  return client.send<FetchResponse>(ApiKey.Fetch, 12, fetchRequest(topic, partition, offset, extra));
}

describe('ApiVersions', () => {
  it('advertises the served APIs, in order, at every request version', async () => {
    for (const v of [0, 1, 2, 3, 4]) {
      const res = await client.send(
        ApiKey.ApiVersions,
        v,
        createApiVersionsRequest({ clientSoftwareName: 't', clientSoftwareVersion: '1' }),
      );
      expect(res.errorCode).toBe(0);
      const keys = res.apiKeys.map((a: { apiKey: number }) => a.apiKey);
      expect(keys).toEqual([...keys].sort((a, b) => a - b));
      expect(keys).toEqual(
        expect.arrayContaining([ApiKey.Produce, ApiKey.Fetch, ApiKey.Metadata, ApiKey.ApiVersions]),
      );
      const av = res.apiKeys.find((a: { apiKey: number }) => a.apiKey === ApiKey.ApiVersions);
      expect(av).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 4 });
    }
  });

  it('answers a version above its maximum with UNSUPPORTED_VERSION at v0 and its range (KIP-511)', async () => {
    const raw = await client.sendRaw(ApiKey.ApiVersions, 4, createApiVersionsRequest()).catch(() => null);
    expect(raw).not.toBeNull();
    const { WireClient: _ } = { WireClient };
    const c = await WireClient.connect(broker.port);
    // Hand-build an ApiVersions v9 request: header v2 + an empty flexible body.
    const body = Buffer.from([0x00, 0x00, 0x00]); // client software name "", version "", no tags
    const header = Buffer.alloc(4 + 2 + 2 + 4 + 2 + 1);
    let o = 4;
    o = header.writeInt16BE(18, o);
    o = header.writeInt16BE(9, o);
    o = header.writeInt32BE(77, o);
    o = header.writeInt16BE(-1, o);
    header[o] = 0;
    const frame = Buffer.concat([header, body]);
    frame.writeInt32BE(frame.length - 4, 0);
    const reply = new Promise<Buffer>((resolve) => c.socket.once('data', resolve));
    c.socket.write(frame);
    const bytes = await reply;
    expect(bytes.readInt32BE(4)).toBe(77); // header v0: correlation id only
    expect(bytes.readInt16BE(8)).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(bytes.readInt32BE(10)).toBeGreaterThan(3); // an int32 array count: the v0 shape
    c.close();
  });

  it('advertises Produce from v0 as Kafka 4 does (KAFKA-18659), yet closes a connection sending v0-v2', async () => {
    const res = await client.send(ApiKey.ApiVersions, 3, createApiVersionsRequest());
    const produceRange = res.apiKeys.find((a: { apiKey: number }) => a.apiKey === ApiKey.Produce);
    const served = broker.broker.servedApis().find((a) => a.apiKey === ApiKey.Produce)!;
    expect(served.minVersion).toBe(3);
    expect(produceRange).toEqual({ apiKey: ApiKey.Produce, minVersion: 0, maxVersion: served.maxVersion });
    for (const version of [0, 2]) {
      const c = await WireClient.connect(broker.port);
      // Header v1 (client id null), then a v0-v2 body: acks, timeout, no topics.
      const frame = Buffer.alloc(4 + 10 + 10);
      frame.writeInt32BE(frame.length - 4, 0);
      frame.writeInt16BE(ApiKey.Produce, 4);
      frame.writeInt16BE(version, 6);
      frame.writeInt32BE(5, 8);
      frame.writeInt16BE(-1, 12);
      frame.writeInt16BE(-1, 14);
      frame.writeInt32BE(1000, 16);
      frame.writeInt32BE(0, 20);
      const outcome = new Promise<string>((resolve) => {
        c.socket.once('data', () => resolve('answered'));
        c.socket.once('close', () => resolve('closed'));
        setTimeout(() => resolve('still open'), 5000).unref();
      });
      c.socket.write(frame);
      expect(await outcome, `Produce v${version}`).toBe('closed');
      c.close();
    }
  });
});

describe('Metadata', () => {
  it('auto-creates a requested topic with num.partitions and describes broker and partitions', async () => {
    const res = await client.send<MetadataResponse>(
      ApiKey.Metadata,
      12,
      createMetadataRequest({ topics: [{ topicId: Buffer.alloc(16), name: 'auto-topic' }] }),
    );
    expect(res.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }]);
    expect(res.controllerId).toBe(1);
    expect(res.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const [topic] = res.topics;
    expect(topic).toMatchObject({ errorCode: 0, name: 'auto-topic' });
    expect(topic!.topicId.equals(Buffer.alloc(16))).toBe(false);
    expect(topic!.partitions.map((p) => [p.partitionIndex, p.leaderId, p.replicaNodes, p.isrNodes])).toEqual([
      [0, 1, [1], [1]],
      [1, 1, [1], [1]],
      [2, 1, [1], [1]],
    ]);
    // The topic id is stable.
    const again = await client.send<MetadataResponse>(
      ApiKey.Metadata,
      12,
      createMetadataRequest({ topics: null }),
    );
    expect(again.topics.find((t) => t.name === 'auto-topic')!.topicId.equals(topic!.topicId)).toBe(true);
  });

  it('honours allowAutoTopicCreation=false and rejects invalid names', async () => {
    const res = await client.send<MetadataResponse>(
      ApiKey.Metadata,
      12,
      createMetadataRequest({
        allowAutoTopicCreation: false,
        topics: [
          { topicId: Buffer.alloc(16), name: 'not-created' },
          { topicId: Buffer.alloc(16), name: 'bad name!' },
        ],
      }),
    );
    expect(res.topics.map((t) => t.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    ]);
  });
});

describe('Produce and Fetch', () => {
  it('assigns offsets per partition and fetches the batches back byte-exact apart from the base offset', async () => {
    const r1 = await produce('data', 0, batch(['a', 'b', 'c']));
    expect(r1.responses[0]!.partitionResponses[0]).toMatchObject({
      errorCode: 0,
      baseOffset: 0n,
      logStartOffset: 0n,
    });
    const second = batch(['d', 'e']);
    const r2 = await produce('data', 0, Buffer.from(second));
    expect(r2.responses[0]!.partitionResponses[0]!.baseOffset).toBe(3n);
    const r3 = await produce('data', 2, batch(['x']));
    expect(r3.responses[0]!.partitionResponses[0]!.baseOffset).toBe(0n);

    const f = await fetch('data', 0, 4n);
    const p = f.responses[0]!.partitions[0]!;
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 5n, lastStableOffset: 5n, logStartOffset: 0n });
    // The whole batch containing offset 4 comes back, starting at its base offset 3.
    const batches = [...iterateRecordBatches(p.records!)];
    expect(batches).toHaveLength(1);
    expect(batches[0]!.header.baseOffset).toBe(3n);
    expect(batches[0]!.records.map((r) => r.value!.toString())).toEqual(['d', 'e']);
    expect(p.records!.subarray(8).equals(second.subarray(8))).toBe(true);
  });

  it('refuses a corrupt CRC, a second batch, an unknown partition and an oversized batch', async () => {
    const corrupt = batch(['z']);
    corrupt[corrupt.length - 1] = corrupt.at(-1)! ^ 0xff;
    expect((await produce('data', 1, corrupt)).responses[0]!.partitionResponses[0]!.errorCode).toBe(
      ErrorCode.CORRUPT_MESSAGE,
    );
    const two = Buffer.concat([batch(['1']), batch(['2'])]);
    expect((await produce('data', 1, two)).responses[0]!.partitionResponses[0]!.errorCode).toBe(
      ErrorCode.INVALID_RECORD,
    );
    expect((await produce('data', 7, batch(['q']))).responses[0]!.partitionResponses[0]!.errorCode).toBe(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    expect(
      (await produce('no-such-topic', 0, batch(['q']))).responses[0]!.partitionResponses[0]!.errorCode,
    ).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    // A legacy magic 1 message (offset, size, crc, magic, attributes, timestamp, null key, value).
    const legacy = Buffer.alloc(8 + 4 + 4 + 1 + 1 + 8 + 4 + 4 + 1);
    legacy.writeInt32BE(legacy.length - 12, 8);
    legacy[16] = 1;
    legacy.writeInt32BE(-1, 26);
    legacy.writeInt32BE(1, 30);
    expect((await produce('data', 1, legacy)).responses[0]!.partitionResponses[0]!.errorCode).toBe(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
    );
    const big = buildRecordBatch({ records: [{ value: Buffer.alloc(2_000_000) }] });
    expect((await produce('data', 1, big)).responses[0]!.partitionResponses[0]!.errorCode).toBe(
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    // Nothing was appended by the refused requests.
    expect((await fetch('data', 1, 0n)).responses[0]!.partitions[0]!.highWatermark).toBe(0n);
  });

  it('answers OFFSET_OUT_OF_RANGE past the high watermark', async () => {
    expect((await fetch('data', 0, 99n)).responses[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.OFFSET_OUT_OF_RANGE,
    );
  });

  it('holds a fetch until an append arrives (long poll), within maxWaitMs', async () => {
    const other = await WireClient.connect(broker.port);
    const started = Date.now();
    const pending = fetch('data', 1, 0n, { maxWaitMs: 5_000, minBytes: 1 });
    await new Promise((r) => setTimeout(r, 100));
    await other.send(
      ApiKey.Produce,
      9,
      createProduceRequest({
        acks: 1,
        timeoutMs: 1000,
        topicData: [
          {
            name: 'data',
            topicId: Buffer.alloc(16),
            partitionData: [{ index: 1, records: batch(['late']) }],
          },
        ],
      }),
    );
    const res = await pending;
    expect(Date.now() - started).toBeLessThan(4_000);
    const values = [...iterateRecordBatches(res.responses[0]!.partitions[0]!.records!)].flatMap((b) =>
      b.records.map((r) => r.value!.toString()),
    );
    expect(values).toEqual(['late']);
    other.close();
    // With nothing to read, the wait ends at maxWaitMs with an empty answer.
    const t0 = Date.now();
    const empty = await fetch('data', 2, 1n, { maxWaitMs: 300, minBytes: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(empty.responses[0]!.partitions[0]!.records!.length).toBe(0);
  });

  it('sends no response for acks=0 and keeps later responses in order', async () => {
    client.sendOneWay(
      ApiKey.Produce,
      9,
      createProduceRequest({
        acks: 0,
        timeoutMs: 1000,
        topicData: [
          {
            name: 'data',
            topicId: Buffer.alloc(16),
            partitionData: [{ index: 2, records: batch(['fire']) }],
          },
        ],
      }),
    );
    const f = await fetch('data', 2, 0n);
    expect(f.responses[0]!.partitions[0]!.highWatermark).toBe(2n);
  });
});

describe('ListOffsets', () => {
  it('answers earliest, latest, max timestamp and by timestamp with the real record timestamp', async () => {
    await produce('times', 0, batch(['a', 'b', 'c'], 10_000));
    await produce('times', 0, batch(['d', 'e'], 50_000));
    const ask = (timestamp: bigint) =>
      client.send(
        ApiKey.ListOffsets,
        7,
        createListOffsetsRequest({
          replicaId: -1,
          topics: [{ name: 'times', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
        }),
      );
    const part = async (ts: bigint) => (await ask(ts)).topics[0].partitions[0];
    expect(await part(-2n)).toMatchObject({ errorCode: 0, offset: 0n });
    expect(await part(-1n)).toMatchObject({ offset: 5n });
    expect(await part(-3n)).toMatchObject({ offset: 4n, timestamp: 50_001n });
    expect(await part(10_001n)).toMatchObject({ offset: 1n, timestamp: 10_001n });
    expect(await part(20_000n)).toMatchObject({ offset: 3n, timestamp: 50_000n });
    expect(await part(99_999n)).toMatchObject({ offset: -1n, timestamp: -1n });
  });
});

describe('CreateTopics and DeleteTopics', () => {
  it('creates with partitions and configs, refuses duplicates, bad configs and replication > 1, deletes by name', async () => {
    const create = (name: string, extra: Record<string, unknown> = {}) =>
      client.send(
        ApiKey.CreateTopics,
        7,
        createCreateTopicsRequest({
          timeoutMs: 1000,
          topics: [{ name, numPartitions: 6, replicationFactor: 1, assignments: [], configs: [], ...extra }],
        }),
      );
    const ok = (await create('made', { configs: [{ name: 'retention.ms', value: '1000' }] })).topics[0];
    expect(ok).toMatchObject({ errorCode: 0, numPartitions: 6, replicationFactor: 1 });
    expect(ok.configs.find((c: { name: string }) => c.name === 'retention.ms')).toMatchObject({
      value: '1000',
      configSource: 1,
    });
    expect((await create('made')).topics[0].errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    expect((await create('cfg', { configs: [{ name: 'no.such', value: '1' }] })).topics[0].errorCode).toBe(
      ErrorCode.INVALID_CONFIG,
    );
    expect((await create('rf', { replicationFactor: 3 })).topics[0].errorCode).toBe(
      ErrorCode.INVALID_REPLICATION_FACTOR,
    );
    expect((await create('zero', { numPartitions: 0 })).topics[0].errorCode).toBe(
      ErrorCode.INVALID_PARTITIONS,
    );
    const validate = await client.send(
      ApiKey.CreateTopics,
      7,
      createCreateTopicsRequest({
        validateOnly: true,
        topics: [{ name: 'dry', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      }),
    );
    expect(validate.topics[0].errorCode).toBe(0);

    const md = await client.send<MetadataResponse>(
      ApiKey.Metadata,
      12,
      createMetadataRequest({ topics: null }),
    );
    expect(md.topics.map((t) => t.name)).toContain('made');
    expect(md.topics.map((t) => t.name)).not.toContain('dry');

    const del = await client.send(
      ApiKey.DeleteTopics,
      6,
      createDeleteTopicsRequest({
        topics: [
          { name: 'made', topicId: Buffer.alloc(16) },
          { name: 'never', topicId: Buffer.alloc(16) },
        ],
      }),
    );
    expect(del.responses.map((r: { errorCode: number }) => r.errorCode)).toEqual([
      0,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    const after = await client.send<MetadataResponse>(
      ApiKey.Metadata,
      12,
      createMetadataRequest({ topics: null }),
    );
    expect(after.topics.map((t) => t.name)).not.toContain('made');
  });
});
