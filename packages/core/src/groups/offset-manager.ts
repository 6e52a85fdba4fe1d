// Committed offsets of every group, whatever protocol its members speak: OffsetCommit,
// OffsetFetch and OffsetDelete, their records in __consumer_offsets, and retention.
import { ErrorCode } from '@tributary/codec';
import type { BrokerConfig } from '../broker/config.js';
import type { Clock, Logger, Metrics, TimerHandle } from '../services.js';
import { ClassicGroup, type CommittedOffset, GroupState } from './classic-group.js';
import type { ClassicProtocol } from './classic-protocol.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { ConsumerProtocol } from './consumer-protocol.js';
import type { GroupLog, GroupLogRecord } from './group-log.js';
import {
  type CoordinatorAvailability,
  type FetchedOffset,
  type FetchedOffsets,
  NO_MEMBER,
  type OffsetCommitInput,
  type OffsetDeleteOutcome,
  type OffsetFetchMember,
  refusalCode,
} from './group-requests.js';
import { type AnyGroup, type GroupStore, isDead } from './group-store.js';

export interface OffsetManagerOptions {
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: GroupStore;
  readonly log: GroupLog;
  readonly availability: CoordinatorAvailability;
  readonly classic: ClassicProtocol;
  readonly consumer: ConsumerProtocol;
}

type OffsetRecord = Extract<GroupLogRecord, { type: 'offset' }>;

/** The tombstones of every offset a group holds. */
export function offsetTombstones(group: AnyGroup): OffsetRecord[] {
  const records: OffsetRecord[] = [];
  for (const [topic, parts] of group.offsets)
    for (const partition of parts.keys())
      records.push({ type: 'offset', groupId: group.groupId, topic, partition, value: null });
  return records;
}

/** Which of a group's offsets retention may drop, and from when it counts. */
interface ExpiryRule {
  /** When retention starts counting for an offset. */
  readonly base: (o: CommittedOffset) => number;
  /** Topics whose offsets stay whatever their age: those the group's members subscribe to. */
  readonly keep: ReadonlySet<string> | null;
}

export class OffsetManager {
  private retentionTimer: TimerHandle | null = null;

  constructor(private readonly options: OffsetManagerOptions) {}

  private get config(): BrokerConfig {
    return this.options.config;
  }

  private now(): number {
    return this.options.clock.now();
  }

  // ---- OffsetCommit ---------------------------------------------------------------------------------

  /** Commits offsets; resolves to one error code per input offset once the append has resolved. */
  async commitOffsets(req: OffsetCommitInput): Promise<number[]> {
    const { store, classic, consumer } = this.options;
    const all = (code: number): number[] => req.offsets.map(() => code);
    const unavailable = this.options.availability.unavailableError();
    if (unavailable !== null) return all(unavailable);
    if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    let group = store.get(req.groupId);
    if (group === undefined) {
      // No generation: a consumer using assign(), or an admin; the group is created for it.
      if (req.generationId >= 0)
        return all(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(req.groupId, this.now());
      store.put(group);
    }
    try {
      if (group.type === 'consumer')
        consumer.validateOffsetCommit(group, req.memberId, req.generationId, req.apiVersion);
      else classic.validateOffsetCommit(group, req.memberId, req.groupInstanceId, req.generationId);
    } catch (e) {
      if (group.type === 'classic') classic.dropIfUnused(group);
      return all(refusalCode(e));
    }
    if (group.type === 'classic') classic.touchCommitter(group, req.memberId);
    const now = this.now();
    const expireTimestamp = req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : -1;
    const codes: number[] = [];
    const records: OffsetRecord[] = [];
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
      await this.options.log.append(req.groupId, records);
    } catch (e) {
      this.options.logger.warn({ err: e, group: req.groupId }, 'could not store committed offsets');
      if (group.type === 'classic') classic.dropIfUnused(group);
      return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : c));
    }
    // The group may have been deleted while the append was in flight: the offsets recreate it.
    let target = store.get(req.groupId);
    if (target === undefined) {
      target = isDead(group) ? new ClassicGroup(req.groupId, now) : group;
      store.put(target);
    }
    for (const r of records) if (r.value !== null) target.setOffset(r.topic, r.partition, r.value);
    this.options.metrics.increment('tributary_offset_commits_total', undefined, records.length);
    return codes;
  }

  // ---- OffsetFetch -----------------------------------------------------------------------------------

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
    const unavailable = this.options.availability.unavailableError();
    if (unavailable !== null) return { errorCode: unavailable, topics: [] };
    const group = this.options.store.get(groupId);
    if (group?.type === 'consumer') {
      try {
        this.options.consumer.validateOffsetFetch(group, member.memberId, member.memberEpoch);
      } catch (e) {
        return { errorCode: refusalCode(e), topics: [] };
      }
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

  // ---- OffsetDelete ----------------------------------------------------------------------------------

  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[],
  ): Promise<OffsetDeleteOutcome> {
    const unavailable = this.options.availability.unavailableError();
    if (unavailable !== null) return { errorCode: unavailable, topics: [] };
    const group = this.options.store.get(groupId);
    if (group === undefined || isDead(group)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    let subscribed: Set<string> | null;
    if (group.type === 'consumer') {
      subscribed = group.size === 0 ? null : group.subscribedTopicNames();
    } else {
      // Only consumer groups say what they subscribe to; other non-empty groups keep all their offsets.
      if (!group.is(GroupState.Empty) && group.protocolType !== 'consumer')
        return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      subscribed = group.is(GroupState.Empty) ? null : group.subscribedTopics();
    }
    const records: OffsetRecord[] = [];
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
        await this.options.log.append(groupId, records);
      } catch (e) {
        this.options.logger.warn({ err: e, group: groupId }, 'could not store an offset deletion');
        return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
      }
      for (const r of records) group.deleteOffset(r.topic, r.partition);
    }
    return { errorCode: ErrorCode.NONE, topics: result };
  }

  // ---- retention -------------------------------------------------------------------------------------

  /** Starts the periodic retention check. */
  start(): void {
    this.scheduleRetention();
  }

  close(): void {
    this.retentionTimer?.cancel();
    this.retentionTimer = null;
  }

  private scheduleRetention(): void {
    if (!this.options.availability.isActive) return;
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
   * Drops expired offsets: those of an empty group once retention has passed since it became
   * empty, those of a standalone consumer's group since their commit, and those of topics a
   * consumer group no longer subscribes to. An empty group left without offsets is deleted too.
   */
  async expireOffsets(): Promise<number> {
    if (!this.options.availability.isActive) return 0;
    const now = this.now();
    const retentionMs = this.config.offsetsRetentionMinutes * 60_000;
    let expired = 0;
    const appends: Promise<void>[] = [];
    for (const group of this.options.store.all()) {
      const rule = group.type === 'consumer' ? consumerExpiry(group) : classicExpiry(group);
      if (rule === null) continue;
      const records: GroupLogRecord[] = [];
      for (const [topic, parts] of group.offsets) {
        if (rule.keep?.has(topic)) continue;
        for (const [partition, o] of parts) {
          const isExpired =
            o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - rule.base(o) >= retentionMs;
          if (isExpired)
            records.push({ type: 'offset', groupId: group.groupId, topic, partition, value: null });
        }
      }
      for (const r of records) if (r.type === 'offset') group.deleteOffset(r.topic, r.partition);
      expired += records.length;
      records.push(...this.deleteIfExpired(group, now, retentionMs));
      if (records.length > 0) appends.push(this.options.log.append(group.groupId, records));
    }
    await Promise.all(appends);
    if (expired > 0) this.options.logger.info({ expired }, 'expired committed offsets');
    return expired;
  }

  /** Deletes an empty group left without offsets; returns its tombstones. */
  private deleteIfExpired(group: AnyGroup, now: number, retentionMs: number): GroupLogRecord[] {
    if (group.hasOffsets() || group.size > 0) return [];
    if (group.type === 'consumer')
      return now - group.stateTimestamp >= retentionMs ? this.options.consumer.deleteGroup(group) : [];
    return group.is(GroupState.Empty) && group.pendingMembers.size === 0
      ? this.options.classic.deleteGroup(group)
      : [];
  }

  // ---- replay ----------------------------------------------------------------------------------------

  /** Applies one offset commit record read back from the log. */
  replay(r: OffsetRecord): void {
    const { store } = this.options;
    const found = store.get(r.groupId);
    if (r.value === null) {
      if (found !== undefined) {
        found.deleteOffset(r.topic, r.partition);
        if (found.type === 'classic') this.options.classic.dropIfUnused(found);
      }
      return;
    }
    if (found !== undefined) {
      found.setOffset(r.topic, r.partition, r.value);
      return;
    }
    const group = new ClassicGroup(r.groupId, this.now());
    store.put(group);
    group.setOffset(r.topic, r.partition, r.value);
  }
}

/**
 * A classic group's offsets expire from their commit when it has no protocol (a standalone
 * consumer's), all of them from when it became empty, and those of topics a stable consumer
 * group no longer subscribes to from their commit; otherwise none do.
 */
function classicExpiry(group: ClassicGroup): ExpiryRule | null {
  if (group.protocolType === null || group.protocolType === '')
    return { base: (o) => o.commitTimestamp, keep: null };
  if (group.is(GroupState.Empty)) return { base: () => group.stateTimestamp, keep: null };
  if (group.protocolType === 'consumer' && group.is(GroupState.Stable)) {
    const keep = group.subscribedTopics();
    if (keep !== null) return { base: (o) => o.commitTimestamp, keep };
  }
  return null;
}

/**
 * A consumer-protocol group's offsets expire like a classic consumer group's: all of them once
 * it has been empty for the retention, otherwise those of topics no member subscribes to.
 */
function consumerExpiry(group: ConsumerGroup): ExpiryRule {
  if (group.size === 0) return { base: (o) => Math.max(group.stateTimestamp, o.commitTimestamp), keep: null };
  return { base: (o) => o.commitTimestamp, keep: group.subscribedTopicNames() };
}
