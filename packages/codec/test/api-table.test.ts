import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_TABLE, ApiKey } from '../src/generated/api-table.js';

describe('API table', () => {
  it('holds the 4.3.1 APIs: 93 keys, 89 with versions, 302 (API, version) pairs', () => {
    const all = API_TABLE.filter((a) => a !== undefined);
    expect(all).toHaveLength(93);
    const live = all.filter((a) => a.minVersion >= 0);
    expect(live).toHaveLength(89);
    expect(live.reduce((n, a) => n + a.maxVersion - a.minVersion + 1, 0)).toBe(302);
    expect(live.filter((a) => a.latestVersionUnstable).map((a) => a.name)).toEqual(['InitProducerId']);
  });

  it('knows the APIs every client starts with', () => {
    expect(API_TABLE[ApiKey.ApiVersions]).toMatchObject({
      name: 'ApiVersions',
      minVersion: 0,
      maxVersion: 4,
      flexibleFrom: 3,
    });
    expect(API_TABLE[ApiKey.Produce]?.name).toBe('Produce');
    expect(API_TABLE[ApiKey.Metadata]?.flexibleFrom).toBe(9);
    expect(API_TABLE[ApiKey.ApiVersions]?.responseHeaderVersions).toEqual([0, 0, 0, 0, 0]);
    expect(API_TABLE[ApiKey.Metadata]?.responseHeaderVersions.slice(8, 10)).toEqual([0, 1]);
  });
});

// Reads the specs independently of the generator (a second parser) and compares. Runs wherever
// the spec folder exists, as it does beside the repository in CI.
const specRoot =
  process.env.TRIBUTARY_KAFKA_SPECS ?? resolve(import.meta.dirname, '../../../../shared/kafka-message-specs');

describe.runIf(existsSync(specRoot))('API table drift against the JSON specs', () => {
  const range = (text: string): [number, number] | null => {
    if (text === 'none') return null;
    const plus = /^(\d+)\+$/.exec(text);
    if (plus) return [Number(plus[1]), 0x7fff];
    const [lo, hi = lo] = text.split('-').map(Number);
    return [lo!, hi!];
  };
  const specs = readdirSync(join(specRoot, 'clients'))
    .filter((f) => f.endsWith('Request.json'))
    .map((f) =>
      JSON.parse(
        readFileSync(join(specRoot, 'clients', f), 'utf8')
          .replace(/^\s*\/\/.*$/gm, '')
          .replace(/\s\/\/[^"\n]*$/gm, ''),
      ),
    );

  it('has one entry per request spec, with the same versions, flexibility and listeners', () => {
    expect(specs).toHaveLength(93);
    for (const s of specs) {
      const api = API_TABLE[s.apiKey];
      expect(api, s.name).toBeDefined();
      expect(`${api!.name}Request`).toBe(s.name);
      const valid = range(s.validVersions);
      expect([api!.minVersion, api!.maxVersion], s.name).toEqual(valid ?? [-1, -1]);
      const flex = s.flexibleVersions === undefined ? null : range(s.flexibleVersions);
      const flexFrom = valid && flex && flex[0] <= valid[1] ? Math.max(flex[0], valid[0]) : null;
      expect(api!.flexibleFrom, s.name).toBe(flexFrom);
      expect([...api!.listeners].sort(), s.name).toEqual([...(s.listeners ?? [])].sort());
      expect(api!.latestVersionUnstable, s.name).toBe(s.latestVersionUnstable === true);
    }
  });
});
