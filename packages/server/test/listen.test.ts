import { ApiKey, ApiVersionsRequestDescriptor, createApiVersionsRequest } from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { createKafkaServer } from '../src/index.js';
import { FakeDispatcher } from './fake-dispatcher.js';
import { startServer } from './harness.js';
import { WireClient } from './wire-client.js';

describe('listening', () => {
  it('binds 127.0.0.1 on an ephemeral port and reports the address', async () => {
    const server = createKafkaServer({ dispatcher: new FakeDispatcher() });
    expect(server.address).toBeUndefined();
    const bound = await server.listen();
    expect(bound.host).toBe('127.0.0.1');
    expect(bound.port).toBeGreaterThan(0);
    expect(server.address).toEqual(bound);
    await expect(server.listen()).rejects.toThrow(/already started/);
    await server.close();
  });

  it('rejects listen when the port is taken, and closes cleanly after', async () => {
    const { port } = await startServer();
    const second = createKafkaServer({ dispatcher: new FakeDispatcher(), port });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.close();
  });

  it('serves a new server on the port an old one released', async () => {
    const { server, port } = await startServer();
    await server.close();
    const again = createKafkaServer({ dispatcher: new FakeDispatcher(), port });
    expect((await again.listen()).port).toBe(port);
    const client = await WireClient.connect(port);
    client.send(WireClient.frame(ApiVersionsRequestDescriptor, 3, 1, createApiVersionsRequest()));
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(1);
    client.destroy();
    await again.close();
  });

  it('binds without serving until startAccepting, then serves the connections that waited', async () => {
    const dispatcher = new FakeDispatcher();
    const server = createKafkaServer({ dispatcher });
    const { port } = await server.listen({ accept: false });
    const client = await WireClient.connect(port);
    client.send(WireClient.frame(ApiVersionsRequestDescriptor, 3, 7, createApiVersionsRequest()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(dispatcher.calls).toHaveLength(0);
    expect(server.connections).toBe(0);
    server.startAccepting();
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(7);
    expect(dispatcher.calls).toHaveLength(1);
    client.destroy();
    await server.close();
  });

  it('closes connections still waiting when it is closed before accepting', async () => {
    const server = createKafkaServer({ dispatcher: new FakeDispatcher() });
    const { port } = await server.listen({ accept: false });
    const client = await WireClient.connect(port);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await server.close();
    expect(await client.closedWithin(1_000)).toBe(true);
  });

  it('names the option that cannot work', () => {
    const dispatcher = new FakeDispatcher();
    expect(() => createKafkaServer({ dispatcher, maxInFlightPerConnection: 0 })).toThrow(
      /maxInFlightPerConnection/,
    );
    expect(() => createKafkaServer({ dispatcher, maxRequestSize: 2 ** 31 })).toThrow(/maxRequestSize/);
    expect(() => createKafkaServer({ dispatcher, port: 70_000 })).toThrow(/port/);
  });
});
