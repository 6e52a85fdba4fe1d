// Metadata response: 100 topics x 10 partitions, 3 brokers, replicas and ISR of 3. KafkaJS speaks
// Metadata up to v6, @platformatic/kafka from v9; Tributary is measured at both. Both clients ship
// decoders for these versions; encoders are built from their primitives.
import { decodeMetadataResponse, encodeMetadataResponse, type MetadataResponse } from '@tributary/codec';
import type { Case, Implementation } from '../case.js';
import { metadataResponse } from '../fixtures.js';
import { Encoder, type KafkaJsMetadataResponseV6, metadataV6Response } from '../libs/kafkajs.js';
import { metadataV9, Reader, Writer } from '../libs/platformatic.js';

const KAFKAJS_VERSION = 6;
const PLATFORMATIC_VERSION = 9;

interface Content {
  throttleTimeMs: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string | null;
  controllerId: number;
  topics: {
    errorCode: number;
    name: string | null;
    isInternal: boolean;
    /** Versions 8+. */
    topicAuthorizedOperations?: number;
    partitions: {
      errorCode: number;
      partitionIndex: number;
      leaderId: number;
      /** Versions 7+. */
      leaderEpoch?: number;
      replicaNodes: number[];
      isrNodes: number[];
      offlineReplicas: number[];
    }[];
  }[];
}

function fromTributary(m: MetadataResponse, v: number): Content {
  return {
    throttleTimeMs: m.throttleTimeMs,
    brokers: m.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    clusterId: m.clusterId,
    controllerId: m.controllerId,
    topics: m.topics.map((t) => ({
      errorCode: t.errorCode,
      name: t.name,
      isInternal: t.isInternal,
      ...(v >= 8 ? { topicAuthorizedOperations: t.topicAuthorizedOperations } : {}),
      partitions: t.partitions.map((p) => ({
        errorCode: p.errorCode,
        partitionIndex: p.partitionIndex,
        leaderId: p.leaderId,
        ...(v >= 7 ? { leaderEpoch: p.leaderEpoch } : {}),
        replicaNodes: p.replicaNodes,
        isrNodes: p.isrNodes,
        offlineReplicas: p.offlineReplicas,
      })),
    })),
  };
}

type PlatformaticMetadata = ReturnType<typeof metadataV9.parseResponse>;

export function metadataCase(): Case {
  const atKafkaJs = metadataResponse(KAFKAJS_VERSION);
  const atPlatformatic = metadataResponse(PLATFORMATIC_VERSION);
  const wire = new Map([
    [KAFKAJS_VERSION, encodeMetadataResponse(atKafkaJs, KAFKAJS_VERSION)],
    [PLATFORMATIC_VERSION, encodeMetadataResponse(atPlatformatic, PLATFORMATIC_VERSION)],
  ]);

  const tributaryAt = (version: number, message: MetadataResponse): Implementation => {
    const bytes = wire.get(version)!;
    return {
      library: 'Tributary',
      version,
      encodeVia: 'generated',
      decodeVia: 'generated',
      encode: () => encodeMetadataResponse(message, version),
      decode: () => decodeMetadataResponse(bytes, version),
      content: (d) => fromTributary(d as MetadataResponse, version),
    };
  };

  const kjs: KafkaJsMetadataResponseV6 = {
    throttleTime: 0,
    clientSideThrottleTime: atKafkaJs.throttleTimeMs,
    brokers: atKafkaJs.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    clusterId: atKafkaJs.clusterId,
    controllerId: atKafkaJs.controllerId,
    topicMetadata: atKafkaJs.topics.map((t) => ({
      topicErrorCode: t.errorCode,
      topic: t.name ?? '',
      isInternal: t.isInternal,
      partitionMetadata: t.partitions.map((p) => ({
        partitionErrorCode: p.errorCode,
        partitionId: p.partitionIndex,
        leader: p.leaderId,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
        offlineReplicas: p.offlineReplicas,
      })),
    })),
  };
  const kafkajsWire = wire.get(KAFKAJS_VERSION)!;
  const kafkajs: Implementation = {
    library: 'KafkaJS',
    version: KAFKAJS_VERSION,
    encodeVia: 'primitives',
    decodeVia: 'shipped',
    encode: () =>
      new Encoder()
        .writeInt32(kjs.clientSideThrottleTime)
        .writeArray(
          kjs.brokers.map((b) =>
            new Encoder().writeInt32(b.nodeId).writeString(b.host).writeInt32(b.port).writeString(b.rack),
          ),
        )
        .writeString(kjs.clusterId)
        .writeInt32(kjs.controllerId)
        .writeArray(
          kjs.topicMetadata.map((t) =>
            new Encoder()
              .writeInt16(t.topicErrorCode)
              .writeString(t.topic)
              .writeBoolean(t.isInternal)
              .writeArray(
                t.partitionMetadata.map((p) =>
                  new Encoder()
                    .writeInt16(p.partitionErrorCode)
                    .writeInt32(p.partitionId)
                    .writeInt32(p.leader)
                    .writeArray(p.replicas)
                    .writeArray(p.isr)
                    .writeArray(p.offlineReplicas),
                ),
              ),
          ),
        ).buffer,
    decode: () => metadataV6Response.decode(kafkajsWire),
    content: (d) => {
      const m = d as KafkaJsMetadataResponseV6;
      return {
        throttleTimeMs: m.clientSideThrottleTime,
        brokers: m.brokers,
        clusterId: m.clusterId,
        controllerId: m.controllerId,
        topics: m.topicMetadata.map((t) => ({
          errorCode: t.topicErrorCode,
          name: t.topic,
          isInternal: t.isInternal,
          partitions: t.partitionMetadata.map((p) => ({
            errorCode: p.partitionErrorCode,
            partitionIndex: p.partitionId,
            leaderId: p.leader,
            replicaNodes: p.replicas,
            isrNodes: p.isr,
            offlineReplicas: p.offlineReplicas,
          })),
        })),
      } satisfies Content;
    },
  };

  const plt: PlatformaticMetadata & { clusterAuthorizedOperations: number } = {
    throttleTimeMs: atPlatformatic.throttleTimeMs,
    brokers: atPlatformatic.brokers.map((b) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
    })),
    clusterId: atPlatformatic.clusterId,
    controllerId: atPlatformatic.controllerId,
    topics: atPlatformatic.topics.map((t) => ({
      errorCode: t.errorCode,
      name: t.name,
      topicId: t.name ?? '',
      isInternal: t.isInternal,
      partitions: t.partitions.map((p) => ({
        errorCode: p.errorCode,
        partitionIndex: p.partitionIndex,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: p.replicaNodes,
        isrNodes: p.isrNodes,
        offlineReplicas: p.offlineReplicas,
      })),
      topicAuthorizedOperations: t.topicAuthorizedOperations,
    })),
    clusterAuthorizedOperations: atPlatformatic.clusterAuthorizedOperations,
  };
  const platformaticWire = wire.get(PLATFORMATIC_VERSION)!;
  const platformatic: Implementation = {
    library: '@platformatic/kafka',
    version: PLATFORMATIC_VERSION,
    encodeVia: 'primitives',
    decodeVia: 'shipped',
    encode: () =>
      Writer.create()
        .appendInt32(plt.throttleTimeMs)
        .appendArray(plt.brokers, (w, b) => {
          w.appendInt32(b.nodeId).appendString(b.host).appendInt32(b.port).appendString(b.rack);
        })
        .appendString(plt.clusterId)
        .appendInt32(plt.controllerId)
        .appendArray(plt.topics, (w, t) => {
          w.appendInt16(t.errorCode)
            .appendString(t.name)
            .appendBoolean(t.isInternal)
            .appendArray(t.partitions, (w, p) => {
              w.appendInt16(p.errorCode)
                .appendInt32(p.partitionIndex)
                .appendInt32(p.leaderId)
                .appendInt32(p.leaderEpoch)
                .appendArray(p.replicaNodes, (w, n) => w.appendInt32(n), true, false)
                .appendArray(p.isrNodes, (w, n) => w.appendInt32(n), true, false)
                .appendArray(p.offlineReplicas, (w, n) => w.appendInt32(n), true, false);
            })
            .appendInt32(t.topicAuthorizedOperations);
        })
        .appendInt32(plt.clusterAuthorizedOperations)
        .appendTaggedFields().buffer,
    decode: () => metadataV9.parseResponse(0, 3, PLATFORMATIC_VERSION, Reader.from(platformaticWire)),
    content: (d) => {
      const m = d as PlatformaticMetadata;
      return {
        throttleTimeMs: m.throttleTimeMs,
        brokers: m.brokers.map((b) => ({
          nodeId: b.nodeId,
          host: b.host,
          port: b.port,
          rack: b.rack ?? null,
        })),
        clusterId: m.clusterId ?? null,
        controllerId: m.controllerId,
        topics: m.topics.map((t) => ({
          errorCode: t.errorCode,
          name: t.name ?? null,
          isInternal: t.isInternal,
          topicAuthorizedOperations: t.topicAuthorizedOperations,
          partitions: t.partitions.map((p) => ({
            errorCode: p.errorCode,
            partitionIndex: p.partitionIndex,
            leaderId: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicaNodes: p.replicaNodes,
            isrNodes: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
          })),
        })),
      } satisfies Content;
    },
  };

  return {
    id: 'metadata',
    title: 'Metadata response, 1,000 partitions (100 topics x 10, 3 brokers)',
    dataHeavy: false,
    wire,
    judge: (bytes, v) => fromTributary(decodeMetadataResponse(bytes, v), v),
    implementations: [
      tributaryAt(KAFKAJS_VERSION, atKafkaJs),
      kafkajs,
      tributaryAt(PLATFORMATIC_VERSION, atPlatformatic),
      platformatic,
    ],
  };
}
