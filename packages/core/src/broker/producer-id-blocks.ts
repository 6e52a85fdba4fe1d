import type { StorageAdapter } from '../storage/index.js';
import type { ProducerIdAllocator } from '../transactions/ports.js';

/** Producer ids reserved from storage at a time (Kafka's controller hands out blocks of 1,000). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/**
 * Hands out producer ids from blocks that storage reserves durably, so an id is never given twice,
 * across restarts and crashes (ids of a block not used up before a crash are skipped, as in Kafka).
 * Concurrent callers while a block is being fetched share one reservation.
 */
export class ProducerIdBlocks implements ProducerIdAllocator {
  private next = 0;
  private end = 0;
  private fetching: Promise<void> | null = null;

  constructor(
    private readonly storage: StorageAdapter,
    private readonly blockSize = PRODUCER_ID_BLOCK_SIZE,
  ) {}

  nextProducerId(): bigint | Promise<bigint> {
    if (this.next < this.end) return BigInt(this.next++);
    return this.fromNewBlock();
  }

  private async fromNewBlock(): Promise<bigint> {
    while (this.next >= this.end) {
      this.fetching ??= this.reserve();
      await this.fetching;
    }
    return BigInt(this.next++);
  }

  private async reserve(): Promise<void> {
    try {
      const first = await this.storage.allocateProducerIds(this.blockSize);
      this.next = first;
      this.end = first + this.blockSize;
    } finally {
      this.fetching = null;
    }
  }
}
