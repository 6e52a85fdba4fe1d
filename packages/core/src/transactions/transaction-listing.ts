// DescribeTransactions and ListTransactions over the coordinator's transactional ids.

import { ErrorCode } from '@tributary/codec';
import { partitionsByTopic, type TransactionMetadata } from './transaction-metadata.js';
import { TransactionState, transactionStateFromName, transactionStateName } from './transaction-state.js';

export interface TransactionDescription {
  readonly errorCode: number;
  readonly transactionalId: string;
  readonly transactionState: string;
  readonly transactionTimeoutMs: number;
  readonly transactionStartTimeMs: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly number[] }[];
}

export interface ListTransactionsInput {
  readonly stateFilters: readonly string[];
  readonly producerIdFilters: readonly bigint[];
  /** Only transactions running longer than this; negative for all. */
  readonly durationFilterMs: number;
  /** A regular expression the whole transactional id must match; null or empty for all. */
  readonly transactionalIdPattern: string | null;
}

export interface TransactionListing {
  readonly errorCode: number;
  readonly unknownStateFilters: readonly string[];
  readonly transactionStates: readonly {
    readonly transactionalId: string;
    readonly producerId: bigint;
    readonly transactionState: string;
  }[];
}

/** A description carrying only an error, with the fields at Kafka's defaults. */
export function describeNone(transactionalId: string, errorCode: number): TransactionDescription {
  return {
    errorCode,
    transactionalId,
    transactionState: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: 0,
    producerId: 0n,
    producerEpoch: 0,
    topics: [],
  };
}

/** The state of one id; a Dead id is being expired and reads as not found. */
export function describeTransactionMetadata(
  transactionalId: string,
  md: TransactionMetadata | undefined,
): TransactionDescription {
  if (md === undefined || md.state === TransactionState.Dead)
    return describeNone(transactionalId, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  return {
    errorCode: ErrorCode.NONE,
    transactionalId,
    transactionState: transactionStateName(md.state),
    transactionTimeoutMs: md.txnTimeoutMs,
    transactionStartTimeMs: md.txnStartTimestamp,
    producerId: md.producerId,
    producerEpoch: md.producerEpoch,
    topics: partitionsByTopic(md.partitions),
  };
}

export function listingError(errorCode: number): TransactionListing {
  return { errorCode, unknownStateFilters: [], transactionStates: [] };
}

/**
 * The ids passing every filter given. State names the coordinator does not know are reported back
 * and match nothing. The pattern must match the whole id; one that does not compile answers
 * INVALID_REGULAR_EXPRESSION, as Kafka does. An Empty transaction has no start time, so any
 * duration filter keeps it, as in Kafka.
 */
export function listTransactionMetadata(
  all: Iterable<TransactionMetadata>,
  input: ListTransactionsInput,
  now: number,
): TransactionListing {
  let pattern: RegExp | null = null;
  if (input.transactionalIdPattern !== null && input.transactionalIdPattern !== '') {
    try {
      pattern = new RegExp(`^(?:${input.transactionalIdPattern})$`, 'u');
    } catch {
      return listingError(ErrorCode.INVALID_REGULAR_EXPRESSION);
    }
  }
  const states = new Set<TransactionState>();
  const unknownStateFilters: string[] = [];
  for (const name of input.stateFilters) {
    const state = transactionStateFromName(name);
    if (state === undefined) unknownStateFilters.push(name);
    else states.add(state);
  }
  const producerIds = new Set(input.producerIdFilters);
  const transactionStates: TransactionListing['transactionStates'][number][] = [];
  for (const md of all) {
    // Dead is transient: the id is being removed.
    if (md.state === TransactionState.Dead) continue;
    if (producerIds.size > 0 && !producerIds.has(md.producerId)) continue;
    if (input.stateFilters.length > 0 && !states.has(md.state)) continue;
    if (input.durationFilterMs >= 0 && now - md.txnStartTimestamp <= input.durationFilterMs) continue;
    if (pattern !== null && !pattern.test(md.transactionalId)) continue;
    transactionStates.push({
      transactionalId: md.transactionalId,
      producerId: md.producerId,
      transactionState: transactionStateName(md.state),
    });
  }
  return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
}
