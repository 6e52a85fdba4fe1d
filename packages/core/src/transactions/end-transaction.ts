// Deciding an end of transaction (EndTxn, and the aborts the coordinator starts itself): Kafka's
// rules for transactions v1 and v2, over one id's metadata (a decision to write prepares its change).

import { ErrorCode } from '@tributary/codec';
import type { TransactionResult } from './ports.js';
import {
  MAX_PRODUCER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  supportsEpochBump,
  type TransactionMetadata,
  type TxnTransit,
} from './transaction-metadata.js';
import { TransactionState, transactionStateName } from './transaction-state.js';

export interface ProducerIdAndEpoch {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/** What a decision needs from the coordinator. */
export interface DecisionEnv {
  readonly now: number;
  /** A new producer id; rejects with the code to answer when none can be had. */
  allocateProducerId(): Promise<bigint>;
}

/** A prepared change to write, or the answer to give without writing. */
export type Decision =
  | { readonly kind: 'answer'; readonly errorCode: number; readonly producer?: ProducerIdAndEpoch }
  | {
      readonly kind: 'write';
      readonly md: TransactionMetadata;
      readonly transit: TxnTransit;
      readonly fence: boolean;
    };

export const NO_PRODUCER: ProducerIdAndEpoch = {
  producerId: NO_PRODUCER_ID,
  producerEpoch: NO_PRODUCER_EPOCH,
};

export function answer(errorCode: number, producer?: ProducerIdAndEpoch): Decision {
  return producer === undefined ? { kind: 'answer', errorCode } : { kind: 'answer', errorCode, producer };
}

export function isPrepared(state: TransactionState): boolean {
  return state === TransactionState.PrepareCommit || state === TransactionState.PrepareAbort;
}

/**
 * Decides an end of transaction (Kafka's endTransaction). `fromClient` is false for the aborts
 * the coordinator starts itself, which come with a fence prepared (PrepareEpochFence pending).
 */
export async function decideEndTransaction(
  env: DecisionEnv,
  md: TransactionMetadata,
  producerId: bigint,
  producerEpoch: number,
  result: TransactionResult,
  fromClient: boolean,
  transactionVersion: number,
): Promise<Decision> {
  return supportsEpochBump(transactionVersion)
    ? decideEndV2(env, md, producerId, producerEpoch, result, fromClient, transactionVersion)
    : decideEndV1(env, md, producerId, producerEpoch, result, fromClient);
}

function decideEndV1(
  env: DecisionEnv,
  md: TransactionMetadata,
  producerId: bigint,
  producerEpoch: number,
  result: TransactionResult,
  fromClient: boolean,
): Decision {
  if (md.producerId !== producerId) return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  // A client's epoch must match exactly; the coordinator's own abort carries a fenced epoch.
  if ((fromClient && producerEpoch !== md.producerEpoch) || producerEpoch < md.producerEpoch)
    return answer(ErrorCode.PRODUCER_FENCED);
  const fence = md.pendingState === TransactionState.PrepareEpochFence;
  if (md.pendingTransitionInProgress && !fence) return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
  const commit = result === 'commit';
  switch (md.state) {
    case TransactionState.Ongoing: {
      const next = commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort;
      if (next === TransactionState.PrepareAbort && fence) applyFence(md, producerEpoch);
      const transit = md.prepareAbortOrCommit(next, 0, NO_PRODUCER_ID, env.now, false);
      return { kind: 'write', md, transit, fence };
    }
    case TransactionState.CompleteCommit:
      return answer(commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
    case TransactionState.CompleteAbort:
      return answer(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE);
    case TransactionState.PrepareCommit:
      return answer(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
    case TransactionState.PrepareAbort:
      return answer(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
    case TransactionState.Empty:
      return answer(ErrorCode.INVALID_TXN_STATE);
    default:
      throw new Error(`Transactional id ${md.transactionalId} is in state ${transactionStateName(md.state)}`);
  }
}

/*
 * Transactions v2 against an idle id, by the request's epoch: a retry carries the epoch before
 * the bump (or MAX-1 on the previous producer id after an overflow), current carries the epoch
 * the last EndTxn returned.
 *
 *                  Abort            Commit
 *                  retry  current   retry  current
 *   Empty          FENCED bump      FENCED INVALID_TXN_STATE
 *   CompleteAbort  NONE   bump      ITS    ITS
 *   CompleteCommit ITS    bump      NONE   ITS
 */
async function decideEndV2(
  env: DecisionEnv,
  md: TransactionMetadata,
  producerId: bigint,
  producerEpoch: number,
  result: TransactionResult,
  fromClient: boolean,
  transactionVersion: number,
): Promise<Decision> {
  const current = { producerId: md.producerId, producerEpoch: md.producerEpoch };
  const fence = md.pendingState === TransactionState.PrepareEpochFence;
  const retryOnOverflow =
    !fence &&
    md.prevProducerId === producerId &&
    producerEpoch === MAX_PRODUCER_EPOCH - 1 &&
    md.producerEpoch === 0;
  const retryOnEpochBump = !fence && md.producerEpoch === producerEpoch + 1;
  let validEpoch: boolean;
  if (fence) {
    validEpoch = (!fromClient || producerEpoch === md.producerEpoch) && producerEpoch >= md.producerEpoch;
  } else if (isPrepared(md.state)) {
    validEpoch = retryOnEpochBump || producerEpoch === md.producerEpoch;
  } else if (md.state === TransactionState.CompleteCommit || md.state === TransactionState.CompleteAbort) {
    validEpoch = retryOnEpochBump || retryOnOverflow || producerEpoch === md.producerEpoch;
  } else {
    validEpoch = producerEpoch === md.producerEpoch;
  }
  const isRetry = retryOnEpochBump || retryOnOverflow;
  if (md.producerId !== producerId && !retryOnOverflow) return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  if (!validEpoch) return answer(ErrorCode.PRODUCER_FENCED);
  if (md.pendingTransitionInProgress && !fence) return answer(ErrorCode.CONCURRENT_TRANSACTIONS);

  const complete = async (
    next: TransactionState.PrepareCommit | TransactionState.PrepareAbort,
    noPartitionAdded: boolean,
  ): Promise<Decision> => {
    // Bumping an exhausted epoch moves the producer to a new id when the transaction completes.
    const nextProducerId =
      !fence && md.isProducerEpochExhausted ? await env.allocateProducerId() : NO_PRODUCER_ID;
    if (next === TransactionState.PrepareAbort && fence) applyFence(md, producerEpoch);
    const transit = md.prepareAbortOrCommit(
      next,
      transactionVersion,
      nextProducerId,
      env.now,
      noPartitionAdded,
    );
    return { kind: 'write', md, transit, fence };
  };
  const commit = result === 'commit';
  switch (md.state) {
    case TransactionState.Ongoing:
      return complete(commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort, false);
    case TransactionState.CompleteCommit:
      if (commit) return isRetry ? answer(ErrorCode.NONE, current) : answer(ErrorCode.INVALID_TXN_STATE);
      return isRetry ? answer(ErrorCode.INVALID_TXN_STATE) : complete(TransactionState.PrepareAbort, true);
    case TransactionState.CompleteAbort:
      if (!commit)
        return isRetry ? answer(ErrorCode.NONE, current) : complete(TransactionState.PrepareAbort, true);
      return answer(ErrorCode.INVALID_TXN_STATE);
    case TransactionState.PrepareCommit:
    case TransactionState.PrepareAbort:
      return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
    case TransactionState.Empty:
      return commit ? answer(ErrorCode.INVALID_TXN_STATE) : complete(TransactionState.PrepareAbort, true);
    default:
      throw new Error(`Transactional id ${md.transactionalId} is in state ${transactionStateName(md.state)}`);
  }
}

/** The fence becomes the abort: the fenced epoch is taken on now and the fence dropped. */
function applyFence(md: TransactionMetadata, fencedEpoch: number): void {
  md.abandonPendingTransition();
  md.producerEpoch = fencedEpoch;
  md.lastProducerEpoch = NO_PRODUCER_EPOCH;
}
