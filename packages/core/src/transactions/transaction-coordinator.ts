import { ErrorCode } from '@tributary/codec';
import type { Clock, Logger, Metrics, TimerHandle } from '../services.js';
import type { TransactionSupportedOperation } from './append-verification.js';
import {
  answer,
  type Decision,
  type DecisionEnv,
  decideEndTransaction,
  isPrepared,
  NO_PRODUCER,
  type ProducerIdAndEpoch,
} from './end-transaction.js';
import type {
  MarkerPartitionResult,
  PartitionCatalog,
  ProducerIdAllocator,
  TransactionMarkerWriter,
  TransactionResult,
} from './ports.js';
import type { TransactionCoordinatorConfig } from './transaction-config.js';
import {
  describeNone,
  describeTransactionMetadata,
  type ListTransactionsInput,
  listingError,
  listTransactionMetadata,
  type TransactionDescription,
  type TransactionListing,
} from './transaction-listing.js';
import {
  fromTransactionLogValue,
  type LoadedTransactionLog,
  type TransactionStateLog,
  toTransactionLogValue,
} from './transaction-log.js';
import {
  isEpochExhausted,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  parsePartitionKey,
  partitionKey,
  supportsEpochBump,
  type TopicPartition,
  TransactionMetadata,
} from './transaction-metadata.js';
import { isExpirationAllowed, TransactionState, transactionStateName } from './transaction-state.js';

export interface TransactionCoordinatorOptions {
  readonly config: TransactionCoordinatorConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly producerIds: ProducerIdAllocator;
  readonly log: TransactionStateLog;
  readonly markers: TransactionMarkerWriter;
  readonly partitions: PartitionCatalog;
  /** The `__consumer_offsets` partition holding a group's offsets, as FindCoordinator places groups. */
  readonly groupOffsetsPartition: (groupId: string) => TopicPartition;
}

export interface InitProducerIdInput {
  readonly transactionalId: string | null;
  readonly transactionTimeoutMs: number;
  /** v3+ (KIP-360): the producer's current id and epoch, or -1 and -1. */
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

export interface ProducerIdOutcome extends ProducerIdAndEpoch {
  readonly errorCode: number;
}

export interface AddPartitionsInput {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly partitions: readonly TopicPartition[];
  /** The client's transaction version: 2 for a partition leader adding on a producer's behalf. */
  readonly transactionVersion: number;
}

export interface AddPartitionsToTxnInput extends AddPartitionsInput {
  /** Only check that the partitions are in the transaction (KIP-890 verification). */
  readonly verifyOnly: boolean;
}

export interface PartitionError extends TopicPartition {
  readonly errorCode: number;
}

export interface AddOffsetsInput {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly groupId: string;
}

export interface EndTxnInput {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly committed: boolean;
  /** 2 for EndTxn v5+ (the epoch is bumped and returned), 0 before. */
  readonly transactionVersion: number;
}

type Status = 'stopped' | 'loading' | 'active';

/** A failed producer id allocation, carrying the code to answer with. */
class AllocationError extends Error {
  constructor(readonly errorCode: number) {
    super(`producer id allocation failed (${errorCode})`);
  }
}

/**
 * Kafka's transaction coordinator: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * DescribeTransactions and ListTransactions over each transactional id's state machine, persisted
 * in `__transaction_state` through the TransactionStateLog port. After a PrepareCommit or
 * PrepareAbort is written, markers go to every partition of the transaction through the marker
 * port, then CompleteCommit/CompleteAbort is written. A clock-driven sweep aborts transactions
 * past their timeout and resumes markers that could not be written; another expires idle ids.
 *
 * A change to an id is prepared (setting its pending state, which answers others with
 * CONCURRENT_TRANSACTIONS), written, then applied; deciding and preparing run under a per-id lock
 * so awaiting a producer id never lets two decisions interleave.
 */
export class TransactionCoordinator {
  private readonly config: TransactionCoordinatorConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cache = new Map<string, TransactionMetadata>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Ids whose markers are being written. */
  private readonly markerJobs = new Set<string>();
  /** Waiting on an id's marker job: woken when it ends. */
  private readonly completionWaiters = new Map<string, Set<() => void>>();
  private readonly sleepers = new Set<{ timer: TimerHandle; wake: () => void }>();
  /** Partitions of __transaction_state whose ids this coordinator holds, and those being loaded. */
  private readonly held = new Set<number>();
  private readonly loading = new Set<number>();
  private timers: TimerHandle[] = [];
  private status: Status = 'stopped';
  private coordinatorEpoch = 0;

  constructor(private readonly o: TransactionCoordinatorOptions) {
    this.config = o.config;
    this.clock = o.clock;
    this.logger = o.logger;
  }

  get isActive(): boolean {
    return this.status === 'active';
  }

  /**
   * Loads every transactional id from the log, then serves. Transactions found decided
   * (PrepareCommit/PrepareAbort) get their markers written; ongoing ones keep their start time,
   * so their timeout runs on. With `loadAll: false` (brokers sharing a store) it loads none:
   * partitions are loaded as this broker comes to own them (`loadPartition`).
   */
  async start(options: { loadAll?: boolean } = {}): Promise<void> {
    this.status = 'loading';
    this.cache.clear();
    try {
      if (options.loadAll === false) await this.o.log.open();
      else {
        const loaded = await this.o.log.load();
        this.coordinatorEpoch = loaded.coordinatorEpoch;
        this.apply(loaded);
        for (let p = 0; p < this.o.log.partitionCount; p++) this.held.add(p);
      }
    } catch (err) {
      this.status = 'stopped';
      throw err;
    }
    this.status = 'active';
    this.timers = [
      this.every(this.config.abortTimedOutTransactionCleanupIntervalMs, () => this.sweepTransactions()),
      this.every(this.config.removeExpiredTransactionalIdsCleanupIntervalMs, () =>
        this.expireTransactionalIds(),
      ),
    ];
    this.logger.info(
      { transactionalIds: this.cache.size, coordinatorEpoch: this.coordinatorEpoch },
      'transaction coordinator loaded',
    );
    this.resumeDecidedTransactions();
  }

  /**
   * Takes on the transactional ids of one partition of __transaction_state: replays it, then
   * serves them (COORDINATOR_LOAD_IN_PROGRESS meanwhile), completing the transactions it finds
   * decided.
   */
  async loadPartition(partition: number): Promise<void> {
    if (this.held.has(partition) || this.loading.has(partition)) return;
    this.loading.add(partition);
    try {
      const loaded = await this.o.log.loadPartition(partition);
      this.forgetPartition(partition);
      this.apply(loaded);
    } finally {
      this.loading.delete(partition);
    }
    this.held.add(partition);
    if (this.status === 'active') this.resumeDecidedTransactions();
  }

  /**
   * Gives up the transactional ids of one partition (another broker takes it on): they are
   * forgotten here, and their marker writing stops at its next step.
   */
  unloadPartition(partition: number): void {
    if (!this.held.delete(partition)) return;
    this.forgetPartition(partition);
    this.o.log.unloadPartition(partition);
  }

  /** The `__transaction_state` partition holding a transactional id (FindCoordinator places ids by it). */
  partitionFor(transactionalId: string): number {
    return this.o.log.partitionFor(transactionalId);
  }

  private forgetPartition(partition: number): void {
    for (const id of [...this.cache.keys()])
      if (this.o.log.partitionFor(id) === partition) this.cache.delete(id);
  }

  private apply(loaded: LoadedTransactionLog): void {
    for (const r of loaded.records) {
      if (r.value === null) this.cache.delete(r.transactionalId);
      else
        this.cache.set(
          r.transactionalId,
          new TransactionMetadata(r.transactionalId, fromTransactionLogValue(r.value)),
        );
    }
  }

  /** Stops serving: requests get COORDINATOR_NOT_AVAILABLE and marker retries end. */
  stop(): void {
    this.status = 'stopped';
    for (const t of this.timers) t.cancel();
    this.timers = [];
    for (const s of this.sleepers) {
      s.timer.cancel();
      s.wake();
    }
    this.sleepers.clear();
  }

  // ---- InitProducerId -------------------------------------------------------------------------

  async initProducerId(input: InitProducerIdInput): Promise<ProducerIdOutcome> {
    const { transactionalId, transactionTimeoutMs } = input;
    if (transactionalId === null) {
      // An idempotent producer: a fresh id at epoch 0 from any broker.
      try {
        return { errorCode: ErrorCode.NONE, producerId: await this.allocateProducerId(), producerEpoch: 0 };
      } catch (e) {
        return { errorCode: allocationErrorCode(e), ...NO_PRODUCER };
      }
    }
    let expected: ProducerIdAndEpoch | null = null;
    if (input.producerId !== NO_PRODUCER_ID || input.producerEpoch !== NO_PRODUCER_EPOCH) {
      if (input.producerId === NO_PRODUCER_ID || input.producerEpoch === NO_PRODUCER_EPOCH)
        return { errorCode: ErrorCode.INVALID_REQUEST, ...NO_PRODUCER };
      expected = { producerId: input.producerId, producerEpoch: input.producerEpoch };
    }
    if (transactionalId === '') return { errorCode: ErrorCode.INVALID_REQUEST, ...NO_PRODUCER };
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.transactionMaxTimeoutMs)
      return { errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT, ...NO_PRODUCER };
    const unavailable = this.unavailable(transactionalId);
    if (unavailable !== ErrorCode.NONE) return { errorCode: unavailable, ...NO_PRODUCER };

    let decision: Decision;
    try {
      decision = await this.withLock(transactionalId, () =>
        this.decideInit(transactionalId, transactionTimeoutMs, expected),
      );
    } catch (e) {
      return { errorCode: this.decisionErrorCode(e, transactionalId), ...NO_PRODUCER };
    }
    if (decision.kind === 'answer') return { errorCode: decision.errorCode, ...NO_PRODUCER };
    if (decision.transit.state === TransactionState.PrepareAbort) {
      // The ongoing transaction is being aborted with a fenced epoch; the client retries and then
      // gets the next epoch (or, if that exhausted the epochs, a new producer id).
      const errorCode = await this.writeDecided(transactionalId, decision, 'abort');
      return {
        errorCode: errorCode === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : errorCode,
        ...NO_PRODUCER,
      };
    }
    const errorCode = await this.write(transactionalId, decision);
    if (errorCode !== ErrorCode.NONE) return { errorCode, ...NO_PRODUCER };
    this.logger.info(
      {
        transactionalId,
        producerId: decision.transit.producerId,
        producerEpoch: decision.transit.producerEpoch,
      },
      'initialized transactional id',
    );
    return {
      errorCode: ErrorCode.NONE,
      producerId: decision.transit.producerId,
      producerEpoch: decision.transit.producerEpoch,
    };
  }

  private async decideInit(
    transactionalId: string,
    timeoutMs: number,
    expected: ProducerIdAndEpoch | null,
  ): Promise<Decision> {
    let md = this.cache.get(transactionalId);
    if (md === undefined) {
      const producerId = await this.allocateProducerId();
      md = this.cache.get(transactionalId);
      if (md === undefined) {
        md = new TransactionMetadata(transactionalId, {
          producerId,
          prevProducerId: NO_PRODUCER_ID,
          nextProducerId: NO_PRODUCER_ID,
          producerEpoch: NO_PRODUCER_EPOCH,
          lastProducerEpoch: NO_PRODUCER_EPOCH,
          txnTimeoutMs: timeoutMs,
          state: TransactionState.Empty,
          txnStartTimestamp: -1,
          txnLastUpdateTimestamp: this.clock.now(),
          clientTransactionVersion: 0,
        });
        this.cache.set(transactionalId, md);
      }
    }
    if (md.pendingTransitionInProgress) return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
    // A producer naming its id and epoch (KIP-360) is fenced unless the id is new (epoch -1), it
    // names the current producer id (the epoch is checked below), or it retries a bump that rotated
    // the id after exhausting the epochs.
    if (expected !== null) {
      const valid =
        md.producerEpoch === NO_PRODUCER_EPOCH ||
        expected.producerId === md.producerId ||
        (expected.producerId === md.prevProducerId && isEpochExhausted(expected.producerEpoch));
      if (!valid) return answer(ErrorCode.PRODUCER_FENCED);
    }
    const now = this.clock.now();
    switch (md.state) {
      case TransactionState.PrepareAbort:
      case TransactionState.PrepareCommit:
        return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
      case TransactionState.CompleteAbort:
      case TransactionState.CompleteCommit:
      case TransactionState.Empty: {
        if (
          md.isProducerEpochExhausted &&
          (expected === null || expected.producerEpoch === md.producerEpoch)
        ) {
          const producerId = await this.allocateProducerId();
          return {
            kind: 'write',
            md,
            transit: md.prepareProducerIdRotation(producerId, timeoutMs, now, expected !== null),
            fence: false,
          };
        }
        const r = md.prepareIncrementProducerEpoch(timeoutMs, expected?.producerEpoch ?? null, now);
        return r.ok ? { kind: 'write', md, transit: r.transit, fence: false } : answer(r.errorCode);
      }
      case TransactionState.Ongoing: {
        // Abort the ongoing transaction first, with a bumped epoch that is never handed out.
        return this.fenceAndAbort(md);
      }
      default:
        throw new Error(`Transactional id ${transactionalId} is in state ${transactionStateName(md.state)}`);
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ---------------------------------------------------

  /**
   * AddPartitionsToTxn for one transaction: partitions that do not exist fail the whole request
   * (UNKNOWN_TOPIC_OR_PARTITION for them, OPERATION_NOT_ATTEMPTED for the rest); otherwise the
   * partitions join the transaction, or with `verifyOnly` are checked to be in it.
   */
  async addPartitionsToTxn(input: AddPartitionsToTxnInput): Promise<PartitionError[]> {
    const missing = input.partitions.filter((p) => !this.o.partitions.partitionExists(p.topic, p.partition));
    if (missing.length > 0) {
      const unknown = new Set(missing.map((p) => partitionKey(p.topic, p.partition)));
      return input.partitions.map((p) => ({
        ...p,
        errorCode: unknown.has(partitionKey(p.topic, p.partition))
          ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : ErrorCode.OPERATION_NOT_ATTEMPTED,
      }));
    }
    if (input.verifyOnly) return this.verifyPartitions(input);
    const errorCode = await this.addPartitions(input);
    return input.partitions.map((p) => ({ ...p, errorCode }));
  }

  /** Adds partitions to a transaction, starting it (Ongoing) if none is open. */
  async addPartitions(input: AddPartitionsInput): Promise<number> {
    const { transactionalId, producerId, producerEpoch } = input;
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const unavailable = this.unavailable(transactionalId);
    if (unavailable !== ErrorCode.NONE) return unavailable;
    const keys = input.partitions.map((p) => partitionKey(p.topic, p.partition));
    const decision = await this.withLock(transactionalId, (): Decision => {
      const md = this.cache.get(transactionalId);
      if (md === undefined) return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      if (md.producerId !== producerId) {
        // A v2 producer moved to its next producer id by an EndTxn whose completion is not written yet.
        const completing = md.pendingTransitionInProgress || isPrepared(md.state);
        return answer(
          completing && md.nextProducerId === producerId
            ? ErrorCode.CONCURRENT_TRANSACTIONS
            : ErrorCode.INVALID_PRODUCER_ID_MAPPING,
        );
      }
      if (md.producerEpoch !== producerEpoch) return answer(ErrorCode.PRODUCER_FENCED);
      if (md.pendingTransitionInProgress || isPrepared(md.state))
        return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
      if (md.state === TransactionState.Ongoing && keys.every((k) => md.partitions.has(k)))
        return answer(ErrorCode.NONE);
      return {
        kind: 'write',
        md,
        transit: md.prepareAddPartitions(keys, this.clock.now(), input.transactionVersion),
        fence: false,
      };
    });
    return decision.kind === 'answer' ? decision.errorCode : this.write(transactionalId, decision);
  }

  /**
   * Whether the partitions are in the producer's open transaction (KIP-890 verification): each
   * missing one gets TRANSACTION_ABORTABLE. The pending state does not matter: partitions join
   * when their addition is written and leave when the transaction's markers are.
   */
  verifyPartitions(input: Omit<AddPartitionsInput, 'transactionVersion'>): PartitionError[] {
    const all = (errorCode: number) => input.partitions.map((p) => ({ ...p, errorCode }));
    if (input.transactionalId === '') return all(ErrorCode.INVALID_REQUEST);
    const unavailable = this.unavailable(input.transactionalId);
    if (unavailable !== ErrorCode.NONE) return all(unavailable);
    const md = this.cache.get(input.transactionalId);
    if (md === undefined || md.producerId !== input.producerId)
      return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (md.producerEpoch !== input.producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    if (isPrepared(md.state)) return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    return input.partitions.map((p) => ({
      ...p,
      errorCode: md.partitions.has(partitionKey(p.topic, p.partition))
        ? ErrorCode.NONE
        : ErrorCode.TRANSACTION_ABORTABLE,
    }));
  }

  /**
   * For a partition leader about to append a transactional batch (or a TxnOffsetCommit): is the
   * producer's transaction open and does it hold these partitions? Transactions v2 clients
   * (`addPartition`) have them added instead. The codes are those Kafka's leader answers the
   * producer with: PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH, and TRANSACTION_ABORTABLE
   * becomes INVALID_TXN_STATE for clients that predate it. Only failed partitions are listed.
   */
  async ensurePartitionsInTransaction(
    input: Omit<AddPartitionsInput, 'transactionVersion'> & {
      readonly operation: TransactionSupportedOperation;
    },
  ): Promise<PartitionError[]> {
    let results: PartitionError[];
    if (input.operation === 'addPartition') {
      const errorCode = await this.addPartitions({ ...input, transactionVersion: 2 });
      results = input.partitions.map((p) => ({ ...p, errorCode }));
    } else {
      results = this.verifyPartitions(input);
    }
    return results
      .filter((r) => r.errorCode !== ErrorCode.NONE)
      .map((r) => {
        if (r.errorCode === ErrorCode.PRODUCER_FENCED)
          return { ...r, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
        if (r.errorCode === ErrorCode.TRANSACTION_ABORTABLE && input.operation === 'default')
          return { ...r, errorCode: ErrorCode.INVALID_TXN_STATE };
        return r;
      });
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  addOffsetsToTxn(input: AddOffsetsInput): Promise<number> {
    return this.addPartitions({
      transactionalId: input.transactionalId,
      producerId: input.producerId,
      producerEpoch: input.producerEpoch,
      partitions: [this.o.groupOffsetsPartition(input.groupId)],
      transactionVersion: 0,
    });
  }

  // ---- EndTxn ---------------------------------------------------------------------------------

  /**
   * EndTxn: PrepareCommit/PrepareAbort is written, the client answered, then the markers go out.
   * Under transactions v2 the answer carries the bumped epoch, or the next producer id at epoch 0
   * when the bump exhausted the epochs.
   */
  async endTxn(input: EndTxnInput): Promise<ProducerIdOutcome> {
    const { transactionalId } = input;
    if (transactionalId === '') return { errorCode: ErrorCode.INVALID_REQUEST, ...NO_PRODUCER };
    const unavailable = this.unavailable(transactionalId);
    if (unavailable !== ErrorCode.NONE) return { errorCode: unavailable, ...NO_PRODUCER };
    const result: TransactionResult = input.committed ? 'commit' : 'abort';
    let decision: Decision;
    try {
      decision = await this.withLock(transactionalId, () => {
        const md = this.cache.get(transactionalId);
        if (md === undefined) return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
        return decideEndTransaction(
          this.decisionEnv(),
          md,
          input.producerId,
          input.producerEpoch,
          result,
          true,
          input.transactionVersion,
        );
      });
    } catch (e) {
      return { errorCode: this.decisionErrorCode(e, transactionalId), ...NO_PRODUCER };
    }
    const v2 = supportsEpochBump(input.transactionVersion);
    if (decision.kind === 'answer')
      return {
        errorCode: decision.errorCode,
        ...(v2 && decision.producer !== undefined ? decision.producer : NO_PRODUCER),
      };
    const { transit } = decision;
    const errorCode = await this.writeDecided(transactionalId, decision, result);
    if (errorCode !== ErrorCode.NONE || !v2) return { errorCode, ...NO_PRODUCER };
    return transit.nextProducerId !== NO_PRODUCER_ID
      ? { errorCode, producerId: transit.nextProducerId, producerEpoch: 0 }
      : { errorCode, producerId: transit.producerId, producerEpoch: transit.producerEpoch };
  }

  /**
   * Fences the producer of an ongoing transaction and decides its abort, as the coordinator's own
   * request (with the cluster's transaction version). The fence never outlives the decision.
   */
  private async fenceAndAbort(md: TransactionMetadata): Promise<Decision> {
    const fence = md.prepareFenceProducerEpoch();
    const dropFence = () => {
      if (md.pendingState === TransactionState.PrepareEpochFence) md.abandonPendingTransition();
    };
    try {
      const decision = await decideEndTransaction(
        this.decisionEnv(),
        md,
        fence.producerId,
        fence.producerEpoch,
        'abort',
        false,
        this.config.transactionVersion,
      );
      if (decision.kind === 'answer') dropFence();
      return decision;
    } catch (e) {
      dropFence();
      throw e;
    }
  }

  /**
   * Writes a decided PrepareCommit/PrepareAbort; once written, prepares the completion and starts
   * the markers. A fencing abort whose write fails keeps its bumped epoch in memory and marks the
   * fence failed, so the next fence does not bump again.
   */
  private async writeDecided(
    transactionalId: string,
    decision: Extract<Decision, { kind: 'write' }>,
    result: TransactionResult,
  ): Promise<number> {
    const errorCode = await this.write(transactionalId, decision);
    const { md } = decision;
    if (errorCode !== ErrorCode.NONE) {
      if (decision.fence && this.cache.get(transactionalId) === md) {
        md.hasFailedEpochFence = true;
        this.logger.warn(
          { transactionalId, producerEpoch: decision.transit.producerEpoch },
          'failed to write the fencing abort; the bumped epoch was not handed out',
        );
      }
      return errorCode;
    }
    this.startMarkers(md, result);
    return ErrorCode.NONE;
  }

  // ---- DescribeTransactions / ListTransactions ------------------------------------------------

  describeTransaction(transactionalId: string): TransactionDescription {
    if (this.status === 'stopped') return describeNone(transactionalId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (transactionalId === '') return describeNone(transactionalId, ErrorCode.INVALID_REQUEST);
    const unavailable = this.unavailable(transactionalId);
    if (unavailable !== ErrorCode.NONE) return describeNone(transactionalId, unavailable);
    return describeTransactionMetadata(transactionalId, this.cache.get(transactionalId));
  }

  listTransactions(input: ListTransactionsInput): TransactionListing {
    if (this.status === 'stopped') return listingError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (this.status === 'loading') return listingError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    return listTransactionMetadata(this.cache.values(), input, this.clock.now());
  }

  // ---- Markers --------------------------------------------------------------------------------

  /**
   * Writes the markers of a decided transaction, retrying failed partitions (bounded), then writes
   * its completion. A transaction left decided (attempts spent, or the coordinator restarted) is
   * taken up again by the timeout sweep.
   */
  private startMarkers(md: TransactionMetadata, result: TransactionResult): void {
    const { transactionalId } = md;
    if (this.markerJobs.has(transactionalId)) return;
    this.markerJobs.add(transactionalId);
    void this.writeMarkersAndComplete(md, result)
      .catch((err: unknown) => this.logger.error({ err, transactionalId }, 'transaction markers failed'))
      .finally(() => {
        this.markerJobs.delete(transactionalId);
        const waiters = this.completionWaiters.get(transactionalId);
        this.completionWaiters.delete(transactionalId);
        for (const wake of waiters ?? []) wake();
      });
  }

  /**
   * Resolves after `ms`, or sooner when the markers and completion of `transactionalId`'s ended
   * transaction, being written now, are done: a caller answered CONCURRENT_TRANSACTIONS retries then
   * instead of at the end of its backoff. With nothing being written it waits the whole `ms`, so
   * retrying a change refused for another reason never spins.
   */
  completionOrTimeout(transactionalId: string, ms: number): Promise<void> {
    if (!this.markerJobs.has(transactionalId)) return this.sleep(ms);
    return new Promise((resolve) => {
      let waiters = this.completionWaiters.get(transactionalId);
      if (waiters === undefined) {
        waiters = new Set();
        this.completionWaiters.set(transactionalId, waiters);
      }
      const set = waiters;
      const timer = this.clock.schedule(ms, () => {
        set.delete(wake);
        resolve();
      });
      const wake = (): void => {
        timer.cancel();
        resolve();
      };
      set.add(wake);
    });
  }

  private async writeMarkersAndComplete(md: TransactionMetadata, result: TransactionResult): Promise<void> {
    const { transactionalId } = md;
    const write = {
      producerId: md.producerId,
      producerEpoch: md.producerEpoch,
      coordinatorEpoch: this.coordinatorEpoch,
      result,
      transactionVersion: md.clientTransactionVersion,
    };
    for (let attempt = 1; md.partitions.size > 0; attempt++) {
      if (!this.owns(md) || attempt > this.config.markerMaxAttempts) {
        this.logger.warn(
          { transactionalId, partitions: md.partitions.size, attempts: attempt - 1 },
          'transaction markers not all written; the next sweep retries',
        );
        return;
      }
      if (attempt > 1) await this.sleep(this.config.markerRetryBackoffMs);
      if (!this.owns(md)) return;
      // A partition deleted since it joined has no reader left to need its marker.
      for (const key of md.partitions) {
        const { topic, partition } = parsePartitionKey(key);
        if (!this.o.partitions.partitionExists(topic, partition)) md.partitions.delete(key);
      }
      if (md.partitions.size === 0) break;
      const partitions = [...md.partitions].map(parsePartitionKey);
      let results: readonly MarkerPartitionResult[];
      try {
        results = await this.o.markers.writeMarkers({ ...write, partitions });
      } catch (err) {
        this.logger.warn({ err, transactionalId }, 'writing transaction markers failed');
        continue;
      }
      // A written partition leaves the transaction (DescribeTransactions lists only those left),
      // as does one whose log cannot hold markers: its producer could not have written to it.
      let failed = 0;
      for (const r of results)
        if (
          r.errorCode === ErrorCode.NONE ||
          r.errorCode === ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT ||
          r.errorCode === ErrorCode.UNSUPPORTED_VERSION
        )
          md.partitions.delete(partitionKey(r.topic, r.partition));
        else failed++;
      if (failed > 0)
        this.o.metrics.increment('tributary_transaction_marker_failures_total', undefined, failed);
      // A newer coordinator or producer epoch owns these partitions now: retrying cannot help.
      const fenced = results.find(
        (r) =>
          r.errorCode === ErrorCode.TRANSACTION_COORDINATOR_FENCED ||
          r.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH,
      );
      if (fenced !== undefined) {
        this.logger.warn(
          { transactionalId, topic: fenced.topic, partition: fenced.partition, errorCode: fenced.errorCode },
          'transaction markers fenced; sending stops until the next sweep',
        );
        return;
      }
    }
    for (let attempt = 1; ; attempt++) {
      if (!this.owns(md) || md.pendingTransitionInProgress || !isPrepared(md.state)) return;
      if (attempt > this.config.markerMaxAttempts) {
        this.logger.warn({ transactionalId }, 'transaction completion not written; the next sweep retries');
        return;
      }
      if (attempt > 1) await this.sleep(this.config.markerRetryBackoffMs);
      if (!this.owns(md) || md.pendingTransitionInProgress) return;
      const transit = md.prepareComplete(this.clock.now());
      const errorCode = await this.write(transactionalId, { kind: 'write', md, transit, fence: false });
      if (errorCode === ErrorCode.NONE) {
        this.o.metrics.increment('tributary_transactions_completed_total', { result });
        this.logger.debug(
          { transactionalId, state: transactionStateName(md.state) },
          'transaction completed',
        );
        return;
      }
    }
  }

  private resumeDecidedTransactions(): void {
    for (const md of this.cache.values())
      if (isPrepared(md.state) && !md.pendingTransitionInProgress && !this.markerJobs.has(md.transactionalId))
        this.startMarkers(md, md.state === TransactionState.PrepareCommit ? 'commit' : 'abort');
  }

  // ---- Timers ---------------------------------------------------------------------------------

  /**
   * Aborts ongoing transactions past their timeout, fencing their producer with a bumped epoch,
   * and resumes markers of decided transactions that were left unwritten.
   */
  async sweepTransactions(): Promise<void> {
    if (this.status !== 'active') return;
    const now = this.clock.now();
    const timedOut = [...this.cache.values()].filter(
      (md) =>
        md.state === TransactionState.Ongoing &&
        !md.pendingTransitionInProgress &&
        md.txnStartTimestamp + md.txnTimeoutMs < now,
    );
    await Promise.all(timedOut.map((md) => this.abortTimedOut(md.transactionalId, md.producerId)));
    this.resumeDecidedTransactions();
  }

  private async abortTimedOut(transactionalId: string, producerId: bigint): Promise<void> {
    let decision: Decision;
    try {
      decision = await this.withLock(transactionalId, async () => {
        const md = this.cache.get(transactionalId);
        if (md === undefined || md.producerId !== producerId || md.pendingTransitionInProgress)
          return answer(ErrorCode.NONE);
        if (md.state !== TransactionState.Ongoing) return answer(ErrorCode.NONE);
        return this.fenceAndAbort(md);
      });
    } catch (err) {
      this.logger.warn({ err, transactionalId }, 'could not abort a timed-out transaction');
      return;
    }
    if (decision.kind === 'answer') return;
    const errorCode = await this.writeDecided(transactionalId, decision, 'abort');
    if (errorCode === ErrorCode.NONE) {
      this.o.metrics.increment('tributary_transactions_timed_out_total');
      this.logger.info({ transactionalId }, 'aborted a timed-out transaction');
    } else this.logger.warn({ transactionalId, errorCode }, 'abort of a timed-out transaction failed');
  }

  /** Removes transactional ids idle past transactional.id.expiration.ms (a tombstone in the log). */
  async expireTransactionalIds(): Promise<void> {
    if (this.status !== 'active') return;
    const cutoff = this.clock.now() - this.config.transactionalIdExpirationMs;
    const expired = [...this.cache.values()].filter(
      (md) =>
        isExpirationAllowed(md.state) &&
        !md.pendingTransitionInProgress &&
        md.txnLastUpdateTimestamp <= cutoff,
    );
    for (const candidate of expired) {
      const { transactionalId } = candidate;
      const md = await this.withLock(transactionalId, () => {
        const md = this.cache.get(transactionalId);
        if (md !== candidate || md.pendingTransitionInProgress || !isExpirationAllowed(md.state)) return null;
        if (md.txnLastUpdateTimestamp > cutoff) return null;
        md.prepareDead();
        return md;
      });
      if (md === null) continue;
      try {
        await this.o.log.append(transactionalId, null);
      } catch (err) {
        md.abandonPendingTransition();
        this.logger.warn({ err, transactionalId }, 'could not expire a transactional id');
        continue;
      }
      if (this.cache.get(transactionalId) === md) this.cache.delete(transactionalId);
      this.o.metrics.increment('tributary_transactional_ids_expired_total');
      this.logger.info({ transactionalId }, 'expired a transactional id');
    }
  }

  // ---- Helpers --------------------------------------------------------------------------------

  /** Writes a prepared transition and applies it; a failed write drops it. */
  private async write(transactionalId: string, d: Extract<Decision, { kind: 'write' }>): Promise<number> {
    try {
      await this.o.log.append(transactionalId, toTransactionLogValue(d.transit));
    } catch (err) {
      d.md.abandonPendingTransition();
      this.logger.warn({ err, transactionalId }, 'could not write transaction state');
      return logErrorCode(err);
    }
    if (!this.owns(d.md)) return ErrorCode.NOT_COORDINATOR;
    d.md.completeTransitionTo(d.transit);
    return ErrorCode.NONE;
  }

  private owns(md: TransactionMetadata): boolean {
    return this.status === 'active' && this.cache.get(md.transactionalId) === md;
  }

  private unavailable(transactionalId: string): number {
    if (this.status === 'stopped') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.status === 'loading') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    const partition = this.o.log.partitionFor(transactionalId);
    if (this.loading.has(partition)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (!this.held.has(partition)) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  /** A decision that threw: a failed allocation's code, or (a broken invariant) UNKNOWN_SERVER_ERROR. */
  private decisionErrorCode(e: unknown, transactionalId: string): number {
    if (e instanceof AllocationError) return e.errorCode;
    this.logger.error({ err: e, transactionalId }, 'transaction state machine refused a transition');
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }

  private decisionEnv(): DecisionEnv {
    return { now: this.clock.now(), allocateProducerId: () => this.allocateProducerId() };
  }

  private async allocateProducerId(): Promise<bigint> {
    try {
      return await this.o.producerIds.nextProducerId();
    } catch (e) {
      throw new AllocationError(allocationErrorCode(e));
    }
  }

  /** Runs `fn` after every earlier call for the same id has finished. */
  private withLock<T>(transactionalId: string, fn: () => T | Promise<T>): Promise<T> {
    const previous = this.locks.get(transactionalId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(
      () => {},
      () => {},
    );
    this.locks.set(transactionalId, settled);
    void settled.then(() => {
      if (this.locks.get(transactionalId) === settled) this.locks.delete(transactionalId);
    });
    return run;
  }

  /**
   * Runs `fn` every `ms`, on a fixed rate. Runs may overlap when one is slow: every change they
   * make is taken under the id's lock and rechecked there, so a second run finds nothing to do.
   */
  private every(ms: number, fn: () => Promise<void>): TimerHandle {
    let handle: TimerHandle;
    const tick = () => {
      handle = this.clock.schedule(ms, () => {
        if (this.status !== 'active') return;
        tick();
        void fn().catch((err: unknown) => this.logger.error({ err }, 'transaction coordinator timer failed'));
      });
    };
    tick();
    return { cancel: () => handle.cancel() };
  }

  /** Waits on the clock; ends early when the coordinator stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: this.clock.schedule(ms, () => {
          this.sleepers.delete(sleeper);
          resolve();
        }),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}

function errorCodeOf(e: unknown): number | undefined {
  if (typeof e === 'object' && e !== null && 'errorCode' in e && typeof e.errorCode === 'number')
    return e.errorCode;
  return undefined;
}

function allocationErrorCode(e: unknown): number {
  if (e instanceof AllocationError) return e.errorCode;
  return errorCodeOf(e) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** A failed log write tells the client to find the coordinator again and retry. */
function logErrorCode(e: unknown): number {
  return errorCodeOf(e) ?? ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
