import * as zlib from 'node:zlib';
import { lz4HeaderChecksum } from '../compression/lz4-frame.js';
import type { CompressionRegistry } from '../compression/registry.js';
import { defaultCompression } from '../compression/registry.js';
import { DecodeError } from '../protocol/errors.js';
import { Reader } from '../protocol/reader.js';
import { TimestampType } from './attributes.js';
import { readInt32, readInt64Number } from './int64.js';
import { InvalidRecordBatchError } from './invalid-record-error.js';
import { LOG_OVERHEAD } from './record-batch-layout.js';

/*
 * Legacy message sets (magic 0 and 1), decode only: what a pre-0.11 client sends or an old log
 * holds. Each entry is offset int64 | messageSize int32 | message, and a message is
 *
 *   crc uint32 (CRC-32, not C, over magic..end) | magic int8 | attributes int8 |
 *   [timestamp int64, magic 1 only] | key bytes (int32 length, -1 null) | value bytes
 *
 * A compressed message is a wrapper whose value is a compressed message set. In magic 1 wrappers
 * the inner offsets are relative (0..n-1) and the wrapper carries the offset of the last one.
 */

const CRC_AT = 0;
const MAGIC_AT = 4;
const ATTRIBUTES_AT = 5;
const MIN_MESSAGE_SIZE = [14, 22] as const;
const TIMESTAMP_TYPE_BIT = 0x08;
const COMPRESSION_MASK = 0x07;

export interface LegacyMessage {
  /** Absolute offset (inner offsets of magic 1 wrappers already resolved). */
  offset: bigint;
  magic: 0 | 1;
  attributes: number;
  /** The codec of the wrapper this message came out of, or 0. */
  compression: number;
  timestampType: TimestampType;
  /** Milliseconds; -1 for magic 0 (which has no timestamp). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

export interface ReadLegacyOptions {
  compression?: CompressionRegistry;
  /** Check each message's CRC-32 (default true). */
  verifyCrc?: boolean;
}

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-32 (IEEE) in plain JS: the fallback for runtimes whose node:zlib lacks crc32. */
export function crc32Js(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1;
  for (let i = start; i < end; i++) crc = TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (IEEE), as legacy messages use; node:zlib's (Node >= 20.15) when present. */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  if (zlibCrc32 !== undefined) return zlibCrc32(buf.subarray(start, end)) >>> 0;
  return crc32Js(buf, start, end);
}

interface RawMessage {
  offset: bigint;
  magic: 0 | 1;
  attributes: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Reads the entries of a message set. `partialOk` lets the set end in a cut-off entry (a Fetch
 * response may), reported through the returned count of trailing bytes.
 */
function readEntries(buf: Buffer, partialOk: boolean, verifyCrc: boolean, out: RawMessage[]): number {
  let p = 0;
  const end = buf.length;
  while (p < end) {
    const left = end - p;
    if (left >= LOG_OVERHEAD) {
      const size = readInt32(buf, p + 8);
      if (size < MIN_MESSAGE_SIZE[0])
        throw new InvalidRecordBatchError('length', `message size ${size} is too small`, p + 8);
      if (LOG_OVERHEAD + size <= left) {
        p = readMessage(buf, p, size, verifyCrc, out);
        continue;
      }
    }
    if (partialOk) return left;
    throw new InvalidRecordBatchError(
      'truncated',
      `message set ends inside a message (${left} bytes left)`,
      p,
    );
  }
  return 0;
}

/** Reads the complete entry at `p` whose message is `size` bytes; returns the next entry's position. */
function readMessage(buf: Buffer, p: number, size: number, verifyCrc: boolean, out: RawMessage[]): number {
  const m = p + LOG_OVERHEAD;
  const magicByte = buf[m + MAGIC_AT]!;
  if (magicByte > 1)
    throw new InvalidRecordBatchError('magic', `legacy message has magic ${magicByte}`, m + MAGIC_AT);
  const magic = magicByte as 0 | 1;
  const min = MIN_MESSAGE_SIZE[magic];
  if (size < min)
    throw new InvalidRecordBatchError('length', `magic ${magic} message size ${size} is too small`, p + 8);
  const messageEnd = m + size;
  if (verifyCrc) {
    const stored = readInt32(buf, m + CRC_AT) >>> 0;
    const actual = crc32(buf, m + MAGIC_AT, messageEnd);
    if (stored !== actual)
      throw new InvalidRecordBatchError(
        'crc',
        `message CRC is 0x${stored.toString(16)}, data gives 0x${actual.toString(16)}`,
        m + CRC_AT,
      );
  }
  const r = new Reader(buf, m + ATTRIBUTES_AT + 1, messageEnd);
  let timestamp = -1;
  try {
    if (magic === 1) {
      timestamp = readInt64Number(buf, r.offset, 'message timestamp');
      r.skip(8);
    }
    const key = r.nullableBytes();
    const value = r.nullableBytes();
    if (r.offset !== messageEnd)
      throw new DecodeError(`${messageEnd - r.offset} bytes follow the message value`, r.offset);
    out.push({
      offset: buf.readBigInt64BE(p),
      magic,
      attributes: buf[m + ATTRIBUTES_AT]!,
      timestamp,
      key,
      value,
    });
  } catch (e) {
    if (e instanceof InvalidRecordBatchError) throw e;
    throw new InvalidRecordBatchError('records', e instanceof DecodeError ? e.reason : String(e), r.offset);
  }
  return messageEnd;
}

/**
 * Magic 0 LZ4 wrappers carry the header checksum Kafka 0.8/0.9 computed wrongly (over the frame
 * magic too). Replace it with the right one, on a copy, so any LZ4 decoder accepts the frame.
 */
function fixLegacyLz4Checksum(value: Buffer): Buffer {
  if (value.length < 7) return value;
  const descriptorEnd = 6 + (value[4]! & 0x08 ? 8 : 0);
  if (value.length <= descriptorEnd) return value;
  const fixed = Buffer.from(value);
  fixed[descriptorEnd] = lz4HeaderChecksum(fixed, 4, descriptorEnd);
  return fixed;
}

function toMessage(
  raw: RawMessage,
  offset: bigint,
  compression: number,
  timestamp: number,
  timestampType: TimestampType,
): LegacyMessage {
  return {
    offset,
    magic: raw.magic,
    attributes: raw.attributes,
    compression,
    timestampType,
    timestamp,
    key: raw.key,
    value: raw.value,
  };
}

function timestampTypeOf(raw: RawMessage): TimestampType {
  if (raw.magic === 0) return TimestampType.NoTimestamp;
  return raw.attributes & TIMESTAMP_TYPE_BIT ? TimestampType.LogAppendTime : TimestampType.CreateTime;
}

/**
 * Decodes a legacy message set, flattening compressed wrappers into their inner messages.
 * A trailing cut-off message is allowed and reported in `partialBytes`.
 */
export function decodeLegacyMessageSet(
  messageSet: Buffer,
  options: ReadLegacyOptions = {},
): { messages: LegacyMessage[]; partialBytes: number } {
  const verifyCrc = options.verifyCrc ?? true;
  const registry = options.compression ?? defaultCompression;
  const outer: RawMessage[] = [];
  const partialBytes = readEntries(messageSet, true, verifyCrc, outer);
  const messages: LegacyMessage[] = [];
  for (const wrapper of outer) {
    const compression = wrapper.attributes & COMPRESSION_MASK;
    const type = timestampTypeOf(wrapper);
    if (compression === 0) {
      messages.push(toMessage(wrapper, wrapper.offset, 0, wrapper.timestamp, type));
      continue;
    }
    if (wrapper.value === null)
      throw new InvalidRecordBatchError('records', 'compressed message has a null value', 0);
    const compressed =
      compression === 3 && wrapper.magic === 0 ? fixLegacyLz4Checksum(wrapper.value) : wrapper.value;
    let data: Buffer;
    try {
      data = registry.decompress(compression, compressed);
    } catch (e) {
      throw new InvalidRecordBatchError('records', e instanceof DecodeError ? e.reason : String(e), 0);
    }
    const inner: RawMessage[] = [];
    readEntries(data, false, verifyCrc, inner);
    const last = inner[inner.length - 1];
    if (last === undefined)
      throw new InvalidRecordBatchError('records', 'compressed message holds no messages', 0);
    for (const m of inner) {
      if (m.attributes & COMPRESSION_MASK)
        throw new InvalidRecordBatchError(
          'records',
          'compressed message holds another compressed message',
          0,
        );
      if (m.magic !== wrapper.magic)
        throw new InvalidRecordBatchError(
          'magic',
          `magic ${wrapper.magic} wrapper holds a magic ${m.magic} message`,
          0,
        );
      const offset = wrapper.magic === 0 ? m.offset : wrapper.offset - last.offset + m.offset;
      if (type === TimestampType.LogAppendTime)
        messages.push(toMessage(m, offset, compression, wrapper.timestamp, type));
      else messages.push(toMessage(m, offset, compression, m.timestamp, timestampTypeOf(m)));
    }
  }
  return { messages, partialBytes };
}
