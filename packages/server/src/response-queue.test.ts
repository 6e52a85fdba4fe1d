import { describe, expect, it } from 'vitest';
import { ResponseQueue } from './response-queue.js';

const bytes = (n: number) => Buffer.alloc(n, n);

describe('ResponseQueue', () => {
  it('releases responses in reservation order whatever order they complete in', () => {
    const q = new ResponseQueue<number>();
    const [a, b, c] = [q.reserve(1), q.reserve(2), q.reserve(3)];
    q.complete(c, bytes(3));
    q.complete(b, bytes(2));
    expect(q.takeReady()).toEqual({ slots: [], close: false });
    expect(q.waitingBytes).toBe(5);
    q.complete(a, bytes(1));
    expect(q.takeReady().slots.map((s) => s.meta)).toEqual([1, 2, 3]);
    expect(q.size).toBe(0);
    expect(q.waitingBytes).toBe(0);
  });

  it('releases a slot without a response (acks=0) in its place', () => {
    const q = new ResponseQueue<string>();
    const [a, b] = [q.reserve('a'), q.reserve('b')];
    q.complete(b, bytes(4));
    q.complete(a, null);
    const { slots } = q.takeReady();
    expect(slots.map((s) => [s.meta, s.frame === null ? null : s.bytes])).toEqual([
      ['a', null],
      ['b', 4],
    ]);
  });

  it('stops at the first pending slot', () => {
    const q = new ResponseQueue<number>();
    const [a, , c] = [q.reserve(1), q.reserve(2), q.reserve(3)];
    q.complete(a, bytes(1));
    q.complete(c, bytes(3));
    expect(q.takeReady().slots.map((s) => s.meta)).toEqual([1]);
    expect(q.size).toBe(2);
    expect(q.waitingBytes).toBe(3);
  });

  it('answers a slot once', () => {
    const q = new ResponseQueue<number>();
    const a = q.reserve(1);
    q.complete(a, bytes(1));
    q.complete(a, bytes(9));
    expect(q.waitingBytes).toBe(1);
    expect(q.takeReady().slots[0]!.frame).toEqual([bytes(1)]);
  });

  it('closes at a slot after the responses before it, never releasing later ones', () => {
    const q = new ResponseQueue<number>();
    const [a, b, c] = [q.reserve(1), q.reserve(2), q.reserve(3)];
    q.complete(c, bytes(3));
    q.closeAt(b);
    expect(q.waitingBytes).toBe(3);
    expect(q.takeReady()).toEqual({ slots: [], close: false });
    q.complete(a, bytes(1));
    const ready = q.takeReady();
    expect(ready.slots.map((s) => s.meta)).toEqual([1]);
    expect(ready.close).toBe(true);
  });

  it('closes after the last slot once all before it are out', () => {
    const q = new ResponseQueue<number>();
    const a = q.reserve(1);
    q.closeAfterLast();
    expect(q.takeReady().close).toBe(false);
    q.complete(a, null);
    expect(q.takeReady()).toMatchObject({ close: true });
    expect(new ResponseQueue().takeReady().close).toBe(false);
  });
});
