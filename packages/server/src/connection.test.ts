import { Duplex } from 'node:stream';
import {
  ApiKey,
  ApiVersionsRequestDescriptor,
  createApiVersionsRequest,
  createMetadataRequest,
  createMetadataResponse,
  encodeRequestFrame,
  MetadataRequestDescriptor,
} from '@tributary/codec';
import { noopMetrics, silentLogger, systemClock } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { deferred, FakeDispatcher, SERVED_APIS } from '../test/fake-dispatcher.js';
import { eventually, sleep } from '../test/wire-client.js';
import { Connection } from './connection.js';
import { ServedVersions } from './served-versions.js';

/** A socket stand-in that records each batch the connection hands to the kernel. */
function recordingSocket(options: { holdWrites?: boolean } = {}) {
  const batches: Buffer[][] = [];
  const held: (() => void)[] = [];
  const done = (cb: () => void) => (options.holdWrites ? held.push(cb) : cb());
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, cb) {
      batches.push([chunk]);
      done(cb);
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => c.chunk as Buffer));
      done(cb);
    },
    writableHighWaterMark: 16,
  });
  const releaseWrites = () => {
    for (const cb of held.splice(0)) cb();
  };
  return { socket, batches, releaseWrites };
}

function open(socket: Duplex, dispatcher: FakeDispatcher, maxInFlight = 64): Connection {
  return new Connection({
    socket,
    connectionId: 1,
    clientAddress: '127.0.0.1:50000',
    dispatcher,
    served: new ServedVersions(SERVED_APIS),
    maxRequestSize: 1024 * 1024,
    maxInFlight,
    maxQueuedBytes: 1024 * 1024,
    logger: silentLogger,
    metrics: noopMetrics,
    clock: systemClock,
  });
}

const apiVersions = (c: number) =>
  encodeRequestFrame(ApiVersionsRequestDescriptor, 3, c, 'unit', createApiVersionsRequest());
const metadata = (c: number) =>
  encodeRequestFrame(MetadataRequestDescriptor, 12, c, 'unit', createMetadataRequest());
const correlationIds = (batch: Buffer[]) => batch.map((frame) => frame.readInt32BE(4));

describe('Connection', () => {
  it('writes responses that are ready together in one batch', async () => {
    const { socket, batches } = recordingSocket();
    open(socket, new FakeDispatcher());
    socket.push(Buffer.concat([apiVersions(1), apiVersions(2), apiVersions(3)]));
    await eventually(() => batches.length > 0);
    await sleep(10);
    expect(batches.map(correlationIds)).toEqual([[1, 2, 3]]);
  });

  it('batches async responses that complete in the same turn', async () => {
    const { socket, batches } = recordingSocket();
    const dispatcher = new FakeDispatcher();
    const gate = deferred();
    dispatcher.handlers.set(ApiKey.Metadata, () => gate.promise.then(() => createMetadataResponse()));
    open(socket, dispatcher);
    socket.push(Buffer.concat([metadata(1), metadata(2), metadata(3), metadata(4)]));
    await eventually(() => dispatcher.calls.length === 4);
    expect(batches).toHaveLength(0);
    gate.resolve();
    await eventually(() => batches.length > 0);
    await sleep(10);
    expect(batches.map(correlationIds)).toEqual([[1, 2, 3, 4]]);
  });

  it('holds a quick response behind a slow one, then writes both together', async () => {
    const { socket, batches } = recordingSocket();
    const dispatcher = new FakeDispatcher();
    const slow = deferred();
    dispatcher.handlers.set(ApiKey.Metadata, () => slow.promise.then(() => createMetadataResponse()));
    open(socket, dispatcher);
    socket.push(Buffer.concat([metadata(1), apiVersions(2)]));
    await sleep(20);
    expect(batches).toHaveLength(0);
    slow.resolve();
    await eventually(() => batches.length > 0);
    expect(batches.map(correlationIds)).toEqual([[1, 2]]);
  });

  it("takes no new request while the socket's write buffer is full, and resumes on drain", async () => {
    const { socket, batches, releaseWrites } = recordingSocket({ holdWrites: true });
    const dispatcher = new FakeDispatcher();
    const connection = open(socket, dispatcher);
    socket.push(apiVersions(1)); // its response is larger than the 16-byte high-water mark
    await eventually(() => batches.length === 1);
    socket.push(Buffer.concat([apiVersions(2), apiVersions(3)]));
    await sleep(20);
    expect(dispatcher.calls).toHaveLength(1);
    expect(socket.isPaused()).toBe(true);
    expect(connection.inFlight).toBe(0);

    releaseWrites();
    await eventually(() => dispatcher.calls.length === 3);
    await eventually(() => {
      releaseWrites();
      return !socket.isPaused();
    });
    expect(batches.flatMap(correlationIds)).toEqual([1, 2, 3]);
  });
});
