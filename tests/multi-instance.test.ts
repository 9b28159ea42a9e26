/**
 * Several server instances over one PostgreSQL database: concurrent starts (migrations under a
 * lock), and a metadata change made through one instance served by the others within a second,
 * over LISTEN/NOTIFY — and, when the notice is lost, through the version check.
 */
import { migrations } from '../migrations/index.ts';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlatform, type Platform } from '../server/app.ts';
import { api } from './support/http.ts';
import { createTestDatabase, testConfig, type TestDatabase } from './support/platform.ts';

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('two instances over one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: Platform;
  let b: Platform;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    a = await buildPlatform(testConfig(database));
    b = await buildPlatform(testConfig(database));
    // both migrate the same empty database at once
    await Promise.all([a.start(), b.start()]);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('start concurrently and apply the migrations exactly once', async () => {
    const { rows } = await sql<{ name: string }>`SELECT name FROM xrm.kysely_migration`.execute(a.services.db);
    expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations));
    expect((await api(b.app).get('/health')).status).toBe(200);
  });

  it('serves an entity created through the other instance within one second, in REST and GraphQL', async () => {
    const created = await api(a.app).post('/api/metadata/entities', {
      name: 'gadget',
      fields: [{ name: 'name', type: 'text', required: true }],
    });
    expect(created.status).toBe(201);
    const elapsed = await waitFor(async () => (await api(b.app).get('/api/data/gadget')).status === 200, 1000);
    expect(elapsed).toBeLessThan(1000);
    const record = await api(b.app).post('/api/data/gadget', { name: 'from b' });
    expect(record.status).toBe(201);
    expect((await api(a.app).get(`/api/data/gadget/${record.body.id}`)).body.name).toBe('from b');
    const gql = await api(b.app).graphql('{ gadgets { totalCount nodes { name } } }');
    expect(gql.body.errors).toBeUndefined();
    expect(gql.body.data.gadgets.nodes).toEqual([{ name: 'from b' }]);
  });

  it('serves a field added through the other instance within one second', async () => {
    expect(
      (await api(b.app).post('/api/metadata/entities/gadget/fields', { name: 'weight', type: 'decimal' })).status,
    ).toBe(201);
    await waitFor(
      async () => (await api(a.app).post('/api/data/gadget', { name: 'heavy', weight: 12.5 })).status === 201,
      1000,
    );
    expect(a.services.runtime.state.version).toBe(b.services.runtime.state.version);
  });

  it('catches up through the version check when its LISTEN connection is killed', async () => {
    // terminate every backend LISTENing in this database (both instances' listeners)
    const killed = await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND query ILIKE 'LISTEN%'`.execute(a.services.db);
    expect(killed.rows.length).toBe(2);
    expect((await api(a.app).post('/api/metadata/entities', { name: 'widget', fields: [] })).status).toBe(201);
    await waitFor(async () => (await api(b.app).get('/api/data/widget')).status === 200, 3000);
    // and the listener comes back: the next change arrives by notice again
    await new Promise((r) => setTimeout(r, 700));
    expect((await api(a.app).post('/api/metadata/entities', { name: 'sprocket', fields: [] })).status).toBe(201);
    await waitFor(async () => (await api(b.app).get('/api/data/sprocket')).status === 200, 1000);
  });
});
