import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.js';

// The benchmarks are scripts (`pnpm bench`, `pnpm bench:broker`, `pnpm bench:groups`), not vitest
// suites; only their parsers and helpers have unit tests. `vitest bench` collects nothing here.
export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: '@tributary/bench',
    include: ['src/broker/**/*.test.ts', 'src/groups/**/*.test.ts'],
    benchmark: { include: [] },
  },
});
