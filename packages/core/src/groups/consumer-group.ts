import type { TimerHandle } from '../services.js';
import { type Assignment, EMPTY } from './assignors/assignor.js';
import type { MemberProtocol } from './classic-group.js';
import { GroupOffsets } from './group-offsets.js';
import { type MemberAssignmentState, MemberState } from './reconciliation.js';

/** The epoch a member sends to join, to leave, and (static members) to leave for a while. */
export const JOIN_GROUP_MEMBER_EPOCH = 0;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** A consumer group's states, spelled as Kafka reports them. */
export const ConsumerGroupState = {
  Empty: 'Empty',
  Assigning: 'Assigning',
  Reconciling: 'Reconciling',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type ConsumerGroupState = (typeof ConsumerGroupState)[keyof typeof ConsumerGroupState];

/** What a member that speaks the classic protocol inside a consumer group told JoinGroup. */
export interface ClassicMemberMetadata {
  readonly sessionTimeoutMs: number;
  readonly protocols: readonly MemberProtocol[];
}

export class ConsumerGroupMember implements MemberAssignmentState {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  subscribedTopicNames: readonly string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  rebalanceTimeoutMs = -1;
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: MemberState = MemberState.Stable;
  assigned: Assignment = EMPTY;
  pendingRevocation: Assignment = EMPTY;
  /** Set while the member speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat). */
  classic: ClassicMemberMetadata | null = null;
  /** The session ends at this time unless a heartbeat moves it. */
  deadline = 0;
  /** The one timer watching `deadline`; it fires at most once per session timeout, not per heartbeat. */
  expiryTimer: TimerHandle | null = null;
  expiryAt = 0;
  /** Watches a revocation: the member is fenced if it has not revoked within its rebalance timeout. */
  rebalanceTimer: TimerHandle | null = null;
  /**
   * A classic member owes a SyncGroup (after its JoinGroup) or a JoinGroup (after a heartbeat
   * told it to rejoin) within its rebalance timeout; this timer fences it otherwise.
   */
  classicTimer: TimerHandle | null = null;
  classicTimerKind: 'sync' | 'join' | null = null;

  constructor(public memberId: string) {}

  get usesClassicProtocol(): boolean {
    return this.classic !== null;
  }

  /** Reconciled to `epoch`: at that epoch with nothing left to revoke or to receive. */
  isReconciledTo(epoch: number): boolean {
    return this.state === MemberState.Stable && this.memberEpoch === epoch;
  }

  sessionTimeoutMs(groupSessionTimeoutMs: number): number {
    return this.classic?.sessionTimeoutMs ?? groupSessionTimeoutMs;
  }
}

/**
 * One group of the consumer protocol (KIP-848): its epoch, the target assignment computed for
 * that epoch, and the members reconciling towards it. The coordinator drives it; this class keeps
 * the derived indexes (static members, partition owners) in step with the members.
 */
export class ConsumerGroup extends GroupOffsets {
  readonly type = 'consumer';
  dead = false;
  /** Bumped by every change to membership, subscriptions or subscribed topics' metadata. */
  groupEpoch = 0;
  /** The epoch the target assignment was computed for. */
  assignmentEpoch = 0;
  /** The hash of the subscribed topics' metadata at the last epoch bump. */
  metadataHash = 0n;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** instance id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** member id -> its target assignment for `assignmentEpoch`. */
  readonly targetAssignment = new Map<string, Assignment>();
  /** Resolved regular expressions: regex -> matching topic names. */
  readonly resolvedRegexes = new Map<string, ReadonlySet<string>>();
  /** topic id -> partition -> epoch of the member that holds it (assigned or pending revocation). */
  private readonly partitionEpochs = new Map<string, Map<number, number>>();
  /** When the group became empty (offset retention counts from there). */
  stateTimestamp: number;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    super();
    this.stateTimestamp = now;
  }

  get state(): ConsumerGroupState {
    if (this.dead) return ConsumerGroupState.Dead;
    if (this.members.size === 0) return ConsumerGroupState.Empty;
    if (this.groupEpoch > this.assignmentEpoch) return ConsumerGroupState.Assigning;
    for (const m of this.members.values())
      if (!m.isReconciledTo(this.assignmentEpoch)) return ConsumerGroupState.Reconciling;
    return ConsumerGroupState.Stable;
  }

  get size(): number {
    return this.members.size;
  }

  /** The epoch of the member holding a partition, or -1 when no member holds it. */
  partitionEpoch(topicId: string, partition: number): number {
    return this.partitionEpochs.get(topicId)?.get(partition) ?? -1;
  }

  /** Adds or replaces a member, moving the partitions it holds in the owner index. */
  putMember(member: ConsumerGroupMember): void {
    const previous = this.members.get(member.memberId);
    if (previous !== undefined && previous !== member) this.releasePartitions(previous);
    this.members.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
  }

  /** Records a member's new assignment state, keeping the owner index in step. */
  updateAssignment(member: ConsumerGroupMember, next: MemberAssignmentState): void {
    this.releasePartitions(member);
    if (next.memberEpoch !== member.memberEpoch) member.previousMemberEpoch = member.memberEpoch;
    member.state = next.state;
    member.memberEpoch = next.memberEpoch;
    member.assigned = next.assigned;
    member.pendingRevocation = next.pendingRevocation;
    this.holdPartitions(member);
  }

  /** Sets the assignment state from a stored record (previous epoch included). */
  restoreAssignment(
    member: ConsumerGroupMember,
    state: MemberAssignmentState & { previousMemberEpoch: number },
  ): void {
    this.releasePartitions(member);
    member.state = state.state;
    member.memberEpoch = state.memberEpoch;
    member.previousMemberEpoch = state.previousMemberEpoch;
    member.assigned = state.assigned;
    member.pendingRevocation = state.pendingRevocation;
    this.holdPartitions(member);
  }

  removeMember(memberId: string): ConsumerGroupMember | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    this.releasePartitions(member);
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId)
      this.staticMembers.delete(member.instanceId);
    member.expiryTimer?.cancel();
    member.expiryTimer = null;
    member.rebalanceTimer?.cancel();
    member.rebalanceTimer = null;
    member.classicTimer?.cancel();
    member.classicTimer = null;
    return member;
  }

  private holdPartitions(member: ConsumerGroupMember): void {
    for (const a of [member.assigned, member.pendingRevocation])
      for (const [t, ps] of a) {
        let m = this.partitionEpochs.get(t);
        if (m === undefined) {
          m = new Map();
          this.partitionEpochs.set(t, m);
        }
        for (const p of ps) m.set(p, member.memberEpoch);
      }
  }

  private releasePartitions(member: ConsumerGroupMember): void {
    for (const a of [member.assigned, member.pendingRevocation])
      for (const [t, ps] of a) {
        const m = this.partitionEpochs.get(t);
        if (m === undefined) continue;
        for (const p of ps) m.delete(p);
        if (m.size === 0) this.partitionEpochs.delete(t);
      }
  }

  /** The assignor most members ask for; the default when none asks. Ties go to the first asked for. */
  preferredAssignor(defaultName: string): string {
    const counts = new Map<string, number>();
    for (const m of this.members.values())
      if (m.serverAssignor !== null) counts.set(m.serverAssignor, (counts.get(m.serverAssignor) ?? 0) + 1);
    let best = defaultName;
    let bestCount = 0;
    for (const [name, n] of counts)
      if (n > bestCount) {
        best = name;
        bestCount = n;
      }
    return best;
  }

  /** Every topic name subscribed to, by name or through a resolved regular expression. */
  subscribedTopicNames(): Set<string> {
    const out = new Set<string>();
    for (const m of this.members.values()) {
      for (const t of m.subscribedTopicNames) out.add(t);
      if (m.subscribedTopicRegex !== null)
        for (const t of this.resolvedRegexes.get(m.subscribedTopicRegex) ?? []) out.add(t);
    }
    return out;
  }

  /** The regular expressions members subscribe with. */
  subscribedRegexes(): Set<string> {
    const out = new Set<string>();
    for (const m of this.members.values())
      if (m.subscribedTopicRegex !== null) out.add(m.subscribedTopicRegex);
    return out;
  }

  /** Whether every member speaks the classic protocol (the group can go back to a classic group). */
  allMembersUseClassicProtocol(): boolean {
    for (const m of this.members.values()) if (!m.usesClassicProtocol) return false;
    return true;
  }

  /**
   * Whether a classic member with these protocols fits: protocol type "consumer", and one of its
   * protocols supported by every classic member already in the group.
   */
  supportsClassicProtocols(protocolType: string, names: readonly string[], exceptMemberId: string): boolean {
    if (protocolType !== 'consumer' || names.length === 0) return false;
    const classic = [...this.members.values()].filter(
      (m) => m.classic !== null && m.memberId !== exceptMemberId,
    );
    return names.some((name) => classic.every((m) => m.classic!.protocols.some((p) => p.name === name)));
  }

  /**
   * A member waiting for partitions its target holds that another member still owns. A classic
   * member cannot be told its partitions arrived, so it is asked to rejoin once they are free.
   */
  waitingOnUnreleasedPartitions(member: ConsumerGroupMember): boolean {
    if (member.state !== MemberState.UnreleasedPartitions) return false;
    const target = this.targetAssignment.get(member.memberId);
    if (target === undefined) return false;
    for (const [t, ps] of target)
      for (const p of ps)
        if (!(member.assigned.get(t)?.has(p) ?? false) && this.partitionEpoch(t, p) !== -1) return true;
    return false;
  }
}
