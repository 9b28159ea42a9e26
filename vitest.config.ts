import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'server/**/*.test.ts', 'metadata/**/*.test.ts', 'sdk/**/*.test.ts', 'plugins/**/*.test.ts'],
    exclude: ['node_modules', 'tests/.tmp/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
