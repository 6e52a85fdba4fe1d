import type { BrokerConfig } from './config.js';

/** Kafka's config types, as DescribeConfigs reports them (v3+ configType). */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;

/** Where a config value comes from (DescribeConfigs configSource). */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
} as const;

export interface TopicConfigDef {
  readonly name: string;
  readonly type: (typeof ConfigType)[keyof typeof ConfigType];
  /** The broker setting that supplies the default, or null when only the topic has it. */
  readonly brokerName: string | null;
  readonly documentation: string;
  /** The default, from the broker config when it has one. */
  defaultValue(config: BrokerConfig): string;
  /** An error message when `value` is not acceptable, else null. */
  validate(value: string): string | null;
  /** Tributary enforces it (others are accepted and reported, as Kafka stores them). */
  readonly enforced: boolean;
}

const isLong = (v: string): boolean => /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v));
const longAtLeast =
  (min: number) =>
  (v: string): string | null =>
    isLong(v) && Number(v) >= min ? null : `must be an integer >= ${min}`;
const oneOf =
  (...values: string[]) =>
  (v: string): string | null =>
    values.includes(v) ? null : `must be one of ${values.join(', ')}`;
const anything = (): null => null;
const bool = oneOf('true', 'false');
const ratio = (v: string): string | null =>
  /^\d*\.?\d+$/.test(v) && Number(v) >= 0 && Number(v) <= 1 ? null : 'must be between 0 and 1';

function def(
  name: string,
  type: TopicConfigDef['type'],
  brokerName: string | null,
  defaultValue: (c: BrokerConfig) => string,
  validate: (v: string) => string | null,
  enforced: boolean,
  documentation: string,
): TopicConfigDef {
  return { name, type, brokerName, defaultValue, validate, enforced, documentation };
}

/** Every topic config Kafka defines, with its default and validation. */
export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  def(
    'cleanup.policy',
    ConfigType.LIST,
    'log.cleanup.policy',
    () => 'delete',
    (v) =>
      v.split(',').every((p) => ['delete', 'compact'].includes(p.trim()))
        ? null
        : 'must be delete, compact or both',
    true,
    'Retention policy for old log segments.',
  ),
  def(
    'compression.type',
    ConfigType.STRING,
    'compression.type',
    () => 'producer',
    oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
    false,
    'Final compression type for the topic.',
  ),
  def(
    'delete.retention.ms',
    ConfigType.LONG,
    'log.cleaner.delete.retention.ms',
    () => '86400000',
    longAtLeast(0),
    false,
    'How long delete tombstones are retained for compacted topics.',
  ),
  def(
    'file.delete.delay.ms',
    ConfigType.LONG,
    'log.segment.delete.delay.ms',
    () => '60000',
    longAtLeast(0),
    false,
    'Time to wait before deleting a file from the filesystem.',
  ),
  def(
    'flush.messages',
    ConfigType.LONG,
    'log.flush.interval.messages',
    () => '9223372036854775807',
    longAtLeast(1),
    false,
    'Messages between forced fsyncs.',
  ),
  def(
    'flush.ms',
    ConfigType.LONG,
    'log.flush.interval.ms',
    () => '9223372036854775807',
    longAtLeast(0),
    false,
    'Time between forced fsyncs.',
  ),
  def(
    'index.interval.bytes',
    ConfigType.INT,
    'log.index.interval.bytes',
    () => '4096',
    longAtLeast(0),
    false,
    'How often an offset index entry is added.',
  ),
  def(
    'max.compaction.lag.ms',
    ConfigType.LONG,
    'log.cleaner.max.compaction.lag.ms',
    () => '9223372036854775807',
    longAtLeast(1),
    false,
    'Longest a message stays ineligible for compaction.',
  ),
  def(
    'max.message.bytes',
    ConfigType.INT,
    'message.max.bytes',
    (c) => String(c.messageMaxBytes),
    longAtLeast(0),
    true,
    'Largest record batch size allowed.',
  ),
  def(
    'message.timestamp.after.max.ms',
    ConfigType.LONG,
    'log.message.timestamp.after.max.ms',
    () => '3600000',
    longAtLeast(0),
    false,
    'Allowed timestamp lead over the broker clock.',
  ),
  def(
    'message.timestamp.before.max.ms',
    ConfigType.LONG,
    'log.message.timestamp.before.max.ms',
    () => '9223372036854775807',
    longAtLeast(0),
    false,
    'Allowed timestamp lag behind the broker clock.',
  ),
  def(
    'message.timestamp.type',
    ConfigType.STRING,
    'log.message.timestamp.type',
    (c) => c.logMessageTimestampType,
    oneOf('CreateTime', 'LogAppendTime'),
    true,
    "Whether record timestamps are the producer's or the broker's.",
  ),
  def(
    'min.cleanable.dirty.ratio',
    ConfigType.DOUBLE,
    'log.cleaner.min.cleanable.ratio',
    () => '0.5',
    ratio,
    false,
    'Dirty ratio that makes a log eligible for compaction.',
  ),
  def(
    'min.compaction.lag.ms',
    ConfigType.LONG,
    'log.cleaner.min.compaction.lag.ms',
    () => '0',
    longAtLeast(0),
    false,
    'Shortest time a message stays uncompacted.',
  ),
  def(
    'min.insync.replicas',
    ConfigType.INT,
    'min.insync.replicas',
    () => '1',
    longAtLeast(1),
    false,
    'Replicas that must acknowledge acks=all writes.',
  ),
  def(
    'preallocate',
    ConfigType.BOOLEAN,
    'log.preallocate',
    () => 'false',
    bool,
    false,
    'Preallocate segment files.',
  ),
  def(
    'retention.bytes',
    ConfigType.LONG,
    'log.retention.bytes',
    (c) => String(c.logRetentionBytes),
    longAtLeast(-1),
    true,
    'Largest a partition grows before old data is deleted.',
  ),
  def(
    'retention.ms',
    ConfigType.LONG,
    'log.retention.ms',
    (c) => String(c.logRetentionMs),
    longAtLeast(-1),
    true,
    'Longest data is kept before deletion.',
  ),
  def(
    'segment.bytes',
    ConfigType.INT,
    'log.segment.bytes',
    (c) => String(c.logSegmentBytes),
    longAtLeast(14),
    true,
    'Log segment file size.',
  ),
  def(
    'segment.index.bytes',
    ConfigType.INT,
    'log.index.size.max.bytes',
    () => '10485760',
    longAtLeast(4),
    false,
    'Offset index size.',
  ),
  def(
    'segment.jitter.ms',
    ConfigType.LONG,
    'log.roll.jitter.ms',
    () => '0',
    longAtLeast(0),
    false,
    'Random jitter on segment roll time.',
  ),
  def(
    'segment.ms',
    ConfigType.LONG,
    'log.roll.ms',
    () => '604800000',
    longAtLeast(1),
    true,
    'Time after which a segment is rolled.',
  ),
  def(
    'unclean.leader.election.enable',
    ConfigType.BOOLEAN,
    'unclean.leader.election.enable',
    () => 'false',
    bool,
    false,
    'Allow out-of-sync replicas to become leader.',
  ),
  def(
    'message.downconversion.enable',
    ConfigType.BOOLEAN,
    'log.message.downconversion.enable',
    () => 'true',
    bool,
    false,
    'Down-convert messages for old consumers.',
  ),
  def(
    'local.retention.bytes',
    ConfigType.LONG,
    'log.local.retention.bytes',
    () => '-2',
    longAtLeast(-2),
    false,
    'Local retention with tiered storage.',
  ),
  def(
    'local.retention.ms',
    ConfigType.LONG,
    'log.local.retention.ms',
    () => '-2',
    longAtLeast(-2),
    false,
    'Local retention time with tiered storage.',
  ),
  def(
    'remote.storage.enable',
    ConfigType.BOOLEAN,
    'remote.log.storage.system.enable',
    () => 'false',
    oneOf('false'),
    false,
    'Tiered storage (not supported).',
  ),
  def(
    'follower.replication.throttled.replicas',
    ConfigType.LIST,
    null,
    () => '',
    anything,
    false,
    'Throttled follower replicas.',
  ),
  def(
    'leader.replication.throttled.replicas',
    ConfigType.LIST,
    null,
    () => '',
    anything,
    false,
    'Throttled leader replicas.',
  ),
];

export const TOPIC_CONFIG_BY_NAME: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIGS.map((c) => [c.name, c]),
);

/** The effective value of a topic config: the topic's override or the broker default. */
export function topicConfigValue(
  name: string,
  overrides: Readonly<Record<string, string>>,
  config: BrokerConfig,
): string {
  const override = overrides[name];
  if (override !== undefined) return override;
  const d = TOPIC_CONFIG_BY_NAME.get(name);
  if (d === undefined) throw new Error(`unknown topic config ${name}`);
  return d.defaultValue(config);
}

/** Validates a set of topic configs; returns the first problem as a Kafka-style message, or null. */
export function validateTopicConfigs(configs: Readonly<Record<string, string | null>>): string | null {
  for (const [name, value] of Object.entries(configs)) {
    const d = TOPIC_CONFIG_BY_NAME.get(name);
    if (d === undefined) return `Unknown topic config name: ${name}`;
    if (value === null) continue;
    const problem = d.validate(value);
    if (problem !== null) return `Invalid value ${value} for configuration ${name}: ${problem}`;
  }
  return null;
}
