// Shared zod pieces for the generated schemas (src/generated/schemas). Only the "./schemas"
// entry point imports this file, so the codec's hot path never loads zod.
import { z } from 'zod';

export const int64 = z
  .bigint()
  .min(-(2n ** 63n))
  .max(2n ** 63n - 1n);
export const bytes = z.custom<Buffer>((v) => Buffer.isBuffer(v), { message: 'expected a Buffer' });
export const uuid = z.custom<Buffer>((v) => Buffer.isBuffer(v) && v.length === 16, {
  message: 'expected a 16-byte Buffer',
});
export const taggedField = z.object({ tag: z.number().int().min(0), data: bytes });
