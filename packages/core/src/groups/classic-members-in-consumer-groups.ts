// Members that speak the classic protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) inside a
// consumer-protocol group: the server-side assignor assigns them like any member, their generation
// is their member epoch, and the embedded consumer protocol carries their subscription and
// assignment.
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '@tributary/codec';
import type { BrokerConfig } from '../broker/config.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { Clock, Logger } from '../services.js';
import { EMPTY } from './assignors/assignor.js';
import { type JoinOutcome, joinError, type SyncOutcome, syncError } from './classic-group.js';
import { type ConsumerGroup, ConsumerGroupMember } from './consumer-group.js';
import { memberRecord, targetMemberRecord } from './consumer-group-records.js';
import {
  type ConsumerProtocol,
  metadataChanged,
  sameClassic,
  sameNames,
  snapshot,
} from './consumer-protocol.js';
import type { ConsumerTargetAssignment } from './consumer-target-assignment.js';
import {
  assignmentByTopicId,
  assignmentByTopicName,
  CONSUMER_PROTOCOL_TYPE,
  decodeSubscription,
  encodeAssignment,
} from './embedded-protocol.js';
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
import { MemberState } from './reconciliation.js';

export interface ClassicMembersOptions {
  readonly topics: TopicRegistry;
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly log: GroupLog;
  readonly availability: CoordinatorAvailability;
  readonly consumer: ConsumerProtocol;
  readonly targets: ConsumerTargetAssignment;
}

/** JoinGroup, SyncGroup, Heartbeat and LeaveGroup addressed to a consumer-protocol group. */
export class ClassicMembersInConsumerGroups {
  constructor(private readonly options: ClassicMembersOptions) {}

  private get config(): BrokerConfig {
    return this.options.config;
  }

  private now(): number {
    return this.options.clock.now();
  }

  /**
   * JoinGroup into a consumer group with members: the member joins as a classic member. Its
   * subscription and owned partitions come from its first protocol's metadata; the server-side
   * assignor assigns it like any member, and its generation is its member epoch. It is answered
   * at once, as a follower: SyncGroup then hands it its assignment.
   */
  async join(group: ConsumerGroup, req: JoinGroupInput): Promise<JoinOutcome> {
    let result: { outcome: JoinOutcome; records: GroupLogRecord[]; member: ConsumerGroupMember | null };
    try {
      result = this.joinToGroup(group, req);
    } catch (e) {
      return joinError(refusalCode(e), req.memberId);
    }
    const { outcome, records, member } = result;
    if (records.length > 0) {
      try {
        await this.options.log.append(group.groupId, records);
      } catch (e) {
        this.options.logger.warn({ err: e, group: group.groupId }, 'could not store a classic member join');
        return joinError(ErrorCode.NOT_COORDINATOR, outcome.memberId);
      }
    }
    // It owes a SyncGroup within its rebalance timeout.
    if (member !== null && group.members.get(member.memberId) === member)
      this.scheduleTimer(group, member, 'sync');
    return outcome;
  }

  private joinToGroup(
    group: ConsumerGroup,
    req: JoinGroupInput,
  ): { outcome: JoinOutcome; records: GroupLogRecord[]; member: ConsumerGroupMember | null } {
    const now = this.now();
    const records: GroupLogRecord[] = [];
    const unknown = req.memberId === '';
    const memberId = unknown ? randomBytes(16).toString('base64url') : req.memberId;
    if (group.size >= this.config.groupConsumerMaxSize && !group.members.has(memberId))
      throw new GroupError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.config.groupConsumerMaxSize} members.`,
      );
    if (
      !group.supportsClassicProtocols(
        req.protocolType,
        req.protocols.map((p) => p.name),
        memberId,
      )
    )
      throw new GroupError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `Member ${memberId}'s protocols are not supported.`,
      );
    if (unknown && req.requireKnownMemberId)
      return { outcome: joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId), records, member: null };
    const subscription = decodeSubscription(req.protocols[0]!.metadata);
    if (subscription === null)
      throw new GroupError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `Member ${memberId}'s subscription does not decode.`,
      );

    let member: ConsumerGroupMember;
    let isNew = false;
    const instanceId = req.groupInstanceId;
    const staticId = instanceId === null ? undefined : group.staticMembers.get(instanceId);
    const previous = staticId === undefined ? undefined : group.members.get(staticId);
    if (previous !== undefined && previous.memberId !== memberId) {
      if (!unknown)
        throw new GroupError(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${memberId} with instance id ${instanceId} was fenced by member ${previous.memberId}.`,
        );
      // A restarted classic instance takes its place (KIP-345): same partitions, new member id.
      member = new ConsumerGroupMember(memberId);
      member.subscribedTopicNames = previous.subscribedTopicNames;
      member.rackId = previous.rackId;
      member.rebalanceTimeoutMs = previous.rebalanceTimeoutMs;
      const target = group.targetAssignment.get(previous.memberId) ?? EMPTY;
      const assigned = previous.assigned;
      const epoch = previous.memberEpoch;
      this.options.consumer.removeMember(group, previous, records);
      group.putMember(member);
      group.targetAssignment.set(memberId, target);
      records.push(targetMemberRecord(group.groupId, memberId, target));
      group.restoreAssignment(member, {
        state: MemberState.Stable,
        memberEpoch: Math.max(epoch, 0),
        previousMemberEpoch: -1,
        assigned,
        pendingRevocation: EMPTY,
      });
      isNew = true;
    } else {
      const existing = group.members.get(memberId);
      member = existing ?? new ConsumerGroupMember(memberId);
      isNew = existing === undefined;
    }
    const before = snapshot(member);
    const beforeClassic = member.classic;
    let bump = isNew;
    const topics = [...new Set(subscription.topics)].sort();
    if (!sameNames(topics, member.subscribedTopicNames)) {
      member.subscribedTopicNames = topics;
      bump = true;
    }
    if (member.subscribedTopicRegex !== null) {
      member.subscribedTopicRegex = null;
      bump = true;
    }
    if (instanceId !== null) member.instanceId = instanceId;
    if (subscription.rackId !== null) member.rackId = subscription.rackId;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    member.classic = { sessionTimeoutMs: req.sessionTimeoutMs, protocols: req.protocols };
    group.putMember(member);
    if (isNew || metadataChanged(before, member) || !sameClassic(beforeClassic, member.classic))
      records.push(memberRecord(group.groupId, member));
    this.options.targets.maybeBumpAndAssign(group, bump, now, records);
    this.options.consumer.reconcileMember(
      group,
      member,
      assignmentByTopicId(this.options.topics, subscription.ownedPartitions),
      records,
    );
    member.classicTimer?.cancel();
    member.classicTimer = null;
    member.classicTimerKind = null;
    this.options.consumer.touch(group, member, req.sessionTimeoutMs, now);
    return {
      records,
      member,
      outcome: {
        errorCode: ErrorCode.NONE,
        generationId: member.memberEpoch,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: req.protocols[0]!.name,
        // Nobody leads: the assignment is the coordinator's, so every member syncs as a follower.
        leader: '',
        skipAssignment: false,
        memberId,
        members: [],
      },
    };
  }

  /** The classic member a SyncGroup, Heartbeat or LeaveGroup names, after Kafka's checks. */
  private member(group: ConsumerGroup, memberId: string, instanceId: string | null): ConsumerGroupMember {
    if (instanceId !== null) {
      const id = group.staticMembers.get(instanceId);
      if (id === undefined)
        throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${instanceId} is unknown.`);
      if (id !== memberId)
        throw new GroupError(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${memberId} with instance id ${instanceId} was fenced by member ${id}.`,
        );
    }
    const member = group.members.get(memberId);
    if (member === undefined)
      throw new GroupError(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${memberId} is not a member of group ${group.groupId}.`,
      );
    if (!member.usesClassicProtocol)
      throw new GroupError(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${memberId} does not use the classic protocol.`,
      );
    return member;
  }

  /**
   * Whether a classic member must rejoin: the group moved past its epoch (unless it is still
   * revoking, which its own rejoin reports), or partitions it waited for are free now.
   */
  private mustRejoin(group: ConsumerGroup, member: ConsumerGroupMember): boolean {
    if (group.groupEpoch > member.memberEpoch && member.state !== MemberState.UnrevokedPartitions)
      return true;
    return member.state === MemberState.UnreleasedPartitions && !group.waitingOnUnreleasedPartitions(member);
  }

  /** SyncGroup from a classic member: its current assignment, in the embedded protocol's bytes. */
  sync(group: ConsumerGroup, req: SyncGroupInput): SyncOutcome {
    try {
      const member = this.member(group, req.memberId, req.groupInstanceId);
      if (req.generationId !== member.memberEpoch)
        throw new GroupError(
          ErrorCode.ILLEGAL_GENERATION,
          `The request generation id ${req.generationId} is not equal to the member epoch ${member.memberEpoch} of member ${member.memberId}.`,
        );
      const protocolName = member.classic!.protocols[0]!.name;
      if (
        (req.protocolType !== null && req.protocolType !== CONSUMER_PROTOCOL_TYPE) ||
        (req.protocolName !== null && req.protocolName !== protocolName)
      )
        throw new GroupError(
          ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
          'The protocol does not match the join response.',
        );
      if (this.mustRejoin(group, member)) {
        this.scheduleTimer(group, member, 'join');
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      }
      if (member.classicTimerKind === 'sync') {
        member.classicTimer?.cancel();
        member.classicTimer = null;
        member.classicTimerKind = null;
      }
      this.options.consumer.touch(group, member, member.classic!.sessionTimeoutMs);
      return {
        errorCode: ErrorCode.NONE,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName,
        assignment: encodeAssignment(assignmentByTopicName(this.options.topics, member.assigned)),
      };
    } catch (e) {
      return syncError(refusalCode(e));
    }
  }

  /** Heartbeat from a classic member: REBALANCE_IN_PROGRESS when it must rejoin to move on. */
  heartbeat(group: ConsumerGroup, memberId: string, instanceId: string | null, generationId: number): number {
    try {
      const member = this.member(group, memberId, instanceId);
      if (generationId !== member.memberEpoch) return ErrorCode.ILLEGAL_GENERATION;
      this.options.consumer.touch(group, member, member.classic!.sessionTimeoutMs);
      if (this.mustRejoin(group, member)) {
        this.scheduleTimer(group, member, 'join');
        return ErrorCode.REBALANCE_IN_PROGRESS;
      }
      return ErrorCode.NONE;
    } catch (e) {
      return refusalCode(e);
    }
  }

  /** LeaveGroup in a consumer group: classic members by id, or any member by instance id (admin). */
  leave(group: ConsumerGroup, identities: readonly MemberIdentity[]): LeaveOutcome {
    const records: GroupLogRecord[] = [];
    const members: LeaveOutcome['members'] = [];
    for (const id of identities) {
      let errorCode: number = ErrorCode.NONE;
      try {
        let member: ConsumerGroupMember;
        if (id.memberId === '') {
          const staticId =
            id.groupInstanceId === null ? undefined : group.staticMembers.get(id.groupInstanceId);
          const found = staticId === undefined ? undefined : group.members.get(staticId);
          if (found === undefined)
            throw new GroupError(
              ErrorCode.UNKNOWN_MEMBER_ID,
              `Instance id ${id.groupInstanceId} is unknown.`,
            );
          member = found;
        } else member = this.member(group, id.memberId, id.groupInstanceId);
        if (group.dead) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID, 'The group changed protocol.');
        this.options.consumer.removeMemberAndBump(group, member, records);
        this.options.logger.info({ group: group.groupId, member: member.memberId }, 'classic member left');
      } catch (e) {
        errorCode = refusalCode(e);
      }
      members.push({ memberId: id.memberId, groupInstanceId: id.groupInstanceId, errorCode });
    }
    if (records.length > 0)
      this.options.log
        .append(group.groupId, records)
        .catch((e: unknown) =>
          this.options.logger.warn(
            { err: e, group: group.groupId },
            'could not store a classic member leaving',
          ),
        );
    return { errorCode: ErrorCode.NONE, members };
  }

  /** A classic member that owes a SyncGroup or a JoinGroup is fenced after its rebalance timeout. */
  private scheduleTimer(group: ConsumerGroup, member: ConsumerGroupMember, kind: 'sync' | 'join'): void {
    if (kind === 'join' && member.classicTimerKind === 'join') return;
    member.classicTimer?.cancel();
    const timeout =
      member.rebalanceTimeoutMs > 0 ? member.rebalanceTimeoutMs : (member.classic?.sessionTimeoutMs ?? 0);
    const timer = this.options.clock.schedule(timeout, () => {
      if (member.classicTimer !== timer) return;
      member.classicTimer = null;
      member.classicTimerKind = null;
      if (!this.options.availability.isActive || group.dead || group.members.get(member.memberId) !== member)
        return;
      this.options.logger.info(
        { group: group.groupId, member: member.memberId, waitedFor: kind },
        'classic member did not rejoin or sync within its rebalance timeout',
      );
      this.options.consumer.fence(group, member);
    });
    member.classicTimer = timer;
    member.classicTimerKind = kind;
  }
}
