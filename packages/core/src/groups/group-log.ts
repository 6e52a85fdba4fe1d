// The group coordinator's records: Kafka's own record formats in __consumer_offsets, so that group
// metadata and committed offsets survive a restart and any Kafka tool can read them back. The
// coordinator log underneath appends and replays them.
//
// A record's key and value each start with an int16 version: the key's names the record type
// (0 and 1 offset commits, 2 classic group metadata, 3-8 and 16 consumer groups), the value's
// the schema version of its body.
import {
  type ConsumerGroupCurrentMemberAssignmentValue,
  type ConsumerGroupMemberMetadataValue,
  type ConsumerGroupMetadataValue,
  type ConsumerGroupRegularExpressionValue,
  type ConsumerGroupTargetAssignmentMemberValue,
  type ConsumerGroupTargetAssignmentMetadataValue,
  decodeConsumerGroupCurrentMemberAssignmentKey,
  decodeConsumerGroupCurrentMemberAssignmentValue,
  decodeConsumerGroupMemberMetadataKey,
  decodeConsumerGroupMemberMetadataValue,
  decodeConsumerGroupMetadataKey,
  decodeConsumerGroupMetadataValue,
  decodeConsumerGroupPartitionMetadataKey,
  decodeConsumerGroupRegularExpressionKey,
  decodeConsumerGroupRegularExpressionValue,
  decodeConsumerGroupTargetAssignmentMemberKey,
  decodeConsumerGroupTargetAssignmentMemberValue,
  decodeConsumerGroupTargetAssignmentMetadataKey,
  decodeConsumerGroupTargetAssignmentMetadataValue,
  decodeGroupMetadataKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeConsumerGroupCurrentMemberAssignmentKey,
  encodeConsumerGroupCurrentMemberAssignmentValue,
  encodeConsumerGroupMemberMetadataKey,
  encodeConsumerGroupMemberMetadataValue,
  encodeConsumerGroupMetadataKey,
  encodeConsumerGroupMetadataValue,
  encodeConsumerGroupRegularExpressionKey,
  encodeConsumerGroupRegularExpressionValue,
  encodeConsumerGroupTargetAssignmentMemberKey,
  encodeConsumerGroupTargetAssignmentMemberValue,
  encodeConsumerGroupTargetAssignmentMetadataKey,
  encodeConsumerGroupTargetAssignmentMetadataValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from '@tributary/codec/coordinator';
import type { TopicRegistry } from '../broker/topics.js';
import {
  CoordinatorLog,
  type CoordinatorRecord,
  type LoggedRecord,
  type TransactionalProducer,
} from '../coordinator/coordinator-log.js';
import type { Clock, Logger } from '../services.js';
import type { StorageAdapter } from '../storage/index.js';
import type { CommittedOffset } from './classic-group.js';

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
/** The value versions a Kafka 4 broker writes: v3 offsets (v1 when the commit set its own expiry), v3 groups. */
const OFFSET_COMMIT_VALUE_VERSION = 3;
const OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION = 1;
const GROUP_METADATA_VALUE_VERSION = 3;
const MAX_OFFSET_COMMIT_VALUE_VERSION = 4;
const MAX_GROUP_METADATA_VALUE_VERSION = 4;

/** The consumer group protocol's record types (key versions); every value is at version 0. */
const ConsumerRecordType = {
  GroupMetadata: 3,
  PartitionMetadata: 4,
  MemberMetadata: 5,
  TargetAssignmentMetadata: 6,
  TargetAssignmentMember: 7,
  CurrentMemberAssignment: 8,
  RegularExpression: 16,
} as const;

export type GroupLogRecord =
  | {
      readonly type: 'offset';
      readonly groupId: string;
      readonly topic: string;
      readonly partition: number;
      /** null: a tombstone (the offset was deleted or expired). */
      readonly value: CommittedOffset | null;
    }
  | {
      readonly type: 'group';
      readonly groupId: string;
      /** null: a tombstone (the group was deleted). */
      readonly value: GroupMetadataValue | null;
    }
  | {
      readonly type: 'consumer-group';
      readonly groupId: string;
      readonly value: ConsumerGroupMetadataValue | null;
    }
  | {
      /** Written by older Kafka versions; read so that its tombstones are recognised, otherwise unused. */
      readonly type: 'consumer-partition-metadata';
      readonly groupId: string;
    }
  | {
      readonly type: 'consumer-member';
      readonly groupId: string;
      readonly memberId: string;
      readonly value: ConsumerGroupMemberMetadataValue | null;
    }
  | {
      readonly type: 'consumer-target-metadata';
      readonly groupId: string;
      readonly value: ConsumerGroupTargetAssignmentMetadataValue | null;
    }
  | {
      readonly type: 'consumer-target-member';
      readonly groupId: string;
      readonly memberId: string;
      readonly value: ConsumerGroupTargetAssignmentMemberValue | null;
    }
  | {
      readonly type: 'consumer-current-member';
      readonly groupId: string;
      readonly memberId: string;
      readonly value: ConsumerGroupCurrentMemberAssignmentValue | null;
    }
  | {
      readonly type: 'consumer-regex';
      readonly groupId: string;
      readonly regex: string;
      readonly value: ConsumerGroupRegularExpressionValue | null;
    };

/** Java's String.hashCode over UTF-16 code units. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The __consumer_offsets partition that holds a group: abs(hash) mod partitions, as Kafka places it. */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHash(groupId);
  // Kafka's abs maps Integer.MIN_VALUE to 0 rather than overflowing.
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

function withVersion(version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, 2);
  return out;
}

export function encodeGroupLogRecord(r: GroupLogRecord): CoordinatorRecord {
  if (r.type === 'offset') {
    const key = withVersion(
      OFFSET_COMMIT_KEY_VERSION,
      encodeOffsetCommitKey({ group: r.groupId, topic: r.topic, partition: r.partition }, 0),
    );
    if (r.value === null) return { key, value: null };
    const version =
      r.value.expireTimestamp >= 0 ? OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION : OFFSET_COMMIT_VALUE_VERSION;
    const value = withVersion(
      version,
      encodeOffsetCommitValue(
        {
          offset: BigInt(r.value.offset),
          leaderEpoch: r.value.leaderEpoch,
          metadata: r.value.metadata,
          commitTimestamp: BigInt(r.value.commitTimestamp),
          expireTimestamp: BigInt(r.value.expireTimestamp),
          topicId: Buffer.alloc(16),
        },
        version,
      ),
    );
    return { key, value };
  }
  if (r.type !== 'group') return encodeConsumerRecord(r);
  const key = withVersion(GROUP_METADATA_KEY_VERSION, encodeGroupMetadataKey({ group: r.groupId }, 0));
  if (r.value === null) return { key, value: null };
  return {
    key,
    value: withVersion(
      GROUP_METADATA_VALUE_VERSION,
      encodeGroupMetadataValue(r.value, GROUP_METADATA_VALUE_VERSION),
    ),
  };
}

function encodeConsumerRecord(r: Exclude<GroupLogRecord, { type: 'offset' } | { type: 'group' }>): {
  key: Buffer;
  value: Buffer | null;
} {
  const T = ConsumerRecordType;
  const { groupId } = r;
  const value = (body: Buffer | null): Buffer | null => (body === null ? null : withVersion(0, body));
  switch (r.type) {
    case 'consumer-group':
      return {
        key: withVersion(T.GroupMetadata, encodeConsumerGroupMetadataKey({ groupId }, 0)),
        value: value(r.value && encodeConsumerGroupMetadataValue(r.value, 0)),
      };
    case 'consumer-partition-metadata':
      throw new Error('partition metadata records are not written');
    case 'consumer-member':
      return {
        key: withVersion(
          T.MemberMetadata,
          encodeConsumerGroupMemberMetadataKey({ groupId, memberId: r.memberId }, 0),
        ),
        value: value(r.value && encodeConsumerGroupMemberMetadataValue(r.value, 0)),
      };
    case 'consumer-target-metadata':
      return {
        key: withVersion(
          T.TargetAssignmentMetadata,
          encodeConsumerGroupTargetAssignmentMetadataKey({ groupId }, 0),
        ),
        value: value(r.value && encodeConsumerGroupTargetAssignmentMetadataValue(r.value, 0)),
      };
    case 'consumer-target-member':
      return {
        key: withVersion(
          T.TargetAssignmentMember,
          encodeConsumerGroupTargetAssignmentMemberKey({ groupId, memberId: r.memberId }, 0),
        ),
        value: value(r.value && encodeConsumerGroupTargetAssignmentMemberValue(r.value, 0)),
      };
    case 'consumer-current-member':
      return {
        key: withVersion(
          T.CurrentMemberAssignment,
          encodeConsumerGroupCurrentMemberAssignmentKey({ groupId, memberId: r.memberId }, 0),
        ),
        value: value(r.value && encodeConsumerGroupCurrentMemberAssignmentValue(r.value, 0)),
      };
    case 'consumer-regex':
      return {
        key: withVersion(
          T.RegularExpression,
          encodeConsumerGroupRegularExpressionKey({ groupId, regularExpression: r.regex }, 0),
        ),
        value: value(r.value && encodeConsumerGroupRegularExpressionValue(r.value, 0)),
      };
  }
}

/** Decodes one record of the log; null for record types the group coordinator does not own. */
export function decodeGroupLogRecord(key: Buffer, value: Buffer | null): GroupLogRecord | null {
  if (key.length < 2) return null;
  const keyVersion = key.readInt16BE(0);
  if (keyVersion === 0 || keyVersion === 1) {
    // Version 0 is the legacy offset key, with the same layout.
    const k = decodeOffsetCommitKey(key, 0, 2);
    if (value === null)
      return { type: 'offset', groupId: k.group, topic: k.topic, partition: k.partition, value: null };
    const v = decodeOffsetCommitValue(
      value,
      Math.min(value.readInt16BE(0), MAX_OFFSET_COMMIT_VALUE_VERSION),
      2,
    );
    return {
      type: 'offset',
      groupId: k.group,
      topic: k.topic,
      partition: k.partition,
      value: {
        offset: Number(v.offset),
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: Number(v.commitTimestamp),
        expireTimestamp: Number(v.expireTimestamp),
      },
    };
  }
  if (keyVersion === GROUP_METADATA_KEY_VERSION) {
    const k = decodeGroupMetadataKey(key, 0, 2);
    if (value === null) return { type: 'group', groupId: k.group, value: null };
    const v = decodeGroupMetadataValue(
      value,
      Math.min(value.readInt16BE(0), MAX_GROUP_METADATA_VALUE_VERSION),
      2,
    );
    return { type: 'group', groupId: k.group, value: v };
  }
  return decodeConsumerRecord(keyVersion, key, value);
}

function decodeConsumerRecord(type: number, key: Buffer, value: Buffer | null): GroupLogRecord | null {
  const T = ConsumerRecordType;
  // Every consumer record value is at version 0 so far; a newer one still starts with its fields.
  switch (type) {
    case T.GroupMetadata: {
      const { groupId } = decodeConsumerGroupMetadataKey(key, 0, 2);
      return {
        type: 'consumer-group',
        groupId,
        value: value && decodeConsumerGroupMetadataValue(value, 0, 2),
      };
    }
    case T.PartitionMetadata:
      return {
        type: 'consumer-partition-metadata',
        groupId: decodeConsumerGroupPartitionMetadataKey(key, 0, 2).groupId,
      };
    case T.MemberMetadata: {
      const k = decodeConsumerGroupMemberMetadataKey(key, 0, 2);
      return {
        type: 'consumer-member',
        groupId: k.groupId,
        memberId: k.memberId,
        value: value && decodeConsumerGroupMemberMetadataValue(value, 0, 2),
      };
    }
    case T.TargetAssignmentMetadata:
      return {
        type: 'consumer-target-metadata',
        groupId: decodeConsumerGroupTargetAssignmentMetadataKey(key, 0, 2).groupId,
        value: value && decodeConsumerGroupTargetAssignmentMetadataValue(value, 0, 2),
      };
    case T.TargetAssignmentMember: {
      const k = decodeConsumerGroupTargetAssignmentMemberKey(key, 0, 2);
      return {
        type: 'consumer-target-member',
        groupId: k.groupId,
        memberId: k.memberId,
        value: value && decodeConsumerGroupTargetAssignmentMemberValue(value, 0, 2),
      };
    }
    case T.CurrentMemberAssignment: {
      const k = decodeConsumerGroupCurrentMemberAssignmentKey(key, 0, 2);
      return {
        type: 'consumer-current-member',
        groupId: k.groupId,
        memberId: k.memberId,
        value: value && decodeConsumerGroupCurrentMemberAssignmentValue(value, 0, 2),
      };
    }
    case T.RegularExpression: {
      const k = decodeConsumerGroupRegularExpressionKey(key, 0, 2);
      return {
        type: 'consumer-regex',
        groupId: k.groupId,
        regex: k.regularExpression,
        value: value && decodeConsumerGroupRegularExpressionValue(value, 0, 2),
      };
    }
    default:
      return null;
  }
}

export interface GroupLogOptions {
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Partitions to create the topic with; an existing topic keeps its own count. */
  readonly partitions: number;
}

/** A group record read back, with its offset in its __consumer_offsets partition. */
export interface LoggedGroupRecord {
  readonly record: GroupLogRecord;
  readonly offset: number;
}

/** A transaction whose records a replay found without a marker after them. */
export interface PendingGroupTransaction extends TransactionalProducer {
  readonly partition: number;
  readonly records: readonly LoggedGroupRecord[];
}

/**
 * The group coordinator's records on the coordinator log of __consumer_offsets: a group's records
 * go to the partition its id hashes to, encoded as Kafka encodes them.
 */
export class GroupLog {
  private readonly log: CoordinatorLog;

  constructor(private readonly options: GroupLogOptions) {
    this.log = new CoordinatorLog({
      storage: options.storage,
      topics: options.topics,
      clock: options.clock,
      logger: options.logger,
      topic: CONSUMER_OFFSETS_TOPIC,
      partitions: options.partitions,
      configs: { 'cleanup.policy': 'compact' },
    });
  }

  /** Creates the topic (compacted) when missing. */
  open(): Promise<void> {
    return this.log.open();
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.log.partitionCount);
  }

  /**
   * Appends the records of one group as one batch; resolves once storage has them, to the offset
   * of the first (-1 when there are none).
   */
  async append(groupId: string, records: readonly GroupLogRecord[]): Promise<number> {
    if (records.length === 0) return -1;
    return this.log.append(this.partitionFor(groupId), records.map(encodeGroupLogRecord));
  }

  /**
   * Appends records of one group as a transactional batch of the producer: they take effect on
   * replay only once the producer's COMMIT marker follows on the partition.
   */
  async appendTransactional(
    groupId: string,
    producer: TransactionalProducer,
    records: readonly GroupLogRecord[],
  ): Promise<number> {
    if (records.length === 0) return -1;
    return this.log.append(this.partitionFor(groupId), records.map(encodeGroupLogRecord), producer);
  }

  /**
   * Reads every partition from its start and hands each record that takes effect, in the order
   * it does, to `apply`; transactions left open are handed to `pending`. Resolves to the number of
   * records applied.
   */
  async replay(
    apply: (record: GroupLogRecord, offset: number) => void,
    pending: (txn: PendingGroupTransaction) => void = () => {},
  ): Promise<number> {
    let count = 0;
    for (let partition = 0; partition < this.log.partitionCount; partition++)
      count += await this.replayPartition(partition, apply, pending);
    return count;
  }

  /** `replay` of one partition, which this coordinator takes on. */
  async replayPartition(
    partition: number,
    apply: (record: GroupLogRecord, offset: number) => void,
    pending: (txn: PendingGroupTransaction) => void = () => {},
  ): Promise<number> {
    let count = 0;
    const load = await this.log.load(partition, {
      apply: (record) => {
        const decoded = this.decode(record, partition);
        if (decoded === null) return;
        apply(decoded, record.offset);
        count++;
      },
    });
    for (const txn of load.pending.values()) {
      const records: LoggedGroupRecord[] = [];
      for (const r of txn.records) {
        const decoded = this.decode(r, partition);
        if (decoded !== null) records.push({ record: decoded, offset: r.offset });
      }
      pending({ partition, producerId: txn.producerId, producerEpoch: txn.producerEpoch, records });
    }
    return count;
  }

  /** Forgets a partition this coordinator gives up (another takes it on). */
  unloadPartition(partition: number): void {
    this.log.unload(partition);
  }

  get partitionCount(): number {
    return this.log.partitionCount;
  }

  private decode(record: LoggedRecord, partition: number): GroupLogRecord | null {
    try {
      return decodeGroupLogRecord(record.key, record.value);
    } catch (e) {
      this.options.logger.warn(
        { err: e, partition, offset: record.offset },
        'skipped an undecodable group record',
      );
      return null;
    }
  }
}
