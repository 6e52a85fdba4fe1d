// In-memory implementations of the transaction coordinator's ports, for tests.

import { ErrorCode } from '@tributary/codec';
import type { TransactionLogValue } from '@tributary/codec/coordinator';
import { ManualClock, type MetricLabels, type Metrics, silentLogger } from '../services.js';
import type { MarkerPartitionResult, MarkerWrite, TransactionMarkerWriter } from './ports.js';
import {
  defaultTransactionCoordinatorConfig,
  type TransactionCoordinatorConfig,
} from './transaction-config.js';
import { TransactionCoordinator, type TransactionCoordinatorOptions } from './transaction-coordinator.js';
import {
  type LoadedTransactionLog,
  partitionForTransactionalId,
  type TransactionLogRecord,
  type TransactionStateLog,
} from './transaction-log.js';
import { partitionKey, type TopicPartition } from './transaction-metadata.js';

export class MemoryTransactionLog implements TransactionStateLog {
  readonly records: TransactionLogRecord[] = [];
  coordinatorEpoch = 0;
  /** Appends fail while set (the log's partition is offline, say). */
  failAppends = false;
  /** Holds `load()` until released. */
  loadGate: Promise<void> | null = null;
  /** Holds appends until released. */
  appendGate: Promise<void> | null = null;

  readonly partitionCount = 50;

  async open(): Promise<void> {}

  async load(): Promise<LoadedTransactionLog> {
    if (this.loadGate !== null) await this.loadGate;
    return { coordinatorEpoch: this.coordinatorEpoch, records: [...this.records] };
  }

  async loadPartition(partition: number): Promise<LoadedTransactionLog> {
    if (this.loadGate !== null) await this.loadGate;
    const records = this.records.filter((r) => this.partitionFor(r.transactionalId) === partition);
    return { coordinatorEpoch: this.coordinatorEpoch, records };
  }

  unloadPartition(): void {}

  partitionFor(transactionalId: string): number {
    return partitionForTransactionalId(transactionalId, this.partitionCount);
  }

  async append(transactionalId: string, value: TransactionLogValue | null): Promise<void> {
    if (this.appendGate !== null) await this.appendGate;
    if (this.failAppends) throw new Error('log offline');
    this.records.push({ transactionalId, value });
  }

  /** The latest value written for an id (null after a tombstone, undefined if never written). */
  latest(transactionalId: string): TransactionLogValue | null | undefined {
    for (let i = this.records.length - 1; i >= 0; i--)
      if (this.records[i]!.transactionalId === transactionalId) return this.records[i]!.value;
    return undefined;
  }
}

export class MemoryMarkerWriter implements TransactionMarkerWriter {
  readonly writes: MarkerWrite[] = [];
  /** Per-partition errors to answer on coming writes, consumed in order; NONE otherwise. */
  readonly failures: Map<string, number>[] = [];
  /** Holds writes until released. */
  gate: Promise<void> | null = null;

  async writeMarkers(write: MarkerWrite): Promise<readonly MarkerPartitionResult[]> {
    this.writes.push(write);
    if (this.gate !== null) await this.gate;
    const failures = this.failures.shift() ?? new Map<string, number>();
    return write.partitions.map((p) => ({
      ...p,
      errorCode: failures.get(partitionKey(p.topic, p.partition)) ?? ErrorCode.NONE,
    }));
  }
}

/** Metrics that remember every increment, by name and labels. */
export class CountingMetrics implements Metrics {
  readonly counts = new Map<string, number>();
  increment(name: string, labels?: MetricLabels, value = 1): void {
    const key = labels === undefined ? name : `${name}${JSON.stringify(labels)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }
  observe(): void {}
  set(): void {}
}

/** A gate a test opens by hand. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets pending promise callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export interface Harness {
  coordinator: TransactionCoordinator;
  clock: ManualClock;
  log: MemoryTransactionLog;
  markers: MemoryMarkerWriter;
  config: TransactionCoordinatorConfig;
  existing: Set<string>;
  nextProducerId: { value: bigint };
  metrics: CountingMetrics;
  /** A coordinator over the same log and markers, as after a restart. */
  restart(): Promise<TransactionCoordinator>;
}

export async function transactionHarness(
  over: Partial<TransactionCoordinatorConfig> = {},
  options: Partial<TransactionCoordinatorOptions> & { start?: boolean } = {},
): Promise<Harness> {
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock();
  const log = (options.log as MemoryTransactionLog | undefined) ?? new MemoryTransactionLog();
  const markers = (options.markers as MemoryMarkerWriter | undefined) ?? new MemoryMarkerWriter();
  const config = defaultTransactionCoordinatorConfig(over);
  const existing = new Set<string>([
    partitionKey('topic', 0),
    partitionKey('topic', 1),
    partitionKey('other', 0),
  ]);
  const nextProducerId = { value: 1000n };
  const metrics = new CountingMetrics();
  const build = () =>
    new TransactionCoordinator({
      config,
      clock,
      logger: silentLogger,
      metrics,
      producerIds: { nextProducerId: () => nextProducerId.value++ },
      log,
      markers,
      partitions: {
        partitionExists: (topic, partition) =>
          topic === '__consumer_offsets' || existing.has(partitionKey(topic, partition)),
      },
      groupOffsetsPartition: (groupId): TopicPartition => ({
        topic: '__consumer_offsets',
        partition: groupId.length % 50,
      }),
      ...options,
    });
  const coordinator = build();
  if (options.start !== false) await coordinator.start();
  return {
    coordinator,
    clock,
    log,
    markers,
    config,
    existing,
    nextProducerId,
    metrics,
    async restart() {
      coordinator.stop();
      const next = build();
      await next.start();
      return next;
    },
  };
}
