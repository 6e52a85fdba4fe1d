// fast-check arbitraries for any generated message at any version, built from the generated IR.
import fc from 'fast-check';
import type { IrField, IrMessage, IrVersions } from '../src/generated/ir.js';

const inRange = (r: IrVersions | undefined, v: number): boolean => r != null && v >= r[0] && v <= r[1];

export interface ArbitraryOptions {
  /** Add unknown tagged fields in flexible versions. */
  unknownTags?: boolean;
  maxArray?: number;
}

const PRIMITIVES: Record<string, () => fc.Arbitrary<unknown>> = {
  bool: () => fc.boolean(),
  int8: () => fc.integer({ min: -128, max: 127 }),
  int16: () => fc.integer({ min: -32768, max: 32767 }),
  uint16: () => fc.integer({ min: 0, max: 65535 }),
  int32: () => fc.integer({ min: -2147483648, max: 2147483647 }),
  uint32: () => fc.integer({ min: 0, max: 4294967295 }),
  int64: () => fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  float64: () => fc.double(),
  // Mostly short strings, sometimes long and non-ASCII ones, to cross the writer's fast paths.
  string: () =>
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
      { weight: 1, arbitrary: fc.string({ minLength: 120, maxLength: 400 }) },
    ),
  uuid: () => fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
  bytes: () => fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  records: () => fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
};

function defaultValue(f: IrField, create: (typeName: string) => unknown): unknown {
  const d = f.default;
  switch (d.kind) {
    case 'number':
    case 'bool':
    case 'string':
      return d.value;
    case 'bigint':
      return BigInt(d.value);
    case 'uuid':
      return Buffer.from(d.value, 'hex');
    case 'null':
      return null;
    case 'empty':
      if (f.type.startsWith('[]')) return [];
      if (f.struct) return create(f.type);
      return Buffer.alloc(0);
  }
}

/** Builds an arbitrary for `message` at `version`; absent fields hold their defaults. */
export function messageArbitrary(
  message: IrMessage,
  version: number,
  create: (typeName: string) => unknown,
  options: ArbitraryOptions = {},
): fc.Arbitrary<Record<string, unknown>> {
  const flexible = inRange(message.flexibleVersions, version);
  const maxArray = options.maxArray ?? 3;
  const cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

  const structArb = (typeName: string, depth: number): fc.Arbitrary<Record<string, unknown>> => {
    const cached = cache.get(typeName);
    if (cached) return cached;
    const fields = message.structs[typeName];
    if (!fields) throw new Error(`no struct ${typeName} in ${message.name}`);
    const parts: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) {
      if (!inRange(f.versions, version)) {
        parts[f.prop] = fc.constant(defaultValue(f, create));
        continue;
      }
      const elementType = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
      const element = (): fc.Arbitrary<unknown> =>
        f.struct ? structArb(elementType, depth + 1) : PRIMITIVES[elementType]!();
      let arb: fc.Arbitrary<unknown> = f.type.startsWith('[]')
        ? fc.array(element(), { maxLength: depth > 2 ? 1 : maxArray })
        : element();
      if (inRange(f.nullableVersions, version)) arb = fc.option(arb, { nil: null, freq: 4 });
      if (f.tag !== null && inRange(f.taggedVersions, version))
        arb = fc.oneof(
          { weight: 1, arbitrary: fc.constant(defaultValue(f, create)) },
          { weight: 2, arbitrary: arb },
        );
      parts[f.prop] = arb;
    }
    let arb: fc.Arbitrary<Record<string, unknown>> = fc.record(parts);
    if (flexible && options.unknownTags !== false) {
      const known = Math.max(-1, ...fields.filter((f) => f.tag !== null).map((f) => f.tag!));
      const unknown = fc
        .uniqueArray(fc.integer({ min: known + 1, max: known + 300 }), { maxLength: 2 })
        .chain((tags) =>
          fc.tuple(
            ...tags
              .sort((a, b) => a - b)
              .map((tag) => fc.uint8Array({ maxLength: 6 }).map((d) => ({ tag, data: Buffer.from(d) }))),
          ),
        );
      arb = fc
        .tuple(arb, fc.option(unknown, { freq: 2 }))
        .map(([value, tags]) => (tags && tags.length > 0 ? { ...value, unknownTaggedFields: tags } : value));
    }
    cache.set(typeName, arb);
    return arb;
  };
  return structArb(message.name, 0);
}

/** Every version of a message, empty when the spec has none. */
export function versionsOf(message: IrMessage): number[] {
  const v = message.validVersions;
  return v === null ? [] : Array.from({ length: v[1] - v[0] + 1 }, (_, i) => v[0] + i);
}
