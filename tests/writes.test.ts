/**
 * Writes beyond create/update/delete: optimistic concurrency (ETag / If-Match, GraphQL
 * expectedVersion), alternate keys and upserts, bulk operations (all-or-nothing, per-item error
 * paths), and many-to-many associate/disassociate through REST and GraphQL.
 */
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';

describeEachDatabase('writes', (get) => {
  const http = () => api(get().app);
  const count = async (table: string) =>
    Number(
      (
        await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(`data.${table}`)}`.execute(
          get().services.db,
        )
      ).rows[0]!.n,
    );

  beforeAll(async () => {
    expect(
      (
        await http().post('/api/metadata/entities', {
          name: 'product',
          fields: [
            { name: 'sku', type: 'text', required: true, maxLength: 20 },
            {
              name: 'region',
              type: 'choice',
              options: [
                { value: 'eu', label: 'EU' },
                { value: 'us', label: 'US' },
              ],
            },
            { name: 'title', type: 'text', required: true },
            { name: 'price', type: 'money' },
            {
              name: 'tags',
              type: 'multiChoice',
              options: [
                { value: 'new', label: 'New' },
                { value: 'sale', label: 'Sale' },
              ],
            },
            { name: 'specs', type: 'json' },
            { name: 'email', type: 'email', unique: true },
          ],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await http().post('/api/metadata/entities', {
          name: 'shelf',
          fields: [{ name: 'label', type: 'text', required: true }],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await http().post('/api/metadata/relationships', {
          name: 'shelf_products',
          type: 'manyToMany',
          from: 'shelf',
          to: 'product',
        })
      ).status,
    ).toBe(201);
  });

  describe('optimistic concurrency', () => {
    it('answers reads and writes with an ETag and refuses stale If-Match with 412', async () => {
      const created = await http().post('/api/data/product', { sku: 'C-1', title: 'Chair' });
      expect(created.headers.etag).toBe('"1"');
      const id = created.body.id;
      const read = await http().get(`/api/data/product/${id}`);
      expect(read.headers.etag).toBe('"1"');
      expect((await http().get(`/api/data/product/${id}`, { 'if-none-match': '"1"' })).status).toBe(304);

      const ok = await http().patch(`/api/data/product/${id}`, { title: 'Chair v2' }, { 'if-match': '"1"' });
      expect(ok.status).toBe(200);
      expect(ok.headers.etag).toBe('"2"');
      const stale = await http().patch(`/api/data/product/${id}`, { title: 'Lost update' }, { 'if-match': '"1"' });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({ code: 'XRM_ERR_RECORD_VERSION_MISMATCH', currentVersion: 2 });
      expect((await http().get(`/api/data/product/${id}`)).body.title).toBe('Chair v2');
      expect((await http().delete(`/api/data/product/${id}`, { 'if-match': '"1"' })).status).toBe(412);
      expect((await http().patch(`/api/data/product/${id}`, { title: 'x' }, { 'if-match': 'nonsense' })).status).toBe(
        400,
      );
      expect((await http().delete(`/api/data/product/${id}`, { 'if-match': '"2"' })).status).toBe(204);
      expect((await http().patch(`/api/data/product/${id}`, { title: 'gone' }, { 'if-match': '"2"' })).status).toBe(
        404,
      );
    });

    it('takes expectedVersion in GraphQL mutations', async () => {
      const id = (await http().post('/api/data/product', { sku: 'C-2', title: 'Desk' })).body.id;
      const update =
        'mutation($id: ID!, $v: Int) { ' +
        'updateProduct(id: $id, input: { title: "Desk v2" }, expectedVersion: $v) { title version } }';
      expect((await http().graphql(update, { id, v: 1 })).body.data.updateProduct).toEqual({
        title: 'Desk v2',
        version: 2,
      });
      const stale = await http().graphql(update, { id, v: 1 });
      expect(stale.body.errors[0].extensions).toMatchObject({ code: 'XRM_ERR_RECORD_VERSION_MISMATCH', status: 412 });
      const del = await http().graphql('mutation($id: ID!) { deleteProduct(id: $id, expectedVersion: 1) }', { id });
      expect(del.body.errors[0].extensions.code).toBe('XRM_ERR_RECORD_VERSION_MISMATCH');
    });
  });

  describe('alternate keys and upsert', () => {
    it('declares a key over several fields, refusing one that existing records violate', async () => {
      await http().post('/api/data/product', { sku: 'DUP', region: 'eu', title: 'one' });
      await http().post('/api/data/product', { sku: 'DUP', region: 'eu', title: 'two' });
      const refused = await http().post('/api/metadata/entities/product/keys', {
        name: 'sku_region',
        fields: ['sku', 'region'],
      });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'XRM_ERR_METADATA_DATA_CONFLICT', offendingRows: 1 });
      await sql`DELETE FROM data.product WHERE sku = 'DUP'`.execute(get().services.db);
      const key = await http().post('/api/metadata/entities/product/keys', {
        name: 'sku_region',
        fields: ['sku', 'region'],
      });
      expect(key.status).toBe(201);
      expect((await http().get('/api/metadata/entities/product')).body.alternateKeys).toEqual([
        { name: 'sku_region', displayName: 'Sku region', fields: ['sku', 'region'] },
      ]);
      expect(
        (await http().post('/api/metadata/entities/product/keys', { name: 'bad', fields: ['specs'] })).status,
      ).toBe(400);
      expect((await http().delete('/api/metadata/entities/product/fields/sku')).status).toBe(422);
    });

    it('upserts by alternate key: 201 when new, 200 with the same id when it exists', async () => {
      const first = await http().post('/api/data/product/upsert?key=sku_region', {
        sku: 'U-1',
        region: 'us',
        title: 'Lamp',
        price: 10,
      });
      expect(first.status).toBe(201);
      const again = await http().post('/api/data/product/upsert', {
        sku: 'U-1',
        region: 'us',
        title: 'Lamp XL',
        price: 12.5,
      });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: first.body.id, title: 'Lamp XL', price: 12.5, version: 2 });
      const other = await http().post('/api/data/product/upsert', { sku: 'U-1', region: 'eu', title: 'Lamp EU' });
      expect(other.status).toBe(201);
      const missingKey = await http().post('/api/data/product/upsert', { sku: 'U-2', title: 'No region' });
      expect(missingKey.status).toBe(400);
      expect(missingKey.body.errors).toEqual([{ path: '/region', message: expect.stringContaining('alternate key') }]);
      expect(
        (await http().post('/api/data/product/upsert?key=nope', { sku: 'x', region: 'eu', title: 't' })).status,
      ).toBe(400);
      const dup = await http().post('/api/data/product', { sku: 'U-1', region: 'us', title: 'clash' });
      expect(dup.status).toBe(409);
      expect(dup.body.errors.map((e: { path: string }) => e.path)).toEqual(['/sku', '/region']);
    });
  });

  describe('bulk', () => {
    it('creates a thousand records in one request, typed by their columns', async () => {
      const before = await count('product');
      const records = Array.from({ length: 1000 }, (_, i) => ({
        sku: `B-${i}`,
        region: i % 2 ? 'eu' : 'us',
        title: `Bulk ${i}`,
        price: i / 4,
        tags: i % 3 ? ['new'] : ['new', 'sale'],
        specs: { i, nested: { ok: true } },
        ...(i % 10 === 0 ? { email: `b${i}@shop.example` } : {}),
      }));
      const res = await http().post('/api/data/product/bulk', { operation: 'create', records });
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(1000);
      expect(res.body.data[7]).toMatchObject({
        sku: 'B-7',
        price: 1.75,
        tags: ['new'],
        specs: { i: 7, nested: { ok: true } },
        version: 1,
      });
      expect(res.body.data[30]).toMatchObject({ sku: 'B-30', email: 'b30@shop.example', tags: ['new', 'sale'] });
      expect(await count('product')).toBe(before + 1000);
    });

    it('validates every item first and writes nothing when any is invalid', async () => {
      const before = await count('product');
      const res = await http().post('/api/data/product/bulk', {
        operation: 'create',
        records: [{ sku: 'V-1', title: 'ok' }, { sku: 'V-2' }, { sku: 'V-3', title: 'x', region: 'mars' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { path: '/records/1/title', message: 'is required' },
        { path: '/records/2/region', message: expect.stringContaining('must be one of') },
      ]);
      expect(await count('product')).toBe(before);
    });

    it('rolls back everything when the database refuses one item, naming it', async () => {
      const before = await count('product');
      const res = await http().post('/api/data/product/bulk', {
        operation: 'create',
        records: [
          { sku: 'D-1', title: 'a', email: 'same@shop.example' },
          { sku: 'D-2', title: 'b' },
          { sku: 'D-3', title: 'c', email: 'same@shop.example' },
        ],
      });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        code: 'XRM_ERR_RECORD_DUPLICATE',
        errors: [{ path: '/records/2/email', message: 'must be unique' }],
      });
      expect(await count('product')).toBe(before);
    });

    it('updates, upserts and deletes in bulk, all or nothing', async () => {
      const made = (
        await http().post('/api/data/product/bulk', {
          operation: 'create',
          records: [
            { sku: 'M-1', title: 'one', region: 'eu' },
            { sku: 'M-2', title: 'two', region: 'eu' },
          ],
        })
      ).body.data;
      const updated = await http().post('/api/data/product/bulk', {
        operation: 'update',
        records: [
          { id: made[0].id, title: 'one!' },
          { id: made[1].id, version: 1, title: 'two!' },
        ],
      });
      expect(updated.status).toBe(200);
      expect(updated.body.data.map((r: { title: string }) => r.title)).toEqual(['one!', 'two!']);
      const stale = await http().post('/api/data/product/bulk', {
        operation: 'update',
        records: [
          { id: made[0].id, title: 'x' },
          { id: made[1].id, version: 1, title: 'y' },
        ],
      });
      expect(stale.status).toBe(412);
      expect(stale.body.errors[0].path).toBe('/records/1');
      expect((await http().get(`/api/data/product/${made[0].id}`)).body.title).toBe('one!');

      const upserted = await http().post('/api/data/product/bulk', {
        operation: 'upsert',
        key: 'sku_region',
        records: [
          { sku: 'M-1', region: 'eu', title: 'one again' },
          { sku: 'M-9', region: 'eu', title: 'nine' },
        ],
      });
      expect(upserted.status).toBe(200);
      expect(upserted.body.data[0].id).toBe(made[0].id);

      const missing = '00000000-0000-4000-8000-000000000000';
      const partial = await http().post('/api/data/product/bulk', {
        operation: 'delete',
        records: [{ id: made[0].id }, { id: missing }],
      });
      expect(partial.status).toBe(404);
      expect(partial.body.errors[0].path).toBe('/records/1');
      expect((await http().get(`/api/data/product/${made[0].id}`)).status).toBe(200);
      const deleted = await http().post('/api/data/product/bulk', {
        operation: 'delete',
        records: [{ id: made[0].id }, { id: made[1].id }],
      });
      expect(deleted.body.data).toEqual([{ id: made[0].id }, { id: made[1].id }]);
      expect((await http().post('/api/data/product/bulk', { operation: 'create', records: [] })).status).toBe(400);
      expect((await http().post('/api/data/product/bulk', { operation: 'merge', records: [{}] })).status).toBe(400);
    });
  });

  describe('many-to-many links', () => {
    it('associates and disassociates through REST and GraphQL', async () => {
      const shelf = (await http().post('/api/data/shelf', { label: 'A' })).body.id;
      const p1 = (await http().post('/api/data/product', { sku: 'L-1', title: 'linked 1' })).body.id;
      const p2 = (await http().post('/api/data/product', { sku: 'L-2', title: 'linked 2' })).body.id;
      expect((await http().post(`/api/data/shelf/${shelf}/shelf_products`, { id: p1 })).status).toBe(204);
      const gql = await http().graphql(
        'mutation($a: ID!, $b: ID!) { associateShelfShelfProducts(id: $a, otherId: $b) }',
        { a: shelf, b: p2 },
      );
      expect(gql.body).toEqual({ data: { associateShelfShelfProducts: true } });
      const listed = await http().get(`/api/data/shelf/${shelf}/shelf_products?select=sku&sort=sku`);
      expect(listed.body.data.map((r: { sku: string }) => r.sku)).toEqual(['L-1', 'L-2']);
      // from the other side, the same link
      expect(
        (await http().get(`/api/data/product/${p2}/shelf_products?select=label`)).body.data.map(
          (r: { label: string }) => r.label,
        ),
      ).toEqual(['A']);
      await http().graphql('mutation($a: ID!, $b: ID!) { disassociateProductShelfProducts(id: $a, otherId: $b) }', {
        a: p2,
        b: shelf,
      });
      expect((await http().delete(`/api/data/shelf/${shelf}/shelf_products/${p1}`)).status).toBe(204);
      expect((await http().get(`/api/data/shelf/${shelf}/shelf_products`)).body.data).toEqual([]);
      const missing = await http().post(`/api/data/shelf/${shelf}/shelf_products`, {
        id: '00000000-0000-4000-8000-000000000000',
      });
      expect(missing.status).toBe(422);
    });

    it('lists a self-referencing many-to-many in the direction it was linked', async () => {
      expect(
        (
          await http().post('/api/metadata/entities', {
            name: 'person',
            fields: [{ name: 'nick', type: 'text', required: true }],
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await http().post('/api/metadata/relationships', {
            name: 'follows',
            type: 'manyToMany',
            from: 'person',
            to: 'person',
          })
        ).status,
      ).toBe(201);
      const [ann, bob] = [
        (await http().post('/api/data/person', { nick: 'ann' })).body.id,
        (await http().post('/api/data/person', { nick: 'bob' })).body.id,
      ];
      expect((await http().post(`/api/data/person/${ann}/follows`, { id: bob })).status).toBe(204);
      expect(
        (await http().get(`/api/data/person/${ann}/follows?select=nick`)).body.data.map(
          (p: { nick: string }) => p.nick,
        ),
      ).toEqual(['bob']);
      expect((await http().get(`/api/data/person/${bob}/follows`)).body.data).toEqual([]);
      const nested = await http().get(`/api/data/person/${ann}?select=nick&expand=follows(select=nick)`);
      expect(nested.body.follows.map((p: { nick: string }) => p.nick)).toEqual(['bob']);
    });
  });
});
