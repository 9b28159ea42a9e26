import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds; Node loads the CJS one for mercurius,
    // so tests must load the same file or graphql-js sees two realms
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: [
      'tests/**/*.test.ts',
      'server/**/*.test.ts',
      'metadata/**/*.test.ts',
      'sdk/**/*.test.ts',
      'plugins/**/*.test.ts',
    ],
    exclude: ['node_modules', 'tests/.tmp/**'],
    // the admin UI is built once here, not by each browser suite (they would clobber each other)
    globalSetup: ['tests/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
