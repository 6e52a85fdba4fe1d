// Produce request v7 (the one version all three speak) carrying four ~256 KiB record batches. The
// batches are encoded once beforehand: every library moves the same opaque 1 MiB of records.
import { decodeProduceRequest, encodeProduceRequest, type ProduceRequest } from '@tributary/codec';
import type { Case, Implementation } from '../case.js';
import { produceRequest } from '../fixtures.js';
import { Decoder, Encoder, type KafkaJsDecoder } from '../libs/kafkajs.js';
import { Reader, Writer } from '../libs/platformatic.js';

const VERSION = 7;

interface Content {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: { index: number; records: Buffer | null }[] }[];
}

function fromTributary(m: ProduceRequest): Content {
  return {
    transactionalId: m.transactionalId,
    acks: m.acks,
    timeoutMs: m.timeoutMs,
    topics: m.topicData.map((t) => ({
      name: t.name,
      partitions: t.partitionData.map((p) => ({ index: p.index, records: p.records })),
    })),
  };
}

// KafkaJS's produce request shape: the fields its request builder takes, with each partition's
// record set already encoded.
interface KafkaJsProduce {
  transactionalId: string | null;
  acks: number;
  timeout: number;
  topicData: { topic: string; partitions: { partition: number; recordSet: Buffer | null }[] }[];
}

// @platformatic/kafka names fields as Kafka's spec does.
interface PlatformaticProduce {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
}

export function produceCase(batches: readonly Buffer[]): Case {
  const message = produceRequest(batches);
  const wire = encodeProduceRequest(message, VERSION);

  const tributary: Implementation = {
    library: 'Tributary',
    version: VERSION,
    encodeVia: 'generated',
    decodeVia: 'generated',
    encode: () => encodeProduceRequest(message, VERSION),
    decode: () => decodeProduceRequest(wire, VERSION),
    content: (d) => fromTributary(d as ProduceRequest),
  };

  // KafkaJS builds its produce request from messages; with the record set given as bytes, its
  // v3-v7 request is exactly this: nested encoders, the record set written after its int32 size.
  const kjs: KafkaJsProduce = {
    transactionalId: message.transactionalId,
    acks: message.acks,
    timeout: message.timeoutMs,
    topicData: message.topicData.map((t) => ({
      topic: t.name,
      partitions: t.partitionData.map((p) => ({ partition: p.index, recordSet: p.records })),
    })),
  };
  const kafkajs: Implementation = {
    library: 'KafkaJS',
    version: VERSION,
    encodeVia: 'primitives',
    decodeVia: 'primitives',
    encode: () =>
      new Encoder()
        .writeString(kjs.transactionalId)
        .writeInt16(kjs.acks)
        .writeInt32(kjs.timeout)
        .writeArray(
          kjs.topicData.map((t) =>
            new Encoder()
              .writeString(t.topic)
              .writeArray(
                t.partitions.map((p) => new Encoder().writeInt32(p.partition).writeBytes(p.recordSet)),
              ),
          ),
        ).buffer,
    decode: () => {
      const d = new Decoder(wire);
      return {
        transactionalId: d.readString(),
        acks: d.readInt16(),
        timeout: d.readInt32(),
        topicData: d.readArray((d: KafkaJsDecoder) => ({
          topic: d.readString(),
          partitions: d.readArray((d: KafkaJsDecoder) => ({
            partition: d.readInt32(),
            recordSet: d.readBytes(),
          })),
        })),
      };
    },
    content: (d) => {
      const m = d as KafkaJsProduce;
      return {
        transactionalId: m.transactionalId,
        acks: m.acks,
        timeoutMs: m.timeout,
        topics: m.topicData.map((t) => ({
          name: t.topic,
          partitions: t.partitions.map((p) => ({ index: p.partition, records: p.recordSet })),
        })),
      } satisfies Content;
    },
  };

  // @platformatic/kafka's produce-v7 createRequest with the batch it would build passed in as bytes.
  const plt: PlatformaticProduce = {
    transactionalId: message.transactionalId,
    acks: message.acks,
    timeoutMs: message.timeoutMs,
    topicData: message.topicData.map((t) => ({
      name: t.name,
      partitionData: t.partitionData.map((p) => ({ index: p.index, records: p.records })),
    })),
  };
  const platformatic: Implementation = {
    library: '@platformatic/kafka',
    version: VERSION,
    encodeVia: 'primitives',
    decodeVia: 'primitives',
    encode: () =>
      Writer.create()
        .appendString(plt.transactionalId, false)
        .appendInt16(plt.acks)
        .appendInt32(plt.timeoutMs)
        .appendArray(
          plt.topicData,
          (w, t) => {
            w.appendString(t.name, false).appendArray(
              t.partitionData,
              (w, p) => {
                w.appendInt32(p.index).appendBytes(p.records, false);
              },
              false,
              false,
            );
          },
          false,
          false,
        ).buffer,
    decode: () => {
      const r = Reader.from(wire);
      return {
        transactionalId: r.readNullableString(false),
        acks: r.readInt16(),
        timeoutMs: r.readInt32(),
        topicData: r.readArray(
          (r) => ({
            name: r.readString(false),
            partitionData: r.readArray(
              (r) => ({ index: r.readInt32(), records: r.readNullableBytes(false) }),
              false,
              false,
            ),
          }),
          false,
          false,
        ),
      } satisfies PlatformaticProduce;
    },
    content: (d) => {
      const m = d as PlatformaticProduce;
      return {
        transactionalId: m.transactionalId,
        acks: m.acks,
        timeoutMs: m.timeoutMs,
        topics: m.topicData.map((t) => ({
          name: t.name,
          partitions: t.partitionData.map((p) => ({ index: p.index, records: p.records })),
        })),
      } satisfies Content;
    },
  };

  return {
    id: 'produce',
    title: 'Produce request, 1 MiB of records (1 topic, 4 partitions)',
    dataHeavy: true,
    wire: new Map([[VERSION, wire]]),
    judge: (bytes, v) => fromTributary(decodeProduceRequest(bytes, v)),
    implementations: [tributary, kafkajs, platformatic],
  };
}
