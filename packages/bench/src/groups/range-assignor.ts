// The consumer protocol's "range" assignment, as the group leader computes it, and the consumer
// protocol's framing of subscriptions and assignments (an int16 version, then the body).
import {
  type ConsumerProtocolAssignment,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '@tributary/codec';

/** topic -> partitions, as a member holds them. */
export type Assignment = ReadonlyMap<string, readonly number[]>;

/**
 * Per topic, the subscribed members in member id order each take a contiguous range of the
 * partitions; the first `partitions % members` take one more.
 */
export function rangeAssign(
  subscriptions: ReadonlyMap<string, readonly string[]>,
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const memberId of subscriptions.keys()) out.set(memberId, new Map());
  const topics = new Set<string>();
  for (const t of subscriptions.values()) for (const topic of t) topics.add(topic);
  for (const topic of [...topics].sort()) {
    const count = partitionCounts.get(topic) ?? 0;
    const members = [...subscriptions.entries()]
      .filter(([, t]) => t.includes(topic))
      .map(([m]) => m)
      .sort();
    const each = Math.floor(count / members.length);
    const extra = count % members.length;
    members.forEach((memberId, i) => {
      const start = i * each + Math.min(i, extra);
      const length = each + (i < extra ? 1 : 0);
      if (length > 0)
        out.get(memberId)!.set(
          topic,
          Array.from({ length }, (_, k) => start + k),
        );
    });
  }
  return out;
}

const CONSUMER_PROTOCOL_VERSION = 0;

function framed(version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, 2);
  return out;
}

export function encodeSubscriptionMetadata(topics: readonly string[]): Buffer {
  return framed(
    CONSUMER_PROTOCOL_VERSION,
    encodeConsumerProtocolSubscription(
      { topics: [...topics], userData: null, ownedPartitions: [], generationId: -1, rackId: null },
      CONSUMER_PROTOCOL_VERSION,
    ),
  );
}

export function decodeSubscriptionTopics(metadata: Buffer): string[] {
  return decodeConsumerProtocolSubscription(metadata, metadata.readInt16BE(0), 2).topics;
}

export function encodeAssignment(assignment: ReadonlyMap<string, readonly number[]>): Buffer {
  const body: ConsumerProtocolAssignment = {
    assignedPartitions: [...assignment].map(([topic, partitions]) => ({
      topic,
      partitions: [...partitions],
    })),
    userData: null,
  };
  return framed(CONSUMER_PROTOCOL_VERSION, encodeConsumerProtocolAssignment(body, CONSUMER_PROTOCOL_VERSION));
}

export function decodeAssignment(bytes: Buffer): Map<string, number[]> {
  // A member left without partitions may receive empty bytes.
  if (bytes.length < 2) return new Map();
  const a = decodeConsumerProtocolAssignment(bytes, bytes.readInt16BE(0), 2);
  return new Map(a.assignedPartitions.map((tp) => [tp.topic, tp.partitions]));
}

/**
 * Whether the members' assignments split every partition of the topics among them, each partition
 * once, with every member holding at least one: the sign a generation has reached everyone.
 */
export function coversExactly(
  assignments: readonly Assignment[],
  partitionCounts: ReadonlyMap<string, number>,
): boolean {
  let total = 0;
  for (const c of partitionCounts.values()) total += c;
  const seen = new Set<string>();
  for (const a of assignments) {
    let held = 0;
    for (const [topic, partitions] of a) {
      const count = partitionCounts.get(topic);
      if (count === undefined) return false;
      for (const p of partitions) {
        const key = `${topic}\u0000${p}`;
        if (p < 0 || p >= count || seen.has(key)) return false;
        seen.add(key);
        held++;
      }
    }
    if (held === 0) return false;
  }
  return seen.size === total;
}
