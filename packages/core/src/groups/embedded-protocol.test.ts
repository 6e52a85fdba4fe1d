import { encodeConsumerProtocolSubscription } from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { decodeAssignment, decodeSubscription, encodeAssignment } from './embedded-protocol.js';

const withVersion = (v: number, body: Buffer) => Buffer.concat([Buffer.from([0, v]), body]);

describe('the embedded consumer protocol', () => {
  it('reads a subscription with owned partitions and rack (v3)', () => {
    const bytes = withVersion(
      3,
      encodeConsumerProtocolSubscription(
        {
          topics: ['a', 'b'],
          userData: null,
          ownedPartitions: [{ topic: 'a', partitions: [1, 2] }],
          generationId: 4,
          rackId: 'r1',
        },
        3,
      ),
    );
    expect(decodeSubscription(bytes)).toEqual({
      topics: ['a', 'b'],
      ownedPartitions: [{ topic: 'a', partitions: [1, 2] }],
      rackId: 'r1',
    });
  });

  it('reads a version-0 body labelled version 1, as kafkajs sends it', () => {
    const v0 = encodeConsumerProtocolSubscription(
      { topics: ['t'], userData: Buffer.alloc(0), ownedPartitions: [], generationId: -1, rackId: null },
      0,
    );
    expect(decodeSubscription(withVersion(1, v0))).toEqual({
      topics: ['t'],
      ownedPartitions: [],
      rackId: null,
    });
    expect(decodeSubscription(Buffer.from([0xff, 0xff]))).toBeNull();
    expect(decodeSubscription(Buffer.alloc(1))).toBeNull();
  });

  it('writes an assignment at version 0 and reads it back; empty bytes are no assignment', () => {
    const bytes = encodeAssignment([{ topic: 't', partitions: [0, 3] }]);
    expect(bytes.readInt16BE(0)).toBe(0);
    expect(decodeAssignment(bytes)).toEqual({
      partitions: [{ topic: 't', partitions: [0, 3] }],
      userData: null,
    });
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ partitions: [], userData: null });
  });
});
