import { describeStorageConformance } from '@tributary/core/testing';
import { FileStorage } from '../src/index.js';
import { tempDir } from './helpers.js';

// With a tiny segment size every batch is a segment of its own, so the suite's retention test
// (which expects batch-level precision) checks whole-segment retention; the default size checks
// everything else over one large segment.
describeStorageConformance(
  'file, one segment per batch, flush=always',
  () => new FileStorage({ dataDir: tempDir(), flush: { mode: 'always' }, segmentBytes: 14 }),
  {
    reopen: async (previous) => {
      const dir = (previous as FileStorage).dataDir;
      await previous.close();
      const next = new FileStorage({ dataDir: dir, flush: { mode: 'always' }, segmentBytes: 14 });
      await next.open();
      return next;
    },
  },
);

const interval = (dataDir: string) =>
  new FileStorage({
    dataDir,
    flush: { mode: 'interval', intervalMs: 1000 },
    segmentBytes: 14,
    hotTailBytes: 0,
    indexIntervalBytes: 0,
  });

describeStorageConformance('file, no hot tail, flush=interval', () => interval(tempDir()), {
  reopen: async (previous) => {
    const dir = (previous as FileStorage).dataDir;
    await previous.close();
    const next = interval(dir);
    await next.open();
    return next;
  },
});
