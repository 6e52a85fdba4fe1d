// @tributary/storage-postgres: the storage adapter for several brokers sharing one PostgreSQL database.
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_BATCHES_PER_READ,
  DEFAULT_MAX_BATCHES_PER_TRANSACTION,
  DEFAULT_MAX_BYTES_PER_TRANSACTION,
  DEFAULT_MAX_CONCURRENT_TRANSACTIONS,
  DEFAULT_POOL_SIZE,
  DEFAULT_SCHEMA,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type PostgresStorageOptions,
  postgresStorageOptionsSchema,
  redactConnectionString,
  type StorageLogger,
} from './options.js';
export { PostgresStorage } from './postgres-storage.js';
export { MIGRATIONS, type Migration } from './schema.js';
