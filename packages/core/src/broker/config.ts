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
    ...overrides,
  };
}
