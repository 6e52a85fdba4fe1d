import { configDefaults, defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.js';

// @platformatic/kafka 2.x supports Node >= 22.22 (its engines field); its suite is left out on an
// older Node, where it neither runs nor counts as skipped. CI runs the tests on Node 24 as well.
const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number);
const runsPlatformatic2 = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 22);

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: '@tributary/testing',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      ...(runsPlatformatic2 ? [] : ['test/interop/platformatic-2.test.ts']),
    ],
    // Builds librdkafka for the KIP-848 interop suite when no build for this Node is cached.
    globalSetup: ['./test/global-setup.ts'],
    // Interop tests drive real clients (some as child processes) against a broker on loopback.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
