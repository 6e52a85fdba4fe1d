// An in-process broker that can lose one Produce response on purpose: the batch is stored, the
// client hears nothing, times out and sends the batch again. That is how a retried batch reaches
// a broker in production (a response lost with its connection), made deterministic for tests.
import { ApiKey, type ProduceRequest } from '@tributary/codec';
import { createBrokerCore, type RequestDispatcher } from '@tributary/core';
import { createKafkaServer } from '@tributary/server';
import { MemoryStorage } from '@tributary/storage-memory';

export interface SwallowingBroker {
  readonly bootstrap: string;
  readonly port: number;
  /** The next Produce naming `topic` is handled, but its response is never sent. */
  swallowNextProduce(topic: string): void;
  /** How many Produce responses were swallowed so far. */
  readonly swallowed: number;
  close(): Promise<void>;
}

export async function startSwallowingBroker(): Promise<SwallowingBroker> {
  const storage = new MemoryStorage();
  await storage.open();
  const server = createKafkaServer({ host: '127.0.0.1', port: 0 });
  const address = await server.listen({ accept: false });
  const broker = createBrokerCore({
    storage,
    config: { advertisedHost: address.host, advertisedPort: address.port, groupInitialRebalanceDelayMs: 0 },
  });
  await broker.start();
  let armedFor: string | null = null;
  let swallowed = 0;
  const dispatcher: RequestDispatcher = {
    servedApis: () => broker.servedApis(),
    unsupported: (ctx) => broker.unsupported(ctx),
    beginShutdown: () => broker.beginShutdown(),
    dispatch(ctx, request) {
      const produce = ctx.apiKey === ApiKey.Produce ? (request as ProduceRequest) : null;
      if (armedFor !== null && produce?.topicData.some((t) => t.name === armedFor)) {
        armedFor = null;
        // Handled in full (stored, acknowledged inside the broker), then answered with silence:
        // `undefined` is what acks=0 answers, so the connection goes on serving what follows.
        return Promise.resolve(broker.dispatch(ctx, request)).then(() => {
          swallowed++;
          return undefined;
        });
      }
      return broker.dispatch(ctx, request);
    },
  };
  server.startAccepting(dispatcher);
  return {
    bootstrap: `${address.host}:${address.port}`,
    port: address.port,
    swallowNextProduce(topic) {
      armedFor = topic;
    },
    get swallowed() {
      return swallowed;
    },
    async close() {
      await server.close({ drainTimeoutMs: 1000 });
      await broker.close();
      await storage.close();
    },
  };
}
