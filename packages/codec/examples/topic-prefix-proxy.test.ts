import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiKey,
  ApiVersionsRequestDescriptor,
  ApiVersionsResponseDescriptor,
  createApiVersionsRequest,
  createApiVersionsResponse,
  createMetadataRequest,
  createMetadataRequestTopic,
  createMetadataResponse,
  createMetadataResponseTopic,
  decodeRequestBody,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameSplitter,
  type MetadataRequest,
  MetadataRequestDescriptor,
  type MetadataResponse,
  MetadataResponseDescriptor,
  parseRequestHeader,
} from '../src/index.js';
import { startProxy } from './topic-prefix-proxy.js';

// A stand-in upstream broker: answers ApiVersions and Metadata, and remembers what it was asked.
const seenTopics: (string | null)[] = [];
let upstream: Server;
let proxy: Server;

beforeAll(async () => {
  upstream = createServer((socket) => {
    const splitter = new FrameSplitter();
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk)) {
        const h = parseRequestHeader(frame);
        if (h.apiKey === ApiKey.ApiVersions) {
          socket.write(
            encodeResponseFrame(
              ApiVersionsResponseDescriptor,
              h.apiVersion,
              h.correlationId,
              createApiVersionsResponse(),
            ),
          );
        } else if (h.apiKey === ApiKey.Metadata) {
          const req = decodeRequestBody<MetadataRequest>(frame, h);
          for (const t of req.topics ?? []) seenTopics.push(t.name);
          const topics = [...(req.topics ?? []).map((t) => t.name), 'team-b.secret'].map((name) =>
            createMetadataResponseTopic({ name }),
          );
          socket.write(
            encodeResponseFrame(
              MetadataResponseDescriptor,
              h.apiVersion,
              h.correlationId,
              createMetadataResponse({ topics }),
            ),
          );
        }
      }
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const { port } = upstream.address() as AddressInfo;
  proxy = await startProxy({ upstreamHost: '127.0.0.1', upstreamPort: port, prefix: 'team-a.' });
});

afterAll(() => {
  proxy.close();
  upstream.close();
});

function roundTrip(socket: Socket, request: Buffer): Promise<Buffer> {
  const splitter = new FrameSplitter();
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const [frame] = splitter.push(chunk);
      if (frame === undefined) return;
      socket.off('data', onData).off('close', onClose);
      resolve(frame);
    };
    const onClose = (): void => reject(new Error('connection closed'));
    socket.on('data', onData).on('close', onClose);
    socket.write(request);
  });
}

describe('topic prefix proxy example', () => {
  it('prefixes topics on the way in, strips them and hides other namespaces on the way out', async () => {
    const socket = connect((proxy.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');

    const av = await roundTrip(
      socket,
      encodeRequestFrame(ApiVersionsRequestDescriptor, 3, 1, 'app', createApiVersionsRequest()),
    );
    expect(decodeResponseFrame(av, ApiKey.ApiVersions, 3).correlationId).toBe(1);

    const request = createMetadataRequest({ topics: [createMetadataRequestTopic({ name: 'orders' })] });
    const md = await roundTrip(socket, encodeRequestFrame(MetadataRequestDescriptor, 12, 2, 'app', request));
    const { correlationId, body } = decodeResponseFrame<MetadataResponse>(md, ApiKey.Metadata, 12);
    expect(correlationId).toBe(2);
    expect(seenTopics).toEqual(['team-a.orders']);
    expect(body.topics.map((t) => t.name)).toEqual(['orders']);
    socket.destroy();
  });

  it('closes only the offending connection on a malformed frame', async () => {
    const bad = connect((proxy.address() as AddressInfo).port, '127.0.0.1');
    await once(bad, 'connect');
    bad.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
    await once(bad, 'close');

    const good = connect((proxy.address() as AddressInfo).port, '127.0.0.1');
    await once(good, 'connect');
    const av = await roundTrip(
      good,
      encodeRequestFrame(ApiVersionsRequestDescriptor, 0, 9, null, createApiVersionsRequest()),
    );
    expect(decodeResponseFrame(av, ApiKey.ApiVersions, 0).correlationId).toBe(9);
    good.destroy();
  });
});
