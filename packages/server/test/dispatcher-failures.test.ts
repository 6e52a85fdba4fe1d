import {
  ApiKey,
  ApiVersionsRequestDescriptor,
  createApiVersionsRequest,
  createMetadataRequest,
  MetadataRequestDescriptor,
} from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import type { Handler } from './fake-dispatcher.js';
import { startServer } from './harness.js';
import { WireClient } from './wire-client.js';

const apiVersions = (c: number) =>
  WireClient.frame(ApiVersionsRequestDescriptor, 3, c, createApiVersionsRequest());
const metadata = (c: number) => WireClient.frame(MetadataRequestDescriptor, 12, c, createMetadataRequest());

const failures: { name: string; handler: Handler }[] = [
  {
    name: 'throws',
    handler: () => {
      throw new Error('handler bug');
    },
  },
  { name: 'rejects', handler: () => Promise.reject(new Error('handler bug')) },
  { name: 'returns a body that cannot be encoded', handler: () => ({ topics: 'not an array' }) },
];

describe('a failing dispatcher', () => {
  it.each(failures)(
    'closes only the connection whose handler $name, after the responses before it',
    async ({ handler }) => {
      const { dispatcher, logger, connect } = await startServer();
      dispatcher.handlers.set(ApiKey.Metadata, handler);
      const bystander = await connect();
      const client = await connect();
      client.send(Buffer.concat([apiVersions(1), metadata(2), apiVersions(3)]));

      expect((await client.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(1);
      expect(await client.closedWithin()).toBe(true);
      expect(client.pending).toBe(0);
      const errors = logger.find('error', { clientAddress: client.address });
      expect(errors).toHaveLength(1);
      expect(errors[0]!.fields).toMatchObject({ apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 2 });
      expect(errors[0]!.fields.err).toBeInstanceOf(Error);

      bystander.send(apiVersions(1));
      expect((await bystander.nextResponse(ApiKey.ApiVersions, 3)).correlationId).toBe(1);
    },
  );

  it('closes the connection when unsupported() throws', async () => {
    const { dispatcher, logger, connect } = await startServer();
    dispatcher.unsupportedAnswer = () => {
      throw new Error('unsupported bug');
    };
    const client = await connect();
    client.send(WireClient.frame(MetadataRequestDescriptor, 1, 5, createMetadataRequest()));
    expect(await client.closedWithin()).toBe(true);
    expect(logger.find('error', { clientAddress: client.address, correlationId: 5 })).toHaveLength(1);
  });
});
