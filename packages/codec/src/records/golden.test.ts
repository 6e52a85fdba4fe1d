import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultCompression } from '../compression/registry.js';
import { TimestampType } from './attributes.js';
import { decodeLegacyMessageSet } from './legacy-message-set.js';
import { buildRecordBatch } from './record-batch-builder.js';
import { RECORDS_OFFSET } from './record-batch-layout.js';
import { decodeRecordBatch } from './record-batch-reader.js';
import { setBaseOffset, setLogAppendTime } from './record-batch-rewrite.js';
import { validateRecords } from './record-batch-validate.js';

/*
 * Golden bytes from real clients: kafka-python 2.0.2 record builders and librdkafka 2.0.2
 * producing to a fake broker. fixtures/capture.py made them; fixtures/manifest.json says what
 * each holds.
 */

interface ManifestRecord {
  key: string | null;
  value: string | null;
  timestamp: number;
  headers: { key: string; value: string | null }[];
}

interface ManifestEntry {
  source: string;
  kind: 'batch' | 'legacy';
  compression: number;
  magic?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  records: ManifestRecord[];
}

const fixtures = new URL('./fixtures/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', fixtures), 'utf8')) as Record<
  string,
  ManifestEntry
>;
const load = (name: string): Buffer => readFileSync(new URL(`${name}.bin`, fixtures));
const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));
const unhex = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'hex'));

const batches = Object.entries(manifest).filter(([, e]) => e.kind === 'batch');
const legacy = Object.entries(manifest).filter(([, e]) => e.kind === 'legacy');

describe('golden record batches', () => {
  it('covers every codec from both clients', () => {
    const seen = new Set(batches.map(([, e]) => `${e.source.split(' ')[0]} ${e.compression}`));
    for (const client of ['kafka-python', 'librdkafka'])
      for (const c of [0, 1, 2, 3, 4]) expect(seen).toContain(`${client} ${c}`);
  });

  it.each(batches)('%s validates and decodes to what the client was given', (name, entry) => {
    const buf = load(name);
    expect(validateRecords(buf, { fromProducer: true })).toBe(1);
    const { header, records } = decodeRecordBatch(buf);
    expect(header).toMatchObject({
      magic: 2,
      baseOffset: 0n,
      compression: entry.compression,
      timestampType: TimestampType.CreateTime,
      transactional: false,
      control: false,
      recordCount: entry.records.length,
      lastOffsetDelta: entry.records.length - 1,
      baseTimestamp: entry.records[0]!.timestamp,
      maxTimestamp: Math.max(...entry.records.map((r) => r.timestamp)),
      producerId: BigInt(entry.producerId ?? -1),
      producerEpoch: entry.producerEpoch ?? -1,
      baseSequence: entry.baseSequence ?? -1,
    });
    expect(
      records.map((r) => ({
        key: hex(r.key),
        value: hex(r.value),
        timestamp: r.timestamp,
        headers: r.headers.map((h) => ({ key: h.key, value: hex(h.value) })),
      })),
    ).toEqual(entry.records);
    expect(records.map((r) => r.offset)).toEqual(entry.records.map((_, i) => BigInt(i)));
  });

  it.each(batches)('%s holds exactly the record bytes the builder writes', (name, entry) => {
    const buf = load(name);
    const ours = buildRecordBatch({
      records: entry.records.map((r) => ({
        key: unhex(r.key),
        value: unhex(r.value),
        timestamp: r.timestamp,
        headers: r.headers.map((h) => ({ key: h.key, value: unhex(h.value) })),
      })),
      producerId: entry.producerId ?? -1,
      producerEpoch: entry.producerEpoch ?? -1,
      baseSequence: entry.baseSequence ?? -1,
      partitionLeaderEpoch: buf.readInt32BE(12),
    });
    const section = buf.subarray(RECORDS_OFFSET);
    const plain =
      entry.compression === 0 ? section : defaultCompression.decompress(entry.compression, section);
    expect(plain.equals(ours.subarray(RECORDS_OFFSET))).toBe(true);
    // Uncompressed, the whole batch is byte for byte what the client sent.
    if (entry.compression === 0) expect(ours.equals(buf)).toBe(true);
  });

  it.each(batches)('%s stays valid through the broker rewrites', (name) => {
    const buf = Buffer.from(load(name));
    setBaseOffset(buf, 0, 123_456_789);
    setLogAppendTime(buf, 0, 1_800_000_000_000);
    expect(validateRecords(buf)).toBe(1);
    const { header, records } = decodeRecordBatch(buf);
    expect(header.baseOffset).toBe(123_456_789n);
    expect(records.every((r) => r.timestamp === 1_800_000_000_000)).toBe(true);
  });
});

describe('golden legacy message sets', () => {
  it.each(legacy)('%s decodes to what the client was given', (name, entry) => {
    const { messages, partialBytes } = decodeLegacyMessageSet(load(name));
    expect(partialBytes).toBe(0);
    expect(
      messages.map((m) => ({ key: hex(m.key), value: hex(m.value), timestamp: m.timestamp, headers: [] })),
    ).toEqual(entry.records.map((r) => ({ ...r, timestamp: entry.magic === 0 ? -1 : r.timestamp })));
    // A producer leaves the wrapper's offset at 0, so magic 1 relative offsets resolve to -5..0
    // until a broker gives the wrapper the offset of its last message.
    const last = entry.records.length - 1;
    const relative = entry.magic === 1 && entry.compression !== 0;
    expect(messages.map((m) => m.offset)).toEqual(
      entry.records.map((_, i) => BigInt(relative ? i - last : i)),
    );
    expect(messages.every((m) => m.magic === entry.magic && m.compression === entry.compression)).toBe(true);
  });

  it.each(legacy.filter(([, e]) => e.magic === 1 && e.compression !== 0))(
    '%s resolves inner offsets against the wrapper offset a broker assigns',
    (name) => {
      const buf = Buffer.from(load(name));
      buf.writeBigInt64BE(105n, 0); // outside the message CRC, as a broker writes it
      const { messages } = decodeLegacyMessageSet(buf);
      expect(messages.map((m) => m.offset)).toEqual([100n, 101n, 102n, 103n, 104n, 105n]);
    },
  );
});
