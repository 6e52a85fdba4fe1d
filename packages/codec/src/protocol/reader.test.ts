import { describe, expect, it } from 'vitest';
import {
  createFetchResponse,
  createFetchResponseFetchableTopicResponse,
  createFetchResponsePartitionData,
  decodeFetchResponse,
  encodeFetchResponse,
} from '../generated/clients/fetch-response.js';
import { DecodeError } from './errors.js';
import { Reader } from './reader.js';

const withLength = (bytes: Buffer): Buffer => {
  const b = Buffer.alloc(2 + bytes.length);
  b.writeInt16BE(bytes.length, 0);
  bytes.copy(b, 2);
  return b;
};

describe('Reader strings', () => {
  it('decodes ASCII and UTF-8 of every length around the short-string paths', () => {
    for (let len = 0; len <= 40; len++) {
      const ascii = Array.from({ length: len }, (_, i) => String.fromCharCode(0x21 + ((i * 7) % 94))).join(
        '',
      );
      expect(new Reader(withLength(Buffer.from(ascii))).string()).toBe(ascii);
      // A non-ASCII character at each position sends the string to the UTF-8 decoder.
      for (let at = 0; at < len; at++) {
        const s = `${ascii.slice(0, at)}é${ascii.slice(at + 1)}`;
        expect(new Reader(withLength(Buffer.from(s))).string()).toBe(s);
      }
    }
  });

  it('turns invalid UTF-8 into replacement characters as Buffer#toString does', () => {
    for (const bytes of [[0xff], [0x61, 0x80, 0x62], [0x61, 0x62, 0x63, 0x64, 0x65, 0xc3], [0xe2, 0x82]]) {
      const b = Buffer.from(bytes);
      expect(new Reader(withLength(b)).string()).toBe(b.toString('utf8'));
    }
  });

  it('reads a string inside a larger buffer without reading past its length', () => {
    const b = Buffer.concat([Buffer.from([0xaa]), withLength(Buffer.from('orders')), Buffer.from('xyz')]);
    const r = new Reader(b, 1);
    expect(r.string()).toBe('orders');
    expect(r.offset).toBe(9);
  });
});

describe('Reader byte fields', () => {
  it('returns Buffers that share the frame memory, also for a frame inside a larger buffer', () => {
    const backing = Buffer.alloc(64);
    const frame = backing.subarray(10, 40);
    frame.writeInt32BE(5, 0);
    frame.write('hello', 4);
    const bytes = new Reader(frame).bytes();
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(Object.getPrototypeOf(bytes)).toBe(Buffer.prototype);
    expect(bytes).toEqual(Buffer.from('hello'));
    frame[4] = 0x6a;
    expect(bytes.toString()).toBe('jello');
  });

  it('refuses a byte field that runs past the end, without looking past `end`', () => {
    const b = Buffer.alloc(12);
    b.writeInt32BE(6, 0);
    expect(() => new Reader(b, 0, 8).bytes()).toThrow(DecodeError);
  });
});

describe('Reader int64', () => {
  it('agrees with readBigInt64BE on every path: small, constants, within 2^53, beyond', () => {
    const edges = [0n, 1n, -1n, -2n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 31n)];
    edges.push(-(2n ** 31n) - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n), -(2n ** 53n) - 1n);
    edges.push(2n ** 63n - 1n, -(2n ** 63n), 1_700_000_000_123n, -1_700_000_000_123n);
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 2000; i++) {
      x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
      edges.push(BigInt.asIntN(64, x >> BigInt(i % 64)));
    }
    const b = Buffer.alloc(8);
    for (const v of edges) {
      b.writeBigInt64BE(v, 0);
      expect(new Reader(b).int64()).toBe(b.readBigInt64BE(0));
    }
  });
});

describe('Reader int32 arrays', () => {
  it('reads the elements with one bounds check and refuses a short array', () => {
    const b = Buffer.alloc(12);
    b.writeInt32BE(-1, 0);
    b.writeInt32BE(2147483647, 4);
    b.writeInt32BE(3, 8);
    const r = new Reader(b);
    expect(r.int32Array(3)).toEqual([-1, 2147483647, 3]);
    expect(r.offset).toBe(12);
    expect(() => new Reader(b, 4).int32Array(3)).toThrow(/int32 array needs 12 bytes, 8 left/);
  });

  it('refuses an array length beyond the bytes left', () => {
    const b = Buffer.alloc(8);
    b.writeInt32BE(3, 0);
    expect(() => new Reader(b).arrayLength(4)).toThrow(/array length 3 exceeds the 4 bytes left/);
    b.writeInt32BE(-2, 0);
    expect(() => new Reader(b).arrayLength(4)).toThrow(/negative length -2/);
  });
});

describe('decoded defaults', () => {
  it('shares one frozen default for a struct field the version lacks, never a created one', () => {
    const message = createFetchResponse({
      responses: [
        createFetchResponseFetchableTopicResponse({
          topic: 't',
          partitions: [
            createFetchResponsePartitionData({ partitionIndex: 0 }),
            createFetchResponsePartitionData({ partitionIndex: 1 }),
          ],
        }),
      ],
    });
    const [a, b] = decodeFetchResponse(encodeFetchResponse(message, 11), 11).responses[0]!.partitions;
    expect(a!.currentLeader).toEqual(message.responses[0]!.partitions[0]!.currentLeader);
    expect(a!.currentLeader).toBe(b!.currentLeader);
    expect(Object.isFrozen(a!.currentLeader)).toBe(true);
    expect(() => {
      a!.currentLeader.leaderEpoch = 3;
    }).toThrow(TypeError);
    expect(Object.isFrozen(createFetchResponsePartitionData().currentLeader)).toBe(false);
  });
});
