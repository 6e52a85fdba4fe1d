import {
  ApiKey,
  ApiVersionsRequestDescriptor,
  type ApiVersionsResponse,
  createApiVersionsRequest,
  createListGroupsRequest,
  createMetadataRequest,
  createMetadataResponse,
  createProduceRequest,
  decodeResponseFrame,
  ErrorCode,
  ListGroupsRequestDescriptor,
  type ListGroupsResponse,
  MetadataRequestDescriptor,
  ProduceRequestDescriptor,
} from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { deferred, SERVED_APIS } from './fake-dispatcher.js';
import { startServer } from './harness.js';
import { metricKey } from './recorders.js';
import { eventually, sleep, WireClient } from './wire-client.js';

const apiVersionsV3 = (correlationId: number) =>
  WireClient.frame(
    ApiVersionsRequestDescriptor,
    3,
    correlationId,
    createApiVersionsRequest({ clientSoftwareName: 'wire-client', clientSoftwareVersion: '1.0' }),
  );
const metadataV12 = (correlationId: number) =>
  WireClient.frame(MetadataRequestDescriptor, 12, correlationId, createMetadataRequest());

describe('serving requests', () => {
  it('answers ApiVersions at every version with the served APIs and the request context', async () => {
    const { dispatcher, connect } = await startServer();
    const client = await connect();
    for (const version of [0, 1, 2, 3, 4]) {
      client.send(
        WireClient.frame(ApiVersionsRequestDescriptor, version, 100 + version, createApiVersionsRequest()),
      );
      const { correlationId, body } = await client.nextResponse<ApiVersionsResponse>(
        ApiKey.ApiVersions,
        version,
      );
      expect(correlationId).toBe(100 + version);
      expect(body.errorCode).toBe(ErrorCode.NONE);
      expect(body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion])).toEqual(
        SERVED_APIS.map((s) => [s.apiKey, s.minVersion, s.maxVersion]),
      );
    }
    expect(dispatcher.calls).toHaveLength(5);
    const ctx = dispatcher.calls[4]!.ctx;
    expect(ctx).toMatchObject({
      clientId: 'wire-client',
      clientAddress: client.address,
      apiKey: ApiKey.ApiVersions,
      apiVersion: 4,
      correlationId: 104,
    });
    expect(dispatcher.calls.every((c) => c.ctx.connectionId === ctx.connectionId)).toBe(true);
  });

  it('gives each connection its own id', async () => {
    const { dispatcher, connect } = await startServer();
    const a = await connect();
    const b = await connect();
    a.send(apiVersionsV3(1));
    await a.nextFrame();
    b.send(apiVersionsV3(1));
    await b.nextFrame();
    expect(dispatcher.calls[0]!.ctx.connectionId).not.toBe(dispatcher.calls[1]!.ctx.connectionId);
  });

  it('answers pipelined requests in request order when the first handler finishes last', async () => {
    const { dispatcher, connect } = await startServer();
    const secondAnswered = deferred();
    dispatcher.handlers.set(ApiKey.ApiVersions, async () => {
      await secondAnswered.promise;
      await sleep(20);
      return dispatcher.apiVersions(ErrorCode.NONE);
    });
    dispatcher.handlers.set(ApiKey.Metadata, () => {
      secondAnswered.resolve();
      return createMetadataResponse({ clusterId: 'fast' });
    });
    const client = await connect();
    client.send(Buffer.concat([apiVersionsV3(1), metadataV12(2), apiVersionsV3(3)]));

    const first = await client.nextResponse(ApiKey.ApiVersions, 3);
    const second = await client.nextResponse<{ clusterId: string }>(ApiKey.Metadata, 12);
    const third = await client.nextResponse(ApiKey.ApiVersions, 3);
    expect([first.correlationId, second.correlationId, third.correlationId]).toEqual([1, 2, 3]);
    expect(second.body.clusterId).toBe('fast');
    // The dispatcher saw the requests in arrival order too.
    expect(dispatcher.calls.map((c) => c.ctx.correlationId)).toEqual([1, 2, 3]);
  });

  it('sends nothing for Produce with acks=0 and keeps the order of the responses after it', async () => {
    const { dispatcher, connect } = await startServer();
    const slow = deferred();
    dispatcher.handlers.set(ApiKey.Metadata, async () => {
      await slow.promise;
      return createMetadataResponse();
    });
    const client = await connect();
    client.send(
      Buffer.concat([
        metadataV12(1),
        WireClient.frame(ProduceRequestDescriptor, 9, 2, createProduceRequest({ acks: 0 })),
        WireClient.frame(ProduceRequestDescriptor, 9, 3, createProduceRequest({ acks: 1 })),
        apiVersionsV3(4),
      ]),
    );
    await sleep(30);
    expect(client.pending).toBe(0);
    slow.resolve();
    expect((await client.nextResponse(ApiKey.Metadata, 12)).correlationId).toBe(1);
    expect((await client.nextResponse(ApiKey.Produce, 9)).correlationId).toBe(3);
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(4);
    await sleep(30);
    expect(client.pending).toBe(0);
    expect(dispatcher.calls.map((c) => c.ctx.correlationId)).toEqual([1, 2, 3, 4]);
  });

  it('answers an ApiVersions version it does not serve at v0 with UNSUPPORTED_VERSION, then serves on', async () => {
    const { dispatcher, connect } = await startServer();
    const client = await connect();
    const request = apiVersionsV3(7);
    request.writeInt16BE(99, 6); // the client speaks ApiVersions v99 (KIP-511)
    client.send(request);

    const frame = await client.nextFrame();
    // Response header v0 is the correlation id alone: the v0 body's error code follows at once.
    expect(frame.readInt32BE(0)).toBe(7);
    expect(frame.readInt16BE(4)).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(ErrorCode.UNSUPPORTED_VERSION).toBe(35);
    const { body } = decodeResponseFrame<ApiVersionsResponse>(frame, ApiKey.ApiVersions, 0);
    expect(body.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)).toMatchObject({
      minVersion: 0,
      maxVersion: 4,
    });
    expect(dispatcher.unsupportedCalls).toMatchObject([
      { apiKey: ApiKey.ApiVersions, apiVersion: 99, correlationId: 7 },
    ]);
    expect(dispatcher.calls).toHaveLength(0);

    client.send(apiVersionsV3(8));
    const next = await client.nextResponse<ApiVersionsResponse>(ApiKey.ApiVersions, 3);
    expect(next).toMatchObject({ correlationId: 8, body: { errorCode: ErrorCode.NONE } });
  });

  it("answers a version below a served API's range with the dispatcher's unsupported body", async () => {
    const { dispatcher, connect } = await startServer();
    dispatcher.unsupportedAnswer = (ctx) => ({
      body: createMetadataResponse({ clusterId: 'unsupported' }),
      responseVersion: ctx.apiVersion,
    });
    const client = await connect();
    client.send(WireClient.frame(MetadataRequestDescriptor, 1, 5, createMetadataRequest())); // served from v4
    const { correlationId } = await client.nextResponse(ApiKey.Metadata, 1);
    expect(correlationId).toBe(5);
    expect(dispatcher.unsupportedCalls).toMatchObject([{ apiKey: ApiKey.Metadata, apiVersion: 1 }]);
    expect(dispatcher.calls).toHaveLength(0);
  });

  it("answers an API in the specs but not served with the dispatcher's unsupported body, then serves on", async () => {
    const { dispatcher, connect } = await startServer();
    const client = await connect();
    client.send(
      Buffer.concat([
        WireClient.frame(ListGroupsRequestDescriptor, 4, 11, createListGroupsRequest()),
        apiVersionsV3(12),
      ]),
    );
    const listGroups = await client.nextResponse<ListGroupsResponse>(ApiKey.ListGroups, 4);
    expect(listGroups).toMatchObject({
      correlationId: 11,
      body: { errorCode: ErrorCode.UNSUPPORTED_VERSION },
    });
    expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(12);
    expect(dispatcher.unsupportedCalls).toMatchObject([{ apiKey: ApiKey.ListGroups, apiVersion: 4 }]);
  });

  it('closes the connection when the unsupported answer has a version outside the specs', async () => {
    const { dispatcher, logger, connect } = await startServer();
    dispatcher.unsupportedAnswer = () => ({ body: createMetadataResponse(), responseVersion: 99 });
    const client = await connect();
    const request = metadataV12(21);
    request.writeInt16BE(99, 6);
    client.send(request);
    expect(await client.closedWithin()).toBe(true);
    expect(client.pending).toBe(0);
    expect(logger.find('warn', { clientAddress: client.address })).toHaveLength(1);
    expect(logger.find('warn')[0]!.fields).toMatchObject({ apiKey: ApiKey.Metadata, correlationId: 21 });

    const other = await connect();
    other.send(apiVersionsV3(1));
    expect((await other.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(1);
  });

  it('reports requests, bytes, durations and open connections through the metrics port', async () => {
    const { server, metrics, connect } = await startServer();
    const client = await connect();
    const sent = Buffer.concat([apiVersionsV3(1), apiVersionsV3(2), metadataV12(3)]);
    client.send(sent);
    const frames = [await client.nextFrame(), await client.nextFrame(), await client.nextFrame()];
    expect(
      metrics.counters.get(metricKey('tributary_requests_total', { api: 'ApiVersions', version: 3 })),
    ).toBe(2);
    expect(
      metrics.counters.get(metricKey('tributary_requests_total', { api: 'Metadata', version: 12 })),
    ).toBe(1);
    expect(metrics.counters.get('tributary_bytes_in_total')).toBe(sent.length);
    expect(metrics.counters.get('tributary_bytes_out_total')).toBe(
      frames.reduce((n, f) => n + 4 + f.length, 0),
    );
    const durations = metrics.observations.get(
      metricKey('tributary_request_duration_seconds', { api: 'ApiVersions' }),
    );
    expect(durations).toHaveLength(2);
    expect(durations!.every((d) => d >= 0 && d < 5)).toBe(true);
    expect(metrics.gauges.get('tributary_connections')).toBe(1);
    expect(server.connections).toBe(1);

    client.destroy();
    await eventually(() => server.connections === 0);
    expect(metrics.gauges.get('tributary_connections')).toBe(0);
    expect(server.connections).toBe(0);
  });
});
