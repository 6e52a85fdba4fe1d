import {
  ApiKey,
  ApiVersionsRequestDescriptor,
  createApiVersionsRequest,
  createMetadataRequest,
  createMetadataResponse,
  ErrorCode,
  MetadataRequestDescriptor,
} from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { deferred } from './fake-dispatcher.js';
import { startServer } from './harness.js';
import { eventually, sleep, WireClient } from './wire-client.js';

const metadata = (correlationId: number) =>
  WireClient.frame(MetadataRequestDescriptor, 12, correlationId, createMetadataRequest());

describe('backpressure', () => {
  it('stops taking requests at maxInFlightPerConnection and resumes when they are answered', async () => {
    const { dispatcher, connect } = await startServer({ maxInFlightPerConnection: 2 });
    const release = deferred();
    dispatcher.handlers.set(ApiKey.Metadata, async () => {
      await release.promise;
      return createMetadataResponse();
    });
    const client = await connect();
    client.send(Buffer.concat([1, 2, 3, 4, 5, 6].map(metadata)));
    await eventually(() => dispatcher.calls.length === 2);
    for (let i = 1; i <= 6; i++) {
      client.send(metadata(10 + i));
      await sleep(10);
    }
    expect(dispatcher.calls).toHaveLength(2);

    release.resolve();
    const order: number[] = [];
    for (let i = 0; i < 12; i++) order.push((await client.nextResponse(ApiKey.Metadata, 12)).correlationId);
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]);
    expect(dispatcher.calls).toHaveLength(12);
  });

  it('stops reading the socket, so the client sees its writes back up', async () => {
    const { dispatcher, connect } = await startServer({ maxInFlightPerConnection: 1 });
    const release = deferred();
    dispatcher.handlers.set(ApiKey.ApiVersions, async () => {
      await release.promise;
      return dispatcher.apiVersions(ErrorCode.NONE);
    });
    const client = await connect();
    // About 30 MiB of requests: more than the kernel buffers on both ends hold.
    const name = 'a'.repeat(30_000);
    const request = (c: number) =>
      WireClient.frame(
        ApiVersionsRequestDescriptor,
        3,
        c,
        createApiVersionsRequest({ clientSoftwareName: name, clientSoftwareVersion: name }),
      );
    const count = 512;
    for (let c = 0; c < count; c++) client.send(request(c));
    await sleep(300);
    expect(dispatcher.calls).toHaveLength(1);
    expect(client.socket.writableLength).toBeGreaterThan(0);

    release.resolve();
    for (let c = 0; c < count; c++)
      expect((await client.nextResponse(ApiKey.ApiVersions, 3, 10_000)).correlationId).toBe(c);
    expect(client.socket.writableLength).toBe(0);
  });

  it('stops taking requests while more than maxQueuedBytesPerConnection of responses wait', async () => {
    const { dispatcher, connect } = await startServer({ maxQueuedBytesPerConnection: 1_000 });
    const release = deferred();
    // The first response is slow; the ones after it are quick and big, so they pile up behind it.
    const big = createMetadataResponse({ clusterId: 'x'.repeat(1_500) });
    dispatcher.handlers.set(ApiKey.Metadata, (ctx) =>
      ctx.correlationId === 1 ? release.promise.then(() => big) : big,
    );
    const client = await connect();
    client.send(Buffer.concat([1, 2, 3, 4, 5].map(metadata)));
    await eventually(() => dispatcher.calls.length === 2);
    await sleep(50);
    expect(dispatcher.calls).toHaveLength(2);

    release.resolve();
    const order: number[] = [];
    for (let i = 0; i < 5; i++) order.push((await client.nextResponse(ApiKey.Metadata, 12)).correlationId);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });
});
