// Groups changing protocol while members stay (KIP-848's online migration): a classic group of
// consumers becomes a consumer-protocol group when a member of the consumer protocol joins it, and
// goes back to the classic protocol when the last such member leaves and classic members remain,
// as group.consumer.migration.policy allows.
import { ErrorCode } from '@tributary/codec';
import type { BrokerConfig } from '../broker/config.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { Clock, Logger } from '../services.js';
import { EMPTY } from './assignors/assignor.js';
import { ClassicGroup, GroupMember, GroupState, joinError, syncError } from './classic-group.js';
import { ConsumerGroup, ConsumerGroupMember } from './consumer-group.js';
import {
  currentMemberRecord,
  deletionRecords,
  groupRecord,
  memberRecord,
  memberTombstones,
  targetMemberRecord,
} from './consumer-group-records.js';
import {
  assignmentByTopicId,
  assignmentByTopicName,
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
} from './embedded-protocol.js';
import type { GroupLogRecord } from './group-log.js';
import { GroupError } from './group-requests.js';
import type { GroupStore } from './group-store.js';
import { MemberState } from './reconciliation.js';

/** What the consumer protocol asks of the classic protocol when a group changes protocol. */
export interface ClassicGroupHandover {
  /** Stops a classic group's timers before a consumer group takes its place. */
  retire(group: ClassicGroup): void;
  /**
   * Installs a classic group converted from a consumer group, restarts its members' sessions and
   * starts a rebalance; returns the group's metadata record to store.
   */
  adoptDowngradedGroup(group: ClassicGroup): GroupLogRecord;
}

export interface ConsumerGroupMigrationOptions {
  readonly topics: TopicRegistry;
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: GroupStore;
  readonly classic: ClassicGroupHandover;
}

/** Converts groups between the classic and the consumer protocol, with the records that store it. */
export class ConsumerGroupMigration {
  constructor(private readonly options: ConsumerGroupMigrationOptions) {}

  private get config(): BrokerConfig {
    return this.options.config;
  }

  private now(): number {
    return this.options.clock.now();
  }

  upgradeAllowed(group: ClassicGroup): boolean {
    const policy = this.config.groupConsumerMigrationPolicy;
    return (
      (policy === 'bidirectional' || policy === 'upgrade') &&
      group.protocolType === CONSUMER_PROTOCOL_TYPE &&
      group.size <= this.config.groupConsumerMaxSize
    );
  }

  /**
   * A member of the consumer protocol joins a live classic group (KIP-848's online upgrade): the
   * group becomes a consumer group whose classic members keep their generation as member epoch
   * and their last assignment, as current and target. The joining member then moves the epoch,
   * and the classic members learn at their next heartbeat that they must rejoin. Their sessions
   * are the caller's to restart.
   */
  upgrade(classic: ClassicGroup, records: GroupLogRecord[]): ConsumerGroup {
    const { groupId } = classic;
    const malformed = () =>
      new GroupError(
        ErrorCode.GROUP_ID_NOT_FOUND,
        `Cannot upgrade the classic group ${groupId} to consumer group because the embedded consumer protocol is malformed.`,
      );
    const group = new ConsumerGroup(groupId, this.now());
    group.groupEpoch = classic.generationId;
    group.assignmentEpoch = classic.generationId;
    const converted: ConsumerGroupMember[] = [];
    for (const m of classic.members.values()) {
      const metadata =
        classic.protocolName === null
          ? (m.protocols[0]?.metadata ?? Buffer.alloc(0))
          : m.metadataFor(classic.protocolName);
      const subscription = decodeSubscription(metadata);
      const assignment = decodeAssignment(m.assignment);
      if (subscription === null || assignment === null) throw malformed();
      if (assignment.userData !== null && assignment.userData.length > 0)
        throw new GroupError(ErrorCode.UNSUPPORTED_VERSION, 'userData from a custom assignor would be lost');
      const member = new ConsumerGroupMember(m.memberId);
      member.instanceId = m.groupInstanceId;
      member.rackId = subscription.rackId;
      member.rebalanceTimeoutMs = m.rebalanceTimeoutMs;
      member.clientId = m.clientId;
      member.clientHost = m.clientHost;
      member.subscribedTopicNames = [...new Set(subscription.topics)].sort();
      member.classic = { sessionTimeoutMs: m.sessionTimeoutMs, protocols: m.protocols };
      const assigned = assignmentByTopicId(this.options.topics, assignment.partitions);
      converted.push(member);
      group.putMember(member);
      group.restoreAssignment(member, {
        state: MemberState.Stable,
        memberEpoch: classic.generationId,
        previousMemberEpoch: classic.generationId,
        assigned,
        pendingRevocation: EMPTY,
      });
      group.targetAssignment.set(member.memberId, assigned);
    }
    // The classic members' parked requests end: they rejoin, now into the consumer group.
    for (const m of classic.members.values()) {
      m.completeJoin(joinError(ErrorCode.REBALANCE_IN_PROGRESS, m.memberId));
      m.completeSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      m.expiryTimer?.cancel();
      m.expiryTimer = null;
    }
    group.adoptOffsets(classic);
    this.options.classic.retire(classic);
    this.options.store.put(group);
    records.push({ type: 'group', groupId, value: null });
    for (const m of converted) records.push(memberRecord(groupId, m));
    records.push(groupRecord(group));
    for (const m of converted) records.push(targetMemberRecord(groupId, m.memberId, m.assigned));
    records.push({
      type: 'consumer-target-metadata',
      groupId,
      value: { assignmentEpoch: group.assignmentEpoch, assignmentTimestamp: BigInt(this.now()) },
    });
    for (const m of converted) records.push(currentMemberRecord(groupId, m));
    this.options.logger.info(
      { group: groupId, members: converted.length },
      'classic group upgraded to a consumer group',
    );
    return group;
  }

  /**
   * Whether the group goes back to the classic protocol when `leaving` goes: it is the last
   * member of the consumer protocol and classic members remain (KIP-848's online downgrade).
   */
  downgradeAllowed(group: ConsumerGroup, leaving: ConsumerGroupMember): boolean {
    const policy = this.config.groupConsumerMigrationPolicy;
    if (policy !== 'bidirectional' && policy !== 'downgrade') return false;
    if (leaving.usesClassicProtocol || group.size <= 1 || group.size - 1 > this.config.groupMaxSize)
      return false;
    for (const m of group.members.values()) if (m !== leaving && !m.usesClassicProtocol) return false;
    return true;
  }

  /**
   * Turns the group back into a classic group of its classic members, at the group epoch as
   * generation, each with its current assignment; the classic coordinator then starts a
   * rebalance, so the members rejoin and their leader assigns again.
   */
  downgrade(group: ConsumerGroup, leaving: ConsumerGroupMember, records: GroupLogRecord[]): void {
    const { groupId } = group;
    const classic = new ClassicGroup(groupId, this.now());
    classic.adoptOffsets(group);
    classic.generationId = group.groupEpoch;
    for (const m of group.members.values()) {
      if (m === leaving) continue;
      const gm = new GroupMember(
        m.memberId,
        m.instanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeoutMs > 0 ? m.rebalanceTimeoutMs : m.classic!.sessionTimeoutMs,
        m.classic!.sessionTimeoutMs,
        CONSUMER_PROTOCOL_TYPE,
        m.classic!.protocols,
      );
      gm.assignment = encodeAssignment(assignmentByTopicName(this.options.topics, m.assigned));
      classic.add(gm);
    }
    classic.protocolName = classic.selectProtocol();
    classic.transitionTo(GroupState.Stable, this.now());
    for (const m of group.members.values()) records.push(...memberTombstones(groupId, m.memberId));
    records.push(...deletionRecords(group));
    for (const m of [...group.members.keys()]) group.removeMember(m);
    group.dead = true;
    records.push(this.options.classic.adoptDowngradedGroup(classic));
    this.options.logger.info(
      { group: groupId, members: classic.size },
      'consumer group downgraded to a classic group',
    );
  }
}
