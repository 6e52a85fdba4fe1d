import { randomBytes } from 'node:crypto';

/** What the core needs to know about the broker it serves as. */
export interface BrokerConfig {
  /** Kafka's node.id. */
  readonly nodeId: number;
  /** 22-character base64url cluster id, stable across restarts when persisted by the app. */
  readonly clusterId: string;
  /** The host and port clients are told to connect to. */
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  readonly rack: string | null;
  /** auto.create.topics.enable */
  readonly autoCreateTopics: boolean;
  /** num.partitions: partitions of an auto-created topic or a CreateTopics with -1. */
  readonly numPartitions: number;
  /** message.max.bytes: the largest record batch accepted (a topic's max.message.bytes overrides). */
  readonly messageMaxBytes: number;
  /** log.retention.ms (-1 keeps data forever). */
  readonly logRetentionMs: number;
  /** log.retention.bytes per partition (-1 for no limit). */
  readonly logRetentionBytes: number;
  /** log.segment.bytes */
  readonly logSegmentBytes: number;
  /** log.message.timestamp.type: CreateTime or LogAppendTime. */
  readonly logMessageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** Longest a Fetch may wait, whatever the client asks (Kafka caps it by the request timeout). */
  readonly fetchMaxWaitCapMs: number;
  /** group.initial.rebalance.delay.ms: how long a new group waits for more members before its first generation. */
  readonly groupInitialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  readonly groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  readonly groupMaxSessionTimeoutMs: number;
  /** group.max.size: members a classic group may hold. */
  readonly groupMaxSize: number;
  /** offsets.retention.minutes: how long committed offsets outlive an empty group (or their commit, for standalone consumers). */
  readonly offsetsRetentionMinutes: number;
  /** offsets.retention.check.interval.ms */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** offsets.topic.num.partitions: partitions of __consumer_offsets, fixed once the topic exists. */
  readonly offsetsTopicNumPartitions: number;
  /** offset.metadata.max.bytes: the longest metadata string a commit may carry. */
  readonly offsetMetadataMaxBytes: number;
  /**
   * group.coordinator.rebalance.protocols: the group protocols served. Without `consumer`,
   * KIP-848's ConsumerGroupHeartbeat and ConsumerGroupDescribe are not advertised.
   */
  readonly groupCoordinatorRebalanceProtocols: readonly ('classic' | 'consumer')[];
  /** group.consumer.session.timeout.ms: how long a member of the consumer protocol may go without a heartbeat. */
  readonly groupConsumerSessionTimeoutMs: number;
  /** group.consumer.min.session.timeout.ms */
  readonly groupConsumerMinSessionTimeoutMs: number;
  /** group.consumer.max.session.timeout.ms */
  readonly groupConsumerMaxSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms: the interval ConsumerGroupHeartbeat tells members to keep. */
  readonly groupConsumerHeartbeatIntervalMs: number;
  /** group.consumer.min.heartbeat.interval.ms */
  readonly groupConsumerMinHeartbeatIntervalMs: number;
  /** group.consumer.max.heartbeat.interval.ms */
  readonly groupConsumerMaxHeartbeatIntervalMs: number;
  /** group.consumer.max.size: members a consumer-protocol group may hold. */
  readonly groupConsumerMaxSize: number;
  /** group.consumer.assignors: the server-side assignors offered, the first being the default. */
  readonly groupConsumerAssignors: readonly string[];
  /**
   * group.consumer.migration.policy: whether a classic group converts to a consumer group when a
   * member of the consumer protocol joins it (upgrade), and back when the last one leaves
   * (downgrade).
   */
  readonly groupConsumerMigrationPolicy: 'bidirectional' | 'upgrade' | 'downgrade' | 'disabled';
  /** transaction.max.timeout.ms: the longest transaction timeout a producer may ask for. */
  readonly transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms: how long a transactional id with no transaction is kept. */
  readonly transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms: how often timed-out transactions are aborted. */
  readonly transactionAbortTimedOutTransactionCleanupIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms: how often expired transactional ids are removed. */
  readonly transactionRemoveExpiredTransactionCleanupIntervalMs: number;
  /** transaction.state.log.num.partitions: partitions of __transaction_state, fixed once the topic exists. */
  readonly transactionStateLogNumPartitions: number;
  /**
   * The transaction.version feature level (0, 1 or 2) the broker finalizes in ApiVersions: 2 is
   * KIP-890's transactions v2 (an epoch bump on every EndTxn, partitions added by Produce).
   */
  readonly transactionVersion: number;
  /**
   * add.partitions.to.txn.retry.backoff.ms: how long the broker waits before retrying, itself, a
   * transactions v2 Produce's add of its partition refused with CONCURRENT_TRANSACTIONS.
   */
  readonly addPartitionsToTxnRetryBackoffMs: number;
  /** add.partitions.to.txn.retry.backoff.max.ms: how long it keeps retrying before answering the error. */
  readonly addPartitionsToTxnRetryBackoffMaxMs: number;
  /** producer.id.expiration.ms: how long a partition keeps an idle producer's state. */
  readonly producerIdExpirationMs: number;
  /** producer.id.expiration.check.interval.ms */
  readonly producerIdExpirationCheckIntervalMs: number;
}

export function defaultBrokerConfig(overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  return {
    nodeId: 1,
    clusterId: randomBytes(16).toString('base64url'),
    advertisedHost: '127.0.0.1',
    advertisedPort: 9092,
    rack: null,
    autoCreateTopics: true,
    numPartitions: 1,
    messageMaxBytes: 1_048_588,
    logRetentionMs: 604_800_000,
    logRetentionBytes: -1,
    logSegmentBytes: 1_073_741_824,
    logMessageTimestampType: 'CreateTime',
    fetchMaxWaitCapMs: 30_000,
    groupInitialRebalanceDelayMs: 3000,
    groupMinSessionTimeoutMs: 6000,
    groupMaxSessionTimeoutMs: 1_800_000,
    groupMaxSize: 2_147_483_647,
    offsetsRetentionMinutes: 10_080,
    offsetsRetentionCheckIntervalMs: 600_000,
    offsetsTopicNumPartitions: 50,
    offsetMetadataMaxBytes: 4096,
    groupCoordinatorRebalanceProtocols: ['classic', 'consumer'],
    groupConsumerSessionTimeoutMs: 45_000,
    groupConsumerMinSessionTimeoutMs: 45_000,
    groupConsumerMaxSessionTimeoutMs: 60_000,
    groupConsumerHeartbeatIntervalMs: 5000,
    groupConsumerMinHeartbeatIntervalMs: 5000,
    groupConsumerMaxHeartbeatIntervalMs: 15_000,
    groupConsumerMaxSize: 2_147_483_647,
    groupConsumerAssignors: ['uniform', 'range'],
    groupConsumerMigrationPolicy: 'bidirectional',
    transactionMaxTimeoutMs: 900_000,
    transactionalIdExpirationMs: 604_800_000,
    transactionAbortTimedOutTransactionCleanupIntervalMs: 10_000,
    transactionRemoveExpiredTransactionCleanupIntervalMs: 3_600_000,
    transactionStateLogNumPartitions: 50,
    transactionVersion: 2,
    addPartitionsToTxnRetryBackoffMs: 20,
    addPartitionsToTxnRetryBackoffMaxMs: 100,
    producerIdExpirationMs: 86_400_000,
    producerIdExpirationCheckIntervalMs: 600_000,
    ...overrides,
  };
}
