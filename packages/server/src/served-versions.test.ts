import { ApiKey } from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import { ServedVersions } from './served-versions.js';

describe('ServedVersions', () => {
  it('serves the versions the dispatcher serves', () => {
    const served = new ServedVersions([{ apiKey: ApiKey.Metadata, minVersion: 4, maxVersion: 12 }]);
    expect(served.serves(ApiKey.Metadata, 4)).toBe(true);
    expect(served.serves(ApiKey.Metadata, 12)).toBe(true);
    expect(served.serves(ApiKey.Metadata, 3)).toBe(false);
    expect(served.serves(ApiKey.Metadata, 13)).toBe(false);
    expect(served.serves(ApiKey.Produce, 9)).toBe(false);
  });

  it('never serves a version the specs cannot decode, whatever the dispatcher claims', () => {
    const served = new ServedVersions([
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 99 },
      { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 13 },
      { apiKey: ApiKey.LeaderAndIsr, minVersion: 0, maxVersion: 7 },
      { apiKey: 999, minVersion: 0, maxVersion: 1 },
    ]);
    expect(served.serves(ApiKey.ApiVersions, 4)).toBe(true);
    expect(served.serves(ApiKey.ApiVersions, 5)).toBe(false);
    expect(served.serves(ApiKey.Produce, 2)).toBe(false); // the specs start Produce at v3
    expect(served.serves(ApiKey.Produce, 3)).toBe(true);
    expect(served.serves(ApiKey.LeaderAndIsr, 0)).toBe(false); // gone from the specs
    expect(served.serves(999, 0)).toBe(false);
  });
});
