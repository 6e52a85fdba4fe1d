// The consumer group protocol's reconciliation (KIP-848): how a member's current assignment moves
// towards its target. A member first gives up what it must revoke, keeping its epoch; only once
// its heartbeat no longer reports those partitions does it move to the target epoch and receive
// new partitions, and only those no other member still holds. So no partition is ever owned by
// two members at once.
import {
  type Assignment,
  addPartition,
  EMPTY,
  hasPartition,
  type MutableAssignment,
} from './assignors/assignor.js';

/** A member's reconciliation state, with the byte values of Kafka's records. */
export const MemberState = {
  Stable: 0,
  UnrevokedPartitions: 1,
  UnreleasedPartitions: 2,
  Unknown: 127,
} as const;
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

export function memberStateFromByte(b: number): MemberState {
  return b === 0 || b === 1 || b === 2 ? b : MemberState.Unknown;
}

export interface MemberAssignmentState {
  readonly state: MemberState;
  readonly memberEpoch: number;
  readonly assigned: Assignment;
  readonly pendingRevocation: Assignment;
}

export interface ReconcileInput {
  readonly member: MemberAssignmentState;
  readonly targetEpoch: number;
  readonly target: Assignment;
  /** The epoch of the member holding a partition (assigned or pending revocation), or -1 when free. */
  readonly partitionEpoch: (topicId: string, partition: number) => number;
  /** What the member's heartbeat says it owns; null when the heartbeat did not say. */
  readonly owned: Assignment | null;
}

export class FencedMemberError extends Error {}

/**
 * The member's next state, or the same object when it cannot move. Throws FencedMemberError for a
 * member in a state this broker does not know that still claims partitions.
 */
export function reconcile(input: ReconcileInput): MemberAssignmentState {
  const { member } = input;
  switch (member.state) {
    case MemberState.Stable:
      return member.memberEpoch === input.targetEpoch ? member : next(input, member.memberEpoch);
    case MemberState.UnrevokedPartitions:
      // It must first stop reporting every partition it was asked to revoke.
      return ownsAny(input.owned, member.pendingRevocation) ? member : next(input, member.memberEpoch);
    case MemberState.UnreleasedPartitions:
      return next(input, member.memberEpoch);
    default:
      if (input.owned === null || input.owned.size > 0)
        throw new FencedMemberError('The member is in an unknown state and must rejoin without partitions.');
      return next(input, input.targetEpoch);
  }
}

/** Whether `owned` (null: not reported, so assumed) still holds any partition of `revoking`. */
function ownsAny(owned: Assignment | null, revoking: Assignment): boolean {
  if (owned === null) return true;
  for (const [t, ps] of owned) for (const p of ps) if (hasPartition(revoking, t, p)) return true;
  return false;
}

function next(input: ReconcileInput, memberEpoch: number): MemberAssignmentState {
  const { member, target, targetEpoch } = input;
  const assigned: MutableAssignment = new Map();
  const revoking: MutableAssignment = new Map();
  const pending: MutableAssignment = new Map();
  let unreleased = false;
  const topics = new Set([...target.keys(), ...member.assigned.keys()]);
  for (const t of topics) {
    const want = target.get(t) ?? new Set<number>();
    const have = member.assigned.get(t) ?? new Set<number>();
    for (const p of have) {
      if (want.has(p)) addPartition(assigned, t, p);
      else addPartition(revoking, t, p);
    }
    for (const p of want) {
      if (have.has(p)) continue;
      // Held by someone else, unless it is this member's own partition still pending revocation.
      if (input.partitionEpoch(t, p) !== -1 && !hasPartition(member.pendingRevocation, t, p))
        unreleased = true;
      else addPartition(pending, t, p);
    }
  }
  if (revoking.size > 0 && ownsAny(input.owned, revoking))
    return {
      state: MemberState.UnrevokedPartitions,
      memberEpoch,
      assigned,
      pendingRevocation: revoking,
    };
  for (const [t, ps] of pending) for (const p of ps) addPartition(assigned, t, p);
  return {
    state: unreleased ? MemberState.UnreleasedPartitions : MemberState.Stable,
    memberEpoch: targetEpoch,
    assigned,
    pendingRevocation: EMPTY,
  };
}
