/**
 * Hostile input, on both databases. Names that could break out of an identifier are refused with
 * a path; values that look like SQL are data, stored and returned verbatim; literals that go into
 * DDL (choice options, defaults, autonumber prefixes) are quoted and never executed; malformed
 * requests get coded problems; and no response ever shows a stack trace or SQL the server wrote.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { api, call, type Reply } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import {
  column,
  columns,
  indexes,
  physicalSnapshot,
  sequences,
  sqlState,
  tableExists,
} from './support/physical-schema.ts';
import { expectProblem, expectStatus, leaksIn } from './support/problems.ts';

/** Names that are not valid lower snake_case identifiers of at most 63 bytes, or are reserved. */
const HOSTILE_NAMES: readonly unknown[] = [
  'a"b',
  "a'b",
  'a;b',
  'x; DROP TABLE data.hi_victim; --',
  '"; DROP TABLE data.hi_victim; --',
  'a b',
  ' lead',
  'trail ',
  'tab\tname',
  'new\nline',
  '名前',
  'café',
  'ñandú',
  'emoji_😀',
  'Upper',
  'UPPER',
  'camelCase',
  'a'.repeat(64),
  `é${'a'.repeat(61)}`,
  'select',
  'user',
  'table',
  'from',
  'where',
  'order',
  'group',
  'null',
  'true',
  'default',
  'check',
  '1abc',
  '9',
  '_abc',
  'abc_',
  'a__b',
  'a-b',
  'a.b',
  'a/b',
  'a\\b',
  'a%b',
  'a$b',
  '$1',
  '%s',
  '{{x}}',
  '..',
  '',
  'pg_catalog',
  'xrm_entities',
  'a\u0000b',
  123,
  null,
  true,
  ['a'],
  { name: 'a' },
];

/** System columns every entity table has: no field may take these names. */
const SYSTEM_COLUMNS = ['id', 'created_at', 'updated_at', 'created_by', 'owner_id', 'version'];

/** Values that look like SQL, escapes or tricky Unicode: all plain data. */
const HOSTILE_VALUES: readonly string[] = [
  "'); DROP TABLE data.hi_victim; --",
  "Robert'); DROP TABLE students;--",
  "' OR '1'='1",
  '"; DROP TABLE data.hi_victim; --',
  '\\',
  "\\\\'",
  "\\'; SELECT pg_sleep(10); --",
  "E'\\x41'",
  '$$; DROP TABLE data.hi_victim; $$',
  '$tag$ x $tag$',
  '$1 $2 ? :name @p0',
  '%_[]^*',
  '😀👩‍👩‍👧‍👦🏳️‍🌈',
  '日本語のテキスト',
  'مرحبا بالعالم',
  '\u202eRTL override',
  'Z̷̢͎a̶l̸g̵o',
  '\uFEFFbom',
  '\uD83D\uDE00 surrogate pair',
  'line1\nline2\r\n\ttab',
  '\u0001\u0002 control \u001f',
  '<script>alert(1)</script>',
  '{"json": "inside text"}',
  '{a,b}',
  '{"NULL"}',
  'NULL',
  'null',
  '',
  ' spaced ',
  '/* comment */ -- comment',
  ';',
  "'",
  '"',
  '`',
  "'''",
];

/** Choice option values with quotes, array-literal syntax and SQL: they become CHECK literals. */
const HOSTILE_OPTIONS: readonly string[] = [
  "it's",
  'a"b',
  "x'); DROP TABLE data.hi_victim; --",
  'back\\slash',
  '{curly}',
  'a,b',
  'NULL',
  '日本',
  '😀',
  '$$',
  'semi;colon',
  ' spaced ',
  "''",
];

describeEachDatabase('hostile input', (get) => {
  const db = () => get().services.db;
  /** Every reply of this leg, to check at the end that none leaks internals. */
  const seen: Reply[] = [];
  const track = async (reply: Promise<Reply>): Promise<Reply> => {
    const r = await reply;
    seen.push(r);
    return r;
  };
  const http = () => {
    const a = api(get().app);
    return {
      get: (url: string) => track(a.get(url)),
      post: (url: string, body?: unknown) => track(a.post(url, body)),
      patch: (url: string, body?: unknown) => track(a.patch(url, body)),
      delete: (url: string) => track(a.delete(url)),
      raw: (method: string, url: string, payload?: unknown, headers?: Record<string, string>) =>
        track(call(get().app, method, url, payload, headers)),
    };
  };

  async function defineEntity(name: string, fields: unknown[], extra: Record<string, unknown> = {}): Promise<any> {
    return expectStatus(await http().post('/api/metadata/entities', { name, fields, ...extra }), 201);
  }

  async function createRecord(entity: string, body: Record<string, unknown>): Promise<any> {
    return expectStatus(await http().post(`/api/data/${entity}`, body), 201);
  }

  /** The canary: a table and record every hostile value aims at. */
  async function victimIntact(): Promise<void> {
    expect(await tableExists(db(), 'hi_victim')).toBe(true);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM data.hi_victim`.execute(db());
    expect(rows[0]!.n).toBe(1);
  }

  it('sets up a canary table', async () => {
    await defineEntity('hi_victim', [{ name: 'name', type: 'text' }]);
    await createRecord('hi_victim', { name: 'still here' });
    await victimIntact();
  });

  // ---------------------------------------------------------------------------------------------
  // Names
  // ---------------------------------------------------------------------------------------------

  it('refuses hostile entity, field, relationship and choice-set names with 400 and a path', async () => {
    const before = await physicalSnapshot(db());
    const versionBefore = expectStatus(await http().get('/api/metadata'), 200).version;
    for (const name of HOSTILE_NAMES) {
      expectProblem(await http().post('/api/metadata/entities', { name }), 400, 'XRM_ERR_METADATA_INVALID', '/name');
      expectProblem(
        await http().post('/api/metadata/entities', {
          name: 'hi_ok',
          fields: [
            { name: 'title', type: 'text' },
            { name, type: 'text' },
          ],
        }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/fields/1/name',
      );
      expectProblem(
        await http().post('/api/metadata/entities/hi_victim/fields', { name, type: 'text' }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/name',
      );
      expectProblem(
        await http().post('/api/metadata/relationships', {
          name,
          type: 'manyToMany',
          from: 'hi_victim',
          to: 'hi_victim',
        }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/name',
      );
      expectProblem(
        await http().post('/api/metadata/choice-sets', { name, options: [{ value: 'a', label: 'A' }] }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/name',
      );
      if (typeof name === 'string' && name !== '') {
        expectProblem(
          await http().post('/api/metadata/entities', { name: 'hi_ok', pluralName: name }),
          400,
          'XRM_ERR_METADATA_INVALID',
          '/pluralName',
        );
        expectProblem(
          await http().post('/api/metadata/entities', { name: 'hi_ok', primaryField: name }),
          400,
          'XRM_ERR_METADATA_INVALID',
          '/primaryField',
        );
        expectProblem(
          await http().post('/api/metadata/entities/hi_victim/fields', {
            name: 'ref',
            type: 'lookup',
            target: 'hi_victim',
            inverseName: name,
          }),
          400,
          'XRM_ERR_METADATA_INVALID',
          '/inverseName',
        );
      }
    }
    for (const name of SYSTEM_COLUMNS) {
      expectProblem(
        await http().post('/api/metadata/entities', { name: 'hi_ok', fields: [{ name, type: 'text' }] }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/fields/0/name',
      );
      const r = expectProblem(
        await http().post('/api/metadata/entities/hi_victim/fields', { name, type: 'integer' }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/name',
      );
      expect(r.body.detail).toContain('system column');
    }
    // nothing reached the database
    expect(await physicalSnapshot(db())).toEqual(before);
    expect(expectStatus(await http().get('/api/metadata'), 200).version).toBe(versionBefore);
    expect(
      expectStatus(await http().get('/api/metadata/entities'), 200).data.map((e: { name: string }) => e.name),
    ).toEqual(['activity', 'hi_victim']);
    await victimIntact();
  });

  it('accepts names of exactly 63 bytes (long constraint names stay unique), refuses 64', async () => {
    const entity = `e${'a'.repeat(62)}`;
    const plural = `p${'a'.repeat(62)}`;
    const f1 = `f${'b'.repeat(61)}1`;
    const f2 = `f${'b'.repeat(61)}2`;
    const lookup = `l${'c'.repeat(62)}`;
    const auto = `n${'d'.repeat(62)}`;
    expect([entity, plural, f1, f2, lookup, auto].map((n) => Buffer.byteLength(n))).toEqual([63, 63, 63, 63, 63, 63]);
    await defineEntity(
      entity,
      [
        { name: 'name', type: 'text' },
        { name: f1, type: 'text', unique: true, searchable: true, minLength: 1 },
        { name: f2, type: 'text', unique: true, searchable: true, minLength: 1 },
        { name: lookup, type: 'lookup', target: entity, inverseName: 'children', onDelete: 'restrict' },
        { name: auto, type: 'autonumber', prefix: 'L-' },
      ],
      { pluralName: plural },
    );
    const cols = await columns(db(), entity);
    expect(Object.keys(cols)).toEqual(expect.arrayContaining([f1, f2, lookup, auto]));
    const names = (await indexes(db(), entity)).map((i) => i.name);
    expect(names.length).toBe(new Set(names).size);
    // pkey, created_at, 2 × unique (serving search too), full-text, lookup, autonumber unique
    expect(names.length).toBeGreaterThanOrEqual(7);
    for (const n of names) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
    expect((await sequences(db())).length).toBeGreaterThan(0);

    const a = await createRecord(entity, { name: 'a', [f1]: 'one', [f2]: 'one' });
    expect(a[auto]).toBe('L-000001');
    const b = await createRecord(entity, { name: 'b', [f1]: 'two', [f2]: 'two', [lookup]: a.id });
    expect(expectStatus(await http().get(`/api/data/${entity}/${b.id}`), 200)).toMatchObject({
      [f1]: 'two',
      [lookup]: a.id,
      [auto]: 'L-000002',
    });
    expectProblem(await http().post(`/api/data/${entity}`, { [f1]: 'one' }), 409, 'XRM_ERR_RECORD_DUPLICATE', `/${f1}`);
    expectProblem(await http().post(`/api/data/${entity}`, { [f2]: 'one' }), 409, 'XRM_ERR_RECORD_DUPLICATE', `/${f2}`);
    expectProblem(await http().post(`/api/data/${entity}`, { [f2]: '' }), 400, 'XRM_ERR_RECORD_INVALID', `/${f2}`);
    expectProblem(await http().delete(`/api/data/${entity}/${a.id}`), 409, 'XRM_ERR_RECORD_DELETE_RESTRICTED');
    expect(
      expectStatus(await http().get(`/api/data/${entity}/${a.id}/children`), 200).data.map((r: { id: string }) => r.id),
    ).toEqual([b.id]);

    expectProblem(
      await http().post('/api/metadata/entities', { name: `${entity}x`, pluralName: plural }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/name',
    );
    expectProblem(
      await http().post(`/api/metadata/entities/${entity}/fields`, { name: `${f1}x`, type: 'text' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/name',
    );
    // the whole definition changes cleanly too
    expectStatus(
      await http().patch(`/api/metadata/entities/${entity}/fields/${f1}`, {
        unique: false,
        searchable: false,
        minLength: null,
      }),
      200,
    );
    expectStatus(await http().delete(`/api/metadata/entities/${entity}/fields/${auto}`), 204);
    expectStatus(await http().delete(`/api/metadata/entities/${entity}/fields/${lookup}`), 204);
    expectStatus(await http().delete(`/api/metadata/entities/${entity}`), 204);
    expect(await tableExists(db(), entity)).toBe(false);
    expect(await sequences(db())).toEqual([]);
  });

  it('serves entities whose field names match the SQL aliases the server uses (t, w, o, j)', async () => {
    await defineEntity('hi_alias', [
      { name: 't', type: 'text' },
      { name: 'w', type: 'text' },
      { name: 'x', type: 'integer' },
      { name: 'j', type: 'json' },
      { name: 'o', type: 'text', unique: true },
      { name: 's', type: 'lookup', target: 'hi_alias', inverseName: 'n' },
      { name: 'row', type: 'text' },
      { name: 'count', type: 'integer' },
    ]);
    const one = await createRecord('hi_alias', { t: 'T', w: 'W', x: 1, j: { t: 1 }, o: 'O1', row: 'ROW', count: 3 });
    expect(one).toMatchObject({ t: 'T', w: 'W', x: 1, j: { t: 1 }, o: 'O1', row: 'ROW', count: 3, version: 1 });
    const two = await createRecord('hi_alias', { t: 'T2', o: 'O2', s: one.id });
    expect(expectStatus(await http().get(`/api/data/hi_alias/${one.id}`), 200)).toMatchObject({ t: 'T', w: 'W' });
    const page = expectStatus(await http().get('/api/data/hi_alias?limit=1&count=true'), 200);
    expect(page.totalCount).toBe(2);
    const next = expectStatus(await http().get(`/api/data/hi_alias?limit=1&cursor=${page.nextCursor}`), 200);
    expect([page.data[0].id, next.data[0].id].sort()).toEqual([one.id, two.id].sort());
    expect(expectStatus(await http().patch(`/api/data/hi_alias/${one.id}`, { w: 'W!', t: null }), 200)).toMatchObject({
      w: 'W!',
      t: null,
      version: 2,
    });
    expect(
      expectStatus(await http().get(`/api/data/hi_alias/${one.id}/n`), 200).data.map((x: { id: string }) => x.id),
    ).toEqual([two.id]);
    expectProblem(await http().post('/api/data/hi_alias', { o: 'O1' }), 409, 'XRM_ERR_RECORD_DUPLICATE', '/o');
    // metadata checks over existing rows with those names too
    expectProblem(
      await http().patch('/api/metadata/entities/hi_alias/fields/t', { required: true }),
      409,
      'XRM_ERR_METADATA_DATA_CONFLICT',
    );
    expectStatus(await http().patch('/api/metadata/entities/hi_alias/fields/w', { unique: true }), 200);
    expectStatus(
      await http().post('/api/metadata/relationships', {
        name: 'hi_alias_links',
        type: 'manyToMany',
        from: 'hi_alias',
        to: 'hi_alias',
      }),
      201,
    );
    expect((await http().post(`/api/data/hi_alias/${one.id}/hi_alias_links`, { id: two.id })).status).toBe(204);
    const links = await sql<{
      from_id: string;
      to_id: string;
    }>`SELECT from_id::text, to_id::text FROM data.hi_alias_links`.execute(db());
    expect(links.rows).toEqual([{ from_id: one.id, to_id: two.id }]);
    expect((await http().delete(`/api/data/hi_alias/${two.id}`)).status).toBe(204);
  });

  // ---------------------------------------------------------------------------------------------
  // Values
  // ---------------------------------------------------------------------------------------------

  it('stores hostile values verbatim in every text-like field and JSON, and returns them unchanged', async () => {
    await defineEntity('hi_values', [
      { name: 'name', type: 'text', maxLength: 1000 },
      { name: 'body', type: 'longText' },
      { name: 'data', type: 'json' },
    ]);
    const ids: string[] = [];
    for (const value of HOSTILE_VALUES) {
      const body = { name: value, body: value, data: { [value]: value, list: [value, { nested: value }] } };
      const created = await createRecord('hi_values', body);
      expect(created, JSON.stringify(value)).toMatchObject(body);
      const read = expectStatus(await http().get(`/api/data/hi_values/${created.id}`), 200);
      expect(read.name, JSON.stringify(value)).toBe(value);
      expect(read.body, JSON.stringify(value)).toBe(value);
      expect(read.data, JSON.stringify(value)).toEqual(body.data);
      const patched = expectStatus(
        await http().patch(`/api/data/hi_values/${created.id}`, { name: `${value}|${value}` }),
        200,
      );
      expect(patched.name).toBe(`${value}|${value}`);
      ids.push(created.id);
    }
    // a long NUL-free string in a longText, and deep JSON
    const long = `${HOSTILE_VALUES.join('\u2028')}${'x'.repeat(200_000)}`;
    const deep = JSON.parse(`${'{"a":'.repeat(200)}"bottom"${'}'.repeat(200)}`);
    const big = await createRecord('hi_values', { body: long, data: deep });
    const readBig = expectStatus(await http().get(`/api/data/hi_values/${big.id}`), 200);
    expect(readBig.body).toBe(long);
    expect(readBig.data).toEqual(deep);
    // the list returns them all intact as well
    const list = expectStatus(await http().get('/api/data/hi_values?limit=1000'), 200).data as {
      id: string;
      body: string;
    }[];
    expect(list.length).toBe(HOSTILE_VALUES.length + 1);
    for (const [i, value] of HOSTILE_VALUES.entries()) expect(list.find((r) => r.id === ids[i])!.body).toBe(value);
    await victimIntact();
    // the database holds exactly the bytes sent
    const { rows } = await sql<{ body: string }>`SELECT body FROM data.hi_values WHERE id = ${ids[0]!}`.execute(db());
    expect(rows[0]!.body).toBe(HOSTILE_VALUES[0]);
  });

  it('refuses NUL characters (PostgreSQL cannot store them) with a path, in records and definitions', async () => {
    expectProblem(
      await http().post('/api/data/hi_values', { name: 'a\u0000b' }),
      400,
      'XRM_ERR_RECORD_INVALID',
      '/name',
    );
    expectProblem(
      await http().post('/api/data/hi_values', { data: { ok: ['x', 'a\u0000b'] } }),
      400,
      'XRM_ERR_RECORD_INVALID',
      '/data/ok/1',
    );
    expectProblem(await http().post('/api/data/hi_values', { data: { 'k\u0000': 1 } }), 400, 'XRM_ERR_RECORD_INVALID');
    const [rec] = expectStatus(await http().get('/api/data/hi_values?limit=1'), 200).data;
    expectProblem(
      await http().patch(`/api/data/hi_values/${rec.id}`, { body: '\u0000' }),
      400,
      'XRM_ERR_RECORD_INVALID',
      '/body',
    );
    expectProblem(
      await http().post('/api/metadata/entities', { name: 'hi_nul', displayName: 'a\u0000b' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/displayName',
    );
    expectProblem(
      await http().post('/api/metadata/entities', {
        name: 'hi_nul',
        fields: [{ name: 'c', type: 'choice', options: [{ value: 'a', label: 'x\u0000' }] }],
      }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/fields/0/options/0/label',
    );
    expectProblem(
      await http().post('/api/metadata/entities/hi_values/fields', { name: 'd', type: 'text', default: '\u0000' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/default',
    );
    expectProblem(
      await http().post('/api/metadata/choice-sets', { name: 'hi_nul', options: [{ value: '\u0000', label: 'x' }] }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/options/0/value',
    );
    expectProblem(
      await http().patch('/api/metadata/entities/hi_values', { description: '\u0000' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/description',
    );
    expectProblem(
      await http().patch('/api/metadata/entities/hi_values/fields/body', { description: 'x\u0000' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/description',
    );
    expect(await tableExists(db(), 'hi_nul')).toBe(false);
  });

  it('refuses a value too large for an index entry with 400 and its path; indexing one with 409', async () => {
    // random text does not compress: past about 2,700 bytes no B-tree entry holds it, past 8 kB no entry at all
    const noise = (bytes: number) => {
      let s = '';
      while (s.length < bytes) s += Math.random().toString(36).slice(2);
      return s.slice(0, bytes);
    };
    // many distinct words: their tsvector passes PostgreSQL's 1 MB
    const words = Array.from({ length: 110_000 }, (_, i) => `w${i.toString(36)}${noise(4)}`).join(' ');
    await defineEntity('hi_big', [
      { name: 'code', type: 'text', maxLength: 100_000, indexed: true },
      { name: 'tag', type: 'text', maxLength: 100_000, unique: true },
      { name: 'note', type: 'longText', searchable: true },
      { name: 'plain', type: 'text', maxLength: 100_000 },
      { name: 'essay', type: 'longText' },
      { name: 'a', type: 'text', maxLength: 100_000 },
      { name: 'b', type: 'text', maxLength: 100_000 },
    ]);
    expectStatus(await http().post('/api/metadata/entities/hi_big/keys', { name: 'a_b', fields: ['a', 'b'] }), 201);
    const count = async () =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM data.hi_big`.execute(db())).rows[0]!.n;
    const kept = await createRecord('hi_big', { code: 'k1', plain: noise(50_000) });
    const refused = (reply: Reply, path: string) => {
      expectProblem(reply, 400, 'XRM_ERR_RECORD_INVALID', path);
      expect(reply.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
    };

    refused(await http().post('/api/data/hi_big', { code: noise(3_000), plain: 'small' }), '/code');
    refused(await http().post('/api/data/hi_big', { code: noise(20_000) }), '/code');
    refused(await http().post('/api/data/hi_big', { tag: noise(3_000), note: 'fine' }), '/tag');
    refused(await http().post('/api/data/hi_big', { a: noise(1_400), b: noise(1_700) }), '/b');
    refused(await http().post('/api/data/hi_big', { note: words, code: 'x' }), '/note');
    refused(await http().patch(`/api/data/hi_big/${kept.id}`, { code: noise(3_000) }), '/code');
    refused(await http().post('/api/data/hi_big/upsert?key=a_b', { a: 'x', b: 'y', tag: noise(9_000) }), '/tag');
    // a set-based bulk insert is refused as a whole, then the item that broke it is named
    const bulk = await http().post('/api/data/hi_big/bulk', {
      operation: 'create',
      records: [{ code: 'ok' }, { code: noise(3_000) }],
    });
    expectProblem(bulk, 400, 'XRM_ERR_RECORD_INVALID', '/records/1/code');
    // concurrent creates that share a statement: the one too large is refused, the others written
    const together = await Promise.all(
      Array.from({ length: 12 }, (_, i) => http().post('/api/data/hi_big', { code: i === 5 ? noise(3_000) : `c${i}` })),
    );
    expect(together.map((r) => r.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i === 5 ? 400 : 201)));
    refused(together[5]!, '/code');
    const graphql = await http().post('/graphql', {
      query: 'mutation($v: String) { createHiBig(input: { code: $v }) { id } }',
      variables: { v: noise(3_000) },
    });
    expect(graphql.body.errors?.[0]?.extensions?.code, graphql.text.slice(0, 500)).toBe('XRM_ERR_RECORD_INVALID');
    expect(await count()).toBe(12);
    const stored = expectStatus(await http().get(`/api/data/hi_big/${kept.id}`), 200);
    expect(stored.code).toBe('k1');

    // indexing a field whose stored values no entry holds: refused, schema and metadata as they were
    const before = await physicalSnapshot(db());
    const field = expectStatus(await http().get('/api/metadata/entities/hi_big'), 200);
    const change = await http().patch('/api/metadata/entities/hi_big/fields/plain', { indexed: true });
    expectProblem(change, 409, 'XRM_ERR_METADATA_DATA_CONFLICT');
    await createRecord('hi_big', { code: 'k2', essay: words });
    const search = await http().patch('/api/metadata/entities/hi_big/fields/essay', { searchable: true });
    expectProblem(search, 409, 'XRM_ERR_METADATA_DATA_CONFLICT');
    const after = expectStatus(await http().get('/api/metadata/entities/hi_big'), 200);
    expect(after.fields).toEqual(field.fields);
    expect(await physicalSnapshot(db())).toEqual(before);
  });

  it('puts hostile choice options, defaults and autonumber prefixes into DDL as literals, never as code', async () => {
    const options = HOSTILE_OPTIONS.map((value, i) => ({ value, label: `Label "${i}" l'étiquette 日本` }));
    const textDefault = "'); DROP TABLE data.hi_victim; --";
    const jsonDefault = { "'); DROP TABLE data.hi_victim; --": ['$$', '\\', "'"] };
    await defineEntity('hi_ddl', [
      { name: 'name', type: 'text', default: textDefault },
      { name: 'pick', type: 'choice', options, default: HOSTILE_OPTIONS[2] },
      { name: 'picks', type: 'multiChoice', options, default: [HOSTILE_OPTIONS[2], 'a,b', '{curly}', 'NULL'] },
      { name: 'data', type: 'json', default: jsonDefault },
      { name: 'quote_num', type: 'autonumber', prefix: "O'Brien-", digits: 3 },
      { name: 'sql_num', type: 'autonumber', prefix: "');DROP TABLE hi_victim;--", digits: 2 },
      { name: 'strict', type: 'text', pattern: "^[^']*$" },
    ]);
    await victimIntact();
    // the defaults apply, verbatim
    const rec = await createRecord('hi_ddl', {});
    expect(rec).toMatchObject({
      name: textDefault,
      pick: HOSTILE_OPTIONS[2],
      picks: [HOSTILE_OPTIONS[2], 'a,b', '{curly}', 'NULL'],
      data: jsonDefault,
      quote_num: "O'Brien-001",
      sql_num: "');DROP TABLE hi_victim;--01",
    });
    expect((await column(db(), 'hi_ddl', 'name'))!.default).toContain("''); DROP TABLE data.hi_victim; --'");
    // every option works as a value, alone and all together
    for (const value of HOSTILE_OPTIONS) {
      const r = await createRecord('hi_ddl', { pick: value, picks: [value] });
      expect(expectStatus(await http().get(`/api/data/hi_ddl/${r.id}`), 200)).toMatchObject({
        pick: value,
        picks: [value],
      });
    }
    const all = await createRecord('hi_ddl', { picks: [...HOSTILE_OPTIONS] });
    expect(expectStatus(await http().get(`/api/data/hi_ddl/${all.id}`), 200).picks).toEqual([...HOSTILE_OPTIONS]);
    // and only the options: the CHECK is real, in the API and in the database
    expectProblem(await http().post('/api/data/hi_ddl', { pick: "it's not" }), 400, 'XRM_ERR_RECORD_INVALID', '/pick');
    expectProblem(await http().post('/api/data/hi_ddl', { picks: ['a'] }), 400, 'XRM_ERR_RECORD_INVALID');
    expect(await sqlState(db(), sql`INSERT INTO data.hi_ddl (pick) VALUES ('x')`)).toBe('23514');
    expect(await sqlState(db(), sql`INSERT INTO data.hi_ddl (picks) VALUES (ARRAY['a'])`)).toBe('23514');
    expect(
      await sqlState(
        db(),
        sql`INSERT INTO data.hi_ddl (pick, picks) VALUES (${HOSTILE_OPTIONS[2]}, ${[...HOSTILE_OPTIONS]}::text[])`,
      ),
    ).toBeUndefined();
    // the pattern keeps quotes out of "strict"
    expectProblem(await http().post('/api/data/hi_ddl', { strict: "it's" }), 400, 'XRM_ERR_RECORD_INVALID', '/strict');
    expect((await createRecord('hi_ddl', { strict: 'fine' })).strict).toBe('fine');
    // the options and labels come back intact in the metadata and the JSON Schema
    const field = expectStatus(await http().get('/api/metadata/entities/hi_ddl/fields/pick'), 200);
    expect(field.options).toEqual(options);
    const schema = expectStatus(await http().get('/api/metadata/entities/hi_ddl/schema?variant=create'), 200);
    expect(schema.properties.pick.enum).toEqual([...HOSTILE_OPTIONS, null]);
    expect(schema.properties.name.default).toBe(textDefault);
    // hostile options added later (inline and through a choice set) go the same way
    const more = [...options, { value: "'; DROP TABLE data.hi_ddl; --", label: "'" }];
    expectStatus(await http().patch('/api/metadata/entities/hi_ddl/fields/pick', { options: more }), 200);
    expect((await createRecord('hi_ddl', { pick: "'; DROP TABLE data.hi_ddl; --" })).pick).toBe(
      "'; DROP TABLE data.hi_ddl; --",
    );
    expectStatus(await http().post('/api/metadata/choice-sets', { name: 'hi_set', options }), 201);
    expectStatus(
      await http().post('/api/metadata/entities/hi_ddl/fields', {
        name: 'from_set',
        type: 'multiChoice',
        choiceSet: 'hi_set',
      }),
      201,
    );
    expectStatus(await http().patch('/api/metadata/choice-sets/hi_set', { options: more }), 200);
    expect((await createRecord('hi_ddl', { from_set: ["'; DROP TABLE data.hi_ddl; --", 'a,b'] })).from_set).toEqual([
      "'; DROP TABLE data.hi_ddl; --",
      'a,b',
    ]);
    // a hostile default set later, too
    expectStatus(
      await http().patch('/api/metadata/entities/hi_ddl/fields/strict', {
        default: 'no quote; DROP TABLE data.hi_ddl --',
      }),
      200,
    );
    expect((await createRecord('hi_ddl', {})).strict).toBe('no quote; DROP TABLE data.hi_ddl --');
    expect(await tableExists(db(), 'hi_ddl')).toBe(true);
    await victimIntact();
    // the ledger recorded the statements with the literals quoted
    const changes = expectStatus(await http().get('/api/metadata/changes?target=hi_ddl&limit=100'), 200).data as {
      statements: string[];
    }[];
    const ddl = changes.flatMap((c) => c.statements).join('\n');
    expect(ddl).toContain("'''); DROP TABLE data.hi_victim; --'");
    expect(ddl).toContain("'O''Brien-'");
  });

  it('round-trips Unicode and quoted labels and descriptions in the metadata', async () => {
    const labels = {
      displayName: '顧客 "VIP" 🏆',
      pluralDisplayName: "お客様たち 'all'",
      description: "Line 1\nLine 2 — «guillemets» \\ backslash '); DROP TABLE data.hi_victim; --",
    };
    await defineEntity(
      'hi_labels',
      [
        { name: 'name', type: 'text', displayName: "Nom de l'entreprise", description: 'Ünïcödé\t"quoted"' },
        {
          name: 'state',
          type: 'choice',
          displayName: '状態',
          options: [
            { value: 'ok', label: 'よし' },
            { value: 'ko', label: 'Не хорошо 😢' },
          ],
        },
      ],
      labels,
    );
    const entity = expectStatus(await http().get('/api/metadata/entities/hi_labels'), 200);
    expect(entity).toMatchObject(labels);
    expect(entity.fields[0]).toMatchObject({ displayName: "Nom de l'entreprise", description: 'Ünïcödé\t"quoted"' });
    expect(entity.fields[1].options).toEqual([
      { value: 'ok', label: 'よし' },
      { value: 'ko', label: 'Не хорошо 😢' },
    ]);
    const schema = expectStatus(await http().get('/api/metadata/entities/hi_labels/schema'), 200);
    expect(schema.title).toBe(labels.displayName);
    expect(schema.description).toBe(labels.description);
    expect(schema.properties.state.title).toBe('状態');
    expectStatus(await http().patch('/api/metadata/entities/hi_labels', { displayName: 'Клиент ✓' }), 200);
    expectStatus(await http().patch('/api/metadata/entities/hi_labels/fields/state', { displayName: '상태 "q"' }), 200);
    const after = expectStatus(await http().get('/api/metadata/entities/hi_labels'), 200);
    expect(after.displayName).toBe('Клиент ✓');
    expect(after.fields[1].displayName).toBe('상태 "q"');
    // the stored definitions and the ledger carry the same text
    const { rows } = await sql<{
      d: { displayName: string };
    }>`SELECT definition AS d FROM xrm.entities WHERE name = 'hi_labels'`.execute(db());
    expect(rows[0]!.d.displayName).toBe('Клиент ✓');
    const last = expectStatus(await http().get('/api/metadata/changes?limit=1'), 200).data[0];
    expect(last.after.displayName).toBe('상태 "q"');
    // labels are bounded
    expectProblem(
      await http().patch('/api/metadata/entities/hi_labels', { displayName: '字'.repeat(256) }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/displayName',
    );
    expectStatus(await http().patch('/api/metadata/entities/hi_labels', { displayName: '字'.repeat(255) }), 200);
  });

  // ---------------------------------------------------------------------------------------------
  // Malformed requests and unknown targets
  // ---------------------------------------------------------------------------------------------

  it(
    'answers malformed JSON with 400 XRM_ERR_REQUEST_MALFORMED_JSON ' + 'and other bad bodies with coded problems',
    async () => {
      const json = { 'content-type': 'application/json' };
      const [rec] = expectStatus(await http().get('/api/data/hi_values?limit=1'), 200).data;
      const targets: [string, string][] = [
        ['POST', '/api/metadata/entities'],
        ['PATCH', '/api/metadata/entities/hi_values'],
        ['POST', '/api/metadata/entities/hi_values/fields'],
        ['PATCH', '/api/metadata/entities/hi_values/fields/name'],
        ['POST', '/api/metadata/relationships'],
        ['POST', '/api/metadata/choice-sets'],
        ['POST', '/api/data/hi_values'],
        ['PATCH', `/api/data/hi_values/${rec.id}`],
      ];
      for (const [method, url] of targets) {
        for (const body of [
          '{"name": "x",',
          '{bad json}',
          '[1, 2',
          '{"name": \'single\'}',
          'nul',
          '{"a": 1}}',
          '\u0000',
        ]) {
          expectProblem(await http().raw(method, url, body, json), 400, 'XRM_ERR_REQUEST_MALFORMED_JSON');
        }
        expectProblem(await http().raw(method, url, '', json), 400, 'XRM_ERR_REQUEST_MALFORMED_JSON');
        // valid JSON that is not an object
        for (const body of ['[]', '"text"', '42', 'true'])
          expectProblem(await http().raw(method, url, body, json), 400, 'XRM_ERR_REQUEST_INVALID');
        // not JSON at all
        expectProblem(
          await http().raw(method, url, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }),
          415,
          'XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
        );
      }
      // prototype poisoning is refused outright
      for (const body of [
        '{"__proto__": {"polluted": true}, "name": "hi_proto"}',
        '{"constructor": {"prototype": {"polluted": true}}, "name": "hi_proto"}',
      ]) {
        const r = await http().raw('POST', '/api/metadata/entities', body, json);
        expect(r.status).toBe(400);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }
      expect(await tableExists(db(), 'hi_proto')).toBe(false);
      // the record is untouched
      expect(expectStatus(await http().get(`/api/data/hi_values/${rec.id}`), 200)).toEqual(rec);
    },
  );

  it('answers unknown entities, fields, records and routes with 404, bad ids with 400', async () => {
    const missing = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const [rec] = expectStatus(await http().get('/api/data/hi_values?limit=1'), 200).data;
    for (const entity of [
      'nope',
      'hi_victims',
      'HI_VICTIM',
      encodeURIComponent("x'; DROP TABLE data.hi_victim; --"),
      encodeURIComponent('名前'),
      'pg_class',
      '..%2F..%2Fetc',
    ]) {
      expectProblem(await http().get(`/api/data/${entity}`), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
      expectProblem(await http().post(`/api/data/${entity}`, { name: 'x' }), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
      expectProblem(await http().get(`/api/data/${entity}/${missing}`), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
      expectProblem(
        await http().patch(`/api/data/${entity}/${missing}`, { name: 'x' }),
        404,
        'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
      );
      expectProblem(await http().delete(`/api/data/${entity}/${missing}`), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
      expectProblem(await http().get(`/api/metadata/entities/${entity}`), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
      expectProblem(
        await http().get(`/api/metadata/entities/${entity}/schema`),
        404,
        'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
      );
      expectProblem(
        await http().get(`/api/metadata/entities/${entity}/fields`),
        404,
        'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
      );
      expectProblem(
        await http().patch(`/api/metadata/entities/${entity}`, { displayName: 'x' }),
        404,
        'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
      );
      expectProblem(await http().delete(`/api/metadata/entities/${entity}`), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
      expectProblem(
        await http().post(`/api/metadata/entities/${entity}/fields`, { name: 'x', type: 'text' }),
        404,
        'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
      );
    }
    expectProblem(await http().get(`/api/data/hi_values/${missing}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    expectProblem(await http().patch(`/api/data/hi_values/${missing}`, { name: 'x' }), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    expectProblem(await http().delete(`/api/data/hi_values/${missing}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    for (const id of ['not-a-uuid', encodeURIComponent("' OR 1=1 --"), `${missing}x`, `urn:uuid:${missing}`, '1']) {
      expectProblem(await http().get(`/api/data/hi_values/${id}`), 400, 'XRM_ERR_REQUEST_INVALID', '/id');
      expectProblem(
        await http().patch(`/api/data/hi_values/${id}`, { name: 'x' }),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/id',
      );
      expectProblem(await http().delete(`/api/data/hi_values/${id}`), 400, 'XRM_ERR_REQUEST_INVALID', '/id');
    }
    expectProblem(await http().post('/api/data/hi_values', { id: 'not-a-uuid' }), 400, 'XRM_ERR_RECORD_INVALID', '/id');
    expectProblem(await http().post('/api/data/hi_values', { id: rec.id }), 409, 'XRM_ERR_RECORD_DUPLICATE', '/id');
    expectProblem(await http().post('/api/data/hi_values', { nope: 1 }), 400, 'XRM_ERR_RECORD_INVALID', '/nope');
    expectProblem(
      await http().post('/api/data/hi_values', { 'name"; DROP TABLE data.hi_victim; --': 1 }),
      400,
      'XRM_ERR_RECORD_INVALID',
    );
    expectProblem(await http().get(`/api/data/hi_values/${rec.id}/nope`), 404, 'XRM_ERR_ROUTE_NOT_FOUND');
    expectProblem(
      await http().get('/api/metadata/entities/hi_values/fields/nope'),
      404,
      'XRM_ERR_METADATA_FIELD_NOT_FOUND',
    );
    expectProblem(
      await http().patch('/api/metadata/entities/hi_values/fields/nope', { displayName: 'x' }),
      404,
      'XRM_ERR_METADATA_FIELD_NOT_FOUND',
    );
    expectProblem(
      await http().delete('/api/metadata/entities/hi_values/fields/nope'),
      404,
      'XRM_ERR_METADATA_FIELD_NOT_FOUND',
    );
    expectProblem(await http().get('/api/metadata/relationships/nope'), 404, 'XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND');
    expectProblem(await http().get('/api/metadata/choice-sets/nope'), 404, 'XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND');
    expectProblem(await http().delete('/api/metadata/choice-sets/nope'), 404, 'XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND');
    expectProblem(await http().get('/api/nope'), 404, 'XRM_ERR_ROUTE_NOT_FOUND');
    expectProblem(await http().get(`/api/data/${'a'.repeat(201)}`), 400, 'XRM_ERR_REQUEST_INVALID');
    expectProblem(await http().get(`/api/data/hi_values/${'f'.repeat(5000)}`), 400, 'XRM_ERR_REQUEST_INVALID');
    expectProblem(await http().get('/api/data/%zz'), 400, 'XRM_ERR_REQUEST_INVALID');
    expectProblem(await http().get('/api/metadata/entities/%E0%A4%A'), 400, 'XRM_ERR_REQUEST_INVALID');
    expectProblem(await http().get('/api/data/hi_values?limit=0'), 400, 'XRM_ERR_QUERY_INVALID', '/limit');
    expectProblem(await http().get('/api/data/hi_values?limit=abc'), 400, 'XRM_ERR_QUERY_INVALID', '/limit');
    expectProblem(
      await http().get('/api/data/hi_values?cursor=%27%3B%20DROP'),
      400,
      'XRM_ERR_QUERY_INVALID',
      '/cursor',
    );
    expectProblem(
      await http().get('/api/metadata/entities/hi_values/schema?variant=evil'),
      400,
      'XRM_ERR_REQUEST_INVALID',
    );
    await victimIntact();
  });

  it('never shows a stack trace, a source path or SQL in any error response', async () => {
    const problems = seen.filter((r) => r.status >= 400);
    expect(problems.length).toBeGreaterThan(500);
    for (const r of problems) {
      expect(String(r.headers['content-type']), r.text).toMatch(/^application\/problem\+json/);
      expect(r.status, r.text).toBeLessThan(500);
      expect(leaksIn(r.text), r.text).toEqual([]);
      expect(
        Object.keys(r.body).filter((k) => /stack|sql|query|statement|cause/i.test(k)),
        r.text,
      ).toEqual([]);
    }
  });
});
