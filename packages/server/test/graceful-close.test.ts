import { connect } from 'node:net';
import {
  ApiKey,
  createMetadataRequest,
  createMetadataResponse,
  MetadataRequestDescriptor,
} from '@tributary/codec';
import { ManualClock } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { deferred } from './fake-dispatcher.js';
import { startServer } from './harness.js';
import { eventually, sleep, WireClient } from './wire-client.js';

const metadata = (correlationId: number) =>
  WireClient.frame(MetadataRequestDescriptor, 12, correlationId, createMetadataRequest());

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('graceful close', () => {
  it('lets an in-flight request finish and its response arrive, and refuses new connections', async () => {
    const { server, port, dispatcher, connect } = await startServer();
    const release = deferred();
    dispatcher.handlers.set(ApiKey.Metadata, async () => {
      await release.promise;
      return createMetadataResponse({ clusterId: 'drained' });
    });
    const client = await connect();
    client.send(metadata(1));
    await eventually(() => dispatcher.calls.length === 1);

    let closed = false;
    const closing = server.close({ drainTimeoutMs: 5_000 }).then(() => {
      closed = true;
    });
    expect(await connectionRefused(port)).toBe(true);
    await sleep(20);
    expect(closed).toBe(false);
    expect(server.connections).toBe(1);

    release.resolve();
    const response = await client.nextResponse<{ clusterId: string }>(ApiKey.Metadata, 12);
    expect(response).toMatchObject({ correlationId: 1, body: { clusterId: 'drained' } });
    expect(await client.closedWithin()).toBe(true);
    await closing;
    expect(server.connections).toBe(0);
    // Closing again is harmless and resolves at once.
    expect(server.close()).toBe(server.close());
    await server.close();
  });

  it('tells the dispatcher shutdown began before draining, so parked requests can be answered', async () => {
    const { server, dispatcher, connect } = await startServer();
    const parked = deferred();
    dispatcher.handlers.set(ApiKey.Metadata, async () => {
      await parked.promise;
      return createMetadataResponse({ clusterId: 'released-by-shutdown' });
    });
    let shutdownCalls = 0;
    dispatcher.onBeginShutdown = () => {
      shutdownCalls++;
      parked.resolve();
    };
    const client = await connect();
    client.send(metadata(5));
    await eventually(() => dispatcher.calls.length === 1);
    await server.close({ drainTimeoutMs: 60_000 });
    expect(shutdownCalls).toBe(1);
    const response = await client.nextResponse<{ clusterId: string }>(ApiKey.Metadata, 12);
    expect(response.body.clusterId).toBe('released-by-shutdown');
  });

  it('closes idle connections at once', async () => {
    const { server, connect } = await startServer();
    const idle = await connect();
    await server.close({ drainTimeoutMs: 5_000 });
    expect(await idle.closedWithin()).toBe(true);
    expect(server.connections).toBe(0);
  });

  it('closes connections still busy at the drain deadline, read from the injected clock', async () => {
    const clock = new ManualClock();
    const { server, dispatcher, logger, connect } = await startServer({ clock });
    dispatcher.handlers.set(ApiKey.Metadata, () => new Promise(() => {}));
    const stuck = await connect();
    stuck.send(metadata(1));
    await eventually(() => dispatcher.calls.length === 1);

    let closed = false;
    const closing = server.close({ drainTimeoutMs: 1_000 }).then(() => {
      closed = true;
    });
    await sleep(20);
    expect(closed).toBe(false);
    clock.advance(999);
    await sleep(20);
    expect(closed).toBe(false);
    clock.advance(1);
    await closing;
    expect(await stuck.closedWithin()).toBe(true);
    expect(stuck.pending).toBe(0);
    expect(logger.find('warn', { connections: 1 })).toHaveLength(1);
  });

  it('drops requests received but not yet started when the close begins', async () => {
    const { server, dispatcher, connect } = await startServer({ maxInFlightPerConnection: 1 });
    const release = deferred();
    dispatcher.handlers.set(ApiKey.Metadata, async () => {
      await release.promise;
      return createMetadataResponse();
    });
    const client = await connect();
    client.send(Buffer.concat([metadata(1), metadata(2)]));
    await eventually(() => dispatcher.calls.length === 1);
    const closing = server.close();
    release.resolve();
    expect((await client.nextResponse(ApiKey.Metadata, 12)).correlationId).toBe(1);
    expect(await client.closedWithin()).toBe(true);
    expect(client.pending).toBe(0);
    expect(dispatcher.calls).toHaveLength(1);
    await closing;
  });
});
