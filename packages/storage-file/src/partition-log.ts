import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbortedTransactionIndex,
  type AppendInput,
  type AppendResult,
  type BatchLocation,
  type MarkerInput,
  type MarkerResult,
  OffsetOutOfRangeError,
  type PartitionOffsets,
  PartitionProducerState,
  type ProducerAppend,
  type ProducerDescription,
  type ReadInput,
  type ReadResult,
  type RetentionPolicy,
  writeBatchBaseOffset,
} from '@tributary/core/storage';
import {
  BATCH_HEADER_SIZE,
  BatchScan,
  LAST_OFFSET_DELTA_AT,
  MAX_TIMESTAMP_AT,
  readOffset,
  readTimestamp,
} from './batch-scan.js';
import {
  CLEANER_CHECKPOINT_FILE,
  type CleanContext,
  type CleanerCheckpoint,
  CleaningStopped,
  type CleanStats,
  type CompactionResult,
  type CompactionSettings,
  cleanBatch,
  completeSwap,
  finishInterruptedCleaning,
  formatCheckpoint,
  MarkerTracker,
  OffsetMap,
  parseCheckpoint,
  swapFileName,
} from './compactor.js';
import { fsyncDir, isErrno, readAt, unlinkIfExists, writeFileAtomic } from './fs-util.js';
import { HotTail, type HotTailBudget } from './hot-tail.js';
import type { ResolvedOptions } from './options.js';
import {
  ProducerLog,
  type ProducerSnapshot,
  readSnapshot,
  replayBatch,
  snapshotFileName,
  snapshotOffsets,
  writeSnapshot,
} from './producer-snapshot.js';
import { type BatchMeta, LOG_SUFFIX, Segment } from './segment.js';

/** Per-partition file holding the log start offset when DeleteRecords moved it inside a segment. */
export const LOG_START_FILE = 'log-start-offset';
/** Per-partition file naming the topic the directory belongs to. */
export const PARTITION_METADATA_FILE = 'partition.metadata';

const INT32_MAX = 0x7fffffff;

interface PendingAppend {
  readonly batch: Buffer;
  readonly segment: Segment;
  readonly position: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly size: number;
  /** An idempotent or transactional batch's producer fields; null for a plain batch. */
  readonly producer: ProducerAppend | null;
  /** A transaction marker's; null for data. */
  readonly marker: MarkerInput | null;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/** A retried batch whose original is still in flight: answered once the original is acknowledged. */
interface DuplicateWaiter {
  readonly lastOffset: number;
  readonly result: AppendResult;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/** The settings in force for a topic's logs (its overrides over the storage defaults). */
export interface LogSettings extends CompactionSettings {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly indexIntervalBytes: number;
}

/** A compacted segment and the segments it replaces, [group base, end). */
interface CleanedGroup {
  readonly group: Segment[];
  readonly segment: Segment;
  readonly end: number;
  swapped: boolean;
}

/** Bytes of compacted batches gathered before one write to the `.cleaned` file. */
const CLEAN_WRITE_BYTES = 1024 * 1024;
/** Read size of the cleaner's scans. */
const CLEAN_READ_BYTES = 1024 * 1024;
/** Read size of the producer-state replay at open. */
const REPLAY_READ_BYTES = 1024 * 1024;

/**
 * One partition's log: its segments, the offsets, the write pipeline and the hot tail.
 *
 * Appends take their offset and file position synchronously, in call order, then wait in a queue.
 * One drain at a time writes everything queued with one writev per segment and, with
 * flush=always, one fdatasync: appends that arrive while a write or sync is in flight share the
 * next one (group commit). The high watermark moves only once the data is written (and synced,
 * with flush=always), so a reader never sees bytes a crash could take back.
 *
 * Retention, DeleteRecords, flushes and close run one at a time with the drain (`exclusive`).
 */
export class PartitionLog {
  segments: Segment[] = [];
  logStartOffset = 0;
  highWatermark = 0;
  /** The next offset to assign (the high watermark plus what is queued). */
  private nextOffset = 0;
  private pending: PendingAppend[] = [];
  private draining = false;
  private chain: Promise<unknown> = Promise.resolve();
  private unflushedBytes = 0;
  private closed: Error | null = null;
  private readonly hotTail: HotTail;
  private cleaner: CleanerCheckpoint = { firstDirtyOffset: 0, deleteHorizon: -1 };
  /** The cleaning pass in progress, if any. */
  private cleaning: Promise<CompactionResult | null> | null = null;
  private cleanerStopped = false;
  /**
   * Producer state (see ProducerLog): created by the first batch with a producer id or loaded from
   * a snapshot, so that a log of plain batches never pays for it.
   */
  private producers: ProducerLog | null = null;
  private duplicateWaiters: DuplicateWaiter[] = [];

  constructor(
    readonly dir: string,
    private readonly options: ResolvedOptions,
    private readonly settings: () => LogSettings,
    budget: HotTailBudget,
  ) {
    this.hotTail = new HotTail(options.hotTailBytes, budget);
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Creates the directory of a new, empty partition with its first segment. */
  async create(topicId: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, PARTITION_METADATA_FILE), `version: 0\ntopic_id: ${topicId}\n`);
    const seg = new Segment(this.dir, 0, this.settings().indexIntervalBytes);
    await seg.create();
    this.segments = [seg];
  }

  /**
   * Opens an existing partition directory. With `verify` (no clean shutdown marker) the last
   * segment is walked batch by batch and cut at the first torn or corrupt batch; any segment whose
   * indexes do not match its log is walked and rebuilt. A corrupt segment that is not the last
   * makes every later segment unreachable: they are deleted, as the log must stay contiguous.
   */
  async load(verify: boolean): Promise<void> {
    await finishInterruptedCleaning(this.dir, this.options.logger);
    const names = await readdir(this.dir);
    const bases = names
      .filter((n) => n.endsWith(LOG_SUFFIX) && /^\d{20}\.log$/.test(n))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
    if (bases.length === 0) bases.push(0);
    const logger = this.options.logger;
    const segments: Segment[] = [];
    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(this.dir, bases[i]!, this.settings().indexIntervalBytes);
      if (!names.includes(`${bases[i]!.toString().padStart(20, '0')}.log`)) await seg.create();
      else {
        const truncated = await seg.load(verify && i === bases.length - 1, logger);
        if (truncated > 0 && i < bases.length - 1) {
          segments.push(seg);
          for (const later of bases.slice(i + 1)) {
            const dead = new Segment(this.dir, later, this.settings().indexIntervalBytes);
            logger.warn({ file: dead.path(LOG_SUFFIX) }, 'deleting a segment after a corrupt one');
            await dead.remove();
          }
          break;
        }
      }
      segments.push(seg);
    }
    this.segments = segments;
    this.highWatermark = this.nextOffset = this.active.endOffset;
    this.logStartOffset = segments[0]!.baseOffset;
    try {
      const text = await readFile(join(this.dir, LOG_START_FILE), 'utf8');
      const checkpoint = Number(text.trim());
      if (!Number.isSafeInteger(checkpoint) || checkpoint < 0)
        throw new Error(
          `corrupt log start offset checkpoint ${join(this.dir, LOG_START_FILE)}: "${text.trim()}"`,
        );
      if (checkpoint > this.highWatermark) {
        // Data acknowledged before the checkpoint was lost (flush=interval): start the log there.
        logger.warn(
          { dir: this.dir, logStartOffset: checkpoint, logEndOffset: this.highWatermark },
          'log start offset is past the recovered log end; starting an empty log at it',
        );
        await this.restartAt(checkpoint);
      }
      this.logStartOffset = Math.max(this.logStartOffset, checkpoint);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    try {
      const path = join(this.dir, CLEANER_CHECKPOINT_FILE);
      const parsed = parseCheckpoint(await readFile(path, 'utf8'));
      if (parsed === null) logger.warn({ file: path }, 'ignoring a corrupt cleaner checkpoint');
      else this.cleaner = parsed;
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    const active = this.active;
    if (active.committedBytes > 0) {
      const header = await readAt(active.handle!, 0, BATCH_HEADER_SIZE);
      const firstTimestamp = readTimestamp(header, MAX_TIMESTAMP_AT);
      const now = this.options.clock.now();
      // A restart loses when the segment took its first batch: that batch's timestamp stands in.
      active.rollBase = firstTimestamp > 0 && firstTimestamp <= now ? firstTimestamp : now;
    }
    await this.loadProducerState(verify, names);
  }

  /**
   * Restores producer state from the newest readable snapshot at or below the log end, then
   * replays the batches after it (their headers, and the markers' control records) to rebuild the
   * producers, the open transactions and the aborted index. After a crash the recovered log end
   * decides: snapshots above it describe batches that are gone and are deleted first.
   */
  private async loadProducerState(crashed: boolean, names: readonly string[]): Promise<void> {
    const logger = this.options.logger;
    const end = this.highWatermark;
    // The directory listing load() read: no other readdir per partition on the open path.
    const all = snapshotOffsets(names);
    const above = all.filter((o) => o > end);
    for (const o of above) await unlinkIfExists(join(this.dir, snapshotFileName(o)));
    if (above.length > 0)
      logger.warn(
        { dir: this.dir, logEndOffset: end, removed: above.length },
        'removed producer-state snapshots past the recovered log end',
      );
    const offsets = all.filter((o) => o <= end);
    const read = async (offset: number): Promise<ProducerSnapshot | null> => {
      const s = await readSnapshot(this.dir, offset);
      if (typeof s !== 'string') return s;
      logger.warn(
        { file: join(this.dir, snapshotFileName(offset)), problem: s },
        'ignoring an unreadable producer-state snapshot',
      );
      return null;
    };
    if (!crashed) {
      // A clean close wrote a snapshot at the log end for every partition holding producer
      // state: without one, the partition had none, and nothing needs replaying.
      if (offsets.at(-1) !== end) return;
      const atEnd = await read(end);
      if (atEnd !== null) {
        await this.restoreProducerState(atEnd, end);
        return;
      }
    }
    let snapshot: ProducerSnapshot | null = null;
    for (let i = offsets.length - 1; i >= 0 && snapshot === null; i--) snapshot = await read(offsets[i]!);
    // Without a snapshot (none readable) the whole log is replayed.
    await this.restoreProducerState(snapshot, end);
  }

  /** Restores `snapshot` (or nothing) and replays the log from its offset to `end`. */
  private async restoreProducerState(snapshot: ProducerSnapshot | null, end: number): Promise<void> {
    const state =
      snapshot === null
        ? new ProducerLog()
        : new ProducerLog(
            PartitionProducerState.restore({ producers: snapshot.producers }),
            AbortedTransactionIndex.restore(snapshot.aborted),
          );
    const from = snapshot === null ? this.segments[0]!.baseOffset : snapshot.offset;
    if (from < end) await this.replay(state, from);
    state.aborted.dropBefore(this.logStartOffset);
    state.rollBack();
    this.producers = state.isEmpty() ? null : state;
  }

  private async replay(state: ProducerLog, from: number): Promise<void> {
    for (const seg of this.segments) {
      // A segment the open just walked (a crash's tail) and found only plain batches in is skipped.
      if (seg.committedBytes === 0 || seg.endOffset <= from || seg.walkedWithoutProducers) continue;
      const scan = new BatchScan(seg.handle!, seg.positionFor(from), seg.committedBytes, REPLAY_READ_BYTES);
      for await (const b of scan) if (b.lastOffset >= from) replayBatch(state, b, this.options.compression);
      if (scan.problem !== null)
        throw new Error(`cannot rebuild producer state from ${seg.path(LOG_SUFFIX)}: ${scan.problem}`);
    }
  }

  /** The snapshot to write at `offset`: the durable state covers exactly the batches below it. */
  private snapshotAt(offset: number): ProducerSnapshot {
    const p = this.producers;
    return {
      offset,
      producers: p === null ? [] : p.durable.snapshot().producers,
      aborted: p === null ? [] : p.aborted.snapshot(),
    };
  }

  private async saveSnapshot(s: ProducerSnapshot): Promise<void> {
    try {
      await writeSnapshot(this.dir, s);
    } catch (e) {
      // Not fatal: the next open replays from an older snapshot.
      this.options.logger.error(
        { err: e, file: join(this.dir, snapshotFileName(s.offset)) },
        'writing a producer-state snapshot failed',
      );
    }
  }

  private async restartAt(offset: number): Promise<void> {
    const seg = new Segment(this.dir, offset, this.settings().indexIntervalBytes);
    await seg.create();
    const old = this.segments;
    this.segments = [seg];
    for (const s of old) await s.remove();
    this.highWatermark = this.nextOffset = offset;
    this.hotTail.clear();
  }

  offsets(): PartitionOffsets {
    return {
      logStartOffset: this.logStartOffset,
      highWatermark: this.highWatermark,
      lastStableOffset: this.lastStableOffset(),
    };
  }

  /**
   * The first offset of the earliest open transaction, else the high watermark, never below the
   * log start offset. From the acknowledged state only, so it never passes the high watermark and
   * a marker moves it only once the marker is durable.
   */
  private lastStableOffset(): number {
    const p = this.producers;
    return p === null
      ? this.highWatermark
      : p.durable.lastStableOffset(this.logStartOffset, this.highWatermark);
  }

  append(input: AppendInput): Promise<AppendResult> {
    if (this.closed !== null) return Promise.reject(this.closed);
    const producerId = input.producerId;
    if (producerId === undefined || producerId < 0)
      return this.enqueue(input.batch, input.lastOffsetDelta, input.maxTimestamp, null, null);
    return this.appendFromProducer(input, producerId);
  }

  /**
   * An idempotent or transactional batch: checked against the producer state that includes the
   * batches in flight, and recorded there in the same synchronous step as its offsets are taken.
   */
  private appendFromProducer(input: AppendInput, producerId: number): Promise<AppendResult> {
    const producer: ProducerAppend = {
      producerId,
      producerEpoch: input.producerEpoch ?? -1,
      baseSequence: input.baseSequence ?? -1,
      lastOffsetDelta: input.lastOffsetDelta,
      maxTimestamp: input.maxTimestamp,
      transactional: input.transactional === true,
    };
    this.producers ??= new ProducerLog();
    const state = this.producers.current;
    const check = state.checkData(producer);
    if (check.kind === 'rejected')
      return Promise.resolve({
        status: check.status,
        baseOffset: -1,
        logStartOffset: this.logStartOffset,
        message: check.message,
      });
    if (check.kind === 'duplicate') {
      const b = check.batch;
      const result: AppendResult = {
        status: 'duplicate',
        baseOffset: b.lastOffset - b.offsetDelta,
        lastOffset: b.lastOffset,
        timestamp: b.timestamp,
        logStartOffset: this.logStartOffset,
      };
      if (b.lastOffset < this.highWatermark) return Promise.resolve(result);
      // The original is still in flight: acknowledge the retry only once the original is, and
      // fail it if the original fails (its offsets are then handed out again).
      return new Promise((resolve, reject) => {
        this.duplicateWaiters.push({ lastOffset: b.lastOffset, result, resolve, reject });
      });
    }
    const baseOffset = this.nextOffset;
    const appended = this.enqueue(input.batch, input.lastOffsetDelta, input.maxTimestamp, producer, null);
    state.recordData(producer, baseOffset);
    return appended;
  }

  /** A transaction marker: checked and recorded like a producer's batch, stored like any batch. */
  appendMarker(input: MarkerInput): Promise<MarkerResult> {
    if (this.closed !== null) return Promise.reject(this.closed);
    this.producers ??= new ProducerLog();
    const state = this.producers.current;
    const check = state.checkMarker(input);
    if (check.kind === 'rejected')
      return Promise.resolve({
        status: check.status,
        baseOffset: -1,
        logStartOffset: this.logStartOffset,
        message: check.message,
      });
    const baseOffset = this.nextOffset;
    const appended = this.enqueue(input.batch, 0, input.timestamp, null, input);
    state.recordMarker(input, baseOffset);
    return appended as Promise<MarkerResult>;
  }

  describeProducers(): ProducerDescription[] {
    return this.producers?.durable.describe() ?? [];
  }

  /**
   * Forgets idle producers (never one with an open transaction) in both views. A producer whose
   * acknowledged state is old but that has a batch in flight keeps it in the in-flight view only
   * until that batch is acknowledged, which records it again.
   */
  expireProducers(now: number, expirationMs: number): number {
    const p = this.producers;
    if (p === null) return 0;
    p.current.expire(now, expirationMs);
    return p.durable.expire(now, expirationMs);
  }

  /** Takes the next offsets and file position, in call order, and queues the batch for the drain. */
  private enqueue(
    batch: Buffer,
    lastOffsetDelta: number,
    maxTimestamp: number,
    producer: ProducerAppend | null,
    marker: MarkerInput | null,
  ): Promise<AppendResult> {
    const size = batch.length;
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + lastOffsetDelta;
    let seg = this.active;
    if (seg.assignedBytes > 0) {
      const { segmentBytes, segmentMs } = this.settings();
      const now = this.options.clock.now();
      if (
        seg.assignedBytes + size > segmentBytes ||
        (seg.rollBase !== null && now - seg.rollBase >= segmentMs) ||
        lastOffset - seg.baseOffset > INT32_MAX
      ) {
        // The new segment's file is created by the drain, after the old one is sealed.
        seg = new Segment(this.dir, baseOffset, this.settings().indexIntervalBytes);
        this.segments.push(seg);
      }
    }
    seg.rollBase ??= this.options.clock.now();
    writeBatchBaseOffset(batch, baseOffset);
    const position = seg.assignedBytes;
    seg.assignedBytes += size;
    this.nextOffset = lastOffset + 1;
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({
        batch,
        segment: seg,
        position,
        baseOffset,
        lastOffset,
        maxTimestamp,
        size,
        producer,
        marker,
        resolve,
        reject,
      });
      if (!this.draining) this.scheduleDrain();
    });
  }

  private scheduleDrain(): void {
    this.draining = true;
    void this.exclusive(() => this.drain());
  }

  /** Runs `fn` after everything queued before it; one at a time per partition. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private async drain(): Promise<void> {
    try {
      await this.drainQueued();
    } finally {
      this.draining = false;
      // Appends that arrived between the last look at the queue and here.
      if (this.pending.length > 0) this.scheduleDrain();
    }
  }

  private async drainQueued(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      let rolled: Segment[];
      try {
        rolled = await this.writeGroup(group);
      } catch (e) {
        await this.failWrites(group, e);
        continue;
      }
      let snapshots: ProducerSnapshot[] | null = null;
      for (const a of group) {
        // The first batch of a rolled-to segment: the acknowledged producer state now covers
        // exactly the batches below it, which is what a snapshot at the segment's base holds.
        if (a.position === 0 && a.segment.committedBytes === 0 && rolled.length > 0) {
          snapshots ??= [];
          snapshots.push(this.snapshotAt(a.baseOffset));
        }
        a.segment.addBatch(a.position, a);
        this.hotTail.add(a.batch, a.baseOffset, a.lastOffset);
        if (a.producer !== null) this.producers!.durable.recordData(a.producer, a.baseOffset);
        else if (a.marker !== null) this.producers!.markerDurable(a.marker, a.baseOffset);
      }
      this.highWatermark = group[group.length - 1]!.lastOffset + 1;
      const logStartOffset = this.logStartOffset;
      for (const a of group) a.resolve({ status: 'appended', baseOffset: a.baseOffset, logStartOffset });
      if (this.duplicateWaiters.length > 0) this.answerDuplicates();
      // Index files of rolled segments, now that they hold every batch. A crash before this
      // leaves indexes that a reopen finds stale and rebuilds.
      for (const s of rolled) {
        try {
          await s.seal();
        } catch (e) {
          this.options.logger.error({ err: e, file: s.path(LOG_SUFFIX) }, 'writing segment indexes failed');
        }
      }
      // After the rolled segments' indexes: a snapshot at a segment's base implies that every
      // segment below it is sealed and synced (a crash before this replays from an older one).
      if (snapshots !== null) for (const snap of snapshots) await this.saveSnapshot(snap);
    }
  }

  /** Answers the retried batches whose originals are now acknowledged. */
  private answerDuplicates(): void {
    const waiting = this.duplicateWaiters;
    this.duplicateWaiters = [];
    for (const w of waiting) {
      if (w.lastOffset < this.highWatermark) w.resolve(w.result);
      else this.duplicateWaiters.push(w);
    }
  }

  /** Writes a group of appends; returns the segments it rolled away from. */
  private async writeGroup(group: PendingAppend[]): Promise<Segment[]> {
    let bytes = 0;
    const rolled: Segment[] = [];
    for (let i = 0; i < group.length; ) {
      const seg = group[i]!.segment;
      let j = i;
      while (j < group.length && group[j]!.segment === seg) bytes += group[j++]!.size;
      if (!seg.isOpen) {
        // The segment before is made durable before the new file exists, so that after a crash
        // only the last segment can be torn.
        const k = this.segments.indexOf(seg);
        if (k > 0) {
          const previous = this.segments[k - 1]!;
          await previous.flush();
          rolled.push(previous);
        }
        await seg.create();
      }
      const buffers = new Array<Buffer>(j - i);
      for (let k = i; k < j; k++) buffers[k - i] = group[k]!.batch;
      await seg.write(buffers, group[i]!.position);
      i = j;
    }
    const flush = this.options.flush;
    const last = group[group.length - 1]!.segment;
    if (flush.mode === 'always') await last.flush();
    else {
      this.unflushedBytes += bytes;
      if (flush.bytes !== undefined && this.unflushedBytes >= flush.bytes) {
        this.unflushedBytes = 0;
        await last.flush();
      }
    }
    return rolled;
  }

  /**
   * A write or sync failed: the file's content past the committed end is unknown, so every append
   * not yet acknowledged fails, the offsets they took are handed out again and the files are cut
   * back to what was acknowledged. If even that fails the partition refuses further appends.
   */
  private async failWrites(group: PendingAppend[], e: unknown): Promise<void> {
    const failed = [...group, ...this.pending];
    this.pending = [];
    // Everything that decides where the next append goes is reset before the first await, so
    // appends arriving meanwhile take the offsets and positions right after the acknowledged end.
    this.nextOffset = this.highWatermark;
    // The batches and markers in flight all fail: the producer state goes back to what is stored,
    // and retries waiting on them fail with them.
    this.producers?.rollBack();
    const waiting = this.duplicateWaiters;
    this.duplicateWaiters = [];
    const dead: Segment[] = [];
    while (this.segments.length > 1 && this.active.committedBytes === 0) dead.push(this.segments.pop()!);
    const cut = this.segments.filter((s) => s.assignedBytes !== s.committedBytes);
    for (const s of cut) s.assignedBytes = s.committedBytes;
    const error = new Error(`write to ${this.dir} failed: ${(e as Error).message}`, { cause: e });
    this.options.logger.error({ err: e, dir: this.dir }, 'log write failed');
    for (const a of failed) a.reject(error);
    for (const w of waiting) w.reject(error);
    try {
      for (const s of dead) if (s.isOpen) await s.remove();
      for (const s of cut) await s.truncateToCommitted();
    } catch (e2) {
      this.closed = new Error(
        `partition ${this.dir} is unusable after a failed write: ${(e2 as Error).message}`,
        { cause: e2 },
      );
      for (const a of this.pending.splice(0)) a.reject(this.closed);
    }
  }

  /** fdatasync's the active segment if the interval policy left data unflushed. */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      this.unflushedBytes = 0;
      for (const s of this.segments) await s.flush();
    });
  }

  async read(input: ReadInput): Promise<ReadResult> {
    const { offset } = input;
    const logStartOffset = this.logStartOffset;
    const highWatermark = this.highWatermark;
    if (offset < logStartOffset || offset > highWatermark)
      throw new OffsetOutOfRangeError(offset, { logStartOffset, highWatermark });
    const lastStableOffset = this.lastStableOffset();
    if (input.readCommitted === true) return this.readCommitted(input, lastStableOffset);
    if (offset === highWatermark) return { batches: [], logStartOffset, highWatermark, lastStableOffset };
    const hot = this.hotTail.read(offset, input.maxBytes, input.minOneBatch, highWatermark);
    if (hot !== null) return { batches: hot, logStartOffset, highWatermark, lastStableOffset };
    const batches = await this.readBatches(input, highWatermark);
    return { batches, logStartOffset, highWatermark, lastStableOffset };
  }

  /**
   * read_committed: batches below the last stable offset only, with the aborted transactions that
   * overlap the range returned.
   */
  private async readCommitted(input: ReadInput, lastStableOffset: number): Promise<ReadResult> {
    const { logStartOffset, highWatermark } = this;
    const offset = input.offset;
    if (offset >= lastStableOffset)
      return { batches: [], logStartOffset, highWatermark, lastStableOffset, abortedTransactions: [] };
    const batches =
      this.hotTail.read(offset, input.maxBytes, input.minOneBatch, lastStableOffset) ??
      (await this.readBatches(input, lastStableOffset));
    const aborted = this.producers?.aborted;
    const last = batches[batches.length - 1];
    const abortedTransactions =
      aborted === undefined || aborted.size === 0 || last === undefined
        ? []
        : aborted.collect(offset, readOffset(last, 0) + last.readInt32BE(LAST_OFFSET_DELTA_AT));
    return { batches, logStartOffset, highWatermark, lastStableOffset, abortedTransactions };
  }

  /** Batches from the segment files from `input.offset`, below `end`. */
  private async readBatches(input: ReadInput, end: number): Promise<Buffer[]> {
    const offset = input.offset;
    const batches: Buffer[] = [];
    let bytes = 0;
    let at = offset;
    // Compaction and retention replace the segment list while a read waits on the file: the
    // read walks the list it started with, and looks again when a segment it reaches has left.
    let segments = this.segments;
    let retries = 0;
    for (let i = this.segmentIndexFor(segments, at); i < segments.length && at < end; i++) {
      const seg = segments[i]!;
      if (seg.committedBytes === 0) continue;
      if (!seg.acquire()) {
        if (segments === this.segments || retries++ > 8) break;
        segments = this.segments;
        i = this.segmentIndexFor(segments, at) - 1;
        continue;
      }
      let r: Awaited<ReturnType<Segment['read']>>;
      try {
        r = await seg.read(at, input.maxBytes - bytes, input.minOneBatch && batches.length === 0, end);
      } finally {
        seg.release();
      }
      for (const b of r.batches) batches.push(b);
      bytes += r.bytes;
      if (r.full) break;
      // A compacted segment may end before the next one starts.
      at = Math.max(at, segments[i + 1]?.baseOffset ?? seg.endOffset);
    }
    return batches;
  }

  /** The last segment whose base offset is at or below `offset`. */
  private segmentIndexFor(segments: Segment[], offset: number): number {
    let lo = 0;
    let hi = segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segments[mid]!.baseOffset <= offset) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  /** Segments holding committed data, in offset order, held for reading. */
  private readable(): Segment[] {
    const out: Segment[] = [];
    for (const s of this.segments) if (s.isOpen && s.committedBytes > 0) out.push(s);
    return out;
  }

  async findBatchByTimestamp(timestamp: number): Promise<BatchLocation | null> {
    const minOffset = this.logStartOffset;
    for (const seg of this.readable()) {
      if (seg.endOffset <= minOffset || seg.maxTimestamp < timestamp || !seg.acquire()) continue;
      try {
        const found = await seg.findByTimestamp(timestamp, minOffset);
        if (found !== null) return found;
      } finally {
        seg.release();
      }
    }
    return null;
  }

  async findMaxTimestampBatch(): Promise<BatchLocation | null> {
    const minOffset = this.logStartOffset;
    const live = this.readable().filter((s) => s.endOffset > minOffset);
    let best: Segment | null = null;
    for (const s of live) if (best === null || s.maxTimestamp > best.maxTimestamp) best = s;
    if (best === null || !best.acquire()) return null;
    try {
      return await best.findMaxTimestamp(minOffset);
    } finally {
      best.release();
    }
  }

  /** DeleteRecords: moves the log start offset up (durably) and deletes segments wholly below it. */
  deleteRecordsBefore(offset: number): Promise<number> {
    return this.exclusive(async () => {
      const target = Math.min(offset, this.highWatermark);
      if (target <= this.logStartOffset) return this.logStartOffset;
      await writeFileAtomic(join(this.dir, LOG_START_FILE), `${target}\n`);
      this.logStartOffset = target;
      let n = 0;
      while (n < this.segments.length - 1 && this.segments[n + 1]!.baseOffset <= target) n++;
      await this.removeOldest(n);
      this.hotTail.dropBefore(target);
      // Producer state stays (Kafka keeps it until the producer expires); the aborted
      // transactions wholly below the log start offset go.
      this.producers?.aborted.dropBefore(target);
      return this.logStartOffset;
    });
  }

  /**
   * Deletes whole segments: first those whose largest timestamp is older than retention.ms, then,
   * while the log stays at or above retention.bytes without it, the oldest. When every segment
   * goes, the log first rolls to a new empty segment at the log end, so the offsets carry on.
   */
  applyRetention(policy: RetentionPolicy): Promise<number> {
    return this.exclusive(async () => {
      // Only segments wholly written take part: a segment with queued appends is never deleted.
      let settled = 0;
      while (
        settled < this.segments.length &&
        this.segments[settled]!.isOpen &&
        this.segments[settled]!.assignedBytes === this.segments[settled]!.committedBytes
      )
        settled++;
      // An empty segment is deletable unless it is the active one (compaction can empty a segment).
      const last = this.segments.length - 1;
      const deletable = (i: number): boolean => this.segments[i]!.committedBytes > 0 || i < last;
      let n = 0;
      if (policy.retentionMs >= 0) {
        const cutoff = policy.now - policy.retentionMs;
        while (n < settled && deletable(n) && this.segments[n]!.maxTimestamp < cutoff) n++;
      }
      if (policy.retentionBytes >= 0) {
        let size = 0;
        for (let i = n; i < this.segments.length; i++) size += this.segments[i]!.assignedBytes;
        let excess = size - policy.retentionBytes;
        while (n < settled && deletable(n) && excess - this.segments[n]!.committedBytes >= 0) {
          excess -= this.segments[n]!.committedBytes;
          n++;
        }
      }
      if (n === 0) return this.logStartOffset;
      if (n === this.segments.length) {
        await this.active.seal();
        const seg = new Segment(this.dir, this.nextOffset, this.settings().indexIntervalBytes);
        await seg.create();
        this.segments.push(seg);
        // Every segment is settled, so the acknowledged state covers everything below the new
        // segment: its snapshot keeps the producers of the segments about to go.
        await this.saveSnapshot(this.snapshotAt(seg.baseOffset));
      }
      await this.removeOldest(n);
      this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
      this.hotTail.dropBefore(this.logStartOffset);
      this.producers?.aborted.dropBefore(this.logStartOffset);
      return this.logStartOffset;
    });
  }

  private async removeOldest(n: number): Promise<void> {
    const dead = this.segments.slice(0, n);
    this.segments = this.segments.slice(n);
    for (const s of dead) await s.remove();
  }

  // ---- compaction ----

  /**
   * Runs a cleaning pass when the log is due one (or always, with `force`): see docs/storage-file.md
   * for the rules. Resolves to what the pass did, or null when it had nothing to do. A pass in
   * progress is joined rather than doubled.
   */
  compact(force = false): Promise<CompactionResult | null> {
    if (this.closed !== null || this.cleanerStopped) return Promise.resolve(null);
    if (this.cleaning === null) {
      this.cleaning = this.clean(force).finally(() => {
        this.cleaning = null;
      });
    }
    return this.cleaning;
  }

  /** Stops a pass in progress (its temporary files are removed) and keeps new ones from starting. */
  private async stopCleaner(): Promise<void> {
    this.cleanerStopped = true;
    await this.cleaning?.catch(() => {});
  }

  private checkStopped(): void {
    if (this.cleanerStopped) throw new CleaningStopped();
  }

  private async clean(force: boolean): Promise<CompactionResult | null> {
    const settings = this.settings();
    const now = this.options.clock.now();
    const segments = this.segments.slice();
    // Never the active segment, nor the last one holding data (its last batch carries the log end
    // across a restart), nor one with queued appends; with min.compaction.lag.ms, nothing from the
    // first segment holding a record younger than the lag.
    let limit = segments.length - 1;
    while (limit > 0 && segments[limit]!.assignedBytes === 0) limit--;
    let end = 0;
    while (
      end < limit &&
      segments[end]!.isOpen &&
      segments[end]!.assignedBytes === segments[end]!.committedBytes &&
      (settings.minCompactionLagMs <= 0 || segments[end]!.maxTimestamp <= now - settings.minCompactionLagMs)
    )
      end++;
    if (end === 0) return null;
    const firstDirty = Math.max(this.cleaner.firstDirtyOffset, this.logStartOffset, segments[0]!.baseOffset);
    // The first segment with offsets at or after the first dirty offset.
    let dirty = 0;
    while (dirty < end && segments[dirty + 1]!.baseOffset <= firstDirty) dirty++;
    let cleanBytes = 0;
    let dirtyBytes = 0;
    for (let i = 0; i < end; i++) {
      if (i < dirty) cleanBytes += segments[i]!.committedBytes;
      else dirtyBytes += segments[i]!.committedBytes;
    }
    const ratio = dirtyBytes === 0 ? 0 : dirtyBytes / (cleanBytes + dirtyBytes);
    const tombstonesDue = this.cleaner.deleteHorizon >= 0 && now >= this.cleaner.deleteHorizon;
    const overdue =
      dirty < end &&
      segments[dirty]!.maxTimestamp >= 0 &&
      segments[dirty]!.maxTimestamp < now - settings.maxCompactionLagMs;
    if (!force && !tombstonesDue && !overdue && !(dirtyBytes > 0 && ratio >= settings.minCleanableDirtyRatio))
      return null;

    // Map the dirty section, segment by segment, up to cleanerMaxKeys keys and never past the
    // start of a transaction that has no marker yet (its outcome decides which records count).
    let map = new OffsetMap();
    let mapped = end;
    for (;;) {
      map = new OffsetMap();
      let i = dirty;
      for (; i < mapped; i++) {
        if (i > dirty && map.size >= this.options.cleanerMaxKeys) break;
        await this.scanSegment(segments[i]!, (b) =>
          map.add(b.buf, b.at, b.baseOffset, firstDirty, this.options.compression),
        );
      }
      mapped = i;
      const unstable = map.firstUnstableOffset();
      if (unstable === Number.POSITIVE_INFINITY) break;
      let j = dirty;
      while (j < mapped && segments[j + 1]!.baseOffset <= unstable) j++;
      mapped = j;
      if (mapped <= dirty) {
        map = new OffsetMap();
        mapped = dirty;
        break;
      }
    }
    const cleanedUpTo = mapped > dirty ? segments[mapped]!.baseOffset : firstDirty;
    // Nothing new to deduplicate and no tombstone to drop: a rewrite would change nothing.
    if (mapped === dirty && !tombstonesDue && !force) return null;
    if (mapped === 0) return null;

    // Groups of consecutive segments whose total size stays within segment.bytes and whose
    // offsets fit the index's relative offsets become one segment each.
    const groups: Segment[][] = [];
    let group: Segment[] = [];
    let groupBytes = 0;
    for (let i = 0; i < mapped; i++) {
      const s = segments[i]!;
      const next = segments[i + 1]!.baseOffset;
      if (
        group.length > 0 &&
        (groupBytes + s.committedBytes > settings.segmentBytes || next - 1 - group[0]!.baseOffset > INT32_MAX)
      ) {
        groups.push(group);
        group = [];
        groupBytes = 0;
      }
      group.push(s);
      groupBytes += s.committedBytes;
    }
    groups.push(group);

    const stats: CleanStats = { recordsBefore: 0, recordsAfter: 0, deleteHorizon: -1 };
    const aborted = this.producers?.aborted;
    const ctx: CleanContext = {
      map,
      now,
      deleteRetentionMs: settings.deleteRetentionMs,
      compression: this.options.compression,
      stats,
      markers: new MarkerTracker(),
      isAborted:
        aborted === undefined || aborted.size === 0
          ? () => false
          : (producerId, offset) => aborted.collect(offset, offset).some((t) => t.producerId === producerId),
    };
    const cleaned: CleanedGroup[] = [];
    try {
      for (const g of groups) {
        const segment = await Segment.createCleaned(
          this.dir,
          g[0]!.baseOffset,
          this.settings().indexIntervalBytes,
        );
        const groupEnd = segments[segments.indexOf(g[g.length - 1]!) + 1]!.baseOffset;
        cleaned.push({ group: g, segment, end: groupEnd, swapped: false });
        let buffers: Buffer[] = [];
        let metas: BatchMeta[] = [];
        let pending = 0;
        for (const s of g) {
          await this.scanSegment(s, async (b) => {
            const out = cleanBatch(b.buf, b.at, b.size, b.baseOffset, ctx);
            if (out === null) return;
            buffers.push(out);
            metas.push({
              baseOffset: b.baseOffset,
              lastOffset: b.lastOffset,
              maxTimestamp: readTimestamp(out, MAX_TIMESTAMP_AT),
              size: out.length,
            });
            pending += out.length;
            if (pending >= CLEAN_WRITE_BYTES) {
              await segment.appendBatches(buffers, metas);
              buffers = [];
              metas = [];
              pending = 0;
            }
          });
        }
        if (buffers.length > 0) await segment.appendBatches(buffers, metas);
        await segment.flush();
      }
      await fsyncDir(this.dir);
      this.checkStopped();
      // Only the swap waits for appends in flight and keeps others out.
      await this.exclusive(() => this.swapIn(cleaned));
    } catch (e) {
      for (const c of cleaned) {
        if (c.swapped) continue;
        await c.segment.close().catch(() => {});
        await unlinkIfExists(c.segment.cleanedPath()).catch(() => {});
      }
      if (e instanceof CleaningStopped) return null;
      throw e;
    }
    this.cleaner = {
      firstDirtyOffset: Math.max(this.cleaner.firstDirtyOffset, cleanedUpTo),
      deleteHorizon: stats.deleteHorizon,
    };
    await writeFileAtomic(join(this.dir, CLEANER_CHECKPOINT_FILE), formatCheckpoint(this.cleaner));
    let bytesBefore = 0;
    let bytesAfter = 0;
    for (const c of cleaned) {
      for (const s of c.group) bytesBefore += s.committedBytes;
      bytesAfter += c.segment.committedBytes;
    }
    const result: CompactionResult = {
      segmentsBefore: mapped,
      segmentsAfter: cleaned.length,
      bytesBefore,
      bytesAfter,
      recordsBefore: stats.recordsBefore,
      recordsAfter: stats.recordsAfter,
      cleanedUpTo,
      keys: map.size,
    };
    this.options.logger.info({ dir: this.dir, ...result }, 'compacted log segments');
    return result;
  }

  /** Walks every batch of a segment the cleaner reads, holding it open meanwhile. */
  private async scanSegment(
    seg: Segment,
    fn: (b: {
      buf: Buffer;
      at: number;
      size: number;
      baseOffset: number;
      lastOffset: number;
    }) => void | Promise<void>,
  ): Promise<void> {
    if (!seg.acquire()) throw new CleaningStopped();
    try {
      const scan = new BatchScan(seg.handle!, 0, seg.committedBytes, CLEAN_READ_BYTES);
      for await (const b of scan) {
        this.checkStopped();
        await fn(b);
      }
      if (scan.problem !== null) throw new Error(`cannot compact ${seg.path(LOG_SUFFIX)}: ${scan.problem}`);
    } finally {
      seg.release();
    }
  }

  /**
   * Puts compacted segments in place of the groups they were made from. Per group: the `.cleaned`
   * file is renamed to a `.swap` file naming the offsets it replaces (the commit point), the old
   * files go and the swap file takes the first segment's name. A group whose segments retention
   * or DeleteRecords removed meanwhile is dropped.
   */
  private async swapIn(cleaned: CleanedGroup[]): Promise<void> {
    for (const c of cleaned) {
      const at = this.segments.indexOf(c.group[0]!);
      const intact = at >= 0 && c.group.every((s, j) => this.segments[at + j] === s);
      if (!intact) {
        await c.segment.close();
        await unlinkIfExists(c.segment.cleanedPath());
        continue;
      }
      const base = c.segment.baseOffset;
      await rename(c.segment.cleanedPath(), join(this.dir, swapFileName(base, c.end)));
      await fsyncDir(this.dir);
      await completeSwap(this.dir, base, c.end);
      // A new list, not an edit: reads in progress keep walking the one they started with.
      this.segments = [...this.segments.slice(0, at), c.segment, ...this.segments.slice(at + c.group.length)];
      c.swapped = true;
      for (const s of c.group) await s.retire();
      await c.segment.writeIndexes();
    }
    // Cached batches of the compacted range are the old versions.
    const last = cleaned[cleaned.length - 1];
    if (last !== undefined) this.hotTail.dropBefore(last.end);
  }

  sizeInBytes(): number {
    let size = 0;
    for (const s of this.segments) size += s.committedBytes;
    return size;
  }

  /** Waits for queued appends, then flushes and seals the active segment and closes the files. */
  async close(): Promise<void> {
    await this.stopCleaner();
    return this.exclusive(async () => {
      this.closed ??= new Error(`partition ${this.dir} is closed`);
      for (const s of this.segments) if (s.isOpen) await s.seal();
      // After every segment is synced: the next clean open restores this and replays nothing. A
      // partition without producer state writes none, and a clean open without one at the log end
      // knows it had none.
      if (this.producers !== null) await writeSnapshot(this.dir, this.snapshotAt(this.highWatermark));
      for (const s of this.segments) await s.close();
      this.hotTail.clear();
    });
  }

  /** Closes without sealing (the files are about to be deleted). */
  async discard(): Promise<void> {
    await this.stopCleaner();
    return this.exclusive(async () => {
      this.closed ??= new Error(`partition ${this.dir} was deleted`);
      for (const s of this.segments) await s.close();
      this.hotTail.clear();
    });
  }
}
