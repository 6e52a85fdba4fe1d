import {
  type AlterConfigsResponse,
  ApiKey,
  type CreatePartitionsResponse,
  type CreateTopicsResponse,
  createAlterConfigsRequest,
  createCreatePartitionsRequest,
  createCreateTopicsRequest,
  createDeleteRecordsRequest,
  createDescribeClusterRequest,
  createDescribeConfigsRequest,
  createDescribeLogDirsRequest,
  createDescribeTopicPartitionsRequest,
  createFetchRequest,
  createIncrementalAlterConfigsRequest,
  createListOffsetsRequest,
  createMetadataRequest,
  createOffsetForLeaderEpochRequest,
  createProduceRequest,
  type DeleteRecordsResponse,
  type DescribeClusterResponse,
  type DescribeConfigsResponse,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
  type DescribeLogDirsResponse,
  type DescribeTopicPartitionsResponse,
  ErrorCode,
  type FetchResponse,
  type IncrementalAlterConfigsResponse,
  type ListOffsetsResponse,
  type MetadataResponse,
  type OffsetForLeaderEpochResponse,
  type ProduceResponse,
} from '@tributary/codec';
import { buildRecordBatch } from '@tributary/codec/records';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { WireClient } from './wire.js';

// Config resource types and incremental operations, as Kafka numbers them.
const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const [SET, DELETE, APPEND, SUBTRACT] = [0, 1, 2, 3];
// DescribeConfigs sources and types.
const TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;
const [BOOLEAN, INT, LONG, LIST] = [1, 3, 5, 7];

let broker: TestBroker;
let client: WireClient;

beforeAll(async () => {
  // log.retention.ms differs from the built-in default: the broker reports it as static.
  broker = await startTestBroker({ config: { logRetentionMs: 3_600_000 } });
  client = await WireClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.close();
});

async function createTopic(name: string, numPartitions: number, configs: Record<string, string> = {}) {
  const res = await client.send<CreateTopicsResponse>(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [
        {
          name,
          numPartitions,
          replicationFactor: 1,
          assignments: [],
          configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
        },
      ],
    }),
  );
  expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE);
}

async function produce(topic: string, partition: number, count: number): Promise<void> {
  const res = await client.send<ProduceResponse>(
    ApiKey.Produce,
    9,
    createProduceRequest({
      acks: -1,
      timeoutMs: 5000,
      topicData: [
        {
          name: topic,
          topicId: Buffer.alloc(16),
          partitionData: [
            {
              index: partition,
              records: buildRecordBatch({
                records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`v${i}`) })),
              }),
            },
          ],
        },
      ],
    }),
  );
  expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
}

async function partitionCount(topic: string): Promise<number> {
  const res = await client.send<MetadataResponse>(
    ApiKey.Metadata,
    12,
    createMetadataRequest({
      topics: [{ topicId: Buffer.alloc(16), name: topic }],
      allowAutoTopicCreation: false,
    }),
  );
  return res.topics[0]!.partitions.length;
}

async function earliestOffset(topic: string, partition: number): Promise<bigint> {
  const res = await client.send<ListOffsetsResponse>(
    ApiKey.ListOffsets,
    9,
    createListOffsetsRequest({
      replicaId: -1,
      topics: [
        { name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -2n }] },
      ],
    }),
  );
  return res.topics[0]!.partitions[0]!.offset;
}

describe('CreatePartitions', () => {
  const grow = (
    version: number,
    topics: { name: string; count: number; assignments?: number[][] | null }[],
    validateOnly = false,
  ) =>
    client.send<CreatePartitionsResponse>(
      ApiKey.CreatePartitions,
      version,
      createCreatePartitionsRequest({
        timeoutMs: 5000,
        validateOnly,
        topics: topics.map((t) => ({
          name: t.name,
          count: t.count,
          assignments:
            t.assignments === undefined || t.assignments === null
              ? null
              : t.assignments.map((brokerIds) => ({ brokerIds })),
        })),
      }),
    );

  it('grows a topic at every version; validateOnly changes nothing; new partitions take records', async () => {
    await createTopic('grow', 1);
    const dry = await grow(0, [{ name: 'grow', count: 5 }], true);
    expect(dry.results).toEqual([{ name: 'grow', errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(await partitionCount('grow')).toBe(1);
    for (const v of [0, 1, 2, 3]) {
      const res = await grow(v, [{ name: 'grow', count: v + 2 }]);
      expect(res.results).toEqual([{ name: 'grow', errorCode: ErrorCode.NONE, errorMessage: null }]);
      expect(await partitionCount('grow')).toBe(v + 2);
    }
    // A manual assignment naming this broker.
    const assigned = await grow(3, [{ name: 'grow', count: 7, assignments: [[1], [1]] }]);
    expect(assigned.results[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(await partitionCount('grow')).toBe(7);
    await produce('grow', 6, 2);
    expect(await earliestOffset('grow', 6)).toBe(0n);
  });

  it('refuses shrinking, an unchanged count, unknown topics and a topic named twice', async () => {
    await createTopic('fixed', 3);
    const res = await grow(3, [
      { name: 'fixed', count: 2 },
      { name: 'missing', count: 4 },
      { name: 'twice', count: 4 },
      { name: 'twice', count: 5 },
    ]);
    expect(res.results).toEqual([
      {
        name: 'fixed',
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: 'The topic fixed currently has 3 partition(s); 2 would not be an increase.',
      },
      { name: 'missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null },
      { name: 'twice', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' },
    ]);
    const same = await grow(0, [{ name: 'fixed', count: 3 }]);
    expect(same.results[0]).toEqual({
      name: 'fixed',
      errorCode: ErrorCode.INVALID_PARTITIONS,
      errorMessage: 'Topic already has 3 partition(s).',
    });
    // One request adds at most 10,000 partitions, as Kafka's controller caps one operation.
    const huge = await grow(3, [{ name: 'fixed', count: 10_004 }]);
    expect(huge.results[0]!.errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    expect(await partitionCount('fixed')).toBe(3);
  });

  it('validates manual assignments against this broker, the only one', async () => {
    const cases: [number[][], string][] = [
      [[[1]], 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.'],
      [[[1], [2]], 'The manual partition assignment includes broker 2, but no such broker is registered.'],
      [[[1], [1, 1]], 'The manual partition assignment includes the broker 1 more than once.'],
      [[[1], []], 'The manual partition assignment includes an empty replica list.'],
    ];
    for (const [assignments, message] of cases) {
      const res = await grow(1, [{ name: 'fixed', count: 5, assignments }]);
      expect(res.results[0]).toEqual({
        name: 'fixed',
        errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        errorMessage: message,
      });
    }
    expect(await partitionCount('fixed')).toBe(3);
  });
});

describe('DeleteRecords', () => {
  const deleteBefore = (version: number, topic: string, partitions: [number, bigint][]) =>
    client.send<DeleteRecordsResponse>(
      ApiKey.DeleteRecords,
      version,
      createDeleteRecordsRequest({
        timeoutMs: 5000,
        topics: [
          {
            name: topic,
            partitions: partitions.map(([partitionIndex, offset]) => ({ partitionIndex, offset })),
          },
        ],
      }),
    );

  it('moves the log start offset, -1 meaning the high watermark, never backwards', async () => {
    await createTopic('trim', 2);
    await produce('trim', 0, 10);
    await produce('trim', 1, 3);
    const res = await deleteBefore(0, 'trim', [
      [0, 4n],
      [1, -1n],
    ]);
    expect(res.topics).toEqual([
      {
        name: 'trim',
        partitions: [
          { partitionIndex: 0, lowWatermark: 4n, errorCode: ErrorCode.NONE },
          { partitionIndex: 1, lowWatermark: 3n, errorCode: ErrorCode.NONE },
        ],
      },
    ]);
    expect(await earliestOffset('trim', 0)).toBe(4n);
    expect(await earliestOffset('trim', 1)).toBe(3n);
    // An offset below the log start leaves it and answers it.
    const lower = await deleteBefore(1, 'trim', [[0, 2n]]);
    expect(lower.topics[0]!.partitions[0]).toEqual({ partitionIndex: 0, lowWatermark: 4n, errorCode: 0 });
    const all = await deleteBefore(2, 'trim', [[0, -1n]]);
    expect(all.topics[0]!.partitions[0]).toEqual({ partitionIndex: 0, lowWatermark: 10n, errorCode: 0 });
  });

  it('answers OFFSET_OUT_OF_RANGE past the high watermark or below -1, and the unknown and compacted', async () => {
    await createTopic('keyed', 1, { 'cleanup.policy': 'compact' });
    const res = await deleteBefore(2, 'trim', [
      [0, 11n],
      [1, -5n],
      [2, 0n],
    ]);
    expect(res.topics[0]!.partitions).toEqual([
      { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
      { partitionIndex: 1, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
      { partitionIndex: 2, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
    const unknown = await deleteBefore(0, 'no-such-topic', [[0, 0n]]);
    expect(unknown.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const compacted = await deleteBefore(1, 'keyed', [[0, 0n]]);
    expect(compacted.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    expect(await earliestOffset('trim', 0)).toBe(10n);
  });

  it('wakes no waiting fetch', async () => {
    await createTopic('quiet', 1);
    await produce('quiet', 0, 2);
    const fetcher = await WireClient.connect(broker.port);
    const started = Date.now();
    const waiting = fetcher.send<FetchResponse>(
      ApiKey.Fetch,
      12,
      createFetchRequest({
        replicaId: -1,
        maxWaitMs: 400,
        minBytes: 1,
        maxBytes: 1 << 20,
        sessionEpoch: -1,
        topics: [
          {
            topic: 'quiet',
            topicId: Buffer.alloc(16),
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: 2n,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: 1 << 20,
                replicaDirectoryId: Buffer.alloc(16),
                highWatermark: -1n,
              },
            ],
          },
        ],
      }),
    );
    const deleted = await deleteBefore(2, 'quiet', [[0, -1n]]);
    expect(deleted.topics[0]!.partitions[0]!.lowWatermark).toBe(2n);
    const fetched = await waiting;
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(fetched.responses[0]!.partitions[0]).toMatchObject({
      errorCode: 0,
      highWatermark: 2n,
      logStartOffset: 2n,
    });
    fetcher.close();
  });
});

describe('DescribeConfigs', () => {
  const describeConfigs = (
    version: number,
    resources: { resourceType: number; resourceName: string; configurationKeys?: string[] | null }[],
    include = { synonyms: true, documentation: true },
  ) =>
    client.send<DescribeConfigsResponse>(
      ApiKey.DescribeConfigs,
      version,
      createDescribeConfigsRequest({
        includeSynonyms: include.synonyms,
        includeDocumentation: include.documentation,
        resources: resources.map((r) => ({ configurationKeys: null, ...r })),
      }),
    );
  const byName = (configs: DescribeConfigsResponseDescribeConfigsResourceResult[]) =>
    new Map(configs.map((c) => [c.name, c]));

  it('describes every topic config with value, source, synonyms, type and documentation', async () => {
    await createTopic('described', 1, { 'retention.ms': '1000' });
    const res = await describeConfigs(4, [{ resourceType: TOPIC, resourceName: 'described' }]);
    const [result] = res.results;
    expect(result).toMatchObject({ errorCode: 0, resourceType: TOPIC, resourceName: 'described' });
    const configs = byName(result!.configs);
    expect(configs.size).toBeGreaterThanOrEqual(25);
    expect(configs.get('retention.ms')).toEqual({
      name: 'retention.ms',
      value: '1000',
      readOnly: false,
      configSource: TOPIC_CONFIG,
      isSensitive: false,
      synonyms: [
        { name: 'retention.ms', value: '1000', source: TOPIC_CONFIG },
        { name: 'log.retention.ms', value: '3600000', source: STATIC_BROKER_CONFIG },
        { name: 'log.retention.ms', value: '604800000', source: DEFAULT_CONFIG },
      ],
      configType: LONG,
      documentation: expect.any(String),
    });
    expect(configs.get('cleanup.policy')).toMatchObject({
      value: 'delete',
      configSource: DEFAULT_CONFIG,
      synonyms: [{ name: 'log.cleanup.policy', value: 'delete', source: DEFAULT_CONFIG }],
      configType: LIST,
    });
    // Without a broker synonym a default has an empty chain.
    expect(configs.get('leader.replication.throttled.replicas')).toMatchObject({
      value: '',
      configSource: DEFAULT_CONFIG,
      synonyms: [],
    });
    expect(configs.get('max.message.bytes')).toMatchObject({ value: '1048588', configType: INT });
  });

  it('omits synonyms and documentation unless asked, filters by key, and answers v1-v3', async () => {
    const plain = await describeConfigs(
      4,
      [
        {
          resourceType: TOPIC,
          resourceName: 'described',
          configurationKeys: ['retention.ms', 'no.such.key'],
        },
      ],
      { synonyms: false, documentation: false },
    );
    expect(plain.results[0]!.configs).toEqual([
      {
        name: 'retention.ms',
        value: '1000',
        readOnly: false,
        configSource: TOPIC_CONFIG,
        isSensitive: false,
        synonyms: [],
        configType: LONG,
        documentation: null,
      },
    ]);
    for (const v of [1, 2, 3]) {
      // includeDocumentation exists from v3.
      const res = await describeConfigs(
        v,
        [{ resourceType: TOPIC, resourceName: 'described', configurationKeys: ['retention.ms'] }],
        { synonyms: true, documentation: v >= 3 },
      );
      const [entry] = res.results[0]!.configs;
      expect(entry, `v${v}`).toMatchObject({ value: '1000', configSource: TOPIC_CONFIG });
      expect(entry!.synonyms).toHaveLength(3);
      if (v === 3) expect(entry).toMatchObject({ configType: LONG, documentation: expect.any(String) });
    }
  });

  it('describes this broker by id; the empty name is the cluster default, with no dynamic configs', async () => {
    const res = await describeConfigs(4, [
      { resourceType: BROKER, resourceName: '1' },
      { resourceType: BROKER, resourceName: '' },
    ]);
    const [own, cluster] = res.results;
    expect(own).toMatchObject({ errorCode: 0, resourceType: BROKER, resourceName: '1' });
    const configs = byName(own!.configs);
    for (const name of [
      'node.id',
      'num.partitions',
      'auto.create.topics.enable',
      'message.max.bytes',
      'log.retention.ms',
      'log.retention.bytes',
      'log.segment.bytes',
      'log.message.timestamp.type',
      'advertised.listeners',
      'log.cleanup.policy',
    ])
      expect(configs.get(name), name).toMatchObject({ readOnly: true, isSensitive: false });
    expect(configs.get('log.retention.ms')).toMatchObject({
      value: '3600000',
      configSource: STATIC_BROKER_CONFIG,
      configType: LONG,
      synonyms: [
        { name: 'log.retention.ms', value: '3600000', source: STATIC_BROKER_CONFIG },
        { name: 'log.retention.ms', value: '604800000', source: DEFAULT_CONFIG },
      ],
    });
    expect(configs.get('auto.create.topics.enable')).toMatchObject({
      value: 'true',
      configSource: DEFAULT_CONFIG,
      configType: BOOLEAN,
    });
    expect(configs.get('advertised.listeners')).toMatchObject({
      value: `PLAINTEXT://127.0.0.1:${broker.port}`,
      configSource: STATIC_BROKER_CONFIG,
    });
    expect(cluster).toMatchObject({ errorCode: 0, resourceName: '', configs: [] });
  });

  it('answers errors per resource: other brokers, loggers, unknown and illegal topics, unknown types', async () => {
    const res = await describeConfigs(4, [
      { resourceType: BROKER, resourceName: '2' },
      { resourceType: BROKER, resourceName: 'one' },
      { resourceType: BROKER_LOGGER, resourceName: '1' },
      { resourceType: BROKER_LOGGER, resourceName: '' },
      { resourceType: BROKER_LOGGER, resourceName: '2' },
      { resourceType: TOPIC, resourceName: 'no-such-topic' },
      { resourceType: TOPIC, resourceName: 'bad/name' },
      { resourceType: 99, resourceName: 'x' },
      { resourceType: TOPIC, resourceName: 'described', configurationKeys: ['retention.ms'] },
    ]);
    expect(res.results.map((r) => [r.resourceName, r.errorCode, r.configs.length])).toEqual([
      ['2', ErrorCode.INVALID_REQUEST, 0],
      ['one', ErrorCode.INVALID_REQUEST, 0],
      ['1', ErrorCode.NONE, 0],
      ['', ErrorCode.INVALID_REQUEST, 0],
      ['2', ErrorCode.INVALID_REQUEST, 0],
      ['no-such-topic', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
      ['x', ErrorCode.INVALID_REQUEST, 0],
      ['described', ErrorCode.NONE, 1],
    ]);
    expect(res.results[0]!.errorMessage).toBe(
      'Unexpected broker id, expected 1 or empty string, but received 2',
    );
  });
});

describe('AlterConfigs', () => {
  const alter = (
    version: number,
    resources: { resourceType: number; resourceName: string; configs: [string, string | null][] }[],
    validateOnly = false,
  ) =>
    client.send<AlterConfigsResponse>(
      ApiKey.AlterConfigs,
      version,
      createAlterConfigsRequest({
        validateOnly,
        resources: resources.map((r) => ({
          ...r,
          configs: r.configs.map(([name, value]) => ({ name, value })),
        })),
      }),
    );
  const overrides = async (topic: string) => {
    const res = await client.send<DescribeConfigsResponse>(
      ApiKey.DescribeConfigs,
      4,
      createDescribeConfigsRequest({
        resources: [{ resourceType: TOPIC, resourceName: topic, configurationKeys: null }],
      }),
    );
    return Object.fromEntries(
      res.results[0]!.configs.filter((c) => c.configSource === TOPIC_CONFIG).map((c) => [c.name, c.value]),
    );
  };

  it('replaces the whole override set; validateOnly changes nothing', async () => {
    await createTopic('altered', 1, { 'retention.ms': '1000', 'cleanup.policy': 'compact' });
    const dry = await alter(
      0,
      [{ resourceType: TOPIC, resourceName: 'altered', configs: [['segment.ms', '5000']] }],
      true,
    );
    expect(dry.responses).toEqual([
      { errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'altered' },
    ]);
    expect(await overrides('altered')).toEqual({ 'retention.ms': '1000', 'cleanup.policy': 'compact' });
    for (const v of [0, 1, 2]) {
      const res = await alter(v, [
        { resourceType: TOPIC, resourceName: 'altered', configs: [['segment.ms', String(5000 + v)]] },
      ]);
      expect(res.responses[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(await overrides('altered')).toEqual({ 'segment.ms': String(5000 + v) });
    }
  });

  it('answers INVALID_CONFIG, UNKNOWN_TOPIC_OR_PARTITION and INVALID_REQUEST as Kafka does', async () => {
    const res = await alter(2, [
      { resourceType: TOPIC, resourceName: 'altered', configs: [['no.such.config', '1']] },
      // Values are checked before the topic's existence.
      { resourceType: TOPIC, resourceName: 'ghost-1', configs: [['retention.ms', 'soon']] },
      { resourceType: TOPIC, resourceName: 'ghost-2', configs: [['retention.ms', '1']] },
      { resourceType: TOPIC, resourceName: 'null-value', configs: [['retention.ms', null]] },
      {
        resourceType: TOPIC,
        resourceName: 'dup-key',
        configs: [
          ['retention.ms', '1'],
          ['retention.ms', '2'],
        ],
      },
      { resourceType: TOPIC, resourceName: '', configs: [] },
      { resourceType: BROKER, resourceName: '1', configs: [['message.max.bytes', '2000000']] },
      { resourceType: BROKER, resourceName: '2', configs: [] },
      { resourceType: BROKER_LOGGER, resourceName: '1', configs: [] },
      { resourceType: TOPIC, resourceName: 'altered', configs: [['retention.ms', '1']] },
    ]);
    expect(res.responses.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
      [
        ErrorCode.INVALID_CONFIG,
        'Invalid value soon for configuration retention.ms: must be an integer >= -1',
      ],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'ghost-2' does not exist."],
      [ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
      [ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
      [ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.'],
      [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(message.max.bytes)'],
      [ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 2'],
      [ErrorCode.INVALID_REQUEST, 'Unknown resource type 8'],
      [ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
    ]);
    const unknownName = await alter(0, [
      { resourceType: TOPIC, resourceName: 'altered', configs: [['no.such.config', '1']] },
    ]);
    expect(unknownName.responses[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Unknown topic config name: no.such.config',
    });
    expect(await overrides('altered')).toEqual({ 'segment.ms': '5002' });
  });

  it('accepts an empty change to this broker', async () => {
    const res = await alter(1, [{ resourceType: BROKER, resourceName: '1', configs: [] }]);
    expect(res.responses[0]!.errorCode).toBe(ErrorCode.NONE);
  });
});

describe('IncrementalAlterConfigs', () => {
  const alter = (
    version: number,
    resources: { resourceType: number; resourceName: string; configs: [string, number, string | null][] }[],
    validateOnly = false,
  ) =>
    client.send<IncrementalAlterConfigsResponse>(
      ApiKey.IncrementalAlterConfigs,
      version,
      createIncrementalAlterConfigsRequest({
        validateOnly,
        resources: resources.map((r) => ({
          ...r,
          configs: r.configs.map(([name, configOperation, value]) => ({ name, configOperation, value })),
        })),
      }),
    );
  const value = async (topic: string, key: string) => {
    const res = await client.send<DescribeConfigsResponse>(
      ApiKey.DescribeConfigs,
      4,
      createDescribeConfigsRequest({
        resources: [{ resourceType: TOPIC, resourceName: topic, configurationKeys: [key] }],
      }),
    );
    const [c] = res.results[0]!.configs;
    return [c!.value, c!.configSource];
  };

  it('sets, deletes, appends to and subtracts from list configs, at v0 and v1', async () => {
    await createTopic('incremental', 1);
    const topic = (configs: [string, number, string | null][]) => [
      { resourceType: TOPIC, resourceName: 'incremental', configs },
    ];
    expect((await alter(0, topic([['retention.ms', SET, '2000']]))).responses[0]!.errorCode).toBe(0);
    expect(await value('incremental', 'retention.ms')).toEqual(['2000', TOPIC_CONFIG]);
    // APPEND starts from the default when the topic has no override.
    expect((await alter(1, topic([['cleanup.policy', APPEND, 'compact']]))).responses[0]!.errorCode).toBe(0);
    expect(await value('incremental', 'cleanup.policy')).toEqual(['delete,compact', TOPIC_CONFIG]);
    expect((await alter(1, topic([['cleanup.policy', SUBTRACT, 'delete']]))).responses[0]!.errorCode).toBe(0);
    expect(await value('incremental', 'cleanup.policy')).toEqual(['compact', TOPIC_CONFIG]);
    // Other overrides survive an incremental change.
    expect(await value('incremental', 'retention.ms')).toEqual(['2000', TOPIC_CONFIG]);
    const dry = await alter(1, topic([['retention.ms', DELETE, null]]), true);
    expect(dry.responses[0]).toEqual({
      errorCode: 0,
      errorMessage: null,
      resourceType: TOPIC,
      resourceName: 'incremental',
    });
    expect(await value('incremental', 'retention.ms')).toEqual(['2000', TOPIC_CONFIG]);
    expect((await alter(0, topic([['retention.ms', DELETE, null]]))).responses[0]!.errorCode).toBe(0);
    expect(await value('incremental', 'retention.ms')).toEqual(['3600000', STATIC_BROKER_CONFIG]);
    // Deleting what is not set, even an unknown name, succeeds.
    expect((await alter(1, topic([['no.such.config', DELETE, null]]))).responses[0]!.errorCode).toBe(0);
  });

  it("answers each operation error with Kafka's code", async () => {
    const topic = (name: string, configs: [string, number, string | null][]) => ({
      resourceType: TOPIC,
      resourceName: name,
      configs,
    });
    const res = await alter(1, [
      topic('incremental', [['segment.ms', APPEND, '1']]),
      topic('a1', [['no.such.config', SET, '1']]),
      topic('a2', [['retention.ms', SET, null]]),
      topic('a3', [['retention.ms', 7, '1']]),
      topic('no-such-topic', [['retention.ms', SET, '1']]),
      topic('a4', [['cleanup.policy', SET, 'tidy']]),
      { resourceType: BROKER, resourceName: '1', configs: [['log.retention.ms', SET, '1']] },
      { resourceType: BROKER, resourceName: '', configs: [['log.retention.ms', DELETE, null]] },
      { resourceType: BROKER_LOGGER, resourceName: '1', configs: [['kafka', SET, 'DEBUG']] },
      { resourceType: BROKER_LOGGER, resourceName: '7', configs: [] },
    ]);
    expect(res.responses.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_CONFIG, "Can't APPEND to key segment.ms because its type is not LIST."],
      [ErrorCode.INVALID_CONFIG, 'Unknown topic config name: no.such.config'],
      [ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
      [ErrorCode.INVALID_REQUEST, 'Unknown operations type 7'],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'no-such-topic' does not exist."],
      [
        ErrorCode.INVALID_CONFIG,
        'Invalid value tidy for configuration cleanup.policy: must be delete, compact or both',
      ],
      [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(log.retention.ms)'],
      [ErrorCode.NONE, null],
      [ErrorCode.INVALID_CONFIG, 'Logger kafka does not exist!'],
      [ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 7'],
    ]);
    const append = await alter(0, [
      { resourceType: BROKER_LOGGER, resourceName: '1', configs: [['kafka', APPEND, 'DEBUG']] },
    ]);
    expect(append.responses[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'APPEND operation is not allowed for the BROKER_LOGGER resource',
    });
  });
});

describe('DescribeCluster', () => {
  it('describes this broker as the whole cluster at v0-v2', async () => {
    const meta = await client.send<MetadataResponse>(
      ApiKey.Metadata,
      12,
      createMetadataRequest({ topics: [] }),
    );
    for (const v of [0, 1, 2]) {
      const res = await client.send<DescribeClusterResponse>(
        ApiKey.DescribeCluster,
        v,
        createDescribeClusterRequest({
          includeClusterAuthorizedOperations: v === 1,
          includeFencedBrokers: v === 2,
        }),
      );
      expect(res, `v${v}`).toMatchObject({
        errorCode: 0,
        errorMessage: null,
        endpointType: 1,
        clusterId: meta.clusterId,
        controllerId: 1,
        brokers: [{ brokerId: 1, host: '127.0.0.1', port: broker.port, rack: null, isFenced: false }],
      });
      if (v === 1) expect(res.clusterAuthorizedOperations).toBeGreaterThan(0);
      else expect(res.clusterAuthorizedOperations).toBe(-2147483648);
    }
  });

  it('refuses the controller endpoint type and unknown ones', async () => {
    const ask = (endpointType: number) =>
      client.send<DescribeClusterResponse>(
        ApiKey.DescribeCluster,
        1,
        createDescribeClusterRequest({ endpointType }),
      );
    expect(await ask(2)).toMatchObject({
      errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE,
      errorMessage:
        'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
      brokers: [],
    });
    expect(await ask(3)).toMatchObject({
      errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: 'Unsupported endpoint type 3',
    });
  });
});

describe('DescribeTopicPartitions', () => {
  const describeTopics = (
    topics: string[],
    responsePartitionLimit = 2000,
    cursor: { topicName: string; partitionIndex: number } | null = null,
  ) =>
    client.send<DescribeTopicPartitionsResponse>(
      ApiKey.DescribeTopicPartitions,
      0,
      createDescribeTopicPartitionsRequest({
        topics: topics.map((name) => ({ name })),
        responsePartitionLimit,
        cursor,
      }),
    );
  const summary = (res: DescribeTopicPartitionsResponse) =>
    res.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]);

  beforeAll(async () => {
    await createTopic('page-a', 3);
    await createTopic('page-b', 2);
    await createTopic('page-c', 1);
  });

  it('pages through topics in name order with a cursor', async () => {
    const names = ['page-c', 'page-a', 'page-b', 'page-zz-missing'];
    const first = await describeTopics(names, 4);
    expect(summary(first)).toEqual([
      ['page-a', 0, [0, 1, 2]],
      ['page-b', 0, [0]],
    ]);
    expect(first.nextCursor).toEqual({ topicName: 'page-b', partitionIndex: 1 });
    const second = await describeTopics(names, 4, first.nextCursor);
    expect(summary(second)).toEqual([
      ['page-b', 0, [1]],
      ['page-c', 0, [0]],
      ['page-zz-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
    ]);
    expect(second.nextCursor).toBeNull();
    // A page that fills at a topic boundary points at the next topic's first partition.
    const boundary = await describeTopics(names, 3);
    expect(summary(boundary)).toEqual([['page-a', 0, [0, 1, 2]]]);
    expect(boundary.nextCursor).toEqual({ topicName: 'page-b', partitionIndex: 0 });
    const [a] = first.topics;
    expect(a!.topicId.equals(Buffer.alloc(16))).toBe(false);
    expect(a!.partitions[0]).toEqual({
      errorCode: 0,
      partitionIndex: 0,
      leaderId: 1,
      leaderEpoch: 0,
      replicaNodes: [1],
      isrNodes: [1],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: [],
    });
  });

  it('describes every topic when none is named, and treats a limit below 1 as 1', async () => {
    const all = await describeTopics([]);
    const names = all.topics.map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c']));
    expect(all.nextCursor).toBeNull();
    const one = await describeTopics(['page-a'], 0);
    expect(summary(one)).toEqual([['page-a', 0, [0]]]);
    expect(one.nextCursor).toEqual({ topicName: 'page-a', partitionIndex: 1 });
  });

  it('answers INVALID_REQUEST for a cursor outside the topics, INVALID_TOPIC_EXCEPTION for an illegal name', async () => {
    const outside = await describeTopics(['page-a', 'page-b'], 10, {
      topicName: 'page-c',
      partitionIndex: 0,
    });
    expect(summary(outside)).toEqual([
      ['page-a', ErrorCode.INVALID_REQUEST, []],
      ['page-b', ErrorCode.INVALID_REQUEST, []],
    ]);
    const negative = await describeTopics(['page-a'], 10, { topicName: 'page-a', partitionIndex: -1 });
    expect(summary(negative)).toEqual([['page-a', ErrorCode.INVALID_REQUEST, []]]);
    const illegal = await describeTopics(['bad/name']);
    expect(summary(illegal)).toEqual([['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, []]]);
  });
});

describe('OffsetForLeaderEpoch', () => {
  const endOffsets = (version: number, topic: string, partitions: [number, number, number][]) =>
    client.send<OffsetForLeaderEpochResponse>(
      ApiKey.OffsetForLeaderEpoch,
      version,
      createOffsetForLeaderEpochRequest({
        replicaId: -1,
        topics: [
          {
            topic,
            partitions: partitions.map(([partition, currentLeaderEpoch, leaderEpoch]) => ({
              partition,
              currentLeaderEpoch,
              leaderEpoch,
            })),
          },
        ],
      }),
    );

  it('ends epoch 0 at the high watermark, knows no later epoch, and fences by current epoch, v2-v4', async () => {
    await createTopic('epochs', 1);
    await produce('epochs', 0, 5);
    for (const v of [2, 3, 4]) {
      const res = await endOffsets(v, 'epochs', [
        [0, 0, 0],
        [0, -1, 0],
        [0, -1, 3],
        [0, -1, -1],
        [0, 1, 0],
        [0, -2, 0],
        [1, -1, 0],
      ]);
      expect(res.topics[0]!.partitions, `v${v}`).toEqual([
        { errorCode: 0, partition: 0, leaderEpoch: 0, endOffset: 5n },
        { errorCode: 0, partition: 0, leaderEpoch: 0, endOffset: 5n },
        { errorCode: 0, partition: 0, leaderEpoch: -1, endOffset: -1n },
        { errorCode: 0, partition: 0, leaderEpoch: -1, endOffset: -1n },
        { errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, partition: 0, leaderEpoch: -1, endOffset: -1n },
        { errorCode: ErrorCode.FENCED_LEADER_EPOCH, partition: 0, leaderEpoch: -1, endOffset: -1n },
        { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: 1, leaderEpoch: -1, endOffset: -1n },
      ]);
    }
    const unknown = await endOffsets(4, 'no-such-topic', [[0, -1, 0]]);
    expect(unknown.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('DescribeLogDirs', () => {
  it("reports one log dir with each partition's size, v1-v5", async () => {
    await createTopic('sized', 2);
    await produce('sized', 1, 4);
    for (const v of [1, 2, 3, 4, 5]) {
      const all = await client.send<DescribeLogDirsResponse>(
        ApiKey.DescribeLogDirs,
        v,
        createDescribeLogDirsRequest({ topics: null }),
      );
      expect(all.errorCode).toBe(0);
      expect(all.results).toHaveLength(1);
      const [dir] = all.results;
      expect(dir).toMatchObject({ errorCode: 0, logDir: 'memory', totalBytes: -1n, usableBytes: -1n });
      const sized = dir!.topics.find((t) => t.name === 'sized')!;
      expect(sized.partitions.map((p) => p.partitionIndex)).toEqual([0, 1]);
      expect(sized.partitions[0]).toEqual({
        partitionIndex: 0,
        partitionSize: 0n,
        offsetLag: 0n,
        isFutureKey: false,
      });
      expect(sized.partitions[1]!.partitionSize).toBeGreaterThan(0n);
    }
    // Named partitions only; unknown topics and partitions are left out.
    const named = await client.send<DescribeLogDirsResponse>(
      ApiKey.DescribeLogDirs,
      4,
      createDescribeLogDirsRequest({
        topics: [
          { topic: 'sized', partitions: [1, 9] },
          { topic: 'no-such-topic', partitions: [0] },
        ],
      }),
    );
    expect(named.results[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])).toEqual([
      ['sized', [1]],
    ]);
  });
});
