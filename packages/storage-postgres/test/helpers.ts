import { randomBytes } from 'node:crypto';
import { readRecordBatchHeader } from '@tributary/codec/records';
import type { AppendInput } from '@tributary/core/storage';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { PostgresStorage, type PostgresStorageOptions } from '../src/index.js';

/** The test database's URL; throws (failing the test, never skipping it) when there is none. */
export function testUrl(): string {
  const url = inject('postgresUrl');
  if (url === '') throw new Error(inject('postgresProblem'));
  return url;
}

const schemas: string[] = [];

afterAll(async () => {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: testUrl() });
  await client.connect();
  try {
    for (const s of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
});

/** A fresh schema name, dropped after the test file. */
export function freshSchema(): string {
  const s = `test_${randomBytes(6).toString('hex')}`;
  schemas.push(s);
  return s;
}

/** A storage on a fresh schema (not opened). */
export function newStorage(options: Partial<PostgresStorageOptions> = {}): PostgresStorage {
  return new PostgresStorage({ connectionString: testUrl(), schema: freshSchema(), poolSize: 4, ...options });
}

/** A plain append of `batch`. */
export function plain(batch: Buffer): AppendInput {
  const h = readRecordBatchHeader(batch);
  return { batch, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp };
}

/** A direct connection for what a test does behind the adapter's back. */
export async function withClient<T>(body: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testUrl() });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}
