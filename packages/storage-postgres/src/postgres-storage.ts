import {
  type AppendInput,
  type AppendResult,
  type BatchLocation,
  type LogConfig,
  type LogDirDescription,
  type MarkerInput,
  type MarkerResult,
  OffsetOutOfRangeError,
  type PartitionOffsets,
  type ProducerDescription,
  type ReadInput,
  type ReadResult,
  type RetentionPolicy,
  type StorageAdapter,
  type StoredTopic,
  UnknownPartitionError,
} from '@tributary/core/storage';
import pg from 'pg';
import { AppendWriter, type PartitionDirectory } from './append-writer.js';
import {
  type PostgresStorageOptions,
  type ResolvedOptions,
  redactConnectionString,
  redactSecrets,
  resolveOptions,
} from './options.js';
import { usingClient } from './pool-client.js';
import { describeRow, PRODUCER_COLUMNS, type ProducerRow } from './producer-rows.js';
import { migrate, quoteIdent } from './schema.js';

const INT8_OID = 20;

/**
 * bigint columns as numbers (offsets, timestamps and producer ids are exact to 2^53, as the port
 * says), for this adapter's connections only.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

interface PartitionRow {
  part_id: number;
  next_offset: number;
  log_start_offset: number;
  first_unstable: number | null;
}

/**
 * Storage in a PostgreSQL database (15 or later), shared by any number of brokers: topics,
 * partitions, the producers' batches as they arrived, producer state and aborted transactions in
 * tables of one schema. Appends are group-committed (see AppendWriter); see
 * docs/storage-postgres.md.
 */
export class PostgresStorage implements StorageAdapter {
  private readonly options: ResolvedOptions;
  private readonly s: string;
  private pool: pg.Pool | null = null;
  private writer: AppendWriter | null = null;
  private closed = false;
  /** part_id of each partition, by topic id and partition index; refreshed on a miss. */
  private readonly partIds = new Map<string, number[]>();
  /** The topics' log settings from core. Nothing here uses them yet (no compaction). */
  private readonly logConfigs = new Map<string, LogConfig>();

  constructor(options: PostgresStorageOptions) {
    this.options = resolveOptions(options);
    this.s = quoteIdent(this.options.schema);
  }

  /** The schema this storage uses. */
  get schema(): string {
    return this.options.schema;
  }

  async open(): Promise<void> {
    if (this.pool !== null || this.closed) throw new Error('PostgresStorage: open() is called once');
    const o = this.options;
    const pool = new pg.Pool({
      connectionString: o.connectionString,
      max: o.poolSize,
      application_name: o.applicationName,
      connectionTimeoutMillis: o.connectTimeoutMs,
      keepAlive: true,
      types,
      ...(o.statementTimeoutMs > 0
        ? { statement_timeout: o.statementTimeoutMs, query_timeout: o.statementTimeoutMs + 1_000 }
        : {}),
    });
    // An idle connection that breaks (server restart, terminated backend) is dropped by the pool;
    // without a listener the error would end the process.
    // A client checked out when its connection drops also emits 'error' (besides failing its
    // query); a listener from its creation on keeps that from ending the process in any window.
    pool.on('connect', (client) => client.on('error', () => {}));
    pool.on('error', (err) =>
      o.logger.warn({ err: this.redact(err.message) }, 'PostgreSQL storage: an idle connection failed'),
    );
    try {
      await usingClient(pool, (client) => migrate(client, o.schema, o.logger));
    } catch (err) {
      await pool.end().catch(() => {});
      throw this.error(err, `opening schema ${o.schema} at ${redactConnectionString(o.connectionString)}`);
    }
    this.pool = pool;
    const directory: PartitionDirectory = {
      partId: (topicId, partition) => this.partId(topicId, partition),
      forget: (topicId) => this.partIds.delete(topicId),
    };
    this.writer = new AppendWriter(pool, this.s, directory, o);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pool = this.pool;
    if (pool === null) return;
    await this.writer?.idle();
    await pool.end();
  }

  // ---- topics

  async listTopics(): Promise<StoredTopic[]> {
    const { rows } = await this.db().query<{
      topic_id: string;
      name: string;
      partition_count: number;
      configs: Record<string, string>;
    }>(`SELECT topic_id, name, partition_count, configs FROM ${this.s}.topic ORDER BY name`);
    return rows.map((r) => ({
      name: r.name,
      topicId: Buffer.from(r.topic_id, 'base64url'),
      partitionCount: r.partition_count,
      configs: r.configs,
    }));
  }

  async createTopic(topic: StoredTopic): Promise<boolean> {
    const id = topic.topicId.toString('base64url');
    return this.tx(async (c) => {
      const inserted = await c.query(
        `INSERT INTO ${this.s}.topic (topic_id, name, partition_count, configs) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [id, topic.name, topic.partitionCount, JSON.stringify(topic.configs)],
      );
      if (inserted.rowCount === 0) return false;
      await c.query(
        `INSERT INTO ${this.s}.topic_partition (topic_id, partition_index)
         SELECT $1, g FROM generate_series(0, $2::int - 1) g`,
        [id, topic.partitionCount],
      );
      return true;
    });
  }

  async deleteTopic(topicId: string): Promise<boolean> {
    const deleted = await this.tx(async (c) => {
      // Waits for the appends in flight to the topic's partitions (and keeps new ones out), so
      // that no batch committed after the DELETE below took its snapshot is left behind.
      const parts = await c.query<{ part_id: number }>(
        `SELECT part_id FROM ${this.s}.topic_partition WHERE topic_id = $1 ORDER BY part_id FOR UPDATE`,
        [topicId],
      );
      await c.query(`DELETE FROM ${this.s}.record_batch WHERE part_id = ANY($1::bigint[])`, [
        parts.rows.map((r) => r.part_id),
      ]);
      // Partitions, producer state and aborted transactions go by cascade.
      const t = await c.query(`DELETE FROM ${this.s}.topic WHERE topic_id = $1`, [topicId]);
      return t.rowCount === 1;
    });
    this.partIds.delete(topicId);
    this.logConfigs.delete(topicId);
    return deleted;
  }

  configureLog(topicId: string, config: LogConfig): void {
    this.logConfigs.set(topicId, config);
  }

  async setTopicConfigs(topicId: string, configs: Readonly<Record<string, string>>): Promise<void> {
    const r = await this.db().query(`UPDATE ${this.s}.topic SET configs = $2 WHERE topic_id = $1`, [
      topicId,
      JSON.stringify(configs),
    ]);
    if (r.rowCount === 0) throw new UnknownPartitionError(`no topic with id ${topicId}`);
  }

  async addPartitions(topicId: string, partitionCount: number): Promise<void> {
    await this.tx(async (c) => {
      const t = await c.query<{ partition_count: number }>(
        `SELECT partition_count FROM ${this.s}.topic WHERE topic_id = $1 FOR UPDATE`,
        [topicId],
      );
      const current = t.rows[0]?.partition_count;
      if (current === undefined) throw new UnknownPartitionError(`no topic with id ${topicId}`);
      if (partitionCount <= current) return;
      await c.query(
        `INSERT INTO ${this.s}.topic_partition (topic_id, partition_index)
         SELECT $1, g FROM generate_series($2::int, $3::int - 1) g`,
        [topicId, current, partitionCount],
      );
      await c.query(`UPDATE ${this.s}.topic SET partition_count = $2 WHERE topic_id = $1`, [
        topicId,
        partitionCount,
      ]);
    });
    this.partIds.delete(topicId);
  }

  // ---- appends

  // Async so that a call on a closed storage rejects rather than throws; the write is queued
  // synchronously all the same, keeping call order.
  async append(topicId: string, partition: number, input: AppendInput): Promise<AppendResult> {
    return this.appender().append(topicId, partition, { kind: 'data', input });
  }

  async appendMarker(topicId: string, partition: number, input: MarkerInput): Promise<MarkerResult> {
    // A marker is answered 'appended' or refused by the marker rules, never 'duplicate'.
    return this.appender().append(topicId, partition, { kind: 'marker', input }) as Promise<MarkerResult>;
  }

  // ---- reads

  async read(topicId: string, partition: number, input: ReadInput): Promise<ReadResult> {
    const row = await this.partitionRow(topicId, partition);
    const offsets = offsetsOf(row);
    if (input.offset < offsets.logStartOffset || input.offset > offsets.highWatermark)
      throw new OffsetOutOfRangeError(input.offset, offsets);
    const readCommitted = input.readCommitted === true;
    const end = readCommitted ? offsets.lastStableOffset : offsets.highWatermark;
    let batches: Buffer[] = [];
    let last = -1;
    if (input.offset < end) {
      // The batch holding the offset is the first whose last offset reaches it (the primary key
      // is (part_id, last_offset)). Everything below `end` is committed: offsets are committed in
      // order, and `end` was read from the counter row.
      const { rows } = await this.db().query<{ last_offset: number; data: Buffer }>(
        `SELECT last_offset, data FROM (
           SELECT last_offset, data, sum(size) OVER w AS upto, row_number() OVER w AS rn
             FROM ${this.s}.record_batch
            WHERE part_id = $1 AND last_offset >= $2 AND base_offset < $3
           WINDOW w AS (ORDER BY last_offset ROWS UNBOUNDED PRECEDING)
            ORDER BY last_offset LIMIT $4) r
          WHERE upto <= $5 OR (rn = 1 AND $6)
          ORDER BY last_offset`,
        [row.part_id, input.offset, end, this.options.maxBatchesPerRead, input.maxBytes, input.minOneBatch],
      );
      batches = rows.map((r) => r.data);
      last = rows.length > 0 ? rows[rows.length - 1]!.last_offset : -1;
    }
    const result = { batches, ...offsets };
    if (!readCommitted) return result;
    if (last < 0) return { ...result, abortedTransactions: [] };
    const aborted = await this.db().query<{ producer_id: number; first_offset: number; last_offset: number }>(
      `SELECT producer_id, first_offset, last_offset FROM ${this.s}.aborted_transaction
        WHERE part_id = $1 AND last_offset >= $2 AND first_offset <= $3 ORDER BY last_offset`,
      [row.part_id, input.offset, last],
    );
    return {
      ...result,
      abortedTransactions: aborted.rows.map((r) => ({
        producerId: r.producer_id,
        firstOffset: r.first_offset,
        lastOffset: r.last_offset,
      })),
    };
  }

  async offsets(topicId: string, partition: number): Promise<PartitionOffsets> {
    return offsetsOf(await this.partitionRow(topicId, partition));
  }

  async findBatchByTimestamp(
    topicId: string,
    partition: number,
    timestamp: number,
  ): Promise<BatchLocation | null> {
    return this.findBatch(topicId, partition, 'b.max_timestamp >= $3 ORDER BY b.last_offset LIMIT 1', [
      timestamp,
    ]);
  }

  async findMaxTimestampBatch(topicId: string, partition: number): Promise<BatchLocation | null> {
    return this.findBatch(
      topicId,
      partition,
      'true ORDER BY b.max_timestamp DESC, b.last_offset LIMIT 1',
      [],
    );
  }

  private async findBatch(
    topicId: string,
    partition: number,
    where: string,
    params: unknown[],
  ): Promise<BatchLocation | null> {
    const { rows } = await this.db().query<{ base_offset: number | null; data: Buffer | null }>(
      `SELECT b.base_offset, b.data FROM ${this.s}.topic_partition t
         LEFT JOIN LATERAL (SELECT base_offset, data FROM ${this.s}.record_batch b
                             WHERE b.part_id = t.part_id AND ${where}) b ON true
        WHERE t.topic_id = $1 AND t.partition_index = $2`,
      [topicId, partition, ...params],
    );
    const r = rows[0];
    if (r === undefined) throw unknownPartition(topicId, partition);
    return r.base_offset === null || r.data === null ? null : { batch: r.data, baseOffset: r.base_offset };
  }

  async sizeInBytes(topicId: string, partition: number): Promise<number> {
    const { rows } = await this.db().query<{ size_bytes: number }>(
      `SELECT size_bytes FROM ${this.s}.topic_partition WHERE topic_id = $1 AND partition_index = $2`,
      [topicId, partition],
    );
    if (rows[0] === undefined) throw unknownPartition(topicId, partition);
    return rows[0].size_bytes;
  }

  async describeLogDir(): Promise<LogDirDescription> {
    return {
      path: `${redactConnectionString(this.options.connectionString)}#${this.options.schema}`,
      totalBytes: -1,
      usableBytes: -1,
    };
  }

  // ---- log start offset

  async deleteRecordsBefore(topicId: string, partition: number, offset: number): Promise<number> {
    return this.tx(async (c) => {
      const row = await this.lockPartition(c, topicId, partition);
      const target = Math.min(offset, row.next_offset);
      if (target <= row.log_start_offset) return row.log_start_offset;
      await this.truncateBefore(c, row.part_id, target);
      return target;
    });
  }

  async applyRetention(topicId: string, partition: number, policy: RetentionPolicy): Promise<number> {
    // A cutoff below every timestamp and a size above every log switch a rule off.
    const cutoff = policy.retentionMs >= 0 ? policy.now - policy.retentionMs : Number.MIN_SAFE_INTEGER;
    const maxBytes = policy.retentionBytes >= 0 ? policy.retentionBytes : Number.MAX_SAFE_INTEGER;
    return this.tx(async (c) => {
      const row = await this.lockPartition(c, topicId, partition);
      // A batch goes when it and every batch before it are older than the cutoff, or when it and
      // the batches after it hold more than the size limit: both are prefixes of the log.
      const { rows } = await c.query<{ dropped: boolean | null; first_kept: number | null }>(
        `SELECT bool_or(dropped) AS dropped, min(base_offset) FILTER (WHERE NOT dropped) AS first_kept
           FROM (SELECT base_offset,
                        bool_and(max_timestamp < $2) OVER (ORDER BY last_offset ROWS UNBOUNDED PRECEDING)
                        OR sum(size) OVER (ORDER BY last_offset DESC ROWS UNBOUNDED PRECEDING) > $3 AS dropped
                   FROM ${this.s}.record_batch WHERE part_id = $1) b`,
        [row.part_id, cutoff, maxBytes],
      );
      const r = rows[0];
      if (r === undefined || r.dropped !== true) return row.log_start_offset;
      const start = Math.max(r.first_kept ?? row.next_offset, row.log_start_offset);
      if (start > row.log_start_offset) await this.truncateBefore(c, row.part_id, start);
      return start;
    });
  }

  /** Moves the log start offset to `offset` and drops the batches and aborted transactions wholly below it. */
  private async truncateBefore(c: pg.PoolClient, partId: number, offset: number): Promise<void> {
    await c.query(
      `WITH gone AS (DELETE FROM ${this.s}.record_batch WHERE part_id = $1 AND last_offset < $2 RETURNING size),
            aborted AS (DELETE FROM ${this.s}.aborted_transaction WHERE part_id = $1 AND last_offset < $2)
       UPDATE ${this.s}.topic_partition
          SET log_start_offset = $2, size_bytes = size_bytes - (SELECT coalesce(sum(size), 0) FROM gone)
        WHERE part_id = $1`,
      [partId, offset],
    );
  }

  // ---- producers

  async describeProducers(topicId: string, partition: number): Promise<ProducerDescription[]> {
    const { rows } = await this.db().query<ProducerRow & { found: number }>(
      `SELECT t.part_id AS found, ${PRODUCER_COLUMNS.split(', ')
        .map((col) => `ps.${col}`)
        .join(', ')}
         FROM ${this.s}.topic_partition t LEFT JOIN ${this.s}.producer_state ps ON ps.part_id = t.part_id
        WHERE t.topic_id = $1 AND t.partition_index = $2 ORDER BY ps.producer_id`,
      [topicId, partition],
    );
    if (rows.length === 0) throw unknownPartition(topicId, partition);
    return rows.filter((r) => r.producer_id !== null).map(describeRow);
  }

  async expireProducers(
    topicId: string,
    partition: number,
    now: number,
    producerIdExpirationMs: number,
  ): Promise<number> {
    return this.tx(async (c) => {
      // Under the partition's lock, so that no append transaction holds a copy of what goes.
      const row = await this.lockPartition(c, topicId, partition);
      const r = await c.query(
        `DELETE FROM ${this.s}.producer_state
          WHERE part_id = $1 AND txn_first_offset < 0 AND $2::bigint - last_timestamp >= $3::bigint`,
        [row.part_id, now, producerIdExpirationMs],
      );
      return r.rowCount ?? 0;
    });
  }

  async allocateProducerIds(count: number): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new RangeError(`cannot allocate ${count} producer ids`);
    const { rows } = await this.db().query<{ first: number }>(
      `UPDATE ${this.s}.producer_id_block SET next_producer_id = next_producer_id + $1
       RETURNING next_producer_id - $1 AS first`,
      [count],
    );
    return rows[0]!.first;
  }

  // ---- helpers

  private db(): pg.Pool {
    if (this.pool === null || this.closed)
      throw new Error(this.closed ? 'PostgresStorage is closed' : 'PostgresStorage is not open');
    return this.pool;
  }

  private appender(): AppendWriter {
    this.db();
    return this.writer!;
  }

  private async tx<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await usingClient(this.db(), async (c) => {
        await c.query('BEGIN');
        const result = await body(c);
        await c.query('COMMIT');
        return result;
      });
    } catch (err) {
      if (err instanceof UnknownPartitionError || err instanceof RangeError) throw err;
      throw this.error(err, 'a storage transaction');
    }
  }

  private async partitionRow(topicId: string, partition: number): Promise<PartitionRow> {
    const { rows } = await this.db().query<PartitionRow>(
      `SELECT t.part_id, t.next_offset, t.log_start_offset,
              (SELECT min(ps.txn_first_offset) FROM ${this.s}.producer_state ps
                WHERE ps.part_id = t.part_id AND ps.txn_first_offset >= 0) AS first_unstable
         FROM ${this.s}.topic_partition t WHERE t.topic_id = $1 AND t.partition_index = $2`,
      [topicId, partition],
    );
    if (rows[0] === undefined) throw unknownPartition(topicId, partition);
    return rows[0];
  }

  private async lockPartition(
    c: pg.PoolClient,
    topicId: string,
    partition: number,
  ): Promise<Omit<PartitionRow, 'first_unstable'>> {
    const { rows } = await c.query<Omit<PartitionRow, 'first_unstable'>>(
      `SELECT part_id, next_offset, log_start_offset FROM ${this.s}.topic_partition
        WHERE topic_id = $1 AND partition_index = $2 FOR NO KEY UPDATE`,
      [topicId, partition],
    );
    if (rows[0] === undefined) throw unknownPartition(topicId, partition);
    return rows[0];
  }

  private async partId(topicId: string, partition: number): Promise<number | undefined> {
    const cached = this.partIds.get(topicId)?.[partition];
    if (cached !== undefined) return cached;
    const { rows } = await this.db().query<{ partition_index: number; part_id: number }>(
      `SELECT partition_index, part_id FROM ${this.s}.topic_partition WHERE topic_id = $1`,
      [topicId],
    );
    if (rows.length === 0) {
      this.partIds.delete(topicId);
      return undefined;
    }
    const ids: number[] = [];
    for (const r of rows) ids[r.partition_index] = r.part_id;
    this.partIds.set(topicId, ids);
    return ids[partition];
  }

  private redact(message: string): string {
    return redactSecrets(message, this.options.connectionString);
  }

  private error(err: unknown, doing: string): Error {
    const message = err instanceof Error ? err.message : String(err);
    return new Error(`PostgreSQL storage: ${doing} failed: ${this.redact(message)}`, { cause: err });
  }
}

function offsetsOf(row: PartitionRow): PartitionOffsets {
  const hw = row.next_offset;
  const first = row.first_unstable;
  const lso = first !== null && first < hw ? first : hw;
  return {
    logStartOffset: row.log_start_offset,
    highWatermark: hw,
    lastStableOffset: Math.max(lso, row.log_start_offset),
  };
}

function unknownPartition(topicId: string, partition: number): UnknownPartitionError {
  return new UnknownPartitionError(`no partition ${partition} of topic ${topicId}`);
}
