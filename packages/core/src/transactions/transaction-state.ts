/**
 * The states of a transactional id at its coordinator, with Kafka's names (DescribeTransactions
 * and ListTransactions show them) and ids (the `TransactionStatus` byte of `__transaction_state`).
 */
export enum TransactionState {
  Empty = 0,
  Ongoing = 1,
  PrepareCommit = 2,
  PrepareAbort = 3,
  CompleteCommit = 4,
  CompleteAbort = 5,
  /** The transactional id is expiring; never written except as a tombstone. */
  Dead = 6,
  /** An ongoing transaction is being aborted to fence its producer; never written. */
  PrepareEpochFence = 7,
}

const NAMES: Record<TransactionState, string> = {
  [TransactionState.Empty]: 'Empty',
  [TransactionState.Ongoing]: 'Ongoing',
  [TransactionState.PrepareCommit]: 'PrepareCommit',
  [TransactionState.PrepareAbort]: 'PrepareAbort',
  [TransactionState.CompleteCommit]: 'CompleteCommit',
  [TransactionState.CompleteAbort]: 'CompleteAbort',
  [TransactionState.Dead]: 'Dead',
  [TransactionState.PrepareEpochFence]: 'PrepareEpochFence',
};

const BY_NAME = new Map(Object.entries(NAMES).map(([id, name]) => [name, Number(id) as TransactionState]));

const S = TransactionState;

/**
 * The states each state may be entered from. PrepareAbort may also follow Empty and the Complete
 * states: under transactions v2 a client unsure of the coordinator's state ends with an abort.
 */
const VALID_PREVIOUS: Record<TransactionState, readonly TransactionState[]> = {
  [S.Empty]: [S.Empty, S.CompleteCommit, S.CompleteAbort],
  [S.Ongoing]: [S.Ongoing, S.Empty, S.CompleteCommit, S.CompleteAbort],
  [S.PrepareCommit]: [S.Ongoing],
  [S.PrepareAbort]: [S.Ongoing, S.PrepareEpochFence, S.Empty, S.CompleteCommit, S.CompleteAbort],
  [S.CompleteCommit]: [S.PrepareCommit],
  [S.CompleteAbort]: [S.PrepareAbort],
  [S.Dead]: [S.Empty, S.CompleteAbort, S.CompleteCommit],
  [S.PrepareEpochFence]: [S.Ongoing],
};

export function transactionStateName(state: TransactionState): string {
  return NAMES[state];
}

/** The state a name stands for (ListTransactions' state filters), or undefined. */
export function transactionStateFromName(name: string): TransactionState | undefined {
  return BY_NAME.get(name);
}

/** The state a `__transaction_state` status byte stands for; throws on an unknown byte. */
export function transactionStateFromId(id: number): TransactionState {
  if (!Number.isInteger(id) || id < 0 || id > 7) throw new Error(`Unknown transaction state id ${id}`);
  return id as TransactionState;
}

export function isValidTransition(from: TransactionState, to: TransactionState): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

/** Whether an idle transactional id in this state may expire (transactional.id.expiration.ms). */
export function isExpirationAllowed(state: TransactionState): boolean {
  return state === S.Empty || state === S.CompleteCommit || state === S.CompleteAbort;
}
