// The consumer protocol embedded in classic groups (protocol type "consumer"): the subscription a
// member sends in JoinGroup and the assignment it receives in SyncGroup, each an int16 version
// followed by the struct. The coordinator reads and writes them only for groups whose classic and
// consumer-protocol members share one assignment.

import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
} from '@tributary/codec';
import type { TopicRegistry } from '../broker/topics.js';
import { type Assignment, addPartition, type MutableAssignment } from './assignors/assignor.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface TopicPartitionsByName {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface EmbeddedSubscription {
  readonly topics: readonly string[];
  /** From version 1; empty before. */
  readonly ownedPartitions: readonly TopicPartitionsByName[];
  /** From version 3; null before. */
  readonly rackId: string | null;
}

export interface EmbeddedAssignment {
  readonly partitions: readonly TopicPartitionsByName[];
  readonly userData: Buffer | null;
}

/** The newest version this broker reads; a newer one still starts with the fields it knows. */
const MAX_VERSION = 3;

function version(bytes: Buffer): number | null {
  if (bytes.length < 2) return null;
  const v = bytes.readInt16BE(0);
  return v < 0 ? null : Math.min(v, MAX_VERSION);
}

/**
 * The subscription in JoinGroup protocol metadata, or null when it does not decode. Some clients
 * (kafkajs) label a version-0 body with version 1: a body too short for its version is read at
 * the older versions in turn.
 */
export function decodeSubscription(metadata: Buffer): EmbeddedSubscription | null {
  const stated = version(metadata);
  if (stated === null) return null;
  for (let v = stated; v >= 0; v--) {
    try {
      const s = decodeConsumerProtocolSubscription(metadata, v, 2);
      return {
        topics: s.topics,
        ownedPartitions: s.ownedPartitions.map((o) => ({ topic: o.topic, partitions: o.partitions })),
        rackId: s.rackId,
      };
    } catch {
      // Try the next older version.
    }
  }
  return null;
}

/** A SyncGroup assignment, or null when it does not decode. The empty buffer is no assignment. */
export function decodeAssignment(bytes: Buffer): EmbeddedAssignment | null {
  if (bytes.length === 0) return { partitions: [], userData: null };
  const v = version(bytes);
  if (v === null) return null;
  try {
    const a = decodeConsumerProtocolAssignment(bytes, v, 2);
    return {
      partitions: a.assignedPartitions.map((p) => ({ topic: p.topic, partitions: p.partitions })),
      userData: a.userData,
    };
  } catch {
    return null;
  }
}

/** An assignment as SyncGroup hands it to a classic member (version 0, which every client reads). */
export function encodeAssignment(partitions: readonly TopicPartitionsByName[]): Buffer {
  const body = encodeConsumerProtocolAssignment(
    {
      assignedPartitions: partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] })),
      userData: null,
    },
    0,
  );
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(0, 0);
  body.copy(out, 2);
  return out;
}

/** Topic-partitions named as the embedded protocol names them, keyed by topic id (unknown topics dropped). */
export function assignmentByTopicId(
  topics: Pick<TopicRegistry, 'byName'>,
  partitions: readonly TopicPartitionsByName[],
): Assignment {
  const out: MutableAssignment = new Map();
  for (const tp of partitions) {
    const topic = topics.byName(tp.topic);
    if (topic === undefined) continue;
    for (const p of tp.partitions) if (p >= 0 && p < topic.partitionCount) addPartition(out, topic.id, p);
  }
  return out;
}

/** An assignment by topic name, for the embedded protocol (deleted topics dropped). */
export function assignmentByTopicName(
  topics: Pick<TopicRegistry, 'byId'>,
  a: Assignment,
): TopicPartitionsByName[] {
  const out: TopicPartitionsByName[] = [];
  for (const [id, ps] of a) {
    const topic = topics.byId(Buffer.from(id, 'base64url'));
    if (topic !== undefined) out.push({ topic: topic.name, partitions: [...ps].sort((x, y) => x - y) });
  }
  return out.sort((x, y) => (x.topic < y.topic ? -1 : 1));
}
