/**
 * Lean write answers, on both databases: `select=` restricts what a create, an upsert or an
 * update answers with (id always; the write itself is whole), a bad `select` is a 400 naming the
 * item and writes nothing, and `Prefer: return=minimal` answers no body — 201 with Location for a
 * creation, 204 for an update — with the ETag and `Preference-Applied`, as PostgREST does.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus, modelling } from './support/problems.ts';

describeEachDatabase('lean write answers', (platform) => {
  const http = () => api(platform().app);
  const { defineEntity } = modelling(http);
  const MINIMAL = { prefer: 'return=minimal' };
  const count = async () =>
    Number(
      (await sql<{ n: string }>`SELECT count(*) AS n FROM data.gadget`.execute(platform().services.db)).rows[0]!.n,
    );

  beforeAll(async () => {
    await defineEntity('gadget', [
      { name: 'name', type: 'text', required: true },
      { name: 'sku', type: 'text', unique: true },
      { name: 'price', type: 'decimal' },
      { name: 'notes', type: 'longText' },
    ]);
    expectStatus(await http().post('/api/metadata/entities/gadget/keys', { name: 'sku', fields: ['sku'] }), 201);
  });

  it('select restricts what create, upsert and update answer with; the write is whole', async () => {
    const created = await http().post('/api/data/gadget?select=name,version', { name: 'Dial', sku: 'D-1', price: 9.5 });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['id', 'name', 'version']);
    expect(created.headers.location).toBe(`/api/data/gadget/${created.body.id}`);
    expect(created.headers.etag).toBe('"1"');
    const stored = expectStatus(await http().get(`/api/data/gadget/${created.body.id}`), 200);
    expect(stored).toMatchObject({ name: 'Dial', sku: 'D-1', price: 9.5 });

    const updated = await http().patch(`/api/data/gadget/${created.body.id}?select=price`, { price: 12 });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ id: created.body.id, price: 12 });
    expect(updated.headers.etag).toBe('"2"');

    const upserted = await http().post('/api/data/gadget/upsert?key=sku&select=sku,name', {
      sku: 'D-1',
      name: 'Dial 2',
    });
    expect(upserted.status).toBe(200);
    expect(upserted.body).toEqual({ id: created.body.id, sku: 'D-1', name: 'Dial 2' });
  });

  it('a bad select is a 400 naming the item, and nothing is written', async () => {
    const before = await count();
    expectProblem(
      await http().post('/api/data/gadget?select=name,colour', { name: 'Knob' }),
      400,
      'XRM_ERR_QUERY_INVALID',
      '/select/1',
    );
    const dial = expectStatus(await http().post('/api/data/gadget', { name: 'Lever' }), 201);
    expectProblem(
      await http().patch(`/api/data/gadget/${dial.id}?select=nope`, { name: 'Changed' }),
      400,
      'XRM_ERR_QUERY_INVALID',
      '/select/0',
    );
    expect(await count()).toBe(before + 1);
    expect(expectStatus(await http().get(`/api/data/gadget/${dial.id}`), 200).name).toBe('Lever');
  });

  it('Prefer: return=minimal answers no body: 201 with Location, 204 for updates, the ETag either way', async () => {
    const created = await http().post('/api/data/gadget', { name: 'Switch', sku: 'S-1' }, MINIMAL);
    expect(created.status).toBe(201);
    expect(created.text).toBe('');
    expect(created.headers['preference-applied']).toBe('return=minimal');
    expect(created.headers.etag).toBe('"1"');
    const location = created.headers.location as string;
    expect(location).toMatch(/^\/api\/data\/gadget\/[0-9a-f-]{36}$/);
    expect(expectStatus(await http().get(location), 200)).toMatchObject({ name: 'Switch', sku: 'S-1' });

    const updated = await http().patch(location, { name: 'Switch 2' }, { ...MINIMAL, 'if-match': '"1"' });
    expect(updated.status).toBe(204);
    expect(updated.text).toBe('');
    expect(updated.headers.etag).toBe('"2"');
    expect(updated.headers['preference-applied']).toBe('return=minimal');

    const again = await http().post('/api/data/gadget/upsert', { sku: 'S-1', name: 'Switch 3' }, MINIMAL);
    expect(again.status).toBe(204);
    expect(again.headers.etag).toBe('"3"');
    const fresh = await http().post('/api/data/gadget/upsert', { sku: 'S-2', name: 'Switch B' }, MINIMAL);
    expect(fresh.status).toBe(201);
    expect(fresh.headers.location).toMatch(/^\/api\/data\/gadget\//);

    // representation (or no preference) answers the record as before; a stale If-Match still fails
    const full = await http().patch(location, { notes: 'n' }, { prefer: 'return=representation' });
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ name: 'Switch 3', notes: 'n' });
    expectProblem(
      await http().patch(location, { name: 'late' }, { ...MINIMAL, 'if-match': '"1"' }),
      412,
      'XRM_ERR_RECORD_VERSION_MISMATCH',
    );
  });
});
