// The database schema as versioned migrations, applied at open() under an advisory lock so that
// brokers starting together migrate once. A migration is never edited once released: a change is
// a new version.
import type { PoolClient } from 'pg';
import type { StorageLogger } from './options.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The statements, given the quoted schema name. */
  readonly sql: (s: string) => string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'topics, partitions, batches, producer state',
    sql: (s) => `
CREATE TABLE ${s}.topic (
  topic_id text PRIMARY KEY,            -- base64url of the 16-byte topic id
  name text NOT NULL UNIQUE,
  partition_count int NOT NULL,
  configs jsonb NOT NULL DEFAULT '{}'
);

-- One row per partition: its offset counter, locked by every write to the partition, so that
-- offsets are assigned and committed in one order.
CREATE TABLE ${s}.topic_partition (
  part_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic_id text NOT NULL REFERENCES ${s}.topic ON DELETE CASCADE,
  partition_index int NOT NULL,
  next_offset bigint NOT NULL DEFAULT 0,       -- the high watermark (log end offset)
  log_start_offset bigint NOT NULL DEFAULT 0,
  size_bytes bigint NOT NULL DEFAULT 0,        -- bytes of the stored batches
  UNIQUE (topic_id, partition_index)
);

-- The producers' batches as they arrived (base offset written in). No foreign key: the batch
-- table takes every append, and the rows go with their partition by explicit deletes.
CREATE TABLE ${s}.record_batch (
  part_id bigint NOT NULL,
  last_offset bigint NOT NULL,
  base_offset bigint NOT NULL,
  max_timestamp bigint NOT NULL,
  size int NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (part_id, last_offset)
);
-- Batches are often compressed already: store them out of line without pglz.
ALTER TABLE ${s}.record_batch ALTER COLUMN data SET STORAGE EXTERNAL;

-- PartitionProducerState, one row per (partition, producer).
CREATE TABLE ${s}.producer_state (
  part_id bigint NOT NULL REFERENCES ${s}.topic_partition ON DELETE CASCADE,
  producer_id bigint NOT NULL,
  producer_epoch int NOT NULL,
  coordinator_epoch int NOT NULL,
  last_timestamp bigint NOT NULL,
  txn_first_offset bigint NOT NULL,            -- -1: no open transaction
  batches jsonb NOT NULL,                      -- [[firstSeq, lastSeq, lastOffset, offsetDelta, timestamp], ...]
  PRIMARY KEY (part_id, producer_id)
);
-- The last stable offset: the first offset of the earliest open transaction.
CREATE INDEX producer_state_open_txn ON ${s}.producer_state (part_id, txn_first_offset)
  WHERE txn_first_offset >= 0;

CREATE TABLE ${s}.aborted_transaction (
  part_id bigint NOT NULL REFERENCES ${s}.topic_partition ON DELETE CASCADE,
  last_offset bigint NOT NULL,                 -- the ABORT marker's offset
  producer_id bigint NOT NULL,
  first_offset bigint NOT NULL,
  PRIMARY KEY (part_id, last_offset)
);

CREATE TABLE ${s}.producer_id_block (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  next_producer_id bigint NOT NULL
);
INSERT INTO ${s}.producer_id_block (next_producer_id) VALUES (0);
`,
  },
];

/** Quotes an identifier already checked to be lower case letters, digits and `_`. */
export const quoteIdent = (name: string): string => `"${name}"`;

/**
 * Creates the schema and applies the missing migrations, each in its own transaction, holding a
 * session-level advisory lock named after the schema so that concurrent opens apply each once.
 * Refuses a schema migrated by a newer version of the adapter.
 */
export async function migrate(client: PoolClient, schema: string, logger: StorageLogger): Promise<number> {
  const s = quoteIdent(schema);
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`tributary.migrate.${schema}`]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version int PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
    const applied = new Set(rows.map((r) => r.version));
    const known = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    const newest = Math.max(0, ...applied);
    if (newest > known)
      throw new Error(
        `schema ${schema} is at version ${newest}, newer than this adapter knows (${known}): upgrade the broker`,
      );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql(s));
        await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
          m.version,
          m.name,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
      logger.info({ schema, version: m.version }, `applied migration ${m.version}: ${m.name}`);
    }
    return known;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`tributary.migrate.${schema}`]);
  }
}
