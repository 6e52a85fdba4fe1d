import { randomBytes } from 'node:crypto';
import type { StorageAdapter, StoredTopic } from '../storage/index.js';
import type { BrokerConfig } from './config.js';
import { type CleanupPolicy, resolveLogConfig } from './log-config.js';
import { topicConfigValue } from './topic-configs.js';

const LEGAL_TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Kafka's topic name rules; returns the problem, or null for a valid name. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  if (!LEGAL_TOPIC_CHARS.test(name))
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

/** A partition's live state: what long-polling fetches wait on. */
export class PartitionState {
  private waiters: (() => void)[] = [];
  /**
   * Appends so far. A fetch notes it before reading: if it moved by the time the fetch would
   * wait, an append came in between (after the read, before the waiter) and the fetch reads again.
   */
  appends = 0;

  /** Calls `fn` once, at the next append to this partition. */
  onAppend(fn: () => void): void {
    this.waiters.push(fn);
  }

  removeWaiter(fn: () => void): void {
    const i = this.waiters.indexOf(fn);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  notifyAppend(): void {
    this.appends++;
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export interface Topic {
  readonly name: string;
  readonly topicId: Buffer;
  /** topicId in base64url: the storage key. */
  readonly id: string;
  partitionCount: number;
  configs: Readonly<Record<string, string>>;
  /** cleanup.policy parsed, kept in step with `configs`: produce asks for every batch. */
  cleanupPolicy: CleanupPolicy;
  readonly partitions: PartitionState[];
}

/** The broker's view of its topics, loaded from storage at start and kept in step with it. */
export class TopicRegistry {
  private readonly byNameMap = new Map<string, Topic>();
  private readonly byIdMap = new Map<string, Topic>();
  private readonly creating = new Map<string, Promise<Topic>>();

  constructor(
    private readonly storage: StorageAdapter,
    private readonly config: BrokerConfig,
  ) {}

  async load(): Promise<void> {
    for (const t of await this.storage.listTopics()) this.add(t);
  }

  /**
   * Catches up with a store other brokers write too: topics created, deleted, grown or
   * reconfigured elsewhere. Returns whether anything changed.
   */
  async refresh(): Promise<boolean> {
    const stored = await this.storage.listTopics();
    let changed = false;
    const seen = new Set<string>();
    for (const t of stored) {
      const id = t.topicId.toString('base64url');
      seen.add(id);
      const known = this.byIdMap.get(id);
      if (known === undefined) {
        // A name reused by a topic created elsewhere replaces the one deleted there.
        const stale = this.byNameMap.get(t.name);
        if (stale !== undefined) this.forget(stale);
        this.add(t);
        changed = true;
        continue;
      }
      if (t.partitionCount > known.partitionCount) {
        while (known.partitions.length < t.partitionCount) known.partitions.push(new PartitionState());
        known.partitionCount = t.partitionCount;
        changed = true;
      }
      if (!sameConfigs(known.configs, t.configs)) {
        known.configs = t.configs;
        known.cleanupPolicy = this.configureLog(id, t.configs);
        changed = true;
      }
    }
    for (const topic of [...this.byIdMap.values()])
      if (!seen.has(topic.id) && !this.creating.has(topic.name)) {
        this.forget(topic);
        changed = true;
      }
    return changed;
  }

  private forget(topic: Topic): void {
    this.byNameMap.delete(topic.name);
    this.byIdMap.delete(topic.id);
    for (const p of topic.partitions) p.notifyAppend();
  }

  private add(t: StoredTopic): Topic {
    const id = t.topicId.toString('base64url');
    const topic: Topic = {
      name: t.name,
      topicId: t.topicId,
      id,
      partitionCount: t.partitionCount,
      configs: t.configs,
      cleanupPolicy: this.configureLog(id, t.configs),
      partitions: Array.from({ length: t.partitionCount }, () => new PartitionState()),
    };
    this.byNameMap.set(topic.name, topic);
    this.byIdMap.set(topic.id, topic);
    return topic;
  }

  byName(name: string): Topic | undefined {
    return this.byNameMap.get(name);
  }

  byId(topicId: Buffer): Topic | undefined {
    return this.byIdMap.get(topicId.toString('base64url'));
  }

  all(): Topic[] {
    return [...this.byNameMap.values()];
  }

  /** The effective value of a topic config (override or broker default). */
  configValue(topic: Topic, name: string): string {
    return topicConfigValue(name, topic.configs, this.config);
  }

  /**
   * Creates a topic. Concurrent creates of one name share one storage call; a name that exists
   * (here or, for a shared store, in storage) resolves to null.
   */
  async create(name: string, partitionCount: number, configs: Record<string, string>): Promise<Topic | null> {
    if (this.byNameMap.has(name)) return null;
    const pending = this.creating.get(name);
    if (pending) {
      await pending;
      return null;
    }
    const stored: StoredTopic = { name, topicId: newTopicId(), partitionCount, configs };
    const promise = this.storage.createTopic(stored).then(async (created) => {
      if (created) return this.add(stored);
      // Another broker sharing the store created it first: adopt its record.
      const existing = (await this.storage.listTopics()).find((t) => t.name === name);
      if (existing === undefined) throw new Error(`topic ${name} exists in storage but cannot be listed`);
      return this.add(existing);
    });
    this.creating.set(name, promise);
    try {
      const topic = await promise;
      return topic.topicId === stored.topicId ? topic : null;
    } finally {
      this.creating.delete(name);
    }
  }

  /** Creates the topic if missing (auto-creation); returns it either way. */
  async ensure(name: string, partitionCount: number): Promise<Topic> {
    const existing = this.byNameMap.get(name);
    if (existing) return existing;
    await this.create(name, partitionCount, {});
    const topic = this.byNameMap.get(name);
    if (topic === undefined) throw new Error(`topic ${name} was not created`);
    return topic;
  }

  async delete(topic: Topic): Promise<void> {
    this.byNameMap.delete(topic.name);
    this.byIdMap.delete(topic.id);
    await this.storage.deleteTopic(topic.id);
    // Wake long-polls so they see the topic gone.
    for (const p of topic.partitions) p.notifyAppend();
  }

  async setConfigs(topic: Topic, configs: Record<string, string>): Promise<void> {
    await this.storage.setTopicConfigs(topic.id, configs);
    topic.configs = configs;
    topic.cleanupPolicy = this.configureLog(topic.id, configs);
  }

  /**
   * Hands the storage the topic's resolved log settings (the broker's defaults under its
   * overrides) and returns its cleanup policy, read from the same resolution.
   */
  private configureLog(id: string, configs: Readonly<Record<string, string>>): CleanupPolicy {
    const log = resolveLogConfig(configs, this.config);
    this.storage.configureLog(id, log);
    return { compact: log.compactEnabled, delete: log.deleteEnabled };
  }

  async addPartitions(topic: Topic, partitionCount: number): Promise<void> {
    await this.storage.addPartitions(topic.id, partitionCount);
    while (topic.partitions.length < partitionCount) topic.partitions.push(new PartitionState());
    topic.partitionCount = partitionCount;
  }
}

function sameConfigs(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => a[k] === b[k]);
}

/** A random topic id, never the all-zero UUID nor one starting with '-' in base64url (Kafka avoids both). */
export function newTopicId(): Buffer {
  for (;;) {
    const id = randomBytes(16);
    if (id.some((b) => b !== 0) && !id.toString('base64url').startsWith('-')) return id;
  }
}
