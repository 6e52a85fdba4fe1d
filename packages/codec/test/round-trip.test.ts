import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../src/generated/ir.js';
import {
  encodeChunks,
  encodeRequestFrame,
  encodeRequestFrameChunks,
  encodeResponseFrame,
  encodeResponseFrameChunks,
} from '../src/protocol/framing.js';
import { Reader } from '../src/protocol/reader.js';
import { Writer } from '../src/protocol/writer.js';
import { messageArbitrary, versionsOf } from './arbitraries.js';
import { createStruct, descriptorOf } from './messages.js';

// Every message of every spec group, at every valid version: decode(encode(x)) equals x, the size
// function predicts the encoded length exactly, and chunked encoding (byte fields spliced in by
// reference) concatenates to exactly the same bytes, for the body and for whole frames.
const RUNS = Number(process.env.TRIBUTARY_ROUND_TRIP_RUNS ?? 25);

describe('round trip of every message at every version', () => {
  const live = MESSAGES.filter((m) => m.validVersions !== null);
  it('covers every spec with versions', () => {
    expect(live.length).toBeGreaterThan(260);
    const pairs = live.filter((m) => m.type === 'request').reduce((n, m) => n + versionsOf(m).length, 0);
    // The README of the 4.3.1 specs counts 302 (API, version) pairs.
    expect(pairs).toBe(302);
  });

  for (const message of live) {
    const descriptor = descriptorOf(message.name);
    it(`${message.name} ${message.validVersions![0]}-${message.validVersions![1]}`, () => {
      for (const version of versionsOf(message)) {
        fc.assert(
          fc.property(messageArbitrary(message, version, createStruct), (value) => {
            const size = descriptor.size(value, version);
            const w = Writer.alloc(size);
            descriptor.write(w, value, version);
            expect(w.offset).toBe(size);
            const r = new Reader(w.buf);
            const decoded = descriptor.read(r, version);
            expect(r.offset).toBe(size);
            expect(decoded).toEqual(value);
          }),
          { numRuns: RUNS },
        );
        // Thresholds from 1 byte up, so that random byte fields (up to 40 bytes) are sometimes
        // spliced and sometimes copied within one message.
        fc.assert(
          fc.property(
            messageArbitrary(message, version, createStruct),
            fc.integer({ min: 1, max: 48 }),
            (value, threshold) => {
              const whole = Writer.alloc(descriptor.size(value, version));
              descriptor.write(whole, value, version);
              const chunks = encodeChunks(descriptor, value, version, threshold);
              expect(Buffer.concat(chunks)).toEqual(whole.buf);
              if (chunks.length > 1) for (const c of chunks) expect(c.length).toBeGreaterThan(0);
              if (message.type === 'request') {
                const frame = encodeRequestFrame(descriptor, version, 7, 'c', value);
                const parts = encodeRequestFrameChunks(descriptor, version, 7, 'c', value, threshold);
                expect(Buffer.concat(parts)).toEqual(frame);
              } else if (message.type === 'response') {
                const frame = encodeResponseFrame(descriptor, version, 7, value);
                const parts = encodeResponseFrameChunks(descriptor, version, 7, value, threshold);
                expect(Buffer.concat(parts)).toEqual(frame);
              }
            },
          ),
          { numRuns: RUNS },
        );
      }
    });
  }
});

describe('defaults', () => {
  it('a created message round-trips at every version', () => {
    for (const message of MESSAGES.filter((m) => m.validVersions !== null)) {
      const d = descriptorOf(message.name);
      for (const version of versionsOf(message)) {
        const value = d.create();
        const w = Writer.alloc(d.size(value, version));
        d.write(w, value, version);
        expect(d.read(new Reader(w.buf), version)).toEqual(value);
      }
    }
  });
});
