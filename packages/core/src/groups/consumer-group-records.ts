// The records a consumer-protocol group is stored as in __consumer_offsets, built from its state.
import type { ConsumerGroupCurrentMemberAssignmentValueTopicPartitions } from '@tributary/codec/coordinator';
import { type Assignment, addPartition, type MutableAssignment } from './assignors/assignor.js';
import type { ConsumerGroup, ConsumerGroupMember } from './consumer-group.js';
import type { GroupLogRecord } from './group-log.js';

/** The tombstones of a member's three records. */
export function memberTombstones(groupId: string, memberId: string): GroupLogRecord[] {
  return [
    { type: 'consumer-current-member', groupId, memberId, value: null },
    { type: 'consumer-target-member', groupId, memberId, value: null },
    { type: 'consumer-member', groupId, memberId, value: null },
  ];
}

/** The tombstones that delete an empty group's records (its offsets are the caller's). */
export function deletionRecords(group: ConsumerGroup): GroupLogRecord[] {
  const { groupId } = group;
  const records: GroupLogRecord[] = [];
  for (const regex of group.resolvedRegexes.keys())
    records.push({ type: 'consumer-regex', groupId, regex, value: null });
  records.push(
    { type: 'consumer-target-metadata', groupId, value: null },
    { type: 'consumer-group', groupId, value: null },
  );
  return records;
}

export function toRecord(a: Assignment): ConsumerGroupCurrentMemberAssignmentValueTopicPartitions[] {
  return [...a].map(([id, ps]) => ({
    topicId: Buffer.from(id, 'base64url'),
    partitions: [...ps].sort((x, y) => x - y),
    assignmentEpochs: null,
  }));
}

export function fromRecord(tps: readonly { topicId: Buffer; partitions: number[] }[]): Assignment {
  const out: MutableAssignment = new Map();
  for (const tp of tps) for (const p of tp.partitions) addPartition(out, tp.topicId.toString('base64url'), p);
  return out;
}

export function memberRecord(groupId: string, m: ConsumerGroupMember): GroupLogRecord {
  return {
    type: 'consumer-member',
    groupId,
    memberId: m.memberId,
    value: {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: [...m.subscribedTopicNames],
      subscribedTopicRegex: m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      serverAssignor: m.serverAssignor,
      classicMemberMetadata:
        m.classic === null
          ? null
          : {
              sessionTimeoutMs: m.classic.sessionTimeoutMs,
              supportedProtocols: m.classic.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
            },
    },
  };
}

export function currentMemberRecord(groupId: string, m: ConsumerGroupMember): GroupLogRecord {
  return {
    type: 'consumer-current-member',
    groupId,
    memberId: m.memberId,
    value: {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      assignedPartitions: toRecord(m.assigned),
      partitionsPendingRevocation: toRecord(m.pendingRevocation),
    },
  };
}

export function targetMemberRecord(groupId: string, memberId: string, a: Assignment): GroupLogRecord {
  return {
    type: 'consumer-target-member',
    groupId,
    memberId,
    value: { topicPartitions: toRecord(a).map((t) => ({ topicId: t.topicId, partitions: t.partitions })) },
  };
}

export function groupRecord(group: ConsumerGroup): GroupLogRecord {
  return {
    type: 'consumer-group',
    groupId: group.groupId,
    value: { epoch: group.groupEpoch, metadataHash: group.metadataHash },
  };
}
