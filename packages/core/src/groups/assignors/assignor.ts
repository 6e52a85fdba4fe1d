// The server-side assignors of the consumer group protocol (KIP-848): given every member's
// subscription and current target, they compute the next target assignment of the whole group.
// Topics are named by their id (base64url, the storage key); partitions by index.

/** topic id -> partitions. */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;
export type MutableAssignment = Map<string, Set<number>>;

export const EMPTY: Assignment = new Map();

export interface AssignmentMember {
  readonly memberId: string;
  /** Topic ids the member subscribes to that exist now. */
  readonly subscribedTopicIds: ReadonlySet<string>;
  /** The member's previous target assignment, which the assignors keep where they can. */
  readonly current: Assignment;
}

export interface AssignmentSpec {
  /** In member id order; the assignors rely on it for deterministic output. */
  readonly members: readonly AssignmentMember[];
  /** Partitions per subscribed topic id. */
  readonly partitionCounts: ReadonlyMap<string, number>;
}

export interface ServerAssignor {
  /** The name clients ask for in `group.remote.assignor` (ConsumerGroupHeartbeat's ServerAssignor). */
  readonly name: string;
  /** Every member of the spec gets an entry, possibly empty. */
  assign(spec: AssignmentSpec): Map<string, MutableAssignment>;
}

export function addPartition(a: MutableAssignment, topicId: string, partition: number): void {
  let s = a.get(topicId);
  if (s === undefined) {
    s = new Set();
    a.set(topicId, s);
  }
  s.add(partition);
}

export function removePartition(a: MutableAssignment, topicId: string, partition: number): void {
  const s = a.get(topicId);
  if (s === undefined) return;
  s.delete(partition);
  if (s.size === 0) a.delete(topicId);
}

export function hasPartition(a: Assignment, topicId: string, partition: number): boolean {
  return a.get(topicId)?.has(partition) ?? false;
}

export function partitionCount(a: Assignment): number {
  let n = 0;
  for (const s of a.values()) n += s.size;
  return n;
}

export function assignmentsEqual(a: Assignment, b: Assignment): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ps] of a) {
    const qs = b.get(t);
    if (qs === undefined || qs.size !== ps.size) return false;
    for (const p of ps) if (!qs.has(p)) return false;
  }
  return true;
}

export function copyAssignment(a: Assignment): MutableAssignment {
  const out: MutableAssignment = new Map();
  for (const [t, ps] of a) if (ps.size > 0) out.set(t, new Set(ps));
  return out;
}

/** Whether every partition of `a` is also in `b`. */
export function isSubset(a: Assignment, b: Assignment): boolean {
  for (const [t, ps] of a) {
    const qs = b.get(t);
    for (const p of ps) if (qs === undefined || !qs.has(p)) return false;
  }
  return true;
}
