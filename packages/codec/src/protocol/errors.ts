/**
 * A frame or field could not be decoded. `path` names the field that failed, from the message root
 * (`topics[2].partitions[0].records`), and `offset` is the byte offset in the buffer being read.
 * Every decoding failure in this package is a DecodeError: never a RangeError, a hang or a huge allocation.
 */
export class DecodeError extends Error {
  override name: string = 'DecodeError';
  /** Field path from the message root, empty when the failure is outside any field. */
  path: string;
  readonly offset: number;
  /** The reason without the path, so the path can be extended while the error unwinds. */
  readonly reason: string;

  constructor(reason: string, offset: number, path = '') {
    super(formatMessage(reason, offset, path));
    this.reason = reason;
    this.offset = offset;
    this.path = path;
  }

  /** Prefixes a field (or an array index when `segment` starts with `[`) to the path. */
  within(segment: string): this {
    this.path =
      this.path === ''
        ? segment
        : this.path.startsWith('[')
          ? segment + this.path
          : `${segment}.${this.path}`;
    this.message = formatMessage(this.reason, this.offset, this.path);
    return this;
  }
}

/** A value cannot be encoded at the requested version (Kafka's UnsupportedVersionException). */
export class EncodeError extends Error {
  override name: string = 'EncodeError';
}

function formatMessage(reason: string, offset: number, path: string): string {
  return path === '' ? `${reason} at offset ${offset}` : `${path}: ${reason} at offset ${offset}`;
}

/**
 * Called from the catch block of every generated struct decoder: turns any failure into a DecodeError
 * carrying the path of the field being read. `index` is the array element being read, or -1.
 */
export function decodeErrorAt(error: unknown, field: string, index: number, offset: number): DecodeError {
  const e =
    error instanceof DecodeError
      ? error
      : new DecodeError(error instanceof Error ? error.message : String(error), offset);
  if (index >= 0) e.within(`[${index}]`);
  if (field !== '') e.within(field);
  return e;
}
