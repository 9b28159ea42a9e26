/**
 * `xrm.audit_diff` (migration 0011, set-based) answers exactly what the loop it replaced (0003's)
 * answered, for every value type and every case: a create, a delete, an update that changes,
 * clears, fills or keeps fields, and an image against itself. The audit rows REST writes carry it;
 * a create's or delete's row stores the record's image, and its history reads as the loop answered.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { AUDIT_DIFF_V1 } from '../migrations/0003-jobs-audit-webhooks.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';
import { everyValue, everyValueType } from './support/value-types.ts';

describeEachDatabase('audit diff', (get) => {
  const http = () => api(get().app);
  const db = () => get().services.db;
  const ids: string[] = [];

  /** The stored image of each record (row_to_json, as the write statements take it). */
  const images = async (): Promise<string[]> => {
    const { rows } = await sql<{ j: string }>`SELECT row_to_json(t.*)::text AS j FROM data.ad_thing t
      ORDER BY t.title`.execute(db());
    return rows.map((r) => r.j);
  };
  /** Both functions' answers for a pair of images (null: none). */
  const both = async (old: string | null, next: string | null) => {
    const { rows } = await sql<{
      now: unknown;
      then: unknown;
    }>`SELECT xrm.audit_diff(${old}::json, ${next}::json) AS now,
        audit_v1.audit_diff(${old}::json, ${next}::json) AS then`.execute(db());
    return rows[0]!;
  };

  beforeAll(async () => {
    await sql`CREATE SCHEMA audit_v1`.execute(db());
    await sql.raw(AUDIT_DIFF_V1.replace('xrm.audit_diff', 'audit_v1.audit_diff')).execute(db());
    expectStatus(await http().post('/api/metadata/entities', { name: 'ad_parent', fields: [] }), 201);
    const fields = everyValueType('ad_parent');
    expectStatus(await http().post('/api/metadata/entities', { name: 'ad_thing', fields }), 201);
    const parent = expectStatus(await http().post('/api/data/ad_parent', { name: 'P' }), 201);
    const records = [
      everyValue(parent.id, 'a full "one"\n✓'),
      { title: 'b nulls everywhere' },
      { title: 'c third', amount: 0, flag: false, tags: [], payload: null, parent: parent.id },
    ];
    for (const record of records) ids.push(expectStatus(await http().post('/api/data/ad_thing', record), 201).id);
  });

  it('answers what the loop answered for creates, deletes, updates and unchanged images', async () => {
    const [full, sparse, third] = await images();
    const pairs: [string | null, string | null][] = [[null, null]];
    for (const a of [full!, sparse!, third!]) {
      pairs.push([null, a], [a, null], [a, a]);
      for (const b of [full!, sparse!, third!]) if (a !== b) pairs.push([a, b]);
    }
    for (const [old, next] of pairs) {
      const { now, then } = await both(old, next);
      expect(now, `${old} → ${next}`).toEqual(then);
    }
    // the cases carry what they should: a create every non-null field, in column order
    const created = (await both(null, full!)).now as { field: string }[];
    expect(created.map((c) => c.field)).toContain('payload');
    expect(created.map((c) => c.field)).not.toContain('version');
    expect((await both(full!, full!)).now).toEqual([]);
  });

  it('is what the audit rows of REST writes carry', async () => {
    const id = ids[0]!;
    const before = (await images())[0]!;
    expectStatus(await http().patch(`/api/data/ad_thing/${id}`, { count: 8, body: null, tags: ['b'] }), 200);
    const after = (await images())[0]!;
    const history = expectStatus(await http().get(`/api/data/ad_thing/${id}/history`), 200);
    expect(history.data[0].changes).toEqual((await both(before, after)).then);
    expect(history.data[0].changes.map((c: { field: string }) => c.field)).toEqual(['body', 'count', 'tags']);
    expect(history.data[1].changes).toEqual((await both(null, before)).then);
  });

  it('a create or delete stores the image, and its history reads as the loop answered', async () => {
    const [, sparse, third] = await images();
    for (const [i, image] of [
      [1, sparse!],
      [2, third!],
    ] as const) {
      const id = ids[i]!;
      expectStatus(await http().delete(`/api/data/ad_thing/${id}`), 204);
      const { rows } = await sql<{ message: string; changes: unknown }>`SELECT message, changes FROM xrm.audit
        WHERE entity = 'ad_thing' AND record_id = ${id} ORDER BY id`.execute(db());
      // one operator over the image (null fields kept, the platform's columns not), no walk in SQL
      expect(rows.map((r) => r.message)).toEqual(['create', 'delete']);
      for (const row of rows) {
        expect(row.changes).toEqual(
          Object.fromEntries(
            Object.entries(JSON.parse(image)).filter(
              ([k]) => !['id', 'created_at', 'updated_at', 'version'].includes(k),
            ),
          ),
        );
      }
      // the history gives them as [{ field, new }] / [{ field, old }], non-null fields in column order
      const history = expectStatus(await http().get(`/api/data/ad_thing/${id}/history`), 200);
      expect(history.data.map((e: { message: string }) => e.message)).toEqual(['delete', 'create']);
      expect(history.data[0].changes).toEqual((await both(image, null)).then);
      expect(history.data[1].changes).toEqual((await both(null, image)).then);
    }
  });
});
