import { expect, it } from 'vitest';
import { describeEachDatabase } from './support/platform.ts';
import { api } from './support/http.ts';
import { createFixtureModel } from './fixtures/model.ts';
describeEachDatabase('REST over the tour model', (get) => {
  it(
    'creates records of every entity, follows lookups, inverses and many-to-many, ' +
      'and refuses deleting a referenced entity',
    async () => {
      const a = api(get().app);
      await createFixtureModel(a.post);
      const boss = await a.post('/api/data/employee', { full_name: 'Ada', email: 'ada@x.io' });
      expect(boss.status).toBe(201);
      const emp = await a.post('/api/data/employee', {
        full_name: 'Bob',
        email: 'bob@x.io',
        manager: boss.body.id,
        salary: 1234.5,
      });
      expect(emp.status).toBe(201);
      const r = await a.get(`/api/data/employee/${boss.body.id}/reports`);
      expect(r.body.data.length).toBe(1);
      const s = await a.post('/api/data/supplier', { name: 'S', categories: ['hardware'] });
      expect(s.body.code).toBe('SUP-00001');
      const as = await a.post('/api/data/asset', { name: 'Laptop', assigned_to: emp.body.id, units: 9007199254740991 });
      expect(as.status, JSON.stringify(as.body)).toBe(201);
      expect((await a.post(`/api/data/supplier/${s.body.id}/supplier_assets`, { id: as.body.id })).status).toBe(204);
      expect((await a.get(`/api/data/asset/${as.body.id}/supplier_assets`)).body.data[0].id).toBe(s.body.id);
      const d = await a.post('/api/data/iot_device', {
        name: 'D1',
        asset: as.body.id,
        telemetry: { t: [1, 2], ok: true },
      });
      expect(d.body.status).toBe('offline');
      expect((await a.delete(`/api/data/employee/${boss.body.id}`)).status).toBe(204);
      expect((await a.get(`/api/data/employee/${emp.body.id}`)).body.manager).toBe(null);
      expect((await a.delete(`/api/metadata/entities/employee`)).status).toBe(409);
      const ch = await a.get('/api/metadata/changes');
      expect(ch.body.totalCount).toBe(8); // and the built-in activity entity's creation
    },
  );
});
