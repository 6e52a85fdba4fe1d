// The append path: appends and markers queue per partition and are written by group transactions.
// A transaction takes what is queued for every partition that has no transaction in flight (up to
// the batch and byte limits), locks those partitions' counter rows in part_id order, loads the
// producers it needs, applies core's producer-state rules in memory (so a refused append stores
// nothing and takes no offset, without a savepoint), then stores every accepted batch, moves the
// counters and writes the producer state in one statement, and commits once for all of them.
//
// A partition has at most one transaction in flight, so its appends are assigned offsets in call
// order; several transactions may run at once over different partitions. Offsets come from the
// counter row, locked until COMMIT: commits of one partition happen in offset order, so a reader
// that sees offset N + 1 sees N.
import {
  type AbortedTransaction,
  type AppendInput,
  type AppendResult,
  type MarkerInput,
  PartitionProducerState,
  type ProducerAppend,
  type ProducerStateEntry,
  UnknownPartitionError,
  writeBatchBaseOffset,
} from '@tributary/core/storage';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { type ResolvedOptions, redactSecrets } from './options.js';
import { usingClient } from './pool-client.js';
import { entryOfRow, PRODUCER_COLUMNS, type ProducerRow, ProducerUpserts } from './producer-rows.js';

type Write =
  | { readonly kind: 'data'; readonly input: AppendInput }
  | { readonly kind: 'marker'; readonly input: MarkerInput };

interface PendingWrite {
  readonly write: Write;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: Error) => void;
}

/** One partition's share of a group transaction. */
interface PartitionWrites {
  readonly key: string;
  readonly topicId: string;
  readonly partition: number;
  readonly writes: PendingWrite[];
}

/** Finds a partition's part_id (cached by the adapter), or undefined when it does not exist. */
export interface PartitionDirectory {
  partId(topicId: string, partition: number): Promise<number | undefined>;
  forget(topicId: string): void;
}

interface LockedPartition {
  part_id: number;
  next_offset: number;
  log_start_offset: number;
}

const keyOf = (topicId: string, partition: number): string => `${topicId}:${partition}`;

function producerAppend(input: AppendInput): ProducerAppend | null {
  const producerId = input.producerId;
  if (producerId === undefined || producerId < 0) return null;
  return {
    producerId,
    producerEpoch: input.producerEpoch ?? -1,
    baseSequence: input.baseSequence ?? -1,
    lastOffsetDelta: input.lastOffsetDelta,
    maxTimestamp: input.maxTimestamp,
    transactional: input.transactional === true,
  };
}

function producerIdOf(w: Write): number {
  if (w.kind === 'marker') return w.input.producerId;
  const id = w.input.producerId;
  return id === undefined || id < 0 ? -1 : id;
}

export class AppendWriter {
  /** Queued writes per partition key, in call order; only non-empty queues are kept. */
  private readonly queues = new Map<string, PartitionWrites>();
  /** Partitions with a transaction in flight. */
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly s: string;

  constructor(
    private readonly pool: Pool,
    quotedSchema: string,
    private readonly directory: PartitionDirectory,
    private readonly options: ResolvedOptions,
  ) {
    this.s = quotedSchema;
  }

  append(topicId: string, partition: number, write: Write): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      const key = keyOf(topicId, partition);
      let q = this.queues.get(key);
      if (q === undefined) {
        q = { key, topicId, partition, writes: [] };
        this.queues.set(key, q);
      }
      q.writes.push({ write, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.queues.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Gathers the appends of this turn of the event loop before starting a transaction. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxConcurrentTransactions) {
      const group = this.take();
      if (group.length === 0) break;
      this.inFlight++;
      for (const g of group) this.busy.add(g.key);
      this.runGroup(group)
        // runGroup answers every write itself; this only guards against a bug leaving one hanging
        // (settled promises ignore a second answer).
        .catch((err: unknown) => {
          for (const g of group) fail(g, this.wrap(err, 'appending'));
        })
        .finally(() => {
          this.inFlight--;
          for (const g of group) this.busy.delete(g.key);
          if (this.queues.size > 0) this.pump();
          else if (this.inFlight === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }

  /** Takes queued writes of partitions not in flight, oldest queue first, within the limits. */
  private take(): PartitionWrites[] {
    const group: PartitionWrites[] = [];
    let batches = 0;
    let bytes = 0;
    const { maxBatchesPerTransaction, maxBytesPerTransaction } = this.options;
    for (const q of this.queues.values()) {
      if (this.busy.has(q.key)) continue;
      let n = 0;
      while (n < q.writes.length && batches < maxBatchesPerTransaction) {
        const size = q.writes[n]!.write.input.batch.length;
        if (batches > 0 && bytes + size > maxBytesPerTransaction) break;
        batches++;
        bytes += size;
        n++;
      }
      if (n === 0) break;
      const taken = n === q.writes.length ? q.writes : q.writes.splice(0, n);
      if (taken === q.writes) this.queues.delete(q.key);
      group.push({ key: q.key, topicId: q.topicId, partition: q.partition, writes: taken });
      if (batches >= maxBatchesPerTransaction || bytes >= maxBytesPerTransaction) break;
    }
    return group;
  }

  private async runGroup(group: PartitionWrites[]): Promise<void> {
    const known: { partId: number; pw: PartitionWrites }[] = [];
    try {
      for (const pw of group) {
        const partId = await this.directory.partId(pw.topicId, pw.partition);
        if (partId === undefined) fail(pw, unknown(pw));
        else known.push({ partId, pw });
      }
    } catch (err) {
      for (const pw of group) fail(pw, this.wrap(err, 'looking up partitions'));
      return;
    }
    if (known.length === 0) return;
    let settle: () => void;
    try {
      settle = await usingClient(this.pool, (client) => this.transaction(client, known));
    } catch (err) {
      // Nothing of this transaction is acknowledged; its connection was destroyed.
      for (const { pw } of known) fail(pw, this.wrap(err, 'appending'));
      return;
    }
    settle();
  }

  /**
   * One group transaction. Returns what answers the appends once the commit succeeded; throws
   * (answering nothing) when anything fails.
   */
  private async transaction(
    client: PoolClient,
    parts: readonly { partId: number; pw: PartitionWrites }[],
  ): Promise<() => void> {
    const s = this.s;
    const sorted = [...parts].sort((a, b) => a.partId - b.partId);
    // Locking in part_id order keeps concurrent group transactions (of this broker or another)
    // from deadlocking. BEGIN goes in the same round trip (the simple protocol takes several
    // statements but no parameters: the ids are integers read from the database).
    const ids = sorted.map((p) => p.partId);
    if (!ids.every(Number.isSafeInteger)) throw new Error(`bad partition ids ${ids.join(',')}`);
    const [, locked] = (await client.query(
      `BEGIN; SELECT part_id, next_offset, log_start_offset FROM ${s}.topic_partition
        WHERE part_id IN (${ids.join(', ')}) ORDER BY part_id FOR NO KEY UPDATE`,
    )) as unknown as [QueryResult, QueryResult<LockedPartition>];
    const rows = new Map(locked.rows.map((r) => [r.part_id, r]));

    // The producers these writes need, read after the locks are held: no other writer changes a
    // locked partition's producer state until COMMIT.
    const wanted = { parts: [] as number[], producers: [] as number[] };
    for (const { partId, pw } of sorted) {
      if (!rows.has(partId)) continue;
      const seen = new Set<number>();
      for (const w of pw.writes) {
        const id = producerIdOf(w.write);
        if (id >= 0 && !seen.has(id)) {
          seen.add(id);
          wanted.parts.push(partId);
          wanted.producers.push(id);
        }
      }
    }
    const entries = new Map<number, ProducerStateEntry[]>();
    if (wanted.parts.length > 0) {
      const res = await client.query<ProducerRow>(
        `SELECT ${PRODUCER_COLUMNS} FROM ${s}.producer_state
          WHERE (part_id, producer_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))`,
        [wanted.parts, wanted.producers],
      );
      for (const r of res.rows) {
        const list = entries.get(r.part_id);
        if (list === undefined) entries.set(r.part_id, [entryOfRow(r)]);
        else list.push(entryOfRow(r));
      }
    }

    const answers: (() => void)[] = [];
    const params: unknown[] = [];
    const p = (v: unknown): string => `$${params.push(v)}`;
    const values: string[] = [];
    const counters = { parts: [] as number[], next: [] as number[], bytes: [] as number[] };
    const upserts = new ProducerUpserts();
    const aborted: (AbortedTransaction & { partId: number })[] = [];

    for (const { partId, pw } of sorted) {
      const row = rows.get(partId);
      if (row === undefined) {
        // Deleted since it was looked up (by this broker or another).
        this.directory.forget(pw.topicId);
        const err = unknown(pw);
        answers.push(() => fail(pw, err));
        continue;
      }
      const logStartOffset = row.log_start_offset;
      const state = PartitionProducerState.restore({ producers: entries.get(partId) ?? [] });
      const touched = new Set<number>();
      let next = row.next_offset;
      let bytes = 0;
      const store = (batch: Buffer, lastOffsetDelta: number, maxTimestamp: number): number => {
        const base = next;
        writeBatchBaseOffset(batch, base);
        next = base + lastOffsetDelta + 1;
        bytes += batch.length;
        values.push(
          `(${p(partId)}, ${p(next - 1)}, ${p(base)}, ${p(maxTimestamp)}, ${p(batch.length)}, ${p(batch)})`,
        );
        return base;
      };
      for (const { write, resolve } of pw.writes) {
        let result: AppendResult;
        if (write.kind === 'data') {
          const input = write.input;
          const producer = producerAppend(input);
          const check = producer === null ? null : state.checkData(producer);
          if (check === null || check.kind === 'ok') {
            const baseOffset = store(input.batch, input.lastOffsetDelta, input.maxTimestamp);
            if (producer !== null) {
              state.recordData(producer, baseOffset);
              touched.add(producer.producerId);
            }
            result = { status: 'appended', baseOffset, logStartOffset };
          } else if (check.kind === 'duplicate') {
            const b = check.batch;
            result = {
              status: 'duplicate',
              baseOffset: b.lastOffset - b.offsetDelta,
              lastOffset: b.lastOffset,
              timestamp: b.timestamp,
              logStartOffset,
            };
          } else {
            result = { status: check.status, baseOffset: -1, logStartOffset, message: check.message };
          }
        } else {
          const input = write.input;
          const check = state.checkMarker(input);
          if (check.kind === 'rejected') {
            result = { status: check.status, baseOffset: -1, logStartOffset, message: check.message };
          } else {
            const baseOffset = store(input.batch, 0, input.timestamp);
            const closed = state.recordMarker(input, baseOffset);
            if (closed !== null) aborted.push({ ...closed, partId });
            touched.add(input.producerId);
            result = { status: 'appended', baseOffset, logStartOffset };
          }
        }
        answers.push(() => resolve(result));
      }
      if (next !== row.next_offset) {
        counters.parts.push(partId);
        counters.next.push(next);
        counters.bytes.push(bytes);
      }
      for (const id of touched) upserts.add(partId, state.entry(id)!);
    }

    if (values.length > 0) {
      const ctes = [
        `b AS (INSERT INTO ${s}.record_batch (part_id, last_offset, base_offset, max_timestamp, size, data)
               VALUES ${values.join(', ')})`,
      ];
      if (upserts.size > 0) {
        const [a, b, c, d, e, f, g] = upserts.params().map(p);
        ctes.push(
          `ps AS (INSERT INTO ${s}.producer_state (${PRODUCER_COLUMNS})
                  SELECT * FROM unnest(${a}::bigint[], ${b}::bigint[], ${c}::int[], ${d}::int[], ${e}::bigint[],
                                       ${f}::bigint[], ${g}::jsonb[])
                  ON CONFLICT (part_id, producer_id) DO UPDATE SET
                    producer_epoch = EXCLUDED.producer_epoch, coordinator_epoch = EXCLUDED.coordinator_epoch,
                    last_timestamp = EXCLUDED.last_timestamp, txn_first_offset = EXCLUDED.txn_first_offset,
                    batches = EXCLUDED.batches)`,
        );
      }
      if (aborted.length > 0) {
        ctes.push(
          `ab AS (INSERT INTO ${s}.aborted_transaction (part_id, last_offset, producer_id, first_offset)
                  SELECT * FROM unnest(${p(aborted.map((t) => t.partId))}::bigint[],
                    ${p(aborted.map((t) => t.lastOffset))}::bigint[], ${p(aborted.map((t) => t.producerId))}::bigint[],
                    ${p(aborted.map((t) => t.firstOffset))}::bigint[]))`,
        );
      }
      await client.query(
        `WITH ${ctes.join(',\n')}
         UPDATE ${s}.topic_partition t SET next_offset = u.next_offset, size_bytes = t.size_bytes + u.bytes
           FROM unnest(${p(counters.parts)}::bigint[], ${p(counters.next)}::bigint[], ${p(counters.bytes)}::bigint[])
             AS u(part_id, next_offset, bytes)
          WHERE t.part_id = u.part_id`,
        params,
      );
    }
    await client.query('COMMIT');
    return () => {
      for (const a of answers) a();
    };
  }

  private wrap(err: unknown, doing: string): Error {
    const message = err instanceof Error ? err.message : String(err);
    return new Error(
      `PostgreSQL storage: ${doing} failed and the append is not acknowledged: ${redactSecrets(message, this.options.connectionString)}`,
      { cause: err },
    );
  }
}

function unknown(pw: PartitionWrites): UnknownPartitionError {
  return new UnknownPartitionError(`no partition ${pw.partition} of topic ${pw.topicId}`);
}

function fail(pw: PartitionWrites, err: Error): void {
  for (const w of pw.writes) w.reject(err);
}
