import { defineConfig } from 'vitest/config';

// Three projects: pure unit tests (colocated in src/), and the integration suite (test/) run twice, once on
// embedded PGlite and once on a real PostgreSQL server that test/support/postgres-global-setup.ts starts.
// VOLTBILL_VERIFY_QUERY_TEMPLATES: every call of a query template (src/db/query-template.ts) is checked against the
// query built from its values.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts'], env: { VOLTBILL_VERIFY_QUERY_TEMPLATES: '1' } },
      },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/chaos/**', 'test/browser/**'],
          env: { VOLTBILL_TEST_DB: 'pglite', VOLTBILL_VERIFY_QUERY_TEMPLATES: '1' },
        },
      },
      {
        // Browser tests: Debian's Chromium driven by playwright-core against a real server on embedded PGlite.
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          env: { VOLTBILL_TEST_DB: 'pglite', VOLTBILL_VERIFY_QUERY_TEMPLATES: '1' },
          // A server start plus a Chromium launch can take a minute on a loaded CI machine.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: ['test/chaos/**', 'test/browser/**', 'test/cli/**'],
          env: { VOLTBILL_TEST_DB: 'postgres', VOLTBILL_VERIFY_QUERY_TEMPLATES: '1' },
          globalSetup: ['test/support/postgres-global-setup.ts'],
        },
      },
    ],
  },
});
