import { ManualClock, MemoryClusterStore, partitionResource } from '@tributary/core';
import { appendInput, makeBatch, makeTopic } from '@tributary/core/testing';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/index.js';

const input = (batch: Buffer, ownerEpoch?: number) => ({ ...appendInput(batch), ownerEpoch });

describe('MemoryStorage shared by brokers', () => {
  it('refuses an append whose owner epoch is not the partition’s current one, and stores nothing', async () => {
    const clock = new ManualClock();
    const cluster = new MemoryClusterStore(clock);
    const storage = new MemoryStorage({ ownership: cluster });
    const topic = makeTopic('shared', 2);
    await storage.createTopic(topic);
    const id = topic.topicId.toString('base64url');
    await cluster.register({ node: { nodeId: 1, host: 'h', port: 1, rack: null }, incarnation: 'a' }, 5000);
    await cluster.register({ node: { nodeId: 2, host: 'h', port: 2, rack: null }, incarnation: 'b' }, 5000);
    expect(await cluster.claim(partitionResource('shared', 0), 1, 'a')).toEqual({ nodeId: 1, epoch: 1 });
    expect((await storage.append(id, 0, input(makeBatch(2), 1))).status).toBe('appended');
    // Broker 2 takes the partition over: broker 1's next append is refused.
    await cluster.claim(partitionResource('shared', 0), 2, 'b');
    expect(await storage.append(id, 0, input(makeBatch(2), 1))).toMatchObject({
      status: 'not-owner',
      baseOffset: -1,
    });
    expect((await storage.append(id, 0, input(makeBatch(2), 2))).status).toBe('appended');
    expect((await storage.offsets(id, 0)).highWatermark).toBe(4);
    // Without an owner epoch (one broker alone) nothing is checked.
    expect((await storage.append(id, 1, input(makeBatch(1)))).status).toBe('appended');
  });
});
