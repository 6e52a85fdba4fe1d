import { describe, expect, it } from 'vitest';
import { BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, brokerConfigSynonyms } from './broker-configs.js';
import { defaultBrokerConfig } from './config.js';
import { ConfigSource, ConfigType } from './topic-configs.js';

// Kafka's names, types and defaults for the group coordinator's settings.
const GROUP_SETTINGS = [
  ['group.initial.rebalance.delay.ms', ConfigType.INT, '3000'],
  ['group.min.session.timeout.ms', ConfigType.INT, '6000'],
  ['group.max.session.timeout.ms', ConfigType.INT, '1800000'],
  ['group.max.size', ConfigType.INT, '2147483647'],
  ['offsets.retention.minutes', ConfigType.INT, '10080'],
  ['offsets.retention.check.interval.ms', ConfigType.LONG, '600000'],
  ['offsets.topic.num.partitions', ConfigType.INT, '50'],
  ['offset.metadata.max.bytes', ConfigType.INT, '4096'],
  ['group.coordinator.rebalance.protocols', ConfigType.LIST, 'classic,consumer'],
  ['group.consumer.session.timeout.ms', ConfigType.INT, '45000'],
  ['group.consumer.min.session.timeout.ms', ConfigType.INT, '45000'],
  ['group.consumer.max.session.timeout.ms', ConfigType.INT, '60000'],
  ['group.consumer.heartbeat.interval.ms', ConfigType.INT, '5000'],
  ['group.consumer.min.heartbeat.interval.ms', ConfigType.INT, '5000'],
  ['group.consumer.max.heartbeat.interval.ms', ConfigType.INT, '15000'],
  ['group.consumer.max.size', ConfigType.INT, '2147483647'],
  ['group.consumer.assignors', ConfigType.LIST, 'uniform,range'],
  ['group.consumer.migration.policy', ConfigType.STRING, 'bidirectional'],
] as const;

describe('broker group settings', () => {
  it("lists each group and offsets setting once, with Kafka's type and default", () => {
    const config = defaultBrokerConfig();
    for (const [name, type, defaultValue] of GROUP_SETTINGS) {
      expect(
        BROKER_CONFIGS.filter((d) => d.name === name),
        name,
      ).toHaveLength(1);
      const def = BROKER_CONFIG_BY_NAME.get(name)!;
      expect(def, name).toMatchObject({ type, defaultValue });
      expect(def.value(config), name).toBe(defaultValue);
      expect(def.documentation, name).not.toBe('');
      // At its default a setting's only synonym is the default itself.
      expect(brokerConfigSynonyms(def, config), name).toEqual([
        { name, value: defaultValue, source: ConfigSource.DEFAULT_CONFIG },
      ]);
    }
  });

  it('reports the value the broker runs with as static, above the default', () => {
    const config = defaultBrokerConfig({
      groupInitialRebalanceDelayMs: 0,
      groupMinSessionTimeoutMs: 1000,
      groupMaxSessionTimeoutMs: 60_000,
      groupMaxSize: 10,
      offsetsRetentionMinutes: 60,
      offsetsRetentionCheckIntervalMs: 5000,
      offsetsTopicNumPartitions: 3,
      offsetMetadataMaxBytes: 100,
      groupCoordinatorRebalanceProtocols: ['classic'],
      groupConsumerSessionTimeoutMs: 20_000,
      groupConsumerMinSessionTimeoutMs: 10_000,
      groupConsumerMaxSessionTimeoutMs: 30_000,
      groupConsumerHeartbeatIntervalMs: 2000,
      groupConsumerMinHeartbeatIntervalMs: 1000,
      groupConsumerMaxHeartbeatIntervalMs: 3000,
      groupConsumerMaxSize: 8,
      groupConsumerAssignors: ['range'],
      groupConsumerMigrationPolicy: 'upgrade',
    });
    const expected: Record<string, string> = {
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '1000',
      'group.max.session.timeout.ms': '60000',
      'group.max.size': '10',
      'offsets.retention.minutes': '60',
      'offsets.retention.check.interval.ms': '5000',
      'offsets.topic.num.partitions': '3',
      'offset.metadata.max.bytes': '100',
      'group.coordinator.rebalance.protocols': 'classic',
      'group.consumer.session.timeout.ms': '20000',
      'group.consumer.min.session.timeout.ms': '10000',
      'group.consumer.max.session.timeout.ms': '30000',
      'group.consumer.heartbeat.interval.ms': '2000',
      'group.consumer.min.heartbeat.interval.ms': '1000',
      'group.consumer.max.heartbeat.interval.ms': '3000',
      'group.consumer.max.size': '8',
      'group.consumer.assignors': 'range',
      'group.consumer.migration.policy': 'upgrade',
    };
    for (const [name, , defaultValue] of GROUP_SETTINGS) {
      const def = BROKER_CONFIG_BY_NAME.get(name)!;
      expect(def.value(config), name).toBe(expected[name]);
      expect(brokerConfigSynonyms(def, config), name).toEqual([
        { name, value: expected[name], source: ConfigSource.STATIC_BROKER_CONFIG },
        { name, value: defaultValue, source: ConfigSource.DEFAULT_CONFIG },
      ]);
    }
  });
});
