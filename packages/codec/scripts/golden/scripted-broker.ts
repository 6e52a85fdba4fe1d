// A scripted single-node broker for capturing golden request bytes from real clients. It answers
// just enough of the protocol, with our codec, for a client to get through a short script (connect,
// create a topic, produce, consume in a group, commit, leave), and records every request frame it
// receives exactly as it arrived. It is not a broker: no persistence, one member per group, no
// fetch sessions, no quotas, and it trusts whatever it is sent.
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { type IrField, type IrVersions, MESSAGES } from '../../src/generated/ir.js';
import * as codec from '../../src/index.js';
import {
  API_TABLE,
  type CreateTopicsRequest,
  createApiVersionsResponse,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicResult,
  createDeleteTopicsResponse,
  createDeleteTopicsResponseDeletableTopicResult,
  createFetchResponse,
  createFetchResponseFetchableTopicResponse,
  createFetchResponsePartitionData,
  createFindCoordinatorResponse,
  createFindCoordinatorResponseCoordinator,
  createHeartbeatResponse,
  createInitProducerIdResponse,
  createJoinGroupResponse,
  createJoinGroupResponseMember,
  createLeaveGroupResponse,
  createLeaveGroupResponseMemberResponse,
  createListOffsetsResponse,
  createListOffsetsResponseListOffsetsPartitionResponse,
  createListOffsetsResponseListOffsetsTopicResponse,
  createMetadataResponse,
  createMetadataResponseBroker,
  createMetadataResponsePartition,
  createMetadataResponseTopic,
  createOffsetCommitResponse,
  createOffsetCommitResponsePartition,
  createOffsetCommitResponseTopic,
  createOffsetFetchResponse,
  createOffsetFetchResponseGroup,
  createOffsetFetchResponsePartition,
  createOffsetFetchResponsePartitions,
  createOffsetFetchResponseTopic,
  createOffsetFetchResponseTopics,
  createOffsetForLeaderEpochResponse,
  createOffsetForLeaderEpochResponseEpochEndOffset,
  createOffsetForLeaderEpochResponseOffsetForLeaderTopicResult,
  createProduceResponse,
  createProduceResponsePartitionProduceResponse,
  createProduceResponseTopicProduceResponse,
  createSyncGroupResponse,
  type DeleteTopicsRequest,
  decodeRequestBody,
  ErrorCode,
  encodeResponseFrame,
  type FetchRequest,
  type FindCoordinatorRequest,
  FrameSplitter,
  type JoinGroupRequest,
  type LeaveGroupRequest,
  type ListOffsetsRequest,
  type MetadataRequest,
  type OffsetCommitRequest,
  type OffsetFetchRequest,
  type OffsetForLeaderEpochRequest,
  type ParsedRequestHeader,
  type ProduceRequest,
  parseRequestHeader,
  type SyncGroupRequest,
} from '../../src/index.js';

export const NODE_ID = 1;
const CLUSTER_ID = 'tributary-golden';
const DEFAULT_PARTITIONS = 3;
/** The longest a Fetch with nothing to return is held, whatever the client asked for. */
const MAX_FETCH_WAIT_MS = 250;
/** Bounds memory when a client loops on a request (reconnecting after an error, say). */
const MAX_RECORDED_FRAMES = 5000;

/** The APIs this broker answers; ApiVersions advertises only these. */
export const ANSWERED_API_KEYS: readonly number[] = [
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18, 19, 20, 22, 23,
];

export interface CapturedFrame {
  /** The request frame without its size prefix, copied out of the socket's chunk. */
  frame: Buffer;
  apiKey: number;
  apiVersion: number;
  connection: number;
}

interface StoredBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  bytes: Buffer;
}

interface PartitionLog {
  batches: StoredBatch[];
  highWatermark: bigint;
}

interface Topic {
  name: string;
  id: Buffer;
  partitions: PartitionLog[];
}

interface Group {
  generation: number;
  protocolType: string | null;
  protocolName: string | null;
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
  assignment: Buffer;
  /** Committed offsets by `${topic}\u0000${partition}`. */
  offsets: Map<string, { offset: bigint; leaderEpoch: number; metadata: string | null }>;
}

interface Connection {
  id: number;
  port: number;
}

type Answer = unknown | null;

const inRange = (r: IrVersions | undefined, v: number) => r != null && v >= r[0] && v <= r[1];
const STRUCTS = new Map<string, readonly IrField[]>(
  MESSAGES.filter((m) => m.type === 'response').flatMap((m) => Object.entries(m.structs)),
);

/**
 * The handlers fill every field they know; the encoder refuses a non-default value in a field the
 * version lacks, as Kafka's does. So before encoding, each field outside the response's version is
 * put back to its default (and a null where the version cannot carry one), walking nested structs.
 */
function fitToVersion(typeName: string, value: Record<string, unknown>, v: number): Record<string, unknown> {
  const fields = STRUCTS.get(typeName);
  if (fields === undefined) return value;
  const create = (codec as unknown as Record<string, unknown>)[`create${typeName}`] as () => Record<
    string,
    unknown
  >;
  const defaults = create();
  const out: Record<string, unknown> = { ...value };
  for (const f of fields) {
    const present = inRange(f.versions, v) && (f.tag === null || inRange(f.taggedVersions, v));
    if (!present || (out[f.prop] === null && !inRange(f.nullableVersions, v))) {
      out[f.prop] = defaults[f.prop];
      continue;
    }
    if (!f.struct) continue;
    const inner = f.type.replace(/^\[\]/, '');
    const x = out[f.prop];
    if (Array.isArray(x)) out[f.prop] = x.map((e) => fitToVersion(inner, e as Record<string, unknown>, v));
    else if (x !== null && typeof x === 'object')
      out[f.prop] = fitToVersion(inner, x as Record<string, unknown>, v);
  }
  return out;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Topic ids derived from the name, so fixtures that carry one stay the same from capture to capture. */
function topicIdOf(name: string): Buffer {
  return createHash('sha256').update(`tributary-golden:${name}`).digest().subarray(0, 16);
}

export class ScriptedBroker {
  /** The first MAX_RECORDED_FRAMES request frames, in arrival order. */
  readonly frames: CapturedFrame[] = [];
  /** Every request frame received, recorded or not. */
  received = 0;
  /** Requests the broker could not parse or answer, for the capture report. */
  readonly problems: string[] = [];
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private nextConnection = 0;
  private nextMember = 0;
  private nextProducerId = 1000n;
  private stopped = false;
  port = 0;

  async start(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    this.port = address.port;
    return this.port;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const connection: Connection = { id: this.nextConnection++, port: this.port };
    const splitter = new FrameSplitter(16 * 1024 * 1024);
    // Kafka answers a connection's requests in the order they arrived: one chain per connection.
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = splitter.push(chunk);
      } catch (e) {
        this.problems.push(`connection ${connection.id}: ${(e as Error).message}`);
        socket.destroy();
        return;
      }
      for (const f of frames) {
        const frame = Buffer.from(f);
        chain = chain.then(() => this.serve(socket, connection, frame));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private async serve(socket: Socket, connection: Connection, frame: Buffer): Promise<void> {
    if (this.stopped || socket.destroyed) return;
    const apiKey = frame.length >= 4 ? frame.readInt16BE(0) : -1;
    const apiVersion = frame.length >= 4 ? frame.readInt16BE(2) : -1;
    this.received += 1;
    if (this.frames.length < MAX_RECORDED_FRAMES)
      this.frames.push({ frame, apiKey, apiVersion, connection: connection.id });
    let header: ParsedRequestHeader;
    try {
      header = parseRequestHeader(frame);
    } catch (e) {
      this.problems.push(`API ${apiKey} v${apiVersion}: header: ${(e as Error).message}`);
      socket.destroy();
      return;
    }
    const api = API_TABLE[apiKey];
    try {
      if (apiKey === 18 && (api === undefined || apiVersion > api.maxVersion)) {
        // A newer ApiVersions than ours is answered at v0, so the client can retry at one we know.
        this.reply(socket, 18, 0, header.correlationId, this.apiVersions(ErrorCode.UNSUPPORTED_VERSION));
        return;
      }
      if (api === undefined || !ANSWERED_API_KEYS.includes(apiKey) || apiVersion < api.minVersion) {
        this.problems.push(`API ${apiKey} v${apiVersion}: not answered, connection closed`);
        socket.destroy();
        return;
      }
      const body = decodeRequestBody(frame, header);
      const answer = await this.answer(header, body, connection);
      if (answer === null || socket.destroyed) return;
      this.reply(socket, apiKey, apiVersion, header.correlationId, answer);
    } catch (e) {
      this.problems.push(`${api?.name ?? apiKey} v${apiVersion}: ${(e as Error).message}`);
      socket.destroy();
    }
  }

  private reply(socket: Socket, apiKey: number, apiVersion: number, correlationId: number, body: unknown) {
    const api = API_TABLE[apiKey]!;
    const fitted = fitToVersion(api.response.name, body as Record<string, unknown>, apiVersion);
    socket.write(encodeResponseFrame(api.response, apiVersion, correlationId, fitted));
  }

  private answer(h: ParsedRequestHeader, body: unknown, c: Connection): Answer | Promise<Answer> {
    const v = h.apiVersion;
    switch (h.apiKey) {
      case 0:
        return this.produce(body as ProduceRequest, v);
      case 1:
        return this.fetch(body as FetchRequest, v);
      case 2:
        return this.listOffsets(body as ListOffsetsRequest);
      case 3:
        return this.metadata(body as MetadataRequest, v, c);
      case 8:
        return this.offsetCommit(body as OffsetCommitRequest, v);
      case 9:
        return this.offsetFetch(body as OffsetFetchRequest, v);
      case 10:
        return this.findCoordinator(body as FindCoordinatorRequest, v, c);
      case 11:
        return this.joinGroup(body as JoinGroupRequest, h.clientId);
      case 12:
        return createHeartbeatResponse();
      case 13:
        return this.leaveGroup(body as LeaveGroupRequest, v);
      case 14:
        return this.syncGroup(body as SyncGroupRequest);
      case 18:
        return this.apiVersions(ErrorCode.NONE);
      case 19:
        return this.createTopics(body as CreateTopicsRequest);
      case 20:
        return this.deleteTopics(body as DeleteTopicsRequest, v);
      case 22:
        return createInitProducerIdResponse({ producerId: this.nextProducerId++, producerEpoch: 0 });
      case 23:
        return this.offsetForLeaderEpoch(body as OffsetForLeaderEpochRequest);
      default:
        throw new Error(`API ${h.apiKey} has no handler`);
    }
  }

  private apiVersions(errorCode: number) {
    const apiKeys = ANSWERED_API_KEYS.map((apiKey) => {
      const api = API_TABLE[apiKey]!;
      const maxVersion = api.latestVersionUnstable ? api.maxVersion - 1 : api.maxVersion;
      return { apiKey, minVersion: api.minVersion, maxVersion };
    });
    return createApiVersionsResponse({ errorCode, apiKeys });
  }

  private topicOrCreate(name: string, create: boolean, partitions = DEFAULT_PARTITIONS): Topic | undefined {
    const existing = this.topics.get(name);
    if (existing !== undefined || !create) return existing;
    const topic: Topic = {
      name,
      id: topicIdOf(name),
      partitions: Array.from({ length: partitions }, () => ({ batches: [], highWatermark: 0n })),
    };
    this.topics.set(name, topic);
    return topic;
  }

  private topicById(id: Buffer): Topic | undefined {
    for (const t of this.topics.values()) if (t.id.equals(id)) return t;
    return undefined;
  }

  private metadataTopic(t: Topic) {
    return createMetadataResponseTopic({
      name: t.name,
      topicId: t.id,
      partitions: t.partitions.map((_, partitionIndex) =>
        createMetadataResponsePartition({
          partitionIndex,
          leaderId: NODE_ID,
          leaderEpoch: 0,
          replicaNodes: [NODE_ID],
          isrNodes: [NODE_ID],
        }),
      ),
    });
  }

  private metadata(req: MetadataRequest, v: number, c: Connection) {
    // Before v4 a broker with auto-creation on creates every topic a Metadata request names.
    const autoCreate = v < 4 || req.allowAutoTopicCreation;
    const all = req.topics === null || (v === 0 && req.topics.length === 0);
    const topics = all
      ? [...this.topics.values()].map((t) => this.metadataTopic(t))
      : req.topics!.map((rt) => {
          const t =
            rt.name !== null && rt.name !== ''
              ? this.topicOrCreate(rt.name, autoCreate)
              : this.topicById(rt.topicId);
          if (t !== undefined) return this.metadataTopic(t);
          return createMetadataResponseTopic({
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            name: rt.name ?? (v >= 12 ? null : ''),
            topicId: rt.topicId,
          });
        });
    return createMetadataResponse({
      brokers: [createMetadataResponseBroker({ nodeId: NODE_ID, host: '127.0.0.1', port: c.port })],
      clusterId: CLUSTER_ID,
      controllerId: NODE_ID,
      topics,
    });
  }

  private append(log: PartitionLog, records: Buffer): bigint {
    const base = log.highWatermark;
    let o = 0;
    // A v2 batch: baseOffset int64, batchLength int32, ..., lastOffsetDelta int32 at byte 23. The CRC
    // starts after the base offset, so assigning offsets leaves it valid.
    while (records.length - o >= 27) {
      const size = 12 + records.readInt32BE(o + 8);
      if (size < 27 || o + size > records.length) break;
      const bytes = Buffer.from(records.subarray(o, o + size));
      const lastOffsetDelta = bytes.readInt32BE(23);
      bytes.writeBigInt64BE(log.highWatermark, 0);
      const lastOffset = log.highWatermark + BigInt(lastOffsetDelta);
      log.batches.push({ baseOffset: log.highWatermark, lastOffset, bytes });
      log.highWatermark = lastOffset + 1n;
      o += size;
    }
    return base;
  }

  private produce(req: ProduceRequest, v: number) {
    const responses = req.topicData.map((td) => {
      const topic = v >= 13 ? this.topicById(td.topicId) : this.topics.get(td.name);
      return createProduceResponseTopicProduceResponse({
        name: td.name,
        topicId: td.topicId,
        partitionResponses: td.partitionData.map((pd) => {
          const log = topic?.partitions[pd.index];
          if (log === undefined)
            return createProduceResponsePartitionProduceResponse({
              index: pd.index,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            });
          const baseOffset = pd.records === null ? log.highWatermark : this.append(log, pd.records);
          return createProduceResponsePartitionProduceResponse({ index: pd.index, baseOffset });
        }),
      });
    });
    // acks=0: Kafka sends no response at all.
    return req.acks === 0 ? null : createProduceResponse({ responses });
  }

  private async fetch(req: FetchRequest, v: number) {
    let bytes = 0;
    const build = () =>
      req.topics.map((ft) => {
        const topic = v >= 13 ? this.topicById(ft.topicId) : this.topics.get(ft.topic);
        return createFetchResponseFetchableTopicResponse({
          topic: ft.topic,
          topicId: ft.topicId,
          partitions: ft.partitions.map((fp) => {
            const log = topic?.partitions[fp.partition];
            if (log === undefined)
              return createFetchResponsePartitionData({
                partitionIndex: fp.partition,
                errorCode: v >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              });
            const hw = log.highWatermark;
            const common = { partitionIndex: fp.partition, highWatermark: hw, lastStableOffset: hw };
            if (fp.fetchOffset > hw || fp.fetchOffset < 0n)
              return createFetchResponsePartitionData({
                ...common,
                errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
              });
            const batches = log.batches.filter((b) => b.lastOffset >= fp.fetchOffset).map((b) => b.bytes);
            const records = Buffer.concat(batches);
            bytes += records.length;
            return createFetchResponsePartitionData({ ...common, logStartOffset: 0n, records });
          }),
        });
      });
    let responses = build();
    if (bytes === 0 && req.maxWaitMs > 0) {
      await delay(Math.min(req.maxWaitMs, MAX_FETCH_WAIT_MS));
      responses = build();
    }
    return createFetchResponse({ sessionId: 0, responses });
  }

  private listOffsets(req: ListOffsetsRequest) {
    return createListOffsetsResponse({
      topics: req.topics.map((lt) => {
        const topic = this.topics.get(lt.name);
        return createListOffsetsResponseListOffsetsTopicResponse({
          name: lt.name,
          partitions: lt.partitions.map((lp) => {
            const log = topic?.partitions[lp.partitionIndex];
            if (log === undefined)
              return createListOffsetsResponseListOffsetsPartitionResponse({
                partitionIndex: lp.partitionIndex,
                errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              });
            // -1 is the latest offset; -2 the earliest; anything else is answered with the log start.
            const offset = lp.timestamp === -1n ? log.highWatermark : 0n;
            return createListOffsetsResponseListOffsetsPartitionResponse({
              partitionIndex: lp.partitionIndex,
              timestamp: -1n,
              offset,
              leaderEpoch: 0,
            });
          }),
        });
      }),
    });
  }

  private offsetForLeaderEpoch(req: OffsetForLeaderEpochRequest) {
    return createOffsetForLeaderEpochResponse({
      topics: req.topics.map((t) =>
        createOffsetForLeaderEpochResponseOffsetForLeaderTopicResult({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            const log = this.topics.get(t.topic)?.partitions[p.partition];
            return createOffsetForLeaderEpochResponseEpochEndOffset({
              partition: p.partition,
              errorCode: log === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.NONE,
              leaderEpoch: 0,
              endOffset: log?.highWatermark ?? -1n,
            });
          }),
        }),
      ),
    });
  }

  private findCoordinator(req: FindCoordinatorRequest, v: number, c: Connection) {
    const self = { nodeId: NODE_ID, host: '127.0.0.1', port: c.port };
    if (v < 4) return createFindCoordinatorResponse(self);
    return createFindCoordinatorResponse({
      coordinators: req.coordinatorKeys.map((key) =>
        createFindCoordinatorResponseCoordinator({ key, ...self }),
      ),
    });
  }

  private group(groupId: string): Group {
    let g = this.groups.get(groupId);
    if (g === undefined) {
      g = {
        generation: 0,
        protocolType: null,
        protocolName: null,
        memberId: '',
        groupInstanceId: null,
        metadata: Buffer.alloc(0),
        assignment: Buffer.alloc(0),
        offsets: new Map(),
      };
      this.groups.set(groupId, g);
    }
    return g;
  }

  private joinGroup(req: JoinGroupRequest, clientId: string | null) {
    // One member per group: every join starts a new generation with the joiner as its only member
    // and leader. Each capture script runs a single consumer per group.
    const g = this.group(req.groupId);
    const protocol = req.protocols[0];
    g.generation += 1;
    g.memberId = req.memberId !== '' ? req.memberId : `${clientId ?? 'member'}-${++this.nextMember}`;
    g.groupInstanceId = req.groupInstanceId;
    g.protocolType = req.protocolType;
    g.protocolName = protocol?.name ?? null;
    g.metadata = Buffer.from(protocol?.metadata ?? Buffer.alloc(0));
    g.assignment = Buffer.alloc(0);
    return createJoinGroupResponse({
      generationId: g.generation,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      leader: g.memberId,
      memberId: g.memberId,
      members: [
        createJoinGroupResponseMember({
          memberId: g.memberId,
          groupInstanceId: g.groupInstanceId,
          metadata: g.metadata,
        }),
      ],
    });
  }

  private syncGroup(req: SyncGroupRequest) {
    const g = this.group(req.groupId);
    const mine = req.assignments.find((a) => a.memberId === req.memberId);
    if (mine !== undefined) g.assignment = Buffer.from(mine.assignment);
    return createSyncGroupResponse({
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      assignment: g.assignment,
    });
  }

  private leaveGroup(req: LeaveGroupRequest, v: number) {
    const g = this.group(req.groupId);
    const leaving = v >= 3 ? req.members.map((m) => m.memberId) : [req.memberId];
    if (leaving.includes(g.memberId)) g.memberId = '';
    return createLeaveGroupResponse({
      members: req.members.map((m) =>
        createLeaveGroupResponseMemberResponse({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }),
      ),
    });
  }

  private offsetCommit(req: OffsetCommitRequest, v: number) {
    const g = this.group(req.groupId);
    return createOffsetCommitResponse({
      topics: req.topics.map((t) => {
        const name = v >= 10 ? (this.topicById(t.topicId)?.name ?? '') : t.name;
        return createOffsetCommitResponseTopic({
          name: t.name,
          topicId: t.topicId,
          partitions: t.partitions.map((p) => {
            g.offsets.set(`${name}\u0000${p.partitionIndex}`, {
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              metadata: p.committedMetadata,
            });
            return createOffsetCommitResponsePartition({ partitionIndex: p.partitionIndex });
          }),
        });
      }),
    });
  }

  private committed(g: Group, topic: string, partition: number) {
    return g.offsets.get(`${topic}\u0000${partition}`) ?? { offset: -1n, leaderEpoch: -1, metadata: '' };
  }

  /** The partitions an OffsetFetch names, or every committed one when it names none (null topics). */
  private committedPartitions(g: Group, topics: { name: string; partitionIndexes: number[] }[] | null) {
    if (topics !== null) return topics;
    const byTopic = new Map<string, number[]>();
    for (const key of g.offsets.keys()) {
      const [name, partition] = key.split('\u0000') as [string, string];
      byTopic.set(name, [...(byTopic.get(name) ?? []), Number(partition)]);
    }
    return [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
  }

  private offsetFetch(req: OffsetFetchRequest, v: number) {
    if (v < 8) {
      const g = this.group(req.groupId);
      return createOffsetFetchResponse({
        topics: this.committedPartitions(g, req.topics).map((t) =>
          createOffsetFetchResponseTopic({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => {
              const c = this.committed(g, t.name, partitionIndex);
              return createOffsetFetchResponsePartition({
                partitionIndex,
                committedOffset: c.offset,
                committedLeaderEpoch: c.leaderEpoch,
                metadata: c.metadata,
              });
            }),
          }),
        ),
      });
    }
    return createOffsetFetchResponse({
      groups: req.groups.map((rg) => {
        const g = this.group(rg.groupId);
        const named =
          rg.topics === null
            ? null
            : rg.topics.map((t) => ({
                name: v >= 10 ? (this.topicById(t.topicId)?.name ?? '') : t.name,
                partitionIndexes: t.partitionIndexes,
              }));
        return createOffsetFetchResponseGroup({
          groupId: rg.groupId,
          topics: this.committedPartitions(g, named).map((t) =>
            createOffsetFetchResponseTopics({
              name: t.name,
              topicId: this.topics.get(t.name)?.id ?? Buffer.alloc(16),
              partitions: t.partitionIndexes.map((partitionIndex) => {
                const c = this.committed(g, t.name, partitionIndex);
                return createOffsetFetchResponsePartitions({
                  partitionIndex,
                  committedOffset: c.offset,
                  committedLeaderEpoch: c.leaderEpoch,
                  metadata: c.metadata,
                });
              }),
            }),
          ),
        });
      }),
    });
  }

  private createTopics(req: CreateTopicsRequest) {
    return createCreateTopicsResponse({
      topics: req.topics.map((t) => {
        const exists = this.topics.has(t.name);
        const partitions = t.numPartitions > 0 ? t.numPartitions : DEFAULT_PARTITIONS;
        const topic = exists || req.validateOnly ? undefined : this.topicOrCreate(t.name, true, partitions);
        return createCreateTopicsResponseCreatableTopicResult({
          name: t.name,
          topicId: topic?.id ?? topicIdOf(t.name),
          errorCode: exists ? ErrorCode.TOPIC_ALREADY_EXISTS : ErrorCode.NONE,
          errorMessage: exists ? `Topic '${t.name}' already exists.` : null,
          numPartitions: partitions,
          replicationFactor: 1,
        });
      }),
    });
  }

  private deleteTopics(req: DeleteTopicsRequest, v: number) {
    const named =
      v >= 6
        ? req.topics.map((t) => t.name ?? this.topicById(t.topicId)?.name ?? null)
        : req.topicNames.map((n) => n as string | null);
    return createDeleteTopicsResponse({
      responses: named.map((name) => {
        const topic = name === null ? undefined : this.topics.get(name);
        if (topic !== undefined) this.topics.delete(topic.name);
        return createDeleteTopicsResponseDeletableTopicResult({
          name: name ?? '',
          topicId: topic?.id ?? Buffer.alloc(16),
          errorCode: topic === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.NONE,
        });
      }),
    });
  }
}
