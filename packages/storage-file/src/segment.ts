import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateRecordBatch } from '@tributary/codec/records';
import {
  BATCH_HEADER_SIZE,
  BatchScan,
  LAST_OFFSET_DELTA_AT,
  LENGTH_AT,
  LOG_OVERHEAD,
  MAGIC_AT,
  PRODUCER_ID_AT,
  readOffset,
  type ScannedBatch,
} from './batch-scan.js';
import { fsyncDir, isErrno, readAt, unlinkIfExists, writeAllAt } from './fs-util.js';
import type { StorageLogger } from './options.js';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** A compacted segment being written, not yet part of the log (removed by the next open). */
export const CLEANED_SUFFIX = '.cleaned';
/** A compacted segment committed to replace the segments it names (completed by the next open). */
export const SWAP_SUFFIX = '.swap';

/** Offset index entry: last offset of the batch relative to the segment's base (int32), batch position (int32). */
const OFFSET_ENTRY = 8;
/** Time index entry: largest timestamp so far (int64), offset relative to the base of the batch holding it (int32). */
const TIME_ENTRY = 12;
/** Chunk size for scans that walk a file (recovery, timestamp lookups). */
const SCAN_CHUNK = 1024 * 1024;

/** Segment files are named by their base offset, zero-padded to 20 digits. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return baseOffset.toString().padStart(20, '0') + suffix;
}

/** What the log needs from a batch it commits. */
export interface BatchMeta {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly size: number;
}

export interface SegmentRead {
  readonly batches: Buffer[];
  readonly bytes: number;
  /** True when the reader should stop (byte limit or high watermark reached). */
  readonly full: boolean;
}

/**
 * One log segment: `<base>.log` holds the producers' batches back to back, `<base>.index` maps the
 * last offset of a batch every `indexIntervalBytes` to its position, `<base>.timeindex` records the
 * largest timestamp so far and which batch holds it. The indexes live in memory and are written to
 * their files when the segment is rolled and on a clean close; after a crash they are rebuilt from
 * the log.
 */
export class Segment {
  handle: FileHandle | null = null;
  /** Bytes given to appends, written or still queued. */
  assignedBytes = 0;
  /** Bytes written (and synced, with flush=always): what readers may see. */
  committedBytes = 0;
  /** The offset after the last committed batch. */
  endOffset: number;
  maxTimestamp = -1;
  /** Base offset of the first batch holding `maxTimestamp`. */
  offsetOfMaxTimestamp: number;
  /** Clock time the segment took its first batch, for segment.ms. */
  rollBase: number | null = null;
  /** Data written but not yet fdatasync'ed. */
  unflushed = false;
  /**
   * Set by an open that walked the whole segment and found no batch with a producer id: the
   * producer-state replay has nothing to read in it.
   */
  walkedWithoutProducers = false;
  private indexOffsets: number[] = [];
  private indexPositions: number[] = [];
  private timeStamps: number[] = [];
  private timeOffsets: number[] = [];
  private lastBatchPosition = -1;
  private bytesSinceIndexEntry = 0;
  private indexDirty = false;
  private refs = 0;
  private removed = false;

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
  ) {
    this.endOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
  }

  path(suffix: string): string {
    return join(this.dir, segmentFileName(this.baseOffset, suffix));
  }

  /** Where a compacted copy of the log is written before it replaces the segments it covers. */
  cleanedPath(): string {
    return this.path(LOG_SUFFIX) + CLEANED_SUFFIX;
  }

  /** Opens a new, empty `.cleaned` file for a compacted segment starting at `baseOffset`. */
  static async createCleaned(dir: string, baseOffset: number, indexIntervalBytes: number): Promise<Segment> {
    const seg = new Segment(dir, baseOffset, indexIntervalBytes);
    seg.handle = await open(seg.cleanedPath(), 'w+');
    return seg;
  }

  /** Appends whole batches at the end of the file and indexes them (used to write compacted segments). */
  async appendBatches(buffers: Buffer[], metas: BatchMeta[]): Promise<void> {
    let position = this.committedBytes;
    await writeAllAt(this.handle!, buffers, position);
    this.unflushed = true;
    for (const m of metas) {
      this.addBatch(position, m);
      position += m.size;
    }
    this.assignedBytes = this.committedBytes;
  }

  get isOpen(): boolean {
    return this.handle !== null;
  }

  /** Creates the segment's log file (empty) and makes its directory entry durable. */
  async create(): Promise<void> {
    let h: FileHandle;
    try {
      h = await open(this.path(LOG_SUFFIX), 'wx+');
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
      // Left by a crash between creating the file and writing to it.
      h = await open(this.path(LOG_SUFFIX), 'r+');
      if ((await h.stat()).size !== 0) {
        await h.close();
        throw new Error(`segment file ${this.path(LOG_SUFFIX)} already exists and is not empty`);
      }
    }
    this.handle = h;
    await fsyncDir(this.dir);
  }

  /**
   * Opens an existing segment. With `verify`, or when its indexes are missing or do not describe
   * the whole log, walks every batch (length, magic, CRC-32C, contiguous offsets), truncates the
   * file at the first bad or torn batch and rebuilds the indexes. Returns the bytes truncated.
   */
  async load(verify: boolean, logger: StorageLogger): Promise<number> {
    this.handle = await open(this.path(LOG_SUFFIX), 'r+');
    const size = (await this.handle.stat()).size;
    if (!verify && (await this.loadIndexes(size))) return 0;
    return this.recover(size, logger);
  }

  private async loadIndexes(size: number): Promise<boolean> {
    if (size === 0) return true;
    let index: Buffer;
    let timeIndex: Buffer;
    try {
      index = await readFile(this.path(INDEX_SUFFIX));
      timeIndex = await readFile(this.path(TIME_INDEX_SUFFIX));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return false;
      throw e;
    }
    if (index.length === 0 || index.length % OFFSET_ENTRY !== 0 || timeIndex.length % TIME_ENTRY !== 0)
      return false;
    const n = index.length / OFFSET_ENTRY;
    const offsets = new Array<number>(n);
    const positions = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      offsets[i] = this.baseOffset + index.readInt32BE(i * OFFSET_ENTRY);
      positions[i] = index.readInt32BE(i * OFFSET_ENTRY + 4);
      if (positions[i]! < 0 || positions[i]! >= size) return false;
      if (i > 0 && (offsets[i]! <= offsets[i - 1]! || positions[i]! <= positions[i - 1]!)) return false;
    }
    // The last entry must be the last batch, ending exactly at the end of the file.
    const lastPosition = positions[n - 1]!;
    const header = await readAt(this.handle!, lastPosition, BATCH_HEADER_SIZE);
    if (header.length < BATCH_HEADER_SIZE || header[MAGIC_AT] !== 2) return false;
    if (lastPosition + LOG_OVERHEAD + header.readInt32BE(LENGTH_AT) !== size) return false;
    const lastOffset = readOffset(header, 0) + header.readInt32BE(LAST_OFFSET_DELTA_AT);
    if (lastOffset !== offsets[n - 1]) return false;
    const m = timeIndex.length / TIME_ENTRY;
    const stamps = new Array<number>(m);
    const stampOffsets = new Array<number>(m);
    for (let i = 0; i < m; i++) {
      stamps[i] = Number(timeIndex.readBigInt64BE(i * TIME_ENTRY));
      stampOffsets[i] = this.baseOffset + timeIndex.readInt32BE(i * TIME_ENTRY + 8);
    }
    this.indexOffsets = offsets;
    this.indexPositions = positions;
    this.timeStamps = stamps;
    this.timeOffsets = stampOffsets;
    this.maxTimestamp = m > 0 ? stamps[m - 1]! : -1;
    this.offsetOfMaxTimestamp = m > 0 ? stampOffsets[m - 1]! : this.baseOffset;
    this.lastBatchPosition = lastPosition;
    this.committedBytes = this.assignedBytes = size;
    this.endOffset = lastOffset + 1;
    return true;
  }

  private async recover(size: number, logger: StorageLogger): Promise<number> {
    this.resetIndexes();
    const scan = new BatchScan(this.handle!, 0, size, SCAN_CHUNK);
    let problem: string | null = null;
    let position = 0;
    let producers = false;
    for await (const b of scan) {
      try {
        validateRecordBatch(b.buf, b.at);
      } catch (e) {
        problem = `batch at position ${b.position}: ${(e as Error).message}`;
        break;
      }
      if (b.lastOffset < b.baseOffset) {
        problem = `batch at position ${b.position} has no records`;
        break;
      }
      // Offsets only grow; a compacted segment has gaps between its batches.
      const expected = this.lastBatchPosition < 0 ? this.baseOffset : this.endOffset;
      if (b.baseOffset < expected) {
        problem = `batch at position ${b.position} has base offset ${b.baseOffset}, expected at least ${expected}`;
        break;
      }
      this.addBatch(b.position, b);
      position = b.position + b.size;
      // A producer id of -1 has a negative high word.
      if (!producers && b.buf.readInt32BE(b.at + PRODUCER_ID_AT) >= 0) producers = true;
    }
    this.walkedWithoutProducers = !producers;
    problem ??= scan.problem;
    this.assignedBytes = this.committedBytes = position;
    if (position < size) {
      await this.handle!.truncate(position);
      await this.handle!.datasync();
      logger.warn(
        {
          file: this.path(LOG_SUFFIX),
          position,
          bytesDropped: size - position,
          reason: problem ?? 'incomplete batch at the end',
        },
        'truncated a torn or corrupt log segment tail',
      );
    }
    await this.writeIndexes();
    return size - position;
  }

  private resetIndexes(): void {
    this.indexOffsets = [];
    this.indexPositions = [];
    this.timeStamps = [];
    this.timeOffsets = [];
    this.lastBatchPosition = -1;
    this.bytesSinceIndexEntry = 0;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.endOffset = this.baseOffset;
  }

  /** Records a batch written at `position`: readable from now on, indexed as the interval says. */
  addBatch(position: number, meta: BatchMeta): void {
    if (meta.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = meta.maxTimestamp;
      this.offsetOfMaxTimestamp = meta.baseOffset;
    }
    if (this.indexOffsets.length === 0 || this.bytesSinceIndexEntry >= this.indexIntervalBytes) {
      this.indexOffsets.push(meta.lastOffset);
      this.indexPositions.push(position);
      this.appendTimeEntry();
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += meta.size;
    this.lastBatchPosition = position;
    this.endOffset = meta.lastOffset + 1;
    this.committedBytes = position + meta.size;
    this.indexDirty = true;
  }

  private appendTimeEntry(): void {
    const n = this.timeStamps.length;
    if (this.maxTimestamp < 0 || (n > 0 && this.timeStamps[n - 1]! >= this.maxTimestamp)) return;
    this.timeStamps.push(this.maxTimestamp);
    this.timeOffsets.push(this.offsetOfMaxTimestamp);
  }

  /**
   * Writes both index files whole, ending with entries for the last batch and the largest
   * timestamp so that a later open can trust them without reading the log, and fsyncs them.
   */
  async writeIndexes(): Promise<void> {
    if (this.lastBatchPosition >= 0 && this.indexOffsets.at(-1) !== this.endOffset - 1) {
      this.indexOffsets.push(this.endOffset - 1);
      this.indexPositions.push(this.lastBatchPosition);
    }
    this.appendTimeEntry();
    const index = Buffer.allocUnsafe(this.indexOffsets.length * OFFSET_ENTRY);
    for (let i = 0; i < this.indexOffsets.length; i++) {
      index.writeInt32BE(this.indexOffsets[i]! - this.baseOffset, i * OFFSET_ENTRY);
      index.writeInt32BE(this.indexPositions[i]!, i * OFFSET_ENTRY + 4);
    }
    const time = Buffer.allocUnsafe(this.timeStamps.length * TIME_ENTRY);
    for (let i = 0; i < this.timeStamps.length; i++) {
      time.writeBigInt64BE(BigInt(this.timeStamps[i]!), i * TIME_ENTRY);
      time.writeInt32BE(this.timeOffsets[i]! - this.baseOffset, i * TIME_ENTRY + 8);
    }
    await writeWhole(this.path(INDEX_SUFFIX), index);
    await writeWhole(this.path(TIME_INDEX_SUFFIX), time);
    this.indexDirty = false;
  }

  /** fdatasync's the log if it holds unflushed data. */
  async flush(): Promise<void> {
    if (this.handle !== null && this.unflushed) {
      this.unflushed = false;
      await this.handle.datasync();
    }
  }

  /** Flushes the log and, when they changed, the indexes: done when the segment stops being active and on close. */
  async seal(): Promise<void> {
    await this.flush();
    if (this.indexDirty && this.handle !== null) await this.writeIndexes();
  }

  async write(buffers: Buffer[], position: number): Promise<void> {
    await writeAllAt(this.handle!, buffers, position);
    this.unflushed = true;
  }

  /** Position of an indexed batch at or before the one holding `offset`. */
  positionFor(offset: number): number {
    const offsets = this.indexOffsets;
    let lo = 0;
    let hi = offsets.length;
    // First entry whose batch ends at or after `offset`; the entry before it ends before `offset`.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.indexPositions[lo - 1]!;
  }

  /**
   * Whole batches from the one holding `offset`, up to `maxBytes` (the first batch whatever its size
   * when `minOneBatch`), below `limitOffset`. The batches are slices of the buffers read.
   */
  async read(
    offset: number,
    maxBytes: number,
    minOneBatch: boolean,
    limitOffset: number,
  ): Promise<SegmentRead> {
    const batches: Buffer[] = [];
    let bytes = 0;
    const start = this.positionFor(offset);
    const scan = new BatchScan(
      this.handle!,
      start,
      this.committedBytes,
      Math.min(Math.max(maxBytes, BATCH_HEADER_SIZE) + this.indexIntervalBytes, 64 * 1024 * 1024),
    );
    for await (const b of scan) {
      if (b.baseOffset >= limitOffset) return { batches, bytes, full: true };
      if (b.lastOffset < offset) continue;
      if (bytes + b.size > maxBytes && !(batches.length === 0 && minOneBatch))
        return { batches, bytes, full: true };
      batches.push(b.buf.subarray(b.at, b.at + b.size));
      bytes += b.size;
      if (bytes >= maxBytes) return { batches, bytes, full: true };
    }
    return { batches, bytes, full: false };
  }

  /** The first batch at or after `minOffset` whose max timestamp is at or after `timestamp`. */
  async findByTimestamp(
    timestamp: number,
    minOffset: number,
  ): Promise<{ batch: Buffer; baseOffset: number } | null> {
    // Every batch up to the one holding a time index entry's timestamp has a max timestamp at or
    // below it, so the walk can start at the last entry below `timestamp`.
    let from = this.baseOffset;
    const stamps = this.timeStamps;
    let lo = 0;
    let hi = stamps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (stamps[mid]! < timestamp) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) from = this.timeOffsets[lo - 1]!;
    const found = await this.findFirst(Math.max(from, minOffset), (b) => b.maxTimestamp >= timestamp);
    return found === null ? null : { batch: found.batch, baseOffset: found.baseOffset };
  }

  /** The first batch holding the largest timestamp among batches ending at or after `minOffset`. */
  async findMaxTimestamp(minOffset: number): Promise<{ batch: Buffer; baseOffset: number } | null> {
    if (this.committedBytes === 0) return null;
    const target = this.offsetOfMaxTimestamp;
    const found = await this.findFirst(target, (b) => b.baseOffset >= target);
    if (found !== null && found.lastOffset >= minOffset)
      return { batch: found.batch, baseOffset: found.baseOffset };
    // The segment's maximum lies below the log start offset: walk what is left of it.
    let best: { batch: Buffer; baseOffset: number; ts: number } | null = null;
    const scan = new BatchScan(this.handle!, this.positionFor(minOffset), this.committedBytes, SCAN_CHUNK);
    for await (const b of scan) {
      if (b.lastOffset < minOffset) continue;
      if (best === null || b.maxTimestamp > best.ts)
        best = { batch: b.buf.subarray(b.at, b.at + b.size), baseOffset: b.baseOffset, ts: b.maxTimestamp };
    }
    return best === null ? null : { batch: best.batch, baseOffset: best.baseOffset };
  }

  private async findFirst(
    offset: number,
    match: (b: ScannedBatch) => boolean,
  ): Promise<{ batch: Buffer; baseOffset: number; lastOffset: number; maxTimestamp: number } | null> {
    const scan = new BatchScan(this.handle!, this.positionFor(offset), this.committedBytes, 64 * 1024);
    for await (const b of scan) {
      if (b.lastOffset < offset) continue;
      if (match(b))
        return {
          batch: b.buf.subarray(b.at, b.at + b.size),
          baseOffset: b.baseOffset,
          lastOffset: b.lastOffset,
          maxTimestamp: b.maxTimestamp,
        };
    }
    return null;
  }

  /** Drops what was assigned but never committed (after a failed write). */
  async truncateToCommitted(): Promise<void> {
    this.assignedBytes = this.committedBytes;
    if (this.handle !== null) await this.handle.truncate(this.committedBytes);
  }

  /** Readers hold the segment so that deleting it does not close the file under them. */
  acquire(): boolean {
    if (this.handle === null) return false;
    this.refs++;
    return true;
  }

  release(): void {
    if (--this.refs === 0 && this.removed) void this.closeHandle();
  }

  /** Deletes the segment's files; the open file stays readable until the last reader releases it. */
  async remove(): Promise<void> {
    this.removed = true;
    await Promise.all([
      unlinkIfExists(this.path(LOG_SUFFIX)),
      unlinkIfExists(this.path(INDEX_SUFFIX)),
      unlinkIfExists(this.path(TIME_INDEX_SUFFIX)),
    ]);
    if (this.refs === 0) await this.closeHandle();
  }

  /**
   * Leaves the log (its files were replaced or renamed by compaction): the open file stays readable
   * until the last reader releases it.
   */
  async retire(): Promise<void> {
    this.removed = true;
    if (this.refs === 0) await this.closeHandle();
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h !== null) await h.close();
  }
}

async function writeWhole(path: string, data: Buffer): Promise<void> {
  const h = await open(path, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}
