import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../generated/api-table.js';
import {
  ApiVersionsRequestDescriptor,
  createApiVersionsRequest,
} from '../generated/clients/api-versions-request.js';
import {
  ApiVersionsResponseDescriptor,
  createApiVersionsResponse,
} from '../generated/clients/api-versions-response.js';
import {
  createFetchResponse,
  createFetchResponseFetchableTopicResponse,
  createFetchResponsePartitionData,
  FetchResponseDescriptor,
} from '../generated/clients/fetch-response.js';
import {
  createMetadataResponse,
  MetadataResponseDescriptor,
} from '../generated/clients/metadata-response.js';
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  encodeProduceRequest,
  ProduceRequestDescriptor,
} from '../generated/clients/produce-request.js';
import { DecodeError } from './errors.js';
import {
  decodeRequestBody,
  decodeResponseFrame,
  encodeChunks,
  encodeRequestFrame,
  encodeRequestFrameChunks,
  encodeResponseFrame,
  encodeResponseFrameChunks,
  FrameSizeError,
  FrameSplitter,
  parseRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './framing.js';

const frame = (body: Buffer): Buffer => {
  const b = Buffer.alloc(4 + body.length);
  b.writeInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
};

describe('FrameSplitter', () => {
  it('returns every frame whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))));
          const splitter = new FrameSplitter(1024);
          const out: Buffer[] = [];
          let o = 0;
          let i = 0;
          while (o < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            out.push(...splitter.push(stream.subarray(o, o + n)).map((f) => Buffer.from(f)));
            o += n;
          }
          expect(out).toEqual(bodies.map((b) => Buffer.from(b)));
          expect(splitter.buffered).toBe(0);
        },
      ),
    );
  });

  it('refuses a negative or oversized size prefix as soon as it arrives', () => {
    const s = new FrameSplitter(100);
    const big = Buffer.alloc(4);
    big.writeInt32BE(101, 0);
    expect(() => s.push(big)).toThrow(FrameSizeError);
    const neg = Buffer.alloc(4);
    neg.writeInt32BE(-5, 0);
    expect(() => new FrameSplitter().push(neg)).toThrow(/negative/);
  });

  it('hands over the complete frames that precede a bad size prefix with the error', () => {
    const bad = Buffer.alloc(4);
    bad.writeInt32BE(-1, 0);
    const chunk = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('de')), bad]);
    let error: unknown;
    try {
      new FrameSplitter(100).push(chunk);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FrameSizeError);
    expect((error as FrameSizeError).frames.map((f) => f.toString())).toEqual(['abc', 'de']);
    expect((error as FrameSizeError).size).toBe(-1);
  });

  it('hands over a frame completed by the chunk that also brings a bad size prefix', () => {
    const s = new FrameSplitter(100);
    const whole = Buffer.concat([frame(Buffer.from('hello')), Buffer.from([0x7f, 0, 0, 0])]);
    expect(s.push(whole.subarray(0, 6))).toEqual([]);
    let error: unknown;
    try {
      s.push(whole.subarray(6));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FrameSizeError);
    expect((error as FrameSizeError).frames.map((f) => f.toString())).toEqual(['hello']);
  });

  it('slices frames out of a chunk without copying', () => {
    const chunk = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('de'))]);
    const [a, b] = new FrameSplitter().push(chunk);
    expect(a!.buffer).toBe(chunk.buffer);
    expect(b!.toString()).toBe('de');
  });
});

describe('chunked frames', () => {
  const records: Buffer[] = [Buffer.alloc(20_000, 1), Buffer.alloc(100, 2), Buffer.alloc(30_000, 3)];
  const response = createFetchResponse({
    responses: [
      createFetchResponseFetchableTopicResponse({
        topic: 't',
        partitions: records.map((r, i) =>
          createFetchResponsePartitionData({ partitionIndex: i, records: r }),
        ),
      }),
    ],
  });

  it('references byte fields at or above the threshold and copies the rest', () => {
    for (const version of [4, 11, 12, 16]) {
      const chunks = encodeResponseFrameChunks(FetchResponseDescriptor, version, 9, response);
      expect(Buffer.concat(chunks)).toEqual(
        encodeResponseFrame(FetchResponseDescriptor, version, 9, response),
      );
      // head, batch 0, middle (with batch 1 copied), batch 2, then from v12 the tagged-field counts
      expect(chunks).toHaveLength(version >= 12 ? 5 : 4);
      expect(chunks[1]).toBe(records[0]);
      expect(chunks[3]).toBe(records[2]);
      expect(chunks[2]!.length).toBeGreaterThan(100);
      expect(chunks[0]!.length + chunks[2]!.length + (chunks[4]?.length ?? 0)).toBe(
        encodeResponseFrame(FetchResponseDescriptor, version, 9, response).length - 50_000,
      );
    }
  });

  it('splices from the threshold given, down to one byte', () => {
    const chunks = encodeResponseFrameChunks(FetchResponseDescriptor, 12, 9, response, 100);
    expect(chunks.filter((c) => records.includes(c))).toHaveLength(3);
    const none = encodeResponseFrameChunks(FetchResponseDescriptor, 12, 9, response, 50_000);
    expect(none).toHaveLength(1);
    expect(() => encodeResponseFrameChunks(FetchResponseDescriptor, 12, 9, response, 0)).toThrow(/threshold/);
  });

  it('writes request frames and bodies the same way', () => {
    const request = createProduceRequest({
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        createProduceRequestTopicProduceData({
          name: 't',
          partitionData: [createProduceRequestPartitionProduceData({ index: 0, records: records[2]! })],
        }),
      ],
    });
    for (const version of [3, 9, 13]) {
      const parts = encodeRequestFrameChunks(ProduceRequestDescriptor, version, 5, 'app', request);
      // head and batch, then from v9 (flexible) the tagged-field counts
      expect(parts).toHaveLength(version >= 9 ? 3 : 2);
      expect(parts[1]).toBe(records[2]);
      expect(Buffer.concat(parts)).toEqual(
        encodeRequestFrame(ProduceRequestDescriptor, version, 5, 'app', request),
      );
      const body = encodeChunks(ProduceRequestDescriptor, request, version);
      expect(body[1]).toBe(records[2]);
      expect(Buffer.concat(body)).toEqual(encodeProduceRequest(request, version));
    }
  });

  it('returns one chunk for a message without byte fields', () => {
    const chunks = encodeChunks(ApiVersionsRequestDescriptor, createApiVersionsRequest(), 3);
    expect(chunks).toHaveLength(1);
  });
});

describe('header versions', () => {
  it('follows flexibility, with ApiVersions always answering with header v0', () => {
    expect(requestHeaderVersion(ApiKey.ApiVersions, 2)).toBe(1);
    expect(requestHeaderVersion(ApiKey.ApiVersions, 3)).toBe(2);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 4)).toBe(0);
    expect(requestHeaderVersion(ApiKey.Metadata, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Metadata, 9)).toBe(2);
    expect(responseHeaderVersion(ApiKey.Metadata, 8)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Metadata, 9)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Produce, 9)).toBe(2);
  });

  it('treats versions above the specs as flexible when the API is (KIP-511)', () => {
    expect(requestHeaderVersion(ApiKey.ApiVersions, 99)).toBe(2);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 99)).toBe(0);
  });
});

describe('request and response frames', () => {
  it('parses a request header and body it encoded, for flexible and classic versions', () => {
    for (const version of [0, 2, 3, 4]) {
      const req = createApiVersionsRequest(
        version >= 3 ? { clientSoftwareName: 'tributary-test', clientSoftwareVersion: '1.0' } : {},
      );
      const bytes = encodeRequestFrame(ApiVersionsRequestDescriptor, version, 77, 'client-1', req);
      const [f] = new FrameSplitter().push(bytes);
      const h = parseRequestHeader(f!);
      expect(h).toMatchObject({
        apiKey: 18,
        apiVersion: version,
        correlationId: 77,
        clientId: 'client-1',
        known: true,
      });
      expect(h.headerVersion).toBe(version >= 3 ? 2 : 1);
      expect(decodeRequestBody(f!, h)).toEqual(req);
    }
  });

  it('reads the header of an ApiVersions request above the highest version', () => {
    const bytes = encodeRequestFrame(ApiVersionsRequestDescriptor, 4, 9, 'c', createApiVersionsRequest());
    bytes.writeInt16BE(42, 6); // bump apiVersion to 42
    const h = parseRequestHeader(bytes.subarray(4));
    expect(h).toMatchObject({
      apiKey: 18,
      apiVersion: 42,
      correlationId: 9,
      clientId: 'c',
      headerVersion: 2,
    });
    expect(() => decodeRequestBody(bytes.subarray(4), h)).toThrow(DecodeError);
  });

  it('yields the correlation id of an API key outside the specs', () => {
    const b = Buffer.alloc(14);
    b.writeInt16BE(999, 0);
    b.writeInt16BE(0, 2);
    b.writeInt32BE(1234, 4);
    b.writeInt16BE(4, 8);
    b.write('abcd', 10);
    expect(parseRequestHeader(b)).toMatchObject({
      apiKey: 999,
      correlationId: 1234,
      clientId: 'abcd',
      known: false,
    });
  });

  it('refuses a frame shorter than a header with a DecodeError', () => {
    expect(() => parseRequestHeader(Buffer.alloc(5))).toThrow(DecodeError);
  });

  it('writes ApiVersions responses with header v0 and Metadata v12 with a tagged header', () => {
    const av = encodeResponseFrame(ApiVersionsResponseDescriptor, 3, 5, createApiVersionsResponse());
    expect(av.readInt32BE(0)).toBe(av.length - 4);
    expect(av.readInt32BE(4)).toBe(5);
    // Header v0 is the correlation id alone: the body's error code follows at once.
    expect(av.readInt16BE(8)).toBe(0);
    expect(decodeResponseFrame(av.subarray(4), 18, 3)).toEqual({
      correlationId: 5,
      body: createApiVersionsResponse(),
    });

    const md = encodeResponseFrame(MetadataResponseDescriptor, 12, 6, createMetadataResponse());
    expect(md.readInt32BE(4)).toBe(6);
    expect(md[8]).toBe(0); // empty tagged-field section of response header v1
    expect(decodeResponseFrame(md.subarray(4), 3, 12).body).toEqual(createMetadataResponse());
  });
});
