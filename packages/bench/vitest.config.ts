import { defineProject } from 'vitest/config';

// The codec benchmark is a script (`pnpm bench`), not a vitest suite: `vitest run` and `vitest bench`
// collect nothing from this package.
export default defineProject({
  test: { name: '@tributary/bench', include: [], benchmark: { include: [] } },
});
