import { ErrorCode, type ProduceResponsePartitionProduceResponse } from '@tributary/codec';
import {
  buildRecordBatch,
  CompressionType,
  crc32c,
  InvalidRecordBatchError,
  type RecordInput,
} from '@tributary/codec/records';
import { describe, expect, it } from 'vitest';
import { keylessRecordErrors, recordErrorsMessage, refuseKeylessRecords } from './compacted-topic.js';
import { parseCleanupPolicy } from './log-config.js';
import type { BrokerServices } from './services.js';
import type { Topic } from './topics.js';

const key = (s: string) => Buffer.from(s);
const value = Buffer.from('v');
const message = 'Compacted topic cannot accept message without key in topic partition orders-3';

/** Records keyed as given: a string is a key, null no key. */
const records = (keys: readonly (string | null)[]): RecordInput[] =>
  keys.map((k) => ({ key: k === null ? null : key(k), value }));

describe('parseCleanupPolicy', () => {
  it('is true when the list names compact, alone or with delete', () => {
    expect(parseCleanupPolicy('compact').compact).toBe(true);
    expect(parseCleanupPolicy('compact,delete').compact).toBe(true);
    expect(parseCleanupPolicy('delete, compact').compact).toBe(true);
    expect(parseCleanupPolicy('delete').compact).toBe(false);
    expect(parseCleanupPolicy('').compact).toBe(false);
  });

  it('reads delete the same way, spaces and all', () => {
    expect(parseCleanupPolicy('compact, delete')).toEqual({ compact: true, delete: true });
    expect(parseCleanupPolicy('compact')).toEqual({ compact: true, delete: false });
  });
});

describe('keylessRecordErrors', () => {
  it('names each record without a key by its index in the batch; an empty key is a key', () => {
    const batch = buildRecordBatch({ records: records(['a', null, '', null, 'b']) });
    expect(keylessRecordErrors(batch, 'orders-3')).toEqual([
      { batchIndex: 1, batchIndexErrorMessage: message },
      { batchIndex: 3, batchIndexErrorMessage: message },
    ]);
    expect(keylessRecordErrors(buildRecordBatch({ records: records(['a', '']) }), 'orders-3')).toEqual([]);
  });

  it.each([
    ['gzip', CompressionType.Gzip],
    ['snappy', CompressionType.Snappy],
    ['lz4', CompressionType.Lz4],
    ['zstd', CompressionType.Zstd],
  ])('reads the records of a %s batch', (_name, compression) => {
    const batch = buildRecordBatch({ records: records([null, 'a', 'b', null]), compression });
    expect(keylessRecordErrors(batch, 'orders-3').map((e) => e.batchIndex)).toEqual([0, 3]);
  });

  it('throws InvalidRecordBatchError when the compressed records cannot be read', () => {
    const batch = buildRecordBatch({ records: records([null, 'a']), compression: CompressionType.Gzip });
    // Damage the compressed data, then give the batch a CRC that matches again.
    batch.fill(0xff, batch.length - 12, batch.length - 4);
    batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
    expect(() => keylessRecordErrors(batch, 'orders-3')).toThrow(InvalidRecordBatchError);
  });
});

describe('recordErrorsMessage', () => {
  it('counts every error and shows the first three', () => {
    const errors = [0, 2, 5, 7].map((batchIndex) => ({ batchIndex, batchIndexErrorMessage: 'no key' }));
    expect(recordErrorsMessage(errors)).toBe(
      'One or more records have been rejected due to 4 record errors in total, and only showing the ' +
        "first three errors at most: [RecordError(batchIndex=0, message='no key'), " +
        "RecordError(batchIndex=2, message='no key'), RecordError(batchIndex=5, message='no key')]",
    );
    expect(recordErrorsMessage([{ batchIndex: 1, batchIndexErrorMessage: null }])).toBe(
      'One or more records have been rejected due to 1 record errors in total, and only showing the ' +
        'first three errors at most: [RecordError(batchIndex=1, message=null)]',
    );
  });
});

describe('refuseKeylessRecords', () => {
  const topicWith = (cleanupPolicy: string) =>
    ({
      name: 'orders',
      id: 'orders-id',
      cleanupPolicy: parseCleanupPolicy(cleanupPolicy),
    }) as unknown as Topic;
  const services = (logStartOffset: number | Error) =>
    ({
      storage: {
        offsets: async (topicId: string, partition: number) => {
          expect([topicId, partition]).toEqual(['orders-id', 3]);
          if (logStartOffset instanceof Error) throw logStartOffset;
          return { logStartOffset, highWatermark: 10, lastStableOffset: 10 };
        },
      },
    }) as unknown as BrokerServices;
  const fresh = (): ProduceResponsePartitionProduceResponse => ({
    index: 3,
    errorCode: ErrorCode.NONE,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  });
  const keyless = buildRecordBatch({ records: records(['a', null]) });

  it('lets every batch through on a topic that is not compacted', () => {
    const result = fresh();
    expect(refuseKeylessRecords(services(0), topicWith('delete'), 3, keyless, result)).toBeNull();
    expect(result).toEqual(fresh());
  });

  it('lets a batch whose records all have keys through on a compacted topic', () => {
    const result = fresh();
    const batch = buildRecordBatch({ records: records(['a', 'b']) });
    expect(refuseKeylessRecords(services(0), topicWith('compact'), 3, batch, result)).toBeNull();
    expect(result).toEqual(fresh());
  });

  it('refuses a batch with a keyless record: INVALID_RECORD, record errors, the log start offset', async () => {
    const result = fresh();
    const pending = refuseKeylessRecords(services(4), topicWith('compact,delete'), 3, keyless, result);
    expect(result.errorCode).toBe(ErrorCode.INVALID_RECORD);
    await pending;
    expect(result).toEqual({
      ...fresh(),
      errorCode: ErrorCode.INVALID_RECORD,
      logStartOffset: 4n,
      recordErrors: [{ batchIndex: 1, batchIndexErrorMessage: message }],
      errorMessage: recordErrorsMessage([{ batchIndex: 1, batchIndexErrorMessage: message }]),
    });
  });

  it('keeps the refusal when the log start offset cannot be read', async () => {
    const result = fresh();
    await refuseKeylessRecords(services(new Error('gone')), topicWith('compact'), 3, keyless, result);
    expect(result).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD, logStartOffset: -1n });
    expect(result.recordErrors).toHaveLength(1);
  });

  it('refuses records it cannot read as INVALID_RECORD', () => {
    const result = fresh();
    const batch = buildRecordBatch({ records: records(['a']), compression: CompressionType.Gzip });
    batch.fill(0xff, batch.length - 12, batch.length - 4);
    batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
    expect(refuseKeylessRecords(services(0), topicWith('compact'), 3, batch, result)).toBeNull();
    expect(result.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(result.errorMessage).toEqual(expect.any(String));
    expect(result.recordErrors).toEqual([]);
  });
});
