// Golden bytes: request frames captured from real clients (scripts/capture-golden.ts) must decode
// and re-encode to exactly the bytes the client sent. Reads only the committed fixtures, so it runs
// without any client installed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  API_TABLE,
  type ApiVersionsRequest,
  type CreateTopicsRequest,
  decodeRequestBody,
  encodeRequestFrame,
  encodeRequestHeader,
  type FetchRequest,
  type FindCoordinatorRequest,
  type JoinGroupRequest,
  type MetadataRequest,
  type OffsetCommitRequest,
  type ParsedRequestHeader,
  type ProduceRequest,
  parseRequestHeader,
  Reader,
  type SyncGroupRequest,
  Writer,
  ZERO_UUID,
} from '../src/index.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');
/** The clients whose frames are committed; losing one is a failure, not a quieter test. */
const CLIENTS = ['confluent-kafka-python', 'kafka-python', 'kafkajs', 'kcat', 'platformatic-kafka'];

interface GoldenIndex {
  client: string;
  clientVersion: string;
  clientId: string;
  topic: string;
  group: string;
  reached: string[];
  frames: { file: string; apiKey: number; apiName: string; apiVersion: number; bytes: number }[];
}

interface Golden {
  file: string;
  frame: Buffer;
  header: ParsedRequestHeader;
  body: unknown;
}

const indexes: GoldenIndex[] = CLIENTS.filter((c) => existsSync(join(GOLDEN_DIR, c, 'index.json'))).map(
  (c) => JSON.parse(readFileSync(join(GOLDEN_DIR, c, 'index.json'), 'utf8')) as GoldenIndex,
);

function load(index: GoldenIndex): Golden[] {
  return index.frames.map(({ file }) => {
    const frame = readFileSync(join(GOLDEN_DIR, index.client, file));
    const header = parseRequestHeader(frame);
    return { file, frame, header, body: decodeRequestBody(frame, header) };
  });
}

/** Header and body written back with the codec, without the size prefix. */
function reencode(header: ParsedRequestHeader, body: unknown): Buffer {
  const head = encodeRequestHeader(
    {
      requestApiKey: header.apiKey,
      requestApiVersion: header.apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      ...(header.unknownTaggedFields === undefined
        ? {}
        : { unknownTaggedFields: header.unknownTaggedFields }),
    },
    header.headerVersion,
  );
  const request = API_TABLE[header.apiKey]!.request;
  const w = Writer.alloc(request.size(body, header.apiVersion));
  request.write(w, body, header.apiVersion);
  expect(w.offset).toBe(w.buf.length);
  return Buffer.concat([head, w.buf]);
}

/** The first byte where `a` and `b` differ, or -1 when they are equal. */
function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

interface BatchSummary {
  magic: number;
  records: number;
}

/** Walks the v2 record batches in a Produce partition's records: magic at byte 16, count at 57. */
function batches(records: Buffer): BatchSummary[] {
  const out: BatchSummary[] = [];
  let o = 0;
  while (o < records.length) {
    const size = 12 + records.readInt32BE(o + 8);
    expect(o + size).toBeLessThanOrEqual(records.length);
    out.push({ magic: records.readInt8(o + 16), records: records.readInt32BE(o + 57) });
    o += size;
  }
  return out;
}

const ofApi = (goldens: Golden[], apiKey: number) => goldens.filter((g) => g.header.apiKey === apiKey);

describe('golden frames from real clients', () => {
  it('holds the fixtures of every client', () => {
    expect(indexes.map((i) => i.client)).toEqual(CLIENTS);
    for (const index of indexes) {
      const listed = index.frames.map((f) => f.file).sort();
      const onDisk = readdirSync(join(GOLDEN_DIR, index.client))
        .filter((f) => f.endsWith('.bin'))
        .sort();
      expect(onDisk).toEqual(listed);
      // Every client gets at least as far as reading metadata and producing.
      const apis = new Set(index.frames.map((f) => f.apiName));
      for (const api of ['ApiVersions', 'Metadata', 'Produce', 'Fetch']) expect(apis).toContain(api);
    }
  });

  for (const index of indexes) {
    describe(`${index.client} ${index.clientVersion}`, () => {
      const goldens = load(index);

      for (const { file, apiKey, apiName, apiVersion, bytes } of index.frames) {
        it(`${file} decodes and re-encodes byte for byte`, () => {
          const g = goldens.find((x) => x.file === file)!;
          expect(g.frame.length).toBe(bytes);
          expect(g.header).toMatchObject({ apiKey, apiVersion, known: true });
          expect(API_TABLE[apiKey]!.name).toBe(apiName);

          // The body is read to its last byte: nothing trails it.
          const r = new Reader(g.frame, g.header.bodyOffset);
          API_TABLE[apiKey]!.request.read(r, apiVersion);
          expect(r.offset).toBe(g.frame.length);

          const again = reencode(g.header, g.body);
          expect(firstDifference(again, g.frame), `${file}: first differing byte`).toBe(-1);
          expect(again.equals(g.frame)).toBe(true);

          // The public frame encoder writes the same bytes after its size prefix.
          if (g.header.unknownTaggedFields === undefined) {
            const framed = encodeRequestFrame(
              API_TABLE[apiKey]!.request,
              apiVersion,
              g.header.correlationId,
              g.header.clientId,
              g.body,
            );
            expect(framed.readInt32BE(0)).toBe(g.frame.length);
            expect(framed.subarray(4).equals(g.frame)).toBe(true);
          }

          // Decoding what we wrote gives back the same message.
          expect(decodeRequestBody(again, parseRequestHeader(again))).toEqual(g.body);
        });
      }

      it('carries the client id the capture script set', () => {
        for (const g of goldens) expect(g.header.clientId, g.file).toBe(index.clientId);
      });

      it('names the topic in a Metadata request', () => {
        const named = ofApi(goldens, 3).flatMap((g) =>
          ((g.body as MetadataRequest).topics ?? []).map((t) => t.name),
        );
        expect(named).toContain(index.topic);
      });

      it('produces keyed records with headers to the topic', () => {
        const produce = ofApi(goldens, 0);
        expect(produce.length).toBeGreaterThan(0);
        for (const g of produce) {
          const req = g.body as ProduceRequest;
          expect(req.topicData.length).toBeGreaterThan(0);
          for (const td of req.topicData) {
            if (g.header.apiVersion >= 13) expect(td.topicId.equals(ZERO_UUID)).toBe(false);
            else expect(td.name).toBe(index.topic);
            for (const pd of td.partitionData) {
              expect(pd.records).not.toBeNull();
              const records = pd.records!;
              const found = batches(records);
              expect(found.length).toBeGreaterThan(0);
              for (const b of found) {
                expect(b.magic).toBe(2);
                expect(b.records).toBeGreaterThan(0);
              }
              // Uncompressed, so the keys, values and header keys are there to see.
              expect(records.includes('key-')).toBe(true);
              expect(records.includes('tributary golden value')).toBe(true);
              expect(records.includes('trace')).toBe(true);
              // A slice of the frame, not a copy.
              expect(records.buffer).toBe(g.frame.buffer);
            }
          }
        }
      });

      it('fetches the topic', () => {
        for (const g of ofApi(goldens, 1)) {
          const req = g.body as FetchRequest;
          expect(req.topics.length).toBeGreaterThan(0);
          for (const t of req.topics) {
            if (g.header.apiVersion >= 13) expect(t.topicId.equals(ZERO_UUID)).toBe(false);
            else expect(t.topic).toBe(index.topic);
            expect(t.partitions.length).toBeGreaterThan(0);
          }
        }
      });

      it('joins, syncs and commits in the script group', () => {
        const hasGroup = index.frames.some((f) => f.apiName === 'JoinGroup');
        if (!hasGroup) return;
        for (const g of ofApi(goldens, 10)) {
          const req = g.body as FindCoordinatorRequest;
          const keys = g.header.apiVersion >= 4 ? req.coordinatorKeys : [req.key];
          expect(keys).toContain(index.group);
        }
        for (const g of ofApi(goldens, 11)) {
          const req = g.body as JoinGroupRequest;
          expect(req.groupId).toBe(index.group);
          expect(req.protocolType).toBe('consumer');
          expect(req.protocols.length).toBeGreaterThan(0);
          for (const p of req.protocols) expect(p.metadata.length).toBeGreaterThan(0);
        }
        for (const g of ofApi(goldens, 14)) {
          const req = g.body as SyncGroupRequest;
          expect(req.groupId).toBe(index.group);
          // The only member leads, so it sends its own assignment.
          expect(req.assignments.map((a) => a.memberId)).toContain(req.memberId);
        }
        for (const g of ofApi(goldens, 8)) {
          const req = g.body as OffsetCommitRequest;
          expect(req.groupId).toBe(index.group);
          for (const t of req.topics) if (g.header.apiVersion < 10) expect(t.name).toBe(index.topic);
          // Some clients commit every assigned partition, empty ones at 0; at least one moved on.
          const offsets = req.topics.flatMap((t) => t.partitions.map((p) => p.committedOffset));
          expect(offsets.every((o) => o >= 0n)).toBe(true);
          expect(offsets.some((o) => o > 0n)).toBe(true);
        }
      });

      it('names itself in ApiVersions from v3 and creates the topic it uses', () => {
        for (const g of ofApi(goldens, 18)) {
          if (g.header.apiVersion < 3) continue;
          expect((g.body as ApiVersionsRequest).clientSoftwareName).not.toBe('');
          expect((g.body as ApiVersionsRequest).clientSoftwareVersion).not.toBe('');
        }
        for (const g of ofApi(goldens, 19)) {
          const req = g.body as CreateTopicsRequest;
          expect(req.topics.map((t) => [t.name, t.numPartitions])).toEqual([[index.topic, 3]]);
        }
      });
    });
  }
});
