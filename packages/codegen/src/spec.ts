import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { MAX_VERSION, Versions } from './versions.js';

// The raw JSON shape of a Kafka message spec. Objects are strict: a key the generator does not know
// is an error, so a new spec feature can never be silently ignored.
const versionText = z.string();
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

interface RawField {
  name: string;
  type: string;
  versions?: string | undefined;
  nullableVersions?: string | undefined;
  taggedVersions?: string | undefined;
  flexibleVersions?: string | undefined;
  tag?: string | number | undefined;
  default?: string | number | boolean | null | undefined;
  ignorable?: boolean | undefined;
  mapKey?: boolean | undefined;
  entityType?: string | undefined;
  about?: string | undefined;
  zeroCopy?: boolean | undefined;
  fields?: RawField[] | undefined;
}

const rawField: z.ZodType<RawField> = z.lazy(() =>
  z
    .object({
      name: z.string(),
      type: z.string(),
      versions: versionText.optional(),
      nullableVersions: versionText.optional(),
      taggedVersions: versionText.optional(),
      flexibleVersions: versionText.optional(),
      tag: z.union([z.string(), z.number()]).optional(),
      default: scalar.optional(),
      ignorable: z.boolean().optional(),
      mapKey: z.boolean().optional(),
      entityType: z
        .enum(['unknown', 'transactionalId', 'producerId', 'groupId', 'topicName', 'brokerId'])
        .optional(),
      about: z.string().optional(),
      zeroCopy: z.boolean().optional(),
      fields: z.array(rawField).optional(),
    })
    .strict(),
);

const rawStruct = z.object({ name: z.string(), versions: versionText, fields: z.array(rawField) }).strict();

export const SPEC_TYPES = [
  'request',
  'response',
  'header',
  'data',
  'metadata',
  'coordinator-key',
  'coordinator-value',
] as const;
export type SpecType = (typeof SPEC_TYPES)[number];

const rawSpec = z
  .object({
    apiKey: z.number().int().min(0).max(MAX_VERSION).optional(),
    type: z.enum(SPEC_TYPES),
    name: z.string(),
    validVersions: versionText,
    flexibleVersions: versionText.optional(),
    latestVersionUnstable: z.boolean().optional(),
    listeners: z.array(z.enum(['broker', 'controller'])).optional(),
    fields: z.array(rawField).optional(),
    commonStructs: z.array(rawStruct).optional(),
  })
  .strict();

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'uuid'
  | 'bytes'
  | 'records';

export const PRIMITIVES: readonly PrimitiveType[] = [
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'uuid',
  'bytes',
  'records',
];

export type FieldType =
  | { kind: 'primitive'; name: PrimitiveType }
  | { kind: 'struct'; struct: StructSpec }
  | {
      kind: 'array';
      element: { kind: 'primitive'; name: PrimitiveType } | { kind: 'struct'; struct: StructSpec };
    };

/** A field's default, already parsed for its type. */
export type DefaultValue =
  | { kind: 'number'; value: number }
  | { kind: 'bigint'; value: bigint }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'uuid'; value: Buffer }
  | { kind: 'null' }
  | { kind: 'empty' };

export interface FieldSpec {
  /** As written in the spec (PascalCase in Kafka's own messages). */
  name: string;
  /** The TypeScript property name. */
  prop: string;
  type: FieldType;
  versions: Versions;
  nullableVersions: Versions;
  taggedVersions: Versions;
  /** Versions in which strings and bytes use compact encoding, when the field overrides the message. */
  flexibleVersions: Versions | null;
  tag: number | null;
  ignorable: boolean;
  mapKey: boolean;
  entityType: string | null;
  about: string;
  zeroCopy: boolean;
  default: DefaultValue;
}

export interface StructSpec {
  /** The name in the spec. */
  name: string;
  /** The TypeScript name, scoped by the message. */
  typeName: string;
  /** Versions the struct's own fields say they exist in (for common structs, their declared versions). */
  versions: Versions;
  fields: FieldSpec[];
  common: boolean;
}

export interface MessageSpec {
  name: string;
  type: SpecType;
  apiKey: number | null;
  validVersions: Versions;
  flexibleVersions: Versions;
  latestVersionUnstable: boolean;
  listeners: string[];
  root: StructSpec;
  /** Every struct in the message, in first-use order, the root first. */
  structs: StructSpec[];
  /** Path of the spec file relative to the spec folder, for headers and errors. */
  file: string;
  /** Folder of the spec inside the spec root (`clients`, `group-coordinator`, ...). */
  group: string;
}

/** Removes `//` comments outside strings, as Kafka's spec reader does. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const STRUCT_NAME = /^[A-Z][A-Za-z0-9]*$/;

class SpecError extends Error {}

/** Parses and validates one spec file's text. `file` names it in errors. */
export function parseSpec(text: string, file: string, group: string): MessageSpec {
  let json: unknown;
  try {
    json = JSON.parse(stripComments(text));
  } catch (e) {
    throw new SpecError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  const parsed = rawSpec.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SpecError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const raw = parsed.data;
  const where = `${file} (${raw.name})`;
  if (!STRUCT_NAME.test(raw.name)) throw new SpecError(`${where}: invalid message name`);
  const validVersions = Versions.parse(raw.validVersions, `${where}: validVersions`);
  const needsApiKey = raw.type !== 'header' && raw.type !== 'data';
  if (needsApiKey && raw.apiKey === undefined)
    throw new SpecError(`${where}: a ${raw.type} spec needs an apiKey`);
  if (!needsApiKey && raw.apiKey !== undefined)
    throw new SpecError(`${where}: a ${raw.type} spec has no apiKey`);
  if (raw.listeners !== undefined && raw.type !== 'request')
    throw new SpecError(`${where}: only request specs name listeners`);
  if (!validVersions.empty) {
    if (raw.flexibleVersions === undefined)
      throw new SpecError(`${where}: flexibleVersions is required (use "0+" for new messages)`);
    if (raw.fields === undefined) throw new SpecError(`${where}: fields is required`);
  }
  const flexibleVersions =
    raw.flexibleVersions === undefined
      ? Versions.NONE
      : Versions.parse(raw.flexibleVersions, `${where}: flexibleVersions`);
  if (!flexibleVersions.empty && !flexibleVersions.openEnded)
    throw new SpecError(`${where}: flexibleVersions must be "none" or an open-ended range`);
  if (raw.latestVersionUnstable && validVersions.empty)
    throw new SpecError(`${where}: latestVersionUnstable on a message with no versions`);

  const builder = new StructBuilder(raw.name, where, flexibleVersions, raw.commonStructs ?? []);
  const root: StructSpec = {
    name: raw.name,
    typeName: raw.name,
    versions: validVersions,
    fields: [],
    common: false,
  };
  builder.register(root);
  root.fields = builder.fields(raw.fields ?? [], validVersions, raw.name);
  builder.checkCommonStructsUsed();

  return {
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey ?? null,
    validVersions,
    flexibleVersions,
    latestVersionUnstable: raw.latestVersionUnstable ?? false,
    listeners: raw.listeners ?? [],
    root,
    structs: builder.structs,
    file,
    group,
  };
}

class StructBuilder {
  readonly structs: StructSpec[] = [];
  private readonly byName = new Map<string, StructSpec>();
  private readonly common = new Map<string, z.infer<typeof rawStruct>>();
  private readonly commonBuilt = new Map<string, StructSpec>();
  private readonly typeNames = new Set<string>();

  constructor(
    private readonly messageName: string,
    private readonly where: string,
    private readonly flexibleVersions: Versions,
    commonStructs: z.infer<typeof rawStruct>[],
  ) {
    for (const cs of commonStructs) {
      if (!STRUCT_NAME.test(cs.name))
        throw new SpecError(`${where}: invalid common struct name "${cs.name}"`);
      if (this.common.has(cs.name))
        throw new SpecError(`${where}: common struct "${cs.name}" is defined twice`);
      this.common.set(cs.name, cs);
    }
  }

  register(struct: StructSpec): void {
    if (this.byName.has(struct.name))
      throw new SpecError(`${this.where}: struct "${struct.name}" is defined twice`);
    if (this.typeNames.has(struct.typeName))
      throw new SpecError(`${this.where}: struct type name "${struct.typeName}" collides`);
    this.byName.set(struct.name, struct);
    this.typeNames.add(struct.typeName);
    this.structs.push(struct);
  }

  checkCommonStructsUsed(): void {
    for (const name of this.common.keys())
      if (!this.commonBuilt.has(name))
        throw new SpecError(`${this.where}: common struct "${name}" is never used`);
  }

  scopedName(structName: string): string {
    return structName.startsWith(this.messageName) ? structName : `${this.messageName}${structName}`;
  }

  fields(raws: RawField[], parentVersions: Versions, parentName: string): FieldSpec[] {
    const out: FieldSpec[] = [];
    const names = new Set<string>();
    const tags = new Set<number>();
    for (const raw of raws) {
      const f = this.field(raw, parentVersions, parentName);
      const lower = f.name.toLowerCase();
      if (names.has(lower))
        throw new SpecError(`${this.where}: ${parentName} has two fields named "${f.name}"`);
      names.add(lower);
      if (f.tag !== null) {
        if (tags.has(f.tag)) throw new SpecError(`${this.where}: ${parentName} uses tag ${f.tag} twice`);
        tags.add(f.tag);
      }
      out.push(f);
    }
    if (tags.size > 0) {
      // Kafka requires tags to be contiguous from 0 within a struct.
      for (let t = 0; t < tags.size; t++)
        if (!tags.has(t))
          throw new SpecError(`${this.where}: ${parentName} tags are not contiguous from 0 (missing ${t})`);
    }
    return out;
  }

  private field(raw: RawField, parentVersions: Versions, parentName: string): FieldSpec {
    const where = `${this.where}: field ${parentName}.${raw.name}`;
    if (!FIELD_NAME.test(raw.name)) throw new SpecError(`${where}: invalid field name`);
    const taggedVersions =
      raw.taggedVersions === undefined
        ? Versions.NONE
        : Versions.parse(raw.taggedVersions, `${where}: taggedVersions`);
    let versions: Versions;
    if (raw.versions !== undefined) versions = Versions.parse(raw.versions, `${where}: versions`);
    else if (raw.taggedVersions !== undefined) versions = taggedVersions;
    else throw new SpecError(`${where}: versions is required`);
    if (versions.empty) throw new SpecError(`${where}: a field must exist in some version`);
    const nullableVersions =
      raw.nullableVersions === undefined
        ? Versions.NONE
        : Versions.parse(raw.nullableVersions, `${where}: nullableVersions`);

    let tag: number | null = null;
    if (raw.tag !== undefined) {
      const t = typeof raw.tag === 'number' ? raw.tag : Number(raw.tag);
      if (
        !Number.isSafeInteger(t) ||
        t < 0 ||
        t > 0x7fffffff ||
        (typeof raw.tag === 'string' && !/^\d+$/.test(raw.tag))
      )
        throw new SpecError(`${where}: invalid tag ${JSON.stringify(raw.tag)}`);
      tag = t;
    }
    if (tag !== null && taggedVersions.empty) throw new SpecError(`${where}: a tag needs taggedVersions`);
    if (tag === null && !taggedVersions.empty) throw new SpecError(`${where}: taggedVersions needs a tag`);
    if (!taggedVersions.empty) {
      if (!taggedVersions.openEnded)
        throw new SpecError(`${where}: taggedVersions must be an open-ended range`);
      if (!versions.includes(taggedVersions))
        throw new SpecError(
          `${where}: taggedVersions ${taggedVersions} are not a subset of versions ${versions}`,
        );
      if (!this.flexibleVersions.includes(taggedVersions))
        throw new SpecError(
          `${where}: taggedVersions ${taggedVersions} are not a subset of flexibleVersions ${this.flexibleVersions}`,
        );
    }

    const type = this.type(raw, versions, parentVersions, where);
    const isStringOrBytes = type.kind === 'primitive' && (type.name === 'string' || type.name === 'bytes');
    const nullable =
      type.kind === 'array' ||
      type.kind === 'struct' ||
      (type.kind === 'primitive' &&
        (type.name === 'string' || type.name === 'bytes' || type.name === 'records'));
    if (!nullableVersions.empty && !nullable)
      throw new SpecError(`${where}: type ${raw.type} cannot be nullable`);
    let flexibleVersions: Versions | null = null;
    if (raw.flexibleVersions !== undefined) {
      if (!isStringOrBytes)
        throw new SpecError(`${where}: only string and bytes fields can override flexibleVersions`);
      flexibleVersions = Versions.parse(raw.flexibleVersions, `${where}: flexibleVersions`);
    }
    if (raw.zeroCopy && !(type.kind === 'primitive' && type.name === 'bytes'))
      throw new SpecError(`${where}: only bytes fields can be zeroCopy`);
    if (raw.mapKey && type.kind !== 'primitive')
      throw new SpecError(`${where}: a mapKey must be a primitive field`);
    if (raw.entityType !== undefined && raw.entityType !== 'unknown') {
      const base = type.kind === 'array' ? type.element : type;
      const ok =
        base.kind === 'primitive' &&
        (raw.entityType === 'brokerId'
          ? base.name === 'int32'
          : raw.entityType === 'producerId'
            ? base.name === 'int64'
            : base.name === 'string');
      if (!ok) throw new SpecError(`${where}: entityType ${raw.entityType} does not fit type ${raw.type}`);
    }

    const field: FieldSpec = {
      name: raw.name,
      prop: camelCase(raw.name),
      type,
      versions,
      nullableVersions,
      taggedVersions,
      flexibleVersions,
      tag,
      ignorable: raw.ignorable ?? false,
      mapKey: raw.mapKey ?? false,
      entityType: raw.entityType ?? null,
      about: raw.about ?? '',
      zeroCopy: raw.zeroCopy ?? false,
      default: { kind: 'empty' },
    };
    if (field.prop === 'unknownTaggedFields')
      throw new SpecError(`${where}: the name is reserved for unknown tags`);
    field.default = parseDefault(raw.default, field, where);
    return field;
  }

  private type(raw: RawField, versions: Versions, parentVersions: Versions, where: string): FieldType {
    const text = raw.type;
    const isArray = text.startsWith('[]');
    const base = isArray ? text.slice(2) : text;
    if ((PRIMITIVES as readonly string[]).includes(base)) {
      if (raw.fields !== undefined && raw.fields.length > 0)
        throw new SpecError(`${where}: a field of type ${text} cannot have fields`);
      if (isArray && base === 'records') throw new SpecError(`${where}: arrays of records are not allowed`);
      const prim = { kind: 'primitive', name: base as PrimitiveType } as const;
      return isArray ? { kind: 'array', element: prim } : prim;
    }
    if (!STRUCT_NAME.test(base)) throw new SpecError(`${where}: unknown type "${text}"`);
    const structVersions = versions.intersect(parentVersions);
    let struct: StructSpec;
    if (raw.fields !== undefined) {
      if (this.common.has(base))
        throw new SpecError(`${where}: struct "${base}" is defined inline and as a common struct`);
      struct = { name: base, typeName: this.scopedName(base), versions, fields: [], common: false };
      this.register(struct);
      struct.fields = this.fields(raw.fields, structVersions, base);
    } else {
      const built = this.commonBuilt.get(base);
      if (built) struct = built;
      else {
        const cs = this.common.get(base);
        if (!cs)
          throw new SpecError(`${where}: unknown type "${text}" (no inline fields and no common struct)`);
        const csVersions = Versions.parse(cs.versions, `${where}: common struct ${cs.name} versions`);
        struct = {
          name: base,
          typeName: this.scopedName(base),
          versions: csVersions,
          fields: [],
          common: true,
        };
        this.register(struct);
        this.commonBuilt.set(base, struct);
        struct.fields = this.fields(cs.fields, csVersions, base);
      }
    }
    const element = { kind: 'struct', struct } as const;
    return isArray ? { kind: 'array', element } : element;
  }
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-9223372036854775808n, 9223372036854775807n],
};

function parseDefault(raw: RawField['default'], field: FieldSpec, where: string): DefaultValue {
  // A JSON null default is no default at all, unlike the string "null".
  const text = raw === undefined || raw === null ? '' : String(raw);
  const t = field.type;
  const nullDefault = (): DefaultValue => {
    if (!field.nullableVersions.includes(field.versions))
      throw new SpecError(
        `${where}: null cannot be the default because not every version of the field is nullable`,
      );
    return { kind: 'null' };
  };
  if (t.kind === 'array' || t.kind === 'struct') {
    if (text === '') return { kind: 'empty' };
    if (text === 'null') return nullDefault();
    throw new SpecError(`${where}: invalid default "${text}" for ${t.kind} field`);
  }
  switch (t.name) {
    case 'bool':
      if (text === '' || text === 'false') return { kind: 'bool', value: false };
      if (text === 'true') return { kind: 'bool', value: true };
      throw new SpecError(`${where}: invalid default "${text}" for bool`);
    case 'float64': {
      if (text === '') return { kind: 'number', value: 0 };
      const v = Number(text);
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || !Number.isFinite(v))
        throw new SpecError(`${where}: invalid default "${text}" for float64`);
      return { kind: 'number', value: v };
    }
    case 'string':
      if (text === 'null') return nullDefault();
      return { kind: 'string', value: text };
    case 'uuid': {
      if (text === '') return { kind: 'uuid', value: Buffer.alloc(16) };
      const bytes = Buffer.from(text, 'base64url');
      if (!/^[A-Za-z0-9_-]{22}$/.test(text) || bytes.length !== 16)
        throw new SpecError(`${where}: invalid default "${text}" for uuid (22 base64url characters)`);
      return { kind: 'uuid', value: bytes };
    }
    case 'bytes':
      if (text === '') return { kind: 'empty' };
      if (text === 'null') return nullDefault();
      throw new SpecError(`${where}: invalid default "${text}" for bytes`);
    case 'records':
      if (text !== '' && text !== 'null')
        throw new SpecError(`${where}: invalid default "${text}" for records`);
      return { kind: 'null' };
    default: {
      const range = INT_RANGES[t.name]!;
      if (text === '')
        return t.name === 'int64' ? { kind: 'bigint', value: 0n } : { kind: 'number', value: 0 };
      let v: bigint;
      if (/^0x[0-9a-fA-F]+$/.test(text)) v = BigInt(text);
      else if (/^-?\d+$/.test(text)) v = BigInt(text);
      else throw new SpecError(`${where}: invalid default "${text}" for ${t.name}`);
      if (v < range[0] || v > range[1])
        throw new SpecError(`${where}: default ${text} is out of range for ${t.name}`);
      return t.name === 'int64' ? { kind: 'bigint', value: v } : { kind: 'number', value: Number(v) };
    }
  }
}

/** The spec folders that make up the codec, in the order they are generated. */
export const SPEC_GROUPS = [
  'clients',
  'group-coordinator',
  'transaction-coordinator',
  'share-coordinator',
  'metadata',
] as const;

/** Reads every spec of the given groups below `root`. Names must be unique across all of them. */
export function loadSpecs(root: string, groups: readonly string[] = SPEC_GROUPS): MessageSpec[] {
  const specs: MessageSpec[] = [];
  const names = new Map<string, string>();
  for (const group of groups) {
    const dir = join(root, group);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    if (files.length === 0) throw new SpecError(`${dir}: no spec files`);
    for (const f of files) {
      const path = join(dir, f);
      const rel = relative(root, path).split('\\').join('/');
      const spec = parseSpec(readFileSync(path, 'utf8'), rel, group);
      const prior = names.get(spec.name);
      if (prior) throw new SpecError(`${rel}: message name ${spec.name} is also used by ${prior}`);
      names.set(spec.name, rel);
      specs.push(spec);
    }
  }
  checkPairs(specs);
  return specs;
}

/** Requests and responses come in pairs with the same key and versions. */
function checkPairs(specs: MessageSpec[]): void {
  const requests = new Map<number, MessageSpec>();
  const responses = new Map<number, MessageSpec>();
  for (const s of specs) {
    if (s.type !== 'request' && s.type !== 'response') continue;
    const map = s.type === 'request' ? requests : responses;
    const prior = map.get(s.apiKey!);
    if (prior) throw new SpecError(`${s.file}: apiKey ${s.apiKey} is also used by ${prior.file}`);
    map.set(s.apiKey!, s);
  }
  for (const [key, req] of requests) {
    const res = responses.get(key);
    if (!res) throw new SpecError(`${req.file}: no response spec with apiKey ${key}`);
    if (!req.validVersions.equals(res.validVersions))
      throw new SpecError(
        `${req.file}: validVersions ${req.validVersions} differ from the response's ${res.validVersions}`,
      );
    if (!req.flexibleVersions.equals(res.flexibleVersions))
      throw new SpecError(`${req.file}: flexibleVersions differ from the response's`);
    if (req.listeners.length === 0 && !req.validVersions.empty)
      throw new SpecError(`${req.file}: no listeners`);
  }
  for (const [key, res] of responses)
    if (!requests.has(key)) throw new SpecError(`${res.file}: no request spec with apiKey ${key}`);
}

export { SpecError };
