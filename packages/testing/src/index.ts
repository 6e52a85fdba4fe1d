// @tributary/testing: a real broker in the test process, on a free loopback port, with in-memory
// storage and no initial rebalance delay. Any Kafka client can bootstrap against `bootstrap`.
import type { BrokerConfig, Clock, Logger } from '@tributary/core';
import type { StorageAdapter } from '@tributary/core/storage';
import { type BrokerHandle, createBroker } from '@tributary/server';
import { MemoryStorage } from '@tributary/storage-memory';

export interface TestBrokerOptions {
  /** Broker settings (auto-creation, partitions per auto-created topic, ...). */
  config?: Partial<BrokerConfig>;
  /** Port to bind; 0 (the default) picks a free one. */
  port?: number;
  clock?: Clock;
  logger?: Logger;
  /**
   * The storage; a fresh in-memory store by default. The broker opens it and closes it on
   * close(), so a store meant to outlive a broker (to test a restart) must tolerate that.
   */
  storage?: StorageAdapter;
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
    storage: options.storage ?? new MemoryStorage(),
    host: '127.0.0.1',
    port: options.port ?? 0,
    // Groups form at once: tests should not wait out Kafka's 3 s delay for more members.
    config: { groupInitialRebalanceDelayMs: 0, ...options.config },
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
}
