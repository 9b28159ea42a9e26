/**
 * Test platforms on real databases. Every database suite runs once per leg of the matrix:
 * PostgreSQL (a throwaway database per platform, dropped afterwards) and PGlite (in memory, or
 * in a temporary folder when a test needs restarts). No mocks.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { buildPlatform, type BuildOptions, type Platform } from '../../server/app.ts';
import { loadConfig, type Config } from '../../server/config.ts';
import { TEST_ADMIN } from './test-admin.ts';

export { TEST_ADMIN };

export type DatabaseKind = 'postgres' | 'pglite';

/** The legs to run; both unless XRM_TEST_DATABASES narrows it (never silently: CI runs both). */
export const DATABASES: readonly DatabaseKind[] = (process.env.XRM_TEST_DATABASES ?? 'postgres,pglite')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as DatabaseKind[];

/** Admin connection used to create and drop throwaway databases. */
export const PG_ADMIN_URL = process.env.XRM_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

export interface TestDatabase {
  kind: DatabaseKind;
  /** DATABASE_URL for PostgreSQL, XRM_DATA_DIR for PGlite. */
  config: Pick<Config, 'databaseUrl' | 'dataDir'>;
  drop(): Promise<void>;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of the given kind. `persistent` PGlite keeps its data in a temp folder. */
export async function createTestDatabase(
  kind: DatabaseKind,
  options: { persistent?: boolean } = {},
): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const name = `xrm_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE "${name}"`);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      kind,
      config: { databaseUrl: url.toString(), dataDir: '' },
      drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    };
  }
  if (options.persistent) {
    const dir = mkdtempSync(join(tmpdir(), 'xrm-pglite-'));
    return { kind, config: { dataDir: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  return { kind, config: { dataDir: 'memory://' }, drop: async () => undefined };
}

export function testConfig(db: TestDatabase, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ LOG_LEVEL: process.env.XRM_TEST_LOG_LEVEL ?? 'silent' }),
    ...db.config,
    schemaPollMs: 1000,
    // every request of a suite comes from 127.0.0.1 through app.inject, some suites by the thousand a
    // minute; the per-address limit has its own suite (tests/hardening.test.ts), the sign-in throttle stays on
    rateLimitPerMinute: 0,
    adminEmail: TEST_ADMIN.email,
    adminPassword: TEST_ADMIN.password,
    ...overrides,
  };
}

/** A started platform on a fresh database; `close()` stops it and drops the database. */
export interface TestPlatform extends Platform {
  readonly kind: DatabaseKind;
  readonly database: TestDatabase;
}

export async function startTestPlatform(
  kind: DatabaseKind,
  overrides: Partial<Config> = {},
  options: BuildOptions = {},
): Promise<TestPlatform> {
  const database = await createTestDatabase(kind);
  const platform = await buildPlatform(testConfig(database, overrides), options);
  await platform.start();
  return {
    ...platform,
    kind,
    database,
    async close() {
      await platform.close();
      await database.drop();
    },
  };
}

/**
 * Runs `suite` once per database of the matrix, each with its own started platform.
 * `get()` returns that leg's platform inside tests and hooks.
 */
export function describeEachDatabase(
  name: string,
  suite: (get: () => TestPlatform, kind: DatabaseKind) => void,
  options: { config?: Partial<Config>; build?: BuildOptions } = {},
): void {
  for (const kind of DATABASES) {
    describe(`${name} [${kind}]`, () => {
      let platform: TestPlatform | undefined;
      beforeAll(async () => {
        platform = await startTestPlatform(kind, options.config, options.build);
      });
      afterAll(async () => {
        await platform?.close();
      });
      suite(() => {
        if (!platform) throw new Error('platform not started');
        return platform;
      }, kind);
    });
  }
}
