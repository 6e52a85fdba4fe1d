import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.js';

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: '@tributary/testing',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Interop tests drive real clients (some as child processes) against a broker on loopback.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
