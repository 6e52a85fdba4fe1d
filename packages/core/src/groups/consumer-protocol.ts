// The consumer group protocol of KIP-848: members heartbeat with ConsumerGroupHeartbeat and
// reconcile towards the target assignment the group's assignor computed for the group epoch
// (revoking before they are assigned); the coordinator fences members whose session runs out or
// who do not revoke in time, and replays the groups' records on load.
import { ErrorCode } from '@tributary/codec';
import type { BrokerConfig } from '../broker/config.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { Clock, Logger, Metrics } from '../services.js';
import {
  type Assignment,
  addPartition,
  assignmentsEqual,
  EMPTY,
  isSubset,
  type MutableAssignment,
} from './assignors/assignor.js';
import { ClassicGroup } from './classic-group.js';
import {
  type ClassicMemberMetadata,
  ConsumerGroup,
  ConsumerGroupMember,
  JOIN_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
} from './consumer-group.js';
import type { ClassicGroupHandover, ConsumerGroupMigration } from './consumer-group-migration.js';
import {
  currentMemberRecord,
  deletionRecords,
  fromRecord,
  groupRecord,
  memberRecord,
  memberTombstones,
  targetMemberRecord,
} from './consumer-group-records.js';
import type { ConsumerTargetAssignment } from './consumer-target-assignment.js';
import type { GroupLog, GroupLogRecord } from './group-log.js';
import {
  type ConsumerGroupDescription,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatOutcome,
  type CoordinatorAvailability,
  type DescribedTopicPartitions,
  GroupError,
  type WireTopicPartitions,
} from './group-requests.js';
import type { GroupStore } from './group-store.js';
import {
  FencedMemberError,
  type MemberAssignmentState,
  MemberState,
  memberStateFromByte,
  reconcile,
} from './reconciliation.js';
import type { SessionTimers } from './session-timers.js';

export interface ConsumerProtocolOptions {
  readonly topics: TopicRegistry;
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: GroupStore;
  readonly log: GroupLog;
  readonly sessions: SessionTimers;
  readonly availability: CoordinatorAvailability;
  readonly classic: ClassicGroupHandover;
  readonly targets: ConsumerTargetAssignment;
  readonly migration: ConsumerGroupMigration;
}

/** The consumer group protocol: heartbeats, target assignments, reconciliation, describe, replay. */
export class ConsumerProtocol {
  constructor(private readonly options: ConsumerProtocolOptions) {}

  private get config(): BrokerConfig {
    return this.options.config;
  }

  private now(): number {
    return this.options.clock.now();
  }

  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.options.store.consumer(groupId);
  }

  // ---- ConsumerGroupHeartbeat -------------------------------------------------------------------

  async heartbeat(req: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatOutcome> {
    const unavailable = this.options.availability.unavailableError(req.groupId);
    if (unavailable !== null) return failure(unavailable, null);
    let result: { outcome: ConsumerHeartbeatOutcome; records: GroupLogRecord[] };
    // Records of changes already made when a later check refuses the heartbeat (a group upgraded
    // before its new member turns out to be refused): they are stored all the same.
    const records: GroupLogRecord[] = [];
    try {
      this.validate(req);
      result =
        req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH
          ? this.leave(req)
          : this.joinOrHeartbeat(req, records);
    } catch (e) {
      if (!(e instanceof GroupError)) throw e;
      this.forgetIfUnused(req.groupId);
      if (records.length > 0)
        await this.options.log
          .append(req.groupId, records)
          .catch((err: unknown) =>
            this.options.logger.warn({ err, group: req.groupId }, 'could not store a consumer group change'),
          );
      return failure(e.code, e.message);
    }
    if (result.records.length > 0) {
      try {
        await this.options.log.append(req.groupId, result.records);
      } catch (e) {
        this.options.logger.warn(
          { err: e, group: req.groupId },
          'could not store a consumer group heartbeat',
        );
        return failure(ErrorCode.NOT_COORDINATOR, null);
      }
    }
    return result.outcome;
  }

  private validate(req: ConsumerHeartbeatInput): void {
    const invalid = (message: string) => new GroupError(ErrorCode.INVALID_REQUEST, message);
    // Blank counts as empty, as in Kafka.
    const empty = (v: string | null) => v !== null && v.trim() === '';
    // From v1 the client generates its member id, so every request carries one.
    if (
      (req.apiVersion >= 1 || req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) &&
      empty(req.memberId)
    )
      throw invalid("MemberId can't be empty.");
    if (empty(req.groupId)) throw invalid("GroupId can't be empty.");
    if (empty(req.instanceId)) throw invalid("InstanceId can't be empty.");
    if (empty(req.rackId)) throw invalid("RackId can't be empty.");
    if (req.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) {
      if (req.rebalanceTimeoutMs === -1)
        throw invalid('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0)
        throw invalid('TopicPartitions must be empty when (re-)joining.');
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null)
        throw invalid(
          'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.',
        );
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.instanceId === null) throw invalid("InstanceId can't be null.");
    } else if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      throw invalid('MemberEpoch is invalid.');
    }
    this.options.targets.validateSubscription(req.subscribedTopicRegex, req.serverAssignor);
  }

  /** A group created for a join that was then refused holds nothing: it is dropped. */
  private forgetIfUnused(groupId: string): void {
    const g = this.options.store.get(groupId);
    if (g?.type === 'consumer' && g.size === 0 && g.groupEpoch === 0 && !g.hasOffsets())
      this.options.store.remove(g);
  }

  private joinOrHeartbeat(
    req: ConsumerHeartbeatInput,
    records: GroupLogRecord[],
  ): {
    outcome: ConsumerHeartbeatOutcome;
    records: GroupLogRecord[];
  } {
    const now = this.now();
    const joining = req.memberEpoch === JOIN_GROUP_MEMBER_EPOCH;
    const group = this.getOrMaybeCreateGroup(req.groupId, joining, records);
    const owned = req.topicPartitions === null ? null : toAssignment(req.topicPartitions);
    const { member, isNew } = this.memberFor(group, req, owned, records);
    const before = snapshot(member);

    // Subscription and metadata.
    let bump = isNew;
    const regex = req.subscribedTopicRegex;
    if (req.instanceId !== null) member.instanceId = req.instanceId;
    if (req.rackId !== null) member.rackId = req.rackId;
    if (req.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.serverAssignor !== null && req.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = req.serverAssignor;
      bump = true;
    }
    if (
      req.subscribedTopicNames !== null &&
      !sameNames(req.subscribedTopicNames, member.subscribedTopicNames)
    ) {
      member.subscribedTopicNames = [...new Set(req.subscribedTopicNames)].sort();
      bump = true;
    }
    if (regex !== null) {
      const next = regex === '' ? null : regex;
      if (next !== member.subscribedTopicRegex) {
        member.subscribedTopicRegex = next;
        bump = true;
      }
    }
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    member.classic = null;
    group.putMember(member);
    if (isNew || metadataChanged(before, member)) records.push(memberRecord(group.groupId, member));
    this.options.targets.maybeBumpAndAssign(group, bump, now, records);

    // Reconciliation.
    const previousAssigned = member.assigned;
    this.reconcileMember(group, member, owned, records);
    this.touch(group, member, this.config.groupConsumerSessionTimeoutMs, now);

    const isFullRequest =
      req.rebalanceTimeoutMs !== -1 &&
      (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) &&
      req.topicPartitions !== null;
    const sendAssignment = joining || isFullRequest || !assignmentsEqual(previousAssigned, member.assigned);
    return {
      records,
      outcome: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId: member.memberId,
        memberEpoch: member.memberEpoch,
        heartbeatIntervalMs: this.config.groupConsumerHeartbeatIntervalMs,
        assignment: sendAssignment ? toWire(member.assigned) : null,
      },
    };
  }

  /** Finds (or, for a join, creates) the group; an empty classic group gives way to it. */
  private getOrMaybeCreateGroup(groupId: string, create: boolean, records: GroupLogRecord[]): ConsumerGroup {
    const existing = this.options.store.get(groupId);
    if (existing === undefined || (existing.type === 'consumer' && existing.dead)) {
      if (!create) throw new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${groupId} not found.`);
      const group = new ConsumerGroup(groupId, this.now());
      this.options.store.put(group);
      return group;
    }
    if (existing.type === 'consumer') return existing;
    if (create && existing.size === 0 && existing.is('Empty')) {
      // A classic group without members (perhaps only holding offsets) becomes a consumer group,
      // keeping its offsets. Its stored metadata, if any, is deleted.
      const group = new ConsumerGroup(groupId, this.now());
      group.adoptOffsets(existing);
      if (existing.generationId > 0) records.push({ type: 'group', groupId, value: null });
      this.options.classic.retire(existing);
      this.options.store.put(group);
      return group;
    }
    if (create && this.options.migration.upgradeAllowed(existing)) {
      const group = this.options.migration.upgrade(existing, records);
      const now = this.now();
      for (const m of group.members.values()) this.touch(group, m, m.classic!.sessionTimeoutMs, now);
      return group;
    }
    throw new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group`);
  }

  /** The member a heartbeat speaks for, after the membership and epoch checks. */
  private memberFor(
    group: ConsumerGroup,
    req: ConsumerHeartbeatInput,
    owned: Assignment | null,
    records: GroupLogRecord[],
  ): { member: ConsumerGroupMember; isNew: boolean } {
    const joining = req.memberEpoch === JOIN_GROUP_MEMBER_EPOCH;
    const max = this.config.groupConsumerMaxSize;
    const full = () =>
      new GroupError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${max} members.`,
      );
    const existing = group.members.get(req.memberId);
    if (req.instanceId === null || !joining) {
      if (joining) {
        if (existing !== undefined) {
          throwIfClassic(existing, group.groupId);
          return { member: existing, isNew: false };
        }
        if (group.size >= max) throw full();
        return { member: new ConsumerGroupMember(req.memberId), isNew: true };
      }
      if (existing === undefined)
        throw new GroupError(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${req.memberId} is not a member of group ${group.groupId}.`,
        );
      throwIfClassic(existing, group.groupId);
      if (req.instanceId !== null && group.staticMembers.get(req.instanceId) !== req.memberId)
        throw new GroupError(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by another member.`,
        );
      throwIfEpochIsInvalid(existing, req.memberEpoch, owned);
      return { member: existing, isNew: false };
    }
    // A static member joining.
    const staticId = group.staticMembers.get(req.instanceId);
    const previous = staticId === undefined ? undefined : group.members.get(staticId);
    if (previous === undefined || previous.memberId === req.memberId) {
      if (existing !== undefined) return { member: existing, isNew: false };
      if (group.size >= max) throw full();
      return { member: new ConsumerGroupMember(req.memberId), isNew: true };
    }
    if (previous.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH)
      throw new GroupError(
        ErrorCode.UNRELEASED_INSTANCE_ID,
        `Static member ${req.memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by ${previous.memberId} member.`,
      );
    // The instance comes back under a new member id: it takes over the previous member's
    // subscription, target and partitions, so nothing moves unless its subscription changed.
    const member = new ConsumerGroupMember(req.memberId);
    member.instanceId = previous.instanceId;
    member.rackId = previous.rackId;
    member.subscribedTopicNames = previous.subscribedTopicNames;
    member.subscribedTopicRegex = previous.subscribedTopicRegex;
    member.serverAssignor = previous.serverAssignor;
    member.rebalanceTimeoutMs = previous.rebalanceTimeoutMs;
    const target = group.targetAssignment.get(previous.memberId) ?? EMPTY;
    const assigned = previous.assigned;
    this.removeMember(group, previous, records);
    group.putMember(member);
    group.targetAssignment.set(member.memberId, target);
    records.push(
      memberRecord(group.groupId, member),
      targetMemberRecord(group.groupId, member.memberId, target),
    );
    group.restoreAssignment(member, {
      state: MemberState.Stable,
      memberEpoch: 0,
      previousMemberEpoch: -1,
      assigned,
      pendingRevocation: EMPTY,
    });
    this.options.logger.info(
      { group: group.groupId, member: member.memberId, replaced: previous.memberId },
      'static member rejoined',
    );
    return { member, isNew: false };
  }

  /** Moves a member towards its target; stores the new state and watches a pending revocation. */
  reconcileMember(
    group: ConsumerGroup,
    member: ConsumerGroupMember,
    owned: Assignment | null,
    records: GroupLogRecord[],
  ): void {
    let next: MemberAssignmentState;
    try {
      next = reconcile({
        member,
        targetEpoch: group.assignmentEpoch,
        target: group.targetAssignment.get(member.memberId) ?? EMPTY,
        partitionEpoch: (t, p) => group.partitionEpoch(t, p),
        owned,
      });
    } catch (e) {
      if (e instanceof FencedMemberError) throw new GroupError(ErrorCode.FENCED_MEMBER_EPOCH, e.message);
      throw e;
    }
    if (sameAssignmentState(next, member)) return;
    const epochBefore = member.memberEpoch;
    group.updateAssignment(member, next);
    records.push(currentMemberRecord(group.groupId, member));
    if (member.state === MemberState.UnrevokedPartitions) {
      if (member.rebalanceTimer === null || epochBefore !== member.memberEpoch)
        this.scheduleRebalanceTimeout(group, member);
    } else {
      member.rebalanceTimer?.cancel();
      member.rebalanceTimer = null;
    }
  }

  /** A member that has not revoked within its rebalance timeout is fenced. */
  private scheduleRebalanceTimeout(group: ConsumerGroup, member: ConsumerGroupMember): void {
    member.rebalanceTimer?.cancel();
    const epoch = member.memberEpoch;
    const timeout =
      member.rebalanceTimeoutMs > 0 ? member.rebalanceTimeoutMs : this.config.groupConsumerSessionTimeoutMs;
    const timer = this.options.clock.schedule(timeout, () => {
      if (member.rebalanceTimer !== timer) return;
      member.rebalanceTimer = null;
      if (!this.options.availability.isActive || group.members.get(member.memberId) !== member) return;
      if (member.memberEpoch !== epoch || member.state !== MemberState.UnrevokedPartitions) return;
      this.options.logger.info(
        { group: group.groupId, member: member.memberId },
        'member did not revoke its partitions within the rebalance timeout',
      );
      this.fence(group, member);
    });
    member.rebalanceTimer = timer;
  }

  // ---- leaving and fencing -----------------------------------------------------------------------

  private leave(req: ConsumerHeartbeatInput): {
    outcome: ConsumerHeartbeatOutcome;
    records: GroupLogRecord[];
  } {
    const group = this.consumerGroup(req.groupId);
    if (group === undefined)
      throw new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
    let member: ConsumerGroupMember | undefined;
    if (req.instanceId === null) {
      member = group.members.get(req.memberId);
      if (member === undefined)
        throw new GroupError(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${req.memberId} is not a member of group ${group.groupId}.`,
        );
    } else {
      const id = group.staticMembers.get(req.instanceId);
      if (id === undefined)
        throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
      if (id !== req.memberId)
        throw new GroupError(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by member ${id}.`,
        );
      member = group.members.get(id)!;
    }
    throwIfClassic(member, group.groupId);
    const records: GroupLogRecord[] = [];
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // The instance keeps its place and partitions until its session runs out; a restart with
      // the same instance id takes them over without a rebalance.
      group.updateAssignment(member, {
        state: member.state === MemberState.UnrevokedPartitions ? MemberState.Stable : member.state,
        memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
        assigned: member.assigned,
        pendingRevocation: EMPTY,
      });
      member.rebalanceTimer?.cancel();
      member.rebalanceTimer = null;
      records.push(currentMemberRecord(group.groupId, member));
      this.options.logger.info(
        { group: group.groupId, member: member.memberId },
        'static member left temporarily',
      );
    } else {
      this.removeMemberAndBump(group, member, records);
      this.options.logger.info({ group: group.groupId, member: member.memberId }, 'member left');
    }
    return {
      records,
      outcome: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        heartbeatIntervalMs: 0,
        assignment: null,
      },
    };
  }

  /** Removes a member (session expired, revocation timed out) and stores it. */
  fence(group: ConsumerGroup, member: ConsumerGroupMember): void {
    const records: GroupLogRecord[] = [];
    this.removeMemberAndBump(group, member, records);
    this.options.log
      .append(group.groupId, records)
      .catch((e: unknown) =>
        this.options.logger.warn({ err: e, group: group.groupId }, 'could not store a fenced member'),
      );
  }

  removeMemberAndBump(group: ConsumerGroup, member: ConsumerGroupMember, records: GroupLogRecord[]): void {
    if (this.options.migration.downgradeAllowed(group, member)) {
      this.options.migration.downgrade(group, member, records);
      return;
    }
    this.removeMember(group, member, records);
    // The others are reassigned at their next heartbeat, which computes the new target.
    group.groupEpoch++;
    records.push(groupRecord(group));
    this.options.metrics.increment('tributary_consumer_group_epoch_bumps_total');
    if (group.size === 0) group.stateTimestamp = this.now();
  }

  /** Takes a member out, with the tombstones of its three records. */
  removeMember(group: ConsumerGroup, member: ConsumerGroupMember, records: GroupLogRecord[]): void {
    const { groupId } = group;
    const { memberId } = member;
    group.removeMember(memberId);
    records.push(...memberTombstones(groupId, memberId));
  }

  // ---- sessions ----------------------------------------------------------------------------------

  /** Moves a member's session deadline; a member whose session runs out is fenced. */
  touch(group: ConsumerGroup, member: ConsumerGroupMember, timeoutMs: number, now = this.now()): void {
    this.options.sessions.touch(
      member,
      timeoutMs,
      {
        live: () => this.options.availability.isActive && group.members.get(member.memberId) === member,
        expire: () => {
          this.options.logger.info(
            { group: group.groupId, member: member.memberId },
            'member session expired',
          );
          this.fence(group, member);
        },
      },
      now,
    );
  }

  // ---- ConsumerGroupDescribe, listing, offsets ------------------------------------------------------

  describe(groupId: string): ConsumerGroupDescription {
    const base = {
      errorMessage: null,
      groupId,
      groupState: '',
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: '',
      members: [],
    };
    const unavailable = this.options.availability.unavailableError(groupId);
    if (unavailable !== null) return { ...base, errorCode: unavailable };
    const g = this.options.store.get(groupId);
    if (g === undefined || (g.type === 'consumer' && g.dead) || (g.type === 'classic' && g.is('Dead')))
      return {
        ...base,
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: `Group ${groupId} not found.`,
      };
    if (g.type !== 'consumer')
      return {
        ...base,
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: `Group ${groupId} is not a consumer group`,
      };
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: g.state,
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignorName: this.options.targets.assignorName(g),
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: { topicPartitions: this.describeAssignment(m.assigned) },
        targetAssignment: {
          topicPartitions: this.describeAssignment(g.targetAssignment.get(m.memberId) ?? EMPTY),
        },
        memberType: m.usesClassicProtocol ? 0 : 1,
      })),
    };
  }

  private describeAssignment(a: Assignment): DescribedTopicPartitions[] {
    const out: DescribedTopicPartitions[] = [];
    for (const [id, ps] of a) {
      const topicId = Buffer.from(id, 'base64url');
      // A deleted topic has no name left to show.
      const topic = this.options.topics.byId(topicId);
      if (topic === undefined) continue;
      out.push({ topicId, topicName: topic.name, partitions: [...ps].sort((x, y) => x - y) });
    }
    return out.sort((x, y) => (x.topicName < y.topicName ? -1 : 1));
  }

  /**
   * Who may commit offsets to a consumer group: anyone while it is empty (epoch -1: tools and
   * consumers without a group); otherwise a member at its current epoch. A transactional commit
   * naming no member (TxnOffsetCommit before v3) is accepted whatever the group.
   */
  validateOffsetCommit(
    group: ConsumerGroup,
    memberId: string,
    memberEpoch: number,
    apiVersion: number,
    transactional: { readonly instanceId: string | null } | null = null,
  ): void {
    if (memberEpoch < 0 && group.size === 0) return;
    if (transactional !== null && memberEpoch === -1 && memberId === '' && transactional.instanceId === null)
      return;
    const member = group.members.get(memberId);
    if (member === undefined) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (member.usesClassicProtocol) {
      if (memberEpoch !== member.memberEpoch) throw new GroupError(ErrorCode.ILLEGAL_GENERATION);
      return;
    }
    // Members of the consumer protocol commit with epochs, which OffsetCommit carries from v9.
    if (transactional === null && apiVersion < 9) throw new GroupError(ErrorCode.UNSUPPORTED_VERSION);
    if (memberEpoch !== member.memberEpoch) throw new GroupError(ErrorCode.STALE_MEMBER_EPOCH);
  }

  /**
   * Who may fetch a consumer group's offsets: anyone naming no member (id null, epoch -1: admins
   * and consumers without a group); otherwise a member at its current epoch, a classic member's
   * epoch being its generation.
   */
  validateOffsetFetch(group: ConsumerGroup, memberId: string | null, memberEpoch: number): void {
    if (memberId === null && memberEpoch < 0) return;
    const member = memberId === null ? undefined : group.members.get(memberId);
    if (member === undefined) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (memberEpoch !== member.memberEpoch)
      throw new GroupError(
        member.usesClassicProtocol ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH,
      );
  }

  /** Deletes an empty group (its offsets are the caller's); returns the tombstones to store. */
  deleteGroup(group: ConsumerGroup): GroupLogRecord[] {
    const records = deletionRecords(group);
    group.dead = true;
    this.options.store.remove(group);
    return records;
  }

  // ---- lifecycle and replay ------------------------------------------------------------------------

  /** After the log is replayed: every member's session starts now. */
  /** Starts the sessions of the loaded groups `which` selects (all by default). */
  afterLoad(which: (groupId: string) => boolean = () => true): void {
    const now = this.now();
    for (const g of this.options.store.all())
      if (g.type === 'consumer' && which(g.groupId))
        for (const m of g.members.values()) {
          this.touch(g, m, m.sessionTimeoutMs(this.config.groupConsumerSessionTimeoutMs), now);
          if (m.state === MemberState.UnrevokedPartitions) this.scheduleRebalanceTimeout(g, m);
        }
  }

  /** Stops the timers of the groups `which` selects (all by default). */
  close(which: (groupId: string) => boolean = () => true): void {
    for (const g of this.options.store.all())
      if (g.type === 'consumer' && which(g.groupId))
        for (const m of g.members.values()) {
          this.options.sessions.cancel(m);
          m.rebalanceTimer?.cancel();
          m.rebalanceTimer = null;
        }
  }

  /** Applies one consumer group record read back from the log. */
  replay(r: GroupLogRecord): void {
    if (r.type === 'offset' || r.type === 'group' || r.type === 'consumer-partition-metadata') return;
    const existing = this.options.store.get(r.groupId);
    let group: ConsumerGroup;
    if (existing?.type === 'consumer' && !existing.dead) group = existing;
    else {
      if (r.value === null) return;
      group = new ConsumerGroup(r.groupId, this.now());
      if (existing !== undefined) {
        group.adoptOffsets(existing);
        if (existing.type === 'classic') this.options.classic.retire(existing);
      }
      this.options.store.put(group);
    }
    switch (r.type) {
      case 'consumer-group':
        if (r.value === null) {
          // Deleted, or converted back to a classic group (whose record follows): the offsets stay.
          group.dead = true;
          if (group.hasOffsets()) {
            const classic = new ClassicGroup(r.groupId, this.now());
            classic.adoptOffsets(group);
            this.options.store.put(classic);
          } else this.options.store.remove(group);
          return;
        }
        group.groupEpoch = r.value.epoch;
        group.metadataHash = r.value.metadataHash;
        return;
      case 'consumer-target-metadata':
        if (r.value !== null) group.assignmentEpoch = r.value.assignmentEpoch;
        return;
      case 'consumer-regex':
        if (r.value === null) group.resolvedRegexes.delete(r.regex);
        else group.resolvedRegexes.set(r.regex, new Set(r.value.topics));
        return;
      case 'consumer-target-member':
        if (r.value === null) group.targetAssignment.delete(r.memberId);
        else group.targetAssignment.set(r.memberId, fromRecord(r.value.topicPartitions));
        return;
      case 'consumer-member': {
        if (r.value === null) {
          group.removeMember(r.memberId);
          return;
        }
        const v = r.value;
        const member = group.members.get(r.memberId) ?? new ConsumerGroupMember(r.memberId);
        if (member.instanceId !== null && member.instanceId !== v.instanceId)
          group.staticMembers.delete(member.instanceId);
        member.instanceId = v.instanceId;
        member.rackId = v.rackId;
        member.clientId = v.clientId;
        member.clientHost = v.clientHost;
        member.subscribedTopicNames = [...v.subscribedTopicNames];
        member.subscribedTopicRegex = v.subscribedTopicRegex === '' ? null : v.subscribedTopicRegex;
        member.rebalanceTimeoutMs = v.rebalanceTimeoutMs;
        member.serverAssignor = v.serverAssignor;
        member.classic =
          v.classicMemberMetadata === null
            ? null
            : {
                sessionTimeoutMs: v.classicMemberMetadata.sessionTimeoutMs,
                protocols: v.classicMemberMetadata.supportedProtocols.map((p) => ({
                  name: p.name,
                  metadata: Buffer.from(p.metadata),
                })),
              };
        group.putMember(member);
        return;
      }
      case 'consumer-current-member': {
        const member = group.members.get(r.memberId);
        if (member === undefined || r.value === null) return;
        group.restoreAssignment(member, {
          state: memberStateFromByte(r.value.state),
          memberEpoch: r.value.memberEpoch,
          previousMemberEpoch: r.value.previousMemberEpoch,
          assigned: fromRecord(r.value.assignedPartitions),
          pendingRevocation: fromRecord(r.value.partitionsPendingRevocation),
        });
        return;
      }
    }
  }
}

// ---- helpers ----------------------------------------------------------------------------------------

function failure(errorCode: number, errorMessage: string | null): ConsumerHeartbeatOutcome {
  return {
    errorCode,
    errorMessage,
    memberId: null,
    // Kafka leaves the epoch at its default in an error answer.
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    assignment: null,
  };
}

function throwIfClassic(member: ConsumerGroupMember, groupId: string): void {
  if (member.usesClassicProtocol)
    throw new GroupError(
      ErrorCode.UNKNOWN_MEMBER_ID,
      `Member ${member.memberId} of group ${groupId} uses the classic protocol.`,
    );
}

/**
 * A heartbeat's epoch must be the member's, or its previous one while it still owns only what it
 * had then (the answer that moved it on may have been lost).
 */
function throwIfEpochIsInvalid(
  member: ConsumerGroupMember,
  received: number,
  owned: Assignment | null,
): void {
  if (received > member.memberEpoch)
    throw new GroupError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  if (
    received < member.memberEpoch &&
    (received !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned))
  )
    throw new GroupError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
}

function toAssignment(tps: readonly WireTopicPartitions[]): Assignment {
  const out: MutableAssignment = new Map();
  for (const tp of tps) for (const p of tp.partitions) addPartition(out, tp.topicId.toString('base64url'), p);
  return out;
}

function toWire(a: Assignment): { topicId: Buffer; partitions: number[] }[] {
  return [...a].map(([id, ps]) => ({
    topicId: Buffer.from(id, 'base64url'),
    partitions: [...ps].sort((x, y) => x - y),
  }));
}

export function sameClassic(a: ClassicMemberMetadata | null, b: ClassicMemberMetadata | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.sessionTimeoutMs !== b.sessionTimeoutMs || a.protocols.length !== b.protocols.length) return false;
  return a.protocols.every(
    (p, i) => p.name === b.protocols[i]!.name && p.metadata.equals(b.protocols[i]!.metadata),
  );
}

export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return sameSet(new Set(a), new Set(b));
}

export function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function sameAssignmentState(a: MemberAssignmentState, b: MemberAssignmentState): boolean {
  return (
    a.state === b.state &&
    a.memberEpoch === b.memberEpoch &&
    assignmentsEqual(a.assigned, b.assigned) &&
    assignmentsEqual(a.pendingRevocation, b.pendingRevocation)
  );
}

interface MemberMetadataSnapshot {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  names: readonly string[];
  regex: string | null;
  assignor: string | null;
  rebalanceTimeoutMs: number;
}

export function snapshot(m: ConsumerGroupMember): MemberMetadataSnapshot {
  return {
    instanceId: m.instanceId,
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    names: m.subscribedTopicNames,
    regex: m.subscribedTopicRegex,
    assignor: m.serverAssignor,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
  };
}

export function metadataChanged(s: MemberMetadataSnapshot, m: ConsumerGroupMember): boolean {
  return (
    s.instanceId !== m.instanceId ||
    s.rackId !== m.rackId ||
    s.clientId !== m.clientId ||
    s.clientHost !== m.clientHost ||
    !sameNames(s.names, m.subscribedTopicNames) ||
    s.regex !== m.subscribedTopicRegex ||
    s.assignor !== m.serverAssignor ||
    s.rebalanceTimeoutMs !== m.rebalanceTimeoutMs
  );
}
