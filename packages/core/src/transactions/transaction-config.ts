/** The transaction coordinator's settings, with Kafka's names and defaults. */
export interface TransactionCoordinatorConfig {
  /** transaction.max.timeout.ms: the longest transaction timeout a producer may ask for. */
  readonly transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms: how long an idle transactional id is kept. */
  readonly transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  readonly abortTimedOutTransactionCleanupIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  readonly removeExpiredTransactionalIdsCleanupIntervalMs: number;
  /**
   * The cluster's transaction.version feature level (2 enables KIP-890's epoch bump on every
   * EndTxn). Aborts the coordinator starts itself (timeouts, fencing) use it.
   */
  readonly transactionVersion: number;
  /** How long to wait before writing markers again to partitions that failed. */
  readonly markerRetryBackoffMs: number;
  /**
   * Attempts to write a transaction's markers (and then its completion) before leaving it to the
   * next timeout sweep, which starts again.
   */
  readonly markerMaxAttempts: number;
}

export function defaultTransactionCoordinatorConfig(
  overrides: Partial<TransactionCoordinatorConfig> = {},
): TransactionCoordinatorConfig {
  return {
    transactionMaxTimeoutMs: 900_000,
    transactionalIdExpirationMs: 604_800_000,
    abortTimedOutTransactionCleanupIntervalMs: 10_000,
    removeExpiredTransactionalIdsCleanupIntervalMs: 3_600_000,
    transactionVersion: 2,
    markerRetryBackoffMs: 100,
    markerMaxAttempts: 10,
    ...overrides,
  };
}
