// DescribeConfigs for the group coordinator's broker settings, over the wire.
import {
  ApiKey,
  createDescribeConfigsRequest,
  type DescribeConfigsResponse,
  ErrorCode,
} from '@tributary/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { WireClient } from './wire.js';

const BROKER = 4;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;
const [STRING, INT, LONG, LIST] = [2, 3, 5, 7];

let broker: TestBroker;
let client: WireClient;

beforeAll(async () => {
  // The test broker starts groups at once (group.initial.rebalance.delay.ms=0); the others are
  // set here away from their defaults, except offsets.topic.num.partitions.
  broker = await startTestBroker({
    config: {
      groupMinSessionTimeoutMs: 1000,
      groupMaxSize: 100,
      offsetsRetentionCheckIntervalMs: 30_000,
      groupConsumerHeartbeatIntervalMs: 1000,
      groupConsumerMinHeartbeatIntervalMs: 500,
      groupConsumerAssignors: ['range', 'uniform'],
    },
  });
  client = await WireClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.close();
});

const describeBroker = (version: number, keys: string[] | null, synonyms = true) =>
  client.send<DescribeConfigsResponse>(
    ApiKey.DescribeConfigs,
    version,
    createDescribeConfigsRequest({
      includeSynonyms: synonyms,
      includeDocumentation: version >= 3,
      resources: [{ resourceType: BROKER, resourceName: '1', configurationKeys: keys }],
    }),
  );

describe('DescribeConfigs: group and offsets settings of this broker', () => {
  it('reports each with its value, source, synonyms and type, read-only', async () => {
    const res = await describeBroker(4, null);
    const [result] = res.results;
    expect(result).toMatchObject({ errorCode: ErrorCode.NONE, resourceType: BROKER, resourceName: '1' });
    const configs = new Map(result!.configs.map((c) => [c.name, c]));
    const changed = (name: string, value: string, defaultValue: string, type: number) => ({
      name,
      value,
      readOnly: true,
      configSource: STATIC_BROKER_CONFIG,
      isSensitive: false,
      synonyms: [
        { name, value, source: STATIC_BROKER_CONFIG },
        { name, value: defaultValue, source: DEFAULT_CONFIG },
      ],
      configType: type,
      documentation: expect.any(String),
    });
    const unchanged = (name: string, value: string, type: number) => ({
      name,
      value,
      readOnly: true,
      configSource: DEFAULT_CONFIG,
      isSensitive: false,
      synonyms: [{ name, value, source: DEFAULT_CONFIG }],
      configType: type,
      documentation: expect.any(String),
    });
    const expected = [
      changed('group.initial.rebalance.delay.ms', '0', '3000', INT),
      changed('group.min.session.timeout.ms', '1000', '6000', INT),
      unchanged('group.max.session.timeout.ms', '1800000', INT),
      changed('group.max.size', '100', '2147483647', INT),
      unchanged('offsets.retention.minutes', '10080', INT),
      changed('offsets.retention.check.interval.ms', '30000', '600000', LONG),
      unchanged('offsets.topic.num.partitions', '50', INT),
      unchanged('offset.metadata.max.bytes', '4096', INT),
      unchanged('group.coordinator.rebalance.protocols', 'classic,consumer', LIST),
      changed('group.consumer.heartbeat.interval.ms', '1000', '5000', INT),
      changed('group.consumer.min.heartbeat.interval.ms', '500', '5000', INT),
      unchanged('group.consumer.max.heartbeat.interval.ms', '15000', INT),
      unchanged('group.consumer.session.timeout.ms', '45000', INT),
      unchanged('group.consumer.min.session.timeout.ms', '45000', INT),
      unchanged('group.consumer.max.session.timeout.ms', '60000', INT),
      unchanged('group.consumer.max.size', '2147483647', INT),
      changed('group.consumer.assignors', 'range,uniform', 'uniform,range', LIST),
      unchanged('group.consumer.migration.policy', 'bidirectional', STRING),
    ];
    for (const e of expected) expect(configs.get(e.name), e.name).toEqual(e);
  });

  it('answers named keys alone, without synonyms unless asked, at v1-v4', async () => {
    const keys = ['group.max.size', 'offsets.retention.check.interval.ms'];
    for (const v of [1, 2, 3, 4]) {
      const res = await describeBroker(v, keys, false);
      const configs = res.results[0]!.configs;
      expect(
        configs.map((c) => [c.name, c.value, c.readOnly, c.synonyms.length]),
        `v${v}`,
      ).toEqual([
        ['group.max.size', '100', true, 0],
        ['offsets.retention.check.interval.ms', '30000', true, 0],
      ]);
      expect(
        configs.map((c) => c.configSource),
        `v${v}`,
      ).toEqual([STATIC_BROKER_CONFIG, STATIC_BROKER_CONFIG]);
      // configType exists from v3.
      if (v >= 3)
        expect(
          configs.map((c) => c.configType),
          `v${v}`,
        ).toEqual([INT, LONG]);
    }
  });
});
