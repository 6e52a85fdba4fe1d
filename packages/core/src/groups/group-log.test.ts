import {
  decodeGroupMetadataValue,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
} from '@tributary/codec/coordinator';
import { describe, expect, it } from 'vitest';
import {
  decodeGroupLogRecord,
  encodeGroupLogRecord,
  type GroupLogRecord,
  javaStringHash,
  partitionForGroup,
} from './group-log.js';

describe('group placement in __consumer_offsets', () => {
  it("hashes as Java's String.hashCode", () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('console-consumer-12345')).toBe(158455506);
    expect(javaStringHash('analytics')).toBe(-1693017210);
    // The one string whose hash is Integer.MIN_VALUE: Kafka's abs maps it to 0.
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
  });

  it('places a group at abs(hash) mod partitions', () => {
    expect(partitionForGroup('hello', 50)).toBe(99162322 % 50);
    expect(partitionForGroup('analytics', 50)).toBe(1693017210 % 50);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
  });
});

describe('group log records', () => {
  it('writes an offset commit as Kafka does: key version 1, value version 3', () => {
    const { key, value } = encodeGroupLogRecord({
      type: 'offset',
      groupId: 'g',
      topic: 't',
      partition: 7,
      value: { offset: 42, leaderEpoch: 3, metadata: 'meta', commitTimestamp: 1000, expireTimestamp: -1 },
    });
    expect(key.readInt16BE(0)).toBe(1);
    expect(decodeOffsetCommitKey(key, 0, 2)).toMatchObject({ group: 'g', topic: 't', partition: 7 });
    expect(value!.readInt16BE(0)).toBe(3);
    expect(decodeOffsetCommitValue(value!, 3, 2)).toMatchObject({
      offset: 42n,
      leaderEpoch: 3,
      metadata: 'meta',
      commitTimestamp: 1000n,
    });
  });

  it('writes value version 1 when the commit set its own expiry, and reads it back', () => {
    const record = {
      type: 'offset' as const,
      groupId: 'g',
      topic: 't',
      partition: 0,
      value: { offset: 1, leaderEpoch: -1, metadata: '', commitTimestamp: 5, expireTimestamp: 99 },
    };
    const { key, value } = encodeGroupLogRecord(record);
    expect(value!.readInt16BE(0)).toBe(1);
    expect(decodeGroupLogRecord(key, value)).toEqual(record);
  });

  it('round-trips group metadata (version 3) and tombstones', () => {
    const record = {
      type: 'group' as const,
      groupId: 'g',
      value: {
        protocolType: 'consumer',
        generation: 4,
        protocol: 'range',
        leader: 'm1',
        currentStateTimestamp: 1234n,
        members: [
          {
            memberId: 'm1',
            groupInstanceId: 'i1',
            clientId: 'c',
            clientHost: '/127.0.0.1',
            rebalanceTimeout: 60000,
            sessionTimeout: 10000,
            subscription: Buffer.from([0, 1, 2]),
            assignment: Buffer.from([9, 8]),
          },
        ],
      },
    };
    const { key, value } = encodeGroupLogRecord(record);
    expect(key.readInt16BE(0)).toBe(2);
    expect(value!.readInt16BE(0)).toBe(3);
    expect(decodeGroupMetadataValue(value!, 3, 2).members[0]!.groupInstanceId).toBe('i1');
    expect(decodeGroupLogRecord(key, value)).toEqual(record);
    expect(decodeGroupLogRecord(key, null)).toEqual({ type: 'group', groupId: 'g', value: null });
    const offsetKey = encodeGroupLogRecord({
      type: 'offset',
      groupId: 'g',
      topic: 't',
      partition: 1,
      value: null,
    });
    expect(offsetKey.value).toBeNull();
    expect(decodeGroupLogRecord(offsetKey.key, null)).toEqual({
      type: 'offset',
      groupId: 'g',
      topic: 't',
      partition: 1,
      value: null,
    });
  });

  it('ignores record types other coordinators own', () => {
    const key = Buffer.from([0, 10, 0, 1, 0x61]);
    expect(decodeGroupLogRecord(key, null)).toBeNull();
  });
});

describe('consumer group records', () => {
  const topicId = Buffer.alloc(16, 7);
  it('round-trips each record type with Kafka key versions 3, 5, 6, 7, 8 and 16', () => {
    const records: GroupLogRecord[] = [
      { type: 'consumer-group', groupId: 'g', value: { epoch: 4, metadataHash: 99n } },
      {
        type: 'consumer-member',
        groupId: 'g',
        memberId: 'm',
        value: {
          instanceId: 'i',
          rackId: null,
          clientId: 'c',
          clientHost: '/127.0.0.1',
          subscribedTopicNames: ['orders'],
          subscribedTopicRegex: null,
          rebalanceTimeoutMs: 30_000,
          serverAssignor: 'range',
          classicMemberMetadata: null,
        },
      },
      {
        type: 'consumer-target-metadata',
        groupId: 'g',
        value: { assignmentEpoch: 4, assignmentTimestamp: 5n },
      },
      {
        type: 'consumer-target-member',
        groupId: 'g',
        memberId: 'm',
        value: { topicPartitions: [{ topicId, partitions: [0, 2] }] },
      },
      {
        type: 'consumer-current-member',
        groupId: 'g',
        memberId: 'm',
        value: {
          memberEpoch: 4,
          previousMemberEpoch: 3,
          state: 1,
          assignedPartitions: [{ topicId, partitions: [0], assignmentEpochs: null }],
          partitionsPendingRevocation: [{ topicId, partitions: [1], assignmentEpochs: null }],
        },
      },
      {
        type: 'consumer-regex',
        groupId: 'g',
        regex: 'ord.*',
        value: { topics: ['orders'], version: 0n, timestamp: 6n },
      },
    ];
    const keyVersions = [3, 5, 6, 7, 8, 16];
    records.forEach((r, i) => {
      const { key, value } = encodeGroupLogRecord(r);
      expect(key.readInt16BE(0)).toBe(keyVersions[i]);
      expect(value!.readInt16BE(0)).toBe(0);
      expect(decodeGroupLogRecord(key, value)).toMatchObject(r);
      // Tombstones keep the key.
      const tomb = encodeGroupLogRecord({ ...r, value: null } as never);
      expect(tomb.value).toBeNull();
      expect(decodeGroupLogRecord(tomb.key, null)).toMatchObject({ type: r.type, groupId: 'g', value: null });
    });
  });
});
