// Generates modules from small specs written for these tests, loads them, and checks the bytes
// against encodings worked out by hand from Kafka's wire rules.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitMessage } from '../src/emit-message.js';
import { parseSpec } from '../src/spec.js';

// Inside the codec's src so that the generated '../../protocol/runtime.js' import resolves.
const dir = resolve(import.meta.dirname, `../../codec/src/.codegen-test-${process.pid}`);

const FEATURES = {
  name: 'FeatureMessage',
  type: 'data',
  validVersions: '0-2',
  flexibleVersions: '1+',
  fields: [
    { name: 'Id', type: 'int32', versions: '0+' },
    { name: 'Name', type: 'string', versions: '0+', nullableVersions: '1+' },
    {
      name: 'Inner',
      type: 'InnerStruct',
      versions: '0+',
      nullableVersions: '0+',
      default: 'null',
      fields: [{ name: 'V', type: 'int16', versions: '0+' }],
    },
    { name: 'Ids', type: '[]int32', versions: '0+' },
    { name: 'Label', type: 'string', versions: '2+', flexibleVersions: 'none' },
    { name: 'Extra', type: 'int64', versions: '1+', taggedVersions: '1+', tag: 0, default: '0x10' },
    {
      name: 'Ref',
      type: 'uuid',
      versions: '1+',
      taggedVersions: '1+',
      tag: 1,
      default: 'AAAAAAAAAAAAAAAAAAAAAQ',
    },
    { name: 'Gone', type: 'int32', versions: '0', default: '7' },
    { name: 'Soft', type: 'int32', versions: '0', ignorable: true },
  ],
};

// biome-ignore lint/suspicious/noExplicitAny: the module is generated at test time
let m: any;

beforeAll(async () => {
  mkdirSync(join(dir, 'test'), { recursive: true });
  const spec = parseSpec(JSON.stringify(FEATURES), 'test/FeatureMessage.json', 'test');
  writeFileSync(join(dir, 'test/feature-message.ts'), emitMessage(spec, 'test specs'));
  m = await import(join(dir, 'test/feature-message.ts'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (b: Buffer): string => b.toString('hex');

describe('generated code follows Kafka wire rules', () => {
  it('classic v0: int16-prefixed string, nullable struct marker, int32 array count', () => {
    const x = m.createFeatureMessage({ id: 1, name: 'ab', ids: [7], gone: 7 });
    expect(hex(m.encodeFeatureMessage(x, 0))).toBe(
      `00000001` + `0002` + `6162` + `ff` + `00000001` + `00000007` + `00000007` + `00000000`,
    );
  });

  it('flexible v1: compact strings and arrays, present struct marker, empty tag section', () => {
    const x = m.createFeatureMessage({
      id: 1,
      name: 'ab',
      inner: m.createFeatureMessageInnerStruct({ v: 5 }),
      ids: [7],
    });
    // inner: marker 01, int16, its own empty tag section 00
    expect(hex(m.encodeFeatureMessage(x, 1))).toBe(
      `00000001` + `03` + `6162` + `01` + `0005` + `00` + `02` + `00000007` + `00`,
    );
    expect(m.decodeFeatureMessage(m.encodeFeatureMessage(x, 1), 1)).toEqual(x);
  });

  it('writes non-default tagged fields in tag order with their sizes, and reads them back', () => {
    const ref = Buffer.alloc(16, 0xab);
    const x = m.createFeatureMessage({ name: null, extra: 1n, ref });
    const bytes = m.encodeFeatureMessage(x, 1);
    expect(hex(bytes)).toBe(
      `00000000` + `00` + `ff` + `01` + `02` + `00` + `08` + `0000000000000001` + `01` + `10` + hex(ref),
    );
    expect(m.decodeFeatureMessage(bytes, 1)).toEqual(x);
  });

  it('keeps unknown tags and writes them back between known ones in tag order', () => {
    const x = m.createFeatureMessage({
      extra: 2n,
      unknownTaggedFields: [
        { tag: 9, data: Buffer.from([0xaa]) },
        { tag: 5, data: Buffer.from([0xbb, 0xcc]) },
      ],
    });
    const bytes = m.encodeFeatureMessage(x, 1);
    expect(
      hex(bytes).endsWith(
        `03` + `00` + `08` + `0000000000000002` + `05` + `02` + `bbcc` + `09` + `01` + `aa`,
      ),
    ).toBe(true);
    const back = m.decodeFeatureMessage(bytes, 1);
    expect(back.unknownTaggedFields).toEqual([
      { tag: 5, data: Buffer.from([0xbb, 0xcc]) },
      { tag: 9, data: Buffer.from([0xaa]) },
    ]);
  });

  it('uses the field-level flexibleVersions override: a classic string in a flexible version', () => {
    const x = m.createFeatureMessage({ label: 'xyz' });
    expect(hex(m.encodeFeatureMessage(x, 2))).toBe(
      `00000000` + `01` + `ff` + `01` + `0003` + `78797a` + `00`,
    );
  });

  it('fills defaults for fields a version lacks, including hex and uuid defaults', () => {
    const back = m.decodeFeatureMessage(Buffer.from(`00000000` + `01` + `ff` + `01` + `00`, 'hex'), 1);
    expect(back.extra).toBe(16n);
    expect(hex(back.ref)).toBe('00000000000000000000000000000001');
    expect(back.gone).toBe(7);
  });

  it('refuses a non-default value for a field the version lacks, unless ignorable', () => {
    expect(() => m.encodeFeatureMessage(m.createFeatureMessage({ gone: 8 }), 1)).toThrow(
      /gone cannot be non-default/,
    );
    expect(() => m.encodeFeatureMessage(m.createFeatureMessage({ soft: 8 }), 1)).not.toThrow();
    expect(() => m.encodeFeatureMessage(m.createFeatureMessage({ label: 'x' }), 1)).toThrow(/label/);
  });

  it('refuses null where the version cannot carry it, and versions outside the spec', () => {
    expect(() => m.encodeFeatureMessage(m.createFeatureMessage({ name: null }), 0)).toThrow(
      /cannot be null at version 0/,
    );
    expect(() => m.encodeFeatureMessage(m.createFeatureMessage(), 3)).toThrow(/no version 3/);
    expect(() => m.decodeFeatureMessage(Buffer.alloc(20), 3)).toThrow(/no version 3/);
  });

  it('names the failing field path and offset in decode errors', () => {
    // v1 with a tag section claiming more bytes than exist.
    const bad = Buffer.from(`00000001` + `03` + `6162` + `ff` + `01` + `01` + `00` + `08` + `0000`, 'hex');
    expect(() => m.decodeFeatureMessage(bad, 1)).toThrow(/tagged field 0 of 8 bytes runs past the end/);
    const truncated = Buffer.from(`00000001` + `05` + `61`, 'hex');
    expect(() => m.decodeFeatureMessage(truncated, 1)).toThrow(
      /^name: compact string needs 4 bytes, 1 left at offset 5$/,
    );
    const hugeArray = Buffer.from(`00000001` + `0000` + `ff` + `7fffffff`, 'hex');
    expect(() => m.decodeFeatureMessage(hugeArray, 0)).toThrow(/ids: array length 2147483647 exceeds/);
  });
});

// Byte fields in every position the spliced-size function must mirror: fixed, nullable, in structs
// of arrays, in a struct some versions lack, as array elements, and tagged.
const BYTES = {
  name: 'BytesMessage',
  type: 'data',
  validVersions: '0-2',
  flexibleVersions: '1+',
  fields: [
    { name: 'Blob', type: 'bytes', versions: '0+' },
    { name: 'Maybe', type: 'bytes', versions: '1+', nullableVersions: '1+' },
    {
      name: 'Parts',
      type: '[]Part',
      versions: '0+',
      fields: [
        { name: 'Id', type: 'int32', versions: '0+' },
        { name: 'Data', type: 'records', versions: '0+', nullableVersions: '0+' },
      ],
    },
    {
      name: 'Later',
      type: 'LaterStruct',
      versions: '2+',
      fields: [{ name: 'Data', type: 'bytes', versions: '2+' }],
    },
    { name: 'Blobs', type: '[]bytes', versions: '0+' },
    { name: 'Tagged', type: 'bytes', versions: '1+', taggedVersions: '1+', tag: 0 },
  ],
};

describe('chunked encoding of generated messages', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the module is generated at test time
  let b: any;
  // biome-ignore lint/suspicious/noExplicitAny: loaded beside the generated module
  let framing: any;
  beforeAll(async () => {
    const spec = parseSpec(JSON.stringify(BYTES), 'test/BytesMessage.json', 'test');
    writeFileSync(join(dir, 'test/bytes-message.ts'), emitMessage(spec, 'test specs'));
    b = await import(join(dir, 'test/bytes-message.ts'));
    // By a computed path, so the codegen typecheck does not take in the codec's sources.
    framing = await import(resolve(dir, '../protocol/framing.ts'));
  });

  const fill = (n: number, v: number) => Buffer.alloc(n, v);

  it('counts exactly the bytes it splices, so the chunks are the single-buffer encoding', () => {
    const x = b.createBytesMessage({
      blob: fill(30, 1),
      maybe: fill(5, 2),
      parts: [
        b.createBytesMessagePart({ id: 1, data: fill(40, 3) }),
        b.createBytesMessagePart({ id: 2, data: null }),
      ],
      later: b.createBytesMessageLaterStruct({ data: fill(25, 4) }),
      blobs: [fill(20, 5), fill(3, 6)],
      tagged: fill(50, 7),
    });
    for (const v of [0, 1, 2]) {
      // Fields a version lacks must stay at their defaults.
      const atV = { ...x };
      if (v < 1) Object.assign(atV, { maybe: Buffer.alloc(0), tagged: Buffer.alloc(0) });
      if (v < 2) atV.later = b.createBytesMessageLaterStruct();
      const whole = b.encodeBytesMessage(atV, v);
      for (const threshold of [1, 4, 20, 26, 41, 1000]) {
        const expected =
          [atV.blob, atV.maybe, atV.parts[0].data, atV.blobs[0], atV.blobs[1], atV.tagged]
            .filter((f) => f !== null && f.length >= threshold)
            .reduce((n, f) => n + f.length, 0) + (v >= 2 && 25 >= threshold ? 25 : 0);
        expect(b.splicedBytesMessage(atV, v, threshold)).toBe(expected);
        const chunks = framing.encodeChunks(b.BytesMessageDescriptor, atV, v, threshold);
        expect(Buffer.concat(chunks)).toEqual(whole);
      }
    }
  });

  it('gives a decoded message the shared frozen default of a struct its version lacks', () => {
    const one = b.decodeBytesMessage(b.encodeBytesMessage(b.createBytesMessage(), 1), 1);
    const two = b.decodeBytesMessage(b.encodeBytesMessage(b.createBytesMessage(), 1), 1);
    expect(one.later).toBe(two.later);
    expect(Object.isFrozen(one.later)).toBe(true);
    expect(one.later).toEqual(b.createBytesMessageLaterStruct());
    const v2 = b.decodeBytesMessage(b.encodeBytesMessage(b.createBytesMessage(), 2), 2);
    expect(Object.isFrozen(v2.later)).toBe(false);
  });
});
