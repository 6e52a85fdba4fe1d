import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, type ProducerSnapshot } from '../src/producer-snapshot.js';

const snapshot: ProducerSnapshot = {
  offset: 2 ** 53 - 10,
  producers: [
    {
      producerId: 2 ** 40 + 7,
      producerEpoch: 32_767,
      coordinatorEpoch: -1,
      lastTimestamp: -1,
      currentTxnFirstOffset: -1,
      batches: [],
    },
    {
      producerId: 0,
      producerEpoch: -1,
      coordinatorEpoch: 12,
      lastTimestamp: 1_796_000_000_000,
      currentTxnFirstOffset: 2 ** 53 - 20,
      batches: Array.from({ length: 5 }, (_, i) => ({
        firstSeq: 0x7fffffff - 4 + i,
        lastSeq: i,
        lastOffset: 2 ** 52 + i,
        offsetDelta: i,
        timestamp: 1_796_000_000_000 + i,
      })),
    },
  ],
  aborted: [
    { producerId: 3, firstOffset: 0, lastOffset: 9 },
    { producerId: 2 ** 50, firstOffset: 2 ** 53 - 30, lastOffset: 2 ** 53 - 11 },
  ],
};

describe('producer-state snapshot format', () => {
  it('round-trips producers, batches and aborted transactions, -1 and 2^53 - 1 range values included', () => {
    expect(decodeSnapshot(encodeSnapshot(snapshot))).toEqual(snapshot);
    expect(decodeSnapshot(encodeSnapshot({ offset: 0, producers: [], aborted: [] }))).toEqual({
      offset: 0,
      producers: [],
      aborted: [],
    });
  });

  it('refuses a flipped byte, an unknown version, a cut file and trailing bytes', () => {
    const bytes = encodeSnapshot(snapshot);
    const flipped = Buffer.from(bytes);
    flipped[40]! ^= 1;
    expect(decodeSnapshot(flipped)).toBe('CRC mismatch');
    const version = Buffer.from(bytes);
    version.writeInt16BE(2, 0);
    expect(decodeSnapshot(version)).toBe('unknown version 2');
    expect(decodeSnapshot(bytes.subarray(0, 10))).toMatch(/too short/);
    // A cut or extended file no longer matches its CRC either.
    expect(decodeSnapshot(bytes.subarray(0, bytes.length - 4))).toBe('CRC mismatch');
    expect(decodeSnapshot(Buffer.concat([bytes, Buffer.alloc(2)]))).toBe('CRC mismatch');
  });
});
