// Kafka's classic group protocol: JoinGroup/SyncGroup/Heartbeat/LeaveGroup membership with
// generations, the delayed initial rebalance, static members, and the rebalance state machine
// (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead). Every timeout reads the
// injected clock.
import { ErrorCode } from '@tributary/codec';
import type { GroupMetadataValue } from '@tributary/codec/coordinator';
import type { BrokerConfig } from '../broker/config.js';
import type { Clock, Logger, Metrics } from '../services.js';
import {
  ClassicGroup,
  EMPTY_ASSIGNMENT,
  GroupMember,
  GroupState,
  type JoinOutcome,
  joinError,
  type SyncOutcome,
  syncError,
  UNKNOWN_MEMBER_ID,
} from './classic-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import { deletionRecords } from './consumer-group-records.js';
import type { GroupLog, GroupLogRecord } from './group-log.js';
import {
  type CoordinatorAvailability,
  GroupError,
  type JoinGroupInput,
  type LeaveOutcome,
  type MemberIdentity,
  refusalCode,
  type SyncGroupInput,
} from './group-requests.js';
import type { GroupStore } from './group-store.js';
import type { SessionTimers } from './session-timers.js';

/**
 * How long a member that joined but has not completed a join phase may take: it has no member id
 * to heartbeat with yet, and a disconnect cannot be seen while its JoinGroup is parked.
 */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;

export interface ClassicProtocolOptions {
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: GroupStore;
  readonly log: GroupLog;
  readonly sessions: SessionTimers;
  readonly availability: CoordinatorAvailability;
}

/** Refuses a JoinGroup whatever the group: an empty group id, a session timeout out of bounds. */
export function validateJoin(req: JoinGroupInput, config: BrokerConfig): void {
  if (req.groupId === '') throw new GroupError(ErrorCode.INVALID_GROUP_ID);
  if (
    req.sessionTimeoutMs < config.groupMinSessionTimeoutMs ||
    req.sessionTimeoutMs > config.groupMaxSessionTimeoutMs
  )
    throw new GroupError(ErrorCode.INVALID_SESSION_TIMEOUT);
}

/** The classic protocol over the classic groups of the store. */
export class ClassicProtocol {
  constructor(private readonly options: ClassicProtocolOptions) {}

  private get config(): BrokerConfig {
    return this.options.config;
  }

  private now(): number {
    return this.options.clock.now();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** After the log is replayed: every member's session starts now. */
  /** Starts the member sessions of the loaded groups `which` selects (all by default). */
  afterLoad(which: (groupId: string) => boolean = () => true): void {
    const now = this.now();
    for (const group of this.options.store.all())
      if (group.type === 'classic' && which(group.groupId))
        for (const member of group.members.values()) this.touch(group, member, member.sessionTimeoutMs, now);
  }

  /** Stops timers and answers parked requests with NOT_COORDINATOR, for the groups `which` selects (all by default). */
  close(which: (groupId: string) => boolean = () => true): void {
    for (const group of this.options.store.all()) {
      if (group.type !== 'classic' || !which(group.groupId)) continue;
      stopTimers(group);
      for (const m of group.members.values()) {
        this.options.sessions.cancel(m);
        m.completeJoin(joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
        m.completeSync(syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  /**
   * Takes over a classic group converted from a consumer group: its members' sessions run again
   * and a rebalance starts, so that they rejoin and their leader assigns.
   */
  adoptDowngradedGroup(group: ClassicGroup): GroupLogRecord {
    this.options.store.put(group);
    const now = this.now();
    for (const m of group.members.values()) this.touch(group, m, m.sessionTimeoutMs, now);
    const record: GroupLogRecord = { type: 'group', groupId: group.groupId, value: groupValue(group) };
    this.prepareRebalance(group);
    return record;
  }

  /** Stops a classic group's timers and marks it dead: a consumer group takes its id. */
  retire(group: ClassicGroup): void {
    stopTimers(group);
    group.transitionTo(GroupState.Dead, this.now());
  }

  /** Retires a group and forgets it. */
  private kill(group: ClassicGroup): void {
    this.retire(group);
    this.options.store.remove(group);
  }

  /** Deletes a group without members (its offsets are the caller's); returns its tombstone to store. */
  deleteGroup(group: ClassicGroup): GroupLogRecord[] {
    this.kill(group);
    return [{ type: 'group', groupId: group.groupId, value: null }];
  }

  // ---- JoinGroup --------------------------------------------------------------------------------

  /**
   * JoinGroup into a classic group, after validateJoin(). An empty consumer-protocol group becomes
   * a classic group again, keeping its offsets (one with members takes the member in as a classic
   * member of it instead, which is not this protocol's business).
   */
  join(req: JoinGroupInput): Promise<JoinOutcome> {
    const isUnknown = req.memberId === UNKNOWN_MEMBER_ID;
    const consumer = this.options.store.consumer(req.groupId);
    let group =
      consumer !== undefined
        ? this.replaceEmptyConsumerGroup(consumer)
        : this.options.store.classic(req.groupId);
    if (group === undefined) {
      if (!isUnknown) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      group = new ClassicGroup(req.groupId, this.now());
      this.options.store.put(group);
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
    this.options.store.put(group);
    this.options.log
      .append(group.groupId, deletionRecords(consumer))
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
    let member: GroupMember;
    try {
      member = requireMember(group, memberId, req.groupInstanceId);
    } catch (e) {
      return joinError(refusalCode(e), memberId);
    }
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
    if (!group.is(GroupState.PreparingRebalance) || this.options.store.get(group.groupId) !== group) return;
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
    if (generation !== group.generationId || this.options.store.get(group.groupId) !== group) return;
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
    let group: ClassicGroup;
    let member: GroupMember;
    try {
      ({ group, member } = this.generationMember(
        req.groupId,
        req.memberId,
        req.groupInstanceId,
        req.generationId,
      ));
      if (
        inconsistent(req.protocolType, group.protocolType) ||
        inconsistent(req.protocolName, group.protocolName)
      )
        throw new GroupError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    } catch (e) {
      return syncError(refusalCode(e));
    }
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
    let group: ClassicGroup;
    let member: GroupMember;
    try {
      ({ group, member } = this.generationMember(groupId, memberId, groupInstanceId, generationId));
    } catch (e) {
      return refusalCode(e);
    }
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

  /** The group and member a SyncGroup or Heartbeat names, after Kafka's member and generation checks. */
  private generationMember(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): { group: ClassicGroup; member: GroupMember } {
    const group = this.options.store.classic(groupId);
    if (group === undefined) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is(GroupState.Dead)) throw new GroupError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const member = requireMember(group, memberId, groupInstanceId);
    if (generationId !== group.generationId) throw new GroupError(ErrorCode.ILLEGAL_GENERATION);
    return { group, member };
  }

  /** Moves a member's session deadline; a member whose session runs out leaves the group. */
  private touch(group: ClassicGroup, member: GroupMember, timeoutMs: number, now = this.now()): void {
    this.options.sessions.touch(
      member,
      timeoutMs,
      {
        live: () => this.options.availability.isActive && group.members.get(member.memberId) === member,
        expire: () => {
          // Members parked in a rebalance are not expired; the rebalance ends their wait and restarts the session.
          if (member.hasSatisfiedHeartbeat()) return;
          this.options.logger.info(
            { group: group.groupId, member: member.memberId },
            'member session expired',
          );
          this.removeMemberAndUpdateGroup(group, member);
        },
      },
      now,
    );
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
    const group = this.options.store.classic(groupId);
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
        try {
          this.dropMember(
            group,
            requireMember(group, id.memberId, id.groupInstanceId),
            ErrorCode.UNKNOWN_MEMBER_ID,
          );
        } catch (e) {
          errorCode = refusalCode(e);
        }
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

  // ---- Persistence -----------------------------------------------------------------------------------------

  private appendGroup(group: ClassicGroup, assignment?: ReadonlyMap<string, Buffer>): Promise<number> {
    return this.options.log.append(group.groupId, [
      { type: 'group', groupId: group.groupId, value: groupValue(group, assignment) },
    ]);
  }

  /** Applies one classic group metadata record read back from the log. */
  replay(r: Extract<GroupLogRecord, { type: 'group' }>): void {
    const now = this.now();
    const found = this.options.store.get(r.groupId);
    let group: ClassicGroup | undefined;
    if (found?.type === 'consumer') {
      // A classic group record after a consumer group's: the group went back to the classic protocol.
      if (r.value === null) return;
      group = new ClassicGroup(r.groupId, now);
      group.adoptOffsets(found);
      found.dead = true;
      this.options.store.put(group);
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
      this.options.store.put(group);
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
  dropIfUnused(group: ClassicGroup): void {
    if (
      group.is(GroupState.Empty) &&
      group.size === 0 &&
      group.pendingMembers.size === 0 &&
      !group.hasOffsets() &&
      group.generationId === 0 &&
      this.options.store.get(group.groupId) === group
    )
      this.kill(group);
  }

  // ---- offsets ---------------------------------------------------------------------------------------

  /**
   * Who may commit offsets to a classic group: anyone into an empty group without a generation;
   * otherwise a current member of the current generation. A generation check fails before a
   * rebalance does. Commits are accepted while the group prepares a rebalance (consumers commit
   * what they processed before they rejoin) and refused while it completes one: a member with the
   * new generation has no assignment yet. A transactional commit (TxnOffsetCommit) is not held to
   * the group's state, and one naming no member (before v3) is accepted into any group.
   */
  validateOffsetCommit(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    transactional = false,
  ): void {
    if (group.is(GroupState.Dead)) throw new GroupError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (generationId < 0 && group.is(GroupState.Empty)) return;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      requireMember(group, memberId, groupInstanceId);
      if (generationId !== group.generationId) throw new GroupError(ErrorCode.ILLEGAL_GENERATION);
    } else if (!transactional && !group.is(GroupState.Empty)) {
      throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID);
    }
    if (!transactional && group.is(GroupState.CompletingRebalance))
      throw new GroupError(ErrorCode.REBALANCE_IN_PROGRESS);
  }

  /** A commit counts as a heartbeat of the member that sent it. */
  touchCommitter(group: ClassicGroup, memberId: string): void {
    const member = group.members.get(memberId);
    if (member !== undefined) this.touch(group, member, member.sessionTimeoutMs);
  }
}

/** Cancels a group's join, sync and pending-member timers. */
function stopTimers(group: ClassicGroup): void {
  group.joinTimer?.cancel();
  group.syncTimer?.cancel();
  for (const t of group.pendingMembers.values()) t.cancel();
  group.pendingMembers.clear();
}

function inconsistent(requested: string | null, current: string | null): boolean {
  return requested !== null && current !== null && requested !== current;
}

/** Kafka's member check: a static member must be the instance's current member id. */
function requireMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): GroupMember {
  if (groupInstanceId !== null) {
    const existing = group.staticMembers.get(groupInstanceId);
    if (existing === undefined) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (existing !== memberId) throw new GroupError(ErrorCode.FENCED_INSTANCE_ID);
  }
  const member = group.members.get(memberId);
  if (member === undefined) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID);
  return member;
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
