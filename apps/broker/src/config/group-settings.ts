// The group coordinator's part of the core's BrokerConfig, from the settings.
import type { BrokerConfig } from '@tributary/core';
import type { AppConfig } from './settings.js';

export type GroupCoordinatorSettings = Pick<
  BrokerConfig,
  | 'groupInitialRebalanceDelayMs'
  | 'groupMinSessionTimeoutMs'
  | 'groupMaxSessionTimeoutMs'
  | 'groupMaxSize'
  | 'offsetsRetentionMinutes'
  | 'offsetsTopicNumPartitions'
  | 'groupCoordinatorRebalanceProtocols'
  | 'groupConsumerHeartbeatIntervalMs'
  | 'groupConsumerMinHeartbeatIntervalMs'
  | 'groupConsumerMaxHeartbeatIntervalMs'
  | 'groupConsumerSessionTimeoutMs'
  | 'groupConsumerMinSessionTimeoutMs'
  | 'groupConsumerMaxSessionTimeoutMs'
  | 'groupConsumerMaxSize'
  | 'groupConsumerAssignors'
  | 'groupConsumerMigrationPolicy'
>;

/** Classic and consumer-protocol group settings as the core's `Broker` takes them. */
export function groupCoordinatorSettings(config: AppConfig): GroupCoordinatorSettings {
  return {
    groupInitialRebalanceDelayMs: config['group-initial-rebalance-delay-ms'],
    groupMinSessionTimeoutMs: config['group-min-session-timeout-ms'],
    groupMaxSessionTimeoutMs: config['group-max-session-timeout-ms'],
    groupMaxSize: config['group-max-size'],
    offsetsRetentionMinutes: config['offsets-retention-minutes'],
    offsetsTopicNumPartitions: config['offsets-topic-num-partitions'],
    groupCoordinatorRebalanceProtocols: config['group-coordinator-rebalance-protocols'],
    groupConsumerHeartbeatIntervalMs: config['group-consumer-heartbeat-interval-ms'],
    groupConsumerMinHeartbeatIntervalMs: config['group-consumer-min-heartbeat-interval-ms'],
    groupConsumerMaxHeartbeatIntervalMs: config['group-consumer-max-heartbeat-interval-ms'],
    groupConsumerSessionTimeoutMs: config['group-consumer-session-timeout-ms'],
    groupConsumerMinSessionTimeoutMs: config['group-consumer-min-session-timeout-ms'],
    groupConsumerMaxSessionTimeoutMs: config['group-consumer-max-session-timeout-ms'],
    groupConsumerMaxSize: config['group-consumer-max-size'],
    groupConsumerAssignors: config['group-consumer-assignors'],
    groupConsumerMigrationPolicy: config['group-consumer-migration-policy'],
  };
}
