import { describe, expect, it } from 'vitest';
import type { StorageAdapter } from '../storage/index.js';
import { ProducerIdBlocks } from './producer-id-blocks.js';

/** Storage's producer id high mark, as an adapter keeps it durably. */
class IdStore {
  highMark = 0;
  async allocateProducerIds(count: number): Promise<number> {
    const first = this.highMark;
    this.highMark += count;
    return first;
  }
  get adapter(): StorageAdapter {
    return this as unknown as StorageAdapter;
  }
}

describe('ProducerIdBlocks', () => {
  it('hands out ids from storage blocks, one reservation for concurrent callers, a new block when one runs out', async () => {
    const store = new IdStore();
    let reservations = 0;
    const allocate = store.allocateProducerIds.bind(store);
    store.allocateProducerIds = (count: number) => {
      reservations++;
      return allocate(count);
    };
    const blocks = new ProducerIdBlocks(store.adapter, 3);
    const first = await Promise.all([blocks.nextProducerId(), blocks.nextProducerId()]);
    expect(reservations).toBe(1);
    const rest = [
      await blocks.nextProducerId(),
      await blocks.nextProducerId(),
      await blocks.nextProducerId(),
    ];
    expect(reservations).toBe(2);
    const ids = [...first, ...rest].map(Number);
    expect(new Set(ids).size).toBe(5);
    // A second allocator over the same storage (a restarted broker) never repeats an id.
    const again = new ProducerIdBlocks(store.adapter, 3);
    expect(ids).not.toContain(Number(await again.nextProducerId()));
  });

  it('fails the caller when storage cannot reserve, and tries again on the next call', async () => {
    const store = new IdStore();
    const allocate = store.allocateProducerIds.bind(store);
    let fail = true;
    store.allocateProducerIds = (count: number) =>
      fail ? Promise.reject(new Error('disk full')) : allocate(count);
    const blocks = new ProducerIdBlocks(store.adapter, 10);
    await expect(blocks.nextProducerId()).rejects.toThrow('disk full');
    fail = false;
    expect(typeof (await blocks.nextProducerId())).toBe('bigint');
  });
});
