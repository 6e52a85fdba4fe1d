import { API_TABLE } from '@tributary/codec';
import type { ServedApi } from '@tributary/core';

/**
 * Which (API, version) pairs a connection hands to the dispatcher: those the dispatcher serves and
 * the specs can decode. Anything else known to the specs is answered by `unsupported`.
 */
export class ServedVersions {
  /** [min, max] by API key, already narrowed to the specs. */
  private readonly ranges = new Map<number, readonly [number, number]>();

  constructor(served: readonly ServedApi[]) {
    for (const s of served) {
      const spec = API_TABLE[s.apiKey];
      if (spec === undefined || spec.minVersion < 0) continue;
      const min = Math.max(s.minVersion, spec.minVersion);
      const max = Math.min(s.maxVersion, spec.maxVersion);
      if (min <= max) this.ranges.set(s.apiKey, [min, max]);
    }
  }

  serves(apiKey: number, apiVersion: number): boolean {
    const range = this.ranges.get(apiKey);
    return range !== undefined && apiVersion >= range[0] && apiVersion <= range[1];
  }
}
