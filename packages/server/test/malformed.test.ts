import {
  ApiKey,
  ApiVersionsRequestDescriptor,
  createApiVersionsRequest,
  createMetadataRequest,
  DecodeError,
  FrameSizeError,
  MetadataRequestDescriptor,
} from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { startServer } from './harness.js';
import { WireClient } from './wire-client.js';

const MAX_REQUEST_SIZE = 1024;

function sizePrefixed(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

/** A request header (v1) for any API key, without a body. */
function header(apiKey: number, apiVersion: number, correlationId: number): Buffer {
  const b = Buffer.alloc(10);
  b.writeInt16BE(apiKey, 0);
  b.writeInt16BE(apiVersion, 2);
  b.writeInt32BE(correlationId, 4);
  b.writeInt16BE(-1, 8); // null client id
  return b;
}

/** Deterministic bytes from a seed (xorshift32), so a failure can be replayed. */
function randomBytes(seed: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function truncatedMetadata(correlationId: number): Buffer {
  const whole = WireClient.frame(
    MetadataRequestDescriptor,
    12,
    correlationId,
    createMetadataRequest({ topics: [{ topicId: Buffer.alloc(16, 7), name: 'orders' }] }),
  );
  // Cut inside the first topic's id, and make the size prefix agree, so the frame is whole but its body is not.
  return sizePrefixed(whole.subarray(4, whole.length - 12));
}

function apiVersionsHeaderThenGarbage(correlationId: number): Buffer {
  const valid = WireClient.frame(ApiVersionsRequestDescriptor, 3, correlationId, createApiVersionsRequest());
  // Keep the v2 header (size, key, version, correlation id, client id, empty tagged fields); the body is 0xff.
  const headerEnd = 4 + 8 + 2 + 'wire-client'.length + 1;
  return sizePrefixed(Buffer.concat([valid.subarray(4, headerEnd), Buffer.alloc(16, 0xff)]));
}

interface Case {
  name: string;
  bytes: Buffer;
  /** What the single warning must carry. */
  logged: { apiKey: number | null; correlationId: number | null; error: new (...args: never[]) => Error };
}

const cases: Case[] = [
  {
    name: 'a truncated body',
    bytes: truncatedMetadata(41),
    logged: { apiKey: ApiKey.Metadata, correlationId: 41, error: DecodeError },
  },
  {
    name: 'garbage after a valid header',
    bytes: apiVersionsHeaderThenGarbage(42),
    logged: { apiKey: ApiKey.ApiVersions, correlationId: 42, error: DecodeError },
  },
  {
    name: 'an API key outside the specs (999)',
    bytes: sizePrefixed(header(999, 0, 43)),
    logged: { apiKey: 999, correlationId: 43, error: Error },
  },
  {
    name: 'an API key the specs list but Kafka 4 removed (LeaderAndIsr)',
    bytes: sizePrefixed(header(ApiKey.LeaderAndIsr, 7, 44)),
    logged: { apiKey: ApiKey.LeaderAndIsr, correlationId: 44, error: Error },
  },
  {
    name: 'a frame shorter than a request header',
    bytes: sizePrefixed(Buffer.from([0, 18, 0])),
    logged: { apiKey: ApiKey.ApiVersions, correlationId: null, error: DecodeError },
  },
  {
    name: 'a negative size prefix',
    bytes: Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xfe]), header(18, 3, 45)]),
    logged: { apiKey: null, correlationId: null, error: FrameSizeError },
  },
  {
    name: 'a size prefix above maxRequestSize',
    bytes: Buffer.concat([Buffer.from([0, 0, 0x04, 0x01]), header(18, 3, 46)]), // 1025 bytes
    logged: { apiKey: null, correlationId: null, error: FrameSizeError },
  },
  {
    name: 'random bytes',
    bytes: randomBytes(0x7a1b, 4096),
    logged: { apiKey: null, correlationId: null, error: DecodeError },
  },
];

describe('malformed input', () => {
  it.each(cases)('closes only the connection that sent $name, logging it once', async ({ bytes, logged }) => {
    const { logger, connect } = await startServer({ maxRequestSize: MAX_REQUEST_SIZE });
    const bystander = await connect();
    const offender = await connect();

    offender.send(bytes);
    expect(await offender.closedWithin()).toBe(true);
    expect(offender.pending).toBe(0);

    const warnings = logger.find('warn', { clientAddress: offender.address });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ apiKey: logged.apiKey, correlationId: logged.correlationId });
    expect(warnings[0]!.fields.err).toBeInstanceOf(logged.error);
    expect(logger.find('warn')).toHaveLength(1);
    expect(logger.find('error')).toHaveLength(0);

    // A connection open before, and one opened after, both keep being served.
    for (const client of [bystander, await connect()]) {
      client.send(WireClient.frame(ApiVersionsRequestDescriptor, 3, 1, createApiVersionsRequest()));
      expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(1);
    }
  });

  it('still answers the requests before the malformed one, then closes', async () => {
    const { logger, connect } = await startServer({ maxRequestSize: MAX_REQUEST_SIZE });
    const client = await connect();
    const good = (c: number) =>
      WireClient.frame(ApiVersionsRequestDescriptor, 3, c, createApiVersionsRequest());
    client.send(Buffer.concat([good(1), good(2), sizePrefixed(header(999, 0, 3)), good(4)]));
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(1);
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(2);
    expect(await client.closedWithin()).toBe(true);
    expect(client.pending).toBe(0);
    expect(logger.find('warn')).toHaveLength(1);
  });

  it('answers whole requests that precede a bad size prefix in the same chunk, then closes', async () => {
    const { logger, connect } = await startServer({ maxRequestSize: MAX_REQUEST_SIZE });
    const client = await connect();
    const good = (c: number) =>
      WireClient.frame(ApiVersionsRequestDescriptor, 3, c, createApiVersionsRequest());
    const tooBig = Buffer.alloc(4);
    tooBig.writeInt32BE(MAX_REQUEST_SIZE + 1);
    client.send(Buffer.concat([good(1), good(2), tooBig, good(4)]));
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(1);
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(2);
    expect(await client.closedWithin()).toBe(true);
    expect(client.pending).toBe(0);
    const warnings = logger.find('warn');
    expect(warnings).toHaveLength(1);
  });

  it('waits for the rest of a frame that arrives in pieces rather than calling it malformed', async () => {
    const { logger, connect } = await startServer();
    const client = await connect();
    const frame = WireClient.frame(ApiVersionsRequestDescriptor, 3, 9, createApiVersionsRequest());
    for (let i = 0; i < frame.length; i++) {
      client.send(frame.subarray(i, i + 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(9);
    expect(logger.find('warn')).toHaveLength(0);
  });
});
