import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.js';

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: '@tributary/storage-postgres',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Finds (or, outside CI, starts) the test database once for every test file.
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
