import { ErrorCode } from '@tributary/codec';
import { isValidTransition, TransactionState, transactionStateName } from './transaction-state.js';

/** No producer id (RecordBatch.NO_PRODUCER_ID). */
export const NO_PRODUCER_ID = -1n;
/** No producer epoch (RecordBatch.NO_PRODUCER_EPOCH). */
export const NO_PRODUCER_EPOCH = -1;
/** The largest producer epoch (Short.MAX_VALUE). */
export const MAX_PRODUCER_EPOCH = 32_767;

/**
 * Whether no more epochs may be handed to a producer: the last one is kept back so the
 * coordinator can always fence the current producer by bumping once more.
 */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_PRODUCER_EPOCH - 1;
}

/** Transactions v2 (KIP-890 part 2): every EndTxn bumps the epoch. */
export function supportsEpochBump(transactionVersion: number): boolean {
  return transactionVersion >= 2;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A set key for a topic partition; `:` cannot occur in a topic name. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function parsePartitionKey(key: string): TopicPartition {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** Partition keys grouped by topic, each topic's partitions ascending, topics in first-seen order. */
export function partitionsByTopic(keys: Iterable<string>): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const { topic, partition } = parsePartitionKey(key);
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [partition]);
    else list.push(partition);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

/** Everything a transactional id's record in `__transaction_state` carries. */
export interface TransactionSnapshot {
  readonly producerId: bigint;
  /** The producer id before the last transition (the one a rotation replaced). */
  readonly prevProducerId: bigint;
  /** The producer id the current transaction's completion rotates to (epoch overflow), or -1. */
  readonly nextProducerId: bigint;
  readonly producerEpoch: number;
  /** The epoch before the last bump, so a retried bump can be recognized; not persisted. */
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TransactionState;
  /** Keys from `partitionKey()`. */
  readonly partitions: ReadonlySet<string>;
  /** When the first partition joined the transaction, or -1. */
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
  /** The transaction version the client used for the last transition (0, 1 or 2). */
  readonly clientTransactionVersion: number;
}

/** A prepared transition: written to the log first, then applied with `completeTransitionTo`. */
export type TxnTransit = TransactionSnapshot;

type TransitionData = {
  -readonly [K in keyof TransactionSnapshot]: TransactionSnapshot[K];
};

/** The outcome of a prepare step that a client's request can fail. */
export type PrepareResult = { ok: true; transit: TxnTransit } | { ok: false; errorCode: number };

/**
 * One transactional id's state at the coordinator. A change is prepared (which sets the pending
 * state and blocks other changes), written to `__transaction_state`, then completed; a failed
 * write abandons it. The rules mirror Kafka's TransactionMetadata.
 */
export class TransactionMetadata implements TransactionSnapshot {
  producerId: bigint;
  prevProducerId: bigint;
  nextProducerId: bigint;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  partitions: Set<string>;
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  clientTransactionVersion: number;
  /** The state a prepared, not yet written transition leads to. */
  pendingState: TransactionState | null = null;
  /**
   * A fencing abort whose write failed bumped the epoch in memory; the next fence must not bump
   * it again, since the bumped epoch was never handed to anyone.
   */
  hasFailedEpochFence = false;

  constructor(
    readonly transactionalId: string,
    init: Omit<TransactionSnapshot, 'partitions'> & { partitions?: Iterable<string> },
  ) {
    this.producerId = init.producerId;
    this.prevProducerId = init.prevProducerId;
    this.nextProducerId = init.nextProducerId;
    this.producerEpoch = init.producerEpoch;
    this.lastProducerEpoch = init.lastProducerEpoch;
    this.txnTimeoutMs = init.txnTimeoutMs;
    this.state = init.state;
    this.partitions = new Set(init.partitions ?? []);
    this.txnStartTimestamp = init.txnStartTimestamp;
    this.txnLastUpdateTimestamp = init.txnLastUpdateTimestamp;
    this.clientTransactionVersion = init.clientTransactionVersion;
  }

  get pendingTransitionInProgress(): boolean {
    return this.pendingState !== null;
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  /** Ongoing, or decided but its markers not yet all written. */
  get hasPendingTransaction(): boolean {
    const s = this.state;
    return (
      s === TransactionState.Ongoing ||
      s === TransactionState.PrepareAbort ||
      s === TransactionState.PrepareCommit
    );
  }

  snapshot(): TransactionSnapshot {
    return { ...this.fields(), partitions: new Set(this.partitions) };
  }

  /** Fences the current producer of an ongoing transaction, which is then aborted. */
  prepareFenceProducerEpoch(): TxnTransit {
    // A fence that failed to be written already bumped the epoch; never go past the maximum.
    const bumped =
      this.hasFailedEpochFence || this.producerEpoch === MAX_PRODUCER_EPOCH
        ? this.producerEpoch
        : this.producerEpoch + 1;
    return this.prepareTransitionTo({
      ...this.fields(),
      state: TransactionState.PrepareEpochFence,
      producerEpoch: bumped,
    });
  }

  /**
   * InitProducerId on an idle transactional id: bumps the epoch, or recognizes a retry of a bump
   * whose answer was lost (KIP-360: the producer names the epoch it has).
   */
  prepareIncrementProducerEpoch(
    newTxnTimeoutMs: number,
    expectedProducerEpoch: number | null,
    now: number,
  ): PrepareResult {
    if (this.isProducerEpochExhausted)
      throw new Error(`Cannot allocate any more producer epochs for producer id ${this.producerId}`);
    const data = this.fields();
    data.state = TransactionState.Empty;
    const bumped = this.producerEpoch + 1;
    if (expectedProducerEpoch === null) {
      data.producerEpoch = bumped;
      data.lastProducerEpoch = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedProducerEpoch === this.producerEpoch) {
      // The producer continues after an error and nobody else initialized in between.
      data.producerEpoch = bumped;
      data.lastProducerEpoch = this.producerEpoch;
    } else if (expectedProducerEpoch === this.lastProducerEpoch) {
      // A retry of a bump that succeeded: answer with the current epoch again.
      data.producerEpoch = this.producerEpoch;
      data.lastProducerEpoch = this.lastProducerEpoch;
    } else {
      return { ok: false, errorCode: ErrorCode.PRODUCER_FENCED };
    }
    data.txnTimeoutMs = newTxnTimeoutMs;
    data.partitions = new Set();
    data.txnStartTimestamp = -1;
    data.txnLastUpdateTimestamp = now;
    return { ok: true, transit: this.prepareTransitionTo(data) };
  }

  /** InitProducerId once the epochs are exhausted: a new producer id at epoch 0. */
  prepareProducerIdRotation(
    newProducerId: bigint,
    newTxnTimeoutMs: number,
    now: number,
    recordLastEpoch: boolean,
  ): TxnTransit {
    if (this.hasPendingTransaction)
      throw new Error('Cannot rotate producer ids while a transaction is still pending');
    return this.prepareTransitionTo({
      ...this.fields(),
      state: TransactionState.Empty,
      producerId: newProducerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      txnTimeoutMs: newTxnTimeoutMs,
      partitions: new Set(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  prepareAddPartitions(added: Iterable<string>, now: number, clientTransactionVersion: number): TxnTransit {
    const starting =
      this.state === TransactionState.Empty ||
      this.state === TransactionState.CompleteAbort ||
      this.state === TransactionState.CompleteCommit;
    const partitions = new Set(this.partitions);
    for (const key of added) partitions.add(key);
    return this.prepareTransitionTo({
      ...this.fields(),
      state: TransactionState.Ongoing,
      partitions,
      txnStartTimestamp: starting ? now : this.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
      clientTransactionVersion,
    });
  }

  /**
   * EndTxn: PrepareCommit or PrepareAbort. Under transactions v2 the epoch is bumped (an abort at
   * the maximum epoch goes through unbumped so a broken producer can recover), and
   * `nextProducerId` names the id the completion rotates to when the bump exhausted the epochs.
   */
  prepareAbortOrCommit(
    newState: TransactionState.PrepareCommit | TransactionState.PrepareAbort,
    clientTransactionVersion: number,
    nextProducerId: bigint,
    now: number,
    noPartitionAdded: boolean,
  ): TxnTransit {
    const data = this.fields();
    data.state = newState;
    if (supportsEpochBump(clientTransactionVersion)) {
      if (!(this.producerEpoch === MAX_PRODUCER_EPOCH && newState === TransactionState.PrepareAbort))
        data.producerEpoch = this.producerEpoch + 1;
      data.lastProducerEpoch = this.producerEpoch;
    }
    // An abort of a transaction without partitions (v2) has no start; it starts now.
    data.txnStartTimestamp = noPartitionAdded ? now : this.txnStartTimestamp;
    data.nextProducerId = nextProducerId;
    data.txnLastUpdateTimestamp = now;
    data.clientTransactionVersion = clientTransactionVersion;
    data.partitions = new Set(this.partitions);
    return this.prepareTransitionTo(data);
  }

  /**
   * All markers are written: CompleteCommit or CompleteAbort. On an epoch overflow (v2) the
   * producer moves to the next producer id at epoch 0; `lastProducerEpoch` stays the last epoch
   * the client saw.
   */
  prepareComplete(now: number): TxnTransit {
    this.hasFailedEpochFence = false;
    const data = this.fields();
    data.state =
      this.state === TransactionState.PrepareCommit
        ? TransactionState.CompleteCommit
        : TransactionState.CompleteAbort;
    if (supportsEpochBump(this.clientTransactionVersion) && this.nextProducerId !== NO_PRODUCER_ID) {
      data.producerId = this.nextProducerId;
      data.producerEpoch = 0;
    }
    data.nextProducerId = NO_PRODUCER_ID;
    data.partitions = new Set();
    data.txnLastUpdateTimestamp = now;
    return this.prepareTransitionTo(data);
  }

  prepareDead(): TxnTransit {
    return this.prepareTransitionTo({
      ...this.fields(),
      state: TransactionState.Dead,
      partitions: new Set(),
    });
  }

  /** Applies a prepared transition once it is written; throws if it is not the one prepared. */
  completeTransitionTo(transit: TxnTransit): void {
    const to = this.pendingState;
    if (to === null)
      throw new Error(
        `Transactional id ${this.transactionalId} completed a transition without a pending state`,
      );
    if (to !== transit.state) this.transitionFailure(transit);
    switch (to) {
      case TransactionState.Empty:
        if (
          (this.producerEpoch !== transit.producerEpoch && !this.validProducerEpochBump(transit)) ||
          transit.partitions.size > 0 ||
          transit.txnStartTimestamp !== -1
        )
          this.transitionFailure(transit);
        break;
      case TransactionState.Ongoing:
        if (
          !this.validProducerEpoch(transit) ||
          !isSuperset(transit.partitions, this.partitions) ||
          this.txnTimeoutMs !== transit.txnTimeoutMs
        )
          this.transitionFailure(transit);
        break;
      case TransactionState.PrepareAbort:
      case TransactionState.PrepareCommit: {
        const emptyAbort =
          to === TransactionState.PrepareAbort &&
          supportsEpochBump(transit.clientTransactionVersion) &&
          (this.state === TransactionState.Empty ||
            this.state === TransactionState.CompleteCommit ||
            this.state === TransactionState.CompleteAbort);
        if (
          !this.validProducerEpoch(transit) ||
          !sameSet(this.partitions, transit.partitions) ||
          this.txnTimeoutMs !== transit.txnTimeoutMs ||
          !(this.txnStartTimestamp === transit.txnStartTimestamp || emptyAbort)
        )
          this.transitionFailure(transit);
        break;
      }
      case TransactionState.CompleteAbort:
      case TransactionState.CompleteCommit:
        if (
          !this.validProducerEpoch(transit) ||
          this.txnTimeoutMs !== transit.txnTimeoutMs ||
          transit.txnStartTimestamp === -1
        )
          this.transitionFailure(transit);
        break;
      case TransactionState.PrepareEpochFence:
        // A fence is always followed at once by PrepareAbort; it is never completed on its own.
        this.transitionFailure(transit);
        break;
      case TransactionState.Dead:
        throw new Error(
          `Transactional id ${this.transactionalId} cannot complete a transition to Dead: an expired id is removed`,
        );
    }
    this.producerId = transit.producerId;
    this.prevProducerId = transit.prevProducerId;
    this.nextProducerId = transit.nextProducerId;
    this.producerEpoch = transit.producerEpoch;
    this.lastProducerEpoch = transit.lastProducerEpoch;
    this.txnTimeoutMs = transit.txnTimeoutMs;
    this.partitions = new Set(transit.partitions);
    this.txnStartTimestamp = transit.txnStartTimestamp;
    this.txnLastUpdateTimestamp = transit.txnLastUpdateTimestamp;
    this.clientTransactionVersion = transit.clientTransactionVersion;
    this.pendingState = null;
    this.state = to;
  }

  /** Drops a prepared transition whose write failed. */
  abandonPendingTransition(): void {
    this.pendingState = null;
  }

  private fields(): TransitionData {
    return {
      producerId: this.producerId,
      prevProducerId: this.prevProducerId,
      nextProducerId: this.nextProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      state: this.state,
      partitions: this.partitions,
      txnStartTimestamp: this.txnStartTimestamp,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
      clientTransactionVersion: this.clientTransactionVersion,
    };
  }

  private prepareTransitionTo(data: TransitionData): TxnTransit {
    if (this.pendingState !== null)
      throw new Error(
        `Transactional id ${this.transactionalId} prepares a transition to ${transactionStateName(data.state)} while one to ${transactionStateName(this.pendingState)} is pending`,
      );
    if (data.producerId < 0n) throw new Error(`Illegal new producer id ${data.producerId}`);
    // A new id's epoch is -1 until its first InitProducerId, and may stay so until it expires.
    if (data.state !== TransactionState.Dead && data.producerEpoch < 0)
      throw new Error(`Illegal new producer epoch ${data.producerEpoch}`);
    if (!isValidTransition(this.state, data.state))
      throw new Error(
        `Transactional id ${this.transactionalId} cannot go from ${transactionStateName(this.state)} to ${transactionStateName(data.state)}`,
      );
    this.pendingState = data.state;
    // Every transition records the producer id it leaves as the previous one.
    return { ...data, prevProducerId: this.producerId, partitions: new Set(data.partitions) };
  }

  /**
   * Under v2 a PrepareX carries the bumped epoch (its last epoch is the current one), and a
   * completion that rotated the producer id starts at epoch 0 from the current id.
   */
  private validProducerEpoch(t: TxnTransit): boolean {
    const v2 = supportsEpochBump(t.clientTransactionVersion);
    if (
      v2 &&
      (t.state === TransactionState.CompleteCommit || t.state === TransactionState.CompleteAbort) &&
      t.producerEpoch === 0
    )
      return t.lastProducerEpoch === this.lastProducerEpoch && t.prevProducerId === this.producerId;
    if (v2 && (t.state === TransactionState.PrepareCommit || t.state === TransactionState.PrepareAbort))
      return t.lastProducerEpoch === this.producerEpoch && t.producerId === this.producerId;
    return t.producerEpoch === this.producerEpoch && t.producerId === this.producerId;
  }

  private validProducerEpochBump(t: TxnTransit): boolean {
    return (
      t.producerEpoch === this.producerEpoch + 1 ||
      (t.producerEpoch === 0 && t.producerId !== this.producerId)
    );
  }

  private transitionFailure(t: TxnTransit): never {
    throw new Error(
      `Transactional id ${this.transactionalId} failed its transition to ${transactionStateName(t.state)}: unexpected metadata`,
    );
  }
}

function isSuperset(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const k of b) if (!a.has(k)) return false;
  return true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && isSuperset(a, b);
}
