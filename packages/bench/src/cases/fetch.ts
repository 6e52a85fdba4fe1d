// Fetch response carrying four ~256 KiB record batches. KafkaJS speaks Fetch up to v11 and
// @platformatic/kafka from v12, so Tributary is measured at both. Records stay opaque bytes in
// every library's object model; the record-level decoders the clients ship are measured apart
// (see context.ts).
import {
  ApiKey,
  decodeFetchResponse,
  decodeResponseFrame,
  encodeFetchResponse,
  encodeResponseFrame,
  encodeResponseFrameChunks,
  type FetchResponse,
  FetchResponseDescriptor,
} from '@tributary/codec';
import { type Case, CORRELATION_ID, type Implementation, i64 } from '../case.js';
import { fetchResponse } from '../fixtures.js';
import { Decoder, Encoder, type KafkaJsDecoder } from '../libs/kafkajs.js';
import { Reader, Writer } from '../libs/platformatic.js';

const KAFKAJS_VERSION = 11;
const PLATFORMATIC_VERSION = 12;

interface Content {
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  topics: {
    topic: string;
    partitions: {
      partitionIndex: number;
      errorCode: number;
      highWatermark: string;
      lastStableOffset: string;
      logStartOffset: string;
      abortedTransactions: { producerId: string; firstOffset: string }[];
      preferredReadReplica: number;
      records: Buffer | null;
    }[];
  }[];
}

function fromTributary(m: FetchResponse): Content {
  return {
    throttleTimeMs: m.throttleTimeMs,
    errorCode: m.errorCode,
    sessionId: m.sessionId,
    topics: m.responses.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: p.errorCode,
        highWatermark: i64(p.highWatermark),
        lastStableOffset: i64(p.lastStableOffset),
        logStartOffset: i64(p.logStartOffset),
        abortedTransactions: (p.abortedTransactions ?? []).map((a) => ({
          producerId: i64(a.producerId),
          firstOffset: i64(a.firstOffset),
        })),
        preferredReadReplica: p.preferredReadReplica,
        records: p.records,
      })),
    })),
  };
}

// KafkaJS's fetch v11 response model, with int64 fields as decimal strings as its decoder returns
// them; `records` is where its decoder puts `messages`.
interface KafkaJsFetch {
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
      records: Buffer | null;
    }[];
  }[];
}

// @platformatic/kafka's fetch-v12 response model (int64 as bigint), records left as bytes.
interface PlatformaticFetch {
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  responses: {
    topicId: string;
    partitions: {
      partitionIndex: number;
      errorCode: number;
      highWatermark: bigint;
      lastStableOffset: bigint;
      logStartOffset: bigint;
      abortedTransactions: { producerId: bigint; firstOffset: bigint }[];
      preferredReadReplica: number;
      records: Buffer | null;
    }[];
  }[];
}

export function fetchCase(batches: readonly Buffer[]): Case {
  const message = fetchResponse(batches);
  const wire = new Map([
    [KAFKAJS_VERSION, encodeFetchResponse(message, KAFKAJS_VERSION)],
    [PLATFORMATIC_VERSION, encodeFetchResponse(message, PLATFORMATIC_VERSION)],
  ]);
  const content = fromTributary(message);

  const tributaryAt = (version: number): Implementation => {
    const bytes = wire.get(version)!;
    return {
      library: 'Tributary',
      version,
      encodeVia: 'generated',
      decodeVia: 'generated',
      encode: () => encodeFetchResponse(message, version),
      // What the broker hands to socket.writev: records referenced, not copied.
      encodeFrame: () => encodeResponseFrameChunks(FetchResponseDescriptor, version, CORRELATION_ID, message),
      frameVia: 'generated',
      decode: () => decodeFetchResponse(bytes, version),
      content: (d) => fromTributary(d as FetchResponse),
    };
  };

  const kjs: KafkaJsFetch = {
    throttleTime: 0,
    clientSideThrottleTime: content.throttleTimeMs,
    errorCode: content.errorCode,
    sessionId: content.sessionId,
    responses: content.topics.map((t) => ({
      topicName: t.topic,
      partitions: t.partitions.map((p) => ({
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        highWatermark: p.highWatermark,
        lastStableOffset: p.lastStableOffset,
        lastStartOffset: p.logStartOffset,
        abortedTransactions: p.abortedTransactions,
        preferredReadReplica: p.preferredReadReplica,
        records: p.records,
      })),
    })),
  };
  const kafkajsBody = () =>
    new Encoder()
      .writeInt32(kjs.clientSideThrottleTime)
      .writeInt16(kjs.errorCode)
      .writeInt32(kjs.sessionId)
      .writeArray(
        kjs.responses.map((t) =>
          new Encoder().writeString(t.topicName).writeArray(
            t.partitions.map((p) =>
              new Encoder()
                .writeInt32(p.partition)
                .writeInt16(p.errorCode)
                .writeInt64(p.highWatermark)
                .writeInt64(p.lastStableOffset)
                .writeInt64(p.lastStartOffset)
                .writeArray(
                  p.abortedTransactions.map((a) =>
                    new Encoder().writeInt64(a.producerId).writeInt64(a.firstOffset),
                  ),
                )
                .writeInt32(p.preferredReadReplica)
                .writeBytes(p.records),
            ),
          ),
        ),
      );
  const kafkajsWire = wire.get(KAFKAJS_VERSION)!;
  const kafkajs: Implementation = {
    library: 'KafkaJS',
    version: KAFKAJS_VERSION,
    encodeVia: 'primitives',
    // KafkaJS's fetch v11 decoder, line for line, except that the record set is kept as bytes
    // instead of being handed to its record batch decoder.
    decodeVia: 'primitives',
    encode: () => kafkajsBody().buffer,
    // A client writes no responses: framed as KafkaJS frames its requests (protocol/request.js),
    // a header encoder taking a copy of the body and a frame encoder a copy of both.
    encodeFrame: () => {
      const response = new Encoder().writeInt32(CORRELATION_ID).writeEncoder(kafkajsBody());
      return new Encoder().writeInt32(response.size()).writeEncoder(response).buffer;
    },
    frameVia: 'primitives',
    decode: () => {
      const d = new Decoder(kafkajsWire);
      const clientSideThrottleTime = d.readInt32();
      const errorCode = d.readInt16();
      const sessionId = d.readInt32();
      const responses = d.readArray((d: KafkaJsDecoder) => ({
        topicName: d.readString(),
        partitions: d.readArray((d: KafkaJsDecoder) => ({
          partition: d.readInt32(),
          errorCode: d.readInt16(),
          highWatermark: d.readInt64().toString(),
          lastStableOffset: d.readInt64().toString(),
          lastStartOffset: d.readInt64().toString(),
          abortedTransactions: d.readArray((d: KafkaJsDecoder) => ({
            producerId: d.readInt64().toString(),
            firstOffset: d.readInt64().toString(),
          })),
          preferredReadReplica: d.readInt32(),
          records: d.readBytes(),
        })),
      }));
      return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses };
    },
    content: (d) => {
      const m = d as KafkaJsFetch;
      return {
        throttleTimeMs: m.clientSideThrottleTime,
        errorCode: m.errorCode,
        sessionId: m.sessionId,
        topics: m.responses.map((t) => ({
          topic: t.topicName,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition,
            errorCode: p.errorCode,
            highWatermark: p.highWatermark,
            lastStableOffset: p.lastStableOffset,
            logStartOffset: p.lastStartOffset,
            abortedTransactions: p.abortedTransactions,
            preferredReadReplica: p.preferredReadReplica,
            records: p.records,
          })),
        })),
      } satisfies Content;
    },
  };

  const plt: PlatformaticFetch = {
    throttleTimeMs: message.throttleTimeMs,
    errorCode: message.errorCode,
    sessionId: message.sessionId,
    responses: message.responses.map((t) => ({
      topicId: t.topic,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: p.errorCode,
        highWatermark: p.highWatermark,
        lastStableOffset: p.lastStableOffset,
        logStartOffset: p.logStartOffset,
        abortedTransactions: (p.abortedTransactions ?? []).map((a) => ({
          producerId: a.producerId,
          firstOffset: a.firstOffset,
        })),
        preferredReadReplica: p.preferredReadReplica,
        records: p.records,
      })),
    })),
  };
  const platformaticBody = () =>
    Writer.create()
      .appendInt32(plt.throttleTimeMs)
      .appendInt16(plt.errorCode)
      .appendInt32(plt.sessionId)
      .appendArray(plt.responses, (w, t) => {
        w.appendString(t.topicId).appendArray(t.partitions, (w, p) => {
          w.appendInt32(p.partitionIndex)
            .appendInt16(p.errorCode)
            .appendInt64(p.highWatermark)
            .appendInt64(p.lastStableOffset)
            .appendInt64(p.logStartOffset)
            .appendArray(p.abortedTransactions, (w, a) => {
              w.appendInt64(a.producerId).appendInt64(a.firstOffset);
            })
            .appendInt32(p.preferredReadReplica)
            .appendBytes(p.records);
        });
      })
      .appendTaggedFields();
  const platformaticWire = wire.get(PLATFORMATIC_VERSION)!;
  const platformatic: Implementation = {
    library: '@platformatic/kafka',
    version: PLATFORMATIC_VERSION,
    encodeVia: 'primitives',
    // fetch-v12 parseResponse, line for line, except that the records are kept as bytes instead
    // of being handed to readRecordsBatches.
    decodeVia: 'primitives',
    encode: () => platformaticBody().buffer,
    // A client writes no responses: framed as its connection frames requests, the header written,
    // the body's buffer list appended, the length prepended and the list joined into one Buffer.
    encodeFrame: () =>
      Writer.create()
        .appendInt32(CORRELATION_ID)
        .appendTaggedFields()
        .appendFrom(platformaticBody())
        .prependLength().buffer,
    frameVia: 'primitives',
    decode: () => {
      const reader = Reader.from(platformaticWire);
      const errors: [string, [number, null]][] = [];
      const throttleTimeMs = reader.readInt32();
      const errorCode = reader.readInt16();
      if (errorCode !== 0) errors.push(['/', [errorCode, null]]);
      const response: PlatformaticFetch = {
        throttleTimeMs,
        errorCode,
        sessionId: reader.readInt32(),
        responses: reader.readArray((r, i) => ({
          topicId: r.readString(),
          partitions: r.readArray((r, j) => {
            const partition = {
              partitionIndex: r.readInt32(),
              errorCode: r.readInt16(),
              highWatermark: r.readInt64(),
              lastStableOffset: r.readInt64(),
              logStartOffset: r.readInt64(),
              abortedTransactions: r.readArray((r) => ({
                producerId: r.readInt64(),
                firstOffset: r.readInt64(),
              })),
              preferredReadReplica: r.readInt32(),
              records: r.readNullableBytes(),
            };
            if (partition.errorCode !== 0)
              errors.push([`/responses/${i}/partitions/${j}`, [partition.errorCode, null]]);
            return partition;
          }),
        })),
      };
      if (errors.length) throw new Error(`fetch response carries errors: ${JSON.stringify(errors)}`);
      return response;
    },
    content: (d) => {
      const m = d as PlatformaticFetch;
      return {
        throttleTimeMs: m.throttleTimeMs,
        errorCode: m.errorCode,
        sessionId: m.sessionId,
        topics: m.responses.map((t) => ({
          topic: t.topicId,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: p.errorCode,
            highWatermark: i64(p.highWatermark),
            lastStableOffset: i64(p.lastStableOffset),
            logStartOffset: i64(p.logStartOffset),
            abortedTransactions: p.abortedTransactions.map((a) => ({
              producerId: i64(a.producerId),
              firstOffset: i64(a.firstOffset),
            })),
            preferredReadReplica: p.preferredReadReplica,
            records: p.records,
          })),
        })),
      } satisfies Content;
    },
  };

  return {
    id: 'fetch',
    title: 'Fetch response, 1 MiB of records (1 topic, 4 partitions)',
    dataHeavy: true,
    wire,
    judge: (bytes, v) => fromTributary(decodeFetchResponse(bytes, v)),
    implementations: [tributaryAt(KAFKAJS_VERSION), kafkajs, tributaryAt(PLATFORMATIC_VERSION), platformatic],
    frame: {
      wire: new Map(
        [KAFKAJS_VERSION, PLATFORMATIC_VERSION].map((v) => [
          v,
          encodeResponseFrame(FetchResponseDescriptor, v, CORRELATION_ID, message),
        ]),
      ),
      judge: (frame, v) => {
        if (frame.readInt32BE(0) !== frame.length - 4) throw new Error('wrong frame size prefix');
        const { correlationId, body } = decodeResponseFrame<FetchResponse>(
          frame.subarray(4),
          ApiKey.Fetch,
          v,
        );
        if (correlationId !== CORRELATION_ID) throw new Error(`wrong correlation id ${correlationId}`);
        return fromTributary(body);
      },
    },
  };
}
