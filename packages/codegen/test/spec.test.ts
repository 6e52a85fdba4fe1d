import { describe, expect, it } from 'vitest';
import { parseSpec, stripComments } from '../src/spec.js';
import { Versions } from '../src/versions.js';

const spec = (fields: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    name: 'TestMessage',
    type: 'data',
    validVersions: '0-3',
    flexibleVersions: '2+',
    fields,
    ...extra,
  });
const parse = (text: string) => parseSpec(text, 'test/TestMessage.json', 'test');

describe('version ranges', () => {
  it('parses Kafka range syntax', () => {
    expect(Versions.parse('3+', 'x').toString()).toBe('3+');
    expect(Versions.parse(' 1-4 ', 'x')).toMatchObject({ lo: 1, hi: 4 });
    expect(Versions.parse('2', 'x')).toMatchObject({ lo: 2, hi: 2 });
    expect(Versions.parse('none', 'x').empty).toBe(true);
    expect(() => Versions.parse('4-1', 'x')).toThrow(/end before start/);
    expect(() => Versions.parse('1..3', 'x')).toThrow(/invalid version range/);
  });
});

describe('spec validation fails loudly', () => {
  it('strips // comments but not inside strings', () => {
    expect(JSON.parse(stripComments('{ // c\n "a": "x//y" // d\n}'))).toEqual({ a: 'x//y' });
  });

  it('accepts a well-formed spec and scopes struct names by message', () => {
    const s = parse(
      spec([
        { name: 'Id', type: 'int32', versions: '0+' },
        {
          name: 'Items',
          type: '[]Item',
          versions: '1+',
          fields: [{ name: 'Key', type: 'string', versions: '1+' }],
        },
        { name: 'Extra', type: 'int64', versions: '2+', taggedVersions: '2+', tag: 0, default: '0x10' },
      ]),
    );
    expect(s.structs.map((x) => x.typeName)).toEqual(['TestMessage', 'TestMessageItem']);
    expect(s.root.fields[2]!.default).toEqual({ kind: 'bigint', value: 16n });
  });

  const cases: [string, unknown[], RegExp, Record<string, unknown>?][] = [
    [
      'an unknown field key',
      [{ name: 'A', type: 'int32', versions: '0+', colour: 'red' }],
      /colour|Unrecognized/i,
    ],
    ['an unknown type', [{ name: 'A', type: 'int128', versions: '0+' }], /unknown type/],
    ['a missing versions', [{ name: 'A', type: 'int32' }], /versions is required/],
    [
      'a nullable int',
      [{ name: 'A', type: 'int32', versions: '0+', nullableVersions: '0+' }],
      /cannot be nullable/,
    ],
    [
      'a tag without taggedVersions',
      [{ name: 'A', type: 'int32', versions: '2+', tag: 0 }],
      /needs taggedVersions/,
    ],
    [
      'tagged versions outside flexible versions',
      [{ name: 'A', type: 'int32', versions: '1+', taggedVersions: '1+', tag: 0 }],
      /not a subset of flexibleVersions/,
    ],
    [
      'a closed taggedVersions range',
      [{ name: 'A', type: 'int32', versions: '2+', taggedVersions: '2-3', tag: 0 }],
      /open-ended/,
    ],
    [
      'a duplicate tag',
      [
        { name: 'A', type: 'int32', versions: '2+', taggedVersions: '2+', tag: 0 },
        { name: 'B', type: 'int32', versions: '2+', taggedVersions: '2+', tag: 0 },
      ],
      /tag 0 twice/,
    ],
    [
      'tags not contiguous from 0',
      [{ name: 'A', type: 'int32', versions: '2+', taggedVersions: '2+', tag: 1 }],
      /not contiguous/,
    ],
    [
      'a duplicate field name',
      [
        { name: 'A', type: 'int32', versions: '0+' },
        { name: 'a', type: 'int32', versions: '0+' },
      ],
      /two fields named/,
    ],
    [
      'a null default on a partly nullable field',
      [{ name: 'A', type: 'string', versions: '0+', nullableVersions: '1+', default: 'null' }],
      /null cannot be the default/,
    ],
    [
      'an out-of-range default',
      [{ name: 'A', type: 'int8', versions: '0+', default: '200' }],
      /out of range/,
    ],
    [
      'a malformed bool default',
      [{ name: 'A', type: 'bool', versions: '0+', default: 'yes' }],
      /invalid default/,
    ],
    [
      'a malformed uuid default',
      [{ name: 'A', type: 'uuid', versions: '0+', default: 'abc' }],
      /invalid default/,
    ],
    [
      'fields on a primitive',
      [{ name: 'A', type: 'int32', versions: '0+', fields: [{ name: 'B', type: 'int8', versions: '0+' }] }],
      /cannot have fields/,
    ],
    ['an unknown struct', [{ name: 'A', type: '[]Missing', versions: '0+' }], /no common struct/],
    [
      'a flexibleVersions override on an int',
      [{ name: 'A', type: 'int32', versions: '0+', flexibleVersions: 'none' }],
      /only string and bytes/,
    ],
    ['zeroCopy on a string', [{ name: 'A', type: 'string', versions: '0+', zeroCopy: true }], /only bytes/],
    [
      'an entity type that does not fit',
      [{ name: 'A', type: 'int32', versions: '0+', entityType: 'topicName' }],
      /does not fit/,
    ],
    ['an unknown spec key', [], /Unrecognized|shape/i, { shape: 'round' }],
    ['an unknown spec type', [], /type/, { type: 'gadget' }],
    ['an apiKey on a data spec', [], /has no apiKey/, { apiKey: 3 }],
    ['a missing flexibleVersions', [], /flexibleVersions is required/, { flexibleVersions: undefined }],
  ];
  for (const [what, fields, error, extra] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => parse(spec(fields, extra))).toThrow(error);
    });
  }

  it('refuses an unused or duplicate common struct', () => {
    expect(() => parse(spec([], { commonStructs: [{ name: 'C', versions: '0+', fields: [] }] }))).toThrow(
      /never used/,
    );
    expect(() =>
      parse(
        spec([{ name: 'A', type: 'C', versions: '0+' }], {
          commonStructs: [
            { name: 'C', versions: '0+', fields: [] },
            { name: 'C', versions: '0+', fields: [] },
          ],
        }),
      ),
    ).toThrow(/defined twice/);
  });

  it('refuses a request without an apiKey and invalid JSON', () => {
    expect(() => parse(spec([], { type: 'request', listeners: ['broker'] }))).toThrow(/needs an apiKey/);
    expect(() => parse('{ "name": ')).toThrow(/invalid JSON/);
  });
});
