/**
 * Party addresses resolve through expression indexes, on both databases: a tracked entity's
 * email and phone fields get an index on the very key an address is matched by (an email
 * lower-cased, a phone's digits), made and dropped as tracking, fields and their types change;
 * the lookup an activity write runs uses them (no scan of every tracked table per write), and
 * still finds a record whatever the case of the address or the punctuation of the number.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { activities } from './support/activities.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus, modelling } from './support/problems.ts';

describeEachDatabase('party addresses through expression indexes', (platform, kind) => {
  const http = () => api(platform().app);
  const { defineEntity, createRecord } = modelling(http);
  const { log } = activities(http);
  const db = () => platform().services.db;

  /** The address indexes (ddl.ts addressIndexes) on a table: name → definition. */
  const addressIndexes = async (entity: string) => {
    const { rows } = await sql<{ name: string; def: string }>`SELECT indexname AS name, indexdef AS def
      FROM pg_indexes WHERE schemaname = 'data' AND tablename = ${entity} AND indexname LIKE 'ixa\\_\\_%'
      ORDER BY indexname`.execute(db());
    return Object.fromEntries(rows.map((r) => [r.name, r.def]));
  };
  const patchEntity = async (entity: string, body: unknown) =>
    expectStatus(await http().patch(`/api/metadata/entities/${entity}`, body), 200);

  it('come and go with tracking, fields and field types', async () => {
    await defineEntity('lead', [
      { name: 'name', type: 'text' },
      { name: 'email', type: 'email' },
      { name: 'mobile', type: 'phone' },
      { name: 'note', type: 'text' },
    ]);
    expect(await addressIndexes('lead')).toEqual({});

    await patchEntity('lead', { trackActivities: true });
    const tracked = await addressIndexes('lead');
    expect(Object.keys(tracked)).toEqual(['ixa__lead__email', 'ixa__lead__mobile']);
    expect(tracked.ixa__lead__email).toMatch(/\(lower\(\(?email\)?(::text)?\)\)/);
    expect(tracked.ixa__lead__mobile).toMatch(/regexp_replace\(\(?mobile/);

    expectStatus(await http().post('/api/metadata/entities/lead/fields', { name: 'work_email', type: 'email' }), 201);
    expect(Object.keys(await addressIndexes('lead'))).toEqual([
      'ixa__lead__email',
      'ixa__lead__mobile',
      'ixa__lead__work_email',
    ]);
    expectStatus(await http().delete('/api/metadata/entities/lead/fields/work_email'), 204);
    expect(Object.keys(await addressIndexes('lead'))).toEqual(['ixa__lead__email', 'ixa__lead__mobile']);

    await patchEntity('lead', { trackActivities: false });
    expect(await addressIndexes('lead')).toEqual({});

    // created tracked: indexed from the start
    await defineEntity(
      'vendor_contact',
      [
        { name: 'name', type: 'text' },
        { name: 'email', type: 'email' },
      ],
      { trackActivities: true },
    );
    expect(Object.keys(await addressIndexes('vendor_contact'))).toEqual(['ixa__vendor_contact__email']);
  });

  it('resolve an address by its index, whatever its case or punctuation', async () => {
    await defineEntity(
      'member',
      [
        { name: 'name', type: 'text' },
        { name: 'email', type: 'email' },
        { name: 'phone', type: 'phone' },
      ],
      { trackActivities: true },
    );
    const ann = (await createRecord('member', { name: 'Ann', email: 'Ann.Lee@Example.com', phone: '+44 20 7946 0018' }))
      .id as string;
    for (let i = 0; i < 40; i++) await createRecord('member', { name: `M${i}`, email: `m${i}@example.com` });
    await sql`ANALYZE data.member`.execute(db());

    const mail = await log({
      kind: 'email',
      direction: 'inbound',
      occurred_at: '2026-03-01T10:00:00Z',
      parties: [{ role: 'from', address: 'ANN.LEE@example.COM' }],
    });
    expect(mail.parties[0]).toMatchObject({ entity: 'member', id: ann });
    const call = await log({
      kind: 'call',
      direction: 'inbound',
      occurred_at: '2026-03-01T11:00:00Z',
      parties: [{ role: 'from', address: '(+44) 2079-460018' }],
    });
    expect(call.parties[0]).toMatchObject({ entity: 'member', id: ann });

    // the lookup's shape (server/relationships/activities.ts resolveAddresses) can walk the index
    // (on a table this small the planner prefers a scan; with scans off it shows the index serves)
    if (kind === 'postgres') {
      const plan = await db()
        .transaction()
        .execute(async (trx) => {
          await sql`SET LOCAL enable_seqscan = off`.execute(trx);
          const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN WITH k AS (
              SELECT '{ann.lee@example.com}'::text[] AS keys)
            SELECT t.id FROM data.member t WHERE lower(t.email) = ANY((SELECT keys FROM k)::text[])`.execute(trx);
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        });
      expect(plan).toMatch(/Index.* using ixa__member__email/);
    }
  });
});
