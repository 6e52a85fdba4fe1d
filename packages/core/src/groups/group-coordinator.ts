// The group coordinator: one facade over the classic protocol, the consumer protocol (KIP-848),
// classic members inside consumer groups, committed offsets and the admin operations. It owns the
// lifecycle (loading __consumer_offsets before answering, resigning on close) and routes each
// request to the piece that serves the group it names; the pieces share nothing mutable but the
// group store.
//
// The broker is the coordinator of every group. All state lives in memory and is rebuilt from the
// log on start; a write is acknowledged to the client only once the storage append resolves.
import { ErrorCode } from '@tributary/codec';
import type { BrokerConfig } from '../broker/config.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { Clock, Logger, Metrics } from '../services.js';
import type { StorageAdapter } from '../storage/index.js';
import {
  type ClassicGroup,
  type JoinOutcome,
  joinError,
  type SyncOutcome,
  syncError,
} from './classic-group.js';
import { ClassicMembersInConsumerGroups } from './classic-members-in-consumer-groups.js';
import { ClassicProtocol, validateJoin } from './classic-protocol.js';
import type { ConsumerGroup } from './consumer-group.js';
import { ConsumerGroupMigration } from './consumer-group-migration.js';
import { ConsumerProtocol } from './consumer-protocol.js';
import { ConsumerTargetAssignment } from './consumer-target-assignment.js';
import { GroupAdmin } from './group-admin.js';
import { GroupLog, type GroupLogRecord } from './group-log.js';
import {
  type CoordinatorAvailability,
  type FetchedOffsets,
  type GroupDescription,
  type GroupListing,
  type JoinGroupInput,
  type LeaveOutcome,
  type MemberIdentity,
  NO_MEMBER,
  type OffsetCommitInput,
  type OffsetDeleteOutcome,
  type OffsetFetchMember,
  refusalCode,
  type SyncGroupInput,
  type TransactionResult,
  type TxnOffsetCommitInput,
} from './group-requests.js';
import { GroupStore } from './group-store.js';
import { OffsetManager } from './offset-manager.js';
import { SessionTimers } from './session-timers.js';

export interface GroupCoordinatorOptions {
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

type Status = 'idle' | 'loading' | 'active' | 'closed';

/**
 * Kafka's group coordinator for every group of this broker: JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup, ConsumerGroupHeartbeat (through `consumer`), offsets, and the group admin requests.
 */
export class GroupCoordinator implements CoordinatorAvailability {
  private readonly store = new GroupStore();
  private readonly log: GroupLog;
  private readonly classic: ClassicProtocol;
  /** The consumer group protocol (KIP-848): ConsumerGroupHeartbeat and ConsumerGroupDescribe. */
  readonly consumer: ConsumerProtocol;
  private readonly classicMembers: ClassicMembersInConsumerGroups;
  private readonly offsets: OffsetManager;
  private readonly admin: GroupAdmin;
  private status: Status = 'idle';
  /** Partitions of __consumer_offsets whose groups this coordinator holds, and those being loaded. */
  private readonly loaded = new Set<number>();
  private readonly loading = new Set<number>();

  constructor(private readonly options: GroupCoordinatorOptions) {
    const { config, clock, logger, metrics, topics } = options;
    const store = this.store;
    this.log = new GroupLog({
      storage: options.storage,
      topics,
      clock,
      logger,
      partitions: config.offsetsTopicNumPartitions,
    });
    const log = this.log;
    const sessions = new SessionTimers(clock);
    const targets = new ConsumerTargetAssignment({ topics, config, metrics });
    this.classic = new ClassicProtocol({
      config,
      clock,
      logger,
      metrics,
      store,
      log,
      sessions,
      availability: this,
    });
    this.consumer = new ConsumerProtocol({
      topics,
      config,
      clock,
      logger,
      metrics,
      store,
      log,
      sessions,
      availability: this,
      classic: this.classic,
      targets,
      migration: new ConsumerGroupMigration({ topics, config, clock, logger, store, classic: this.classic }),
    });
    this.classicMembers = new ClassicMembersInConsumerGroups({
      topics,
      config,
      clock,
      logger,
      log,
      availability: this,
      consumer: this.consumer,
      targets,
    });
    this.offsets = new OffsetManager({
      config,
      clock,
      logger,
      metrics,
      store,
      log,
      availability: this,
      classic: this.classic,
      consumer: this.consumer,
    });
    this.admin = new GroupAdmin({
      offsets: this.offsets,
      logger,
      store,
      log,
      availability: this,
      classic: this.classic,
      consumer: this.consumer,
    });
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Creates __consumer_offsets if missing and loads every group from it before answering; with
   * `loadAll: false` (brokers sharing a store), none: partitions are loaded as this broker comes to
   * own them (`loadPartition`).
   */
  async start(options: { loadAll?: boolean } = {}): Promise<void> {
    this.status = 'loading';
    await this.log.open();
    let records = 0;
    if (options.loadAll !== false)
      for (let p = 0; p < this.log.partitionCount; p++) records += await this.loadPartition(p);
    this.status = 'active';
    this.offsets.start();
    this.options.logger.info({ groups: this.store.size, records }, 'group coordinator loaded');
  }

  /**
   * Takes on the groups of one partition of __consumer_offsets: replays it, then serves them
   * (COORDINATOR_LOAD_IN_PROGRESS meanwhile). Resolves to the records applied.
   */
  async loadPartition(partition: number): Promise<number> {
    if (this.loaded.has(partition) || this.loading.has(partition)) return 0;
    this.loading.add(partition);
    let records: number;
    try {
      this.offsets.beforeLoad();
      records = await this.log.replayPartition(
        partition,
        (r, offset) => this.replay(r, offset),
        (txn) => this.offsets.restorePending(txn),
      );
      const inPartition = this.inPartition(partition);
      this.offsets.afterLoad();
      this.classic.afterLoad(inPartition);
      this.consumer.afterLoad(inPartition);
    } finally {
      this.loading.delete(partition);
    }
    this.loaded.add(partition);
    return records;
  }

  /**
   * Gives up the groups of one partition (another broker takes it on): their timers stop, parked
   * requests are answered NOT_COORDINATOR, and they are forgotten here.
   */
  unloadPartition(partition: number): void {
    if (!this.loaded.delete(partition)) return;
    const inPartition = this.inPartition(partition);
    this.classic.close(inPartition);
    this.consumer.close(inPartition);
    this.offsets.forgetGroups(inPartition);
    for (const group of this.store.all()) if (inPartition(group.groupId)) this.store.remove(group);
    this.log.unloadPartition(partition);
  }

  private inPartition(partition: number): (groupId: string) => boolean {
    return (groupId) => this.log.partitionFor(groupId) === partition;
  }

  /** Stops timers and answers every parked request with NOT_COORDINATOR. */
  async close(): Promise<void> {
    this.status = 'closed';
    this.offsets.close();
    this.consumer.close();
    this.classic.close();
  }

  get isActive(): boolean {
    return this.status === 'active';
  }

  /**
   * The error a request for `groupId` gets while this coordinator cannot serve it (loading, closed,
   * or the group's partition is not held here), or null when it can; without a group id, whether
   * it serves at all.
   */
  unavailableError(groupId?: string): number | null {
    switch (this.status) {
      case 'active':
        break;
      case 'closed':
        return ErrorCode.NOT_COORDINATOR;
      default:
        return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    }
    if (groupId === undefined) return null;
    const partition = this.log.partitionFor(groupId);
    if (this.loading.has(partition)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return this.loaded.has(partition) ? null : ErrorCode.NOT_COORDINATOR;
  }

  private replay(r: GroupLogRecord, offset: number): void {
    if (r.type === 'offset') this.offsets.replay(r, offset);
    else if (r.type === 'group') this.classic.replay(r);
    else this.consumer.replay(r);
  }

  /** The classic group, for tests and tools. */
  group(groupId: string): ClassicGroup | undefined {
    return this.store.classic(groupId);
  }

  /** The consumer-protocol group, for tests and tools. */
  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.store.consumer(groupId);
  }

  // ---- the classic protocol's requests: a consumer group with members takes them as classic members ----

  join(req: JoinGroupInput): Promise<JoinOutcome> {
    const unavailable = this.unavailableError(req.groupId);
    if (unavailable !== null) return Promise.resolve(joinError(unavailable, req.memberId));
    try {
      validateJoin(req, this.options.config);
    } catch (e) {
      return Promise.resolve(joinError(refusalCode(e), req.memberId));
    }
    const consumerGroup = this.store.consumer(req.groupId);
    if (consumerGroup !== undefined && consumerGroup.size > 0)
      return this.classicMembers.join(consumerGroup, req);
    return this.classic.join(req);
  }

  sync(req: SyncGroupInput): Promise<SyncOutcome> | SyncOutcome {
    const unavailable = this.unavailableError(req.groupId);
    if (unavailable !== null) return syncError(unavailable);
    const consumerGroup = this.store.consumer(req.groupId);
    if (consumerGroup !== undefined) return this.classicMembers.sync(consumerGroup, req);
    return this.classic.sync(req);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const unavailable = this.unavailableError(groupId);
    if (unavailable !== null) return unavailable;
    const consumerGroup = this.store.consumer(groupId);
    if (consumerGroup !== undefined)
      return this.classicMembers.heartbeat(consumerGroup, memberId, groupInstanceId, generationId);
    return this.classic.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leave(groupId: string, identities: readonly MemberIdentity[]): LeaveOutcome {
    const unavailable = this.unavailableError(groupId);
    if (unavailable !== null) return { errorCode: unavailable, members: [] };
    const consumerGroup = this.store.consumer(groupId);
    if (consumerGroup !== undefined) return this.classicMembers.leave(consumerGroup, identities);
    return this.classic.leave(groupId, identities);
  }

  // ---- offsets --------------------------------------------------------------------------------

  commitOffsets(req: OffsetCommitInput): Promise<number[]> {
    return this.offsets.commitOffsets(req);
  }

  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[] | null,
    member: OffsetFetchMember = NO_MEMBER,
    requireStable = false,
  ): FetchedOffsets {
    return this.offsets.fetchOffsets(groupId, topics, member, requireStable);
  }

  /** TxnOffsetCommit: offsets pending in the producer's transaction until completeTransaction(). */
  commitTransactionalOffsets(req: TxnOffsetCommitInput): Promise<number[]> {
    return this.offsets.commitTransactionalOffsets(req);
  }

  /**
   * The producer's transaction ended and its marker is written to __consumer_offsets: its pending
   * offsets are applied (commit) or discarded (abort); with `partition`, only those of the groups
   * on that partition, whose marker it is.
   */
  completeTransaction(producerId: number, result: TransactionResult, partition?: number): void {
    this.offsets.completeTransaction(producerId, result, partition);
  }

  /** The __consumer_offsets partition that holds a group's records (and its transactions' markers). */
  partitionFor(groupId: string): number {
    return this.log.partitionFor(groupId);
  }

  deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[],
  ): Promise<OffsetDeleteOutcome> {
    return this.offsets.deleteOffsets(groupId, topics);
  }

  /** Runs the retention check now (it also runs periodically). */
  expireOffsets(): Promise<number> {
    return this.offsets.expireOffsets();
  }

  // ---- admin ------------------------------------------------------------------------------------

  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): GroupListing[] {
    return this.admin.listGroups(statesFilter, typesFilter);
  }

  describeGroup(groupId: string): GroupDescription | null {
    return this.admin.describeGroup(groupId);
  }

  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return this.admin.deleteGroups(groupIds);
  }
}
