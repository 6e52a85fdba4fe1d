import type { Placement } from '../cluster/placement.js';
import type { GroupCoordinator } from '../groups/group-coordinator.js';
import type { Clock, Logger, Metrics } from '../services.js';
import type { StorageAdapter } from '../storage/index.js';
import type { TransactionCoordinator } from '../transactions/transaction-coordinator.js';
import type { BrokerConfig } from './config.js';
import type { TopicRegistry } from './topics.js';

/** What every handler is given: the broker's state and its injected services. */
export interface BrokerServices {
  readonly config: BrokerConfig;
  /** Which broker leads each partition and owns each coordinator partition. */
  readonly placement: Placement;
  readonly storage: StorageAdapter;
  readonly topics: TopicRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The classic group coordinator: this broker coordinates every group. */
  readonly groups: GroupCoordinator;
  /** The transaction coordinator: this broker coordinates every transactional id. */
  readonly transactions: TransactionCoordinator;
}

/** int64 fields travel as bigint; the core counts offsets in numbers. */
export const big = (n: number): bigint => BigInt(n);
export const num = (n: bigint): number => Number(n);

/** Kafka's "no authorized operations requested" sentinel. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
