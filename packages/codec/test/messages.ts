import * as coordinator from '../src/generated/coordinator.js';
import * as clients from '../src/generated/index.js';
import * as metadata from '../src/generated/metadata.js';
import type { MessageDescriptor } from '../src/protocol/runtime.js';

const modules: Record<string, unknown> = { ...clients, ...coordinator, ...metadata };

export function descriptorOf(name: string): MessageDescriptor<Record<string, unknown>> {
  const d = modules[`${name}Descriptor`];
  if (d === undefined) throw new Error(`no descriptor for ${name}`);
  return d as MessageDescriptor<Record<string, unknown>>;
}

/** Calls the generated `create<TypeName>()` for any struct. */
export function createStruct(typeName: string): unknown {
  const f = modules[`create${typeName}`];
  if (typeof f !== 'function') throw new Error(`no create function for ${typeName}`);
  return f();
}
