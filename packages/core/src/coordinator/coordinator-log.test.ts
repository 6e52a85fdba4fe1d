import { RecordBatchScanner } from '@tributary/codec/records';
import { describe, expect, it } from 'vitest';
import { defaultBrokerConfig } from '../broker/config.js';
import { TopicRegistry } from '../broker/topics.js';
import { ManualClock, silentLogger } from '../services.js';
import { LogStorage } from '../test-support/log-storage.js';
import { CoordinatorLog, type CoordinatorRecord } from './coordinator-log.js';

async function setup() {
  const storage = new LogStorage();
  const config = defaultBrokerConfig();
  const topics = new TopicRegistry(storage, config);
  await topics.load();
  const log = new CoordinatorLog({
    storage,
    topics,
    clock: new ManualClock(),
    logger: silentLogger,
    topic: '__test_state',
    partitions: 3,
    configs: { 'cleanup.policy': 'compact' },
  });
  await log.open();
  return { log, storage, topics };
}

const rec = (key: string, value: string | null = `v-${key}`): CoordinatorRecord => ({
  key: Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
});

/** Loads a partition and returns what took effect, as `key@offset` in order. */
async function load(log: CoordinatorLog, partition: number) {
  const applied: string[] = [];
  const result = await log.load(partition, {
    apply: (r) => applied.push(`${r.key.toString()}@${r.offset}`),
  });
  return { applied, result };
}

const P1 = { producerId: 1001, producerEpoch: 3 };
const P2 = { producerId: 2002, producerEpoch: 0 };

describe('coordinator log replay', () => {
  it('applies non-transactional records in log order, tombstones included', async () => {
    const { log } = await setup();
    await log.append(0, [rec('a'), rec('b')]);
    await log.append(0, [rec('a', null)]);
    const { applied, result } = await load(log, 0);
    expect(applied).toEqual(['a@0', 'b@1', 'a@2']);
    expect(result).toMatchObject({ partition: 0, applied: 3 });
    expect(result.pending.size).toBe(0);
  });

  it("applies a transaction's records, with their own offsets, only when its COMMIT marker is read", async () => {
    const { log } = await setup();
    await log.append(0, [rec('before')]);
    await log.append(0, [rec('t1'), rec('t2')], P1);
    await log.append(0, [rec('between')]);
    await log.appendEndMarker(0, P1, true, 0);
    await log.append(0, [rec('after')]);
    const { applied, result } = await load(log, 0);
    expect(applied).toEqual(['before@0', 'between@3', 't1@1', 't2@2', 'after@5']);
    expect(result.pending.size).toBe(0);
  });

  it('discards the records of an aborted transaction', async () => {
    const { log } = await setup();
    await log.append(0, [rec('t1')], P1);
    await log.append(0, [rec('t2')], P1);
    await log.appendEndMarker(0, P1, false, 0);
    await log.append(0, [rec('plain')]);
    const { applied, result } = await load(log, 0);
    expect(applied).toEqual(['plain@3']);
    expect(result.pending.size).toBe(0);
  });

  it('keeps a transaction without a marker pending at the end of the partition, and exposes it', async () => {
    const { log } = await setup();
    await log.append(0, [rec('plain')]);
    await log.append(0, [rec('t1')], P1);
    await log.append(0, [rec('t2', null)], P1);
    const { applied, result } = await load(log, 0);
    expect(applied).toEqual(['plain@0']);
    const pending = result.pending.get(P1.producerId);
    expect(pending).toMatchObject({
      producerId: P1.producerId,
      producerEpoch: P1.producerEpoch,
      firstOffset: 1,
    });
    expect(pending!.records.map((r) => [r.key.toString(), r.value?.toString() ?? null, r.offset])).toEqual([
      ['t1', 'v-t1', 1],
      ['t2', null, 2],
    ]);
    expect(log.pendingTransactions(0).get(P1.producerId)).toBe(pending);
  });

  it("resolves interleaved producers' transactions each by its own marker", async () => {
    const { log } = await setup();
    await log.append(0, [rec('p1-a')], P1);
    await log.append(0, [rec('p2-a')], P2);
    await log.append(0, [rec('p1-b')], P1);
    await log.append(0, [rec('p2-b')], P2);
    await log.appendEndMarker(0, P2, true, 0);
    await log.append(0, [rec('p2-c')], P2);
    await log.appendEndMarker(0, P1, false, 0);
    const { applied, result } = await load(log, 0);
    // P2's first transaction is committed, P1's aborted; P2's second one is still open.
    expect(applied).toEqual(['p2-a@1', 'p2-b@3']);
    expect([...result.pending.keys()]).toEqual([P2.producerId]);
    expect(result.pending.get(P2.producerId)!.records.map((r) => r.key.toString())).toEqual(['p2-c']);
    expect(result.pending.get(P2.producerId)!.firstOffset).toBe(5);
  });

  it("a marker ends only its producer's transaction in its own partition", async () => {
    const { log } = await setup();
    await log.append(0, [rec('p1-on-0')], P1);
    await log.append(1, [rec('p1-on-1')], P1);
    await log.appendEndMarker(1, P1, true, 0);
    await log.appendEndMarker(0, P2, true, 0);
    const zero = await load(log, 0);
    expect(zero.applied).toEqual([]);
    expect([...zero.result.pending.keys()]).toEqual([P1.producerId]);
    const one = await load(log, 1);
    expect(one.applied).toEqual(['p1-on-1@0']);
    expect(one.result.pending.size).toBe(0);
  });

  it('skips a record its handler cannot apply and goes on', async () => {
    const { log } = await setup();
    await log.append(0, [rec('good-1'), rec('bad'), rec('good-2')]);
    const applied: string[] = [];
    const result = await log.load(0, {
      apply: (r) => {
        if (r.key.toString() === 'bad') throw new Error('undecodable');
        applied.push(r.key.toString());
      },
    });
    expect(applied).toEqual(['good-1', 'good-2']);
    expect(result.applied).toBe(2);
  });
});

describe('coordinator log partitions', () => {
  it('loads and unloads one partition at a time', async () => {
    const { log } = await setup();
    await log.append(1, [rec('t')], P1);
    expect(log.isLoaded(1)).toBe(false);
    await load(log, 1);
    expect(log.isLoaded(1)).toBe(true);
    expect(log.isLoaded(0)).toBe(false);
    expect(log.pendingTransactions(1).size).toBe(1);
    log.unload(1);
    expect(log.isLoaded(1)).toBe(false);
    expect(log.pendingTransactions(1).size).toBe(0);
    // A later load rebuilds the same state from the log.
    await log.appendEndMarker(1, P1, true, 0);
    const again = await load(log, 1);
    expect(again.applied).toEqual(['t@0']);
  });

  it("writes a transactional batch with the producer's id and epoch, and markers as control batches", async () => {
    const { log, storage, topics } = await setup();
    expect(await log.append(2, [rec('x'), rec('y')], P1)).toBe(0);
    expect(await log.appendEndMarker(2, P1, true, 7)).toBe(2);
    expect(await log.append(2, [rec('z')])).toBe(3);
    const id = topics.byName('__test_state')!.id;
    const headers = storage.logs.get(id)![2]!.batches.map((b) => {
      const scan = new RecordBatchScanner(b);
      scan.next();
      return {
        producerId: scan.producerIdNumber,
        producerEpoch: scan.producerEpoch,
        transactional: scan.transactional,
        control: scan.control,
      };
    });
    expect(headers).toEqual([
      { producerId: P1.producerId, producerEpoch: P1.producerEpoch, transactional: true, control: false },
      { producerId: P1.producerId, producerEpoch: P1.producerEpoch, transactional: true, control: true },
      { producerId: -1, producerEpoch: -1, transactional: false, control: false },
    ]);
  });

  it('creates its topic with the configs it is given', async () => {
    const { topics } = await setup();
    const topic = topics.byName('__test_state')!;
    expect(topic.partitionCount).toBe(3);
    expect(topic.configs).toEqual({ 'cleanup.policy': 'compact' });
  });
});
