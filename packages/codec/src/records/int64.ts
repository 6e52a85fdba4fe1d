import { DecodeError, EncodeError } from '../protocol/errors.js';

/**
 * Reads a big-endian int64 as a number without creating a bigint. Exact for every safe integer
 * (|v| < 2^53), which covers any offset, timestamp or producer id a real log reaches; anything
 * beyond is a DecodeError naming `what`, so a corrupt field never turns into a silently rounded one.
 */
export function readInt64Number(buf: Uint8Array, at: number, what: string): number {
  const hi = (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
  const lo = ((buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!) >>> 0;
  if (hi >= 0x200000 || hi < -0x200000) throw new DecodeError(`${what} does not fit in 53 bits`, at);
  return hi * 4294967296 + lo;
}

/** Writes a safe integer or a bigint as a big-endian int64. */
export function writeInt64(buf: Uint8Array, at: number, value: number | bigint): void {
  let hi: number;
  let lo: number;
  if (typeof value === 'bigint') {
    const v = BigInt.asUintN(64, value);
    hi = Number(v >> 32n);
    lo = Number(v & 0xffffffffn);
  } else {
    if (!Number.isSafeInteger(value)) throw new EncodeError(`${value} is not a safe integer: pass a bigint`);
    lo = value % 4294967296;
    hi = Math.floor(value / 4294967296);
    if (lo < 0) lo += 4294967296;
  }
  buf[at] = hi >>> 24;
  buf[at + 1] = hi >>> 16;
  buf[at + 2] = hi >>> 8;
  buf[at + 3] = hi;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = lo >>> 16;
  buf[at + 6] = lo >>> 8;
  buf[at + 7] = lo;
}

export function readInt32(buf: Uint8Array, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

export function readInt16(buf: Uint8Array, at: number): number {
  return (((buf[at]! << 8) | buf[at + 1]!) << 16) >> 16;
}

export function writeInt32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = v >>> 16;
  buf[at + 2] = v >>> 8;
  buf[at + 3] = v;
}

export function writeInt16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 8;
  buf[at + 1] = v;
}
