// Committed offsets of every group, whatever protocol its members speak: OffsetCommit,
// TxnOffsetCommit, OffsetFetch and OffsetDelete, their records in __consumer_offsets, and
// retention.
//
// A transaction's offsets (KIP-447) are pending until its marker: stored as a transactional batch
// of the producer, invisible to OffsetFetch, and applied or discarded when the transaction
// coordinator reports the outcome. A fetch that requires stable offsets is answered
// UNSTABLE_OFFSET_COMMIT for a partition with pending offsets, so a consumer does not start from
// an offset its predecessor's transaction may still move.
import { ErrorCode } from '@tributary/codec';
import type { BrokerConfig } from '../broker/config.js';
import type { Clock, Logger, Metrics, TimerHandle } from '../services.js';
import { ClassicGroup, type CommittedOffset, GroupState } from './classic-group.js';
import type { ClassicProtocol } from './classic-protocol.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { ConsumerProtocol } from './consumer-protocol.js';
import type { GroupLog, GroupLogRecord, PendingGroupTransaction } from './group-log.js';
import { GroupOffsets } from './group-offsets.js';
import {
  type CoordinatorAvailability,
  type FetchedOffset,
  type FetchedOffsets,
  NO_MEMBER,
  type OffsetCommitInput,
  type OffsetDeleteOutcome,
  type OffsetFetchMember,
  refusalCode,
  type TransactionResult,
  type TxnOffsetCommitInput,
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
function offsetTombstones(group: AnyGroup): OffsetRecord[] {
  const records: OffsetRecord[] = [];
  for (const [topic, parts] of group.offsets)
    for (const partition of parts.keys())
      records.push({ type: 'offset', groupId: group.groupId, topic, partition, value: null });
  return records;
}

/** A producer's open transaction: the offsets it committed to each group, not yet visible. */
interface PendingTransaction {
  readonly groups: Map<string, GroupOffsets>;
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
  /** Open transactions' offsets, by producer id. */
  private readonly pending = new Map<number, PendingTransaction>();
  /**
   * While the log loads: where each partition's latest tombstone sits, by group, topic and
   * partition. A tombstone discards the pending offsets of transactions written before it, so a
   * transaction committed later must not bring them back.
   */
  private tombstones: Map<string, number> | null = new Map();

  constructor(private readonly options: OffsetManagerOptions) {}

  private get config(): BrokerConfig {
    return this.options.config;
  }

  private now(): number {
    return this.options.clock.now();
  }

  // ---- OffsetCommit ---------------------------------------------------------------------------------

  /** Commits offsets; resolves to one error code per input offset once the append has resolved. */
  /**
   * The records of a commit, one per offset whose metadata fits, and each offset's code in request
   * order (OFFSET_METADATA_TOO_LARGE for one that does not).
   */
  private offsetRecords(
    groupId: string,
    offsets: readonly {
      readonly topic: string;
      readonly partition: number;
      readonly offset: number;
      readonly leaderEpoch: number;
      readonly metadata: string | null;
    }[],
    now: number,
    expireTimestamp: number,
  ): { codes: number[]; records: OffsetRecord[] } {
    const codes: number[] = [];
    const records: OffsetRecord[] = [];
    for (const o of offsets) {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata) > this.config.offsetMetadataMaxBytes) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      codes.push(ErrorCode.NONE);
      records.push({
        type: 'offset',
        groupId,
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
    return { codes, records };
  }

  async commitOffsets(req: OffsetCommitInput): Promise<number[]> {
    const { store, classic, consumer } = this.options;
    const all = (code: number): number[] => req.offsets.map(() => code);
    const unavailable = this.options.availability.unavailableError(req.groupId);
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
    const { codes, records } = this.offsetRecords(req.groupId, req.offsets, now, expireTimestamp);
    let baseOffset: number;
    try {
      baseOffset = await this.options.log.append(req.groupId, records);
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
    records.forEach((r, i) => {
      if (r.value !== null)
        target.setOffset(r.topic, r.partition, { ...r.value, recordOffset: baseOffset + i });
    });
    this.options.metrics.increment('tributary_offset_commits_total', undefined, records.length);
    return codes;
  }

  // ---- TxnOffsetCommit -------------------------------------------------------------------------------

  /**
   * Commits offsets as part of a producer's transaction; resolves to one error code per input
   * offset once the transactional batch is stored. The offsets stay pending, invisible to
   * OffsetFetch, until completeTransaction() reports the transaction's outcome. The producer's
   * transaction itself (that it is ongoing, with this group added, at this epoch) is the caller's
   * to check.
   */
  async commitTransactionalOffsets(req: TxnOffsetCommitInput): Promise<number[]> {
    const { store, classic, consumer } = this.options;
    const all = (code: number): number[] => req.offsets.map(() => code);
    const unavailable = this.options.availability.unavailableError(req.groupId);
    if (unavailable !== null) return all(unavailable);
    if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    let group = store.get(req.groupId);
    if (group === undefined) {
      // A producer outside any consumer group (generation -1) commits into a group made for it.
      if (req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(req.groupId, this.now());
      store.put(group);
    }
    try {
      if (group.type === 'consumer')
        consumer.validateOffsetCommit(group, req.memberId, req.generationId, -1, {
          instanceId: req.groupInstanceId,
        });
      else classic.validateOffsetCommit(group, req.memberId, req.groupInstanceId, req.generationId, true);
    } catch (e) {
      if (group.type === 'classic') classic.dropIfUnused(group);
      const code = refusalCode(e);
      // TxnOffsetCommit speaks of generations: a stale member epoch is an illegal generation.
      return all(code === ErrorCode.STALE_MEMBER_EPOCH ? ErrorCode.ILLEGAL_GENERATION : code);
    }
    const { codes, records } = this.offsetRecords(req.groupId, req.offsets, this.now(), -1);
    let baseOffset: number;
    try {
      baseOffset = await this.options.log.appendTransactional(
        req.groupId,
        { producerId: req.producerId, producerEpoch: req.producerEpoch },
        records,
      );
    } catch (e) {
      this.options.logger.warn(
        { err: e, group: req.groupId, producerId: req.producerId },
        'could not store transactional offsets',
      );
      if (group.type === 'classic') classic.dropIfUnused(group);
      return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : c));
    }
    records.forEach((r, i) => {
      if (r.value !== null)
        this.addPending(req.producerId, req.groupId, r.topic, r.partition, {
          ...r.value,
          recordOffset: baseOffset + i,
        });
    });
    this.options.metrics.increment('tributary_offset_commits_total', undefined, records.length);
    return codes;
  }

  /**
   * A transaction ended and its marker is written: a commit makes its offsets the committed ones
   * (each over an offset written before it, not over a later commit), an abort discards them.
   * With `partition`, only the offsets of groups on that __consumer_offsets partition, whose marker
   * this is: the transaction coordinator writes one marker per partition.
   */
  completeTransaction(producerId: number, result: TransactionResult, partition?: number): void {
    const txn = this.pending.get(producerId);
    if (txn === undefined) return;
    for (const [groupId, offsets] of [...txn.groups]) {
      if (partition !== undefined && this.options.log.partitionFor(groupId) !== partition) continue;
      txn.groups.delete(groupId);
      if (result === 'commit') this.applyCommitted(groupId, offsets);
      else {
        const group = this.options.store.get(groupId);
        if (group?.type === 'classic') this.options.classic.dropIfUnused(group);
      }
    }
    if (txn.groups.size === 0) this.pending.delete(producerId);
  }

  private applyCommitted(groupId: string, offsets: GroupOffsets): void {
    let group = this.options.store.get(groupId);
    if (group === undefined || isDead(group)) {
      group = new ClassicGroup(groupId, this.now());
      this.options.store.put(group);
    }
    for (const [topic, parts] of offsets.offsets)
      for (const [partition, value] of parts) {
        const existing = group.offset(topic, partition);
        if (existing === undefined || (value.recordOffset ?? -1) > (existing.recordOffset ?? -1))
          group.setOffset(topic, partition, value);
      }
  }

  /** Whether a group has offsets of an open transaction (on a partition, when named). */
  hasPendingOffsets(groupId: string, topic?: string, partition?: number): boolean {
    for (const txn of this.pending.values()) {
      const offsets = txn.groups.get(groupId);
      if (offsets === undefined) continue;
      if (topic === undefined ? offsets.hasOffsets() : offsets.offset(topic, partition ?? -1) !== undefined)
        return true;
    }
    return false;
  }

  private addPending(
    producerId: number,
    groupId: string,
    topic: string,
    partition: number,
    value: CommittedOffset,
  ): void {
    let txn = this.pending.get(producerId);
    if (txn === undefined) {
      txn = { groups: new Map() };
      this.pending.set(producerId, txn);
    }
    let offsets = txn.groups.get(groupId);
    if (offsets === undefined) {
      offsets = new GroupOffsets();
      txn.groups.set(groupId, offsets);
    }
    offsets.setOffset(topic, partition, value);
  }

  /** A tombstone discards every open transaction's offset of the partition (all of the group's, without one). */
  private discardPending(groupId: string, topic?: string, partition?: number): void {
    for (const [producerId, txn] of this.pending) {
      const offsets = txn.groups.get(groupId);
      if (offsets === undefined) continue;
      if (topic === undefined) txn.groups.delete(groupId);
      else {
        offsets.deleteOffset(topic, partition ?? -1);
        if (!offsets.hasOffsets()) txn.groups.delete(groupId);
      }
      if (txn.groups.size === 0) this.pending.delete(producerId);
    }
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
    requireStable = false,
  ): FetchedOffsets {
    const unavailable = this.options.availability.unavailableError(groupId);
    if (unavailable !== null) return { errorCode: unavailable, topics: [] };
    const group = this.options.store.get(groupId);
    if (group?.type === 'consumer') {
      try {
        this.options.consumer.validateOffsetFetch(group, member.memberId, member.memberEpoch);
      } catch (e) {
        return { errorCode: refusalCode(e), topics: [] };
      }
    }
    const unstable = requireStable && this.hasPendingOffsets(groupId);
    const entry = (topic: string, partition: number, o: CommittedOffset | undefined): FetchedOffset => {
      const none = (errorCode: number) => ({
        partition,
        offset: -1,
        leaderEpoch: -1,
        metadata: '',
        errorCode,
      });
      // Kafka answers a partition with pending transactional offsets without its committed offset.
      if (unstable && this.hasPendingOffsets(groupId, topic, partition))
        return none(ErrorCode.UNSTABLE_OFFSET_COMMIT);
      if (o === undefined) return none(ErrorCode.NONE);
      return {
        partition,
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        errorCode: ErrorCode.NONE,
      };
    };
    if (topics === null) {
      if (group === undefined) return { errorCode: ErrorCode.NONE, topics: [] };
      return {
        errorCode: ErrorCode.NONE,
        topics: [...group.offsets].map(([name, parts]) => ({
          name,
          partitions: [...parts].sort((a, b) => a[0] - b[0]).map(([p, o]) => entry(name, p, o)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => entry(t.name, p, group?.offset(t.name, p))),
      })),
    };
  }

  // ---- OffsetDelete ----------------------------------------------------------------------------------

  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[],
  ): Promise<OffsetDeleteOutcome> {
    const unavailable = this.options.availability.unavailableError(groupId);
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
          // A pending transactional offset is deleted too: its tombstone discards it.
          if (
            group.offset(t.name, partition) !== undefined ||
            this.hasPendingOffsets(groupId, t.name, partition)
          )
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
      for (const r of records) {
        group.deleteOffset(r.topic, r.partition);
        this.discardPending(groupId, r.topic, r.partition);
      }
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
    const appends: Promise<unknown>[] = [];
    for (const group of this.options.store.all()) {
      const rule = group.type === 'consumer' ? consumerExpiry(group) : classicExpiry(group);
      if (rule === null) continue;
      const records: GroupLogRecord[] = [];
      for (const [topic, parts] of group.offsets) {
        if (rule.keep?.has(topic)) continue;
        for (const [partition, o] of parts) {
          const isExpired =
            o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - rule.base(o) >= retentionMs;
          // An offset a transaction may still replace waits for the transaction.
          if (isExpired && !this.hasPendingOffsets(group.groupId, topic, partition))
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
    if (group.hasOffsets() || group.size > 0 || this.hasPendingOffsets(group.groupId)) return [];
    if (group.type === 'consumer')
      return now - group.stateTimestamp >= retentionMs ? this.options.consumer.deleteGroup(group) : [];
    return group.is(GroupState.Empty) && group.pendingMembers.size === 0
      ? this.options.classic.deleteGroup(group)
      : [];
  }

  // ---- deleting a group ------------------------------------------------------------------------------

  /**
   * The tombstones that delete all of a group's offsets, committed or pending (one per partition),
   * as DeleteGroups writes them; the group's pending offsets are discarded.
   */
  deleteAll(group: AnyGroup): OffsetRecord[] {
    const records = offsetTombstones(group);
    for (const txn of this.pending.values()) {
      const offsets = txn.groups.get(group.groupId);
      if (offsets === undefined) continue;
      for (const [topic, parts] of offsets.offsets)
        for (const partition of parts.keys())
          if (
            group.offset(topic, partition) === undefined &&
            !records.some((r) => r.topic === topic && r.partition === partition)
          )
            records.push({ type: 'offset', groupId: group.groupId, topic, partition, value: null });
    }
    this.discardPending(group.groupId);
    return records;
  }

  // ---- replay ----------------------------------------------------------------------------------------

  /**
   * Applies one offset commit record that took effect in the log: a non-transactional commit or
   * tombstone at its place, a committed transaction's commit at its marker (kept only if nothing
   * was written to the partition after it).
   */
  replay(r: OffsetRecord, offset: number): void {
    const { store } = this.options;
    const found = store.get(r.groupId);
    const key = `${r.groupId}\u0000${r.topic}\u0000${r.partition}`;
    if (r.value === null) {
      this.tombstones?.set(key, offset);
      this.discardPending(r.groupId, r.topic, r.partition);
      if (found !== undefined) {
        found.deleteOffset(r.topic, r.partition);
        if (found.type === 'classic') this.options.classic.dropIfUnused(found);
      }
      return;
    }
    if (this.deletedAfter(key, offset)) return;
    const existing = found?.offset(r.topic, r.partition);
    if (existing !== undefined && (existing.recordOffset ?? -1) > offset) return;
    const value = { ...r.value, recordOffset: offset };
    if (found !== undefined) {
      found.setOffset(r.topic, r.partition, value);
      return;
    }
    const group = new ClassicGroup(r.groupId, this.now());
    store.put(group);
    group.setOffset(r.topic, r.partition, value);
  }

  /** Takes up a transaction the log left open: its offsets are pending again. */
  restorePending(txn: PendingGroupTransaction): void {
    for (const { record: r, offset } of txn.records) {
      if (r.type !== 'offset' || r.value === null) continue;
      if (this.deletedAfter(`${r.groupId}\u0000${r.topic}\u0000${r.partition}`, offset)) continue;
      this.addPending(txn.producerId, r.groupId, r.topic, r.partition, {
        ...r.value,
        recordOffset: offset,
      });
    }
  }

  /** A partition is about to be replayed: its tombstones' positions are collected. */
  beforeLoad(): void {
    this.tombstones = new Map();
  }

  /** The partition is loaded: tombstone positions are no longer needed. */
  afterLoad(): void {
    this.tombstones = null;
  }

  /** Drops the pending transactional offsets of groups this coordinator gives up. */
  forgetGroups(which: (groupId: string) => boolean): void {
    for (const [producerId, txn] of this.pending) {
      for (const groupId of [...txn.groups.keys()]) if (which(groupId)) txn.groups.delete(groupId);
      if (txn.groups.size === 0) this.pending.delete(producerId);
    }
  }

  private deletedAfter(key: string, offset: number): boolean {
    const at = this.tombstones?.get(key);
    return at !== undefined && at > offset;
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
