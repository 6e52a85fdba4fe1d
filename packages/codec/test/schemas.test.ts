import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../src/generated/ir.js';
import { createMetadataResponse, createMetadataResponseTopic } from '../src/index.js';
import * as schemas from '../src/schemas.js';
import { descriptorOf } from './messages.js';

const schemaOf = (name: string) =>
  (schemas as Record<string, { safeParse(v: unknown): { success: boolean } }>)[`${name}Schema`]!;

describe('zod schemas', () => {
  it('accept every message at its defaults', () => {
    for (const m of MESSAGES) {
      const schema = schemaOf(m.name);
      expect(schema, m.name).toBeDefined();
      expect(schema.safeParse(descriptorOf(m.name).create()).success, m.name).toBe(true);
    }
  });

  it('refuse out-of-range integers, wrong types and short UUIDs', () => {
    const s = schemaOf('MetadataResponse');
    const ok = createMetadataResponse({ topics: [createMetadataResponseTopic({ name: 't' })] });
    expect(s.safeParse(ok).success).toBe(true);
    expect(s.safeParse({ ...ok, throttleTimeMs: 2 ** 31 }).success).toBe(false);
    expect(s.safeParse({ ...ok, controllerId: '1' }).success).toBe(false);
    const badUuid = { ...ok, topics: [{ ...ok.topics[0]!, topicId: Buffer.alloc(15) }] };
    expect(s.safeParse(badUuid).success).toBe(false);
  });
});
