import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type AppendInput,
  type AppendResult,
  type BatchLocation,
  type LogConfig,
  type LogDirDescription,
  type MarkerInput,
  type MarkerResult,
  type PartitionOffsets,
  type ProducerDescription,
  type ReadInput,
  type ReadResult,
  type RetentionPolicy,
  type StorageAdapter,
  type StoredTopic,
  UnknownPartitionError,
} from '@tributary/core/storage';
import type { CompactionResult } from './compactor.js';
import { fsyncDir, isErrno, unlinkIfExists, writeFileAtomic } from './fs-util.js';
import { HotTailBudget } from './hot-tail.js';
import { DirectoryLock } from './lock.js';
import {
  type FileStorageOptions,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import { type LogSettings, PARTITION_METADATA_FILE, PartitionLog } from './partition-log.js';

/** Written by a clean close, removed by open: its presence means no log needs verifying. */
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';
/** Directory of topic metadata files, one `<topic id>.json` per topic. */
export const TOPICS_DIR = 'topics';
/** The producer id high mark: no id below it is ever handed out again. */
export const PRODUCER_ID_FILE = 'producer-id-high-mark';
const DELETE_SUFFIX = '-delete';
/** Partitions opened at once on startup. */
const OPEN_CONCURRENCY = 32;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

interface TopicState {
  meta: StoredTopic;
  readonly id: string;
  partitions: PartitionLog[];
  settings: LogSettings;
}

interface TopicFile {
  version: 1;
  name: string;
  topicId: string;
  partitionCount: number;
  configs: Record<string, string>;
}

/**
 * Durable storage in a data directory: one directory per partition (`<topic>-<partition>`) holding
 * log segments with offset and time indexes, topic metadata in `topics/`, a lock file so that one
 * process uses the directory at a time, and a clean shutdown marker that lets the next open skip
 * verifying the logs. See docs/storage-file.md for the layout, flush semantics and recovery.
 */
export class FileStorage implements StorageAdapter {
  private readonly options: ResolvedOptions;
  /** The data directory, as an absolute path. */
  readonly dataDir: string;
  private readonly topics = new Map<string, TopicState>();
  private readonly budget: HotTailBudget;
  private lock: DirectoryLock | null = null;
  private metadataChain: Promise<unknown> = Promise.resolve();
  private flushTimer: { cancel(): void } | null = null;
  private cleanerTimer: { cancel(): void } | null = null;
  private cleanerRound: Promise<void> | null = null;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** The first producer id not yet handed out (persisted in PRODUCER_ID_FILE before it is). */
  private nextProducerId = 0;

  constructor(options: FileStorageOptions) {
    this.options = resolveOptions(options);
    this.dataDir = resolve(this.options.dataDir);
    this.budget = new HotTailBudget(this.options.hotTailTotalBytes);
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`FileStorage for ${this.dataDir} was already opened`);
    const dir = this.dataDir;
    try {
      await mkdir(join(dir, TOPICS_DIR), { recursive: true });
      await access(dir, constants.W_OK);
    } catch (e) {
      throw new Error(`data directory ${dir} is not usable: ${(e as Error).message}`, { cause: e });
    }
    const logger = this.options.logger;
    this.lock = await DirectoryLock.acquire(dir, logger);
    try {
      const started = Date.now();
      let clean = true;
      try {
        await access(join(dir, CLEAN_SHUTDOWN_FILE));
      } catch {
        clean = false;
      }
      this.nextProducerId = await this.readProducerIdMark();
      const topics = await this.readTopics();
      await this.removeLeftovers(topics);
      const jobs: (() => Promise<void>)[] = [];
      for (const t of topics) {
        const state = this.newState(t);
        for (let p = 0; p < t.partitionCount; p++) {
          const log = this.newPartition(state, p);
          state.partitions.push(log);
          jobs.push(async () => {
            try {
              await log.load(!clean);
            } catch (e) {
              if (isErrno(e, 'ENOENT') && (e as NodeJS.ErrnoException).path === log.dir) {
                logger.warn({ dir: log.dir }, 'partition directory missing; creating it empty');
                await log.create(state.id);
                return;
              }
              throw new Error(`cannot open partition directory ${log.dir}: ${(e as Error).message}`, {
                cause: e,
              });
            }
          });
        }
        this.topics.set(state.id, state);
      }
      await runLimited(jobs, OPEN_CONCURRENCY);
      if (clean) {
        // From here on a crash must be detected: the marker goes before the first write.
        await unlinkIfExists(join(dir, CLEAN_SHUTDOWN_FILE));
        await fsyncDir(dir);
      }
      logger.info(
        { dataDir: dir, topics: topics.length, partitions: jobs.length, clean, ms: Date.now() - started },
        'opened file storage',
      );
    } catch (e) {
      await Promise.allSettled(
        [...this.topics.values()].flatMap((t) => t.partitions.map((p) => p.discard())),
      );
      this.topics.clear();
      await this.lock.release();
      this.lock = null;
      throw e;
    }
    this.state = 'open';
    this.scheduleFlush();
    this.scheduleCleaner();
  }

  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed';
      return;
    }
    this.state = 'closed';
    this.flushTimer?.cancel();
    this.flushTimer = null;
    this.cleanerTimer?.cancel();
    this.cleanerTimer = null;
    await this.metadata(async () => {
      const closing = [...this.topics.values()].flatMap((t) => t.partitions.map((p) => p.close()));
      const results = await Promise.allSettled(closing);
      await this.cleanerRound;
      this.topics.clear();
      const failed = results.find((r) => r.status === 'rejected');
      if (failed === undefined) {
        await writeFileAtomic(join(this.dataDir, CLEAN_SHUTDOWN_FILE), `${new Date().toISOString()}\n`);
      }
      await this.lock?.release();
      this.lock = null;
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    });
  }

  private scheduleFlush(): void {
    const flush = this.options.flush;
    if (flush.mode !== 'interval' || this.state !== 'open') return;
    this.flushTimer = this.options.clock.schedule(flush.intervalMs, () => {
      void this.flushAll().then(
        () => this.scheduleFlush(),
        (e: unknown) => {
          this.options.logger.error({ err: e }, 'periodic log flush failed');
          this.scheduleFlush();
        },
      );
    });
  }

  private scheduleCleaner(): void {
    if (!this.options.cleanerEnabled || this.state !== 'open') return;
    this.cleanerTimer = this.options.clock.schedule(this.options.cleanerBackoffMs, () => {
      this.cleanerRound = this.runCleaner().finally(() => {
        this.cleanerRound = null;
        this.scheduleCleaner();
      });
    });
  }

  /**
   * One round of the log cleaner: a pass over every partition of every topic whose
   * `cleanup.policy` includes `compact` and that is due one, one partition at a time. The cleaner
   * timer runs this every `cleanerBackoffMs`; failures are logged, never thrown.
   */
  async runCleaner(): Promise<void> {
    for (const t of [...this.topics.values()]) {
      if (!t.settings.compact) continue;
      for (let p = 0; p < t.partitions.length; p++) {
        if (this.state !== 'open') return;
        try {
          await t.partitions[p]!.compact();
        } catch (e) {
          this.options.logger.error({ err: e, dir: t.partitions[p]!.dir }, 'log compaction failed');
        }
      }
    }
  }

  /** Resolves once the cleaner round the timer started, if any, is over (for tests and tools). */
  async cleanerIdle(): Promise<void> {
    await this.cleanerRound;
  }

  /**
   * Runs a cleaning pass over one partition now, whatever its topic's policy and dirty ratio (the
   * other rules hold: closed segments only, min.compaction.lag.ms, open transactions). Resolves to
   * what it did, or null when there was nothing to clean.
   */
  compact(topicId: string, partition: number): Promise<CompactionResult | null> {
    try {
      return this.log(topicId, partition).compact(true);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** fdatasync's every partition with unflushed data (the interval flush; also for tests and tools). */
  async flushAll(): Promise<void> {
    const all = [...this.topics.values()].flatMap((t) => t.partitions);
    await Promise.all(all.map((p) => p.flush()));
  }

  // ---- topics ----

  private metadata<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.metadataChain.then(fn);
    this.metadataChain = run.catch(() => {});
    return run;
  }

  private topicPath(id: string): string {
    return join(this.dataDir, TOPICS_DIR, `${id}.json`);
  }

  private newState(meta: StoredTopic): TopicState {
    return {
      meta,
      id: meta.topicId.toString('base64url'),
      partitions: [],
      settings: this.defaultSettings(),
    };
  }

  /** The storage options' settings: in force for a topic until core hands in its LogConfig. */
  private defaultSettings(): LogSettings {
    const o = this.options;
    return {
      segmentBytes: o.segmentBytes,
      segmentMs: o.segmentMs,
      indexIntervalBytes: o.indexIntervalBytes,
      compact: false,
      deleteRetentionMs: o.deleteRetentionMs,
      minCleanableDirtyRatio: o.minCleanableDirtyRatio,
      minCompactionLagMs: o.minCompactionLagMs,
      maxCompactionLagMs: o.maxCompactionLagMs,
    };
  }

  /**
   * Takes a topic's resolved log settings (core resolves the broker defaults and the topic's
   * overrides and calls this after open, createTopic and setTopicConfigs). Values outside what
   * the files can hold are clamped: segments address positions with int32.
   */
  configureLog(topicId: string, config: LogConfig): void {
    const state = this.topic(topicId);
    const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.floor(n)));
    state.settings = {
      segmentBytes: clamp(config.segmentBytes, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES),
      segmentMs: clamp(config.segmentMs, 1, Number.MAX_SAFE_INTEGER),
      indexIntervalBytes: clamp(config.indexIntervalBytes, 0, MAX_SEGMENT_BYTES),
      compact: config.compactEnabled,
      deleteRetentionMs: clamp(config.deleteRetentionMs, 0, Number.MAX_SAFE_INTEGER),
      minCleanableDirtyRatio: Math.min(1, Math.max(0, config.minCleanableDirtyRatio)),
      minCompactionLagMs: clamp(config.minCompactionLagMs, 0, Number.MAX_SAFE_INTEGER),
      maxCompactionLagMs: clamp(config.maxCompactionLagMs, 1, Number.MAX_SAFE_INTEGER),
    };
  }

  private newPartition(state: TopicState, p: number): PartitionLog {
    return new PartitionLog(
      join(this.dataDir, `${state.meta.name}-${p}`),
      this.options,
      () => state.settings,
      this.budget,
    );
  }

  private async writeTopic(meta: StoredTopic): Promise<void> {
    const file: TopicFile = {
      version: 1,
      name: meta.name,
      topicId: meta.topicId.toString('base64url'),
      partitionCount: meta.partitionCount,
      configs: { ...meta.configs },
    };
    await writeFileAtomic(this.topicPath(file.topicId), `${JSON.stringify(file, null, 2)}\n`);
  }

  private async readTopics(): Promise<StoredTopic[]> {
    const dir = join(this.dataDir, TOPICS_DIR);
    const out: StoredTopic[] = [];
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      if (name.endsWith('.tmp')) {
        await unlinkIfExists(path);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(path, 'utf8'));
      } catch (e) {
        throw new Error(`corrupt topic metadata ${path}: ${(e as Error).message}`, { cause: e });
      }
      const problem = topicFileProblem(parsed, name.slice(0, -'.json'.length));
      if (problem !== null) throw new Error(`corrupt topic metadata ${path}: ${problem}`);
      const t = parsed as TopicFile;
      out.push({
        name: t.name,
        topicId: Buffer.from(t.topicId, 'base64url'),
        partitionCount: t.partitionCount,
        configs: { ...t.configs },
      });
    }
    return out;
  }

  /**
   * Removes what an interrupted topic deletion or creation left behind: directories renamed for
   * deletion, and partition directories naming a topic id that no topic has.
   */
  private async removeLeftovers(topics: StoredTopic[]): Promise<void> {
    const live = new Set(topics.map((t) => t.topicId.toString('base64url')));
    const logger = this.options.logger;
    for (const entry of await readdir(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === TOPICS_DIR) continue;
      const path = join(this.dataDir, entry.name);
      if (entry.name.endsWith(DELETE_SUFFIX)) {
        logger.warn({ dir: path }, 'removing a partition directory left by an interrupted topic deletion');
        await rm(path, { recursive: true, force: true });
        continue;
      }
      let owner: string | null = null;
      try {
        owner =
          /topic_id: (\S+)/.exec(await readFile(join(path, PARTITION_METADATA_FILE), 'utf8'))?.[1] ?? null;
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
      }
      if (owner !== null && !live.has(owner)) {
        logger.warn(
          { dir: path, topicId: owner },
          'removing a partition directory of a topic that does not exist',
        );
        await rm(path, { recursive: true, force: true });
      }
    }
  }

  async listTopics(): Promise<StoredTopic[]> {
    return [...this.topics.values()].map((t) => ({
      ...t.meta,
      topicId: Buffer.from(t.meta.topicId),
      configs: { ...t.meta.configs },
    }));
  }

  createTopic(topic: StoredTopic): Promise<boolean> {
    return this.metadata(async () => {
      this.checkOpen();
      if (!TOPIC_NAME.test(topic.name) || topic.name === '.' || topic.name === '..')
        throw new Error(`topic name "${topic.name}" cannot name a directory`);
      for (const t of this.topics.values()) if (t.meta.name === topic.name) return false;
      const meta: StoredTopic = {
        name: topic.name,
        topicId: Buffer.from(topic.topicId),
        partitionCount: topic.partitionCount,
        configs: { ...topic.configs },
      };
      const state = this.newState(meta);
      if (this.topics.has(state.id)) return false;
      for (let p = 0; p < meta.partitionCount; p++) {
        const log = this.newPartition(state, p);
        await rm(log.dir, { recursive: true, force: true });
        await log.create(state.id);
        state.partitions.push(log);
      }
      await fsyncDir(this.dataDir);
      // The metadata file is the commit point: without it the directories are leftovers.
      await this.writeTopic(meta);
      this.topics.set(state.id, state);
      return true;
    });
  }

  deleteTopic(topicId: string): Promise<boolean> {
    return this.metadata(async () => {
      const state = this.topics.get(topicId);
      if (state === undefined) return false;
      this.topics.delete(topicId);
      await unlinkIfExists(this.topicPath(topicId));
      await fsyncDir(join(this.dataDir, TOPICS_DIR));
      for (const log of state.partitions) {
        await log.discard();
        const doomed = `${log.dir}.${topicId}${DELETE_SUFFIX}`;
        await rename(log.dir, doomed);
        await rm(doomed, { recursive: true, force: true });
      }
      await fsyncDir(this.dataDir);
      return true;
    });
  }

  setTopicConfigs(topicId: string, configs: Readonly<Record<string, string>>): Promise<void> {
    return this.metadata(async () => {
      const state = this.topic(topicId);
      const meta = { ...state.meta, configs: { ...configs } };
      await this.writeTopic(meta);
      state.meta = meta;
    });
  }

  addPartitions(topicId: string, partitionCount: number): Promise<void> {
    return this.metadata(async () => {
      const state = this.topic(topicId);
      if (partitionCount <= state.meta.partitionCount) return;
      const added: PartitionLog[] = [];
      for (let p = state.meta.partitionCount; p < partitionCount; p++) {
        const log = this.newPartition(state, p);
        await rm(log.dir, { recursive: true, force: true });
        await log.create(state.id);
        added.push(log);
      }
      await fsyncDir(this.dataDir);
      const meta = { ...state.meta, partitionCount };
      await this.writeTopic(meta);
      state.meta = meta;
      state.partitions.push(...added);
    });
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new Error(`FileStorage for ${this.dataDir} is not open`);
  }

  private topic(topicId: string): TopicState {
    const t = this.topics.get(topicId);
    if (t === undefined) throw new UnknownPartitionError(`no topic with id ${topicId}`);
    return t;
  }

  private log(topicId: string, partition: number): PartitionLog {
    const log = this.topics.get(topicId)?.partitions[partition];
    if (log === undefined) throw new UnknownPartitionError(`no partition ${partition} of topic ${topicId}`);
    return log;
  }

  // ---- partitions ----

  append(topicId: string, partition: number, input: AppendInput): Promise<AppendResult> {
    try {
      return this.log(topicId, partition).append(input);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  appendMarker(topicId: string, partition: number, input: MarkerInput): Promise<MarkerResult> {
    try {
      return this.log(topicId, partition).appendMarker(input);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async describeProducers(topicId: string, partition: number): Promise<ProducerDescription[]> {
    return this.log(topicId, partition).describeProducers();
  }

  async expireProducers(
    topicId: string,
    partition: number,
    now: number,
    producerIdExpirationMs: number,
  ): Promise<number> {
    return this.log(topicId, partition).expireProducers(now, producerIdExpirationMs);
  }

  /**
   * Reserves `count` producer ids: the new high mark is written atomically and fsynced before the
   * block is handed out, so no id is ever given twice, whatever crashes.
   */
  allocateProducerIds(count: number): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1)
      return Promise.reject(new RangeError(`cannot allocate ${count} producer ids`));
    return this.metadata(async () => {
      this.checkOpen();
      const first = this.nextProducerId;
      const next = first + count;
      if (!Number.isSafeInteger(next)) throw new RangeError('producer ids are exhausted');
      await writeFileAtomic(join(this.dataDir, PRODUCER_ID_FILE), `version: 1\nnext_producer_id: ${next}\n`);
      this.nextProducerId = next;
      return first;
    });
  }

  private async readProducerIdMark(): Promise<number> {
    const path = join(this.dataDir, PRODUCER_ID_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return 0;
      throw e;
    }
    const m = /^version: 1\nnext_producer_id: (\d+)\n$/.exec(text);
    const next = m === null ? Number.NaN : Number(m[1]);
    if (!Number.isSafeInteger(next))
      throw new Error(`corrupt producer id high mark ${path}: "${text.trim()}"`);
    return next;
  }

  async read(topicId: string, partition: number, input: ReadInput): Promise<ReadResult> {
    return this.log(topicId, partition).read(input);
  }

  async offsets(topicId: string, partition: number): Promise<PartitionOffsets> {
    return this.log(topicId, partition).offsets();
  }

  async findBatchByTimestamp(
    topicId: string,
    partition: number,
    timestamp: number,
  ): Promise<BatchLocation | null> {
    return this.log(topicId, partition).findBatchByTimestamp(timestamp);
  }

  async findMaxTimestampBatch(topicId: string, partition: number): Promise<BatchLocation | null> {
    return this.log(topicId, partition).findMaxTimestampBatch();
  }

  async deleteRecordsBefore(topicId: string, partition: number, offset: number): Promise<number> {
    return this.log(topicId, partition).deleteRecordsBefore(offset);
  }

  async applyRetention(topicId: string, partition: number, policy: RetentionPolicy): Promise<number> {
    return this.log(topicId, partition).applyRetention(policy);
  }

  async sizeInBytes(topicId: string, partition: number): Promise<number> {
    return this.log(topicId, partition).sizeInBytes();
  }

  async describeLogDir(): Promise<LogDirDescription> {
    try {
      const s = await statfs(this.dataDir);
      return { path: this.dataDir, totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
    } catch {
      return { path: this.dataDir, totalBytes: -1, usableBytes: -1 };
    }
  }
}

function topicFileProblem(value: unknown, fileId: string): string | null {
  if (value === null || typeof value !== 'object') return 'not a JSON object';
  const t = value as Partial<TopicFile>;
  if (t.version !== 1) return `unknown version ${JSON.stringify(t.version)}`;
  if (typeof t.name !== 'string' || !TOPIC_NAME.test(t.name))
    return `bad topic name ${JSON.stringify(t.name)}`;
  if (typeof t.topicId !== 'string' || Buffer.from(t.topicId, 'base64url').length !== 16)
    return `bad topic id ${JSON.stringify(t.topicId)}`;
  if (t.topicId !== fileId) return `topic id ${t.topicId} does not match the file name`;
  if (typeof t.partitionCount !== 'number' || !Number.isInteger(t.partitionCount) || t.partitionCount < 1)
    return `bad partition count ${JSON.stringify(t.partitionCount)}`;
  if (t.configs === null || typeof t.configs !== 'object' || Array.isArray(t.configs))
    return 'configs is not an object';
  for (const [k, v] of Object.entries(t.configs))
    if (typeof v !== 'string') return `config ${k} is not a string`;
  return null;
}

async function runLimited(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}
