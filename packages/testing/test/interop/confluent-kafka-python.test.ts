import { join } from 'node:path';
import { ApiKey } from '@tributary/codec';
import { CompressionType, compressionTypeOf } from '@tributary/codec/records';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartition } from '../consume.js';
import { WireClient } from '../wire.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { hasPythonModule, requireTool, run, SYSTEM_PYTHON } from './tools.js';

const missing = requireTool(hasPythonModule('confluent_kafka'));
let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess();
});
afterAll(async () => {
  await broker?.close();
});

interface Row {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: [string, string][];
  timestamp: number;
  timestamp_type: number;
}

interface OffsetsForTimes {
  target: number;
  offsets: [number, number][];
}

interface Seen {
  client: string;
  librdkafka: string;
  create_error: string | null;
  create_again_error: string | null;
  brokers: { [id: string]: string };
  partitions: [number, number, number[], number[], boolean][];
  topics_after_create: string[];
  delivered: { error: string | null; partition: number; offset: number; value: string }[];
  records: Row[];
  consumed_to_end: boolean;
  watermarks: [number, number][];
  for_first: OffsetsForTimes;
  for_middle: OffsetsForTimes;
  for_future: OffsetsForTimes;
  codecs: { [codec: string]: { sent: string[]; errors: string[]; consumed: string[]; to_end: boolean } };
  topics_after_delete: string[];
  delete_again_error: string | null;
}

/** What offsets_for_times must find: per partition, the first record at or after the target. */
function expectedForTime(records: Row[], target: number): [number, number][] {
  return [0, 1, 2, 3, 4, 5].map((p) => {
    const r = records.find((x) => x.partition === p && x.timestamp >= target);
    return [p, r === undefined ? -1 : r.offset];
  });
}

describe.skipIf(missing)('confluent-kafka-python (librdkafka)', () => {
  let seen: Seen;

  beforeAll(async () => {
    const script = join(import.meta.dirname, 'python/confluent_kafka_interop.py');
    const r = await run(SYSTEM_PYTHON, [script, broker.bootstrap, 'ckpy'], '', 90_000);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    seen = JSON.parse(r.stdout) as Seen;
  }, 100_000);

  it('creates a 6-partition topic, lists it with the broker, refuses a duplicate, deletes it', () => {
    expect(seen.create_error).toBeNull();
    expect(seen.create_again_error).toBe('TOPIC_ALREADY_EXISTS');
    expect(seen.brokers).toEqual({ '1': broker.bootstrap });
    expect(seen.topics_after_create).toContain('ckpy-data');
    expect(seen.partitions).toEqual([0, 1, 2, 3, 4, 5].map((p) => [p, 1, [1], [1], true]));
    expect(seen.topics_after_delete).not.toContain('ckpy-data');
    expect(seen.delete_again_error).toBe('UNKNOWN_TOPIC_OR_PART');
  });

  it('produces 1,000 keyed messages with headers (acks all) and consumes them through assign() without a group', () => {
    // librdkafka requires group.id for any consumer and then looks for the group's coordinator.
    // The broker does not advertise FindCoordinator yet, so librdkafka never sends it (its group
    // stays in "query-coord"); assign() at OFFSET_BEGINNING reads through ListOffsets and Fetch.
    expect(seen.delivered).toHaveLength(1000);
    expect(seen.delivered.filter((d) => d.error !== null)).toEqual([]);
    expect(seen.consumed_to_end).toBe(true);
    const records = seen.records;
    expect(records).toHaveLength(1000);
    expect(new Set(records.map((r) => r.value)).size).toBe(1000);
    for (const r of records) {
      const n = Number(r.value.slice('value-'.length));
      expect(r.key).toBe(`key-${n % 37}`);
      expect(r.headers).toEqual([
        ['seq', String(n)],
        ['source', 'confluent-kafka'],
      ]);
      expect(r.timestamp_type).toBe(1); // CreateTime
    }
    // Every record sits where its delivery report said it was written.
    const delivered = new Map(seen.delivered.map((d) => [d.value, [d.partition, d.offset]]));
    expect(records.map((r) => [r.partition, r.offset])).toEqual(records.map((r) => delivered.get(r.value)));
    // Stable placement: every key on exactly one partition; the keys spread over the partitions.
    const partitionsOfKey = new Map<string, Set<number>>();
    for (const r of records)
      partitionsOfKey.set(r.key, (partitionsOfKey.get(r.key) ?? new Set()).add(r.partition));
    expect([...partitionsOfKey.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(3);
    // Per-partition order follows send order, and offsets are dense from 0.
    for (let p = 0; p < 6; p++) {
      const inP = records.filter((r) => r.partition === p);
      const seq = inP.map((r) => Number(r.headers[0]![1]));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      expect(inP.map((r) => r.offset)).toEqual(inP.map((_, i) => i));
    }
  });

  it('answers get_watermark_offsets and offsets_for_times', () => {
    const counts = [0, 1, 2, 3, 4, 5].map((p) => seen.records.filter((r) => r.partition === p).length);
    expect(seen.watermarks).toEqual(counts.map((n) => [0, n]));
    // In partition and offset order, the first record at or after a target is the answer.
    const inOrder = [...seen.records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    for (const q of [seen.for_first, seen.for_middle])
      expect(q.offsets).toEqual(expectedForTime(inOrder, q.target));
    expect(seen.for_first.offsets.every(([, o]) => o === 0)).toBe(true);
    expect(seen.for_future.offsets).toEqual([0, 1, 2, 3, 4, 5].map((p) => [p, -1]));
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    it(`round-trips ${codec} batches byte-exact, stored ${codec}-compressed`, async () => {
      const result = seen.codecs[codec]!;
      expect(result.errors).toEqual([]);
      expect(result.to_end).toBe(true);
      expect(result.consumed).toEqual(result.sent);

      // librdkafka falls back to uncompressed batches, silently, when it decides from ApiVersions
      // that the broker cannot take a codec; read the batches back to see what it actually sent.
      const client = await WireClient.connect(broker.port);
      const stored = await readPartition(client, `ckpy-${codec}`, 0).finally(() => client.close());
      expect(stored.map((r) => r.value!.toString())).toEqual(result.sent);
      // librdkafka infers lz4 support from FindCoordinator being advertised (it dates lz4 by the
      // broker version that brought the group coordinator): until the broker serves consumer
      // groups, its lz4 batches go out uncompressed.
      const groups = await broker.advertises(ApiKey.FindCoordinator);
      const expected = codec === 'lz4' && !groups ? CompressionType.None : compressionTypeOf(codec);
      expect(new Set(stored.map((r) => r.compression))).toEqual(new Set([expected]));
    });
  }
});
