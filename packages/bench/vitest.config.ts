import { defineProject } from 'vitest/config';

// The benchmarks are scripts (`pnpm bench`, `pnpm bench:broker`), not vitest suites; only the broker
// bench's parsers and helpers have unit tests. `vitest bench` collects nothing from this package.
export default defineProject({
  test: {
    name: '@tributary/bench',
    include: ['src/broker/**/*.test.ts', 'src/groups/**/*.test.ts'],
    benchmark: { include: [] },
  },
});
