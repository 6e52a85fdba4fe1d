// The content every library moves in the benchmark, built once. Record batches are produced by
// KafkaJS's batch writer (magic 2, no compression, valid CRC) and then treated as opaque bytes.
import type {
  ConsumerProtocolSubscription,
  FetchResponse,
  JoinGroupRequest,
  MetadataResponse,
  ProduceRequest,
} from '@tributary/codec';
import {
  createConsumerProtocolSubscription,
  createFetchResponse,
  createFetchResponseFetchableTopicResponse,
  createFetchResponsePartitionData,
  createJoinGroupRequest,
  createJoinGroupRequestProtocol,
  createMetadataResponse,
  createMetadataResponseBroker,
  createMetadataResponsePartition,
  createMetadataResponseTopic,
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  sizeConsumerProtocolSubscription,
  Writer,
  writeConsumerProtocolSubscription,
} from '@tributary/codec';
import { type KafkaJsMessage, Record, RecordBatch } from './libs/kafkajs.js';

export const TOPIC = 'orders';
export const PARTITIONS = 4;
export const RECORDS_PER_BATCH = 256;
export const KEY_BYTES = 16;
export const VALUE_BYTES = 1000;
export const BASE_TIMESTAMP = 1_700_000_000_000;

/** Deterministic filler so every run moves the same bytes (xorshift32). */
function pseudoRandomBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** The records one partition carries: RECORDS_PER_BATCH messages of a 16-byte key and 1000-byte value. */
export function partitionMessages(partition: number): KafkaJsMessage[] {
  const messages: KafkaJsMessage[] = [];
  for (let i = 0; i < RECORDS_PER_BATCH; i++) {
    const seed = partition * 100_003 + i + 1;
    messages.push({
      key: pseudoRandomBytes(KEY_BYTES, seed),
      value: pseudoRandomBytes(VALUE_BYTES, seed * 7919),
      timestamp: BASE_TIMESTAMP + i,
    });
  }
  return messages;
}

/** One record batch per partition, about 256 KiB each: about 1 MiB in all. */
export async function buildRecordBatches(): Promise<Buffer[]> {
  const batches: Buffer[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const messages = partitionMessages(p);
    const records = messages.map((m, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: (m.timestamp ?? BASE_TIMESTAMP) - BASE_TIMESTAMP,
        key: m.key,
        value: m.value,
      }),
    );
    const batch = await RecordBatch({
      records,
      firstTimestamp: BASE_TIMESTAMP,
      maxTimestamp: BASE_TIMESTAMP + RECORDS_PER_BATCH - 1,
      lastOffsetDelta: RECORDS_PER_BATCH - 1,
    });
    batches.push(Buffer.from(batch.buffer));
  }
  return batches;
}

export function produceRequest(batches: readonly Buffer[]): ProduceRequest {
  return createProduceRequest({
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [
      createProduceRequestTopicProduceData({
        name: TOPIC,
        partitionData: batches.map((records, index) =>
          createProduceRequestPartitionProduceData({ index, records }),
        ),
      }),
    ],
  });
}

export function fetchResponse(batches: readonly Buffer[]): FetchResponse {
  return createFetchResponse({
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 1_234_567,
    responses: [
      createFetchResponseFetchableTopicResponse({
        topic: TOPIC,
        partitions: batches.map((records, partitionIndex) =>
          createFetchResponsePartitionData({
            partitionIndex,
            errorCode: 0,
            highWatermark: 1_000_000n + BigInt(partitionIndex),
            lastStableOffset: 1_000_000n + BigInt(partitionIndex),
            logStartOffset: 0n,
            abortedTransactions: [],
            preferredReadReplica: -1,
            records,
          }),
        ),
      }),
    ],
  });
}

export const METADATA_TOPICS = 100;
export const METADATA_PARTITIONS_PER_TOPIC = 10;
export const METADATA_BROKERS = 3;

/**
 * 100 topics x 10 partitions over 3 brokers, replication factor 3. Fields a version lacks stay at
 * their defaults (leader epoch before v7, authorized operations before v8) so one message serves
 * every version compared.
 */
export function metadataResponse(version: number): MetadataResponse {
  const brokers = [];
  for (let nodeId = 0; nodeId < METADATA_BROKERS; nodeId++)
    brokers.push(
      createMetadataResponseBroker({
        nodeId,
        host: `broker-${nodeId}.kafka.internal`,
        port: 9092,
        rack: `rack-${String.fromCharCode(97 + nodeId)}`,
      }),
    );
  const topics = [];
  for (let t = 0; t < METADATA_TOPICS; t++) {
    const partitions = [];
    for (let p = 0; p < METADATA_PARTITIONS_PER_TOPIC; p++) {
      const leader = (t + p) % METADATA_BROKERS;
      const replicas = [leader, (leader + 1) % METADATA_BROKERS, (leader + 2) % METADATA_BROKERS];
      partitions.push(
        createMetadataResponsePartition({
          errorCode: 0,
          partitionIndex: p,
          leaderId: leader,
          leaderEpoch: version >= 7 ? 5 + p : -1,
          replicaNodes: replicas,
          isrNodes: [...replicas],
          offlineReplicas: [],
        }),
      );
    }
    topics.push(
      createMetadataResponseTopic({
        errorCode: 0,
        name: `service-${String(t).padStart(3, '0')}.events`,
        isInternal: false,
        partitions,
        topicAuthorizedOperations: version >= 8 ? 0x0ff8 : -2147483648,
      }),
    );
  }
  return createMetadataResponse({
    throttleTimeMs: 0,
    brokers,
    clusterId: 'kRcN7yD3Qm2vJ0xW5bT9aA',
    controllerId: 1,
    topics,
  });
}

export const SUBSCRIBED_TOPICS = ['orders', 'payments', 'shipments', 'refunds', 'inventory'];
export const PROTOCOL_NAMES = ['cooperative-sticky', 'range'];

/** The consumer protocol subscription (v0: topics and user data) each protocol carries. */
export function subscription(): ConsumerProtocolSubscription {
  return createConsumerProtocolSubscription({ topics: [...SUBSCRIBED_TOPICS], userData: Buffer.alloc(0) });
}

/** Kafka's consumer protocol frames a subscription as an int16 version followed by its body. */
export function encodeSubscription(s: ConsumerProtocolSubscription, version: number): Buffer {
  const w = Writer.alloc(2 + sizeConsumerProtocolSubscription(s, version));
  w.int16(version);
  writeConsumerProtocolSubscription(w, s, version);
  return w.buf;
}

export const GROUP_ID = 'payments-settlement';
export const MEMBER_ID = 'consumer-payments-settlement-1-4b8f2c1e-6d3a-4f7e-9a51-0c2d7e8b3f64';

export function joinGroupRequest(): JoinGroupRequest {
  return createJoinGroupRequest({
    groupId: GROUP_ID,
    sessionTimeoutMs: 45_000,
    rebalanceTimeoutMs: 300_000,
    memberId: MEMBER_ID,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: PROTOCOL_NAMES.map((name) =>
      createJoinGroupRequestProtocol({ name, metadata: encodeSubscription(subscription(), 0) }),
    ),
  });
}
