import { type BrokerConfig, defaultBrokerConfig } from './config.js';
import { ConfigSource, ConfigType, TOPIC_CONFIGS } from './topic-configs.js';

type ConfigTypeId = (typeof ConfigType)[keyof typeof ConfigType];

/** A broker setting as DescribeConfigs reports it, under Kafka's name for it. */
export interface BrokerConfigDef {
  readonly name: string;
  readonly type: ConfigTypeId;
  readonly documentation: string;
  /** The value this broker runs with (null: unset). */
  value(config: BrokerConfig): string | null;
  /** Tributary's built-in value, or null when the setting has none (set by the operator or at bind). */
  readonly defaultValue: string | null;
}

/** One entry of a config's synonym chain, highest precedence first. */
export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

const BUILT_IN = defaultBrokerConfig({ clusterId: '' });

function setting(
  name: string,
  type: ConfigTypeId,
  value: (c: BrokerConfig) => string | null,
  documentation: string,
  hasDefault = true,
): BrokerConfigDef {
  return { name, type, value, documentation, defaultValue: hasDefault ? value(BUILT_IN) : null };
}

const OWN_SETTINGS: readonly BrokerConfigDef[] = [
  setting('node.id', ConfigType.INT, (c) => String(c.nodeId), 'The id of this broker.'),
  setting(
    'advertised.listeners',
    ConfigType.STRING,
    (c) => `PLAINTEXT://${c.advertisedHost}:${c.advertisedPort}`,
    'The address clients are told to connect to.',
    false,
  ),
  setting('broker.rack', ConfigType.STRING, (c) => c.rack, 'The rack of this broker.'),
  setting(
    'num.partitions',
    ConfigType.INT,
    (c) => String(c.numPartitions),
    'Partitions of an auto-created topic, and of a created topic that names none.',
  ),
  setting(
    'auto.create.topics.enable',
    ConfigType.BOOLEAN,
    (c) => String(c.autoCreateTopics),
    'Whether a Metadata request for an unknown topic creates it.',
  ),
  setting(
    'message.max.bytes',
    ConfigType.INT,
    (c) => String(c.messageMaxBytes),
    'Largest record batch accepted (a topic may override it with max.message.bytes).',
  ),
  setting(
    'log.retention.ms',
    ConfigType.LONG,
    (c) => String(c.logRetentionMs),
    'How long data is kept before deletion; -1 keeps it forever.',
  ),
  setting(
    'log.retention.bytes',
    ConfigType.LONG,
    (c) => String(c.logRetentionBytes),
    'Largest a partition grows before old data is deleted; -1 for no limit.',
  ),
  setting('log.segment.bytes', ConfigType.INT, (c) => String(c.logSegmentBytes), 'Log segment size.'),
  setting(
    'log.message.timestamp.type',
    ConfigType.STRING,
    (c) => c.logMessageTimestampType,
    "Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime).",
  ),
  // The group coordinator's settings, with the types Kafka declares for them.
  setting(
    'group.initial.rebalance.delay.ms',
    ConfigType.INT,
    (c) => String(c.groupInitialRebalanceDelayMs),
    "How long a new group waits for more members before its first generation, once more for each member that arrives meanwhile, up to the group's rebalance timeout.",
  ),
  setting(
    'group.min.session.timeout.ms',
    ConfigType.INT,
    (c) => String(c.groupMinSessionTimeoutMs),
    'The shortest session timeout a group member may ask for.',
  ),
  setting(
    'group.max.session.timeout.ms',
    ConfigType.INT,
    (c) => String(c.groupMaxSessionTimeoutMs),
    'The longest session timeout a group member may ask for.',
  ),
  setting(
    'group.max.size',
    ConfigType.INT,
    (c) => String(c.groupMaxSize),
    'The most members a classic group may hold.',
  ),
  setting(
    'offsets.retention.minutes',
    ConfigType.INT,
    (c) => String(c.offsetsRetentionMinutes),
    'How long committed offsets are kept after their group becomes empty (after each commit, for consumers without a group).',
  ),
  setting(
    'offsets.retention.check.interval.ms',
    ConfigType.LONG,
    (c) => String(c.offsetsRetentionCheckIntervalMs),
    'How often expired offsets are looked for.',
  ),
  setting(
    'offsets.topic.num.partitions',
    ConfigType.INT,
    (c) => String(c.offsetsTopicNumPartitions),
    'Partitions of __consumer_offsets; fixed once the topic exists.',
  ),
  setting(
    'transaction.max.timeout.ms',
    ConfigType.INT,
    (c) => String(c.transactionMaxTimeoutMs),
    'The longest transaction timeout a producer may ask for.',
  ),
  setting(
    'transactional.id.expiration.ms',
    ConfigType.INT,
    (c) => String(c.transactionalIdExpirationMs),
    'How long a transactional id with no transaction under way is kept.',
  ),
  setting(
    'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    ConfigType.INT,
    (c) => String(c.transactionAbortTimedOutTransactionCleanupIntervalMs),
    'How often transactions past their timeout are aborted.',
  ),
  setting(
    'transaction.remove.expired.transaction.cleanup.interval.ms',
    ConfigType.INT,
    (c) => String(c.transactionRemoveExpiredTransactionCleanupIntervalMs),
    'How often expired transactional ids are removed.',
  ),
  setting(
    'transaction.state.log.num.partitions',
    ConfigType.INT,
    (c) => String(c.transactionStateLogNumPartitions),
    'Partitions of __transaction_state; fixed once the topic exists.',
  ),
  setting(
    'add.partitions.to.txn.retry.backoff.ms',
    ConfigType.INT,
    (c) => String(c.addPartitionsToTxnRetryBackoffMs),
    'How long the broker waits before retrying a transactions v2 Produce’s add of its partition refused with CONCURRENT_TRANSACTIONS.',
  ),
  setting(
    'add.partitions.to.txn.retry.backoff.max.ms',
    ConfigType.INT,
    (c) => String(c.addPartitionsToTxnRetryBackoffMaxMs),
    'How long the broker keeps retrying that add before answering CONCURRENT_TRANSACTIONS.',
  ),
  setting(
    'producer.id.expiration.ms',
    ConfigType.INT,
    (c) => String(c.producerIdExpirationMs),
    'How long a partition keeps the state of a producer that stopped writing.',
  ),
  setting(
    'producer.id.expiration.check.interval.ms',
    ConfigType.INT,
    (c) => String(c.producerIdExpirationCheckIntervalMs),
    'How often expired producer state is removed.',
  ),
  setting(
    'offset.metadata.max.bytes',
    ConfigType.INT,
    (c) => String(c.offsetMetadataMaxBytes),
    'The longest metadata string an offset commit may carry.',
  ),
  // The consumer group protocol (KIP-848).
  setting(
    'group.coordinator.rebalance.protocols',
    ConfigType.LIST,
    (c) => c.groupCoordinatorRebalanceProtocols.join(','),
    'The group protocols served: classic, and consumer (ConsumerGroupHeartbeat).',
  ),
  setting(
    'group.consumer.session.timeout.ms',
    ConfigType.INT,
    (c) => String(c.groupConsumerSessionTimeoutMs),
    'How long a member of the consumer group protocol may go without a heartbeat before it is removed.',
  ),
  setting(
    'group.consumer.min.session.timeout.ms',
    ConfigType.INT,
    (c) => String(c.groupConsumerMinSessionTimeoutMs),
    'The lower bound of group.consumer.session.timeout.ms.',
  ),
  setting(
    'group.consumer.max.session.timeout.ms',
    ConfigType.INT,
    (c) => String(c.groupConsumerMaxSessionTimeoutMs),
    'The upper bound of group.consumer.session.timeout.ms.',
  ),
  setting(
    'group.consumer.heartbeat.interval.ms',
    ConfigType.INT,
    (c) => String(c.groupConsumerHeartbeatIntervalMs),
    'The heartbeat interval given to members of the consumer group protocol.',
  ),
  setting(
    'group.consumer.min.heartbeat.interval.ms',
    ConfigType.INT,
    (c) => String(c.groupConsumerMinHeartbeatIntervalMs),
    'The lower bound of group.consumer.heartbeat.interval.ms.',
  ),
  setting(
    'group.consumer.max.heartbeat.interval.ms',
    ConfigType.INT,
    (c) => String(c.groupConsumerMaxHeartbeatIntervalMs),
    'The upper bound of group.consumer.heartbeat.interval.ms.',
  ),
  setting(
    'group.consumer.max.size',
    ConfigType.INT,
    (c) => String(c.groupConsumerMaxSize),
    'The most members a consumer-protocol group may hold.',
  ),
  setting(
    'group.consumer.assignors',
    ConfigType.LIST,
    (c) => c.groupConsumerAssignors.join(','),
    'The server-side assignors (uniform, range); the first is used when a member names none.',
  ),
  setting(
    'group.consumer.migration.policy',
    ConfigType.STRING,
    (c) => c.groupConsumerMigrationPolicy,
    'Whether a non-empty classic group turns into a consumer group when a consumer-protocol member joins (upgrade), and back when the last one leaves (downgrade): bidirectional, upgrade, downgrade or disabled.',
  ),
];

/**
 * Every broker setting Tributary reports: its own, then the broker-level names of the topic
 * configs' defaults (fixed in Tributary, so always at their defaults).
 */
export const BROKER_CONFIGS: readonly BrokerConfigDef[] = [
  ...OWN_SETTINGS,
  ...TOPIC_CONFIGS.flatMap((d): BrokerConfigDef[] => {
    if (d.brokerName === null || OWN_SETTINGS.some((o) => o.name === d.brokerName)) return [];
    return [setting(d.brokerName, d.type, (c) => d.defaultValue(c), d.documentation)];
  }),
];

export const BROKER_CONFIG_BY_NAME: ReadonlyMap<string, BrokerConfigDef> = new Map(
  BROKER_CONFIGS.map((c) => [c.name, c]),
);

/**
 * The synonym chain of a broker setting, as Kafka builds it for a static broker: the value the
 * broker was started with (when it differs from the built-in one), then the built-in default.
 * Tributary has no dynamic broker configs, so no DYNAMIC_* entries appear.
 */
export function brokerConfigSynonyms(def: BrokerConfigDef, config: BrokerConfig): ConfigSynonym[] {
  const value = def.value(config);
  const chain: ConfigSynonym[] = [];
  if (value !== def.defaultValue)
    chain.push({ name: def.name, value, source: ConfigSource.STATIC_BROKER_CONFIG });
  if (def.defaultValue !== null)
    chain.push({ name: def.name, value: def.defaultValue, source: ConfigSource.DEFAULT_CONFIG });
  return chain;
}
