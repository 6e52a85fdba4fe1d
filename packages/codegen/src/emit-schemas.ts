import type { MessageSpec } from './spec.js';

export function emitSchemas(_specs: MessageSpec[], _label: string): Map<string, string> {
  return new Map();
}
