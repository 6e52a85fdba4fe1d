import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@tributary/source'] },
  test: { name: '@tributary/codec', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
