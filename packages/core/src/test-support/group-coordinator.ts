// A started group coordinator over the LogStorage fake, for core's group tests.
import { type BrokerConfig, defaultBrokerConfig } from '../broker/config.js';
import { TopicRegistry } from '../broker/topics.js';
import { GroupCoordinator } from '../groups/group-coordinator.js';
import { ManualClock, noopMetrics, silentLogger } from '../services.js';
import { LogStorage } from './log-storage.js';

/**
 * Starts a coordinator with no initial rebalance delay and `offsetsTopicNumPartitions` partitions
 * of __consumer_offsets, under `config`, on `storage` and `clock`.
 */
export async function startGroupCoordinator(
  offsetsTopicNumPartitions: number,
  config: Partial<BrokerConfig> = {},
  storage = new LogStorage(),
  clock = new ManualClock(),
) {
  const cfg = defaultBrokerConfig({ groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions, ...config });
  const topics = new TopicRegistry(storage, cfg);
  await topics.load();
  const gc = new GroupCoordinator({
    storage,
    topics,
    config: cfg,
    clock,
    logger: silentLogger,
    metrics: noopMetrics,
  });
  await gc.start();
  return { gc, clock, storage, topics };
}
