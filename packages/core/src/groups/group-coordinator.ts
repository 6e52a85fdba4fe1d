import { ErrorCode } from '@tributary/codec';
import type { GroupMetadataValue } from '@tributary/codec/coordinator';
import type { BrokerConfig } from '../broker/config.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { Clock, Logger, Metrics, TimerHandle } from '../services.js';
import type { StorageAdapter } from '../storage/index.js';
import {
  ClassicGroup,
  type CommittedOffset,
  EMPTY_ASSIGNMENT,
  GroupMember,
  GroupState,
  type JoinOutcome,
  joinError,
  type MemberProtocol,
  type SyncOutcome,
  syncError,
  UNKNOWN_MEMBER_ID,
} from './classic-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import { type AnyGroup, ConsumerGroupCoordinator } from './consumer-group-coordinator.js';
import { GroupLog, type GroupLogRecord } from './group-log.js';

/**
 * How long a member that joined but has not completed a join phase may take: it has no member id
 * to heartbeat with yet, and a disconnect cannot be seen while its JoinGroup is parked.
 */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;

export interface GroupCoordinatorOptions {
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface JoinGroupInput {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string;
  readonly protocols: readonly MemberProtocol[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  /** JoinGroup v4+ without an instance id: a new member first gets MEMBER_ID_REQUIRED and its id. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a stable group may be told to skip the assignment. */
  readonly supportsSkippingAssignment: boolean;
}

export interface SyncGroupInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: readonly { readonly memberId: string; readonly assignment: Buffer }[];
}

export interface MemberIdentity {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeaveOutcome {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface OffsetCommitInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** OffsetCommit v2-v4's retention_time_ms; -1 for the broker's retention. */
  readonly retentionTimeMs: number;
  /** The request's version: v9+ answers GROUP_ID_NOT_FOUND where older ones get ILLEGAL_GENERATION. */
  readonly apiVersion: number;
  readonly offsets: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly leaderEpoch: number;
    readonly metadata: string | null;
  }[];
}

export interface FetchedOffset {
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

/** Who fetches offsets (OffsetFetch v9+); the defaults stand for no member. */
export interface OffsetFetchMember {
  readonly memberId: string | null;
  readonly memberEpoch: number;
}

const NO_MEMBER: OffsetFetchMember = { memberId: null, memberEpoch: -1 };

export interface FetchedOffsets {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

export interface GroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface OffsetDeleteOutcome {
  errorCode: number;
  topics: { name: string; partitions: { partition: number; errorCode: number }[] }[];
}

type Status = 'idle' | 'loading' | 'active' | 'closed';

/**
 * Kafka's classic group protocol: JoinGroup/SyncGroup/Heartbeat/LeaveGroup membership with
 * generations, the delayed initial rebalance, static members, and committed offsets kept in
 * __consumer_offsets. Every timeout reads the injected clock.
 *
 * The broker is the coordinator of every group. All state lives in memory and is rebuilt from the
 * log on start; a write is acknowledged to the client only once the storage append resolves.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, AnyGroup>();
  private readonly log: GroupLog;
  /** The consumer group protocol (KIP-848), sharing this coordinator's groups and log. */
  readonly consumer: ConsumerGroupCoordinator;
  private status: Status = 'idle';
  private retentionTimer: TimerHandle | null = null;

  constructor(private readonly options: GroupCoordinatorOptions) {
    this.log = new GroupLog({
      storage: options.storage,
      topics: options.topics,
      clock: options.clock,
      logger: options.logger,
      partitions: options.config.offsetsTopicNumPartitions,
    });
    this.consumer = new ConsumerGroupCoordinator(
      {
        topics: options.topics,
        config: options.config,
        clock: options.clock,
        logger: options.logger,
        metrics: options.metrics,
      },
      {
        groups: this.groups,
        log: this.log,
        unavailableError: () => this.unavailableError(),
        retireClassicGroup: (group) => this.retireClassicGroup(group),
        adoptDowngradedGroup: (group) => this.adoptDowngradedGroup(group),
      },
    );
  }

  private get config(): BrokerConfig {
    return this.options.config;
  }

  private now(): number {
    return this.options.clock.now();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Creates __consumer_offsets if missing and loads every group from it before answering. */
  async start(): Promise<void> {
    this.status = 'loading';
    await this.log.open();
    const records = await this.log.replay((r) => this.replay(r));
    const now = this.now();
    for (const group of this.groups.values())
      if (group.type === 'classic')
        for (const member of group.members.values()) this.touch(group, member, member.sessionTimeoutMs, now);
    this.consumer.afterLoad();
    this.status = 'active';
    this.scheduleRetention();
    this.options.logger.info({ groups: this.groups.size, records }, 'group coordinator loaded');
  }

  /** Stops timers and answers every parked request with NOT_COORDINATOR. */
  async close(): Promise<void> {
    this.status = 'closed';
    this.retentionTimer?.cancel();
    this.retentionTimer = null;
    this.consumer.close();
    for (const group of this.groups.values()) {
      if (group.type !== 'classic') continue;
      group.joinTimer?.cancel();
      group.syncTimer?.cancel();
      for (const t of group.pendingMembers.values()) t.cancel();
      for (const m of group.members.values()) {
        m.expiryTimer?.cancel();
        m.expiryTimer = null;
        m.completeJoin(joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
        m.completeSync(syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  get isActive(): boolean {
    return this.status === 'active';
  }

  /** The error every group request gets while the coordinator cannot serve, or null when it can. */
  unavailableError(): number | null {
    switch (this.status) {
      case 'active':
        return null;
      case 'closed':
        return ErrorCode.NOT_COORDINATOR;
      default:
        return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    }
  }

  /** The classic group, for tests and tools. */
  group(groupId: string): ClassicGroup | undefined {
    return this.classic(groupId);
  }

  /** The consumer-protocol group, for tests and tools. */
  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.consumer.consumerGroup(groupId);
  }

  private classic(groupId: string): ClassicGroup | undefined {
    const g = this.groups.get(groupId);
    return g?.type === 'classic' ? g : undefined;
  }

  /**
   * Takes over a classic group converted from a consumer group: its members' sessions run again
   * and a rebalance starts, so that they rejoin and their leader assigns.
   */
  private adoptDowngradedGroup(group: ClassicGroup): GroupLogRecord {
    this.groups.set(group.groupId, group);
    const now = this.now();
    for (const m of group.members.values()) this.touch(group, m, m.sessionTimeoutMs, now);
    const record: GroupLogRecord = { type: 'group', groupId: group.groupId, value: groupValue(group) };
    this.prepareRebalance(group);
    return record;
  }

  /** Stops a classic group's timers: a consumer group takes its id. */
  private retireClassicGroup(group: ClassicGroup): void {
    group.joinTimer?.cancel();
    group.syncTimer?.cancel();
    for (const t of group.pendingMembers.values()) t.cancel();
    group.pendingMembers.clear();
    group.transitionTo(GroupState.Dead, this.now());
  }

  // ---- JoinGroup --------------------------------------------------------------------------------

  join(req: JoinGroupInput): Promise<JoinOutcome> {
    const unavailable = this.unavailableError();
    if (unavailable !== null) return Promise.resolve(joinError(unavailable, req.memberId));
    if (req.groupId === '') return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, req.memberId));
    if (
      req.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs
    )
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
    const isUnknown = req.memberId === UNKNOWN_MEMBER_ID;
    const existing = this.groups.get(req.groupId);
    let group: ClassicGroup | undefined;
    if (existing?.type === 'consumer' && !existing.dead) {
      // Classic members join a consumer group with members as classic members of it; an empty
      // one becomes a classic group again, keeping its offsets.
      if (existing.size > 0) return this.consumer.classicJoin(existing, req);
      group = this.replaceEmptyConsumerGroup(existing);
    } else group = existing?.type === 'classic' ? existing : undefined;
    if (group === undefined) {
      if (!isUnknown) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      group = new ClassicGroup(req.groupId, this.now());
      this.groups.set(req.groupId, group);
    }
    const g = group;
    if (!this.acceptJoiningMember(g, req.memberId)) {
      const member = g.members.get(req.memberId);
      if (member !== undefined) this.removeMemberAndUpdateGroup(g, member);
      this.dropIfUnused(g);
      return Promise.resolve(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, UNKNOWN_MEMBER_ID));
    }
    return new Promise<JoinOutcome>((resolve) => {
      const immediate = isUnknown
        ? this.joinNewMember(g, req, resolve)
        : this.joinExistingMember(g, req, resolve);
      if (immediate !== null) resolve(immediate);
    }).then((outcome) => {
      if (outcome.errorCode !== ErrorCode.NONE) this.dropIfUnused(g);
      return outcome;
    });
  }

  private replaceEmptyConsumerGroup(consumer: ConsumerGroup): ClassicGroup {
    const group = new ClassicGroup(consumer.groupId, this.now());
    group.adoptOffsets(consumer);
    consumer.dead = true;
    this.groups.set(group.groupId, group);
    this.log
      .append(group.groupId, this.consumer.deletionRecords(consumer))
      .catch((e: unknown) =>
        this.options.logger.warn(
          { err: e, group: group.groupId },
          'could not store a consumer group deletion',
        ),
      );
    return group;
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.config.groupMaxSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        // Counting the members that rejoined lets the last rejoiners of a shrunk limit be refused.
        return (group.members.get(memberId)?.isAwaitingJoin ?? false) || group.awaitingJoinCount() < max;
      default:
        return group.members.has(memberId) || group.size < max;
    }
  }

  /** Handles a member without an id: an immediate answer, or null when its JoinGroup is parked. */
  private joinNewMember(
    group: ClassicGroup,
    req: JoinGroupInput,
    resolve: (o: JoinOutcome) => void,
  ): JoinOutcome | null {
    if (group.is(GroupState.Dead)) return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId);
    if (!group.supportsProtocols(req.protocolType, req.protocols))
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId);
    const newMemberId = group.newMemberId(req.clientId, req.groupInstanceId);
    if (req.groupInstanceId !== null) {
      const existing = group.staticMembers.get(req.groupInstanceId);
      if (existing !== undefined)
        this.updateStaticMemberThenRebalanceOrCompleteJoin(group, req, existing, newMemberId, resolve);
      else this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, resolve);
      return null;
    }
    if (req.requireKnownMemberId) {
      // The id is handed out now and must come back within a session; the member counts as
      // joining meanwhile, so a join phase waits for it.
      const timer = this.options.clock.schedule(req.sessionTimeoutMs, () => {
        if (group.pendingMembers.delete(newMemberId)) {
          this.maybeCompleteJoinPhase(group);
          this.dropIfUnused(group);
        }
      });
      group.pendingMembers.set(newMemberId, timer);
      return joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId);
    }
    this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, resolve);
    return null;
  }

  /** Handles a member that sent an id: an immediate answer, or null when its JoinGroup is parked. */
  private joinExistingMember(
    group: ClassicGroup,
    req: JoinGroupInput,
    resolve: (o: JoinOutcome) => void,
  ): JoinOutcome | null {
    const memberId = req.memberId;
    if (group.is(GroupState.Dead)) return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId);
    if (!group.supportsProtocols(req.protocolType, req.protocols))
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId);
    if (group.pendingMembers.has(memberId)) {
      // A static member never gets a pending id: its instance id identifies it.
      if (req.groupInstanceId !== null) return joinError(ErrorCode.FENCED_INSTANCE_ID, memberId);
      this.addMemberThenRebalanceOrCompleteJoin(group, req, memberId, resolve);
      return null;
    }
    const error = validateMember(group, memberId, req.groupInstanceId);
    if (error !== null) return joinError(error, memberId);
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        break;
      case 'CompletingRebalance':
        // The same metadata again: the member missed its JoinGroup answer; give it again.
        if (member.matches(req.protocols))
          return this.currentGeneration(group, memberId, group.isLeader(memberId));
        break;
      case 'Stable':
        // A leader's JoinGroup forces a rebalance: it is how a leader reacts to changes that its
        // assignment depends on but that its metadata does not show (new partitions, say).
        if (!group.isLeader(memberId) && member.matches(req.protocols))
          return this.currentGeneration(group, memberId, false);
        break;
      default:
        return joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId);
    }
    this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, resolve);
    return null;
  }

  private currentGeneration(group: ClassicGroup, memberId: string, withMembers: boolean): JoinOutcome {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    req: JoinGroupInput,
    memberId: string,
    resolve: (o: JoinOutcome) => void,
  ): void {
    const member = new GroupMember(
      memberId,
      req.groupInstanceId,
      req.clientId,
      req.clientHost,
      req.rebalanceTimeoutMs,
      req.sessionTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    member.isNew = true;
    // A member joining during the delayed initial rebalance earns the group one more delay.
    if (group.is(GroupState.PreparingRebalance) && group.previousState === GroupState.Empty)
      group.newMemberAdded = true;
    const pending = group.pendingMembers.get(memberId);
    if (pending !== undefined) {
      pending.cancel();
      group.pendingMembers.delete(memberId);
    }
    group.add(member);
    member.joinWaiter = resolve;
    this.touch(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  private updateMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    member: GroupMember,
    req: JoinGroupInput,
    resolve: (o: JoinOutcome) => void,
  ): void {
    this.updateMember(group, member, req, resolve);
    this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  private updateMember(
    group: ClassicGroup,
    member: GroupMember,
    req: JoinGroupInput,
    resolve: ((o: JoinOutcome) => void) | null,
  ): void {
    group.updateProtocols(member, req.protocols);
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    // A JoinGroup already parked for this member is superseded: answer it so that its connection
    // is not held behind a response that would never come.
    member.completeJoin(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    member.joinWaiter = resolve;
  }

  private updateStaticMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    req: JoinGroupInput,
    oldMemberId: string,
    newMemberId: string,
    resolve: (o: JoinOutcome) => void,
  ): void {
    const instanceId = req.groupInstanceId!;
    const currentLeader = group.leaderId;
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.touch(group, member, member.sessionTimeoutMs);
    const before = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    this.updateMember(group, member, req, resolve);
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalanceOrCompleteJoin(group);
          return;
        }
        // Same protocol: the returning instance keeps its assignment without a rebalance. Only the
        // new member id needs to be stored.
        const generation = group.generationId;
        this.appendGroup(group).then(
          () => {
            if (group.members.get(newMemberId) !== member) return;
            const isLeader = group.isLeader(newMemberId);
            if (req.supportsSkippingAssignment)
              member.completeJoin({
                ...this.currentGeneration(group, newMemberId, isLeader),
                skipAssignment: isLeader,
              });
            else
              member.completeJoin({
                ...this.currentGeneration(group, newMemberId, false),
                leader: currentLeader ?? '',
              });
          },
          (e: unknown) => {
            this.options.logger.warn(
              { err: e, group: group.groupId },
              'could not store a static member rejoin',
            );
            const waiter = member.joinWaiter;
            member.joinWaiter = null;
            if (group.members.get(newMemberId) === member && group.generationId === generation) {
              group.updateProtocols(member, before.protocols);
              member.rebalanceTimeoutMs = before.rebalanceTimeoutMs;
              member.sessionTimeoutMs = before.sessionTimeoutMs;
              group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
              this.touch(group, member, member.sessionTimeoutMs);
            }
            waiter?.({ ...joinError(ErrorCode.NOT_COORDINATOR), generationId: group.generationId });
          },
        );
        return;
      }
      case 'CompletingRebalance':
        // The leader may already be assigning to the old member id: rebalance so that the new id
        // gets an assignment.
        this.prepareRebalance(group);
        return;
      default:
        this.maybeCompleteJoinPhase(group);
    }
  }

  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup): void {
    if (group.canRebalance()) this.prepareRebalance(group);
    else this.maybeCompleteJoinPhase(group);
  }

  private prepareRebalance(group: ClassicGroup): void {
    // Members waiting for an assignment must rejoin instead.
    if (group.is(GroupState.CompletingRebalance))
      this.resetAndPropagateAssignmentWithError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const initial = group.is(GroupState.Empty);
    if (initial) {
      const delay = this.config.groupInitialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      this.scheduleJoin(group, delay, () =>
        this.tryCompleteInitialRebalanceElseSchedule(group, delay, remaining),
      );
    }
    group.transitionTo(GroupState.PreparingRebalance, this.now());
    this.options.metrics.increment('tributary_group_rebalances_total');
    if (!initial) this.maybeCompleteJoinElseSchedule(group);
  }

  private tryCompleteInitialRebalanceElseSchedule(
    group: ClassicGroup,
    delayMs: number,
    remainingMs: number,
  ): void {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelay = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
      const nextRemaining = Math.max(remainingMs - delayMs, 0);
      this.scheduleJoin(group, nextDelay, () =>
        this.tryCompleteInitialRebalanceElseSchedule(group, nextDelay, nextRemaining),
      );
    } else {
      this.completeJoin(group);
    }
  }

  private maybeCompleteJoinElseSchedule(group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) this.completeJoin(group);
    else this.scheduleJoin(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
  }

  private maybeCompleteJoinPhase(group: ClassicGroup): void {
    // The initial rebalance waits out its delay even when everyone has joined.
    if (
      group.is(GroupState.PreparingRebalance) &&
      group.hasAllMembersJoined() &&
      group.previousState !== GroupState.Empty
    )
      this.completeJoin(group);
  }

  private scheduleJoin(group: ClassicGroup, ms: number, fn: () => void): void {
    group.joinTimer?.cancel();
    const timer = this.options.clock.schedule(ms, () => {
      if (group.joinTimer !== timer) return;
      group.joinTimer = null;
      fn();
    });
    group.joinTimer = timer;
  }

  /** Ends the join phase: members that did not rejoin leave, the next generation starts. */
  private completeJoin(group: ClassicGroup): void {
    group.joinTimer?.cancel();
    group.joinTimer = null;
    if (!group.is(GroupState.PreparingRebalance) || this.groups.get(group.groupId) !== group) return;
    // Dynamic members that did not rejoin are gone; static ones keep their place.
    for (const m of [...group.members.values()])
      if (!m.isAwaitingJoin && !m.isStatic) this.dropMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Nobody rejoined: wait another rebalance timeout for sessions to expire or members to return.
      this.scheduleJoin(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
      return;
    }
    const now = this.now();
    group.initNextGeneration(now);
    if (group.is(GroupState.Empty)) {
      this.appendGroup(group).catch((e: unknown) =>
        this.options.logger.warn({ err: e, group: group.groupId }, 'could not store an empty group'),
      );
      this.dropIfUnused(group);
      return;
    }
    for (const m of group.members.values()) {
      m.completeJoin(this.currentGeneration(group, m.memberId, group.isLeader(m.memberId)));
      m.isNew = false;
      this.touch(group, m, m.sessionTimeoutMs, now);
    }
    const generation = group.generationId;
    group.syncTimer = this.options.clock.schedule(group.rebalanceTimeoutMs(), () =>
      this.expirePendingSync(group, generation),
    );
  }

  private removeSyncExpiration(group: ClassicGroup): void {
    group.pendingSyncMembers.clear();
    group.syncTimer?.cancel();
    group.syncTimer = null;
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) {
      group.syncTimer?.cancel();
      group.syncTimer = null;
    }
  }

  /** Members that never sent SyncGroup within the rebalance timeout are removed. */
  private expirePendingSync(group: ClassicGroup, generation: number): void {
    group.syncTimer = null;
    if (generation !== group.generationId || this.groups.get(group.groupId) !== group) return;
    if (!group.is(GroupState.CompletingRebalance) && !group.is(GroupState.Stable)) return;
    if (group.pendingSyncMembers.size === 0) return;
    for (const id of [...group.pendingSyncMembers]) {
      const m = group.members.get(id);
      if (m !== undefined) this.dropMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    this.prepareRebalance(group);
  }

  // ---- SyncGroup --------------------------------------------------------------------------------

  sync(req: SyncGroupInput): Promise<SyncOutcome> | SyncOutcome {
    const unavailable = this.unavailableError();
    if (unavailable !== null) return syncError(unavailable);
    const consumerGroup = this.consumer.consumerGroup(req.groupId);
    if (consumerGroup !== undefined) return this.consumer.classicSync(consumerGroup, req);
    const group = this.classic(req.groupId);
    if (group === undefined) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is(GroupState.Dead)) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const error = validateMember(group, req.memberId, req.groupInstanceId);
    if (error !== null) return syncError(error);
    if (req.generationId !== group.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if (
      inconsistent(req.protocolType, group.protocolType) ||
      inconsistent(req.protocolName, group.protocolName)
    )
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case 'Empty':
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.removePendingSyncMember(group, member.memberId);
        return {
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        };
      case 'CompletingRebalance':
        return new Promise<SyncOutcome>((resolve) => {
          member.completeSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
          member.syncWaiter = resolve;
          this.removePendingSyncMember(group, member.memberId);
          if (group.isLeader(member.memberId)) this.acceptAssignment(group, req);
        });
      default:
        return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  /** Stores the leader's assignment, then hands each member its bytes as the leader sent them. */
  private acceptAssignment(group: ClassicGroup, req: SyncGroupInput): void {
    const assignment = new Map<string, Buffer>();
    // Copied: the request frame should not stay alive for as long as the generation does.
    for (const a of req.assignments) assignment.set(a.memberId, Buffer.from(a.assignment));
    for (const id of group.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY_ASSIGNMENT);
    const generation = group.generationId;
    this.appendGroup(group, assignment).then(
      () => {
        if (!group.is(GroupState.CompletingRebalance) || group.generationId !== generation) return;
        for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT;
        group.transitionTo(GroupState.Stable, this.now());
        this.propagateAssignment(group, ErrorCode.NONE);
      },
      (e: unknown) => {
        this.options.logger.warn({ err: e, group: group.groupId }, 'could not store a group assignment');
        if (!group.is(GroupState.CompletingRebalance) || group.generationId !== generation) return;
        this.resetAndPropagateAssignmentWithError(group, ErrorCode.NOT_COORDINATOR);
        this.maybePrepareRebalanceOrCompleteJoin(group);
      },
    );
  }

  private resetAndPropagateAssignmentWithError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    const now = this.now();
    for (const m of group.members.values()) {
      const answered = m.completeSync({
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      // Sessions expiring while members waited for the assignment were ignored: restart them.
      if (answered) this.touch(group, m, m.sessionTimeoutMs, now);
    }
  }

  // ---- Heartbeat and sessions ---------------------------------------------------------------------

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const unavailable = this.unavailableError();
    if (unavailable !== null) return unavailable;
    const consumerGroup = this.consumer.consumerGroup(groupId);
    if (consumerGroup !== undefined)
      return this.consumer.classicHeartbeat(consumerGroup, memberId, groupInstanceId, generationId);
    const group = this.classic(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = validateMember(group, memberId, groupInstanceId);
    if (error !== null) return error;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        this.touch(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'CompletingRebalance':
      case 'Stable':
        this.touch(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  /**
   * Moves a member's session deadline. The member's one timer is rescheduled only when the new
   * deadline is earlier than the timer; otherwise the timer, on firing, finds the later deadline
   * and sleeps again, so a heartbeat costs no timer operation.
   */
  private touch(group: ClassicGroup, member: GroupMember, timeoutMs: number, now = this.now()): void {
    member.deadline = now + timeoutMs;
    if (member.expiryTimer !== null && member.expiryAt <= member.deadline) return;
    member.expiryTimer?.cancel();
    this.armExpiry(group, member, timeoutMs, now);
  }

  private armExpiry(group: ClassicGroup, member: GroupMember, delayMs: number, now: number): void {
    member.expiryAt = now + delayMs;
    member.expiryTimer = this.options.clock.schedule(delayMs, () => {
      member.expiryTimer = null;
      if (group.members.get(member.memberId) !== member || this.status !== 'active') return;
      const at = this.now();
      if (at < member.deadline) return this.armExpiry(group, member, member.deadline - at, at);
      // Members parked in a rebalance are not expired; the rebalance ends their wait and restarts the session.
      if (member.hasSatisfiedHeartbeat()) return;
      this.options.logger.info({ group: group.groupId, member: member.memberId }, 'member session expired');
      this.removeMemberAndUpdateGroup(group, member);
    });
  }

  /** Removes a member and moves the group on: a rebalance, or the end of the current join phase. */
  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember): void {
    this.dropMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
    this.afterMembersLeft(group);
  }

  private afterMembersLeft(group: ClassicGroup): void {
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(group);
        break;
      case 'PreparingRebalance':
        this.maybeCompleteJoinPhase(group);
        break;
      default:
    }
  }

  /** Takes a member out of the group, answering its parked requests so no connection waits forever. */
  private dropMember(group: ClassicGroup, member: GroupMember, errorCode: number): void {
    member.completeJoin(joinError(errorCode, UNKNOWN_MEMBER_ID));
    member.completeSync(syncError(errorCode));
    group.remove(member.memberId);
  }

  // ---- LeaveGroup -----------------------------------------------------------------------------------

  leave(groupId: string, identities: readonly MemberIdentity[]): LeaveOutcome {
    const unavailable = this.unavailableError();
    if (unavailable !== null) return { errorCode: unavailable, members: [] };
    const consumerGroup = this.consumer.consumerGroup(groupId);
    if (consumerGroup !== undefined) return this.consumer.classicLeave(consumerGroup, identities);
    const group = this.classic(groupId);
    if (group === undefined)
      return {
        errorCode: ErrorCode.NONE,
        members: identities.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    if (group.is(GroupState.Dead)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members: LeaveOutcome['members'] = [];
    let left = 0;
    for (const id of identities) {
      let errorCode: number = ErrorCode.NONE;
      if (id.memberId === UNKNOWN_MEMBER_ID) {
        // An admin removes a static member by its instance id alone.
        const memberId =
          id.groupInstanceId === null ? undefined : group.staticMembers.get(id.groupInstanceId);
        const member = memberId === undefined ? undefined : group.members.get(memberId);
        if (member === undefined) errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        else this.dropMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
      } else if (group.pendingMembers.has(id.memberId)) {
        group.pendingMembers.get(id.memberId)!.cancel();
        group.pendingMembers.delete(id.memberId);
      } else {
        const error = validateMember(group, id.memberId, id.groupInstanceId);
        if (error !== null) errorCode = error;
        else this.dropMember(group, group.members.get(id.memberId)!, ErrorCode.UNKNOWN_MEMBER_ID);
      }
      if (errorCode === ErrorCode.NONE) left++;
      members.push({ memberId: id.memberId, groupInstanceId: id.groupInstanceId, errorCode });
    }
    if (left > 0) {
      if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance))
        this.maybePrepareRebalanceOrCompleteJoin(group);
      else if (group.is(GroupState.PreparingRebalance)) this.maybeCompleteJoinPhase(group);
    }
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---- Offsets ----------------------------------------------------------------------------------------

  /** Commits offsets; resolves to one error code per input offset once the append has resolved. */
  async commitOffsets(req: OffsetCommitInput): Promise<number[]> {
    const all = (code: number): number[] => req.offsets.map(() => code);
    const unavailable = this.unavailableError();
    if (unavailable !== null) return all(unavailable);
    if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    let group = this.groups.get(req.groupId);
    if (group?.type === 'consumer') {
      const error = this.consumer.validateOffsetCommit(group, req.memberId, req.generationId, req.apiVersion);
      if (error !== null) return all(error);
    } else if (group === undefined) {
      // No generation: a consumer using assign(), or an admin; the group is created for it.
      if (req.generationId >= 0)
        return all(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(req.groupId, this.now());
      this.groups.set(req.groupId, group);
    }
    if (group.type === 'classic') {
      const error = validateOffsetCommit(group, req.memberId, req.groupInstanceId, req.generationId);
      if (error !== null) {
        this.dropIfUnused(group);
        return all(error);
      }
      const member = group.members.get(req.memberId);
      if (member !== undefined) this.touch(group, member, member.sessionTimeoutMs);
    }
    const now = this.now();
    const expireTimestamp = req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : -1;
    const codes: number[] = [];
    const records: GroupLogRecord[] = [];
    const maxMetadata = this.config.offsetMetadataMaxBytes;
    for (const o of req.offsets) {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata) > maxMetadata) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      codes.push(ErrorCode.NONE);
      records.push({
        type: 'offset',
        groupId: req.groupId,
        topic: o.topic,
        partition: o.partition,
        value: {
          offset: o.offset,
          leaderEpoch: o.leaderEpoch,
          metadata,
          commitTimestamp: now,
          expireTimestamp,
        },
      });
    }
    try {
      await this.log.append(req.groupId, records);
    } catch (e) {
      this.options.logger.warn({ err: e, group: req.groupId }, 'could not store committed offsets');
      if (group.type === 'classic') this.dropIfUnused(group);
      return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : c));
    }
    // The group may have been deleted while the append was in flight: the offsets recreate it.
    let target = this.groups.get(req.groupId);
    if (target === undefined) {
      target = isDead(group) ? new ClassicGroup(req.groupId, now) : group;
      this.groups.set(req.groupId, target);
    }
    for (const r of records)
      if (r.type === 'offset' && r.value !== null) target.setOffset(r.topic, r.partition, r.value);
    this.options.metrics.increment('tributary_offset_commits_total', undefined, records.length);
    return codes;
  }

  /**
   * Committed offsets of a group: the partitions asked for (-1 where nothing is committed), or
   * every committed partition when `topics` is null. A member of a consumer-protocol group
   * (OffsetFetch v9+) names itself and its epoch, which must be current; a fetch without a member
   * (id null, epoch -1: admins, consumers without a group) is always served, and classic groups
   * do not check either.
   */
  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[] | null,
    member: OffsetFetchMember = NO_MEMBER,
  ): FetchedOffsets {
    const unavailable = this.unavailableError();
    if (unavailable !== null) return { errorCode: unavailable, topics: [] };
    const group = this.groups.get(groupId);
    if (group?.type === 'consumer') {
      const error = this.consumer.validateOffsetFetch(group, member.memberId, member.memberEpoch);
      if (error !== null) return { errorCode: error, topics: [] };
    }
    const entry = (partition: number, o: CommittedOffset | undefined): FetchedOffset =>
      o === undefined
        ? { partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }
        : {
            partition,
            offset: o.offset,
            leaderEpoch: o.leaderEpoch,
            metadata: o.metadata,
            errorCode: ErrorCode.NONE,
          };
    if (topics === null) {
      if (group === undefined) return { errorCode: ErrorCode.NONE, topics: [] };
      return {
        errorCode: ErrorCode.NONE,
        topics: [...group.offsets].map(([name, parts]) => ({
          name,
          partitions: [...parts].sort((a, b) => a[0] - b[0]).map(([p, o]) => entry(p, o)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => entry(p, group?.offset(t.name, p))),
      })),
    };
  }

  // ---- ListGroups, DescribeGroups, DeleteGroups, OffsetDelete ------------------------------------------

  /** Groups whose state and type pass the filters (empty filters pass everything; case-insensitive). */
  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): GroupListing[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.groups.values()) {
      if (isDead(g)) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(g.type)) continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.type === 'consumer' ? 'consumer' : (g.protocolType ?? ''),
        groupState: g.state,
        groupType: g.type,
      });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription | null {
    // A consumer-protocol group is described by ConsumerGroupDescribe; here it is not found.
    const g = this.classic(groupId);
    if (g === undefined || g.is(GroupState.Dead)) return null;
    // Metadata and assignments are shown only for a stable generation, as Kafka does.
    const stable = g.is(GroupState.Stable);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType ?? '',
      protocolData: stable ? (g.protocolName ?? '') : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(g.protocolName) : EMPTY_ASSIGNMENT,
        memberAssignment: stable ? m.assignment : EMPTY_ASSIGNMENT,
      })),
    };
  }

  async deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        const unavailable = this.unavailableError();
        if (unavailable !== null) return { groupId, errorCode: unavailable };
        if (groupId === '') return { groupId, errorCode: ErrorCode.INVALID_GROUP_ID };
        const group = this.groups.get(groupId);
        if (group === undefined || isDead(group)) return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
        if (group.state !== 'Empty' || group.size > 0)
          return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
        const records: GroupLogRecord[] = [];
        for (const [topic, parts] of group.offsets)
          for (const partition of parts.keys())
            records.push({ type: 'offset', groupId, topic, partition, value: null });
        if (group.type === 'consumer') {
          records.push(...this.consumer.deletionRecords(group));
          this.dropConsumerGroup(group);
        } else {
          records.push({ type: 'group', groupId, value: null });
          this.killGroup(group);
        }
        try {
          await this.log.append(groupId, records);
          return { groupId, errorCode: ErrorCode.NONE };
        } catch (e) {
          this.options.logger.warn({ err: e, group: groupId }, 'could not store a group deletion');
          return { groupId, errorCode: ErrorCode.NOT_COORDINATOR };
        }
      }),
    );
  }

  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[],
  ): Promise<OffsetDeleteOutcome> {
    const unavailable = this.unavailableError();
    if (unavailable !== null) return { errorCode: unavailable, topics: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || isDead(group)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    let subscribed: Set<string> | null;
    if (group.type === 'consumer') {
      subscribed = group.size === 0 ? null : this.consumer.subscribedTopics(group);
    } else {
      // Only consumer groups say what they subscribe to; other non-empty groups keep all their offsets.
      if (!group.is(GroupState.Empty) && group.protocolType !== 'consumer')
        return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      subscribed = group.is(GroupState.Empty) ? null : group.subscribedTopics();
    }
    const records: GroupLogRecord[] = [];
    const result = topics.map((t) => {
      const isSubscribed = subscribed?.has(t.name) ?? false;
      return {
        name: t.name,
        partitions: t.partitions.map((partition) => {
          if (isSubscribed) return { partition, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          if (group.offset(t.name, partition) !== undefined)
            records.push({ type: 'offset', groupId, topic: t.name, partition, value: null });
          return { partition, errorCode: ErrorCode.NONE };
        }),
      };
    });
    if (records.length > 0) {
      try {
        await this.log.append(groupId, records);
      } catch (e) {
        this.options.logger.warn({ err: e, group: groupId }, 'could not store an offset deletion');
        return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
      }
      for (const r of records) if (r.type === 'offset') group.deleteOffset(r.topic, r.partition);
    }
    return { errorCode: ErrorCode.NONE, topics: result };
  }

  // ---- Retention ------------------------------------------------------------------------------------------

  private scheduleRetention(): void {
    if (this.status !== 'active') return;
    this.retentionTimer = this.options.clock.schedule(this.config.offsetsRetentionCheckIntervalMs, () => {
      this.expireOffsets().then(
        () => this.scheduleRetention(),
        (e: unknown) => {
          this.options.logger.error({ err: e }, 'offset expiration failed');
          this.scheduleRetention();
        },
      );
    });
  }

  /**
   * Drops expired offsets: those of an empty group once retention has passed since it became empty,
   * those of a standalone consumer's group since their commit, and those of topics a stable
   * consumer group no longer subscribes to. An empty group left without offsets is deleted too.
   */
  async expireOffsets(): Promise<number> {
    if (this.status !== 'active') return 0;
    const now = this.now();
    const retentionMs = this.config.offsetsRetentionMinutes * 60_000;
    let expired = 0;
    const appends: Promise<number>[] = [];
    for (const group of [...this.groups.values()]) {
      if (group.type === 'consumer') {
        this.expireConsumerGroupOffsets(group, now, retentionMs, appends);
        continue;
      }
      let base: ((o: CommittedOffset) => number) | null = null;
      let keep: Set<string> | null = null;
      if (group.protocolType === null || group.protocolType === '') base = (o) => o.commitTimestamp;
      else if (group.is(GroupState.Empty)) base = () => group.stateTimestamp;
      else if (group.protocolType === 'consumer' && group.is(GroupState.Stable)) {
        keep = group.subscribedTopics();
        if (keep !== null) base = (o) => o.commitTimestamp;
      }
      if (base === null) continue;
      const records: GroupLogRecord[] = [];
      for (const [topic, parts] of group.offsets) {
        if (keep?.has(topic)) continue;
        for (const [partition, o] of parts) {
          const isExpired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= retentionMs;
          if (isExpired)
            records.push({ type: 'offset', groupId: group.groupId, topic, partition, value: null });
        }
      }
      for (const r of records) if (r.type === 'offset') group.deleteOffset(r.topic, r.partition);
      expired += records.length;
      if (
        group.is(GroupState.Empty) &&
        group.size === 0 &&
        !group.hasOffsets() &&
        group.pendingMembers.size === 0
      ) {
        records.push({ type: 'group', groupId: group.groupId, value: null });
        this.killGroup(group);
      }
      if (records.length > 0) appends.push(this.log.append(group.groupId, records).then(() => 0));
    }
    const counts = await Promise.all(appends);
    expired += counts.reduce((a, b) => a + b, 0);
    if (expired > 0) this.options.logger.info({ expired }, 'expired committed offsets');
    return expired;
  }

  /**
   * A consumer-protocol group's offsets expire like a classic consumer group's: all of them once
   * it has been empty for the retention, otherwise those of topics no member subscribes to. An
   * empty group left without offsets is deleted.
   */
  private expireConsumerGroupOffsets(
    group: ConsumerGroup,
    now: number,
    retentionMs: number,
    appends: Promise<number>[],
  ): void {
    const empty = group.size === 0;
    const keep = empty ? null : this.consumer.subscribedTopics(group);
    const records: GroupLogRecord[] = [];
    for (const [topic, parts] of group.offsets) {
      if (keep?.has(topic)) continue;
      for (const [partition, o] of parts) {
        const base = empty ? Math.max(group.stateTimestamp, o.commitTimestamp) : o.commitTimestamp;
        const isExpired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base >= retentionMs;
        if (isExpired)
          records.push({ type: 'offset', groupId: group.groupId, topic, partition, value: null });
      }
    }
    for (const r of records) if (r.type === 'offset') group.deleteOffset(r.topic, r.partition);
    const expired = records.length;
    if (empty && !group.hasOffsets() && now - group.stateTimestamp >= retentionMs) {
      records.push(...this.consumer.deletionRecords(group));
      this.dropConsumerGroup(group);
    }
    if (records.length > 0) appends.push(this.log.append(group.groupId, records).then(() => expired));
  }

  private dropConsumerGroup(group: ConsumerGroup): void {
    group.dead = true;
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  // ---- Persistence -----------------------------------------------------------------------------------------

  private appendGroup(group: ClassicGroup, assignment?: ReadonlyMap<string, Buffer>): Promise<void> {
    return this.log.append(group.groupId, [
      { type: 'group', groupId: group.groupId, value: groupValue(group, assignment) },
    ]);
  }

  private replay(r: GroupLogRecord): void {
    if (r.type !== 'offset' && r.type !== 'group') {
      this.consumer.replay(r);
      return;
    }
    const now = this.now();
    const found = this.groups.get(r.groupId);
    if (r.type === 'offset') {
      if (r.value === null) {
        if (found !== undefined) {
          found.deleteOffset(r.topic, r.partition);
          if (found.type === 'classic') this.dropIfUnused(found);
        }
        return;
      }
      if (found !== undefined) {
        found.setOffset(r.topic, r.partition, r.value);
        return;
      }
      const group = new ClassicGroup(r.groupId, now);
      this.groups.set(r.groupId, group);
      group.setOffset(r.topic, r.partition, r.value);
      return;
    }
    let group: ClassicGroup | undefined;
    if (found?.type === 'consumer') {
      // A classic group record after a consumer group's: the group went back to the classic protocol.
      if (r.value === null) return;
      group = new ClassicGroup(r.groupId, now);
      group.adoptOffsets(found);
      found.dead = true;
      this.groups.set(r.groupId, group);
    } else group = found;
    if (group !== undefined) for (const m of [...group.members.values()]) group.remove(m.memberId);
    if (r.value === null) {
      if (group !== undefined) {
        group.protocolType = null;
        group.protocolName = null;
        group.leaderId = null;
        this.dropIfUnused(group);
      }
      return;
    }
    if (group === undefined) {
      group = new ClassicGroup(r.groupId, now);
      this.groups.set(r.groupId, group);
    }
    const v = r.value;
    group.generationId = v.generation;
    group.protocolName = v.protocol;
    for (const mv of v.members) {
      const m = new GroupMember(
        mv.memberId,
        mv.groupInstanceId,
        mv.clientId,
        mv.clientHost,
        mv.rebalanceTimeout >= 0 ? mv.rebalanceTimeout : mv.sessionTimeout,
        mv.sessionTimeout,
        v.protocolType,
        v.protocol === null ? [] : [{ name: v.protocol, metadata: Buffer.from(mv.subscription) }],
      );
      m.assignment = Buffer.from(mv.assignment);
      group.add(m);
    }
    group.protocolType = v.protocolType === '' ? null : v.protocolType;
    group.leaderId = v.leader !== null && group.members.has(v.leader) ? v.leader : group.leaderId;
    const stamp = Number(v.currentStateTimestamp);
    group.state = group.size > 0 ? GroupState.Stable : GroupState.Empty;
    group.previousState = group.state;
    group.stateTimestamp = stamp >= 0 ? stamp : now;
  }

  /** Forgets a group that holds nothing: no members, no pending joins, no offsets, no generation to keep. */
  private dropIfUnused(group: ClassicGroup): void {
    if (
      group.is(GroupState.Empty) &&
      group.size === 0 &&
      group.pendingMembers.size === 0 &&
      !group.hasOffsets() &&
      group.generationId === 0 &&
      this.groups.get(group.groupId) === group
    )
      this.killGroup(group);
  }

  private killGroup(group: ClassicGroup): void {
    group.joinTimer?.cancel();
    group.syncTimer?.cancel();
    for (const t of group.pendingMembers.values()) t.cancel();
    group.pendingMembers.clear();
    group.transitionTo(GroupState.Dead, this.now());
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }
}

function inconsistent(requested: string | null, current: string | null): boolean {
  return requested !== null && current !== null && requested !== current;
}

/** Kafka's member check: a static member must be the instance's current member id. */
function validateMember(
  group: ClassicGroup,
  memberId: string,
  groupInstanceId: string | null,
): number | null {
  if (groupInstanceId !== null) {
    const existing = group.staticMembers.get(groupInstanceId);
    if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    return null;
  }
  return group.members.has(memberId) ? null : ErrorCode.UNKNOWN_MEMBER_ID;
}

/**
 * Who may commit: anyone into an empty group without a generation; otherwise a current member of
 * the current generation. A generation check fails before a rebalance does. Commits are accepted
 * while the group prepares a rebalance (consumers commit what they processed before they rejoin)
 * and refused while it completes one: a member with the new generation has no assignment yet.
 */
function validateOffsetCommit(
  group: ClassicGroup,
  memberId: string,
  groupInstanceId: string | null,
  generationId: number,
): number | null {
  if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  if (generationId < 0 && group.is(GroupState.Empty)) return null;
  if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
    const error = validateMember(group, memberId, groupInstanceId);
    if (error !== null) return error;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  } else if (!group.is(GroupState.Empty)) {
    return ErrorCode.UNKNOWN_MEMBER_ID;
  }
  if (group.is(GroupState.CompletingRebalance)) return ErrorCode.REBALANCE_IN_PROGRESS;
  return null;
}

export function groupValue(
  group: ClassicGroup,
  assignment?: ReadonlyMap<string, Buffer>,
): GroupMetadataValue {
  return {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol: group.protocolName,
    leader: group.leaderId,
    currentStateTimestamp: BigInt(group.stateTimestamp),
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: m.metadataFor(group.protocolName),
      assignment: assignment?.get(m.memberId) ?? m.assignment,
    })),
  };
}

function isDead(group: AnyGroup): boolean {
  return group.type === 'consumer' ? group.dead : group.is(GroupState.Dead);
}
