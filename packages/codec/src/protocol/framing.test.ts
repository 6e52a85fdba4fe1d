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
  createMetadataResponse,
  MetadataResponseDescriptor,
} from '../generated/clients/metadata-response.js';
import { DecodeError } from './errors.js';
import {
  decodeRequestBody,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
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

  it('slices frames out of a chunk without copying', () => {
    const chunk = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('de'))]);
    const [a, b] = new FrameSplitter().push(chunk);
    expect(a!.buffer).toBe(chunk.buffer);
    expect(b!.toString()).toBe('de');
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
