// Produce request v7 (the one version all three speak) carrying four ~256 KiB record batches. The
// batches are encoded once beforehand: every library moves the same opaque 1 MiB of records.
import {
  ApiKey,
  decodeProduceRequest,
  decodeRequestBody,
  encodeProduceRequest,
  encodeRequestFrame,
  encodeRequestFrameChunks,
  type ProduceRequest,
  ProduceRequestDescriptor,
  parseRequestHeader,
} from '@tributary/codec';
import { type Case, CLIENT_ID, CORRELATION_ID, type Implementation } from '../case.js';
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
    // What the broker's client side hands to socket.writev: records referenced, not copied.
    encodeFrame: () =>
      encodeRequestFrameChunks(ProduceRequestDescriptor, VERSION, CORRELATION_ID, CLIENT_ID, message),
    frameVia: 'generated',
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
  const kafkajsBody = () =>
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
      );
  const kafkajs: Implementation = {
    library: 'KafkaJS',
    version: VERSION,
    encodeVia: 'primitives',
    decodeVia: 'primitives',
    encode: () => kafkajsBody().buffer,
    // KafkaJS's request framing (protocol/request.js), made synchronous: the header encoder takes a
    // copy of the body, the frame encoder a copy of both, and the connection writes that buffer.
    encodeFrame: () => {
      const request = new Encoder()
        .writeInt16(ApiKey.Produce)
        .writeInt16(VERSION)
        .writeInt32(CORRELATION_ID)
        .writeString(CLIENT_ID)
        .writeEncoder(kafkajsBody());
      return new Encoder().writeInt32(request.size()).writeEncoder(request).buffer;
    },
    frameVia: 'shipped',
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
  const platformaticBody = () =>
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
      );
  const platformatic: Implementation = {
    library: '@platformatic/kafka',
    version: VERSION,
    encodeVia: 'primitives',
    decodeVia: 'primitives',
    encode: () => platformaticBody().buffer,
    // Its connection's send(): header, then the body's buffer list appended, the length prepended,
    // and `writer.buffer` (one Buffer, the list joined) handed to socket.write.
    encodeFrame: () =>
      Writer.create()
        .appendInt16(ApiKey.Produce)
        .appendInt16(VERSION)
        .appendInt32(CORRELATION_ID)
        .appendString(CLIENT_ID, false)
        .appendFrom(platformaticBody())
        .prependLength().buffer,
    frameVia: 'shipped',
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
    frame: {
      wire: new Map([
        [VERSION, encodeRequestFrame(ProduceRequestDescriptor, VERSION, CORRELATION_ID, CLIENT_ID, message)],
      ]),
      judge: (frame, v) => {
        if (frame.readInt32BE(0) !== frame.length - 4) throw new Error('wrong frame size prefix');
        const body = frame.subarray(4);
        const h = parseRequestHeader(body);
        if (h.apiKey !== ApiKey.Produce || h.apiVersion !== v || h.correlationId !== CORRELATION_ID)
          throw new Error(`wrong request header ${JSON.stringify(h)}`);
        if (h.clientId !== CLIENT_ID) throw new Error(`wrong client id ${h.clientId}`);
        return fromTributary(decodeRequestBody<ProduceRequest>(body, h));
      },
    },
  };
}
