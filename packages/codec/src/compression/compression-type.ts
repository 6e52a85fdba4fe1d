/**
 * Kafka's compression ids, as stored in bits 0-2 of a record batch's attributes (and of a legacy
 * message's attributes). The numbers are the wire values.
 */
export const CompressionType = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;

export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

const NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

export type CompressionName = (typeof NAMES)[number];

/** The name Kafka uses for a compression id (`compression.type`), or `unknown(n)`. */
export function compressionName(id: number): string {
  return NAMES[id] ?? `unknown(${id})`;
}

/** The id for a `compression.type` name, or undefined when Kafka has no such codec. */
export function compressionTypeOf(name: string): CompressionType | undefined {
  const i = (NAMES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : (i as CompressionType);
}

export function isCompressionType(id: number): id is CompressionType {
  return id >= 0 && id <= 4 && Number.isInteger(id);
}
