import { describe, expect, it } from 'vitest';
import { crashCycle } from './crash-harness.js';
import { tempDir } from './helpers.js';

// The full run is `pnpm --filter @tributary/storage-file crash-test --cycles 50`.
describe('crash safety (SIGKILL during flush=always appends)', () => {
  it('keeps every acknowledged batch, serves only valid batches, keeps offsets contiguous and producer state as the log says', async () => {
    const dir = tempDir();
    let acknowledged = 0;
    let fromProducers = 0;
    for (let cycle = 0; cycle < 5; cycle++) {
      const r = await crashCycle(dir);
      expect(r.batches).toBeGreaterThanOrEqual(r.acknowledged);
      acknowledged += r.acknowledged;
      fromProducers += r.fromProducers;
    }
    expect(acknowledged).toBeGreaterThan(0);
    expect(fromProducers).toBeGreaterThan(0);
  }, 120_000);
});
