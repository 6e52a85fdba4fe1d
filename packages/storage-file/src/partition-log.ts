import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AppendInput,
  type AppendResult,
  type BatchLocation,
  OffsetOutOfRangeError,
  type PartitionOffsets,
  type ReadInput,
  type ReadResult,
  type RetentionPolicy,
  writeBatchBaseOffset,
} from '@tributary/core/storage';
import { BATCH_HEADER_SIZE, MAX_TIMESTAMP_AT, readTimestamp } from './batch-scan.js';
import { isErrno, readAt, writeFileAtomic } from './fs-util.js';
import { HotTail, type HotTailBudget } from './hot-tail.js';
import type { ResolvedOptions } from './options.js';
import { LOG_SUFFIX, Segment } from './segment.js';

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
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/** The segment settings in force for a topic (its overrides over the storage defaults). */
export interface SegmentSettings {
  segmentBytes: number;
  segmentMs: number;
}

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

  constructor(
    readonly dir: string,
    private readonly options: ResolvedOptions,
    private readonly settings: () => SegmentSettings,
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
    const seg = new Segment(this.dir, 0, this.options.indexIntervalBytes);
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
    const names = await readdir(this.dir);
    const bases = names
      .filter((n) => n.endsWith(LOG_SUFFIX) && /^\d{20}\.log$/.test(n))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
    if (bases.length === 0) bases.push(0);
    const logger = this.options.logger;
    const segments: Segment[] = [];
    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(this.dir, bases[i]!, this.options.indexIntervalBytes);
      if (!names.includes(`${bases[i]!.toString().padStart(20, '0')}.log`)) await seg.create();
      else {
        const truncated = await seg.load(verify && i === bases.length - 1, logger);
        if (truncated > 0 && i < bases.length - 1) {
          segments.push(seg);
          for (const later of bases.slice(i + 1)) {
            const dead = new Segment(this.dir, later, this.options.indexIntervalBytes);
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
    const active = this.active;
    if (active.committedBytes > 0) {
      const header = await readAt(active.handle!, 0, BATCH_HEADER_SIZE);
      const firstTimestamp = readTimestamp(header, MAX_TIMESTAMP_AT);
      const now = this.options.clock.now();
      // A restart loses when the segment took its first batch: that batch's timestamp stands in.
      active.rollBase = firstTimestamp > 0 && firstTimestamp <= now ? firstTimestamp : now;
    }
  }

  private async restartAt(offset: number): Promise<void> {
    const seg = new Segment(this.dir, offset, this.options.indexIntervalBytes);
    await seg.create();
    const old = this.segments;
    this.segments = [seg];
    for (const s of old) await s.remove();
    this.highWatermark = this.nextOffset = offset;
    this.hotTail.clear();
  }

  offsets(): PartitionOffsets {
    return { logStartOffset: this.logStartOffset, highWatermark: this.highWatermark };
  }

  append(input: AppendInput): Promise<AppendResult> {
    if (this.closed !== null) return Promise.reject(this.closed);
    const batch = input.batch;
    const size = batch.length;
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + input.lastOffsetDelta;
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
        seg = new Segment(this.dir, baseOffset, this.options.indexIntervalBytes);
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
        maxTimestamp: input.maxTimestamp,
        size,
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
      for (const a of group) {
        a.segment.addBatch(a.position, a);
        this.hotTail.add(a.batch, a.baseOffset, a.lastOffset);
      }
      this.highWatermark = group[group.length - 1]!.lastOffset + 1;
      const logStartOffset = this.logStartOffset;
      for (const a of group) a.resolve({ baseOffset: a.baseOffset, logStartOffset });
      // Index files of rolled segments, now that they hold every batch. A crash before this
      // leaves indexes that a reopen finds stale and rebuilds.
      for (const s of rolled) {
        try {
          await s.seal();
        } catch (e) {
          this.options.logger.error({ err: e, file: s.path(LOG_SUFFIX) }, 'writing segment indexes failed');
        }
      }
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
    const dead: Segment[] = [];
    while (this.segments.length > 1 && this.active.committedBytes === 0) dead.push(this.segments.pop()!);
    const cut = this.segments.filter((s) => s.assignedBytes !== s.committedBytes);
    for (const s of cut) s.assignedBytes = s.committedBytes;
    const error = new Error(`write to ${this.dir} failed: ${(e as Error).message}`, { cause: e });
    this.options.logger.error({ err: e, dir: this.dir }, 'log write failed');
    for (const a of failed) a.reject(error);
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
    if (offset === highWatermark) return { batches: [], logStartOffset, highWatermark };
    const hot = this.hotTail.read(offset, input.maxBytes, input.minOneBatch);
    if (hot !== null) return { batches: hot, logStartOffset, highWatermark };
    const batches: Buffer[] = [];
    let bytes = 0;
    let at = offset;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length && at < highWatermark; i++) {
      const seg = this.segments[i]!;
      if (seg.committedBytes === 0 || !seg.acquire()) break;
      let r: Awaited<ReturnType<Segment['read']>>;
      try {
        r = await seg.read(
          at,
          input.maxBytes - bytes,
          input.minOneBatch && batches.length === 0,
          highWatermark,
        );
      } finally {
        seg.release();
      }
      for (const b of r.batches) batches.push(b);
      bytes += r.bytes;
      if (r.full) break;
      at = seg.endOffset;
    }
    return { batches, logStartOffset, highWatermark };
  }

  /** The last segment whose base offset is at or below `offset`. */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid + 1;
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
      const deletable = (s: Segment): boolean => s.committedBytes > 0;
      let n = 0;
      if (policy.retentionMs >= 0) {
        const cutoff = policy.now - policy.retentionMs;
        while (n < settled && deletable(this.segments[n]!) && this.segments[n]!.maxTimestamp < cutoff) n++;
      }
      if (policy.retentionBytes >= 0) {
        let size = 0;
        for (let i = n; i < this.segments.length; i++) size += this.segments[i]!.assignedBytes;
        let excess = size - policy.retentionBytes;
        while (
          n < settled &&
          deletable(this.segments[n]!) &&
          excess - this.segments[n]!.committedBytes >= 0
        ) {
          excess -= this.segments[n]!.committedBytes;
          n++;
        }
      }
      if (n === 0) return this.logStartOffset;
      if (n === this.segments.length) {
        await this.active.seal();
        const seg = new Segment(this.dir, this.nextOffset, this.options.indexIntervalBytes);
        await seg.create();
        this.segments.push(seg);
      }
      await this.removeOldest(n);
      this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
      this.hotTail.dropBefore(this.logStartOffset);
      return this.logStartOffset;
    });
  }

  private async removeOldest(n: number): Promise<void> {
    const dead = this.segments.slice(0, n);
    this.segments = this.segments.slice(n);
    for (const s of dead) await s.remove();
  }

  sizeInBytes(): number {
    let size = 0;
    for (const s of this.segments) size += s.committedBytes;
    return size;
  }

  /** Waits for queued appends, then flushes and seals the active segment and closes the files. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      this.closed ??= new Error(`partition ${this.dir} is closed`);
      for (const s of this.segments) {
        if (s.isOpen) await s.seal();
        await s.close();
      }
      this.hotTail.clear();
    });
  }

  /** Closes without sealing (the files are about to be deleted). */
  discard(): Promise<void> {
    return this.exclusive(async () => {
      this.closed ??= new Error(`partition ${this.dir} was deleted`);
      for (const s of this.segments) await s.close();
      this.hotTail.clear();
    });
  }
}
