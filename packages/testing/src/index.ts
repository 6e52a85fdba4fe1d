// @tributary/testing: a real broker in the test process, on a free loopback port, with in-memory
// storage and no initial rebalance delay. Any Kafka client can bootstrap against `bootstrap`.
import type { BrokerConfig, Clock, Logger } from '@tributary/core';
import { type BrokerHandle, createBroker } from '@tributary/server';
import { MemoryStorage } from '@tributary/storage-memory';

export interface TestBrokerOptions {
  /** Broker settings (auto-creation, partitions per auto-created topic, ...). */
  config?: Partial<BrokerConfig>;
  /** Port to bind; 0 (the default) picks a free one. */
  port?: number;
  clock?: Clock;
  logger?: Logger;
}

export type TestBroker = BrokerHandle;

/**
 * Starts a broker for a test. Close it in `afterAll`/`afterEach`:
 *
 * ```ts
 * const broker = await startTestBroker();
 * const kafka = new Kafka({ brokers: [broker.bootstrap] });
 * ...
 * await broker.close();
 * ```
 */
export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  return createBroker({
    storage: new MemoryStorage(),
    host: '127.0.0.1',
    port: options.port ?? 0,
    ...(options.config !== undefined && { config: options.config }),
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
}
