// The group coordinator's part of the core's BrokerConfig, from the settings, and the checks
// between them that Kafka makes.
import { type BrokerConfig, CONSUMER_GROUP_BOUNDS, type Comparison } from '@tributary/core';
import type { AppConfig, SettingName } from './settings.js';

/** The setting behind each group coordinator field of the core's BrokerConfig. */
const GROUP_SETTINGS = {
  groupInitialRebalanceDelayMs: 'group-initial-rebalance-delay-ms',
  groupMinSessionTimeoutMs: 'group-min-session-timeout-ms',
  groupMaxSessionTimeoutMs: 'group-max-session-timeout-ms',
  groupMaxSize: 'group-max-size',
  offsetsRetentionMinutes: 'offsets-retention-minutes',
  offsetsTopicNumPartitions: 'offsets-topic-num-partitions',
  groupCoordinatorRebalanceProtocols: 'group-coordinator-rebalance-protocols',
  groupConsumerHeartbeatIntervalMs: 'group-consumer-heartbeat-interval-ms',
  groupConsumerMinHeartbeatIntervalMs: 'group-consumer-min-heartbeat-interval-ms',
  groupConsumerMaxHeartbeatIntervalMs: 'group-consumer-max-heartbeat-interval-ms',
  groupConsumerSessionTimeoutMs: 'group-consumer-session-timeout-ms',
  groupConsumerMinSessionTimeoutMs: 'group-consumer-min-session-timeout-ms',
  groupConsumerMaxSessionTimeoutMs: 'group-consumer-max-session-timeout-ms',
  groupConsumerMaxSize: 'group-consumer-max-size',
  groupConsumerAssignors: 'group-consumer-assignors',
  groupConsumerMigrationPolicy: 'group-consumer-migration-policy',
} as const satisfies Partial<Record<keyof BrokerConfig, SettingName>>;

export type GroupCoordinatorSettings = Pick<BrokerConfig, keyof typeof GROUP_SETTINGS>;

/** Classic and consumer-protocol group settings as the core's `Broker` takes them. */
export function groupCoordinatorSettings(config: AppConfig): GroupCoordinatorSettings {
  const out: Record<string, unknown> = {};
  for (const [field, setting] of Object.entries(GROUP_SETTINGS)) out[field] = config[setting];
  return out as GroupCoordinatorSettings;
}

/**
 * Settings whose valid values depend on others, checked once every setting has its value: the
 * core's consumer group bounds (Kafka's rules, in its order), by setting name.
 */
export const CROSS_CHECKS: readonly {
  readonly setting: SettingName;
  readonly must: Comparison;
  readonly other: SettingName;
}[] = CONSUMER_GROUP_BOUNDS.map(({ setting, must, other }) => ({
  setting: GROUP_SETTINGS[setting],
  must,
  other: GROUP_SETTINGS[other],
}));
