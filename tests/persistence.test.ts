/**
 * Embedded PGlite keeps its data in a folder: a restart reopens everything intact (catalog,
 * tables, records, sequences), and a stop in the middle of a burst of writes loses no write
 * that was acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlatform, type Platform } from '../server/app.ts';
import { createFixtureModel } from './fixtures/model.ts';
import { adminToken, api } from './support/http.ts';
import { createTestDatabase, testConfig, type TestDatabase } from './support/platform.ts';

describe('PGlite restart persistence', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('pglite', { persistent: true });
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function started(): Promise<Platform> {
    const platform = await buildPlatform(testConfig(database));
    await platform.start();
    return platform;
  }

  it('reopens the catalog, records and sequences after a restart', async () => {
    const first = await started();
    await createFixtureModel(api(first.app).post);
    const supplier = await api(first.app).post('/api/data/supplier', { name: 'Before restart' });
    expect(supplier.body.code).toBe('SUP-00001');
    const version = first.services.runtime.state.version;
    await first.close();

    const second = await started();
    try {
      expect(second.services.runtime.state.version).toBe(version);
      const entities = await api(second.app).get('/api/metadata/entities');
      expect(entities.body.data.map((e: { name: string }) => e.name)).toEqual([
        'activity',
        'partner',
        'supplier',
        'employee',
        'asset',
        'iot_device',
      ]);
      expect((await api(second.app).get(`/api/data/supplier/${supplier.body.id}`)).body.name).toBe('Before restart');
      const next = await api(second.app).post('/api/data/supplier', { name: 'After restart' });
      expect(next.body.code).toBe('SUP-00002');
      const changes = await api(second.app).get('/api/metadata/changes?limit=100');
      expect(changes.body.totalCount).toBe(8); // and the built-in activity entity's creation
    } finally {
      await second.close();
    }
  });

  it('keeps every acknowledged write when stopped in the middle of a burst', async () => {
    const platform = await started();
    // signed in before the burst, so that every write is in flight when the stop comes
    const token = await adminToken(platform.app);
    expect(token).toEqual(expect.any(String));
    const client = api(platform.app, token);
    const acknowledged: string[] = [];
    const burst = Array.from({ length: 60 }, (_, i) =>
      client.post('/api/data/supplier', { name: `burst ${i}` }).then((r) => {
        if (r.status === 201) acknowledged.push(r.body.id);
      }),
    );
    // stop while the writes are in flight; close() lets in-flight requests finish first
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all([platform.close(), ...burst]);
    expect(acknowledged.length).toBeGreaterThan(0);

    const reopened = await started();
    try {
      for (const id of acknowledged) {
        expect((await api(reopened.app).get(`/api/data/supplier/${id}`)).status).toBe(200);
      }
    } finally {
      await reopened.close();
    }
  });
});
