// Kafka's framing: a 4-byte big-endian size, then a request or response header, then the body.
import { API_TABLE, type ApiInfo } from '../generated/api-table.js';
import { readRequestHeader } from '../generated/clients/request-header.js';
import { readResponseHeader } from '../generated/clients/response-header.js';
import { DecodeError, EncodeError } from './errors.js';
import { Reader } from './reader.js';
import type { MessageDescriptor, TaggedField } from './runtime.js';
import { DEFAULT_SPLICE_THRESHOLD, stringSize, uvarintSize, Writer } from './writer.js';

/** Kafka's default `socket.request.max.bytes`: 100 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 100 * 1024 * 1024;

/**
 * A frame size prefix is negative or above the limit: the stream cannot be resynchronised. `frames`
 * holds the complete frames that came before the bad prefix (in the same push), in order: they are
 * sound and owed an answer, so handle them before acting on the error.
 */
export class FrameSizeError extends DecodeError {
  readonly size: number;
  readonly frames: readonly Buffer[];
  constructor(size: number, max: number, frames: readonly Buffer[] = []) {
    super(
      size < 0 ? `frame size ${size} is negative` : `frame of ${size} bytes exceeds the limit of ${max}`,
      0,
    );
    this.size = size;
    this.frames = frames;
  }
}

/**
 * Splits a byte stream into frames. Frames come back without their size prefix, as slices of the
 * received chunk when a frame lies inside one chunk (the common case), copied once otherwise.
 */
export class FrameSplitter {
  private readonly maxFrameSize: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the partial frame at the head of `pending` needs in all, once its size is known. */
  private needed = 0;

  constructor(maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * Adds a chunk and returns the frames it completes. Throws FrameSizeError on a bad size prefix,
   * carrying the frames this chunk completed before it; the splitter is unusable afterwards.
   */
  push(chunk: Buffer): Buffer[] {
    let buf: Buffer;
    if (this.pendingBytes === 0) buf = chunk;
    else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // Wait for the whole frame before joining, so a large frame is copied once, not per chunk.
      if (this.needed > 0 && this.pendingBytes < this.needed) return [];
      buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const frames: Buffer[] = [];
    let o = 0;
    this.needed = 0;
    while (buf.length - o >= 4) {
      const size = buf.readInt32BE(o);
      if (size < 0 || size > this.maxFrameSize) throw new FrameSizeError(size, this.maxFrameSize, frames);
      if (buf.length - o - 4 < size) {
        this.needed = 4 + size;
        break;
      }
      frames.push(buf.subarray(o + 4, o + 4 + size));
      o += 4 + size;
    }
    if (o < buf.length) {
      const rest = buf.subarray(o);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
    return frames;
  }
}

/** A parsed request header, with where the body starts in the frame. */
export interface ParsedRequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** 1 or 2; 2 carries tagged fields. */
  headerVersion: number;
  /** Offset of the request body within the frame. */
  bodyOffset: number;
  /** The API is in the specs this codec was generated from. */
  known: boolean;
  unknownTaggedFields?: TaggedField[];
}

/** The request header version a request at (apiKey, apiVersion) uses, also for versions above the specs. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  const api = API_TABLE[apiKey];
  if (api === undefined) return 1;
  const known = api.requestHeaderVersions[apiVersion];
  if (known !== undefined && known >= 0) return known;
  // A version newer than the specs keeps the API's flexibility, which is how a broker can read the
  // header of an ApiVersions request above its maximum and still answer it (KIP-511).
  return api.flexibleFrom !== null && apiVersion >= api.flexibleFrom ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  const api = API_TABLE[apiKey];
  if (api === undefined) return 0;
  const known = api.responseHeaderVersions[apiVersion];
  if (known !== undefined && known >= 0) return known;
  if (api.apiKey === 18) return 0;
  return api.flexibleFrom !== null && apiVersion >= api.flexibleFrom ? 1 : 0;
}

/**
 * Parses the header of a request frame (without its size prefix). Works for any API key and
 * version: an unknown API still yields its correlation id, so the broker can answer it.
 */
export function parseRequestHeader(frame: Buffer): ParsedRequestHeader {
  if (frame.length < 8)
    throw new DecodeError(`request frame of ${frame.length} bytes is shorter than a header`, 0);
  const apiKey = frame.readInt16BE(0);
  const apiVersion = frame.readInt16BE(2);
  const api = API_TABLE[apiKey];
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const r = new Reader(frame);
  const h = readRequestHeader(r, headerVersion);
  const parsed: ParsedRequestHeader = {
    apiKey,
    apiVersion,
    correlationId: h.correlationId,
    clientId: h.clientId,
    headerVersion,
    bodyOffset: r.offset,
    known: api !== undefined && api.minVersion >= 0,
  };
  if (h.unknownTaggedFields !== undefined) parsed.unknownTaggedFields = h.unknownTaggedFields;
  return parsed;
}

/** Whether `apiVersion` of `apiKey` is in the specs (not whether a broker serves it). */
export function apiInfo(apiKey: number): ApiInfo | undefined {
  return API_TABLE[apiKey];
}

/** Decodes a request body after its header; throws DecodeError for an API or version the specs lack. */
export function decodeRequestBody<T = unknown>(frame: Buffer, header: ParsedRequestHeader): T {
  const api = API_TABLE[header.apiKey];
  if (api === undefined || header.apiVersion < api.minVersion || header.apiVersion > api.maxVersion)
    throw new DecodeError(`no request spec for API ${header.apiKey} version ${header.apiVersion}`, 0);
  return api.request.read(new Reader(frame, header.bodyOffset), header.apiVersion) as T;
}

/**
 * Encodes a whole response frame, size prefix included, into one buffer: the header version
 * follows the API table (ApiVersions always answers with header v0).
 */
export function encodeResponseFrame<T>(
  descriptor: MessageDescriptor<T>,
  apiVersion: number,
  correlationId: number,
  body: T,
): Buffer {
  const apiKey = descriptor.apiKey ?? -1;
  const headerVersion = responseHeaderVersion(apiKey, apiVersion);
  const headerSize = headerVersion >= 1 ? 5 : 4;
  const bodySize = descriptor.size(body, apiVersion);
  const w = Writer.alloc(4 + headerSize + bodySize);
  w.int32(headerSize + bodySize);
  w.int32(correlationId);
  if (headerVersion >= 1) w.uvarint(0);
  descriptor.write(w, body, apiVersion);
  checkWritten(w, descriptor, apiVersion);
  return w.buf;
}

/**
 * Encodes a message body as chunks: byte fields of `spliceThreshold` bytes or more (record batches,
 * say) are referenced, not copied, and everything else is written into one buffer sized for it.
 * Concatenated, the chunks are exactly `descriptor`'s single-buffer encoding. The referenced
 * buffers must stay unchanged until the chunks are written out.
 */
export function encodeChunks<T>(
  descriptor: MessageDescriptor<T>,
  message: T,
  version: number,
  spliceThreshold = DEFAULT_SPLICE_THRESHOLD,
): Buffer[] {
  const size = descriptor.size(message, version);
  const w = Writer.chunked(
    size - splicedBytes(descriptor, message, version, size, spliceThreshold),
    spliceThreshold,
  );
  descriptor.write(w, message, version);
  checkWritten(w, descriptor, version);
  return w.chunks();
}

function splicedBytes<T>(
  descriptor: MessageDescriptor<T>,
  message: T,
  version: number,
  size: number,
  spliceThreshold: number,
): number {
  // No field of a message smaller than the threshold can reach it: skip the walk.
  return size < spliceThreshold ? 0 : descriptor.spliced(message, version, spliceThreshold);
}

function checkWritten(w: Writer, descriptor: MessageDescriptor<unknown>, version: number): void {
  if (w.offset !== w.buf.length)
    throw new EncodeError(`${descriptor.name} v${version} wrote ${w.offset} bytes, sized ${w.buf.length}`);
}

/**
 * `encodeResponseFrame` as chunks for `socket.writev` (or `cork()`, one `write` per chunk,
 * `uncork()`): the first chunk holds the size prefix, the header and the body up to the first spliced
 * byte field; byte fields of `spliceThreshold` bytes or more are the caller's buffers, not copies.
 * Concatenated, the chunks are exactly `encodeResponseFrame`'s buffer.
 */
export function encodeResponseFrameChunks<T>(
  descriptor: MessageDescriptor<T>,
  apiVersion: number,
  correlationId: number,
  body: T,
  spliceThreshold = DEFAULT_SPLICE_THRESHOLD,
): Buffer[] {
  const apiKey = descriptor.apiKey ?? -1;
  const headerVersion = responseHeaderVersion(apiKey, apiVersion);
  const headerSize = headerVersion >= 1 ? 5 : 4;
  const bodySize = descriptor.size(body, apiVersion);
  const spliced = splicedBytes(descriptor, body, apiVersion, bodySize, spliceThreshold);
  const w = Writer.chunked(4 + headerSize + bodySize - spliced, spliceThreshold);
  w.int32(headerSize + bodySize);
  w.int32(correlationId);
  if (headerVersion >= 1) w.uvarint(0);
  descriptor.write(w, body, apiVersion);
  checkWritten(w, descriptor, apiVersion);
  return w.chunks();
}

/** `encodeRequestFrame` as chunks; see `encodeResponseFrameChunks`. */
export function encodeRequestFrameChunks<T>(
  descriptor: MessageDescriptor<T>,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: T,
  spliceThreshold = DEFAULT_SPLICE_THRESHOLD,
): Buffer[] {
  const apiKey = descriptor.apiKey ?? -1;
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const headerSize = 8 + stringSize(clientId) + (headerVersion >= 2 ? uvarintSize(0) : 0);
  const bodySize = descriptor.size(body, apiVersion);
  const spliced = splicedBytes(descriptor, body, apiVersion, bodySize, spliceThreshold);
  const w = Writer.chunked(4 + headerSize + bodySize - spliced, spliceThreshold);
  writeRequestHead(w, apiKey, apiVersion, correlationId, clientId, headerVersion, headerSize + bodySize);
  descriptor.write(w, body, apiVersion);
  checkWritten(w, descriptor, apiVersion);
  return w.chunks();
}

function writeRequestHead(
  w: Writer,
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  headerVersion: number,
  frameSize: number,
): void {
  w.int32(frameSize);
  w.int16(apiKey);
  w.int16(apiVersion);
  w.int32(correlationId);
  w.nullableString(clientId);
  if (headerVersion >= 2) w.uvarint(0);
}

/** Encodes a whole request frame, size prefix included, as a client or proxy sends it. */
export function encodeRequestFrame<T>(
  descriptor: MessageDescriptor<T>,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: T,
): Buffer {
  const apiKey = descriptor.apiKey ?? -1;
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const headerSize = 8 + stringSize(clientId) + (headerVersion >= 2 ? uvarintSize(0) : 0);
  const bodySize = descriptor.size(body, apiVersion);
  const w = Writer.alloc(4 + headerSize + bodySize);
  writeRequestHead(w, apiKey, apiVersion, correlationId, clientId, headerVersion, headerSize + bodySize);
  descriptor.write(w, body, apiVersion);
  checkWritten(w, descriptor, apiVersion);
  return w.buf;
}

/** Reads a response frame (without its size prefix) for a request of (apiKey, apiVersion). */
export function decodeResponseFrame<T = unknown>(
  frame: Buffer,
  apiKey: number,
  apiVersion: number,
): { correlationId: number; body: T } {
  const api = API_TABLE[apiKey];
  if (api === undefined || apiVersion < api.minVersion || apiVersion > api.maxVersion)
    throw new DecodeError(`no response spec for API ${apiKey} version ${apiVersion}`, 0);
  const r = new Reader(frame);
  const h = readResponseHeader(r, responseHeaderVersion(apiKey, apiVersion));
  return { correlationId: h.correlationId, body: api.response.read(r, apiVersion) as T };
}
