// Hostile bytes over real frames: every truncation and random mutations of the golden frames that
// real clients sent. Decoding either succeeds or throws our DecodeError (never a RangeError, a
// TypeError, a hang or an allocation larger than the frame could describe).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, decodeRequestBody, parseRequestHeader } from '../src/index.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const RUNS = Number(process.env.TRIBUTARY_FUZZ_RUNS ?? 3000);
/** Far above what decoding a few hundred bytes takes; catches a runaway loop, not a slow machine. */
const MAX_DECODE_MS = 1000;

interface Golden {
  name: string;
  frame: Buffer;
  bodyOffset: number;
}

const goldens: Golden[] = readdirSync(GOLDEN_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(GOLDEN_DIR, d.name))
      .filter((f) => f.endsWith('.bin'))
      .map((f) => {
        const frame = readFileSync(join(GOLDEN_DIR, d.name, f));
        return { name: `${d.name}/${f}`, frame, bodyOffset: parseRequestHeader(frame).bodyOffset };
      }),
  );

/** The length of the longest array, string or byte string in a decoded value. */
function longestIn(value: unknown): number {
  let longest = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string' || Buffer.isBuffer(x)) longest = Math.max(longest, x.length);
    else if (Array.isArray(x)) {
      longest = Math.max(longest, x.length);
      stack.push(...x);
    } else if (x !== null && typeof x === 'object') stack.push(...Object.values(x));
  }
  return longest;
}

// The generated struct decoders turn whatever they catch into a DecodeError carrying the field path,
// so a RangeError or TypeError from a decoder bug would arrive dressed as one. These are V8's
// and Node's words for those errors; a DecodeError that repeats them is a bug surfacing, not bad
// input refused.
const NATIVE_ERROR =
  /The value of "|outside buffer bounds|outside the bounds|Cannot read propert|Cannot set propert|is not a function|is not iterable|Invalid array length|Invalid typed array length|Maximum call stack|Array buffer allocation/;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function decode(frame: Buffer): Outcome {
  try {
    const header = parseRequestHeader(frame);
    return { ok: true, value: decodeRequestBody(frame, header) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Decodes hostile bytes and checks the outcome is one the broker can handle. */
function decodeHostile(frame: Buffer): Outcome {
  const started = performance.now();
  const outcome = decode(frame);
  const elapsed = performance.now() - started;
  expect(elapsed, `decoding ${frame.length} bytes took ${elapsed} ms`).toBeLessThan(MAX_DECODE_MS);
  if (!outcome.ok) {
    if (!(outcome.error instanceof DecodeError)) throw outcome.error;
    expect(outcome.error.reason).not.toMatch(NATIVE_ERROR);
    return outcome;
  }
  // Every element, string or byte string costs at least a byte of the frame, so nothing decoded
  // can be longer than the frame (a length prefix that lies must fail, not allocate).
  expect(longestIn(outcome.value)).toBeLessThanOrEqual(frame.length);
  return outcome;
}

const golden = fc.constantFrom(...goldens);

/** A frame with some bytes overwritten, anywhere from `from` on. */
const overwritten = (from: (g: Golden) => number) =>
  golden.chain((g) =>
    fc
      .array(
        fc.record({
          at: fc.integer({ min: 0, max: Math.max(0, g.frame.length - 1 - from(g)) }),
          byte: fc.integer({ min: 0, max: 255 }),
        }),
        { minLength: 1, maxLength: 8 },
      )
      .map((edits) => {
        const frame = Buffer.from(g.frame);
        for (const e of edits) frame[from(g) + e.at] = e.byte;
        return frame;
      }),
  );

/** A frame where a length prefix could be: an int32 or a varint set to an extreme value. */
const lyingLength = golden.chain((g) =>
  fc
    .record({
      at: fc.integer({ min: 0, max: g.frame.length - 1 }),
      value: fc.constantFrom(
        [0x7f, 0xff, 0xff, 0xff],
        [0xff, 0xff, 0xff, 0xff],
        [0xff, 0xff, 0xff, 0xfe],
        [0x10, 0x00, 0x00, 0x00],
        [0x00, 0x10, 0x00, 0x00],
        [0x7f, 0xff],
        [0xff, 0xff, 0xff, 0xff, 0x0f],
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
      ),
    })
    .map(({ at, value }) => {
      const frame = Buffer.from(g.frame);
      for (let i = 0; i < value.length && at + i < frame.length; i++) frame[at + i] = value[i]!;
      return frame;
    }),
);

/** A frame with a run of bytes cut out or random bytes spliced in. */
const spliced = golden.chain((g) =>
  fc
    .record({
      at: fc.integer({ min: 0, max: g.frame.length }),
      cut: fc.integer({ min: 0, max: 16 }),
      insert: fc.uint8Array({ maxLength: 16 }),
    })
    .map(({ at, cut, insert }) =>
      Buffer.concat([g.frame.subarray(0, at), Buffer.from(insert), g.frame.subarray(at + cut)]),
    ),
);

describe('fuzzing the decoder with golden frames', () => {
  it('has frames to work on, and each decodes as captured', () => {
    expect(goldens.length).toBeGreaterThan(50);
    for (const g of goldens) expect(decode(g.frame).ok, g.name).toBe(true);
  });

  it('refuses every truncation of every frame with a DecodeError', () => {
    // Decoding a whole frame reads it to its last byte, and what it reads next depends only on what
    // it has read: cut anywhere, it must run out of bytes and say so.
    for (const g of goldens) {
      for (let n = 0; n < g.frame.length; n++) {
        const outcome = decodeHostile(g.frame.subarray(0, n));
        expect(outcome.ok, `${g.name} cut to ${n} bytes decoded`).toBe(false);
      }
    }
  });

  it('survives bytes overwritten anywhere', () => {
    fc.assert(
      fc.property(
        overwritten(() => 0),
        (frame) => {
          decodeHostile(frame);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('survives bytes overwritten in the body, where the API and version stay put', () => {
    fc.assert(
      fc.property(
        overwritten((g) => g.bodyOffset),
        (frame) => {
          decodeHostile(frame);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('survives lying length prefixes', () => {
    fc.assert(
      fc.property(lyingLength, (frame) => {
        decodeHostile(frame);
      }),
      { numRuns: RUNS },
    );
  });

  it('survives bytes cut out and spliced in', () => {
    fc.assert(
      fc.property(spliced, (frame) => {
        decodeHostile(frame);
      }),
      { numRuns: RUNS },
    );
  });
});
