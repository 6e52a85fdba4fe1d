import type { Logger } from '@tributary/core/storage';
import { z } from 'zod';

/** The logging this adapter does: the part of core's Logger port it calls (pino fits as it is). */
export type StorageLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export const DEFAULT_SCHEMA = 'tributary';
export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_MAX_CONCURRENT_TRANSACTIONS = 2;
export const DEFAULT_MAX_BATCHES_PER_TRANSACTION = 2_000;
export const DEFAULT_MAX_BYTES_PER_TRANSACTION = 16 * 1024 * 1024;
export const DEFAULT_MAX_BATCHES_PER_READ = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Six parameters per stored batch in one INSERT, under PostgreSQL's 65,535 bind parameters. */
export const MAX_BATCHES_PER_TRANSACTION = 10_000;

const isLogger = (v: unknown): v is StorageLogger =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as StorageLogger).info === 'function' &&
  typeof (v as StorageLogger).warn === 'function' &&
  typeof (v as StorageLogger).error === 'function';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

const connectionString = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'postgres:' || u.protocol === 'postgresql:';
    } catch {
      return false;
    }
  },
  // Never echo the value: it may hold a password.
  { message: 'must be a postgres:// or postgresql:// URL' },
);

/** Every setting of the adapter, once: types, defaults and bounds. */
export const postgresStorageOptionsSchema = z
  .strictObject({
    /** `postgres://user:password@host:port/database?...`; never logged (the password is redacted). */
    connectionString,
    /** The schema holding every table; created at open(). Lower case letters, digits and `_`. */
    schema: z
      .string()
      .regex(
        /^[a-z_][a-z0-9_]{0,62}$/,
        'must be lower case letters, digits and _ (at most 63), not starting with a digit',
      )
      .default(DEFAULT_SCHEMA),
    /** Connections in the pool (appends, reads and admin calls share it). */
    poolSize: int(2, 1_000).default(DEFAULT_POOL_SIZE),
    /** Append transactions in flight at once (over different partitions); each takes one connection. */
    maxConcurrentTransactions: int(1, 64).default(DEFAULT_MAX_CONCURRENT_TRANSACTIONS),
    /** Batches written by one append transaction at most (group commit). */
    maxBatchesPerTransaction: int(1, MAX_BATCHES_PER_TRANSACTION).default(
      DEFAULT_MAX_BATCHES_PER_TRANSACTION,
    ),
    /** Bytes written by one append transaction at most; a larger single batch still goes alone. */
    maxBytesPerTransaction: int(1).default(DEFAULT_MAX_BYTES_PER_TRANSACTION),
    /** Batches one read returns at most, whatever its maxBytes. */
    maxBatchesPerRead: int(1, 100_000).default(DEFAULT_MAX_BATCHES_PER_READ),
    /** A statement running longer fails (server `statement_timeout` and client query timeout). 0 disables. */
    statementTimeoutMs: int(0).default(DEFAULT_STATEMENT_TIMEOUT_MS),
    /** Waiting longer for a new connection fails the operation. */
    connectTimeoutMs: int(1).default(DEFAULT_CONNECT_TIMEOUT_MS),
    /** `application_name` of the adapter's connections, as pg_stat_activity shows it. */
    applicationName: z.string().max(63).default('tributary'),
    logger: z
      .custom<StorageLogger>(isLogger, { message: 'must have info, warn and error functions' })
      .optional(),
  })
  // Appends must leave the pool a connection for reads and admin calls.
  .refine((o) => o.maxConcurrentTransactions < o.poolSize, {
    path: ['maxConcurrentTransactions'],
    message: 'must be below poolSize (a connection stays free for reads)',
  });

export type PostgresStorageOptions = z.input<typeof postgresStorageOptionsSchema>;
export type ResolvedOptions = z.output<typeof postgresStorageOptionsSchema> & {
  readonly logger: StorageLogger;
};

const noop = (): void => {};
const silentLogger: StorageLogger = { info: noop, warn: noop, error: noop };

/** Checks the options and fills in defaults; throws a TypeError naming each option at fault. */
export function resolveOptions(options: PostgresStorageOptions): ResolvedOptions {
  const parsed = postgresStorageOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = i.path.length > 0 ? i.path.join('.') : '(options)';
      return `${name} ${i.message}`;
    });
    throw new TypeError(`PostgresStorage options: ${problems.join('; ')}`);
  }
  return { ...parsed.data, logger: parsed.data.logger ?? silentLogger };
}

/**
 * The connection string without secrets: the password and any `password` query parameter are
 * replaced, so it can be logged and reported (DescribeLogDirs).
 */
export function redactConnectionString(connection: string): string {
  let u: URL;
  try {
    u = new URL(connection);
  } catch {
    return '(invalid connection string)';
  }
  if (u.password !== '') u.password = 'REDACTED';
  for (const key of [...u.searchParams.keys()])
    if (/pass|secret|key|token/i.test(key)) u.searchParams.set(key, 'REDACTED');
  return u.toString();
}

/** Replaces the connection string's password wherever it appears in a message (pg errors may quote it). */
export function redactSecrets(message: string, connection: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(connection).password);
  } catch {}
  return password.length > 0 ? message.split(password).join('REDACTED') : message;
}
