import { API_TABLE, ApiKey, ErrorCode, type TxnOffsetCommitRequest } from '@tributary/codec';
import { type ClusterStore, COORDINATOR_TOPICS, partitionResource } from '../cluster/cluster-store.js';
import { LeasedPlacement, type OwnershipChange } from '../cluster/leased-placement.js';
import { type Placement, SingleNodePlacement } from '../cluster/placement.js';
import { GroupCoordinator } from '../groups/group-coordinator.js';
import { CONSUMER_OFFSETS_TOPIC } from '../groups/group-log.js';
import {
  type Clock,
  type Logger,
  type Metrics,
  noopMetrics,
  silentLogger,
  systemClock,
  type TimerHandle,
} from '../services.js';
import type { StorageAdapter } from '../storage/index.js';
import { defaultTransactionCoordinatorConfig } from '../transactions/transaction-config.js';
import { TransactionCoordinator } from '../transactions/transaction-coordinator.js';
import { TransactionStateStore } from '../transactions/transaction-state-store.js';
import { type BrokerConfig, defaultBrokerConfig } from './config.js';
import { handleAddOffsetsToTxn } from './handlers/add-offsets-to-txn.js';
import { handleAddPartitionsToTxn } from './handlers/add-partitions-to-txn.js';
import { apiVersionsResponse, brokerFeatures, type FinalizedFeature } from './handlers/api-versions.js';
import {
  handleAlterConfigs,
  handleDescribeConfigs,
  handleIncrementalAlterConfigs,
} from './handlers/configs.js';
import { handleConsumerGroupDescribe } from './handlers/consumer-group-describe.js';
import { handleConsumerGroupHeartbeat } from './handlers/consumer-group-heartbeat.js';
import { handleCreatePartitions } from './handlers/create-partitions.js';
import { handleDeleteGroups } from './handlers/delete-groups.js';
import { handleDeleteRecords } from './handlers/delete-records.js';
import { handleDescribeCluster } from './handlers/describe-cluster.js';
import { handleDescribeGroups } from './handlers/describe-groups.js';
import { handleDescribeLogDirs } from './handlers/describe-log-dirs.js';
import { handleDescribeProducers } from './handlers/describe-producers.js';
import { handleDescribeTopicPartitions } from './handlers/describe-topic-partitions.js';
import { handleDescribeTransactions } from './handlers/describe-transactions.js';
import { handleEndTxn } from './handlers/end-txn.js';
import { handleFetch } from './handlers/fetch.js';
import { handleFindCoordinator } from './handlers/find-coordinator.js';
import { handleHeartbeat } from './handlers/heartbeat.js';
import { handleInitProducerId } from './handlers/init-producer-id.js';
import { handleJoinGroup } from './handlers/join-group.js';
import { handleLeaveGroup } from './handlers/leave-group.js';
import { handleListGroups } from './handlers/list-groups.js';
import { handleListOffsets } from './handlers/list-offsets.js';
import { handleListTransactions } from './handlers/list-transactions.js';
import { handleMetadata } from './handlers/metadata.js';
import { handleOffsetCommit } from './handlers/offset-commit.js';
import { handleOffsetDelete } from './handlers/offset-delete.js';
import { handleOffsetFetch } from './handlers/offset-fetch.js';
import { handleOffsetForLeaderEpoch } from './handlers/offset-for-leader-epoch.js';
import { createProduceHandler } from './handlers/produce.js';
import { handleSyncGroup } from './handlers/sync-group.js';
import { handleCreateTopics, handleDeleteTopics } from './handlers/topics-admin.js';
import { handleTxnOffsetCommit } from './handlers/txn-offset-commit.js';
import { ProducerIdBlocks } from './producer-id-blocks.js';
import type { RequestContext, RequestDispatcher, ServedApi } from './request-context.js';
import type { BrokerServices } from './services.js';
import { TopicRegistry } from './topics.js';
import { verifyTransactionalProduce, verifyTxnOffsetCommit } from './transaction-checks.js';
import { StorageMarkerWriter } from './transaction-markers.js';

// biome-ignore lint/suspicious/noExplicitAny: each handler narrows the request to its API's type
type Handler = (s: BrokerServices, ctx: RequestContext, request: any) => unknown;

interface HandlerEntry {
  readonly apiKey: number;
  readonly handle: Handler;
  /** Versions served; the spec's whole range unless narrowed. */
  readonly minVersion?: number;
  readonly maxVersion?: number | ((config: BrokerConfig) => number);
  /** Served only when the config enables it. */
  readonly enabled?: (config: BrokerConfig) => boolean;
}

const consumerProtocolEnabled = (c: BrokerConfig) =>
  c.groupCoordinatorRebalanceProtocols.includes('consumer');

const HANDLERS: readonly HandlerEntry[] = [
  { apiKey: ApiKey.ApiVersions, handle: () => undefined },
  { apiKey: ApiKey.Metadata, handle: handleMetadata },
  {
    apiKey: ApiKey.Produce,
    handle: createProduceHandler({ checkTransactional: verifyTransactionalProduce }),
  },
  { apiKey: ApiKey.Fetch, handle: handleFetch },
  { apiKey: ApiKey.ListOffsets, handle: handleListOffsets },
  { apiKey: ApiKey.CreateTopics, handle: handleCreateTopics },
  { apiKey: ApiKey.DeleteTopics, handle: handleDeleteTopics },
  { apiKey: ApiKey.CreatePartitions, handle: handleCreatePartitions },
  { apiKey: ApiKey.DeleteRecords, handle: handleDeleteRecords },
  { apiKey: ApiKey.DescribeConfigs, handle: handleDescribeConfigs },
  { apiKey: ApiKey.AlterConfigs, handle: handleAlterConfigs },
  { apiKey: ApiKey.IncrementalAlterConfigs, handle: handleIncrementalAlterConfigs },
  { apiKey: ApiKey.DescribeCluster, handle: handleDescribeCluster },
  { apiKey: ApiKey.DescribeTopicPartitions, handle: handleDescribeTopicPartitions },
  { apiKey: ApiKey.OffsetForLeaderEpoch, handle: handleOffsetForLeaderEpoch },
  { apiKey: ApiKey.DescribeLogDirs, handle: handleDescribeLogDirs },
  { apiKey: ApiKey.FindCoordinator, handle: handleFindCoordinator },
  { apiKey: ApiKey.JoinGroup, handle: handleJoinGroup },
  { apiKey: ApiKey.SyncGroup, handle: handleSyncGroup },
  { apiKey: ApiKey.Heartbeat, handle: handleHeartbeat },
  { apiKey: ApiKey.LeaveGroup, handle: handleLeaveGroup },
  { apiKey: ApiKey.OffsetCommit, handle: handleOffsetCommit },
  { apiKey: ApiKey.OffsetFetch, handle: handleOffsetFetch },
  { apiKey: ApiKey.ListGroups, handle: handleListGroups },
  { apiKey: ApiKey.DescribeGroups, handle: handleDescribeGroups },
  { apiKey: ApiKey.DeleteGroups, handle: handleDeleteGroups },
  { apiKey: ApiKey.OffsetDelete, handle: handleOffsetDelete },
  { apiKey: ApiKey.InitProducerId, handle: handleInitProducerId },
  { apiKey: ApiKey.AddPartitionsToTxn, handle: handleAddPartitionsToTxn },
  { apiKey: ApiKey.AddOffsetsToTxn, handle: handleAddOffsetsToTxn },
  // EndTxn v5 is transactions v2's (the epoch bump comes back in the answer).
  { apiKey: ApiKey.EndTxn, handle: handleEndTxn, maxVersion: (c) => (c.transactionVersion >= 2 ? 5 : 4) },
  {
    apiKey: ApiKey.TxnOffsetCommit,
    handle: (s: BrokerServices, ctx: RequestContext, req: TxnOffsetCommitRequest) =>
      handleTxnOffsetCommit(
        { topics: s.topics, groups: s.groups, verifyTransaction: (check) => verifyTxnOffsetCommit(check, s) },
        ctx,
        req,
      ),
  },
  { apiKey: ApiKey.DescribeProducers, handle: handleDescribeProducers },
  { apiKey: ApiKey.DescribeTransactions, handle: handleDescribeTransactions },
  { apiKey: ApiKey.ListTransactions, handle: handleListTransactions },
  {
    apiKey: ApiKey.ConsumerGroupHeartbeat,
    handle: handleConsumerGroupHeartbeat,
    enabled: consumerProtocolEnabled,
  },
  {
    apiKey: ApiKey.ConsumerGroupDescribe,
    handle: handleConsumerGroupDescribe,
    enabled: consumerProtocolEnabled,
  },
];

export interface BrokerOptions {
  storage: StorageAdapter;
  /** Broker settings over the defaults; the advertised address is final (bind the port first). */
  config?: Partial<BrokerConfig>;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** How often retention runs (Kafka's log.retention.check.interval.ms). */
  retentionCheckIntervalMs?: number;
  /** Who serves what; this broker alone, at leader epoch 0, unless given (or `cluster` is). */
  placement?: Placement;
  /** Several brokers sharing `storage`: this one registers in the cluster store and serves its share. */
  cluster?: BrokerClusterOptions;
}

export interface BrokerClusterOptions {
  /** Where the brokers sharing the storage hold their leases and record who owns what. */
  readonly store: ClusterStore;
  /** How often this broker renews its lease and refreshes topics and ownership (default 1000 ms). */
  readonly heartbeatMs?: number;
  /** How long a broker that stops renewing keeps its share (default 6000 ms). */
  readonly leaseMs?: number;
}

/** What the Broker is built from: the services the composition builds and hands in. */
export interface BrokerParts {
  readonly config: BrokerConfig;
  readonly placement: Placement;
  /** Set when the placement is a cluster's: started and stopped with the broker. */
  readonly cluster?: LeasedPlacement;
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly groups: GroupCoordinator;
  readonly transactions: TransactionCoordinator;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly retentionCheckIntervalMs: number;
}

/**
 * The core's composition: builds the topic registry and the coordinators over the given storage,
 * clock, logger and metrics, and the Broker that serves them. The one place the core's object
 * graph is put together; `createBroker` (embedding, tests) and the `tributary` command call it.
 */
export function createBrokerCore(options: BrokerOptions): Broker {
  const config = defaultBrokerConfig(options.config);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? noopMetrics;
  const topics = new TopicRegistry(options.storage, config);
  const groups = new GroupCoordinator({
    storage: options.storage,
    topics,
    config,
    clock,
    logger: logger.child({ component: 'group-coordinator' }),
    metrics,
  });
  const transactions = new TransactionCoordinator({
    config: defaultTransactionCoordinatorConfig({
      transactionMaxTimeoutMs: config.transactionMaxTimeoutMs,
      transactionalIdExpirationMs: config.transactionalIdExpirationMs,
      abortTimedOutTransactionCleanupIntervalMs: config.transactionAbortTimedOutTransactionCleanupIntervalMs,
      removeExpiredTransactionalIdsCleanupIntervalMs:
        config.transactionRemoveExpiredTransactionCleanupIntervalMs,
      transactionVersion: config.transactionVersion,
    }),
    clock,
    logger: logger.child({ component: 'transaction-coordinator' }),
    metrics,
    producerIds: new ProducerIdBlocks(options.storage),
    log: new TransactionStateStore({
      storage: options.storage,
      topics,
      clock,
      logger: logger.child({ component: 'transaction-log' }),
      partitions: config.transactionStateLogNumPartitions,
    }),
    markers: new StorageMarkerWriter({
      storage: options.storage,
      topics,
      offsets: {
        holdsOffsets: (topic) => topic === CONSUMER_OFFSETS_TOPIC,
        completeTransaction: (partition, producerId, commit) =>
          groups.completeTransaction(producerId, commit ? 'commit' : 'abort', partition),
      },
      clock,
      logger: logger.child({ component: 'transaction-markers' }),
    }),
    partitions: {
      partitionExists(name, partition) {
        const topic = topics.byName(name);
        return topic !== undefined && partition >= 0 && partition < topic.partitionCount;
      },
    },
    groupOffsetsPartition: (groupId) => ({
      topic: CONSUMER_OFFSETS_TOPIC,
      partition: groups.partitionFor(groupId),
    }),
  });
  const cluster =
    options.cluster === undefined
      ? undefined
      : new LeasedPlacement({
          store: options.cluster.store,
          self: {
            nodeId: config.nodeId,
            host: config.advertisedHost,
            port: config.advertisedPort,
            rack: config.rack,
          },
          clock,
          logger: logger.child({ component: 'placement' }),
          heartbeatMs: options.cluster.heartbeatMs ?? 1000,
          leaseMs: options.cluster.leaseMs ?? 6000,
          beforeRefresh: () => topics.refresh(),
          resources: function* () {
            for (const t of topics.all())
              for (let p = 0; p < t.partitionCount; p++) yield partitionResource(t.name, p);
          },
          onOwnershipChange: (change) => applyOwnership(change, groups, transactions),
        });
  return new Broker({
    config,
    placement: cluster ?? options.placement ?? new SingleNodePlacement(config),
    ...(cluster !== undefined && { cluster }),
    storage: options.storage,
    topics,
    groups,
    transactions,
    clock,
    logger,
    metrics,
    retentionCheckIntervalMs: options.retentionCheckIntervalMs ?? 300_000,
  });
}

/**
 * Loads the coordinator partitions this broker came to own and unloads those it lost; data
 * partitions need nothing (their state is in the shared storage).
 */
async function applyOwnership(
  change: OwnershipChange,
  groups: GroupCoordinator,
  transactions: TransactionCoordinator,
): Promise<void> {
  const coordinatorPartition = (resource: string): [string, number] => {
    const at = resource.lastIndexOf(':');
    return [resource.slice(0, at), Number(resource.slice(at + 1))];
  };
  for (const resource of change.lost) {
    const [topic, p] = coordinatorPartition(resource);
    if (topic === COORDINATOR_TOPICS.group) groups.unloadPartition(p);
    else if (topic === COORDINATOR_TOPICS.transaction) transactions.unloadPartition(p);
  }
  for (const resource of change.gained.keys()) {
    const [topic, p] = coordinatorPartition(resource);
    if (topic === COORDINATOR_TOPICS.group) await groups.loadPartition(p);
    else if (topic === COORDINATOR_TOPICS.transaction) await transactions.loadPartition(p);
  }
}

/**
 * The broker's request handling: a RequestDispatcher over the services it is handed. The server
 * frames and decodes; this class answers.
 */
export class Broker implements RequestDispatcher {
  readonly config: BrokerConfig;
  private readonly storage: StorageAdapter;
  private readonly clock: Clock;
  private readonly logger: Logger;
  readonly topics: TopicRegistry;
  /** The classic group coordinator (JoinGroup ... OffsetFetch). */
  readonly groups: GroupCoordinator;
  readonly transactions: TransactionCoordinator;
  /** This broker's share of a cluster, when it shares the storage with other brokers. */
  readonly cluster: LeasedPlacement | undefined;
  private readonly services: BrokerServices;
  private readonly handlers = new Map<number, Handler>();
  private readonly served: ServedApi[];
  private readonly features: readonly FinalizedFeature[];
  private readonly retentionIntervalMs: number;
  private retentionTimer: TimerHandle | null = null;
  private producerExpirationTimer: TimerHandle | null = null;
  private closed = false;

  constructor(parts: BrokerParts) {
    this.config = parts.config;
    this.storage = parts.storage;
    this.clock = parts.clock;
    this.logger = parts.logger;
    this.retentionIntervalMs = parts.retentionCheckIntervalMs;
    this.topics = parts.topics;
    this.groups = parts.groups;
    this.transactions = parts.transactions;
    this.cluster = parts.cluster;
    this.services = {
      config: parts.config,
      placement: parts.placement,
      storage: parts.storage,
      topics: parts.topics,
      clock: parts.clock,
      logger: parts.logger,
      metrics: parts.metrics,
      groups: parts.groups,
      transactions: parts.transactions,
    };
    this.features = brokerFeatures(this.config.transactionVersion);
    this.served = [];
    for (const h of HANDLERS) {
      if (h.enabled !== undefined && !h.enabled(this.config)) continue;
      const api = API_TABLE[h.apiKey]!;
      // The top version of an unstable API is still changing in Kafka: never advertise it.
      const specMax = api.latestVersionUnstable ? api.maxVersion - 1 : api.maxVersion;
      this.served.push({
        apiKey: h.apiKey,
        minVersion: Math.max(api.minVersion, h.minVersion ?? api.minVersion),
        maxVersion: Math.min(
          specMax,
          (typeof h.maxVersion === 'function' ? h.maxVersion(this.config) : h.maxVersion) ?? specMax,
        ),
      });
      this.handlers.set(h.apiKey, h.handle);
    }
    this.served.sort((a, b) => a.apiKey - b.apiKey);
  }

  /**
   * Loads topics from storage, then the groups from __consumer_offsets (created if missing), and
   * starts retention. The storage must be open.
   */
  async start(): Promise<void> {
    await this.topics.load();
    // In a cluster the coordinators load the partitions this broker comes to own, not all.
    const loadAll = this.cluster === undefined;
    await this.groups.start({ loadAll });
    // After the groups: resuming a decided transaction writes markers that complete group offsets.
    await this.transactions.start({ loadAll });
    await this.cluster?.start();
    this.scheduleRetention();
    this.scheduleProducerExpiration();
    this.logger.info({ topics: this.topics.all().length, nodeId: this.config.nodeId }, 'broker core started');
  }

  servedApis(): readonly ServedApi[] {
    return this.served;
  }

  dispatch(ctx: RequestContext, request: unknown): unknown {
    if (ctx.apiKey === ApiKey.ApiVersions)
      return apiVersionsResponse(this.served, ErrorCode.NONE, this.features);
    const handler = this.handlers.get(ctx.apiKey);
    if (handler === undefined) throw new Error(`no handler for API ${ctx.apiKey}`);
    return handler(this.services, ctx, request);
  }

  unsupported(ctx: RequestContext): { body: unknown; responseVersion: number } {
    if (ctx.apiKey === ApiKey.ApiVersions)
      return { body: apiVersionsResponse(this.served, ErrorCode.UNSUPPORTED_VERSION), responseVersion: 0 };
    const body = API_TABLE[ctx.apiKey]!.response.create() as Record<string, unknown>;
    if ('errorCode' in body) body.errorCode = ErrorCode.UNSUPPORTED_VERSION;
    // Answered at the version asked, as the client will read it. A version the specs lack (Produce
    // v0-v2, advertised but removed in Kafka 4) has no such answer: the server closes the
    // connection, as Kafka does for a version it does not enable.
    return { body, responseVersion: ctx.apiVersion };
  }

  private scheduleRetention(): void {
    if (this.closed) return;
    this.retentionTimer = this.clock.schedule(this.retentionIntervalMs, () => {
      this.applyRetention().then(
        () => this.scheduleRetention(),
        (e: unknown) => {
          this.logger.error({ err: e }, 'retention failed');
          this.scheduleRetention();
        },
      );
    });
  }

  private scheduleProducerExpiration(): void {
    if (this.closed) return;
    this.producerExpirationTimer = this.clock.schedule(
      this.config.producerIdExpirationCheckIntervalMs,
      () => {
        this.expireProducers().then(
          () => this.scheduleProducerExpiration(),
          (e: unknown) => {
            this.logger.error({ err: e }, 'producer state expiration failed');
            this.scheduleProducerExpiration();
          },
        );
      },
    );
  }

  /**
   * Forgets, on every partition, producers idle for producer.id.expiration.ms (never one with an
   * open transaction); a later batch of theirs is accepted at any sequence, as Kafka accepts it.
   */
  async expireProducers(): Promise<number> {
    const now = this.clock.now();
    let expired = 0;
    for (const topic of this.topics.all())
      for (let p = 0; p < topic.partitionCount; p++)
        expired += await this.storage.expireProducers(topic.id, p, now, this.config.producerIdExpirationMs);
    return expired;
  }

  /** Applies retention.ms and retention.bytes to every partition now. */
  async applyRetention(): Promise<void> {
    const now = this.clock.now();
    for (const topic of this.topics.all()) {
      if (!topic.cleanupPolicy.delete) continue;
      const retentionMs = Number(this.topics.configValue(topic, 'retention.ms'));
      const retentionBytes = Number(this.topics.configValue(topic, 'retention.bytes'));
      if (retentionMs < 0 && retentionBytes < 0) continue;
      for (let p = 0; p < topic.partitionCount; p++)
        await this.storage.applyRetention(topic.id, p, { retentionMs, retentionBytes, now });
    }
  }

  /**
   * The server stopped accepting and is about to drain: the group coordinator resigns now, so
   * JoinGroup and SyncGroup requests parked for a rebalance are answered NOT_COORDINATOR at once
   * instead of holding the drain for up to a rebalance timeout.
   */
  beginShutdown(): void {
    this.groupsClosing ??= this.groups.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    // Gives up the registration first, so the others take this broker's share at their next refresh.
    await this.cluster?.stop();
    this.retentionTimer?.cancel();
    this.retentionTimer = null;
    this.producerExpirationTimer?.cancel();
    this.producerExpirationTimer = null;
    this.transactions.stop();
    this.groupsClosing ??= this.groups.close();
    await this.groupsClosing;
  }

  private groupsClosing: Promise<void> | null = null;
}
