import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.js';

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: '@tributary/testing',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Builds librdkafka for the KIP-848 interop suite when no build for this Node is cached.
    globalSetup: ['./test/global-setup.ts'],
    // Interop tests drive real clients (some as child processes) against a broker on loopback.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
