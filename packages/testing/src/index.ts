// @tributary/testing: a real broker in the test process, on a free loopback port, with in-memory
// storage and no initial rebalance delay. Any Kafka client can bootstrap against `bootstrap`.
import { type BrokerConfig, type Clock, type Logger, MemoryClusterStore, systemClock } from '@tributary/core';
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

export interface TestClusterOptions {
  /** Brokers to start (node ids 1..n); 3 by default. */
  brokers?: number;
  /** Settings for every broker (each gets its own node id and port). */
  config?: Partial<BrokerConfig>;
  /** How often each broker renews its lease and refreshes ownership; 200 ms by default. */
  heartbeatMs?: number;
  /** How long a stopped broker keeps its share; 1,000 ms by default. */
  leaseMs?: number;
  logger?: Logger;
}

export interface TestCluster {
  readonly brokers: readonly TestBroker[];
  /** Every broker's `host:port`, comma-separated, for a client's bootstrap servers. */
  readonly bootstrap: string;
  /** The storage the brokers share (memory, with their ownership epochs). */
  readonly storage: MemoryStorage;
  readonly store: MemoryClusterStore;
  /** Starts one more broker with the next node id, or `nodeId`. */
  addBroker(nodeId?: number): Promise<TestBroker>;
  /** Lets every broker see the others' changes now instead of at its next heartbeat. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts several brokers in this process sharing one memory storage: each owns its share of the
 * partitions and coordinators (rendezvous hashing over the live brokers), Metadata lists them all,
 * and stopping one hands its share to the others once its lease runs out.
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const store = new MemoryClusterStore(systemClock);
  const storage = new MemoryStorage({ ownership: store });
  await storage.open();
  const brokers: TestBroker[] = [];
  const heartbeatMs = options.heartbeatMs ?? 200;
  const leaseMs = options.leaseMs ?? 1000;
  const clusterId = options.config?.clusterId ?? `test-cluster-${process.pid}-${Date.now()}`;
  const addBroker = async (nodeId = Math.max(0, ...brokers.map((b) => b.broker.config.nodeId)) + 1) => {
    const broker = await createBroker({
      storage,
      sharedStorage: true,
      cluster: { store, heartbeatMs, leaseMs },
      host: '127.0.0.1',
      port: 0,
      config: { groupInitialRebalanceDelayMs: 0, ...options.config, clusterId, nodeId },
      ...(options.logger !== undefined && { logger: options.logger }),
    });
    brokers.push(broker);
    return broker;
  };
  const settle = async () => {
    // Twice: the first refresh claims, the second lets every broker see the others' claims.
    for (let i = 0; i < 2; i++) for (const b of brokers) await b.broker.cluster?.refresh();
  };
  for (let i = 0; i < (options.brokers ?? 3); i++) await addBroker();
  await settle();
  return {
    brokers,
    get bootstrap() {
      return brokers.map((b) => b.bootstrap).join(',');
    },
    storage,
    store,
    addBroker,
    settle,
    async close() {
      await Promise.all(brokers.map((b) => b.close()));
      await storage.close();
    },
  };
}
