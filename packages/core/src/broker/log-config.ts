import type { LogConfig } from '../storage/index.js';
import type { BrokerConfig } from './config.js';
import { topicConfigValue } from './topic-configs.js';

/** What a cleanup.policy list enables. */
export interface CleanupPolicy {
  readonly compact: boolean;
  readonly delete: boolean;
}

/** Parses a cleanup.policy value: a comma-separated list of `compact` and `delete`. */
export function parseCleanupPolicy(value: string): CleanupPolicy {
  const items = value.split(',').map((p) => p.trim());
  return { compact: items.includes('compact'), delete: items.includes('delete') };
}

/** A long config as a number; Kafka's "unbounded" Long.MAX_VALUE becomes Number.MAX_SAFE_INTEGER. */
function long(name: string, overrides: Readonly<Record<string, string>>, config: BrokerConfig): number {
  const n = Number(topicConfigValue(name, overrides, config));
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}

/**
 * A topic's effective log settings for the storage port: the broker's defaults with the topic's
 * overrides, which the broker validated when they were set. Adapters take this instead of parsing
 * topic configs with defaults of their own.
 */
export function resolveLogConfig(
  overrides: Readonly<Record<string, string>>,
  config: BrokerConfig,
): LogConfig {
  const policy = parseCleanupPolicy(topicConfigValue('cleanup.policy', overrides, config));
  const get = (name: string): number => long(name, overrides, config);
  return {
    deleteEnabled: policy.delete,
    compactEnabled: policy.compact,
    segmentBytes: get('segment.bytes'),
    segmentMs: get('segment.ms'),
    retentionMs: get('retention.ms'),
    retentionBytes: get('retention.bytes'),
    deleteRetentionMs: get('delete.retention.ms'),
    minCleanableDirtyRatio: get('min.cleanable.dirty.ratio'),
    minCompactionLagMs: get('min.compaction.lag.ms'),
    maxCompactionLagMs: get('max.compaction.lag.ms'),
    flushMessages: get('flush.messages'),
    flushMs: get('flush.ms'),
    indexIntervalBytes: get('index.interval.bytes'),
    maxMessageBytes: get('max.message.bytes'),
  };
}
