import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocol/errors.js';
import { TimestampType } from './attributes.js';
import { crc32c } from './crc32c.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import { buildRecordBatch, type RecordBatchInput, type RecordInput } from './record-batch-builder.js';
import { CRC_OFFSET, RECORDS_OFFSET } from './record-batch-layout.js';
import { decodeRecordBatch, iterateRecordBatches, iterateRecords } from './record-batch-reader.js';
import {
  assignOffsets,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
} from './record-batch-rewrite.js';
import { RecordBatchScanner, readRecordBatchHeader, scanRecordBatches } from './record-batch-scanner.js';
import { validateRecordBatch, validateRecords } from './record-batch-validate.js';
import { RecordCursor } from './record-cursor.js';

const T0 = 1_700_000_000_000;

function sampleRecords(n: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 4 === 3 ? null : Buffer.from(`key-${i}`),
    value: i === 2 ? null : Buffer.from(`value ${i} ${'tributary '.repeat(i + 1)}`),
    headers:
      i % 3 === 0
        ? [
            { key: `h${i}`, value: Buffer.from([i]) },
            { key: 'ünïcode', value: null },
          ]
        : [],
    timestamp: T0 + 5 * i - (i === 4 ? 100 : 0),
  }));
}

function sampleBatch(overrides: Partial<RecordBatchInput> = {}): Buffer {
  return buildRecordBatch({
    baseOffset: 1000n,
    partitionLeaderEpoch: 7,
    producerId: 123456789n,
    producerEpoch: 4,
    baseSequence: 99,
    records: sampleRecords(8),
    ...overrides,
  });
}

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    { nil: null },
  ),
  value: fc.option(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    { nil: null },
  ),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 12 }),
      value: fc.option(fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b))),
    }),
    { maxLength: 3 },
  ),
  timestamp: fc.integer({ min: T0 - 1_000_000, max: T0 + 1_000_000 }),
});

describe('buildRecordBatch and decodeRecordBatch', () => {
  it('round-trip header fields and records with every codec', () => {
    for (const compression of [0, 1, 2, 3, 4]) {
      const records = sampleRecords(8);
      const buf = sampleBatch({ compression, transactional: true });
      expect(validateRecordBatch(buf, 0, { fromProducer: true })).toBe(buf.length);
      const { header, records: decoded } = decodeRecordBatch(buf);
      expect(header).toMatchObject({
        position: 0,
        size: buf.length,
        magic: 2,
        baseOffset: 1000n,
        partitionLeaderEpoch: 7,
        compression,
        timestampType: TimestampType.CreateTime,
        transactional: true,
        control: false,
        lastOffsetDelta: 7,
        baseTimestamp: T0,
        maxTimestamp: T0 + 35,
        producerId: 123456789n,
        producerEpoch: 4,
        baseSequence: 99,
        recordCount: 8,
      });
      expect(
        decoded.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          headers: r.headers.map((h) => [h.key, h.value === null ? null : [...h.value]]),
        })),
      ).toEqual(
        records.map((r, i) => ({
          offset: 1000n + BigInt(i),
          timestamp: r.timestamp,
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          headers: (r.headers ?? []).map((h) => [h.key, h.value === null ? null : [...h.value]]),
        })),
      );
    }
  });

  it('round-trip generated records', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 20 }),
        fc.integer({ min: 0, max: 4 }),
        (records, compression) => {
          const buf = buildRecordBatch({ records, compression });
          const decoded = decodeRecordBatch(buf).records;
          expect(decoded.length).toBe(records.length);
          decoded.forEach((r, i) => {
            const input = records[i]!;
            expect(r.offsetDelta).toBe(i);
            expect(r.timestamp).toBe(input.timestamp);
            expect(r.key === null ? null : [...r.key]).toEqual(input.key == null ? null : [...input.key]);
            expect(r.value === null ? null : [...r.value]).toEqual(
              input.value == null ? null : [...input.value],
            );
            expect(r.headers.map((h) => h.key)).toEqual((input.headers ?? []).map((h) => h.key));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('builds an empty batch', () => {
    const buf = buildRecordBatch({ records: [], baseTimestamp: T0 });
    expect(buf.length).toBe(RECORDS_OFFSET);
    expect(readRecordBatchHeader(buf)).toMatchObject({
      recordCount: 0,
      lastOffsetDelta: -1,
      maxTimestamp: T0,
    });
    expect([...iterateRecords(buf)]).toEqual([]);
  });

  it('slices keys and values out of an uncompressed batch without copying', () => {
    const buf = sampleBatch();
    const first = iterateRecords(buf).next().value!;
    expect(first.key!.buffer).toBe(buf.buffer);
  });
});

describe('RecordBatchScanner', () => {
  const batches = [
    sampleBatch({ baseOffset: 0n }),
    sampleBatch({ baseOffset: 8n, compression: 1 }),
    sampleBatch({ baseOffset: 16n, compression: 3 }),
  ];
  const records = Buffer.concat(batches);

  it('reports every batch in concatenated records without decoding them', () => {
    const scan = new RecordBatchScanner(records);
    const seen = [];
    while (scan.next())
      seen.push([
        scan.position,
        scan.size,
        scan.baseOffsetNumber,
        scan.lastOffsetDelta,
        scan.recordCount,
        scan.compression,
        scan.producerIdNumber,
      ]);
    expect(seen).toEqual([
      [0, batches[0]!.length, 0, 7, 8, 0, 123456789],
      [batches[0]!.length, batches[1]!.length, 8, 7, 8, 1, 123456789],
      [batches[0]!.length + batches[1]!.length, batches[2]!.length, 16, 7, 8, 3, 123456789],
    ]);
    expect(scan.partialBytes).toBe(0);
  });

  it('reports a cut-off trailing batch at every length, and never throws for one', () => {
    for (let cut = 0; cut <= records.length; cut++) {
      const { batches: found, partialBytes } = scanRecordBatches(records.subarray(0, cut));
      const complete = found.reduce((n, b) => n + b.size, 0);
      expect(complete + partialBytes).toBe(cut);
      expect(found.every((b, i) => b.baseOffset === BigInt(8 * i))).toBe(true);
    }
  });

  it('reads base offsets as numbers up to 2^53 and refuses beyond', () => {
    const buf = sampleBatch({ baseOffset: 2n ** 53n - 100n });
    const scan = new RecordBatchScanner(buf);
    scan.next();
    expect(scan.baseOffsetNumber).toBe(2 ** 53 - 100);
    expect(scan.lastOffsetNumber).toBe(2 ** 53 - 93);
    setBaseOffset(buf, 0, 2n ** 60n);
    expect(scan.baseOffset).toBe(2n ** 60n);
    expect(() => scan.baseOffsetNumber).toThrow(DecodeError);
  });

  it('walks legacy message sets too, reporting magic and size but no v2 fields', () => {
    const legacy = readFileSync(new URL('./fixtures/kafka-python-magic1-none.bin', import.meta.url));
    const scan = new RecordBatchScanner(legacy);
    let n = 0;
    while (scan.next()) {
      expect(scan.magic).toBe(1);
      expect(scan.baseOffsetNumber).toBe(n++);
      expect(() => scan.producerId).toThrow(InvalidRecordBatchError);
    }
    expect(n).toBe(6);
    expect(scan.partialBytes).toBe(0);
    expect(() => scanRecordBatches(legacy)).toThrow(InvalidRecordBatchError);
  });

  it('throws InvalidRecordBatchError for impossible lengths and unknown magic', () => {
    const short = Buffer.from(sampleBatch());
    short.writeInt32BE(20, 8);
    expect((errorOf(() => new RecordBatchScanner(short).next()) as InvalidRecordBatchError).problem).toBe(
      'length',
    );
    const negative = Buffer.from(sampleBatch());
    negative.writeInt32BE(-5, 8);
    expect((errorOf(() => new RecordBatchScanner(negative).next()) as InvalidRecordBatchError).problem).toBe(
      'length',
    );
    const magic = Buffer.from(sampleBatch());
    magic[16] = 3;
    expect((errorOf(() => new RecordBatchScanner(magic).next()) as InvalidRecordBatchError).problem).toBe(
      'magic',
    );
  });
});

describe('arbitrary bytes', () => {
  it('only ever produce DecodeError from the scanner, validation and decoding', () => {
    const valid = Buffer.concat([sampleBatch(), sampleBatch({ compression: 1 })]);
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      // A valid prefix followed by garbage, so the garbage lands where a second batch is expected.
      fc
        .uint8Array({ maxLength: 120 })
        .map((b) => Buffer.concat([valid.subarray(0, sampleBatch().length), b])),
      // A valid header whose length and magic survive, with the rest scrambled.
      fc
        .tuple(fc.integer({ min: 17, max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }))
        .map(([at, x]) => {
          const b = Buffer.from(valid);
          b[at] = b[at]! ^ x;
          return b;
        }),
    );
    fc.assert(
      fc.property(inputs, (buf) => {
        for (const f of [
          () => scanRecordBatches(buf),
          () => validateRecords(buf),
          () => [...iterateRecordBatches(buf, { verifyCrc: false })],
        ]) {
          try {
            f();
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('validateRecordBatch', () => {
  it('reports truncation at every byte as a typed error', () => {
    const buf = sampleBatch({ compression: 2 });
    for (let cut = 0; cut < buf.length; cut++) {
      const e = errorOf(() => validateRecordBatch(buf.subarray(0, cut)));
      expect(e, `cut at ${cut}`).toBeInstanceOf(InvalidRecordBatchError);
      expect((e as InvalidRecordBatchError).problem).toBe('truncated');
    }
  });

  it('catches any changed byte under the CRC', () => {
    const buf = sampleBatch({ compression: 4 });
    for (let i = 0; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad[i] = bad[i]! ^ 0x5a;
      const e = errorOf(() => validateRecordBatch(bad));
      if (i < 16) {
        // baseOffset and partitionLeaderEpoch are outside the CRC; batchLength breaks the framing.
        if (i >= 8 && i < 12) expect(e, `byte ${i}`).toBeInstanceOf(InvalidRecordBatchError);
        else expect(e, `byte ${i}`).toBeUndefined();
      } else expect(e, `byte ${i}`).toBeInstanceOf(InvalidRecordBatchError);
      if (i >= 21) expect((e as InvalidRecordBatchError).problem).toBe('crc');
    }
  });

  it('checks record count against last offset delta for producer batches', () => {
    const buf = buildRecordBatch({ records: sampleRecords(3), lastOffsetDelta: 5 });
    expect(validateRecordBatch(buf)).toBe(buf.length);
    expect(
      (errorOf(() => validateRecordBatch(buf, 0, { fromProducer: true })) as InvalidRecordBatchError).problem,
    ).toBe('offsets');
    const worse = buildRecordBatch({ records: sampleRecords(3), lastOffsetDelta: 1 });
    expect((errorOf(() => validateRecordBatch(worse)) as InvalidRecordBatchError).problem).toBe('offsets');
  });

  it('validates every batch of a produce request and refuses a partial one', () => {
    const records = Buffer.concat([sampleBatch(), sampleBatch({ compression: 1 })]);
    expect(validateRecords(records)).toBe(2);
    expect(
      (errorOf(() => validateRecords(records.subarray(0, records.length - 1))) as InvalidRecordBatchError)
        .problem,
    ).toBe('truncated');
  });
});

describe('decoding malformed records', () => {
  /** Rewrites the CRC so decoding, not the checksum, meets the damage. */
  function withFreshCrc(buf: Buffer): Buffer {
    buf.writeUInt32BE(crc32c(buf, 21, buf.length), CRC_OFFSET);
    return buf;
  }

  it('turns any damage to the records section into DecodeError, never another error', () => {
    const base = sampleBatch();
    fc.assert(
      fc.property(
        fc.integer({ min: RECORDS_OFFSET, max: base.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          const bad = Buffer.from(base);
          bad[at] = bad[at]! ^ x;
          withFreshCrc(bad);
          try {
            for (const _ of iterateRecords(bad));
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('turns damaged compressed data into InvalidRecordBatchError', () => {
    for (const compression of [1, 2, 3, 4]) {
      const bad = sampleBatch({ compression });
      bad.fill(0x33, RECORDS_OFFSET + 4, RECORDS_OFFSET + 12);
      withFreshCrc(bad);
      const e = errorOf(() => [...iterateRecords(bad)]);
      expect(e, `compression ${compression}`).toBeInstanceOf(InvalidRecordBatchError);
      expect((e as InvalidRecordBatchError).problem).toBe('records');
    }
  });

  it('refuses a record count that disagrees with the records present', () => {
    for (const count of [7, 9, 1_000_000, -1]) {
      const bad = sampleBatch();
      bad.writeInt32BE(count, 57);
      withFreshCrc(bad);
      expect(() => [...iterateRecords(bad, 0, { verifyCrc: false })], `count ${count}`).toThrow(DecodeError);
    }
  });

  it('reports a bad CRC before decoding, unless told not to check', () => {
    const bad = sampleBatch();
    bad[bad.length - 2] = bad[bad.length - 2]! ^ 1; // a byte of the last value
    expect((errorOf(() => [...iterateRecords(bad)]) as InvalidRecordBatchError).problem).toBe('crc');
    expect([...iterateRecords(bad, 0, { verifyCrc: false })].length).toBe(8);
  });
});

describe('RecordCursor', () => {
  it('walks records as positions, slicing only on request', () => {
    const buf = sampleBatch();
    const cursor = new RecordCursor(buf, RECORDS_OFFSET, buf.length, 8);
    const deltas = [];
    while (cursor.next()) deltas.push([cursor.offsetDelta, cursor.keyLength, cursor.headerCount]);
    expect(deltas).toEqual([
      [0, 5, 2],
      [1, 5, 0],
      [2, 5, 0],
      [3, -1, 2],
      [4, 5, 0],
      [5, 5, 0],
      [6, 5, 2],
      [7, -1, 0],
    ]);
  });
});

describe('in-place rewrites', () => {
  it('set base offset and partition leader epoch without invalidating the CRC', () => {
    const buf = sampleBatch({ compression: 3 });
    const crc = buf.readUInt32BE(CRC_OFFSET);
    setBaseOffset(buf, 0, 5_000_000_000);
    setPartitionLeaderEpoch(buf, 0, 42);
    expect(buf.readUInt32BE(CRC_OFFSET)).toBe(crc);
    expect(validateRecordBatch(buf)).toBe(buf.length);
    const { header, records } = decodeRecordBatch(buf);
    expect(header.baseOffset).toBe(5_000_000_000n);
    expect(header.partitionLeaderEpoch).toBe(42);
    expect(records[7]!.offset).toBe(5_000_000_007n);
  });

  it('set LogAppendTime and recompute the CRC; records then report the append time', () => {
    const buf = sampleBatch({ compression: 2 });
    setLogAppendTime(buf, 0, T0 + 999_999);
    expect(validateRecordBatch(buf)).toBe(buf.length);
    const { header, records } = decodeRecordBatch(buf);
    expect(header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(header.maxTimestamp).toBe(T0 + 999_999);
    expect(header.compression).toBe(2);
    expect(records.every((r) => r.timestamp === T0 + 999_999)).toBe(true);
    const again = Buffer.from(buf);
    setLogAppendTime(again, 0, T0 + 999_999);
    expect(again.equals(buf)).toBe(true);
  });

  it('rewrite a batch in the middle of a records buffer', () => {
    const records = Buffer.concat([sampleBatch(), sampleBatch({ compression: 1 }), sampleBatch()]);
    const second = sampleBatch().length;
    setLogAppendTime(records, second, T0);
    expect(validateRecords(records)).toBe(3);
  });

  it('assign consecutive offsets across batches, as numbers or bigints', () => {
    const records = Buffer.concat([
      sampleBatch(),
      buildRecordBatch({ records: sampleRecords(3) }),
      sampleBatch(),
    ]);
    expect(assignOffsets(records, 100)).toBe(119);
    expect([...iterateRecordBatches(records)].map((b) => b.header.baseOffset)).toEqual([100n, 108n, 111n]);
    expect(assignOffsets(records, 2n ** 62n)).toBe(2n ** 62n + 19n);
    expect(validateRecords(records)).toBe(3);
  });

  it('refuse to touch a truncated or legacy batch', () => {
    const buf = sampleBatch();
    expect(() => setBaseOffset(buf.subarray(0, 40), 0, 1)).toThrow(InvalidRecordBatchError);
    const legacy = Buffer.from(buf);
    legacy[16] = 1;
    expect(() => setLogAppendTime(legacy, 0, 1)).toThrow(InvalidRecordBatchError);
  });
});
