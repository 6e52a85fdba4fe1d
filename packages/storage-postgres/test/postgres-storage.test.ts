import { readRecordBatchHeader } from '@tributary/codec/records';
import type { AppendResult } from '@tributary/core/storage';
import { appendInput, makeBatch, makeProducerBatch, makeTopic } from '@tributary/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, PostgresStorage } from '../src/index.js';
import { freshSchema, newStorage, plain, testUrl, withClient } from './helpers.js';

const open: PostgresStorage[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function opened(storage: PostgresStorage): Promise<PostgresStorage> {
  open.push(storage);
  await storage.open();
  return storage;
}

async function topicOn(storage: PostgresStorage, partitions = 1): Promise<string> {
  const t = makeTopic(`t-${Math.random().toString(36).slice(2)}`, partitions);
  await storage.createTopic(t);
  return t.topicId.toString('base64url');
}

const baseOffsets = (batches: readonly Buffer[]) =>
  batches.map((b) => Number(readRecordBatchHeader(b).baseOffset));

describe('options', () => {
  it('names every option at fault and never echoes the connection string', () => {
    expect(
      () =>
        new PostgresStorage({
          connectionString: 'mysql://user:hunter2@db/x',
          schema: 'Bad-Name',
          poolSize: 0,
        }),
    ).toThrow(/connectionString must be a postgres:\/\/.*schema must be lower case.*poolSize/);
    try {
      new PostgresStorage({ connectionString: 'mysql://user:hunter2@db/x' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect(
      () => new PostgresStorage({ connectionString: testUrl(), poolSize: 4, maxConcurrentTransactions: 4 }),
    ).toThrow(/maxConcurrentTransactions must be below poolSize/);
    expect(() => new PostgresStorage({ connectionString: testUrl(), unknownSetting: 1 } as never)).toThrow(
      /unknownSetting/,
    );
  });

  it('reports the database without its password as the log directory', async () => {
    const s = new PostgresStorage({
      connectionString: 'postgres://app:hunter2@db.example:5432/kafka?sslmode=require',
    });
    const dir = await s.describeLogDir();
    expect(dir.path).toBe('postgres://app:REDACTED@db.example:5432/kafka?sslmode=require#tributary');
    expect(dir.path).not.toContain('hunter2');
  });

  it('fails open with a message naming the schema and no password when the server refuses', async () => {
    const url = new URL(testUrl());
    url.password = 'hunter2';
    url.pathname = '/no_such_database_here';
    const s = new PostgresStorage({ connectionString: url.toString(), schema: freshSchema() });
    const err = await s.open().then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/opening schema test_/);
    expect(err?.message).not.toContain('hunter2');
    await s.close();
  });
});

describe('migrations', () => {
  it('applies each migration once when several brokers open the same schema together', async () => {
    const schema = freshSchema();
    const brokers = Array.from(
      { length: 4 },
      () => new PostgresStorage({ connectionString: testUrl(), schema, poolSize: 3 }),
    );
    await Promise.all(brokers.map((b) => opened(b)));
    const rows = await withClient(
      async (c) => (await c.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows,
    );
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('refuses a schema migrated by a newer adapter', async () => {
    const first = await opened(newStorage());
    await withClient((c) =>
      c.query(
        `INSERT INTO "${first.schema}".schema_migrations (version, name) VALUES (9999, 'from the future')`,
      ),
    );
    const next = new PostgresStorage({ connectionString: testUrl(), schema: first.schema });
    await expect(next.open()).rejects.toThrow(/version 9999, newer than this adapter knows/);
  });
});

describe('group commit', () => {
  it('writes appends that arrive together in few transactions, offsets contiguous per partition', async () => {
    const s = await opened(newStorage());
    const id = await topicOn(s, 6);
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => s.append(id, i % 6, plain(makeBatch(1 + (i % 3))))),
    );
    const next = [0, 0, 0, 0, 0, 0];
    results.forEach((r, i) => {
      expect(r).toMatchObject({ status: 'appended', baseOffset: next[i % 6] });
      next[i % 6]! += 1 + (i % 3);
    });
    for (let p = 0; p < 6; p++) expect((await s.offsets(id, p)).highWatermark).toBe(next[p]);
    // xmin names the transaction that wrote a row.
    const transactions = await withClient(
      async (c) =>
        (await c.query(`SELECT count(DISTINCT xmin::text)::int AS n FROM "${s.schema}".record_batch`)).rows[0]
          .n,
    );
    expect(transactions).toBeLessThan(30);
  });

  it('answers each append of a group on its own: a refused one stores nothing and spoils nothing', async () => {
    const s = await opened(newStorage());
    const id = await topicOn(s);
    const [a, gap, b, dup, fenced, c] = await Promise.all([
      s.append(id, 0, appendInput(makeProducerBatch({ producerId: 7, producerEpoch: 1, count: 2 }))),
      s.append(id, 0, appendInput(makeProducerBatch({ producerId: 7, producerEpoch: 1, baseSequence: 5 }))),
      s.append(id, 0, plain(makeBatch(3))),
      s.append(id, 0, appendInput(makeProducerBatch({ producerId: 7, producerEpoch: 1, count: 2 }))),
      s.append(id, 0, appendInput(makeProducerBatch({ producerId: 7, producerEpoch: 0, baseSequence: 2 }))),
      s.append(id, 0, appendInput(makeProducerBatch({ producerId: 7, producerEpoch: 1, baseSequence: 2 }))),
    ]);
    expect(a).toMatchObject({ status: 'appended', baseOffset: 0 });
    expect(gap).toMatchObject({ status: 'out-of-order-sequence', baseOffset: -1 });
    expect(b).toMatchObject({ status: 'appended', baseOffset: 2 });
    expect(dup).toMatchObject({ status: 'duplicate', baseOffset: 0, lastOffset: 1 });
    expect(fenced).toMatchObject({ status: 'invalid-producer-epoch', baseOffset: -1 });
    expect(c).toMatchObject({ status: 'appended', baseOffset: 5 });
    const read = await s.read(id, 0, { offset: 0, maxBytes: 1 << 20, minOneBatch: true });
    expect(baseOffsets(read.batches)).toEqual([0, 2, 5]);
    expect((await s.describeProducers(id, 0))[0]).toMatchObject({ producerId: 7, lastSequence: 2 });
  });

  it('fails the appends of a partition deleted meanwhile and no others', async () => {
    const s = await opened(newStorage());
    const keep = await topicOn(s);
    const gone = await topicOn(s);
    await s.append(gone, 0, plain(makeBatch(1)));
    await s.deleteTopic(gone);
    const [ok, lost] = await Promise.allSettled([
      s.append(keep, 0, plain(makeBatch(1))),
      s.append(gone, 0, plain(makeBatch(1))),
    ]);
    expect(ok).toMatchObject({ status: 'fulfilled', value: { baseOffset: 0 } });
    expect(lost).toMatchObject({ status: 'rejected', reason: { name: 'UnknownPartitionError' } });
  });
});

describe('several brokers on one schema', () => {
  it('interleave appends to one partition without gaps or repeats, and de-duplicate a retry through the other broker', async () => {
    const one = await opened(newStorage());
    const two = await opened(
      new PostgresStorage({ connectionString: testUrl(), schema: one.schema, poolSize: 4 }),
    );
    const id = await topicOn(one);
    const rounds = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? one : two).append(id, 0, plain(makeBatch(2)))),
    );
    const offsets = rounds.map((r) => r.baseOffset).sort((x, y) => x - y);
    expect(offsets).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    const first = await one.append(id, 0, appendInput(makeProducerBatch({ producerId: 11, count: 3 })));
    const retry = await two.append(id, 0, appendInput(makeProducerBatch({ producerId: 11, count: 3 })));
    expect(retry).toMatchObject({ status: 'duplicate', baseOffset: first.baseOffset });
    const read = await two.read(id, 0, { offset: 0, maxBytes: 1 << 20, minOneBatch: true });
    expect(read.batches).toHaveLength(41);
  });
});

describe('reads', () => {
  it('never see an offset without the ones before it while appends commit', async () => {
    const s = await opened(newStorage({ maxConcurrentTransactions: 4, poolSize: 6 }));
    const id = await topicOn(s);
    let done = false;
    const writer = (async () => {
      for (let i = 0; i < 60; i++)
        await Promise.all([1, 2, 3].map(() => s.append(id, 0, plain(makeBatch(1)))));
      done = true;
    })();
    let checks = 0;
    while (!done && checks < 2_000) {
      const r = await s.read(id, 0, { offset: 0, maxBytes: 1 << 24, minOneBatch: true });
      expect(baseOffsets(r.batches)).toEqual(Array.from({ length: r.highWatermark }, (_, i) => i));
      checks++;
    }
    await writer;
    expect((await s.offsets(id, 0)).highWatermark).toBe(180);
  });

  it('returns the batch holding an offset inside it, and stops at maxBytes', async () => {
    const s = await opened(newStorage({ maxBatchesPerRead: 3 }));
    const id = await topicOn(s);
    for (let i = 0; i < 6; i++) await s.append(id, 0, plain(makeBatch(4)));
    const r = await s.read(id, 0, { offset: 6, maxBytes: 1 << 20, minOneBatch: true });
    expect(baseOffsets(r.batches)).toEqual([4, 8, 12]);
  });
});

describe('PostgreSQL connections lost mid-operation', () => {
  it('fails the appends in flight, acknowledges none wrongly, and serves later calls on new connections', async () => {
    const app = `tributary-test-${Math.random().toString(36).slice(2, 10)}`;
    const s = await opened(newStorage({ applicationName: app, maxConcurrentTransactions: 2 }));
    const id = await topicOn(s, 2);
    const acked: { partition: number; baseOffset: number }[] = [];
    let failed = 0;
    const appendOne = (partition: number) =>
      s.append(id, partition, plain(makeBatch(1))).then(
        (r: AppendResult) => {
          acked.push({ partition, baseOffset: r.baseOffset });
        },
        (err: Error) => {
          expect(err.message).toMatch(/PostgreSQL storage: .* failed and the append is not acknowledged/);
          failed++;
        },
      );
    // Bounded: at most 30 rounds of 20 appends, each round while the backends are being killed.
    for (let round = 0; round < 30 && failed === 0; round++) {
      const inFlight = Array.from({ length: 20 }, (_, i) => appendOne(i % 2));
      await withClient((c) =>
        c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]),
      );
      await Promise.all(inFlight);
    }
    expect(failed).toBeGreaterThan(0);
    // Later calls get new connections.
    const after = await s.append(id, 0, plain(makeBatch(1)));
    expect(after.status).toBe('appended');
    acked.push({ partition: 0, baseOffset: after.baseOffset });
    // Every acknowledged append is stored at its offset, and the offsets are contiguous.
    for (const p of [0, 1]) {
      const r = await s.read(id, p, { offset: 0, maxBytes: 1 << 24, minOneBatch: true });
      const stored = baseOffsets(r.batches);
      expect(stored).toEqual(Array.from({ length: r.highWatermark }, (_, i) => i));
      for (const a of acked.filter((x) => x.partition === p)) expect(stored).toContain(a.baseOffset);
    }
  });
});
