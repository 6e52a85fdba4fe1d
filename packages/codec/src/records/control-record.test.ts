import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocol/errors.js';
import {
  buildEndTxnMarkerBatch,
  ControlRecordType,
  encodeControlRecordKey,
  encodeEndTxnMarkerValue,
  parseControlRecordKey,
  parseEndTxnMarker,
} from './control-record.js';
import { decodeRecordBatch } from './record-batch-reader.js';
import { validateRecordBatch } from './record-batch-validate.js';

describe('transaction markers', () => {
  it('encode key and value as Kafka lays them out', () => {
    expect([...encodeControlRecordKey(ControlRecordType.Commit)]).toEqual([0, 0, 0, 1]);
    expect([...encodeControlRecordKey(ControlRecordType.Abort)]).toEqual([0, 0, 0, 0]);
    expect([...encodeEndTxnMarkerValue(0x01020304)]).toEqual([0, 0, 1, 2, 3, 4]);
  });

  it.each([true, false])('build a control batch that parses back (commit: %s)', (commit) => {
    const buf = buildEndTxnMarkerBatch({
      commit,
      producerId: 9_000_000_001n,
      producerEpoch: 12,
      coordinatorEpoch: 3,
      timestamp: 1_700_000_000_000,
      baseOffset: 77,
      partitionLeaderEpoch: 5,
    });
    expect(validateRecordBatch(buf)).toBe(buf.length);
    const { header, records } = decodeRecordBatch(buf);
    expect(header).toMatchObject({
      control: true,
      transactional: true,
      producerId: 9_000_000_001n,
      producerEpoch: 12,
      baseSequence: -1,
      baseOffset: 77n,
      partitionLeaderEpoch: 5,
      recordCount: 1,
      compression: 0,
    });
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(parseControlRecordKey(record.key)).toEqual({ version: 0, type: commit ? 1 : 0 });
    expect(parseEndTxnMarker(record.key, record.value)).toEqual({ commit, coordinatorEpoch: 3 });
    expect(record.timestamp).toBe(1_700_000_000_000);
  });

  it('read later versions that append fields', () => {
    const key = Buffer.from([0, 1, 0, 1, 0xff]);
    const value = Buffer.from([0, 1, 0, 0, 0, 9, 0xaa, 0xbb]);
    expect(parseEndTxnMarker(key, value)).toEqual({ commit: true, coordinatorEpoch: 9 });
  });

  it('refuse malformed or non-marker control records with DecodeError', () => {
    const marker = encodeEndTxnMarkerValue(1);
    expect(() => parseEndTxnMarker(null, marker)).toThrow(DecodeError);
    expect(() => parseEndTxnMarker(Buffer.from([0, 0, 0]), marker)).toThrow(DecodeError);
    expect(() => parseEndTxnMarker(encodeControlRecordKey(ControlRecordType.LeaderChange), marker)).toThrow(
      /not a transaction marker/,
    );
    expect(() => parseEndTxnMarker(encodeControlRecordKey(1), Buffer.from([0, 0, 0]))).toThrow(DecodeError);
    expect(() => parseEndTxnMarker(encodeControlRecordKey(1), null)).toThrow(DecodeError);
    expect(() => parseControlRecordKey(Buffer.from([0xff, 0xff, 0, 1]))).toThrow(DecodeError);
  });
});
