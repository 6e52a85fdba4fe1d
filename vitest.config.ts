import { defineConfig } from 'vitest/config';

// Every package runs its tests from source: the "@tributary/source" export condition points
// workspace imports at src/ so no build step is needed before testing.
export default defineConfig({
  resolve: { conditions: ['@tributary/source'] },
  ssr: { resolve: { conditions: ['@tributary/source'] } },
  test: {
    projects: ['packages/*', 'apps/*'],
  },
});
