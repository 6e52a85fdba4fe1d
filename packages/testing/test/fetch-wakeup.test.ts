import { ApiKey, createProduceRequest, type FetchResponse, type ProduceResponse } from '@tributary/codec';
import { buildRecordBatch, iterateRecordBatches } from '@tributary/codec/records';
import type { StorageAdapter } from '@tributary/core/storage';
import { MemoryStorage } from '@tributary/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { fetchRequest } from './consume.js';
import { WireClient } from './wire.js';

/**
 * Memory storage whose next read, once armed, returns what it found and then waits to be
 * released: the window in which a long-polling fetch has read nothing and is not yet waiting.
 */
function gatedStorage(): { storage: StorageAdapter; arm(): { reading: Promise<void>; release(): void } } {
  const inner = new MemoryStorage();
  let gate: { reached(): void; released: Promise<void> } | null = null;
  const storage = new Proxy(inner, {
    get(target, key) {
      if (key === 'read') {
        return async (...args: Parameters<StorageAdapter['read']>) => {
          const result = await target.read(...args);
          const g = gate;
          gate = null;
          if (g !== null) {
            g.reached();
            await g.released;
          }
          return result;
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    storage,
    arm() {
      let reached!: () => void;
      let release!: () => void;
      const reading = new Promise<void>((r) => {
        reached = r;
      });
      const released = new Promise<void>((r) => {
        release = r;
      });
      gate = { reached, released };
      return { reading, release };
    },
  };
}

let broker: TestBroker;
let gated: ReturnType<typeof gatedStorage>;

beforeAll(async () => {
  gated = gatedStorage();
  broker = await startTestBroker({ storage: gated.storage });
  await broker.broker.topics.ensure('wakeup', 1);
});
afterAll(async () => {
  await broker?.close();
});

describe('a long-polling fetch', () => {
  it('answers an append that lands between its read and its wait at once, not at maxWaitMs', async () => {
    const consumer = await WireClient.connect(broker.port);
    const producer = await WireClient.connect(broker.port);
    try {
      const { reading, release } = gated.arm();
      const started = Date.now();
      const pending = consumer.send<FetchResponse>(
        ApiKey.Fetch,
        12,
        fetchRequest('wakeup', 0, 0n, { maxWaitMs: 10_000, minBytes: 1 }),
      );
      // The fetch has read the empty partition; the append lands before it starts waiting.
      await reading;
      const produced = await producer.send<ProduceResponse>(
        ApiKey.Produce,
        9,
        createProduceRequest({
          acks: 1,
          timeoutMs: 5000,
          topicData: [
            {
              name: 'wakeup',
              topicId: Buffer.alloc(16),
              partitionData: [
                {
                  index: 0,
                  records: buildRecordBatch({ records: [{ key: null, value: Buffer.from('x') }] }),
                },
              ],
            },
          ],
        }),
      );
      expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
      release();
      const res = await pending;
      // Missing the append would hold the fetch for its whole 10 s wait.
      expect(Date.now() - started).toBeLessThan(5_000);
      const records = res.responses[0]!.partitions[0]!.records!;
      const values = [...iterateRecordBatches(records)].flatMap((b) =>
        b.records.map((r) => r.value!.toString()),
      );
      expect(values).toEqual(['x']);
    } finally {
      consumer.close();
      producer.close();
    }
  });
});
