// JoinGroup request of a consumer subscribed to five topics, offering two assignors. KafkaJS speaks
// JoinGroup up to v5, @platformatic/kafka from v6; Tributary is measured at both. Encoding
// includes building each protocol's subscription (consumer protocol v0) and decoding includes
// reading it back, as a client does on join and a group leader does on assignment.
import {
  type ConsumerProtocolSubscription,
  decodeJoinGroupRequest,
  encodeJoinGroupRequest,
  type JoinGroupRequest,
  readConsumerProtocolSubscription,
  Reader as TributaryReader,
} from '@tributary/codec';
import type { Case, Implementation } from '../case.js';
import {
  encodeSubscription,
  joinGroupRequest,
  PROTOCOL_NAMES,
  SUBSCRIBED_TOPICS,
  subscription,
} from '../fixtures.js';
import { Decoder, joinGroupV5Request, type KafkaJsDecoder, MemberMetadata } from '../libs/kafkajs.js';
import { joinGroupV6, Reader, Writer } from '../libs/platformatic.js';

const KAFKAJS_VERSION = 5;
const PLATFORMATIC_VERSION = 6;
const SUBSCRIPTION_VERSION = 0;

interface Content {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; subscription: { version: number; topics: string[]; userData: Buffer | null } }[];
}

interface TributaryJoin {
  request: JoinGroupRequest;
  subscriptions: { version: number; subscription: ConsumerProtocolSubscription }[];
}

function decodeSubscription(metadata: Buffer): {
  version: number;
  subscription: ConsumerProtocolSubscription;
} {
  const r = new TributaryReader(metadata);
  const version = r.int16();
  return { version, subscription: readConsumerProtocolSubscription(r, version) };
}

function fromTributary({ request, subscriptions }: TributaryJoin): Content {
  return {
    groupId: request.groupId,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    protocolType: request.protocolType,
    protocols: request.protocols.map((p, i) => ({
      name: p.name,
      subscription: {
        version: subscriptions[i]!.version,
        topics: subscriptions[i]!.subscription.topics,
        userData: subscriptions[i]!.subscription.userData,
      },
    })),
  };
}

function decodeTributary(bytes: Buffer, version: number): TributaryJoin {
  const request = decodeJoinGroupRequest(bytes, version);
  return { request, subscriptions: request.protocols.map((p) => decodeSubscription(p.metadata)) };
}

interface KafkaJsJoin {
  groupId: string;
  sessionTimeout: number;
  rebalanceTimeout: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  groupProtocols: { name: string; metadata: { version: number; topics: string[]; userData: Buffer } }[];
}

interface PlatformaticJoin {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: { version: number; topics: string[]; metadata: Buffer } }[];
}

export function joinGroupCase(): Case {
  const message = joinGroupRequest();
  const wire = new Map([
    [KAFKAJS_VERSION, encodeJoinGroupRequest(message, KAFKAJS_VERSION)],
    [PLATFORMATIC_VERSION, encodeJoinGroupRequest(message, PLATFORMATIC_VERSION)],
  ]);
  const sub = subscription();

  const tributaryAt = (version: number): Implementation => {
    const bytes = wire.get(version)!;
    return {
      library: 'Tributary',
      version,
      encodeVia: 'generated',
      decodeVia: 'generated',
      encode: () => {
        const protocols = PROTOCOL_NAMES.map((name) => ({
          name,
          metadata: encodeSubscription(sub, SUBSCRIPTION_VERSION),
        }));
        return encodeJoinGroupRequest({ ...message, protocols }, version);
      },
      decode: () => decodeTributary(bytes, version),
      content: (d) => fromTributary(d as TributaryJoin),
    };
  };

  const userData = Buffer.alloc(0);
  const kafkajsWire = wire.get(KAFKAJS_VERSION)!;
  const kafkajs: Implementation = {
    library: 'KafkaJS',
    version: KAFKAJS_VERSION,
    encodeVia: 'shipped',
    decodeVia: 'primitives',
    encode: async () => {
      const request = joinGroupV5Request({
        groupId: message.groupId,
        sessionTimeout: message.sessionTimeoutMs,
        rebalanceTimeout: message.rebalanceTimeoutMs,
        memberId: message.memberId,
        groupInstanceId: message.groupInstanceId,
        protocolType: message.protocolType,
        groupProtocols: PROTOCOL_NAMES.map((name) => ({
          name,
          metadata: MemberMetadata.encode({
            version: SUBSCRIPTION_VERSION,
            topics: SUBSCRIBED_TOPICS,
            userData,
          }),
        })),
      });
      return (await request.encode()).buffer;
    },
    decode: () => {
      const d = new Decoder(kafkajsWire);
      return {
        groupId: d.readString(),
        sessionTimeout: d.readInt32(),
        rebalanceTimeout: d.readInt32(),
        memberId: d.readString(),
        groupInstanceId: d.readString(),
        protocolType: d.readString(),
        groupProtocols: d.readArray((d: KafkaJsDecoder) => ({
          name: d.readString(),
          metadata: MemberMetadata.decode(d.readBytes()!),
        })),
      };
    },
    content: (d) => {
      const m = d as KafkaJsJoin;
      return {
        groupId: m.groupId,
        sessionTimeoutMs: m.sessionTimeout,
        rebalanceTimeoutMs: m.rebalanceTimeout,
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        protocolType: m.protocolType,
        protocols: m.groupProtocols.map((p) => ({
          name: p.name,
          subscription: {
            version: p.metadata.version,
            topics: p.metadata.topics,
            userData: p.metadata.userData,
          },
        })),
      } satisfies Content;
    },
  };

  // @platformatic/kafka builds a subscription in a private method of its consumer; this is the same
  // sequence of Writer calls, and the same Reader calls to read one back.
  const encodePlatformaticSubscription = (topics: string[], metadata: Buffer): Buffer =>
    Writer.create()
      .appendInt16(SUBSCRIPTION_VERSION)
      .appendArray(topics, (w, t) => w.appendString(t, false), false, false)
      .appendBytes(metadata, false).buffer;
  const decodePlatformaticSubscription = (buffer: Buffer) => {
    const reader = Reader.from(buffer);
    return {
      version: reader.readInt16(),
      topics: reader.readArray((r) => r.readString(false), false, false),
      metadata: reader.readBytes(false),
    };
  };
  const platformaticWire = wire.get(PLATFORMATIC_VERSION)!;
  const platformatic: Implementation = {
    library: '@platformatic/kafka',
    version: PLATFORMATIC_VERSION,
    encodeVia: 'shipped',
    decodeVia: 'primitives',
    encode: () =>
      joinGroupV6.createRequest(
        message.groupId,
        message.sessionTimeoutMs,
        message.rebalanceTimeoutMs,
        message.memberId,
        message.groupInstanceId,
        message.protocolType,
        PROTOCOL_NAMES.map((name) => ({
          name,
          metadata: encodePlatformaticSubscription(SUBSCRIBED_TOPICS, userData),
        })),
        null,
      ).buffer,
    decode: () => {
      const reader = Reader.from(platformaticWire);
      const request: PlatformaticJoin = {
        groupId: reader.readString(),
        sessionTimeoutMs: reader.readInt32(),
        rebalanceTimeoutMs: reader.readInt32(),
        memberId: reader.readString(),
        groupInstanceId: reader.readNullableString(),
        protocolType: reader.readString(),
        protocols: reader.readArray((r) => ({
          name: r.readString(),
          metadata: decodePlatformaticSubscription(r.readBytes()),
        })),
      };
      reader.readTaggedFields();
      return request;
    },
    content: (d) => {
      const m = d as PlatformaticJoin;
      return {
        groupId: m.groupId,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        protocolType: m.protocolType,
        protocols: m.protocols.map((p) => ({
          name: p.name,
          subscription: {
            version: p.metadata.version,
            topics: p.metadata.topics,
            userData: p.metadata.metadata,
          },
        })),
      } satisfies Content;
    },
  };

  return {
    id: 'join-group',
    title: 'JoinGroup request, consumer protocol (5 topics, 2 assignors)',
    dataHeavy: false,
    wire,
    judge: (bytes, v) => fromTributary(decodeTributary(bytes, v)),
    implementations: [tributaryAt(KAFKAJS_VERSION), kafkajs, tributaryAt(PLATFORMATIC_VERSION), platformatic],
  };
}
