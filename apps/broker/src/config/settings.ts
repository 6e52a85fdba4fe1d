// Every setting of the `tributary` command, defined once. Flags (`--data-dir`), environment
// variables (`TRIBUTARY_DATA_DIR`), config-file keys (`data-dir`), `--help`, `--print-config` and
// docs/configuration.md all derive from this table.
import { z } from 'zod';

/** How a value written as text (a flag, an environment variable, a properties file) is read. */
export type SettingKind = 'string' | 'integer' | 'boolean' | 'enum' | 'list';

export interface SettingSpec {
  readonly kind: SettingKind;
  /** Validates the typed value; also carries the default. */
  readonly schema: z.ZodType;
  readonly description: string;
  /** The Kafka broker setting this one corresponds to, for people coming from Kafka. */
  readonly kafka?: string;
  /** Redacted by `--print-config` and in logs. */
  readonly secret?: boolean;
  /** A flag only: not read from the environment or the config file. */
  readonly flagOnly?: boolean;
  /** A one-letter alias (`-h`). */
  readonly short?: string;
  /** For a list: the values it may hold. */
  readonly values?: readonly string[];
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const port = int(0, 65_535);
const ms = int(0, Number.MAX_SAFE_INTEGER);
const positive = int(1, 0x7fff_ffff);
const host = z.string().min(1, 'must not be empty');

/**
 * A list of names, written as text with commas (`uniform,range`, as Kafka's list settings are)
 * or, in a JSON config file, as an array: at least one, none twice.
 */
function list<const T extends string>(values: readonly [T, ...T[]]) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x !== '')
        : v,
    )
    .pipe(
      z
        .array(z.enum(values))
        .min(1, 'must name at least one')
        .refine((a) => new Set(a).size === a.length, 'must not name a value twice'),
    );
}

function setting<S extends z.ZodType>(
  kind: SettingKind,
  schema: S,
  description: string,
  extra: Omit<Partial<SettingSpec>, 'kind' | 'schema' | 'description'> = {},
): SettingSpec & { readonly schema: S } {
  return { kind, schema, description, ...extra };
}

export const SETTINGS = {
  // --- The command itself.
  help: setting('boolean', z.boolean().default(false), 'Print this help and exit.', {
    flagOnly: true,
    short: 'h',
  }),
  version: setting('boolean', z.boolean().default(false), 'Print the version and exit.', {
    flagOnly: true,
    short: 'v',
  }),
  'print-config': setting(
    'boolean',
    z.boolean().default(false),
    'Print the effective settings (secrets redacted) with where each came from, and exit.',
    { flagOnly: true },
  ),
  config: setting(
    'string',
    z.string().min(1).nullable().default(null),
    'A config file: JSON (`.json`) or `key=value` lines, keys as the flags are spelled without `--`.',
  ),

  // --- Listeners.
  host: setting('string', host.default('127.0.0.1'), 'Address the Kafka listener binds.', {
    kafka: 'listeners',
  }),
  port: setting('integer', port.default(9092), 'Port of the Kafka listener; 0 picks a free one.', {
    kafka: 'listeners',
  }),
  'advertised-host': setting(
    'string',
    host.nullable().default(null),
    'Host clients are told to connect to (Metadata). Default: the bound host, or this machine’s name when binding every address.',
    { kafka: 'advertised.listeners' },
  ),
  'advertised-port': setting(
    'integer',
    int(1, 65_535).nullable().default(null),
    'Port clients are told to connect to. Default: the bound port.',
    { kafka: 'advertised.listeners' },
  ),
  'admin-host': setting('string', host.default('127.0.0.1'), 'Address of the admin HTTP listener.'),
  'admin-port': setting(
    'integer',
    int(-1, 65_535).default(9464),
    'Port of the admin HTTP listener (`/metrics`, `/healthz`, `/readyz`); 0 picks a free one, -1 turns it off.',
  ),
  'max-request-bytes': setting(
    'integer',
    int(8, 0x7fff_ffff).default(104_857_600),
    'Largest request frame accepted; a larger one closes its connection.',
    { kafka: 'socket.request.max.bytes' },
  ),
  'shutdown-timeout-ms': setting(
    'integer',
    ms.default(10_000),
    'On SIGTERM/SIGINT, how long in-flight requests get to finish before their connections are closed.',
  ),

  // --- Storage.
  'data-dir': setting('string', z.string().min(1).default('./data'), 'Directory of the durable log.', {
    kafka: 'log.dirs',
  }),
  memory: setting(
    'boolean',
    z.boolean().default(false),
    'Keep everything in memory instead of `data-dir`: fast, and gone when the process ends.',
  ),
  flush: setting(
    'enum',
    z.enum(['always', 'interval']).default('interval'),
    '`always`: an append is acknowledged only after it is on disk (fdatasync, shared by every append waiting). `interval`: flushed every `flush-interval-ms` or `flush-bytes`.',
    { kafka: 'log.flush.interval.messages' },
  ),
  'flush-interval-ms': setting(
    'integer',
    int(1, 0x7fff_ffff).default(1000),
    'With `flush=interval`: longest time written data waits for fdatasync.',
    { kafka: 'log.flush.interval.ms' },
  ),
  'flush-bytes': setting(
    'integer',
    int(-1, Number.MAX_SAFE_INTEGER).default(-1),
    'With `flush=interval`: also flush once this many bytes are unflushed; -1 for no byte threshold.',
  ),
  'log-segment-bytes': setting(
    'integer',
    int(14, 0x7fff_ffff).default(1_073_741_824),
    'Size at which a partition rolls to a new segment (a topic’s `segment.bytes` overrides).',
    { kafka: 'log.segment.bytes' },
  ),
  'log-roll-ms': setting(
    'integer',
    int(1, Number.MAX_SAFE_INTEGER).default(604_800_000),
    'Age at which a partition rolls to a new segment (a topic’s `segment.ms` overrides).',
    { kafka: 'log.roll.ms' },
  ),
  'log-retention-ms': setting(
    'integer',
    int(-1, Number.MAX_SAFE_INTEGER).default(604_800_000),
    'Delete data older than this; -1 keeps it forever (a topic’s `retention.ms` overrides).',
    { kafka: 'log.retention.ms' },
  ),
  'log-retention-bytes': setting(
    'integer',
    int(-1, Number.MAX_SAFE_INTEGER).default(-1),
    'Largest size of a partition before its oldest segments are deleted; -1 for no limit.',
    { kafka: 'log.retention.bytes' },
  ),
  'log-retention-check-interval-ms': setting(
    'integer',
    int(1, 0x7fff_ffff).default(300_000),
    'How often retention runs.',
    { kafka: 'log.retention.check.interval.ms' },
  ),

  // --- Broker.
  'node-id': setting('integer', int(0, 0x7fff_ffff).default(1), 'This broker’s id.', { kafka: 'node.id' }),
  'cluster-id': setting(
    'string',
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{22}$/, 'must be 22 base64url characters (16 bytes)')
      .nullable()
      .default(null),
    'Cluster id. Default: the one recorded in `data-dir`, else a new random id recorded there.',
    { kafka: 'cluster.id' },
  ),
  'auto-create-topics': setting(
    'boolean',
    z.boolean().default(true),
    'Create a topic when a client asks Metadata for one that does not exist (and allows it).',
    { kafka: 'auto.create.topics.enable' },
  ),
  'num-partitions': setting(
    'integer',
    positive.default(1),
    'Partitions of an auto-created topic, or of CreateTopics asking for the default.',
    { kafka: 'num.partitions' },
  ),
  'message-max-bytes': setting(
    'integer',
    int(0, 0x7fff_ffff).default(1_048_588),
    'Largest record batch accepted (a topic’s `max.message.bytes` overrides).',
    { kafka: 'message.max.bytes' },
  ),
  'log-message-timestamp-type': setting(
    'enum',
    z.enum(['CreateTime', 'LogAppendTime']).default('CreateTime'),
    'Whether stored records keep the producer’s timestamp or get the broker’s.',
    { kafka: 'log.message.timestamp.type' },
  ),

  // --- Consumer groups.
  'group-initial-rebalance-delay-ms': setting(
    'integer',
    ms.default(3000),
    'How long a new group waits for more members before its first generation.',
    { kafka: 'group.initial.rebalance.delay.ms' },
  ),
  'group-min-session-timeout-ms': setting(
    'integer',
    ms.default(6000),
    'Shortest session timeout a member may ask for.',
    { kafka: 'group.min.session.timeout.ms' },
  ),
  'group-max-session-timeout-ms': setting(
    'integer',
    ms.default(1_800_000),
    'Longest session timeout a member may ask for.',
    { kafka: 'group.max.session.timeout.ms' },
  ),
  'group-max-size': setting('integer', positive.default(2_147_483_647), 'Members a classic group may hold.', {
    kafka: 'group.max.size',
  }),
  'offsets-retention-minutes': setting(
    'integer',
    positive.default(10_080),
    'How long committed offsets outlive an empty group (or their commit, for consumers without a group).',
    { kafka: 'offsets.retention.minutes' },
  ),
  'offsets-topic-num-partitions': setting(
    'integer',
    int(1, 10_000).default(50),
    'Partitions of the internal __consumer_offsets topic; fixed once the topic exists.',
    { kafka: 'offsets.topic.num.partitions' },
  ),

  // --- Idempotent producers and transactions.
  'transaction-max-timeout-ms': setting(
    'integer',
    positive.default(900_000),
    'The longest transaction timeout a producer may ask for (InitProducerId answers INVALID_TRANSACTION_TIMEOUT above it).',
    { kafka: 'transaction.max.timeout.ms' },
  ),
  'transactional-id-expiration-ms': setting(
    'integer',
    positive.default(604_800_000),
    'How long a transactional id with no transaction under way is kept before the coordinator forgets it.',
    { kafka: 'transactional.id.expiration.ms' },
  ),
  'transaction-abort-timed-out-transaction-cleanup-interval-ms': setting(
    'integer',
    positive.default(10_000),
    'How often the transaction coordinator aborts transactions past their timeout.',
    { kafka: 'transaction.abort.timed.out.transaction.cleanup.interval.ms' },
  ),
  'transaction-remove-expired-transaction-cleanup-interval-ms': setting(
    'integer',
    positive.default(3_600_000),
    'How often the transaction coordinator removes expired transactional ids.',
    { kafka: 'transaction.remove.expired.transaction.cleanup.interval.ms' },
  ),
  'transaction-state-log-num-partitions': setting(
    'integer',
    int(1, 10_000).default(50),
    'Partitions of the internal __transaction_state topic; fixed once the topic exists.',
    { kafka: 'transaction.state.log.num.partitions' },
  ),
  'transaction-version': setting(
    'integer',
    int(0, 2).default(2),
    'The transaction.version feature level offered to clients: 2 is transactions v2 (KIP-890: an epoch bump on every commit or abort, partitions added by Produce).',
    { kafka: 'transaction.version (a feature level)' },
  ),
  'add-partitions-to-txn-retry-backoff-ms': setting(
    'integer',
    positive.default(20),
    'How long the broker waits before retrying, itself, a transactions v2 Produce whose partition could not join the transaction yet (CONCURRENT_TRANSACTIONS: the previous transaction is still completing).',
    { kafka: 'add.partitions.to.txn.retry.backoff.ms' },
  ),
  'add-partitions-to-txn-retry-backoff-max-ms': setting(
    'integer',
    positive.default(100),
    'How long the broker keeps retrying that add before answering CONCURRENT_TRANSACTIONS.',
    { kafka: 'add.partitions.to.txn.retry.backoff.max.ms' },
  ),
  'producer-id-expiration-ms': setting(
    'integer',
    positive.default(86_400_000),
    'How long a partition keeps the state of a producer that stopped writing (its sequence numbers for de-duplication).',
    { kafka: 'producer.id.expiration.ms' },
  ),
  'producer-id-expiration-check-interval-ms': setting(
    'integer',
    positive.default(600_000),
    'How often expired producer state is removed.',
    { kafka: 'producer.id.expiration.check.interval.ms' },
  ),

  // --- The consumer group protocol (KIP-848).
  'group-coordinator-rebalance-protocols': setting(
    'list',
    list(['classic', 'consumer'])
      .refine((a) => a.includes('classic'), 'must include classic (always served)')
      .default(['classic', 'consumer']),
    'Group protocols served: `classic` always; without `consumer`, ConsumerGroupHeartbeat is not offered.',
    { kafka: 'group.coordinator.rebalance.protocols', values: ['classic', 'consumer'] },
  ),
  'group-consumer-heartbeat-interval-ms': setting(
    'integer',
    positive.default(5000),
    'Heartbeat interval given to members of the consumer group protocol.',
    { kafka: 'group.consumer.heartbeat.interval.ms' },
  ),
  'group-consumer-min-heartbeat-interval-ms': setting(
    'integer',
    positive.default(5000),
    'Lower bound of `group-consumer-heartbeat-interval-ms`.',
    { kafka: 'group.consumer.min.heartbeat.interval.ms' },
  ),
  'group-consumer-max-heartbeat-interval-ms': setting(
    'integer',
    positive.default(15_000),
    'Upper bound of `group-consumer-heartbeat-interval-ms`.',
    { kafka: 'group.consumer.max.heartbeat.interval.ms' },
  ),
  'group-consumer-session-timeout-ms': setting(
    'integer',
    positive.default(45_000),
    'How long a member of the consumer group protocol may go without a heartbeat before it is removed.',
    { kafka: 'group.consumer.session.timeout.ms' },
  ),
  'group-consumer-min-session-timeout-ms': setting(
    'integer',
    positive.default(45_000),
    'Lower bound of `group-consumer-session-timeout-ms`.',
    { kafka: 'group.consumer.min.session.timeout.ms' },
  ),
  'group-consumer-max-session-timeout-ms': setting(
    'integer',
    positive.default(60_000),
    'Upper bound of `group-consumer-session-timeout-ms`.',
    { kafka: 'group.consumer.max.session.timeout.ms' },
  ),
  'group-consumer-max-size': setting(
    'integer',
    positive.default(2_147_483_647),
    'Members a consumer-protocol group may hold.',
    { kafka: 'group.consumer.max.size' },
  ),
  'group-consumer-assignors': setting(
    'list',
    list(['uniform', 'range']).default(['uniform', 'range']),
    'Server-side assignors offered; the first is used when a member names none.',
    { kafka: 'group.consumer.assignors', values: ['uniform', 'range'] },
  ),
  'group-consumer-migration-policy': setting(
    'enum',
    z.enum(['bidirectional', 'upgrade', 'downgrade', 'disabled']).default('bidirectional'),
    'Whether a non-empty classic group turns into a consumer group when a consumer-protocol member joins (upgrade), and back when the last one leaves (downgrade).',
    { kafka: 'group.consumer.migration.policy' },
  ),

  // --- Logging.
  'log-level': setting(
    'enum',
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    'Least severe log level written.',
  ),
  'log-pretty': setting(
    'boolean',
    z.boolean().default(false),
    'Human-readable colored logs instead of JSON lines.',
  ),
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

/** The effective settings, keyed as the flags are spelled. */
export type AppConfig = {
  -readonly [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']>;
};

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export function envName(name: SettingName): string {
  return `TRIBUTARY_${name.replaceAll('-', '_').toUpperCase()}`;
}

export function defaults(): AppConfig {
  const out: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) out[name] = SETTINGS[name].schema.parse(undefined);
  return out as AppConfig;
}
