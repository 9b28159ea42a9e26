/**
 * A new PGlite database starts from the build's pre-initialised data directory
 * (metadata/pglite-template.ts) instead of running initdb and every migration again: its system
 * tables are there at once, migrated when the template was built, not at this start. A data folder
 * made from it (unpacked on disk before PGlite opens it) keeps what is written across a restart,
 * like one made by initdb. The build `npm start` runs unpacks it on a worker thread.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrations } from '../migrations/index.ts';
import { buildTemplate, readTemplate, templateFile } from '../metadata/pglite-template.ts';
import { buildPlatform, type Platform } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { api } from './support/http.ts';
import { expectStatus } from './support/problems.ts';
import { startServerProcess } from './support/server-process.ts';
import { testConfig, type TestDatabase } from './support/platform.ts';

const dir = mkdtempSync(join(tmpdir(), 'xrm-template-'));
const database: TestDatabase = { kind: 'pglite', config: { dataDir: join(dir, 'data') }, drop: async () => undefined };

beforeAll(async () => {
  // `npm install` builds it (package.json "build"); a checkout that never built gets it here
  if (!readTemplate()) await buildTemplate();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function started(): Promise<Platform> {
  const platform = await buildPlatform(testConfig(database));
  await platform.start();
  return platform;
}

it('unpacks the template into a new folder: migrated when built, not now; data survives a restart', async () => {
  expect(templateFile()).toMatch(/dist\/pglite-template-[0-9a-f]{16}\.tar$/);
  const startedAt = new Date();
  const first = await started();
  // unpacked beside the folder and renamed into place: nothing else is left
  expect(readdirSync(dir)).toEqual(['data']);
  try {
    const { rows } = await sql<{ name: string; timestamp: string }>`SELECT name, timestamp
      FROM xrm.kysely_migration ORDER BY name`.execute(first.services.db);
    expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
    for (const row of rows) expect(new Date(row.timestamp).getTime(), row.name).toBeLessThan(startedAt.getTime());
    const http = api(first.app);
    expectStatus(
      await http.post('/api/metadata/entities', { name: 'gadget', fields: [{ name: 'name', type: 'text' }] }),
      201,
    );
    expectStatus(await http.post('/api/data/gadget', { name: 'kept' }), 201);
  } finally {
    await first.close();
  }
  const second = await started();
  try {
    const list = expectStatus(await api(second.app).get('/api/data/gadget'), 200);
    expect(list.data.map((r: { name: string }) => r.name)).toEqual(['kept']);
  } finally {
    await second.close();
  }
});

it('unpacks again over a folder an interrupted first start left without PG_VERSION', async () => {
  const folder = join(dir, 'interrupted');
  // what a start killed while unpacking leaves: some of the files, damaged, and no PG_VERSION
  mkdirSync(join(folder, 'global'), { recursive: true });
  writeFileSync(join(folder, 'global', 'pg_control'), 'half written');
  const platform = await buildPlatform(testConfig({ ...database, config: { dataDir: folder } }));
  await platform.start();
  try {
    expect(readFileSync(join(folder, 'PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
    expectStatus(await api(platform.app).get('/api/metadata/entities'), 200);
  } finally {
    await platform.close();
  }
});

it('compiles PGlite baseline by default, optimizing when asked (XRM_PGLITE_COMPILER), nothing else', async () => {
  expect(loadConfig({}).pgliteCompiler).toBe('baseline');
  expect(loadConfig({ XRM_PGLITE_COMPILER: 'optimizing' }).pgliteCompiler).toBe('optimizing');
  expect(() => loadConfig({ XRM_PGLITE_COMPILER: 'fast' })).toThrow(
    /XRM_PGLITE_COMPILER must be baseline or optimizing/,
  );
  // both serve the same data: the compiler changes speed and memory, not answers
  for (const pgliteCompiler of ['optimizing', 'baseline'] as const) {
    const platform = await buildPlatform({ ...testConfig(database), pgliteCompiler });
    await platform.start();
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.kysely_migration`.execute(
      platform.services.db,
    );
    expect(rows[0]!.n).toBe(Object.keys(migrations).length);
    await platform.close();
  }
});

it('the build npm start runs unpacks a new folder on a worker thread and serves from it', async () => {
  // `npm install` builds it (package.json "prepare"); the sources unpack on the main thread instead
  expect(existsSync('dist/server/main.js'), 'dist/server/main.js: run `npm run build` first').toBe(true);
  const folder = join(dir, 'built');
  const server = await startServerProcess({ XRM_DATA_DIR: folder, DATABASE_URL: '' }, { build: true });
  try {
    expect(readFileSync(join(folder, 'PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
    // the administrator the environment names was created in the unpacked database, and signs in
    const reply = await fetch(`${server.base}/api/metadata/entities`, { headers: await server.auth() });
    expect(reply.status, server.tail(20)).toBe(200);
  } finally {
    await server.stop();
  }
  expect(server.exit()?.code, server.tail(40)).toBe(0);
});
