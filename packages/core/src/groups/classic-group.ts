import { randomUUID } from 'node:crypto';
import { decodeConsumerProtocolSubscription, ErrorCode } from '@tributary/codec';
import type { TimerHandle } from '../services.js';
import { GroupOffsets } from './group-offsets.js';

/** A classic group's states, spelled as Kafka reports them in ListGroups and DescribeGroups. */
export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];

/** The member id a client sends before the coordinator has given it one. */
export const UNKNOWN_MEMBER_ID = '';

export const EMPTY_ASSIGNMENT: Buffer = Buffer.alloc(0);

export interface MemberProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

/** What a JoinGroup resolves to; the handler shapes it for the request's version. */
export interface JoinOutcome {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncOutcome {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export function joinError(errorCode: number, memberId: string = UNKNOWN_MEMBER_ID): JoinOutcome {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncOutcome {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT };
}

/** A committed offset as the coordinator keeps it. */
export interface CommittedOffset {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** Set only by commits that asked for their own retention (OffsetCommit v2-v4); -1 otherwise. */
  readonly expireTimestamp: number;
  /**
   * Where the commit's record sits in its __consumer_offsets partition (not stored in the record):
   * a transaction's offset is applied at its commit only over an offset written before it.
   */
  readonly recordOffset?: number;
}

export class GroupMember {
  /** Resolves the member's parked JoinGroup; non-null while it awaits the join phase's end. */
  joinWaiter: ((outcome: JoinOutcome) => void) | null = null;
  /** Resolves the member's parked SyncGroup; non-null while it awaits the leader's assignment. */
  syncWaiter: ((outcome: SyncOutcome) => void) | null = null;
  assignment: Buffer = EMPTY_ASSIGNMENT;
  /** Joined but not yet through a completed join phase: its session is the new-member join timeout. */
  isNew = false;
  /** The session ends at this time unless a heartbeat, join or sync moves it. */
  deadline = 0;
  /** The one timer watching `deadline`; it fires at most once per session timeout, not per heartbeat. */
  expiryTimer: TimerHandle | null = null;
  /** When `expiryTimer` fires. */
  expiryAt = 0;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    public protocolType: string,
    public protocols: readonly MemberProtocol[],
  ) {}

  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiter !== null;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  metadataFor(protocol: string | null): Buffer {
    for (const p of this.protocols) if (p.name === protocol) return p.metadata;
    return EMPTY_ASSIGNMENT;
  }

  /** Whether a rejoin carries exactly the protocols (names, order and metadata) already known. */
  matches(protocols: readonly MemberProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i]!;
      const b = this.protocols[i]!;
      if (a.name !== b.name || !a.metadata.equals(b.metadata)) return false;
    }
    return true;
  }

  /** Members parked in a rebalance keep their session; others owe a heartbeat. */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.isAwaitingJoin || this.isAwaitingSync;
  }

  completeJoin(outcome: JoinOutcome): boolean {
    const w = this.joinWaiter;
    if (w === null) return false;
    this.joinWaiter = null;
    w(outcome);
    return true;
  }

  completeSync(outcome: SyncOutcome): boolean {
    const w = this.syncWaiter;
    if (w === null) return false;
    this.syncWaiter = null;
    w(outcome);
    return true;
  }
}

/**
 * One classic group: membership, the generation, the chosen protocol and the committed offsets.
 * The coordinator drives its state machine; this class keeps the bookkeeping consistent.
 */
export class ClassicGroup extends GroupOffsets {
  readonly type = 'classic';
  state: GroupState = GroupState.Empty;
  previousState: GroupState = GroupState.Empty;
  /** When the group entered its current state (the base of offset retention once Empty). */
  stateTimestamp: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, GroupMember>();
  /** group.instance.id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used, with their expiry timers. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  /** Members of the generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** A member joined during the delayed initial rebalance: extend the delay once more. */
  newMemberAdded = false;
  joinTimer: TimerHandle | null = null;
  syncTimer: TimerHandle | null = null;
  private readonly protocolVotes = new Map<string, number>();
  private subscribedTopicsCache: Set<string> | null | undefined;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    super();
    this.stateTimestamp = now;
  }

  transitionTo(state: GroupState, now: number): void {
    this.previousState = this.state;
    this.state = state;
    this.stateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  get size(): number {
    return this.members.size;
  }

  /** Kafka lets only these states start a rebalance; PreparingRebalance is already in one. */
  canRebalance(): boolean {
    return this.state === 'Stable' || this.state === 'CompletingRebalance' || this.state === 'Empty';
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  newMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    for (const p of member.protocols)
      this.protocolVotes.set(p.name, (this.protocolVotes.get(p.name) ?? 0) + 1);
    this.leaderId ??= member.memberId;
    this.subscribedTopicsCache = undefined;
  }

  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId)
      this.staticMembers.delete(member.groupInstanceId);
    this.unvote(member.protocols);
    member.expiryTimer?.cancel();
    member.expiryTimer = null;
    if (this.leaderId === memberId) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.subscribedTopicsCache = undefined;
    return member;
  }

  /** Replaces a member's protocols, keeping the protocol vote counts in step. */
  updateProtocols(member: GroupMember, protocols: readonly MemberProtocol[]): void {
    this.unvote(member.protocols);
    member.protocols = protocols;
    for (const p of protocols) this.protocolVotes.set(p.name, (this.protocolVotes.get(p.name) ?? 0) + 1);
    this.subscribedTopicsCache = undefined;
  }

  private unvote(protocols: readonly MemberProtocol[]): void {
    for (const p of protocols) {
      const n = (this.protocolVotes.get(p.name) ?? 0) - 1;
      if (n <= 0) this.protocolVotes.delete(p.name);
      else this.protocolVotes.set(p.name, n);
    }
  }

  /** Moves a static member to a new member id (a restarted instance rejoining). */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.members.get(oldMemberId);
    if (member === undefined) throw new Error(`static member ${oldMemberId} is not in group ${this.groupId}`);
    // The old instance's parked requests learn that another instance took its place.
    member.completeJoin(joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    member.completeSync(syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  /**
   * Whether a joining member's protocols fit the group: an empty group takes any non-empty
   * protocol type and list; otherwise the type must match and one protocol must be shared by all.
   */
  supportsProtocols(protocolType: string, protocols: readonly MemberProtocol[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    return protocols.some((p) => this.protocolVotes.get(p.name) === this.members.size);
  }

  /** Each member votes for its most preferred protocol that every member supports; most votes wins. */
  selectProtocol(): string {
    const candidates = new Set<string>();
    for (const [name, n] of this.protocolVotes) if (n === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice !== undefined) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    // Ties go to the protocol that reached the count first, which follows member order.
    for (const [name, n] of votes)
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    if (best === null) throw new Error(`group ${this.groupId} has no protocol every member supports`);
    return best;
  }

  awaitingJoinCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.pendingMembers.size === 0 && this.awaitingJoinCount() === this.members.size;
  }

  /** The largest rebalance timeout among members: how long a join phase may wait. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) if (m.rebalanceTimeoutMs > max) max = m.rebalanceTimeoutMs;
    return max;
  }

  /** Picks a leader among the members that rejoined when the current one did not; false when none did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId !== null) {
      const leader = this.members.get(this.leaderId);
      if (leader?.isAwaitingJoin) return true;
      for (const m of this.members.values())
        if (m.isAwaitingJoin) {
          this.leaderId = m.memberId;
          return true;
        }
      return false;
    }
    return false;
  }

  /** Starts the next generation: a protocol and CompletingRebalance with members, Empty without. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo(GroupState.CompletingRebalance, now);
    } else {
      this.protocolName = null;
      this.transitionTo(GroupState.Empty, now);
    }
    this.subscribedTopicsCache = undefined;
    this.pendingSyncMembers.clear();
    for (const id of this.members.keys()) this.pendingSyncMembers.add(id);
  }

  /** Every member's metadata for the chosen protocol: what the leader needs to assign. */
  currentMemberMetadata(): JoinOutcome['members'] {
    const out: JoinOutcome['members'] = [];
    for (const m of this.members.values())
      out.push({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: m.metadataFor(this.protocolName),
      });
    return out;
  }

  /**
   * The topics the members subscribe to, for consumer groups (protocol type "consumer") whose
   * subscriptions decode; null when unknown, so callers treat every topic as possibly subscribed.
   */
  subscribedTopics(): Set<string> | null {
    if (this.subscribedTopicsCache !== undefined) return this.subscribedTopicsCache;
    let topics: Set<string> | null = null;
    if (this.protocolType === 'consumer' && this.protocolName !== null) {
      topics = new Set();
      for (const m of this.members.values()) {
        const parsed = subscriptionTopics(m.metadataFor(this.protocolName));
        if (parsed === null) {
          topics = null;
          break;
        }
        for (const t of parsed) topics.add(t);
      }
    }
    this.subscribedTopicsCache = topics;
    return topics;
  }
}

/** The topics of a consumer-protocol subscription, or null when the bytes do not decode. */
export function subscriptionTopics(metadata: Buffer): string[] | null {
  if (metadata.length < 2) return null;
  try {
    // A newer client version still starts with the topics: read it as the newest known version.
    const version = Math.min(metadata.readInt16BE(0), 3);
    if (version < 0) return null;
    return decodeConsumerProtocolSubscription(metadata, version, 2).topics;
  } catch {
    return null;
  }
}
