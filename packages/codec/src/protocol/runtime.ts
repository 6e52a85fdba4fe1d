// The small runtime the generated message codecs call into. Handwritten; the generated files
// under ../generated import only from here.
import { DecodeError, EncodeError } from './errors.js';
import type { Reader } from './reader.js';
import { uvarintSize, type Writer } from './writer.js';

export { DecodeError, decodeErrorAt, EncodeError } from './errors.js';
export { Reader } from './reader.js';
export {
  bytesSize,
  compactBytesSize,
  compactStringSize,
  stringSize,
  uvarintSize,
  Writer,
} from './writer.js';

/** A tagged field the generated code does not know, kept as raw bytes so it can be written back. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/** The all-zero UUID, Kafka's default. Shared: do not write into it. */
export const ZERO_UUID: Buffer = Buffer.alloc(16);
/** The empty byte string, shared by decoded empty `bytes` fields. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
const NO_TAGS: readonly TaggedField[] = [];

/**
 * Freezes a default struct, and the structs and arrays in it, for decoders to share: a decoded
 * message whose version lacks a struct field holds this one instance. Byte fields are left as they
 * are (a typed array cannot be frozen), shared like ZERO_UUID.
 */
export function frozenDefault<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) frozenDefault(v);
    Object.freeze(value);
  }
  return value;
}

export function uuidEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads the body of a tag the decoder does not know and appends it to `list`. */
export function readUnknownTag(
  r: Reader,
  tag: number,
  size: number,
  list: TaggedField[] | undefined,
): TaggedField[] {
  const data = r.raw(size);
  if (list === undefined) return [{ tag, data }];
  list.push({ tag, data });
  return list;
}

/** Unknown tags in ascending order, as Kafka requires them on the wire. */
export function sortedTags(tags: readonly TaggedField[] | undefined): readonly TaggedField[] {
  if (tags === undefined || tags.length === 0) return NO_TAGS;
  for (let i = 1; i < tags.length; i++) {
    if (tags[i]!.tag <= tags[i - 1]!.tag) {
      const copy = [...tags].sort((a, b) => a.tag - b.tag);
      for (let j = 1; j < copy.length; j++)
        if (copy[j]!.tag === copy[j - 1]!.tag) throw new EncodeError(`tag ${copy[j]!.tag} appears twice`);
      return copy;
    }
  }
  return tags;
}

export function rawTagsSize(tags: readonly TaggedField[] | undefined): number {
  if (tags === undefined) return 0;
  let size = 0;
  for (const t of tags) size += uvarintSize(t.tag) + uvarintSize(t.data.length) + t.data.length;
  return size;
}

export function writeRawTag(w: Writer, t: TaggedField): void {
  w.uvarint(t.tag);
  w.uvarint(t.data.length);
  w.raw(t.data);
}

/** Called after a known tagged field was read: its declared size must match what it used. */
export function checkTagEnd(r: Reader, tag: number, end: number): void {
  if (r.offset !== end)
    throw new DecodeError(
      `tagged field ${tag} used ${r.offset - end} bytes more than its declared size`,
      r.offset,
    );
}

export function tagBodyEnd(r: Reader, tag: number, size: number): number {
  const end = r.offset + size;
  if (end > r.end) throw new DecodeError(`tagged field ${tag} of ${size} bytes runs past the end`, r.offset);
  return end;
}

export function nullArray(r: Reader): never {
  throw new DecodeError('non-nullable array is null', r.offset);
}

export function unsupportedVersion(name: string, version: number, lo: number, hi: number): never {
  throw new EncodeError(`${name} has no version ${version} (valid versions ${lo}-${hi})`);
}

export function nonDefaultAtVersion(field: string, version: number): never {
  throw new EncodeError(
    `${field} cannot be non-default at version ${version}: that version has no such field`,
  );
}

export function nullAtVersion(field: string, version: number): never {
  throw new EncodeError(`${field} cannot be null at version ${version}`);
}

export type SpecType =
  | 'request'
  | 'response'
  | 'header'
  | 'data'
  | 'metadata'
  | 'coordinator-key'
  | 'coordinator-value';

/** Everything needed to read, write and size one message type at any of its versions. */
export interface MessageDescriptor<T> {
  readonly name: string;
  readonly type: SpecType;
  /** The API key for requests and responses, the record type for metadata and coordinator records. */
  readonly apiKey: number | null;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The first flexible version, or null when no version is flexible. */
  readonly flexibleFrom: number | null;
  read(r: Reader, version: number): T;
  write(w: Writer, message: T, version: number): void;
  size(message: T, version: number): number;
  /**
   * The bytes of the message's `bytes` and `records` fields of at least `threshold` bytes each: what
   * a chunked writer with that threshold references instead of copying (`Writer.chunked`).
   */
  spliced(message: T, version: number, threshold: number): number;
  create(init?: Partial<T>): T;
}

/** `spliced` of a message with no byte fields. */
export function noSplicedBytes(): number {
  return 0;
}

/** Bytes a chunked writer with threshold `min` splices for one byte field. */
export function splicedLength(b: Uint8Array | null, min: number): number {
  return b !== null && b.length >= min ? b.length : 0;
}

/** Sum of `size(e)` over an array: the size of a variable-width array's elements. */
export function sumOf<T>(items: readonly T[], size: (e: T) => number): number {
  let n = 0;
  for (let i = 0; i < items.length; i++) n += size(items[i]!);
  return n;
}
