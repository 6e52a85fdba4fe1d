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
