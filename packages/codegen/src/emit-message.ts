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
}

/** Generates the TypeScript module for one spec. */
export function emitMessage(spec: MessageSpec, specLabel: string): string {
  const ctx: Ctx = {
    spec,
    contexts: structContexts(spec),
    constants: new Map(),
    needsIsDefault: new Set(),
    runtime: new Set(['Reader', 'Writer']),
  };
  const body = new Code();
  const types = new Code();
  for (const s of spec.structs) emitInterface(types, s, spec);
  for (const s of spec.structs) emitCreate(body, s, ctx);
  for (const s of [...spec.structs].reverse()) {
    emitRead(body, s, ctx);
    emitWrite(body, s, ctx);
    emitSize(body, s, ctx);
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
    const read = `read${t.struct.typeName}(r, v)`;
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
    const elType = el.kind === 'primitive' ? tsPrimitive(el.name) : el.struct.typeName;
    code.line(`const a: ${elType}[] = new Array(n);`);
    const elRead =
      el.kind === 'primitive' ? readPrimitive(el.name, flex, 'false') : `read${el.struct.typeName}(r, v)`;
    code.line(`for (index = 0; index < n; index++) a[index] = ${elRead};`);
    code.line('index = -1;');
    code.line(`${target} = a;`);
    code.close();
    code.close();
  }
}

function emitRead(code: Code, s: StructSpec, ctx: Ctx): void {
  const vctx = ctx.contexts.get(s)!;
  const spec = ctx.spec;
  const isRoot = s === spec.root;
  const flexible = versionCond(spec.flexibleVersions, vctx);
  const exported = isRoot ? 'export ' : '';
  if (isRoot)
    code.line(
      `/** Reads a ${s.typeName} at version \`v\`. Byte fields are slices of the reader's buffer. */`,
    );
  code.open(`${exported}function read${s.typeName}(r: Reader, v: number): ${s.typeName} {`);
  if (isRoot) {
    ctx.runtime.add('DecodeError');
    code.line(
      `if (v < ${spec.validVersions.lo} || v > ${spec.validVersions.hi}) throw new DecodeError(\`${spec.name} has no version \${v}\`, r.offset);`,
    );
  }
  code.line("let field = '';");
  code.line('let index = -1;');
  ctx.runtime.add('decodeErrorAt');
  code.open('try {');
  // A field read in every reachable version needs no default: the read assigns it, so no
  // placeholder (an empty array, a default struct) is allocated only to be replaced.
  for (const f of s.fields) {
    const alwaysRead = versionCond(fixedVersions(f), vctx) === 'true';
    code.line(
      alwaysRead ? `let $${f.prop}: ${tsType(f)};` : `let $${f.prop}: ${tsType(f)} = ${defaultExpr(f, ctx)};`,
    );
  }
  code.line('let unknownTaggedFields: TaggedField[] | undefined;');
  for (const f of s.fields) {
    const c = versionCond(fixedVersions(f), vctx);
    if (c === 'false') continue;
    const inner = fixedVersions(f).intersect(vctx);
    if (c === 'true') {
      code.line(`field = '${f.prop}';`);
      emitReadField(code, f, `$${f.prop}`, inner, ctx, false);
    } else {
      code.open(`if (${c}) {`);
      code.line(`field = '${f.prop}';`);
      emitReadField(code, f, `$${f.prop}`, inner, ctx, false);
      code.close();
    }
  }
  if (flexible !== 'false') {
    ctx.runtime.add('readUnknownTag');
    ctx.runtime.add('tagBodyEnd');
    const tagged = s.fields.filter((f) => f.tag !== null && versionCond(f.taggedVersions, vctx) !== 'false');
    code.open(flexible === 'true' ? '{' : `if (${flexible}) {`);
    code.line("field = '';");
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
        code.line(`field = '${f.prop}';`);
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
  code.close('} catch (e) {');
  code.line('  throw decodeErrorAt(e, field, index, r.offset);');
  code.line('}');
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
  code.line(`create: create${n},`);
  code.close('};');
}
