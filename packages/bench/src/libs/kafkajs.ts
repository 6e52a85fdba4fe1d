// KafkaJS ships its protocol code as untyped CommonJS under kafkajs/src/protocol. These are the
// pieces the benchmark calls, loaded by path and given the narrow types the bench relies on.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const load = <T>(path: string): T => require(`kafkajs/src/protocol/${path}`) as T;

/** KafkaJS's growable write buffer: every write method returns the encoder for chaining. */
export interface KafkaJsEncoder {
  readonly buffer: Buffer;
  size(): number;
  writeInt8(v: number): KafkaJsEncoder;
  writeInt16(v: number): KafkaJsEncoder;
  writeInt32(v: number): KafkaJsEncoder;
  writeInt64(v: string | number | bigint): KafkaJsEncoder;
  writeBoolean(v: boolean): KafkaJsEncoder;
  writeString(v: string | null): KafkaJsEncoder;
  writeBytes(v: Buffer | null): KafkaJsEncoder;
  writeBuffer(v: Buffer): KafkaJsEncoder;
  writeEncoder(v: KafkaJsEncoder): KafkaJsEncoder;
  /** Untyped arrays write numbers as int32, strings as strings and encoders as their bytes. */
  writeArray(
    a: readonly (number | string | KafkaJsEncoder)[],
    type?: 'int32' | 'string' | 'object',
  ): KafkaJsEncoder;
}

export interface KafkaJsDecoder {
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  /** int64 as a bigint; KafkaJS's response decoders turn it into a decimal string. */
  readInt64(): bigint;
  readBoolean(): boolean;
  readString(): string | null;
  readBytes(): Buffer | null;
  readArray<T>(reader: (d: KafkaJsDecoder) => T): T[];
  readArrayAsync<T>(reader: (d: KafkaJsDecoder) => Promise<T>): Promise<T[]>;
}

/** A built request: `encode()` resolves to the body's encoder (the header is added by the connection). */
export interface KafkaJsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<KafkaJsEncoder>;
}

export interface KafkaJsMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
  headers?: Record<string, Buffer>;
}

export interface KafkaJsProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  topicData: { topic: string; partitions: { partition: number; messages: KafkaJsMessage[] }[] }[];
}

export interface KafkaJsJoinGroupArgs {
  groupId: string;
  sessionTimeout: number;
  rebalanceTimeout: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  groupProtocols: { name: string; metadata: Buffer }[];
}

export interface KafkaJsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

export interface KafkaJsFetchResponseV11 {
  throttleTime: number;
  clientSideThrottleTime: number;
  errorCode: number;
  sessionId: number;
  responses: {
    topicName: string;
    partitions: {
      partition: number;
      errorCode: number;
      highWatermark: string;
      lastStableOffset: string;
      lastStartOffset: string;
      abortedTransactions: { producerId: string; firstOffset: string }[];
      preferredReadReplica: number;
      messages: KafkaJsRecord[];
    }[];
  }[];
}

export interface KafkaJsMetadataResponseV6 {
  throttleTime: number;
  clientSideThrottleTime: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string | null;
  controllerId: number;
  topicMetadata: {
    topicErrorCode: number;
    topic: string;
    isInternal: boolean;
    partitionMetadata: {
      partitionErrorCode: number;
      partitionId: number;
      leader: number;
      replicas: number[];
      isr: number[];
      offlineReplicas: number[];
    }[];
  }[];
}

export interface KafkaJsMemberMetadata {
  version: number;
  topics: string[];
  userData: Buffer;
}

export const Encoder = load<new (initialSize?: number) => KafkaJsEncoder>('encoder');
export const Decoder = load<new (buf: Buffer) => KafkaJsDecoder>('decoder');

export const produceV7Request = load<(args: KafkaJsProduceArgs) => KafkaJsRequest>(
  'requests/produce/v7/request',
);
export const joinGroupV5Request = load<(args: KafkaJsJoinGroupArgs) => KafkaJsRequest>(
  'requests/joinGroup/v5/request',
);
export const fetchV11Response = load<{ decode(buf: Buffer): Promise<KafkaJsFetchResponseV11> }>(
  'requests/fetch/v11/response',
);
export const metadataV6Response = load<{ decode(buf: Buffer): Promise<KafkaJsMetadataResponseV6> }>(
  'requests/metadata/v6/response',
);

/** The consumer protocol's subscription (version, topics, user data), as KafkaJS's assigners build it. */
export const MemberMetadata = (
  require('kafkajs/src/consumer/assignerProtocol') as {
    MemberMetadata: {
      encode(m: { version: number; topics: string[]; userData?: Buffer }): Buffer;
      decode(buf: Buffer): KafkaJsMemberMetadata;
    };
  }
).MemberMetadata;

/** KafkaJS's record batch (magic 2) writer, used here only to build the fixture batches once. */
export const RecordBatch = load<{
  RecordBatch(args: {
    records: KafkaJsEncoder[];
    firstTimestamp: number;
    maxTimestamp: number;
    lastOffsetDelta: number;
    firstOffset?: unknown;
  }): Promise<KafkaJsEncoder>;
}>('recordBatch/v0').RecordBatch;
export const Record =
  load<
    (r: {
      offsetDelta: number;
      timestampDelta: number;
      key: Buffer | null;
      value: Buffer | null;
    }) => KafkaJsEncoder
  >('recordBatch/record/v0');

export const kafkaJsVersion = (require('kafkajs/package.json') as { version: string }).version;
