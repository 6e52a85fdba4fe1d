// The composition root: the one place where the broker's services are built and wired, by
// constructor injection, in an explicit start order; closed in the reverse order.
//
// Start order: the Kafka and admin ports are bound first (connections wait unread), so a port
// conflict is reported before the data directory is touched; then storage opens, the core loads
// its topics, and only then are clients served and /readyz turns ready.
import { hostname } from 'node:os';
import { type Broker, createBrokerCore, type Logger, systemClock } from '@tributary/core';
import type { StorageAdapter } from '@tributary/core/storage';
import { createKafkaServer, type KafkaServer, type ServerAddress } from '@tributary/server';
import { FileStorage } from '@tributary/storage-file';
import { MemoryStorage } from '@tributary/storage-memory';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type ClusterMeta, newClusterId, readClusterMeta, writeClusterMeta } from './cluster-meta.js';
import { groupCoordinatorSettings } from './config/group-settings.js';
import type { AppConfig } from './config/settings.js';
import { AdminServer } from './observability/admin-server.js';
import { PrometheusMetrics } from './observability/prometheus-metrics.js';

/** A failure to start, worded for the one line the command prints. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export interface RunningBroker {
  readonly kafka: ServerAddress;
  /** The admin HTTP address, or null when it is turned off. */
  readonly admin: ServerAddress | null;
  readonly clusterId: string;
  readonly storage: StorageAdapter;
  /**
   * Stops accepting, lets in-flight requests finish within `shutdown-timeout-ms`, then closes the
   * core and flushes and closes the storage. Safe to call more than once.
   */
  close(): Promise<void>;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

function listenError(what: string, host: string, port: number, e: unknown): StartupError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'EADDRINUSE'
      ? 'address already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EADDRNOTAVAIL'
          ? 'address not available on this machine'
          : (e as Error).message;
  return new StartupError(`cannot listen on ${host}:${port} (${what}): ${why}`);
}

function createStorage(config: AppConfig, logger: Logger): StorageAdapter {
  if (config.memory) return new MemoryStorage();
  const flushBytes = config['flush-bytes'];
  return new FileStorage({
    dataDir: config['data-dir'],
    flush:
      config.flush === 'always'
        ? { mode: 'always' }
        : {
            mode: 'interval',
            intervalMs: config['flush-interval-ms'],
            ...(flushBytes > 0 && { bytes: flushBytes }),
          },
    segmentBytes: config['log-segment-bytes'],
    segmentMs: config['log-roll-ms'],
    logger,
    clock: systemClock,
  });
}

export async function startBroker(config: AppConfig, logger: Logger): Promise<RunningBroker> {
  const began = performance.now();
  // What to undo, newest first, when a later start step fails.
  const closers: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };

  try {
    // 1. Identity: the cluster id recorded in the data directory wins; reading it writes nothing.
    const recorded = config.memory ? null : readRecordedMeta(config['data-dir']);
    const meta = resolveMeta(config, recorded);

    // 2. Metrics.
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'tributary_' });
    const metrics = new PrometheusMetrics(registry);

    // 3. Storage, not yet opened.
    const storage = createStorage(config, logger.child({ component: 'storage' }));

    // 4. Bind the Kafka port, not serving yet.
    const server: KafkaServer = createKafkaServer({
      host: config.host,
      port: config.port,
      maxRequestSize: config['max-request-bytes'],
      logger: logger.child({ component: 'server' }),
      metrics,
      clock: systemClock,
    });
    let kafka: ServerAddress;
    try {
      kafka = await server.listen({ accept: false });
    } catch (e) {
      throw listenError('Kafka listener', config.host, config.port, e);
    }
    closers.push(() => server.close({ drainTimeoutMs: config['shutdown-timeout-ms'] }));

    // 5. Bind the admin port.
    let admin: AdminServer | null = null;
    let adminAddress: ServerAddress | null = null;
    if (config['admin-port'] >= 0) {
      admin = new AdminServer({
        host: config['admin-host'],
        port: config['admin-port'],
        registry,
        logger: logger.child({ component: 'admin' }),
      });
      try {
        adminAddress = await admin.listen();
      } catch (e) {
        throw listenError('admin listener', config['admin-host'], config['admin-port'], e);
      }
      const started = admin;
      closers.push(() => started.close());
    }

    // 6. Storage: the first step that writes to the data directory.
    try {
      await storage.open();
    } catch (e) {
      throw new StartupError(`cannot open storage: ${(e as Error).message}`);
    }
    closers.push(() => storage.close());
    if (!config.memory && recorded === null) writeClusterMeta(config['data-dir'], meta);

    // 7. The core, built with the address it advertises: topics and groups load from storage.
    const broker = createBrokerCore({
      storage,
      config: {
        nodeId: meta.nodeId,
        clusterId: meta.clusterId,
        advertisedHost: config['advertised-host'] ?? (WILDCARD.has(config.host) ? hostname() : kafka.host),
        advertisedPort: config['advertised-port'] ?? kafka.port,
        autoCreateTopics: config['auto-create-topics'],
        numPartitions: config['num-partitions'],
        messageMaxBytes: config['message-max-bytes'],
        logRetentionMs: config['log-retention-ms'],
        logRetentionBytes: config['log-retention-bytes'],
        logSegmentBytes: config['log-segment-bytes'],
        logMessageTimestampType: config['log-message-timestamp-type'],
        ...groupCoordinatorSettings(config),
        transactionMaxTimeoutMs: config['transaction-max-timeout-ms'],
        transactionalIdExpirationMs: config['transactional-id-expiration-ms'],
        transactionAbortTimedOutTransactionCleanupIntervalMs:
          config['transaction-abort-timed-out-transaction-cleanup-interval-ms'],
        transactionRemoveExpiredTransactionCleanupIntervalMs:
          config['transaction-remove-expired-transaction-cleanup-interval-ms'],
        transactionStateLogNumPartitions: config['transaction-state-log-num-partitions'],
        transactionVersion: config['transaction-version'],
        addPartitionsToTxnRetryBackoffMs: config['add-partitions-to-txn-retry-backoff-ms'],
        addPartitionsToTxnRetryBackoffMaxMs: config['add-partitions-to-txn-retry-backoff-max-ms'],
        producerIdExpirationMs: config['producer-id-expiration-ms'],
        producerIdExpirationCheckIntervalMs: config['producer-id-expiration-check-interval-ms'],
      },
      clock: systemClock,
      logger: logger.child({ component: 'core' }),
      metrics,
      retentionCheckIntervalMs: config['log-retention-check-interval-ms'],
    });
    await broker.start();
    closers.push(() => broker.close());
    registerStorageGauges(registry, broker, storage);

    // 8. Serve.
    server.startAccepting(broker);
    admin?.setReady(true);
    logger.info(
      {
        kafka: `${kafka.host}:${kafka.port}`,
        admin: adminAddress === null ? null : `${adminAddress.host}:${adminAddress.port}`,
        storage: config.memory ? 'memory' : config['data-dir'],
        clusterId: meta.clusterId,
        nodeId: meta.nodeId,
        startupMs: Math.round(performance.now() - began),
      },
      'tributary started',
    );

    let closing: Promise<void> | null = null;
    return {
      kafka,
      admin: adminAddress,
      clusterId: meta.clusterId,
      storage,
      close() {
        closing ??= (async () => {
          // Serving stopped before anything it uses: readiness off, listener closed and requests
          // drained, then the core, then storage (flushed), then the admin port.
          admin?.setReady(false);
          logger.info({ drainTimeoutMs: config['shutdown-timeout-ms'] }, 'shutting down');
          await server.close({ drainTimeoutMs: config['shutdown-timeout-ms'] });
          await broker.close();
          await storage.close();
          await admin?.close();
          logger.info('tributary stopped');
        })();
        return closing;
      },
    };
  } catch (e) {
    await unwind();
    throw e;
  }
}

function readRecordedMeta(dataDir: string): ClusterMeta | null {
  try {
    return readClusterMeta(dataDir);
  } catch (e) {
    throw new StartupError((e as Error).message);
  }
}

function resolveMeta(config: AppConfig, recorded: ClusterMeta | null): ClusterMeta {
  if (recorded === null)
    return { clusterId: config['cluster-id'] ?? newClusterId(), nodeId: config['node-id'] };
  if (config['cluster-id'] !== null && config['cluster-id'] !== recorded.clusterId)
    throw new StartupError(
      `cluster-id ${config['cluster-id']} does not match ${recorded.clusterId} recorded in ${config['data-dir']}`,
    );
  if (config['node-id'] !== recorded.nodeId)
    throw new StartupError(
      `node-id ${config['node-id']} does not match ${recorded.nodeId} recorded in ${config['data-dir']}`,
    );
  return recorded;
}

/** Partition count and stored bytes, read when Prometheus scrapes rather than kept up to date. */
function registerStorageGauges(registry: Registry, broker: Broker, storage: StorageAdapter): void {
  new Gauge({
    name: 'tributary_partitions',
    help: 'Partitions hosted, by topic.',
    labelNames: ['topic'],
    registers: [registry],
    collect() {
      this.reset();
      for (const topic of broker.topics.all()) this.set({ topic: topic.name }, topic.partitionCount);
    },
  });
  new Gauge({
    name: 'tributary_log_size_bytes',
    help: 'Bytes stored, by topic.',
    labelNames: ['topic'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const topic of broker.topics.all()) {
        let bytes = 0;
        for (let p = 0; p < topic.partitionCount; p++)
          bytes += await storage.sizeInBytes(topic.id, p).catch(() => 0);
        this.set({ topic: topic.name }, bytes);
      }
    },
  });
}
