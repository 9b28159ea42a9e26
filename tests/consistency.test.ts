/**
 * Consistency items of issue 11, found by a new user on the README tour, asserted over HTTP on
 * both databases: compact JSON bodies, the bulk status, one problem for every bad `limit`, one
 * unique index per alternate key, If-Match / If-None-Match per RFC 9110, timestamp precision.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type Reply } from './support/http.ts';
import { constraintNames } from '../metadata/physical-names.ts';
import { indexes } from './support/physical-schema.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus, modelling } from './support/problems.ts';

const SYSTEM_KEYS = ['id', 'created_at', 'updated_at', 'created_by', 'owner_id', 'version'];

/** The body is JSON exactly as JSON.stringify writes it: no whitespace between tokens, key order kept. */
function expectCompact(reply: Reply): void {
  expect(reply.status, reply.text.slice(0, 500)).toBe(200);
  expect(reply.text).not.toMatch(/[\n\r\t]|\}, \{|, \n|" : /);
  expect(reply.text).toBe(JSON.stringify(JSON.parse(reply.text)));
}

describeEachDatabase('consistency', (get, kind) => {
  const http = () => api(get().app);
  const { defineEntity, createRecord } = modelling(http);
  /** Unique indexes of a table but its primary key's. */
  const uniqueIndexes = async (table: string) =>
    (await indexes(get().services.db, table)).filter(
      (i) => /CREATE UNIQUE INDEX/.test(i.definition) && i.name !== constraintNames.primaryKey(table),
    );
  let boss: { id: string; version: number };

  beforeAll(async () => {
    await defineEntity('member', [
      { name: 'name', type: 'text', required: true },
      { name: 'rank', type: 'integer' },
      { name: 'mentor', type: 'lookup', target: 'member', inverseName: 'mentees', onDelete: 'setNull' },
    ]);
    boss = await createRecord('member', { name: 'Boss', rank: 1 });
    for (let i = 0; i < 3; i++) await createRecord('member', { name: `Mentee ${i}`, rank: i + 2, mentor: boss.id });
  });

  describe('1. bodies are compact JSON built by PostgreSQL', () => {
    it('lists, with keys in their usual order, a cursor and a count', async () => {
      const res = await http().get('/api/data/member?limit=3&count=true');
      expectCompact(res);
      expect(res.body.data).toHaveLength(3);
      expect(Object.keys(res.body.data[0])).toEqual([...SYSTEM_KEYS, 'name', 'rank', 'mentor']);
      expect(Object.keys(res.body)).toEqual(['data', 'nextCursor', 'totalCount']);
    });

    it('nested to-many expansions and lookups, in lists and single records', async () => {
      const url =
        '/api/data/member?sort=rank' +
        '&expand=mentees(select=name,rank;sort=rank;expand=mentor(select=name)),mentor(select=name)';
      const list = await http().get(url);
      expectCompact(list);
      expect(list.body.data[0].mentees.map((m: { name: string }) => m.name)).toEqual([
        'Mentee 0',
        'Mentee 1',
        'Mentee 2',
      ]);
      expect(Object.keys(list.body.data[0].mentees[0])).toEqual(['id', 'name', 'rank', 'mentor']);
      expect(list.body.data[0].mentees[0].mentor).toEqual({ id: boss.id, name: 'Boss' });
      const one = await http().get(`/api/data/member/${boss.id}?expand=mentees(select=name;sort=-rank)`);
      expectCompact(one);
      expect(one.body.mentees.map((m: { name: string }) => m.name)).toEqual(['Mentee 2', 'Mentee 1', 'Mentee 0']);
      expectCompact(await http().get(`/api/data/member/${boss.id}/mentees?select=name`));
    });

    it('aggregates and bulk answers', async () => {
      const grouped = await http().get('/api/data/member/aggregate?groupBy=mentor&aggregate=count,max(rank)');
      expectCompact(grouped);
      expect(grouped.body.data).toEqual([
        { mentor: boss.id, count: 3, max_rank: 4 },
        { mentor: null, count: 1, max_rank: 1 },
      ]);
      const bulk = await http().post('/api/data/member/bulk', {
        operation: 'create',
        records: [{ name: 'Bulk 1' }, { name: 'Bulk 2', rank: 9 }, { name: 'Bulk 3' }],
      });
      expectCompact(bulk);
      expect(bulk.body.data.map((r: { name: string }) => r.name)).toEqual(['Bulk 1', 'Bulk 2', 'Bulk 3']);
      expect(Object.keys(bulk.body.data[0])).toEqual([...SYSTEM_KEYS, 'name', 'rank', 'mentor']);
      const removed = await http().post('/api/data/member/bulk', {
        operation: 'delete',
        records: bulk.body.data.map((r: { id: string }) => ({ id: r.id })),
      });
      expectCompact(removed);
    });
  });

  describe('2. bulk answers 200 for every operation; one create answers 201', () => {
    it('create, update, upsert and delete', async () => {
      await defineEntity('tag', [
        { name: 'code', type: 'text', required: true, unique: true },
        { name: 'label', type: 'text' },
      ]);
      expectStatus(await http().post('/api/metadata/entities/tag/keys', { name: 'tag_code', fields: ['code'] }), 201);
      const single = await http().post('/api/data/tag', { code: 'one' });
      expect(single.status).toBe(201);
      expect(single.headers.location).toBe(`/api/data/tag/${single.body.id}`);
      const created = expectStatus(
        await http().post('/api/data/tag/bulk', { operation: 'create', records: [{ code: 'a' }, { code: 'b' }] }),
        200,
      );
      expect(created.data.map((r: { version: number }) => r.version)).toEqual([1, 1]);
      const updated = expectStatus(
        await http().post('/api/data/tag/bulk', {
          operation: 'update',
          records: [{ id: created.data[0].id, label: 'A' }],
        }),
        200,
      );
      expect(updated.data[0]).toMatchObject({ label: 'A', version: 2 });
      // an upsert that creates everything it names answers 200 too: the status is the batch's
      const upserted = expectStatus(
        await http().post('/api/data/tag/bulk', {
          operation: 'upsert',
          records: [{ code: 'c' }, { code: 'a', label: 'A2' }],
        }),
        200,
      );
      expect(upserted.data.map((r: { version: number }) => r.version)).toEqual([1, 3]);
      expectStatus(
        await http().post('/api/data/tag/bulk', { operation: 'delete', records: [{ id: created.data[1].id }] }),
        200,
      );
    });
  });

  describe('3. every bad limit is one problem: 400 XRM_ERR_QUERY_INVALID at /limit', () => {
    const bad = ['0', '100000', '-1', 'abc', '1.5', '1e2', '1&limit=2'];

    it('lists and related lists', async () => {
      for (const value of bad) {
        expectProblem(await http().get(`/api/data/member?limit=${value}`), 400, 'XRM_ERR_QUERY_INVALID', '/limit');
        expectProblem(
          await http().get(`/api/data/member/${boss.id}/mentees?limit=${value}`),
          400,
          'XRM_ERR_QUERY_INVALID',
          '/limit',
        );
      }
      const max = get().services.query.maxPageSize;
      expectStatus(await http().get(`/api/data/member?limit=${max}`), 200);
      expectProblem(await http().get(`/api/data/member?limit=${max + 1}`), 400, 'XRM_ERR_QUERY_INVALID', '/limit');
      expect(expectStatus(await http().get('/api/data/member?limit=1'), 200).data).toHaveLength(1);
    });

    it('expansions, at their own path', async () => {
      for (const value of bad.slice(0, 6)) {
        expectProblem(
          await http().get(`/api/data/member?expand=mentees(limit=${value})`),
          400,
          'XRM_ERR_QUERY_INVALID',
          '/expand/0/limit',
        );
      }
      expect(
        expectStatus(await http().get(`/api/data/member/${boss.id}?expand=mentees(limit=2)`), 200).mentees,
      ).toHaveLength(2);
    });

    it('aggregates (1 to 10,000 groups)', async () => {
      for (const value of [...bad, '10001']) {
        expectProblem(
          await http().get(`/api/data/member/aggregate?groupBy=name&limit=${value}`),
          400,
          'XRM_ERR_QUERY_INVALID',
          '/limit',
        );
      }
      expect(expectStatus(await http().get('/api/data/member/aggregate?groupBy=name&limit=2'), 200).data).toHaveLength(
        2,
      );
      expectStatus(await http().get('/api/data/member/aggregate?groupBy=name&limit=10000'), 200);
    });
  });

  describe('4. an alternate key never adds a second unique index', () => {
    it('a key on a unique field shares its index, whichever is dropped or turned off later', async () => {
      await defineEntity('badge', [
        { name: 'email', type: 'email', unique: true },
        { name: 'label', type: 'text' },
      ]);
      const one = async () => {
        const found = await uniqueIndexes('badge');
        expect(
          found.map((i) => i.definition).filter((d) => /\(email\)$/.test(d)),
          JSON.stringify(found),
        ).toHaveLength(1);
        return found.length;
      };
      const duplicateRefused = async () => {
        const email = `dup-${Math.random()}@x.example`;
        await createRecord('badge', { email });
        expectProblem(await http().post('/api/data/badge', { email }), 409, 'XRM_ERR_RECORD_DUPLICATE', '/email');
      };
      expect(await one()).toBe(1);
      expectStatus(
        await http().post('/api/metadata/entities/badge/keys', { name: 'badge_email', fields: ['email'] }),
        201,
      );
      expect(await one()).toBe(1);
      expect((await http().post('/api/data/badge/upsert', { email: 'u@x.example', label: 'new' })).status).toBe(201);
      expect((await http().post('/api/data/badge/upsert', { email: 'u@x.example', label: 'again' })).status).toBe(200);

      // unique off: the key keeps the one index (upserts and duplicates still refused)
      expectStatus(await http().patch('/api/metadata/entities/badge/fields/email', { unique: false }), 200);
      expect(await one()).toBe(1);
      await duplicateRefused();
      expect((await http().post('/api/data/badge/upsert', { email: 'u@x.example', label: 'third' })).body.version).toBe(
        3,
      );

      // unique back on, then the key dropped: the field's index, still one
      expectStatus(await http().patch('/api/metadata/entities/badge/fields/email', { unique: true }), 200);
      expect(await one()).toBe(1);
      expectStatus(await http().delete('/api/metadata/entities/badge/keys/badge_email'), 204);
      expect(await one()).toBe(1);
      await duplicateRefused();

      // the key again, unique off, then the key dropped: no unique index at all
      expectStatus(
        await http().post('/api/metadata/entities/badge/keys', { name: 'badge_email', fields: ['email'] }),
        201,
      );
      expectStatus(await http().patch('/api/metadata/entities/badge/fields/email', { unique: false }), 200);
      expect(await one()).toBe(1);
      expectStatus(await http().delete('/api/metadata/entities/badge/keys/badge_email'), 204);
      expect(await uniqueIndexes('badge')).toEqual([]);
      const email = 'twice@x.example';
      await createRecord('badge', { email });
      await createRecord('badge', { email });
    });

    it('two keys over the same fields share one index; a key on a plain field has its own', async () => {
      await defineEntity('seat', [
        { name: 'aisle', type: 'text' },
        { name: 'num', type: 'integer' },
        { name: 'code', type: 'text' },
      ]);
      const pairs = async () =>
        (await uniqueIndexes('seat')).filter((i) => /\((aisle, num|num, aisle)\)$/.test(i.definition));
      expectStatus(
        await http().post('/api/metadata/entities/seat/keys', { name: 'aisle_num', fields: ['aisle', 'num'] }),
        201,
      );
      expectStatus(
        await http().post('/api/metadata/entities/seat/keys', { name: 'num_aisle', fields: ['num', 'aisle'] }),
        201,
      );
      expect(await pairs()).toHaveLength(1);
      expectStatus(await http().post('/api/metadata/entities/seat/keys', { name: 'seat_code', fields: ['code'] }), 201);
      expect(await uniqueIndexes('seat')).toHaveLength(2);
      await createRecord('seat', { aisle: 'A', num: 1 });
      expectProblem(
        await http().post('/api/data/seat', { aisle: 'A', num: 1 }),
        409,
        'XRM_ERR_RECORD_DUPLICATE',
        '/aisle',
        '/num',
      );
      expectStatus(await http().delete('/api/metadata/entities/seat/keys/aisle_num'), 204);
      expect(await pairs()).toHaveLength(1);
      expect(
        (await http().post('/api/data/seat/upsert?key=num_aisle', { aisle: 'A', num: 1, code: 'A1' })).status,
      ).toBe(200);
      expectStatus(await http().delete('/api/metadata/entities/seat/keys/num_aisle'), 204);
      expect(await pairs()).toEqual([]);
      expect(await uniqueIndexes('seat')).toHaveLength(1);
    });
  });

  describe('5. If-Match and If-None-Match per RFC 9110', () => {
    let id: string;
    beforeAll(async () => {
      id = (await createRecord('member', { name: 'Versioned' })).id;
    });
    const patch = (ifMatch: string, name: string) =>
      http().patch(`/api/data/member/${id}`, { name }, { 'if-match': ifMatch });

    it('a well-formed tag this API never issued is a 412, like a stale version', async () => {
      const stale = expectProblem(await patch('"definitely-stale"', 'lost'), 412, 'XRM_ERR_RECORD_VERSION_MISMATCH');
      expect(stale.body.currentVersion).toBe(1);
      expectProblem(await patch('"0"', 'lost'), 412, 'XRM_ERR_RECORD_VERSION_MISMATCH');
      expectProblem(await patch('"a,b", W/"x"', 'lost'), 412, 'XRM_ERR_RECORD_VERSION_MISMATCH');
      expectProblem(
        await http().delete(`/api/data/member/${id}`, { 'if-match': '"definitely-stale"' }),
        412,
        'XRM_ERR_RECORD_VERSION_MISMATCH',
      );
      const read = await http().get(`/api/data/member/${id}`);
      expect(read.body).toMatchObject({ name: 'Versioned', version: 1 });
      expect(read.headers.etag).toBe('"1"');
    });

    it('* matches any existing record; a list matches when one tag does; a missing record stays 404', async () => {
      expect(expectStatus(await patch('*', 'star'), 200).version).toBe(2);
      expect(expectStatus(await patch('"9", "2"', 'listed'), 200).version).toBe(3);
      expect(expectStatus(await patch('"3", "zzz"', 'listed again'), 200).version).toBe(4);
      expectProblem(await patch('"1", "2"', 'stale list'), 412, 'XRM_ERR_RECORD_VERSION_MISMATCH');
      const gone = '00000000-0000-4000-8000-000000000001';
      expectProblem(
        await http().patch(`/api/data/member/${gone}`, { name: 'x' }, { 'if-match': '*' }),
        404,
        'XRM_ERR_RECORD_NOT_FOUND',
      );
      expectProblem(
        await http().patch(`/api/data/member/${gone}`, { name: 'x' }, { 'if-match': '"stale"' }),
        404,
        'XRM_ERR_RECORD_NOT_FOUND',
      );
    });

    it('a header that is not an entity-tag list is a 400', async () => {
      for (const header of ['nonsense', '"unterminated', '3', '* , "1"', '"a" "b"', '']) {
        expectProblem(await patch(header, 'malformed'), 400, 'XRM_ERR_REQUEST_INVALID', '/headers/if-match');
      }
      expect((await http().get(`/api/data/member/${id}`)).body.version).toBe(4);
    });

    it('If-None-Match: the current tag or * → 304, any other well-formed tag → the record', async () => {
      const url = `/api/data/member/${id}`;
      for (const header of ['"4"', 'W/"4"', '*', '"definitely-stale", "4"']) {
        const res = await http().get(url, { 'if-none-match': header });
        expect(res.status, header).toBe(304);
        expect(res.headers.etag).toBe('"4"');
      }
      for (const header of ['"definitely-stale"', '"3"', 'nonsense']) {
        const res = await http().get(url, { 'if-none-match': header });
        expect(res.status, header).toBe(200);
        expect(res.body.version).toBe(4);
      }
    });
  });

  describe('6. timestamp precision', () => {
    it(
      `system timestamps come from the database clock ` +
        `(${kind === 'pglite' ? 'milliseconds' : 'microseconds'}); ` +
        `written datetimes keep microseconds`,
      async () => {
        await defineEntity('tick', [
          { name: 'label', type: 'text' },
          { name: 'at', type: 'datetime' },
        ]);
        const tick = await createRecord('tick', { at: '2024-05-01T10:00:00.123456Z' });
        const read = expectStatus(await http().get(`/api/data/tick/${tick.id}`), 200);
        expect(read.at).toMatch(/^2024-05-01T10:00:00\.123456(Z|\+00:00)$/);
        const fraction = /\.(\d+)\+00:00$/.exec(read.created_at)?.[1] ?? '';
        expect(Number.isNaN(Date.parse(read.created_at))).toBe(false);
        // PGlite's now() is JavaScript's Date: never more than 3 digits (PostgreSQL: up to 6)
        expect(fraction.length).toBeLessThanOrEqual(kind === 'pglite' ? 3 : 6);
      },
    );
  });
});
