// Produce to topics whose cleanup.policy includes compact: records without a key are refused, the
// whole batch, with INVALID_RECORD and (from Produce v8) a record error per keyless record.
import {
  ApiKey,
  type CreateTopicsResponse,
  createCreateTopicsRequest,
  createDeleteRecordsRequest,
  createProduceRequest,
  type DeleteRecordsResponse,
  ErrorCode,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
} from '@tributary/codec';
import { buildRecordBatch, CompressionType } from '@tributary/codec/records';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { WireClient } from './wire.js';

let broker: TestBroker;
let client: WireClient;

beforeAll(async () => {
  broker = await startTestBroker();
  client = await WireClient.connect(broker.port);
  const res = await client.send<CreateTopicsResponse>(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [
        ['compacted', 'compact'],
        ['compacted-deleted', 'compact,delete'],
        ['deleted', 'delete'],
      ].map(([name, policy]) => ({
        name: name!,
        numPartitions: 2,
        replicationFactor: 1,
        assignments: [],
        configs: [{ name: 'cleanup.policy', value: policy! }],
      })),
    }),
  );
  expect(res.topics.map((t) => t.errorCode)).toEqual([0, 0, 0]);
});
afterAll(async () => {
  client.close();
  await broker.close();
});

/** A batch of records keyed as given (null: no key). */
const batch = (keys: (string | null)[], compression: number = CompressionType.None) =>
  buildRecordBatch({
    records: keys.map((k, i) => ({ key: k === null ? null : Buffer.from(k), value: Buffer.from(`v${i}`) })),
    compression,
  });

async function produce(
  version: number,
  topic: string,
  partition: number,
  records: Buffer,
): Promise<ProduceResponsePartitionProduceResponse> {
  const res = await client.send<ProduceResponse>(
    ApiKey.Produce,
    version,
    createProduceRequest({
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, topicId: Buffer.alloc(16), partitionData: [{ index: partition, records }] }],
    }),
  );
  return res.responses[0]!.partitionResponses[0]!;
}

const keyError = (topicPartition: string, batchIndex: number) => ({
  batchIndex,
  batchIndexErrorMessage: `Compacted topic cannot accept message without key in topic partition ${topicPartition}`,
});

const summary = (count: number, shown: { batchIndex: number; batchIndexErrorMessage: string }[]) =>
  `One or more records have been rejected due to ${count} record errors in total, and only showing ` +
  `the first three errors at most: [${shown
    .map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`)
    .join(', ')}]`;

describe('Produce to a compacted topic', () => {
  it('refuses a batch with keyless records: INVALID_RECORD, record errors and the message', async () => {
    const res = await produce(9, 'compacted', 0, batch(['a', null, 'b', null, null, null]));
    const errors = [1, 3, 4, 5].map((i) => keyError('compacted-0', i));
    expect(res).toEqual({
      index: 0,
      errorCode: ErrorCode.INVALID_RECORD,
      baseOffset: -1n,
      logAppendTimeMs: -1n,
      logStartOffset: 0n,
      recordErrors: errors,
      errorMessage: summary(4, errors.slice(0, 3)),
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
    });
    // Nothing of the batch was stored: the next batch starts at offset 0.
    expect(await produce(9, 'compacted', 0, batch(['a', '']))).toMatchObject({
      errorCode: ErrorCode.NONE,
      baseOffset: 0n,
    });
  });

  it.each([
    ['gzip', CompressionType.Gzip],
    ['snappy', CompressionType.Snappy],
    ['lz4', CompressionType.Lz4],
    ['zstd', CompressionType.Zstd],
  ])('reads inside a %s batch', async (_name, compression) => {
    const refused = await produce(9, 'compacted', 1, batch([null, 'k', 'k'], compression));
    expect(refused).toMatchObject({
      errorCode: ErrorCode.INVALID_RECORD,
      baseOffset: -1n,
      recordErrors: [keyError('compacted-1', 0)],
      errorMessage: summary(1, [keyError('compacted-1', 0)]),
    });
    expect(await produce(9, 'compacted', 1, batch(['k', 'k'], compression))).toMatchObject({
      errorCode: ErrorCode.NONE,
    });
  });

  it("reports the partition's log start offset with the refusal", async () => {
    const stored = await produce(9, 'compacted-deleted', 0, batch(['a', 'b', 'c']));
    expect(stored).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    const deleted = await client.send<DeleteRecordsResponse>(
      ApiKey.DeleteRecords,
      2,
      createDeleteRecordsRequest({
        timeoutMs: 5000,
        topics: [{ name: 'compacted-deleted', partitions: [{ partitionIndex: 0, offset: 2n }] }],
      }),
    );
    expect(deleted.topics[0]!.partitions[0]!).toMatchObject({ errorCode: ErrorCode.NONE, lowWatermark: 2n });
    expect(await produce(9, 'compacted-deleted', 0, batch([null], CompressionType.Gzip))).toMatchObject({
      errorCode: ErrorCode.INVALID_RECORD,
      logStartOffset: 2n,
      recordErrors: [keyError('compacted-deleted-0', 0)],
    });
  });

  it('answers the error code alone before Produce v8, which has no record errors', async () => {
    for (const v of [3, 5, 7]) {
      const res = await produce(v, 'compacted', 0, batch([null]));
      expect(res, `v${v}`).toMatchObject({
        errorCode: ErrorCode.INVALID_RECORD,
        baseOffset: -1n,
        recordErrors: [],
        errorMessage: null,
      });
    }
    for (const v of [8, 12]) {
      const res = await produce(v, 'compacted', 0, batch([null]));
      expect(res.recordErrors, `v${v}`).toEqual([keyError('compacted-0', 0)]);
    }
  });

  it('accepts keyless records on a topic that is not compacted', async () => {
    expect(await produce(9, 'deleted', 0, batch([null, null], CompressionType.Gzip))).toMatchObject({
      errorCode: ErrorCode.NONE,
      baseOffset: 0n,
    });
  });
});
