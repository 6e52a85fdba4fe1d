import {
  type Broker,
  type BrokerClusterOptions,
  type BrokerConfig,
  type Clock,
  createBrokerCore,
  type Logger,
  type Metrics,
} from '@tributary/core';
import type { StorageAdapter } from '@tributary/core/storage';
import { type CloseOptions, createKafkaServer, type KafkaServer } from './kafka-server.js';
import type { KafkaServerOptions } from './server-options.js';

export interface CreateBrokerOptions extends Omit<KafkaServerOptions, 'dispatcher'> {
  /**
   * The storage adapter; createBroker opens it and closes it on close(), unless `sharedStorage`
   * says the caller does (brokers of one cluster sharing it in one process).
   */
  storage: StorageAdapter;
  sharedStorage?: boolean;
  /** Serve as one broker of a cluster sharing the storage (see BrokerClusterOptions). */
  cluster?: BrokerClusterOptions;
  /** Broker settings; the advertised address defaults to the bound one. */
  config?: Partial<BrokerConfig>;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  retentionCheckIntervalMs?: number;
}

export interface BrokerHandle {
  readonly host: string;
  readonly port: number;
  /** `host:port`, ready for a client's bootstrap servers. */
  readonly bootstrap: string;
  readonly broker: Broker;
  readonly server: KafkaServer;
  /** Stops accepting, drains in-flight requests, then closes the core and the storage. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Opens the storage, binds the port, builds and starts the broker core and serves: a whole broker
 * in one call, for tests and embedding. Closing goes in reverse order.
 */
export async function createBroker(options: CreateBrokerOptions): Promise<BrokerHandle> {
  const {
    storage,
    sharedStorage,
    cluster,
    config,
    clock,
    logger,
    metrics,
    retentionCheckIntervalMs,
    ...serverOptions
  } = options;
  const ownStorage = sharedStorage !== true;
  if (ownStorage) await storage.open();
  // The port is bound first: the core is built once, with the address it advertises (port 0
  // picks one), and serves from then on.
  const server = createKafkaServer({
    ...serverOptions,
    ...(clock !== undefined && { clock }),
    ...(logger !== undefined && { logger }),
    ...(metrics !== undefined && { metrics }),
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen({ accept: false });
  } catch (e) {
    if (ownStorage) await storage.close();
    throw e;
  }
  const broker = createBrokerCore({
    storage,
    config: {
      ...config,
      advertisedHost: config?.advertisedHost ?? address.host,
      advertisedPort: config?.advertisedPort ?? address.port,
    },
    ...(clock !== undefined && { clock }),
    ...(logger !== undefined && { logger }),
    ...(metrics !== undefined && { metrics }),
    ...(retentionCheckIntervalMs !== undefined && { retentionCheckIntervalMs }),
    ...(cluster !== undefined && { cluster }),
  });
  try {
    await broker.start();
  } catch (e) {
    await server.close();
    if (ownStorage) await storage.close();
    throw e;
  }
  server.startAccepting(broker);
  let closing: Promise<void> | null = null;
  return {
    host: address.host,
    port: address.port,
    bootstrap: `${address.host}:${address.port}`,
    broker,
    server,
    close(closeOptions) {
      closing ??= (async () => {
        await server.close(closeOptions);
        await broker.close();
        if (ownStorage) await storage.close();
      })();
      return closing;
    },
  };
}
