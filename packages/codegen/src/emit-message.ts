import type { DefaultValue, FieldSpec, FieldType, MessageSpec, PrimitiveType, StructSpec } from './spec.js';
import { Versions } from './versions.js';

/** Collects lines with indentation. */
export class Code {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text = ''): this {
    this.lines.push(text === '' ? '' : '  '.repeat(this.depth) + text);
    return this;
  }

  open(text: string): this {
    this.line(text);
    this.depth++;
    return this;
  }

  close(text = '}'): this {
    this.depth--;
    return this.line(text);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** A condition on the version `v` inside code that only runs for versions in `ctx`. */
export function versionCond(range: Versions, ctx: Versions): string {
  const i = range.intersect(ctx);
  if (i.empty) return 'false';
  const parts: string[] = [];
  if (i.lo > ctx.lo) parts.push(`v >= ${i.lo}`);
  if (i.hi < ctx.hi) parts.push(`v <= ${i.hi}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** `a && b` for generated conditions, folding the constants. */
function and(a: string, b: string): string {
  if (a === 'false' || b === 'false') return 'false';
  if (a === 'true') return b;
  if (b === 'true') return a;
  return `${paren(a)} && ${paren(b)}`;
}

function paren(e: string): string {
  return /^[\w.$!]+$/.test(e) || /^\(.*\)$/.test(e) ? e : `(${e})`;
}

/** `c ? a : b`, folding constant conditions. */
function pick(c: string, a: string, b: string): string {
  if (c === 'true') return a;
  if (c === 'false') return b;
  if (a === b) return a;
  return `(${paren(c)} ? ${a} : ${b})`;
}

function varintBytes(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

const FIXED_SIZES: Partial<Record<PrimitiveType, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

export function tsPrimitive(name: PrimitiveType): string {
  switch (name) {
    case 'bool':
      return 'boolean';
    case 'int64':
      return 'bigint';
    case 'string':
      return 'string';
    case 'uuid':
    case 'bytes':
    case 'records':
      return 'Buffer';
    default:
      return 'number';
  }
}

/** The TypeScript type of a field, `| null` when some version can carry null. */
export function tsType(field: FieldSpec): string {
  const base = tsBase(field.type);
  return field.nullableVersions.intersect(field.versions).empty && field.default.kind !== 'null'
    ? base
    : `${base} | null`;
}

function tsBase(type: FieldType): string {
  switch (type.kind) {
    case 'primitive':
      return tsPrimitive(type.name);
    case 'struct':
      return type.struct.typeName;
    case 'array':
      return type.element.kind === 'primitive'
        ? `${tsPrimitive(type.element.name)}[]`
        : `${type.element.struct.typeName}[]`;
  }
}

/** Versions of the struct's code paths: where the parent can reach it. */
export function structContexts(spec: MessageSpec): Map<StructSpec, Versions> {
  const ctx = new Map<StructSpec, Versions>();
  const visit = (s: StructSpec, c: Versions): void => {
    const prior = ctx.get(s);
    const next = prior ? prior.hull(c) : c;
    if (prior?.equals(next)) return;
    ctx.set(s, next);
    for (const f of s.fields) {
      const child =
        f.type.kind === 'struct'
          ? f.type.struct
          : f.type.kind === 'array' && f.type.element.kind === 'struct'
            ? f.type.element.struct
            : null;
      if (child) visit(child, f.versions.intersect(next));
    }
  };
  visit(spec.root, spec.validVersions);
  for (const s of spec.structs)
    if (!ctx.has(s) || ctx.get(s)!.empty) ctx.set(s, s.versions.empty ? Versions.NONE : s.versions);
  return ctx;
}

function docComment(code: Code, text: string[]): void {
  const lines = text
    .join('\n')
    .replace(/\*\//g, '*\\/')
    .split('\n')
    .filter((l, i, all) => l !== '' || (i > 0 && i < all.length - 1));
  if (lines.length === 1) code.line(`/** ${lines[0]} */`);
  else {
    code.line('/**');
    for (const l of lines) code.line(l === '' ? ' *' : ` * ${l}`);
    code.line(' */');
  }
}

function fieldDoc(f: FieldSpec): string[] {
  const facts = [`Versions ${f.versions}`];
  if (!f.nullableVersions.empty) facts.push(`nullable ${f.nullableVersions}`);
  if (f.tag !== null) facts.push(`tag ${f.tag} in ${f.taggedVersions}`);
  if (f.ignorable) facts.push('ignorable');
  if (f.entityType !== null) facts.push(`entity ${f.entityType}`);
  const d = describeDefault(f.default);
  if (d !== null) facts.push(`default ${d}`);
  return [f.about === '' ? `${f.name}.` : f.about, '', `${facts.join('; ')}.`];
}

function describeDefault(d: DefaultValue): string | null {
  switch (d.kind) {
    case 'number':
      return d.value === 0 ? null : String(d.value);
    case 'bigint':
      return d.value === 0n ? null : String(d.value);
    case 'bool':
      return d.value ? 'true' : null;
    case 'string':
      return d.value === '' ? null : JSON.stringify(d.value);
    case 'uuid':
      return d.value.every((b) => b === 0) ? null : d.value.toString('base64url');
    case 'null':
      return 'null';
    case 'empty':
      return null;
  }
}

interface Ctx {
  spec: MessageSpec;
  contexts: Map<StructSpec, Versions>;
  /** Module constants (uuid defaults), by name. */
  constants: Map<string, string>;
  /** Structs whose isDefault helper is needed. */
  needsIsDefault: Set<StructSpec>;
  runtime: Set<string>;
  /** Emitting the tracing decoders (field path on failure) rather than the fast ones. */
  tracing: boolean;
}

/** Generates the TypeScript module for one spec. */
export function emitMessage(spec: MessageSpec, specLabel: string): string {
  const ctx: Ctx = {
    spec,
    contexts: structContexts(spec),
    constants: new Map(),
    needsIsDefault: new Set(),
    runtime: new Set(['Reader', 'Writer']),
    tracing: false,
  };
  const body = new Code();
  const types = new Code();
  for (const s of spec.structs) emitInterface(types, s, spec);
  for (const s of spec.structs) emitCreate(body, s, ctx);
  for (const s of [...spec.structs].reverse()) {
    emitRead(body, s, ctx, false);
    emitRead(body, s, ctx, true);
    emitWrite(body, s, ctx);
    emitSize(body, s, ctx);
    if (reachesBytes(s)) emitSpliced(body, s, ctx);
  }
  const helpers = new Code();
  const done = new Set<StructSpec>();
  let pending = [...ctx.needsIsDefault];
  while (pending.length > 0) {
    for (const s of pending) {
      if (done.has(s)) continue;
      done.add(s);
      emitIsDefault(helpers, s, ctx);
    }
    pending = [...ctx.needsIsDefault].filter((s) => !done.has(s));
  }
  emitTopLevel(body, spec, ctx);

  const head = new Code();
  head.line(`// Generated by @tributary/codegen from ${spec.file} (${specLabel}).`);
  head.line('// Do not edit: change the generator or the spec and run `pnpm generate`.');
  head.line('/* eslint-disable */');
  head.line();
  const valueImports = [...ctx.runtime]
    .filter((n) => n !== 'TaggedField' && n !== 'MessageDescriptor')
    .sort();
  head.line(`import { ${valueImports.join(', ')} } from '../../protocol/runtime.js';`);
  head.line(`import type { MessageDescriptor, TaggedField } from '../../protocol/runtime.js';`);
  head.line();
  for (const [name, value] of ctx.constants) head.line(`const ${name} = ${value};`);
  if (ctx.constants.size > 0) head.line();
  return `${head}${types}${body}${helpers}`;
}

function emitInterface(code: Code, s: StructSpec, spec: MessageSpec): void {
  if (s === spec.root) {
    const facts = [`Valid versions ${spec.validVersions}`, `flexible ${spec.flexibleVersions}`];
    if (spec.apiKey !== null)
      facts.unshift(
        `${spec.type === 'request' || spec.type === 'response' ? 'API key' : 'Record type'} ${spec.apiKey}`,
      );
    docComment(code, [`${spec.name} (${spec.type}).`, '', `${facts.join('; ')}.`]);
  } else docComment(code, [`${s.name}, a struct of ${spec.name}${s.common ? ' (common struct)' : ''}.`]);
  code.open(`export interface ${s.typeName} {`);
  for (const f of s.fields) {
    docComment(code, fieldDoc(f));
    code.line(`${f.prop}: ${tsType(f)};`);
  }
  code.line('/** Tagged fields this codec does not know, kept to be written back unchanged. */');
  code.line('unknownTaggedFields?: TaggedField[];');
  code.close();
  code.line();
}

function defaultExpr(f: FieldSpec, ctx: Ctx): string {
  const d = f.default;
  switch (d.kind) {
    case 'number':
      return Object.is(d.value, -0) ? '0' : String(d.value);
    case 'bigint':
      return `${d.value}n`;
    case 'bool':
      return String(d.value);
    case 'string':
      return JSON.stringify(d.value);
    case 'uuid': {
      if (d.value.every((b) => b === 0)) {
        ctx.runtime.add('ZERO_UUID');
        return 'ZERO_UUID';
      }
      const name = `DEFAULT_UUID_${d.value.toString('hex').toUpperCase()}`;
      ctx.constants.set(name, `Buffer.from('${d.value.toString('hex')}', 'hex')`);
      return name;
    }
    case 'null':
      return 'null';
    case 'empty': {
      const t = f.type;
      if (t.kind === 'array') return '[]';
      if (t.kind === 'struct') return `create${t.struct.typeName}()`;
      ctx.runtime.add('EMPTY_BYTES');
      return 'EMPTY_BYTES';
    }
  }
}

/** An expression that is true when `value` differs from the field's default (Kafka's rule for tags). */
function nonDefault(f: FieldSpec, value: string, ctx: Ctx): string {
  const d = f.default;
  const t = f.type;
  if (d.kind === 'null') return `${value} !== null`;
  if (t.kind === 'array') return `(${value} === null || ${value}.length !== 0)`;
  if (t.kind === 'struct') {
    ctx.needsIsDefault.add(t.struct);
    return `(${value} === null || !isDefault${t.struct.typeName}(${value}))`;
  }
  if (d.kind === 'uuid') {
    ctx.runtime.add('uuidEquals');
    return `!uuidEquals(${value}, ${defaultExpr(f, ctx)})`;
  }
  if (d.kind === 'empty') return `(${value} === null || ${value}.length !== 0)`;
  if (d.kind === 'number' && Number.isNaN(d.value)) return `!Number.isNaN(${value})`;
  return `${value} !== ${defaultExpr(f, ctx)}`;
}

function emitCreate(code: Code, s: StructSpec, ctx: Ctx): void {
  code.line(`/** A ${s.typeName} with every field at its default, overridden by \`init\`. */`);
  code.open(`export function create${s.typeName}(init?: Partial<${s.typeName}>): ${s.typeName} {`);
  code.open(`const value: ${s.typeName} = {`);
  for (const f of s.fields) code.line(`${f.prop}: ${defaultExpr(f, ctx)},`);
  code.close('};');
  code.line('return init === undefined ? value : Object.assign(value, init);');
  code.close();
  code.line();
}

function emitIsDefault(code: Code, s: StructSpec, ctx: Ctx): void {
  code.open(`function isDefault${s.typeName}(x: ${s.typeName}): boolean {`);
  const parts = s.fields.map((f) => `!${paren(nonDefault(f, `x.${f.prop}`, ctx))}`);
  parts.push('(x.unknownTaggedFields === undefined || x.unknownTaggedFields.length === 0)');
  code.line(`return ${parts.join(' &&\n    ')};`);
  code.close();
  code.line();
}

/** The versions in which a field sits in the fixed (untagged) part of its struct. */
function fixedVersions(f: FieldSpec): Versions {
  if (f.taggedVersions.empty) return f.versions;
  const hi = f.taggedVersions.lo - 1;
  return hi < f.versions.lo ? Versions.NONE : f.versions.intersect(new Versions(0, hi));
}

/** The condition under which strings/bytes/arrays of this field use compact encoding. */
function flexCond(f: FieldSpec, ctx: Versions, spec: MessageSpec, tagged: boolean): string {
  if (tagged) return 'true';
  return versionCond(f.flexibleVersions ?? spec.flexibleVersions, ctx);
}

/** The fewest bytes one value of `type` takes at version `v`: bounds array counts when decoding. */
function minSizeAt(type: FieldType, v: number, flexible: boolean, seen = new Set<StructSpec>()): number {
  switch (type.kind) {
    case 'primitive':
      return FIXED_SIZES[type.name] ?? (flexible ? 1 : type.name === 'string' ? 2 : 4);
    case 'array':
      return flexible ? 1 : 4;
    case 'struct': {
      if (seen.has(type.struct)) return 1;
      seen.add(type.struct);
      let n = flexible ? 1 : 0;
      for (const f of type.struct.fields)
        if (fixedVersions(f).contains(v)) n += minSizeAt(f.type, v, flexible, seen);
      seen.delete(type.struct);
      return n;
    }
  }
}

/** The smallest per-element size over the versions of `vctx`, at least 1. */
function minElementSize(
  type: FieldType,
  vctx: Versions,
  spec: MessageSpec,
  f: FieldSpec,
  tagged: boolean,
): number {
  let min = Number.POSITIVE_INFINITY;
  for (let v = vctx.lo; v <= Math.min(vctx.hi, vctx.lo + 200); v++) {
    const flexible = tagged || (f.flexibleVersions ?? spec.flexibleVersions).contains(v);
    min = Math.min(min, minSizeAt(type, v, flexible));
  }
  return Math.max(1, Number.isFinite(min) ? min : 1);
}

function readPrimitive(name: PrimitiveType, flex: string, nullable: string): string {
  switch (name) {
    case 'string':
      return pick(
        flex,
        pick(nullable, 'r.compactNullableString()', 'r.compactString()'),
        pick(nullable, 'r.nullableString()', 'r.string()'),
      );
    case 'bytes':
    case 'records':
      return pick(
        flex,
        pick(nullable, 'r.compactNullableBytes()', 'r.compactBytes()'),
        pick(nullable, 'r.nullableBytes()', 'r.bytes()'),
      );
    default:
      return `r.${name}()`;
  }
}

/** Statements that read field `f` into local `target` under version context `vctx`. */
function emitReadField(
  code: Code,
  f: FieldSpec,
  target: string,
  vctx: Versions,
  ctx: Ctx,
  tagged: boolean,
): void {
  const flex = flexCond(f, vctx, ctx.spec, tagged);
  const nullable = versionCond(f.nullableVersions, vctx);
  const t = f.type;
  if (t.kind === 'primitive') {
    code.line(`${target} = ${readPrimitive(t.name, flex, nullable)};`);
  } else if (t.kind === 'struct') {
    const read = `${readerName(t.struct, ctx)}(r, v)`;
    code.line(`${target} = ${pick(nullable, `r.int8() < 0 ? null : ${read}`, read)};`);
  } else {
    const el = t.element;
    const min = minElementSize(el, vctx, ctx.spec, f, tagged);
    code.open('{');
    code.line(`const n = ${pick(flex, `r.compactArrayLength(${min})`, `r.arrayLength(${min})`)};`);
    if (nullable === 'false') code.line('if (n < 0) nullArray(r);');
    else if (nullable === 'true') code.line(`if (n < 0) ${target} = null;`);
    else code.line(`if (n < 0) ${target} = ${paren(nullable)} ? null : nullArray(r);`);
    ctx.runtime.add('nullArray');
    code.open('else {');
    if (el.kind === 'primitive' && el.name === 'int32') {
      // Replicas, ISR, partition lists: one bounds check for the whole array.
      code.line(`${target} = r.int32Array(n);`);
    } else {
      const elType = el.kind === 'primitive' ? tsPrimitive(el.name) : el.struct.typeName;
      code.line(`const a: ${elType}[] = new Array(n);`);
      const elRead =
        el.kind === 'primitive'
          ? readPrimitive(el.name, flex, 'false')
          : `${readerName(el.struct, ctx)}(r, v)`;
      if (ctx.tracing) {
        code.line(`for (index = 0; index < n; index++) a[index] = ${elRead};`);
        code.line('index = -1;');
      } else code.line(`for (let i = 0; i < n; i++) a[i] = ${elRead};`);
      code.line(`${target} = a;`);
    }
    code.close();
    code.close();
  }
}

/**
 * The default a decoder gives a field the message did not carry. A struct's is one deeply frozen
 * instance per type, shared by every decoded message (as ZERO_UUID is), so a field a version lacks
 * (Fetch's divergingEpoch before v12, say) costs no allocation.
 */
function decodedDefault(f: FieldSpec, ctx: Ctx): string {
  const t = f.type;
  if (t.kind !== 'struct' || f.default.kind !== 'empty') return defaultExpr(f, ctx);
  const name = `DECODED_DEFAULT_${t.struct.typeName}`;
  if (!ctx.constants.has(name)) {
    ctx.runtime.add('frozenDefault');
    ctx.constants.set(name, `frozenDefault(create${t.struct.typeName}())`);
  }
  return name;
}

/**
 * Whether a field read only in some versions (`c`) gets its default in the else branch of its read:
 * when the default allocates (an empty array or a default struct) and no tag can assign it.
 */
function defaultInElse(f: FieldSpec, c: string): boolean {
  if (c === 'true' || c === 'false' || f.tag !== null) return false;
  return f.default.kind === 'empty' && f.type.kind !== 'primitive';
}

/**
 * The reader of a struct. Each struct has two: a fast one, and a tracing one that records the field
 * and array index being read and, on failure, wraps the error with that path. The try/catch in every
 * struct cost up to a fifth of small decodes, so the exported reader runs the fast readers and only
 * when they throw decodes the same bytes again with the tracing readers, which fail at the same
 * place and name it.
 */
function readerName(s: StructSpec, ctx: Ctx): string {
  return ctx.tracing ? `trace${s.typeName}` : `read${s.typeName}`;
}

function emitRootRead(code: Code, s: StructSpec, ctx: Ctx): void {
  const spec = ctx.spec;
  ctx.runtime.add('DecodeError');
  code.line(`/** Reads a ${s.typeName} at version \`v\`. Byte fields are slices of the reader's buffer. */`);
  code.open(`export function read${s.typeName}(r: Reader, v: number): ${s.typeName} {`);
  code.line(
    `if (v < ${spec.validVersions.lo} || v > ${spec.validVersions.hi}) throw new DecodeError(\`${spec.name} has no version \${v}\`, r.offset);`,
  );
  code.line('const start = r.offset;');
  code.open('try {');
  code.line(`return readFast${s.typeName}(r, v);`);
  code.close('} catch {');
  code.line('  // Decode again with the tracing readers: they fail at the same place and name the field.');
  code.line('  r.offset = start;');
  code.line(`  return trace${s.typeName}(r, v);`);
  code.line('}');
  code.close();
  code.line();
}

function emitRead(code: Code, s: StructSpec, ctx: Ctx, tracing: boolean): void {
  ctx.tracing = tracing;
  const vctx = ctx.contexts.get(s)!;
  const spec = ctx.spec;
  const isRoot = s === spec.root;
  const flexible = versionCond(spec.flexibleVersions, vctx);
  if (isRoot && !tracing) emitRootRead(code, s, ctx);
  const name = isRoot && !tracing ? `readFast${s.typeName}` : readerName(s, ctx);
  code.open(`function ${name}(r: Reader, v: number): ${s.typeName} {`);
  if (tracing) {
    code.line("let field = '';");
    code.line('let index = -1;');
    ctx.runtime.add('decodeErrorAt');
    code.open('try {');
  }
  // A field read in every reachable version needs no default: the read assigns it, so no
  // placeholder (an empty array, a default struct) is allocated only to be replaced. A field read
  // in some versions whose default allocates takes that default in an else branch instead.
  for (const f of s.fields) {
    const c = versionCond(fixedVersions(f), vctx);
    code.line(
      c === 'true' || defaultInElse(f, c)
        ? `let $${f.prop}: ${tsType(f)};`
        : `let $${f.prop}: ${tsType(f)} = ${decodedDefault(f, ctx)};`,
    );
  }
  code.line('let unknownTaggedFields: TaggedField[] | undefined;');
  for (const f of s.fields) {
    const c = versionCond(fixedVersions(f), vctx);
    if (c === 'false') continue;
    const inner = fixedVersions(f).intersect(vctx);
    if (c === 'true') {
      if (tracing) code.line(`field = '${f.prop}';`);
      emitReadField(code, f, `$${f.prop}`, inner, ctx, false);
    } else {
      code.open(`if (${c}) {`);
      if (tracing) code.line(`field = '${f.prop}';`);
      emitReadField(code, f, `$${f.prop}`, inner, ctx, false);
      code.close(defaultInElse(f, c) ? `} else $${f.prop} = ${decodedDefault(f, ctx)};` : '}');
    }
  }
  if (flexible !== 'false') {
    ctx.runtime.add('readUnknownTag');
    ctx.runtime.add('tagBodyEnd');
    const tagged = s.fields.filter((f) => f.tag !== null && versionCond(f.taggedVersions, vctx) !== 'false');
    code.open(flexible === 'true' ? '{' : `if (${flexible}) {`);
    if (tracing) code.line("field = '';");
    code.line('const numTags = r.uvarint();');
    code.open('for (let t = 0; t < numTags; t++) {');
    code.line('const tag = r.uvarint();');
    code.line('const size = r.uvarint();');
    if (tagged.length === 0) {
      code.line('tagBodyEnd(r, tag, size);');
      code.line('unknownTaggedFields = readUnknownTag(r, tag, size, unknownTaggedFields);');
    } else {
      ctx.runtime.add('checkTagEnd');
      code.line('const end = tagBodyEnd(r, tag, size);');
      code.open('switch (tag) {');
      for (const f of [...tagged].sort((a, b) => a.tag! - b.tag!)) {
        const c = versionCond(f.taggedVersions, vctx);
        const inner = f.taggedVersions.intersect(vctx);
        code.open(`case ${f.tag}:`);
        if (c !== 'true') code.open(`if (${c}) {`);
        if (tracing) code.line(`field = '${f.prop}';`);
        emitReadField(code, f, `$${f.prop}`, inner, ctx, true);
        code.line(`checkTagEnd(r, tag, end);`);
        code.line('continue;');
        if (c !== 'true') {
          code.close();
          code.line('unknownTaggedFields = readUnknownTag(r, tag, size, unknownTaggedFields);');
          code.line('continue;');
        }
        code.close('');
      }
      code.open('default:');
      code.line('unknownTaggedFields = readUnknownTag(r, tag, size, unknownTaggedFields);');
      code.close('');
      code.close();
    }
    code.close();
    code.close();
  }
  code.open(`const x: ${s.typeName} = {`);
  for (const f of s.fields) code.line(`${f.prop}: $${f.prop},`);
  code.close('};');
  code.line('if (unknownTaggedFields !== undefined) x.unknownTaggedFields = unknownTaggedFields;');
  code.line('return x;');
  if (tracing) {
    code.close('} catch (e) {');
    code.line('  throw decodeErrorAt(e, field, index, r.offset);');
    code.line('}');
  }
  code.close();
  code.line();
}

function writePrimitive(
  name: PrimitiveType,
  flex: string,
  nullable: string,
  value: string,
  nonNullValue = value,
): string {
  switch (name) {
    case 'string':
      return pick(
        flex,
        pick(nullable, `w.compactNullableString(${value})`, `w.compactString(${nonNullValue})`),
        pick(nullable, `w.nullableString(${value})`, `w.string(${nonNullValue})`),
      );
    case 'bytes':
    case 'records':
      return pick(
        flex,
        pick(nullable, `w.compactNullableBytes(${value})`, `w.compactBytes(${nonNullValue})`),
        pick(nullable, `w.nullableBytes(${value})`, `w.bytes(${nonNullValue})`),
      );
    default:
      return `w.${name}(${nonNullValue})`;
  }
}

function sizePrimitive(name: PrimitiveType, flex: string, value: string, ctx: Ctx): string {
  const fixed = FIXED_SIZES[name];
  if (fixed !== undefined) return String(fixed);
  if (name === 'string') {
    ctx.runtime.add('compactStringSize').add('stringSize');
    return pick(flex, `compactStringSize(${value})`, `stringSize(${value})`);
  }
  ctx.runtime.add('compactBytesSize').add('bytesSize');
  return pick(flex, `compactBytesSize(${value})`, `bytesSize(${value})`);
}

/** Whether the TS type can hold null while some versions in `vctx` may not carry it. */
function nullGuard(f: FieldSpec, vctx: Versions): string | null {
  if (tsType(f).endsWith('| null') === false) return null;
  const c = versionCond(f.nullableVersions, vctx);
  if (c === 'true') return null;
  return c === 'false' ? 'true' : `!${paren(c)}`;
}

/** Statements writing `value` (field f) under version context vctx. */
function emitWriteField(
  code: Code,
  f: FieldSpec,
  value: string,
  vctx: Versions,
  ctx: Ctx,
  tagged: boolean,
): void {
  const flex = flexCond(f, vctx, ctx.spec, tagged);
  const nullable = versionCond(f.nullableVersions, vctx);
  const guard = nullGuard(f, vctx);
  if (guard !== null) {
    ctx.runtime.add('nullAtVersion');
    code.line(`if (${and(guard, `${value} === null`)}) nullAtVersion('${ctx.spec.name}.${f.prop}', v);`);
  }
  const t = f.type;
  const v = value;
  if (t.kind === 'primitive') {
    code.line(`${writePrimitive(t.name, flex, nullable, v, nonNull(f, v, 'false'))};`);
  } else if (t.kind === 'struct') {
    const write = `write${t.struct.typeName}(w, ${nonNull(f, v, 'false')}, v);`;
    if (nullable === 'false') code.line(write);
    else {
      // A null in a version that cannot carry it was refused above.
      code.line(`if (${v} === null) w.int8(-1);`);
      code.open('else {');
      code.line(nullable === 'true' ? 'w.int8(1);' : `if (${nullable}) w.int8(1);`);
      code.line(write);
      code.close();
    }
  } else {
    const el = t.element;
    code.open('{');
    code.line(`const a = ${v};`);
    if (nullable !== 'false') {
      code.line(`if (a === null) ${pick(flex, 'w.uvarint(0)', 'w.int32(-1)')};`);
      code.open('else {');
    } else if (guard !== null) code.open('if (a !== null) {');
    else code.open('{');
    code.line(`${pick(flex, 'w.uvarint(a.length + 1)', 'w.int32(a.length)')};`);
    const elWrite =
      el.kind === 'primitive'
        ? writePrimitive(el.name, flex, 'false', 'e')
        : `write${el.struct.typeName}(w, e, v)`;
    code.line(`for (const e of a) ${elWrite};`);
    code.close();
    code.close();
  }
}

/** `value` typed non-null when the field's TS type allows null but this path does not carry it. */
function nonNull(f: FieldSpec, value: string, nullable: string): string {
  return tsType(f).endsWith('| null') && nullable === 'false' ? `${value}!` : value;
}

function sizeExpr(f: FieldSpec, value: string, vctx: Versions, ctx: Ctx, tagged: boolean): string {
  const flex = flexCond(f, vctx, ctx.spec, tagged);
  const nullable = versionCond(f.nullableVersions, vctx);
  const t = f.type;
  if (t.kind === 'primitive') return sizePrimitive(t.name, flex, nonNull(f, value, 'true'), ctx);
  if (t.kind === 'struct') {
    const inner = `size${t.struct.typeName}(${nonNull(f, value, 'false')}, v)`;
    if (nullable === 'false') return inner;
    return `(${value} === null ? 1 : ${pick(nullable, '1', '0')} + ${inner})`;
  }
  const el = t.element;
  ctx.runtime.add('uvarintSize');
  const prefix = pick(flex, `uvarintSize(${value}.length + 1)`, '4');
  let elems: string;
  if (el.kind === 'primitive' && FIXED_SIZES[el.name] !== undefined)
    elems = `${value}.length * ${FIXED_SIZES[el.name]}`;
  else {
    const one =
      el.kind === 'primitive' ? sizePrimitive(el.name, flex, 'e', ctx) : `size${el.struct.typeName}(e, v)`;
    elems = `sumOf(${value}, (e) => ${one})`;
    ctx.runtime.add('sumOf');
  }
  const nullSize = pick(flex, '1', '4');
  return tsType(f).endsWith('| null')
    ? `(${value} === null ? ${nullSize} : ${prefix} + ${elems})`
    : `${pick(flex, `uvarintSize(${value}.length + 1)`, '4')} + ${elems}`;
}

function emitWrite(code: Code, s: StructSpec, ctx: Ctx): void {
  const vctx = ctx.contexts.get(s)!;
  const spec = ctx.spec;
  const isRoot = s === spec.root;
  const flexible = versionCond(spec.flexibleVersions, vctx);
  if (isRoot)
    code.line(
      `/** Writes a ${s.typeName} at version \`v\`; the writer must have room for size${s.typeName}(x, v) bytes. */`,
    );
  code.open(
    `${isRoot ? 'export ' : ''}function write${s.typeName}(w: Writer, x: ${s.typeName}, v: number): void {`,
  );
  if (isRoot) {
    ctx.runtime.add('unsupportedVersion');
    code.line(
      `if (v < ${spec.validVersions.lo} || v > ${spec.validVersions.hi}) unsupportedVersion('${spec.name}', v, ${spec.validVersions.lo}, ${spec.validVersions.hi});`,
    );
  }
  for (const f of s.fields) {
    const fixed = fixedVersions(f);
    const c = versionCond(fixed, vctx);
    const inner = fixed.intersect(vctx);
    // Versions without the field: a non-default value cannot be sent unless the field is ignorable.
    const present = versionCond(f.versions, vctx);
    const absentCond = present === 'true' ? 'false' : present === 'false' ? 'true' : `!${paren(present)}`;
    if (c === 'true') emitWriteField(code, f, `x.${f.prop}`, inner, ctx, false);
    else if (c !== 'false') {
      code.open(`if (${c}) {`);
      emitWriteField(code, f, `x.${f.prop}`, inner, ctx, false);
      code.close();
    }
    if (!f.ignorable && absentCond !== 'false') {
      ctx.runtime.add('nonDefaultAtVersion');
      code.line(
        `if (${and(absentCond, nonDefault(f, `x.${f.prop}`, ctx))}) nonDefaultAtVersion('${spec.name}.${f.prop}', v);`,
      );
    }
  }
  if (flexible !== 'false') {
    ctx.runtime.add('sortedTags').add('writeRawTag');
    const tagged = s.fields.filter((f) => f.tag !== null).sort((a, b) => a.tag! - b.tag!);
    code.open(flexible === 'true' ? '{' : `if (${flexible}) {`);
    code.line('const unknown = sortedTags(x.unknownTaggedFields);');
    code.line(`let numTags = unknown.length;`);
    for (const f of tagged) {
      const c = versionCond(f.taggedVersions, vctx);
      if (c === 'false') continue;
      code.line(`const has${f.tag} = ${and(c, nonDefault(f, `x.${f.prop}`, ctx))};`);
      code.line(`if (has${f.tag}) numTags++;`);
    }
    code.line('w.uvarint(numTags);');
    code.line('let u = 0;');
    for (const f of tagged) {
      const c = versionCond(f.taggedVersions, vctx);
      if (c === 'false') continue;
      const inner = f.taggedVersions.intersect(vctx);
      if (f.tag! > 0)
        code.line(`while (u < unknown.length && unknown[u]!.tag < ${f.tag}) writeRawTag(w, unknown[u++]!);`);
      code.open(`if (has${f.tag}) {`);
      code.line(`w.uvarint(${f.tag});`);
      ctx.runtime.add('uvarintSize');
      code.line(`w.uvarint(${sizeExpr(f, `x.${f.prop}`, inner, ctx, true)});`);
      emitWriteField(code, f, `x.${f.prop}`, inner, ctx, true);
      code.close();
    }
    code.line('while (u < unknown.length) writeRawTag(w, unknown[u++]!);');
    code.close();
  }
  code.close();
  code.line();
}

function emitSize(code: Code, s: StructSpec, ctx: Ctx): void {
  const vctx = ctx.contexts.get(s)!;
  const spec = ctx.spec;
  const isRoot = s === spec.root;
  const flexible = versionCond(spec.flexibleVersions, vctx);
  if (isRoot) code.line(`/** The encoded size of a ${s.typeName} at version \`v\`. */`);
  code.open(`${isRoot ? 'export ' : ''}function size${s.typeName}(x: ${s.typeName}, v: number): number {`);
  if (isRoot) {
    ctx.runtime.add('unsupportedVersion');
    code.line(
      `if (v < ${spec.validVersions.lo} || v > ${spec.validVersions.hi}) unsupportedVersion('${spec.name}', v, ${spec.validVersions.lo}, ${spec.validVersions.hi});`,
    );
  }
  code.line('let size = 0;');
  for (const f of s.fields) {
    const fixed = fixedVersions(f);
    const c = versionCond(fixed, vctx);
    if (c === 'false') continue;
    const e = sizeExpr(f, `x.${f.prop}`, fixed.intersect(vctx), ctx, false);
    code.line(c === 'true' ? `size += ${e};` : `if (${c}) size += ${e};`);
  }
  if (flexible !== 'false') {
    ctx.runtime.add('rawTagsSize').add('uvarintSize');
    const tagged = s.fields.filter((f) => f.tag !== null).sort((a, b) => a.tag! - b.tag!);
    code.open(flexible === 'true' ? '{' : `if (${flexible}) {`);
    code.line('const unknown = x.unknownTaggedFields;');
    code.line('let numTags = unknown === undefined ? 0 : unknown.length;');
    code.line('let tagBytes = rawTagsSize(unknown);');
    for (const f of tagged) {
      const c = versionCond(f.taggedVersions, vctx);
      if (c === 'false') continue;
      const inner = f.taggedVersions.intersect(vctx);
      code.open(`if (${and(c, nonDefault(f, `x.${f.prop}`, ctx))}) {`);
      code.line(`const s = ${sizeExpr(f, `x.${f.prop}`, inner, ctx, true)};`);
      code.line('numTags++;');
      code.line(`tagBytes += ${varintBytes(f.tag!)} + uvarintSize(s) + s;`);
      code.close();
    }
    code.line('size += uvarintSize(numTags) + tagBytes;');
    code.close();
  }
  code.line('return size;');
  code.close();
  code.line();
}

/** The struct type a field holds, directly or as array elements. */
function childStruct(t: FieldType): StructSpec | null {
  if (t.kind === 'struct') return t.struct;
  if (t.kind === 'array' && t.element.kind === 'struct') return t.element.struct;
  return null;
}

function isByteField(t: FieldType): boolean {
  const p = t.kind === 'array' ? t.element : t;
  return p.kind === 'primitive' && (p.name === 'bytes' || p.name === 'records');
}

/** Whether a struct holds a `bytes` or `records` field, itself or through its structs. */
function reachesBytes(s: StructSpec, seen = new Set<StructSpec>()): boolean {
  if (seen.has(s)) return false;
  seen.add(s);
  return s.fields.some((f) => {
    if (isByteField(f.type)) return true;
    const child = childStruct(f.type);
    return child !== null && reachesBytes(child, seen);
  });
}

/**
 * `spliced<Struct>(x, v, min)`: the bytes a chunked writer with threshold `min` references instead
 * of copying. Its conditions are the write function's, field for field (fixed fields by version,
 * tagged fields by version and non-default value), so the two agree on what is written.
 */
function emitSpliced(code: Code, s: StructSpec, ctx: Ctx): void {
  const vctx = ctx.contexts.get(s)!;
  const spec = ctx.spec;
  const isRoot = s === spec.root;
  if (isRoot)
    code.line(
      `/** Bytes of a ${s.typeName}'s byte fields of at least \`min\` bytes each, which chunked encoding splices. */`,
    );
  code.open(
    `${isRoot ? 'export ' : ''}function spliced${s.typeName}(x: ${s.typeName}, v: number, min: number): number {`,
  );
  code.line('let n = 0;');
  const flexible = versionCond(spec.flexibleVersions, vctx);
  for (const f of s.fields) {
    if (!isByteField(f.type) && !(childStruct(f.type) !== null && reachesBytes(childStruct(f.type)!)))
      continue;
    const fixed = versionCond(fixedVersions(f), vctx);
    const conds: string[] = [];
    if (fixed !== 'false') conds.push(fixed);
    if (f.tag !== null && flexible !== 'false') {
      const c = and(versionCond(f.taggedVersions, vctx), nonDefault(f, `x.${f.prop}`, ctx));
      if (c !== 'false') conds.push(c);
    }
    if (conds.length === 0) continue;
    const cond = conds.includes('true')
      ? 'true'
      : conds.length === 1
        ? conds[0]!
        : conds.map(paren).join(' || ');
    const t = f.type;
    const value = `x.${f.prop}`;
    const ifPresent = tsType(f).endsWith('| null') ? `if (${value} !== null) ` : '';
    let stmt: string;
    if (t.kind === 'primitive') {
      ctx.runtime.add('splicedLength');
      stmt = `n += splicedLength(${value}, min);`;
    } else if (t.kind === 'struct') {
      stmt = `${ifPresent}n += spliced${t.struct.typeName}(${value}, v, min);`;
    } else if (t.element.kind === 'primitive') {
      ctx.runtime.add('splicedLength');
      stmt = `${ifPresent}for (const e of ${value}) n += splicedLength(e, min);`;
    } else {
      stmt = `${ifPresent}for (const e of ${value}) n += spliced${t.element.struct.typeName}(e, v, min);`;
    }
    code.line(cond === 'true' ? stmt : `if (${cond}) ${stmt.startsWith('if') ? `{ ${stmt} }` : stmt}`);
  }
  code.line('return n;');
  code.close();
  code.line();
}

function emitTopLevel(code: Code, spec: MessageSpec, ctx: Ctx): void {
  const n = spec.name;
  const vv = spec.validVersions;
  ctx.runtime.add('Writer').add('Reader');
  code.line(`/** Encodes a ${n} at \`version\` into a new buffer of exactly its size. */`);
  code.open(`export function encode${n}(message: ${n}, version: number): Buffer {`);
  code.line(`const w = Writer.alloc(size${n}(message, version));`);
  code.line(`write${n}(w, message, version);`);
  code.line('return w.buf;');
  code.close();
  code.line();
  code.line(
    `/** Decodes a ${n} at \`version\` from \`buf\` (from \`offset\`); byte fields are slices of \`buf\`. */`,
  );
  code.open(`export function decode${n}(buf: Buffer, version: number, offset = 0): ${n} {`);
  code.line(`return read${n}(new Reader(buf, offset), version);`);
  code.close();
  code.line();
  const flexFrom = spec.flexibleVersions.intersect(vv);
  code.open(`export const ${n}Descriptor: MessageDescriptor<${n}> = {`);
  code.line(`name: '${n}',`);
  code.line(`type: '${spec.type}',`);
  code.line(`apiKey: ${spec.apiKey === null ? 'null' : spec.apiKey},`);
  code.line(`minVersion: ${vv.empty ? -1 : vv.lo},`);
  code.line(`maxVersion: ${vv.empty ? -1 : vv.hi},`);
  code.line(`flexibleFrom: ${flexFrom.empty ? 'null' : flexFrom.lo},`);
  code.line(`read: read${n},`);
  code.line(`write: write${n},`);
  code.line(`size: size${n},`);
  if (reachesBytes(spec.root)) code.line(`spliced: spliced${n},`);
  else {
    ctx.runtime.add('noSplicedBytes');
    code.line('spliced: noSplicedBytes,');
  }
  code.line(`create: create${n},`);
  code.close('};');
}
