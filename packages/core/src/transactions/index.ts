export * from './append-verification.js';
export type { ProducerIdAndEpoch } from './end-transaction.js';
export type {
  MarkerPartitionResult,
  MarkerWrite,
  PartitionCatalog,
  ProducerIdAllocator,
  TransactionMarkerWriter,
  TransactionResult,
} from './ports.js';
export {
  defaultTransactionCoordinatorConfig,
  type TransactionCoordinatorConfig,
} from './transaction-config.js';
export * from './transaction-coordinator.js';
export type {
  ListTransactionsInput,
  TransactionDescription,
  TransactionListing,
} from './transaction-listing.js';
export * from './transaction-log.js';
export * from './transaction-metadata.js';
export * from './transaction-state.js';
