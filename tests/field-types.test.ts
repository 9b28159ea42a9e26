/**
 * Every field type, on both databases: the DDL it produces (read back from information_schema and
 * pg_catalog), the values the data API accepts and refuses (400 problem+json naming the field),
 * the round-trip through REST, and every option the type takes — plus the options it does not.
 */
import { FIELD_TYPE_NAMES, FIELD_TYPES } from '../metadata/field-types/index.ts';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { FieldTypeName } from '../metadata/types.ts';
import { api, type Reply } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import {
  checkOf,
  column,
  columns,
  constraints,
  foreignKeyOf,
  indexes,
  indexesOn,
  sequences,
  sqlState,
  tableExists,
} from './support/physical-schema.ts';
import { expectProblem, expectStatus, modelling } from './support/problems.ts';

const AB = [
  { value: 'a', label: 'A' },
  { value: 'b', label: 'B' },
  { value: 'c', label: 'C' },
];

/** lower snake_case of a type name, for entity names. */
const snake = (type: string) => type.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Datetimes come back in UTC ("+00:00"); everything else exactly as sent. */
function expectSameValue(type: FieldTypeName, actual: unknown, expected: unknown, context = ''): void {
  if (type === 'datetime' && typeof expected === 'string') {
    expect(typeof actual, context).toBe('string');
    expect(actual as string, context).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$/);
    expect(Date.parse(actual as string), context).toBe(Date.parse(expected));
  } else {
    expect(actual, context).toEqual(expected);
  }
}

/** A 400 record problem with an error path at the field (or inside it, e.g. "/tags/0"). */
function expectInvalidAt(reply: Reply, field: string): void {
  expectProblem(reply, 400, 'XRM_ERR_RECORD_INVALID');
  const paths = (reply.body.errors as { path: string }[]).map((e) => e.path);
  expect(
    paths.some((p) => p === `/${field}` || p.startsWith(`/${field}/`)),
    `${field}: ${reply.text}`,
  ).toBe(true);
}

describeEachDatabase('field types', (get) => {
  const http = () => api(get().app);
  const db = () => get().services.db;

  const { defineEntity, createRecord } = modelling(http);

  async function readRecord(entity: string, id: string): Promise<any> {
    return expectStatus(await http().get(`/api/data/${entity}/${id}`), 200);
  }

  /** Creates a record, reads it back, and checks every sent field comes back the same (typed comparison). */
  async function roundTrip(
    entity: string,
    types: Record<string, FieldTypeName>,
    body: Record<string, unknown>,
  ): Promise<any> {
    const created = await createRecord(entity, body);
    const read = await readRecord(entity, created.id);
    for (const [key, value] of Object.entries(body)) {
      expectSameValue(types[key] ?? 'text', created[key], value, `created ${entity}.${key}`);
      expectSameValue(types[key] ?? 'text', read[key], value, `read ${entity}.${key}`);
    }
    return read;
  }

  async function refuse(entity: string, body: Record<string, unknown>, field: string): Promise<void> {
    expectInvalidAt(await http().post(`/api/data/${entity}`, body), field);
  }

  it('lists every field type with the options it takes', async () => {
    const body = expectStatus(await http().get('/api/metadata/field-types'), 200);
    expect(body.data.map((t: { name: string }) => t.name)).toEqual([...FIELD_TYPE_NAMES]);
    const autonumber = body.data.find((t: { name: string }) => t.name === 'autonumber');
    expect(autonumber.readOnly).toBe(true);
    expect(body.data.filter((t: { readOnly: boolean }) => t.readOnly).length).toBe(1);
    // indexed exactly where a B-tree holds the values (lookups always have their index); searchable
    // is full text where the type has it, and elsewhere still accepted as the older spelling of indexed
    for (const t of body.data as { name: string; options: string[]; capabilities: Record<string, boolean> }[]) {
      expect(t.options.includes('indexed') || t.name === 'lookup', t.name).toBe(t.capabilities.indexable);
      if (t.options.includes('searchable') && !t.capabilities.fullText)
        expect(t.options.includes('indexed'), t.name).toBe(true);
    }
  });

  // ---------------------------------------------------------------------------------------------
  // The common options, for every type that takes them: required, unique, default, searchable, indexed.
  // ---------------------------------------------------------------------------------------------

  it('applies required, unique, default, searchable and indexed to every type that takes them', async () => {
    const types = expectStatus(await http().get('/api/metadata/field-types'), 200).data as {
      name: FieldTypeName;
      options: string[];
    }[];
    await defineEntity('ft_target', [{ name: 'name', type: 'text' }]);
    const t1 = (await createRecord('ft_target', { name: 't1' })).id as string;
    const t2 = (await createRecord('ft_target', { name: 't2' })).id as string;
    const base: Partial<Record<FieldTypeName, Record<string, unknown>>> = {
      choice: { options: AB },
      multiChoice: { options: AB },
      lookup: { target: 'ft_target' },
    };
    const samples: Record<FieldTypeName, [unknown, unknown]> = {
      text: ['alpha', 'beta'],
      longText: ['long\nalpha', 'long\nbeta'],
      email: ['a@example.com', 'b@example.org'],
      phone: ['+1 555 0100', '020 7946-0958'],
      url: ['https://a.example/x?y=1', 'http://b.example:8080/'],
      integer: [7, -2147483648],
      bigInteger: [9007199254740991, -42],
      decimal: [12.34, -0.5],
      money: [99.9999, 0.01],
      percent: [12.5, 100],
      boolean: [true, false],
      date: ['2024-02-29', '1999-12-31'],
      datetime: ['2024-03-01T10:00:00.123Z', '1999-12-31T23:59:59+05:30'],
      choice: ['a', 'c'],
      multiChoice: [['a', 'b'], []],
      lookup: [t1, t2],
      reference: [
        { entity: 'ft_target', id: t1 },
        { entity: 'ft_target', id: t2 },
      ],
      partyList: [[{ role: 'to', address: 'a@example.com' }], [{ role: 'attendee', entity: 'ft_target', id: t2 }]],
      json: [{ k: [1, { deep: null }] }, ['x', 2, false]],
      uuid: [randomUUID(), randomUUID()],
      autonumber: [undefined, undefined],
    };

    for (const { name: type, options } of types) {
      const entity = `ft_opt_${snake(type)}`;
      const b = base[type] ?? {};
      const fields: Record<string, unknown>[] = [
        { name: 'label', type: 'text' },
        { name: 'plain', type, ...b },
      ];
      if (type !== 'autonumber') fields.push({ name: 'req', type, ...b, required: true });
      if (options.includes('unique')) fields.push({ name: 'uniq', type, ...b, unique: true });
      if (options.includes('searchable')) fields.push({ name: 'srch', type, ...b, searchable: true });
      if (options.includes('indexed')) fields.push({ name: 'idx', type, ...b, indexed: true });
      if (options.includes('default')) fields.push({ name: 'dflt', type, ...b, default: samples[type][1] });
      const def = await defineEntity(entity, fields);
      expect(def.primaryField).toBe('label');
      const cols = await columns(db(), entity);
      const ctx = `${type}`;

      // required: NOT NULL; anything else nullable (autonumber is always generated, so always NOT NULL)
      expect(cols.plain!.nullable, ctx).toBe(type !== 'autonumber');
      if (type !== 'autonumber') {
        expect(cols.req!.nullable, ctx).toBe(false);
        const field = def.fields.find((f: { name: string }) => f.name === 'req');
        expect(field.required, ctx).toBe(true);
        if (type === 'lookup') expect(field.onDelete, ctx).toBe('restrict');
      }
      // unique: a unique index on the column; indexed: a plain index; neither: none
      if (options.includes('unique')) {
        const idx = await indexesOn(db(), entity, 'uniq');
        expect(idx.length, ctx).toBe(1);
        expect(idx[0]!.definition, ctx).toMatch(/^CREATE UNIQUE INDEX/);
      }
      if (options.includes('indexed')) {
        // a B-tree index on the column; autonumber is unique as well, and its unique index serves
        const idx = (await indexesOn(db(), entity, 'idx')).map((i) => i.definition);
        expect(idx.length, ctx).toBe(1);
        if (type !== 'autonumber') expect(idx.filter((d) => !/UNIQUE/.test(d)).length, ctx).toBe(1);
      }
      if (options.includes('searchable')) {
        // full text for text-like types (no B-tree of its own); elsewhere the older spelling of indexed
        const srch = def.fields.find((f: { name: string }) => f.name === 'srch');
        const idx = (await indexesOn(db(), entity, 'srch')).map((i) => i.definition);
        if (FIELD_TYPES[type].capabilities.fullText) {
          expect(srch, ctx).toMatchObject({ searchable: true, indexed: false });
          expect(
            idx.filter((d) => !/UNIQUE/.test(d)),
            ctx,
          ).toEqual([]);
        } else {
          expect(srch, ctx).toMatchObject({ searchable: false, indexed: true });
          expect(idx.length, ctx).toBe(1);
        }
      }
      const plainIndexes = await indexesOn(db(), entity, 'plain');
      if (type === 'autonumber')
        expect(
          plainIndexes.map((i) => i.definition),
          ctx,
        ).toEqual([expect.stringMatching(/^CREATE UNIQUE INDEX/)]);
      else if (type === 'lookup')
        expect(plainIndexes.length, ctx).toBe(1); // lookups are always indexed
      else expect(plainIndexes.length, ctx).toBe(0);
      // default: a column default the database applies
      if (options.includes('default')) expect(cols.dflt!.default, ctx).not.toBeNull();
      else expect(cols.plain!.default === null || type === 'autonumber', ctx).toBe(true);

      if (type === 'autonumber') continue;
      const [one, two] = samples[type];
      const body: Record<string, unknown> = { label: 'first', plain: one, req: two };
      if (options.includes('unique')) body.uniq = one;
      if (options.includes('searchable')) body.srch = two;
      if (options.includes('indexed')) body.idx = one;
      const read = await roundTrip(
        entity,
        { plain: type, req: type, uniq: type, srch: type, idx: type, dflt: type },
        body,
      );
      if (options.includes('default')) expectSameValue(type, read.dflt, two, `${type} default`);
      // required: missing or null is refused, naming the field
      await refuse(entity, { label: 'x', plain: one }, 'req');
      await refuse(entity, { label: 'x', plain: one, req: null }, 'req');
      // not required: null is fine
      const nulls = await createRecord(entity, { label: 'nulls', plain: null, req: one });
      expect(nulls.plain, ctx).toBeNull();
      // unique: a second record with the same value is a 409 naming the field; null does not count
      if (options.includes('unique')) {
        expectProblem(
          await http().post(`/api/data/${entity}`, { label: 'dup', req: one, uniq: one }),
          409,
          'XRM_ERR_RECORD_DUPLICATE',
          '/uniq',
        );
        await createRecord(entity, { label: 'other', req: one, uniq: two });
      }
    }
  });

  // ---------------------------------------------------------------------------------------------
  // One test per type: DDL, type-specific options, good and bad values, round-trip.
  // ---------------------------------------------------------------------------------------------

  it('text: varchar(maxLength) (255 by default), minLength as CHECK, pattern, literal default', async () => {
    await defineEntity('ft_text', [
      { name: 'title', type: 'text', required: true, searchable: true },
      { name: 'code', type: 'text', unique: true, minLength: 3, maxLength: 20, pattern: '^[A-Z]+-[0-9]+$' },
      { name: 'note', type: 'text', default: 'it\'s "quoted"' },
    ]);
    const cols = await columns(db(), 'ft_text');
    expect(cols.title).toMatchObject({
      dataType: 'character varying',
      udtName: 'varchar',
      maxLength: 255,
      nullable: false,
      default: null,
    });
    expect(cols.code).toMatchObject({ dataType: 'character varying', maxLength: 20, nullable: true, default: null });
    expect(cols.note!.default).toContain(`'it''s "quoted"'`);
    expect(await checkOf(db(), 'ft_text', 'code')).toMatch(/char_length\(.*code.*\) >= 3/);
    expect(await checkOf(db(), 'ft_text', 'title')).toBeUndefined();

    const types = { title: 'text', code: 'text', note: 'text' } as const;
    const read = await roundTrip('ft_text', types, { title: 'é'.repeat(255), code: 'AB-12' });
    expect(read.note).toBe('it\'s "quoted"');
    await roundTrip('ft_text', types, { title: 'x', code: null, note: '' });
    await refuse('ft_text', { code: 'AB-13' }, 'title');
    await refuse('ft_text', { title: 42 }, 'title');
    await refuse('ft_text', { title: 'x'.repeat(256) }, 'title');
    await refuse('ft_text', { title: 'x', code: 'A1' }, 'code'); // minLength
    await refuse('ft_text', { title: 'x', code: 'ab-12' }, 'code'); // pattern
    await refuse('ft_text', { title: 'x', code: `AB-${'1'.repeat(18)}` }, 'code'); // 21 > maxLength
    await refuse('ft_text', { title: 'x', note: ['a'] }, 'note');
    // update validates the same way, and a PATCH round-trips
    const id = read.id as string;
    expectInvalidAt(await http().patch(`/api/data/ft_text/${id}`, { code: 'no' }), 'code');
    expectInvalidAt(await http().patch(`/api/data/ft_text/${id}`, { title: null }), 'title');
    const patched = expectStatus(await http().patch(`/api/data/ft_text/${id}`, { code: 'ZZ-9' }), 200);
    expect(patched.code).toBe('ZZ-9');
    expect(patched.version).toBe(2);
    expect((await readRecord('ft_text', id)).code).toBe('ZZ-9');
    // the database itself enforces minLength and maxLength
    expect(await sqlState(db(), sql`INSERT INTO data.ft_text (title, code) VALUES ('t', 'A1')`)).toBe('23514');
    expect(await sqlState(db(), sql`INSERT INTO data.ft_text (title, code) VALUES ('t', ${'A'.repeat(21)})`)).toBe(
      '22001',
    );
    // definition problems
    const bad = async (field: Record<string, unknown>, path: string) =>
      expectProblem(
        await http().post('/api/metadata/entities/ft_text/fields', { name: 'bad', type: 'text', ...field }),
        400,
        'XRM_ERR_METADATA_INVALID',
        path,
      );
    await bad({ maxLength: 0 }, '/maxLength');
    await bad({ maxLength: 10_485_761 }, '/maxLength');
    await bad({ minLength: 5, maxLength: 4 }, '/minLength');
    await bad({ pattern: '([a-z' }, '/pattern');
    await bad({ default: 'x'.repeat(256) }, '/default');
    await bad({ pattern: '^[0-9]+$', default: 'abc' }, '/default');
    expect(await column(db(), 'ft_text', 'bad')).toBeUndefined();
  });

  it('longText: text column, min/maxLength as CHECKs, no length limit otherwise', async () => {
    await defineEntity('ft_long_text', [
      { name: 'title', type: 'text' },
      { name: 'body', type: 'longText', required: true, minLength: 1, maxLength: 5000, searchable: true },
      { name: 'notes', type: 'longText', default: 'none' },
    ]);
    const cols = await columns(db(), 'ft_long_text');
    expect(cols.body).toMatchObject({ dataType: 'text', maxLength: null, nullable: false });
    expect(cols.notes).toMatchObject({ dataType: 'text', nullable: true });
    expect(cols.notes!.default).toContain(`'none'`);
    const check = await checkOf(db(), 'ft_long_text', 'body');
    expect(check).toMatch(/>= 1/);
    expect(check).toMatch(/<= 5000/);
    expect(await checkOf(db(), 'ft_long_text', 'notes')).toBeUndefined();

    const types = { body: 'longText', notes: 'longText' } as const;
    await roundTrip('ft_long_text', types, {
      body: `line 1\nline 2\r\n\ttabbed ${'x'.repeat(4900)}`,
      notes: 'y'.repeat(200_000),
    });
    const read = await roundTrip('ft_long_text', types, { body: 'b' });
    expect(read.notes).toBe('none');
    await refuse('ft_long_text', { body: '' }, 'body');
    await refuse('ft_long_text', { body: 'x'.repeat(5001) }, 'body');
    await refuse('ft_long_text', { body: 5 }, 'body');
    expect(await sqlState(db(), sql`INSERT INTO data.ft_long_text (body) VALUES (${'x'.repeat(5001)})`)).toBe('23514');
  });

  it('email: varchar(320) with format email', async () => {
    await defineEntity('ft_email', [
      { name: 'email', type: 'email', required: true, unique: true },
      { name: 'backup', type: 'email', default: 'ops@example.com' },
    ]);
    const cols = await columns(db(), 'ft_email');
    expect(cols.email).toMatchObject({ dataType: 'character varying', maxLength: 320, nullable: false });
    expect(cols.backup!.default).toContain(`'ops@example.com'`);
    const read = await roundTrip('ft_email', { email: 'email' }, { email: 'First.Last+tag@sub.example.co.uk' });
    expect(read.backup).toBe('ops@example.com');
    for (const bad of [
      'not-an-email',
      'a@',
      '@example.com',
      'a b@example.com',
      'a@@example.com',
      `${'a'.repeat(310)}@example.com`,
    ]) {
      await refuse('ft_email', { email: bad }, 'email');
    }
    expectProblem(
      await http().post('/api/data/ft_email', { email: 'First.Last+tag@sub.example.co.uk' }),
      409,
      'XRM_ERR_RECORD_DUPLICATE',
      '/email',
    );
    expectProblem(
      await http().post('/api/metadata/entities/ft_email/fields', { name: 'bad', type: 'email', default: 'nope' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/default',
    );
  });

  it('phone: varchar(50) with the phone pattern', async () => {
    await defineEntity('ft_phone', [
      { name: 'name', type: 'text' },
      { name: 'phone', type: 'phone', searchable: true },
    ]);
    expect(await column(db(), 'ft_phone', 'phone')).toMatchObject({ dataType: 'character varying', maxLength: 50 });
    for (const good of ['+1 (555) 010-9999 x12', '020 7946 0958', '+44.20.7946.0958', '5550100 ext. 7']) {
      await roundTrip('ft_phone', { phone: 'phone' }, { phone: good });
    }
    for (const bad of [
      'call me maybe',
      '555-CALL-NOW',
      '+',
      '1',
      '+1 555 0100 x',
      `+${'1'.repeat(50)}`,
      '"; DROP TABLE x; --',
    ]) {
      await refuse('ft_phone', { phone: bad }, 'phone');
    }
    expectProblem(
      await http().post('/api/metadata/entities/ft_phone/fields', { name: 'bad', type: 'phone', default: 'nope' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/default',
    );
  });

  it('url: varchar(2048), absolute http(s) only', async () => {
    await defineEntity('ft_url', [
      { name: 'name', type: 'text' },
      { name: 'site', type: 'url', unique: true },
    ]);
    expect(await column(db(), 'ft_url', 'site')).toMatchObject({ dataType: 'character varying', maxLength: 2048 });
    for (const good of ['https://example.com/a/b?c=d&e=f#g', 'http://localhost:8080/', 'HTTPS://EXAMPLE.COM']) {
      await roundTrip('ft_url', { site: 'url' }, { site: good });
    }
    for (const bad of [
      'ftp://example.com/file',
      'example.com',
      'javascript:alert(1)',
      'mailto:a@example.com',
      '/relative/path',
      'https://exa mple.com',
      `https://example.com/${'a'.repeat(2030)}`,
    ]) {
      await refuse('ft_url', { site: bad }, 'site');
    }
  });

  it('integer: 32-bit, min/max as CHECK', async () => {
    await defineEntity('ft_integer', [
      { name: 'name', type: 'text' },
      { name: 'qty', type: 'integer', required: true, min: 0, max: 100, default: 1 },
      { name: 'rank', type: 'integer', unique: true },
    ]);
    const cols = await columns(db(), 'ft_integer');
    expect(cols.qty).toMatchObject({ dataType: 'integer', nullable: false });
    expect(cols.qty!.default).toBe('1');
    expect(cols.rank).toMatchObject({ dataType: 'integer', nullable: true, default: null });
    const check = await checkOf(db(), 'ft_integer', 'qty');
    expect(check).toMatch(/qty >= 0/);
    expect(check).toMatch(/qty <= 100/);
    const types = { qty: 'integer', rank: 'integer' } as const;
    await roundTrip('ft_integer', types, { qty: 0, rank: -2147483648 });
    await roundTrip('ft_integer', types, { qty: 100, rank: 2147483647 });
    expect((await roundTrip('ft_integer', types, { rank: 5 })).qty).toBe(1);
    for (const bad of [101, -1, 1.5, '5', true]) await refuse('ft_integer', { qty: bad }, 'qty');
    for (const bad of [2147483648, -2147483649]) await refuse('ft_integer', { rank: bad }, 'rank');
    expect(await sqlState(db(), sql`INSERT INTO data.ft_integer (qty) VALUES (101)`)).toBe('23514');
    const bad = async (field: Record<string, unknown>, path: string) =>
      expectProblem(
        await http().post('/api/metadata/entities/ft_integer/fields', { name: 'bad', type: 'integer', ...field }),
        400,
        'XRM_ERR_METADATA_INVALID',
        path,
      );
    await bad({ min: 5, max: 1 }, '/min');
    await bad({ min: 'zero' }, '/min');
    await bad({ default: 1.5 }, '/default');
    await bad({ max: 3, default: 4 }, '/default');
  });

  it('bigInteger: bigint, API range ±(2^53-1)', async () => {
    await defineEntity('ft_big_integer', [
      { name: 'name', type: 'text' },
      { name: 'big', type: 'bigInteger' },
      { name: 'small', type: 'bigInteger', min: -10, max: 10, default: 0 },
    ]);
    const cols = await columns(db(), 'ft_big_integer');
    expect(cols.big).toMatchObject({ dataType: 'bigint' });
    expect(cols.small!.default).toBe('0');
    expect(await checkOf(db(), 'ft_big_integer', 'small')).toMatch(/<= 10/);
    const types = { big: 'bigInteger', small: 'bigInteger' } as const;
    await roundTrip('ft_big_integer', types, { big: 9007199254740991, small: -10 });
    const read = await roundTrip('ft_big_integer', types, { big: -9007199254740991 });
    expect(read.small).toBe(0);
    expect(typeof read.big).toBe('number');
    for (const bad of [9007199254740992, -9007199254740992, 1.5, '1'])
      await refuse('ft_big_integer', { big: bad }, 'big');
    await refuse('ft_big_integer', { small: 11 }, 'small');
    expect(await sqlState(db(), sql`INSERT INTO data.ft_big_integer (small) VALUES (11)`)).toBe('23514');
  });

  it('decimal: numeric(precision, scale), values as numbers, no more decimals than the scale', async () => {
    await defineEntity('ft_decimal', [
      { name: 'name', type: 'text' },
      { name: 'amount', type: 'decimal', precision: 10, scale: 3, min: -5, max: 1000000 },
      { name: 'rate', type: 'decimal', required: true, default: 9.99 },
    ]);
    const cols = await columns(db(), 'ft_decimal');
    expect(cols.amount).toMatchObject({ dataType: 'numeric', precision: 10, scale: 3, nullable: true });
    expect(cols.rate).toMatchObject({ dataType: 'numeric', precision: 18, scale: 2, nullable: false });
    expect(cols.rate!.default).toContain('9.99');
    const check = await checkOf(db(), 'ft_decimal', 'amount');
    expect(check).toMatch(/amount >= .*-5/);
    expect(check).toMatch(/amount <= .*1000000/);
    const types = { amount: 'decimal', rate: 'decimal' } as const;
    await roundTrip('ft_decimal', types, { amount: 1234.567, rate: 0.07 });
    await roundTrip('ft_decimal', types, { amount: -5, rate: 99999999999.99 });
    await roundTrip('ft_decimal', types, { amount: 0.001, rate: -0.3 });
    const read = await roundTrip('ft_decimal', types, { amount: 999999.999 });
    expect(read.rate).toBe(9.99);
    expect(typeof read.amount).toBe('number');
    for (const bad of [1.0005, 1000000.001, -5.001, '12.5', 'NaN'])
      await refuse('ft_decimal', { amount: bad }, 'amount');
    for (const bad of [1e16, 0.001, -1e17]) await refuse('ft_decimal', { rate: bad }, 'rate');
    expect(await sqlState(db(), sql`INSERT INTO data.ft_decimal (amount) VALUES (1000001)`)).toBe('23514');
    const bad = async (field: Record<string, unknown>, path: string) =>
      expectProblem(
        await http().post('/api/metadata/entities/ft_decimal/fields', { name: 'bad', type: 'decimal', ...field }),
        400,
        'XRM_ERR_METADATA_INVALID',
        path,
      );
    await bad({ precision: 39 }, '/precision');
    await bad({ precision: 0 }, '/precision');
    await bad({ scale: -1 }, '/scale');
    await bad({ precision: 4, scale: 2, default: 123.45 }, '/default');
    await bad({ scale: 1, default: 1.25 }, '/default');
    const scale = expectProblem(
      await http().post('/api/metadata/entities/ft_decimal/fields', {
        name: 'bad',
        type: 'decimal',
        precision: 4,
        scale: 5,
      }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/',
    );
    expect(scale.body.detail).toContain('scale (5) cannot exceed precision (4)');
    expectProblem(
      await http().post('/api/metadata/entities', {
        name: 'ft_decimal_bad',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'd', type: 'decimal', precision: 4, scale: 5 },
        ],
      }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/fields/1',
    );
  });

  it('money: numeric(19,4), values as numbers', async () => {
    await defineEntity('ft_money', [
      { name: 'name', type: 'text' },
      { name: 'price', type: 'money', required: true, min: 0, default: 0, searchable: true },
    ]);
    const col = await column(db(), 'ft_money', 'price');
    expect(col).toMatchObject({ dataType: 'numeric', precision: 19, scale: 4, nullable: false });
    expect(col!.default).toBe('0');
    expect(await checkOf(db(), 'ft_money', 'price')).toMatch(/price >= \(?0\)?/);
    for (const good of [19.99, 12345678.9012, 0.0001, 100])
      await roundTrip('ft_money', { price: 'money' }, { price: good });
    expect((await roundTrip('ft_money', {}, { name: 'free' })).price).toBe(0);
    for (const bad of [-0.01, 1.23456, '1.00', 1e15]) await refuse('ft_money', { price: bad }, 'price');
    // one representation: a read answers the JSON text of the value the write answered
    const created = await http().post('/api/data/ft_money', { price: 1250000.5 });
    expect(created.text).toContain('"price":1250000.5');
    const read = await http().get(`/api/data/ft_money/${created.body.id}`);
    expect(read.text).toContain('"price":1250000.5');
    expect(read.text).not.toContain('1250000.5000');
    const list = await http().get(`/api/data/ft_money?filter=price eq 1250000.5`);
    expect(list.text).toContain('"price":1250000.5}');
  });

  it('percent: numeric(5,2) from 0 to 100, narrower with min/max, shown with a % suffix', async () => {
    await defineEntity('ft_percent', [
      { name: 'name', type: 'text' },
      { name: 'share', type: 'percent', required: true, default: 0 },
      { name: 'discount', type: 'percent', max: 50 },
    ]);
    const cols = await columns(db(), 'ft_percent');
    expect(cols.share).toMatchObject({ dataType: 'numeric', precision: 5, scale: 2, nullable: false, default: '0' });
    expect(await checkOf(db(), 'ft_percent', 'share')).toMatch(/share >= \(?0\)?.*share <= \(?100\)?/);
    for (const good of [0, 0.01, 33.33, 99.99, 100])
      await roundTrip('ft_percent', { share: 'percent' }, { share: good });
    await roundTrip('ft_percent', { share: 'percent', discount: 'percent' }, { share: 1, discount: 50 });
    for (const bad of [-0.01, 100.01, 1.234, '50']) await refuse('ft_percent', { share: bad }, 'share');
    await refuse('ft_percent', { share: 1, discount: 50.5 }, 'discount');
    // the database refuses what the API would, whoever writes
    expect(await sqlState(db(), sql`INSERT INTO data.ft_percent (share) VALUES (101)`)).toBe('23514');
    // a bound outside 0..100 is refused when the field is defined
    const bad = await http().post('/api/metadata/entities/ft_percent/fields', {
      name: 'bad',
      type: 'percent',
      max: 150,
    });
    expectProblem(bad, 400, 'XRM_ERR_METADATA_INVALID');
    // published with its capabilities and its presentation: a % suffix
    const types = (await http().get('/api/metadata/field-types')).body.data as {
      name: string;
      capabilities: Record<string, boolean>;
      presentation: { suffix?: string };
    }[];
    const published = types.find((t) => t.name === 'percent')!;
    expect(published.capabilities).toMatchObject({ numeric: true, sortable: true, key: false });
    expect(published.presentation.suffix).toBe('%');
    // aggregates treat it as a number
    const rows = expectStatus(await http().get('/api/data/ft_percent?select=share&limit=1000'), 200).data as {
      share: number;
    }[];
    const total = rows.reduce((t, r) => t + r.share, 0);
    const sum = expectStatus(await http().get('/api/data/ft_percent/aggregate?aggregate=sum(share)'), 200);
    expect(sum.data[0].sum_share).toBeCloseTo(total, 2);
    expect(rows.length).toBeGreaterThan(3);
  });

  it('boolean: boolean column with a default', async () => {
    await defineEntity('ft_boolean', [
      { name: 'name', type: 'text' },
      { name: 'active', type: 'boolean', default: true },
      { name: 'agreed', type: 'boolean', required: true },
    ]);
    const cols = await columns(db(), 'ft_boolean');
    expect(cols.active).toMatchObject({ dataType: 'boolean', nullable: true, default: 'true' });
    expect(cols.agreed).toMatchObject({ dataType: 'boolean', nullable: false, default: null });
    const types = { active: 'boolean', agreed: 'boolean' } as const;
    await roundTrip('ft_boolean', types, { active: false, agreed: false });
    expect((await roundTrip('ft_boolean', types, { agreed: true })).active).toBe(true);
    for (const bad of ['true', 1, 0, 'yes']) await refuse('ft_boolean', { agreed: bad }, 'agreed');
    await refuse('ft_boolean', { agreed: null }, 'agreed');
    expectProblem(
      await http().post('/api/metadata/entities/ft_boolean/fields', { name: 'bad', type: 'boolean', default: 'yes' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/default',
    );
  });

  it('date: date column, YYYY-MM-DD', async () => {
    await defineEntity('ft_date', [
      { name: 'name', type: 'text' },
      { name: 'day', type: 'date', unique: true },
      { name: 'since', type: 'date', required: true, default: '2024-01-31' },
    ]);
    const cols = await columns(db(), 'ft_date');
    expect(cols.day).toMatchObject({ dataType: 'date', nullable: true });
    expect(cols.since!.default).toContain('2024-01-31');
    const types = { day: 'date', since: 'date' } as const;
    await roundTrip('ft_date', types, { day: '2024-02-29', since: '1970-01-01' });
    const read = await roundTrip('ft_date', types, { day: '1999-12-31' });
    expect(read.since).toBe('2024-01-31');
    for (const bad of ['2023-02-29', '2024-13-01', '2024-01-01T00:00:00Z', '01/02/2024', '2024-1-1', 20240101]) {
      await refuse('ft_date', { day: bad }, 'day');
    }
    expectProblem(
      await http().post('/api/data/ft_date', { day: '2024-02-29' }),
      409,
      'XRM_ERR_RECORD_DUPLICATE',
      '/day',
    );
  });

  it('datetime: timestamptz, any offset in, UTC out', async () => {
    await defineEntity('ft_datetime', [
      { name: 'name', type: 'text' },
      { name: 'at', type: 'datetime', required: true, searchable: true },
      { name: 'seen', type: 'datetime', default: '2024-01-01T00:00:00Z' },
    ]);
    const cols = await columns(db(), 'ft_datetime');
    expect(cols.at).toMatchObject({ dataType: 'timestamp with time zone', nullable: false });
    expect(cols.seen!.default).toContain('2024-01-01');
    const offset = await roundTrip('ft_datetime', { at: 'datetime' }, { at: '2024-03-01T10:00:00+02:00' });
    expect(new Date(offset.at).toISOString()).toBe('2024-03-01T08:00:00.000Z');
    expect(offset.at).toMatch(/^2024-03-01T08:00:00(\.0+)?(Z|\+00:00)$/);
    expect(new Date(offset.seen).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    const micro = await roundTrip('ft_datetime', { at: 'datetime' }, { at: '2024-03-01T10:00:00.123456Z' });
    expect(micro.at).toMatch(/^2024-03-01T10:00:00\.123456(Z|\+00:00)$/);
    for (const bad of [
      '2024-03-01 10:00',
      '2024-03-01T10:00:00',
      'yesterday',
      '2024-02-30T00:00:00Z',
      '2024-03-01',
      1709287200000,
    ]) {
      await refuse('ft_datetime', { at: bad }, 'at');
    }
  });

  it('choice: text with CHECK IN (options), inline or from a shared choice set', async () => {
    expectStatus(
      await http().post('/api/metadata/choice-sets', {
        name: 'ft_region',
        options: [
          { value: 'emea', label: 'EMEA' },
          { value: 'amer', label: 'Americas' },
          { value: 'apac', label: 'APAC' },
        ],
      }),
      201,
    );
    await defineEntity('ft_choice', [
      { name: 'name', type: 'text' },
      {
        name: 'status',
        type: 'choice',
        required: true,
        default: 'new',
        options: [
          { value: 'new', label: 'New' },
          { value: "won't fix", label: "Won't fix" },
          { value: 'done', label: 'Done' },
        ],
      },
      { name: 'region', type: 'choice', choiceSet: 'ft_region' },
    ]);
    const cols = await columns(db(), 'ft_choice');
    expect(cols.status).toMatchObject({ dataType: 'text', nullable: false });
    expect(cols.status!.default).toContain(`'new'`);
    const statusCheck = await checkOf(db(), 'ft_choice', 'status');
    for (const v of [`'new'`, `'won''t fix'`, `'done'`]) expect(statusCheck).toContain(v);
    const regionCheck = await checkOf(db(), 'ft_choice', 'region');
    for (const v of [`'emea'`, `'amer'`, `'apac'`]) expect(regionCheck).toContain(v);

    const types = { status: 'choice', region: 'choice' } as const;
    await roundTrip('ft_choice', types, { status: "won't fix", region: 'apac' });
    expect((await roundTrip('ft_choice', types, { region: null })).status).toBe('new');
    for (const bad of ['bogus', '', 'NEW', 1, ['new']]) await refuse('ft_choice', { status: bad }, 'status');
    await refuse('ft_choice', { region: 'mars' }, 'region');
    expect(await sqlState(db(), sql`INSERT INTO data.ft_choice (status) VALUES ('bogus')`)).toBe('23514');
    // the JSON Schema and the field carry the options
    const schema = expectStatus(await http().get('/api/metadata/entities/ft_choice/schema?variant=create'), 200);
    expect(schema.properties.status.enum).toEqual(['new', "won't fix", 'done']);
    expect(schema.properties.region.enum).toEqual(['emea', 'amer', 'apac', null]);

    const bad = async (field: Record<string, unknown>, path: string) =>
      expectProblem(
        await http().post('/api/metadata/entities/ft_choice/fields', { name: 'bad', type: 'choice', ...field }),
        400,
        'XRM_ERR_METADATA_INVALID',
        path,
      );
    await bad({}, '/options');
    await bad({ options: AB, choiceSet: 'ft_region' }, '/options');
    await bad({ choiceSet: 'nope' }, '/choiceSet');
    await bad({ options: [] }, '/options');
    await bad(
      {
        options: [
          { value: 'a', label: 'A' },
          { value: 'a', label: 'again' },
        ],
      },
      '/options/1/value',
    );
    await bad({ options: [{ value: 'a' }] }, '/options/0/label');
    await bad({ options: AB, default: 'z' }, '/default');
    expect(await column(db(), 'ft_choice', 'bad')).toBeUndefined();
  });

  it('multiChoice: text[] with CHECK <@ options, arrays in and out', async () => {
    const fields = [
      { name: 'name', type: 'text' },
      { name: 'tags', type: 'multiChoice', default: ['a'], options: [...AB, { value: "it's", label: 'Quote' }] },
      { name: 'regions', type: 'multiChoice', choiceSet: 'ft_mc_region' },
    ];
    // a choice set must exist before a field uses it
    expectProblem(
      await http().post('/api/metadata/entities', { name: 'ft_multi_choice', fields }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/fields/2/choiceSet',
    );
    expect(await tableExists(db(), 'ft_multi_choice')).toBe(false);
    expectStatus(
      await http().post('/api/metadata/choice-sets', {
        name: 'ft_mc_region',
        options: [
          { value: 'emea', label: 'EMEA' },
          { value: 'apac', label: 'APAC' },
        ],
      }),
      201,
    );
    await defineEntity('ft_multi_choice', fields);
    const cols = await columns(db(), 'ft_multi_choice');
    expect(cols.tags).toMatchObject({ dataType: 'ARRAY', udtName: '_text', nullable: true });
    expect(cols.tags!.default).toContain(`'a'`);
    const check = await checkOf(db(), 'ft_multi_choice', 'tags');
    expect(check).toContain('<@');
    expect(check).toContain(`'it''s'`);
    const types = { tags: 'multiChoice', regions: 'multiChoice' } as const;
    await roundTrip('ft_multi_choice', types, { tags: ['c', "it's", 'a'], regions: ['apac', 'emea'] });
    await roundTrip('ft_multi_choice', types, { tags: [], regions: null });
    expect((await roundTrip('ft_multi_choice', types, { name: 'd' })).tags).toEqual(['a']);
    for (const bad of [['zzz'], 'a', ['a', 'a'], [1], [null]]) await refuse('ft_multi_choice', { tags: bad }, 'tags');
    await refuse('ft_multi_choice', { regions: ['emea', 'amer'] }, 'regions');
    expect(await sqlState(db(), sql`INSERT INTO data.ft_multi_choice (tags) VALUES (ARRAY['zzz'])`)).toBe('23514');
    expectProblem(
      await http().post('/api/metadata/entities/ft_multi_choice/fields', {
        name: 'bad',
        type: 'multiChoice',
        options: AB,
        default: 'a',
      }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/default',
    );
  });

  it('lookup: uuid with a foreign key and index; restrict, setNull, cascade; self-references', async () => {
    await defineEntity('ft_owner', [{ name: 'name', type: 'text' }]);
    await defineEntity('ft_pet', [
      { name: 'name', type: 'text' },
      { name: 'keeper', type: 'lookup', target: 'ft_owner', onDelete: 'restrict' },
      { name: 'sitter', type: 'lookup', target: 'ft_owner', onDelete: 'setNull' },
      { name: 'home', type: 'lookup', target: 'ft_owner', onDelete: 'cascade' },
      { name: 'mother', type: 'lookup', target: 'ft_pet' },
    ]);
    const cols = await columns(db(), 'ft_pet');
    for (const f of ['keeper', 'sitter', 'home', 'mother']) {
      expect(cols[f]).toMatchObject({ dataType: 'uuid', nullable: true });
      expect((await indexesOn(db(), 'ft_pet', f)).length, f).toBe(1);
    }
    expect(await foreignKeyOf(db(), 'ft_pet', 'keeper')).toMatch(
      /^FOREIGN KEY \(keeper\) REFERENCES data\.ft_owner\(id\) ON DELETE RESTRICT$/,
    );
    expect(await foreignKeyOf(db(), 'ft_pet', 'sitter')).toMatch(
      /^FOREIGN KEY \(sitter\) REFERENCES data\.ft_owner\(id\) ON DELETE SET NULL$/,
    );
    expect(await foreignKeyOf(db(), 'ft_pet', 'home')).toMatch(
      /^FOREIGN KEY \(home\) REFERENCES data\.ft_owner\(id\) ON DELETE CASCADE$/,
    );
    // an optional lookup without onDelete sets null
    expect(await foreignKeyOf(db(), 'ft_pet', 'mother')).toMatch(/REFERENCES data\.ft_pet\(id\) ON DELETE SET NULL$/);

    const o1 = (await createRecord('ft_owner', { name: 'o1' })).id;
    const o2 = (await createRecord('ft_owner', { name: 'o2' })).id;
    const o3 = (await createRecord('ft_owner', { name: 'o3' })).id;
    const types = { keeper: 'lookup', sitter: 'lookup', home: 'lookup' } as const;
    const pet = await roundTrip('ft_pet', types, { name: 'rex', keeper: o1, sitter: o2, home: o3 });
    // the inverse navigation lists the pet
    const nav = expectStatus(await http().get('/api/metadata/entities/ft_owner'), 200).navigations as {
      name: string;
      field: string;
    }[];
    const keeperNav = nav.find((n) => n.field === 'keeper')!;
    expect(
      expectStatus(await http().get(`/api/data/ft_owner/${o1}/${keeperNav.name}`), 200).data.map(
        (r: { id: string }) => r.id,
      ),
    ).toEqual([pet.id]);

    // restrict: the owner stays while referenced
    const restricted = expectProblem(
      await http().delete(`/api/data/ft_owner/${o1}`),
      409,
      'XRM_ERR_RECORD_DELETE_RESTRICTED',
    );
    expect(restricted.body.detail).toContain('keeper');
    await readRecord('ft_owner', o1);
    // setNull: the pet stays, its sitter is cleared
    expect((await http().delete(`/api/data/ft_owner/${o2}`)).status).toBe(204);
    expect((await readRecord('ft_pet', pet.id)).sitter).toBeNull();
    // a self-reference that restricts (a pet is the mother of another)
    const pup = await createRecord('ft_pet', { name: 'pup', mother: pet.id });
    expectStatus(await http().patch(`/api/metadata/entities/ft_pet/fields/mother`, { onDelete: 'restrict' }), 200);
    expect(await foreignKeyOf(db(), 'ft_pet', 'mother')).toMatch(/ON DELETE RESTRICT$/);
    expectProblem(await http().delete(`/api/data/ft_pet/${pet.id}`), 409, 'XRM_ERR_RECORD_DELETE_RESTRICTED');
    expect((await http().delete(`/api/data/ft_pet/${pup.id}`)).status).toBe(204);
    // cascade: deleting the home deletes the pet
    expect((await http().delete(`/api/data/ft_owner/${o3}`)).status).toBe(204);
    expectProblem(await http().get(`/api/data/ft_pet/${pet.id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    // now o1 is free to go
    expect((await http().delete(`/api/data/ft_owner/${o1}`)).status).toBe(204);

    // values: a UUID of an existing record only
    for (const bad of ['nope', `urn:uuid:${randomUUID()}`, `{${randomUUID()}}`, 42])
      await refuse('ft_pet', { keeper: bad }, 'keeper');
    expectProblem(
      await http().post('/api/data/ft_pet', { keeper: randomUUID() }),
      422,
      'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
      '/keeper',
    );

    const bad = async (field: Record<string, unknown>, path: string) =>
      expectProblem(
        await http().post('/api/metadata/entities/ft_pet/fields', { name: 'bad', type: 'lookup', ...field }),
        400,
        'XRM_ERR_METADATA_INVALID',
        path,
      );
    await bad({}, '/target');
    await bad({ target: 'nope' }, '/target');
    await bad({ target: 'ft_owner', required: true, onDelete: 'setNull' }, '/onDelete');
    await bad({ target: 'ft_owner', onDelete: 'explode' }, '/onDelete');
    await bad({ target: 'ft_owner', default: randomUUID() }, '/default');
    expect(await column(db(), 'ft_pet', 'bad')).toBeUndefined();
  });

  it('json: jsonb, any JSON value intact', async () => {
    await defineEntity('ft_json', [
      { name: 'name', type: 'text' },
      { name: 'data', type: 'json' },
      { name: 'settings', type: 'json', required: true, default: { theme: "O'Reilly", n: [1, 2] } },
    ]);
    const cols = await columns(db(), 'ft_json');
    expect(cols.data).toMatchObject({ dataType: 'jsonb', nullable: true });
    expect(cols.settings).toMatchObject({ dataType: 'jsonb', nullable: false });
    expect(cols.settings!.default).toContain(`O''Reilly`);
    const types = { data: 'json', settings: 'json' } as const;
    const read = await roundTrip('ft_json', types, {
      data: { a: { b: [1, 2.5, { c: null }] }, s: 'x"y\'z\\', t: true, f: false, u: '日本語 😀', empty: {}, list: [] },
    });
    expect(read.settings).toEqual({ theme: "O'Reilly", n: [1, 2] });
    for (const value of [[1, 'two', { three: 3 }], 'just a string', 42, false, { '': 'empty key' }]) {
      await roundTrip('ft_json', types, { data: value, settings: value });
    }
    const withNull = await roundTrip('ft_json', types, { data: null });
    expect(withNull.data).toBeNull();
    await refuse('ft_json', { settings: null }, 'settings');
  });

  it('uuid: uuid column, canonical UUIDs only', async () => {
    await defineEntity('ft_uuid', [
      { name: 'name', type: 'text' },
      { name: 'ext', type: 'uuid', unique: true },
      { name: 'corr', type: 'uuid', default: '00000000-0000-4000-8000-000000000000' },
    ]);
    const cols = await columns(db(), 'ft_uuid');
    expect(cols.ext).toMatchObject({ dataType: 'uuid' });
    expect(cols.corr!.default).toContain('00000000-0000-4000-8000-000000000000');
    const ext = randomUUID();
    const read = await roundTrip('ft_uuid', { ext: 'uuid' }, { ext });
    expect(read.corr).toBe('00000000-0000-4000-8000-000000000000');
    for (const bad of ['abc', `urn:uuid:${randomUUID()}`, `{${randomUUID()}}`, randomUUID().replace(/-/g, ''), 123]) {
      await refuse('ft_uuid', { ext: bad }, 'ext');
    }
    expectProblem(await http().post('/api/data/ft_uuid', { ext }), 409, 'XRM_ERR_RECORD_DUPLICATE', '/ext');
  });

  it('autonumber: generated prefix + zero-padded number from a sequence, read-only, unique', async () => {
    await defineEntity('ft_autonumber', [
      { name: 'label', type: 'text' },
      { name: 'number', type: 'autonumber', prefix: 'INV-', digits: 5, searchable: true },
      { name: 'plain', type: 'autonumber' },
    ]);
    const cols = await columns(db(), 'ft_autonumber');
    expect(cols.number).toMatchObject({ dataType: 'text', nullable: false });
    expect(cols.number!.default).toContain('xrm.autonumber');
    expect(cols.number!.default).toContain(`'INV-'`);
    // unique, so its unique index also serves lookups; searchable puts it in the full-text index
    expect((await indexesOn(db(), 'ft_autonumber', 'number')).map((i) => i.definition)).toEqual([
      expect.stringMatching(/^CREATE UNIQUE INDEX/),
    ]);
    const fullText = (await indexes(db(), 'ft_autonumber')).filter((i) => / USING gin /.test(i.definition));
    expect(fullText.map((i) => i.definition)).toEqual([
      expect.stringMatching(/COALESCE\(\(label\)::text.*COALESCE\(number, ''::text\)/),
    ]);
    expect(await sequences(db())).toEqual(
      expect.arrayContaining(['seq__ft_autonumber__number', 'seq__ft_autonumber__plain']),
    );
    const field = expectStatus(await http().get('/api/metadata/entities/ft_autonumber/fields/number'), 200);
    expect(field).toMatchObject({ required: true, unique: true, prefix: 'INV-', digits: 5 });

    const made: string[] = [];
    for (const label of ['one', 'two', 'three']) {
      const rec = await createRecord('ft_autonumber', { label });
      expect((await readRecord('ft_autonumber', rec.id)).number).toBe(rec.number);
      made.push(rec.number, rec.plain);
    }
    expect(made).toEqual(['INV-00001', '000001', 'INV-00002', '000002', 'INV-00003', '000003']);
    // never truncated when the number outgrows the padding
    await sql`SELECT setval('data.seq__ft_autonumber__number', 99999)`.execute(db());
    expect((await createRecord('ft_autonumber', { label: 'big' })).number).toBe('INV-100000');
    // read-only: neither create nor update takes a value
    await refuse('ft_autonumber', { label: 'x', number: 'INV-99' }, 'number');
    const id = (await createRecord('ft_autonumber', { label: 'p' })).id;
    expectInvalidAt(await http().patch(`/api/data/ft_autonumber/${id}`, { number: 'INV-1' }), 'number');
    const schema = expectStatus(await http().get('/api/metadata/entities/ft_autonumber/schema?variant=create'), 200);
    expect(schema.properties.number).toBeUndefined();
    const readSchema = expectStatus(await http().get('/api/metadata/entities/ft_autonumber/schema?variant=read'), 200);
    expect(readSchema.properties.number.readOnly).toBe(true);

    // added to an entity with records, every existing record gets a number
    await defineEntity('ft_autonumber_late', [{ name: 'label', type: 'text' }]);
    for (const label of ['a', 'b']) await createRecord('ft_autonumber_late', { label });
    expectStatus(
      await http().post('/api/metadata/entities/ft_autonumber_late/fields', {
        name: 'ref',
        type: 'autonumber',
        prefix: 'R',
        digits: 2,
      }),
      201,
    );
    const list = expectStatus(await http().get('/api/data/ft_autonumber_late'), 200)
      .data.map((r: { ref: string }) => r.ref)
      .sort();
    expect(list).toEqual(['R01', 'R02']);
    expect((await createRecord('ft_autonumber_late', { label: 'c' })).ref).toBe('R03');
    // dropping the field drops its sequence
    expect((await http().delete('/api/metadata/entities/ft_autonumber_late/fields/ref')).status).toBe(204);
    expect(await sequences(db())).not.toContain('seq__ft_autonumber__late_ref');

    const bad = async (f: Record<string, unknown>, path: string) =>
      expectProblem(
        await http().post('/api/metadata/entities/ft_autonumber/fields', { name: 'bad', type: 'autonumber', ...f }),
        400,
        'XRM_ERR_METADATA_INVALID',
        path,
      );
    await bad({ default: 'X' }, '/default');
    await bad({ digits: 0 }, '/digits');
    await bad({ digits: 19 }, '/digits');
    await bad({ prefix: 'x'.repeat(33) }, '/prefix');
    await bad({ prefix: 'a\nb' }, '/prefix');
    expect(await column(db(), 'ft_autonumber', 'bad')).toBeUndefined();
  });

  it('one record with a field of every type round-trips through create, read, update and list', async () => {
    await defineEntity('ft_all_target', [{ name: 'name', type: 'text' }]);
    const target = (await createRecord('ft_all_target', { name: 't' })).id;
    const fields = FIELD_TYPE_NAMES.map((type) => ({
      name: `f_${snake(type)}`,
      type,
      ...(type === 'choice' || type === 'multiChoice' ? { options: AB } : {}),
      ...(type === 'lookup' ? { target: 'ft_all_target' } : {}),
    }));
    await defineEntity('ft_all', [{ name: 'name', type: 'text' }, ...fields]);
    const cols = await columns(db(), 'ft_all');
    const expectedTypes: Record<FieldTypeName, string> = {
      text: 'character varying',
      longText: 'text',
      email: 'character varying',
      phone: 'character varying',
      url: 'character varying',
      integer: 'integer',
      bigInteger: 'bigint',
      decimal: 'numeric',
      money: 'numeric',
      percent: 'numeric',
      boolean: 'boolean',
      date: 'date',
      datetime: 'timestamp with time zone',
      choice: 'text',
      multiChoice: 'ARRAY',
      lookup: 'uuid',
      reference: 'jsonb',
      partyList: 'jsonb',
      json: 'jsonb',
      uuid: 'uuid',
      autonumber: 'text',
    };
    for (const type of FIELD_TYPE_NAMES) expect(cols[`f_${snake(type)}`]!.dataType, type).toBe(expectedTypes[type]);
    // system columns come first
    expect(Object.keys(cols).slice(0, 6)).toEqual([
      'id',
      'created_at',
      'updated_at',
      'created_by',
      'owner_id',
      'version',
    ]);

    const values: Record<string, unknown> = {
      name: 'all',
      f_text: 'text',
      f_long_text: 'long\ntext',
      f_email: 'all@example.com',
      f_phone: '+1 555 0199',
      f_url: 'https://example.com/all',
      f_integer: -12,
      f_big_integer: 1234567890123,
      f_decimal: 3.14,
      f_money: 1.5,
      f_percent: 37.5,
      f_boolean: true,
      f_date: '2000-01-01',
      f_datetime: '2000-01-01T12:30:00Z',
      f_choice: 'b',
      f_multi_choice: ['c', 'a'],
      f_lookup: target,
      f_json: { nested: { ok: [true] } },
      f_uuid: randomUUID(),
    };
    const typeOf = Object.fromEntries(FIELD_TYPE_NAMES.map((t) => [`f_${snake(t)}`, t])) as Record<
      string,
      FieldTypeName
    >;
    const read = await roundTrip('ft_all', typeOf, values);
    expect(read.f_autonumber).toBe('000001');
    const listed = expectStatus(await http().get('/api/data/ft_all'), 200).data[0];
    for (const [k, v] of Object.entries(values)) expectSameValue(typeOf[k] ?? 'text', listed[k], v, k);
    // update every field to null (none is required) and back
    const nulls = Object.fromEntries(
      Object.keys(values)
        .filter((k) => k !== 'name')
        .map((k) => [k, null]),
    );
    const cleared = expectStatus(await http().patch(`/api/data/ft_all/${read.id}`, nulls), 200);
    for (const k of Object.keys(nulls)) expect(cleared[k], k).toBeNull();
    const restored = expectStatus(await http().patch(`/api/data/ft_all/${read.id}`, values), 200);
    for (const [k, v] of Object.entries(values)) expectSameValue(typeOf[k] ?? 'text', restored[k], v, k);
    expect(restored.version).toBe(3);
  });

  // ---------------------------------------------------------------------------------------------
  // Options that do not apply to a type are refused, on create and on add field.
  // ---------------------------------------------------------------------------------------------

  it('refuses options that do not apply to a type, naming the option', async () => {
    await defineEntity('ft_opts', [{ name: 'name', type: 'text' }]);
    const before = await constraints(db(), 'ft_opts');
    const beforeIdx = await indexes(db(), 'ft_opts');
    const cases: [FieldTypeName, Record<string, unknown>, string][] = [
      ['boolean', { maxLength: 10 }, 'maxLength'],
      ['boolean', { unique: true }, 'unique'],
      ['boolean', { min: 0 }, 'min'],
      ['json', { searchable: true }, 'searchable'],
      ['json', { unique: true }, 'unique'],
      ['lookup', { target: 'ft_opts', unique: true }, 'unique'],
      ['lookup', { target: 'ft_opts', searchable: true }, 'searchable'],
      ['integer', { maxLength: 5 }, 'maxLength'],
      ['integer', { precision: 5 }, 'precision'],
      ['bigInteger', { scale: 2 }, 'scale'],
      ['text', { precision: 5 }, 'precision'],
      ['text', { min: 1 }, 'min'],
      ['text', { options: AB }, 'options'],
      ['longText', { unique: true }, 'unique'],
      ['email', { pattern: '^a' }, 'pattern'],
      ['email', { maxLength: 100 }, 'maxLength'],
      ['phone', { options: AB }, 'options'],
      ['url', { minLength: 10 }, 'minLength'],
      ['date', { min: 1 }, 'min'],
      ['datetime', { digits: 3 }, 'digits'],
      ['decimal', { maxLength: 3 }, 'maxLength'],
      ['money', { unique: true }, 'unique'],
      ['money', { precision: 10 }, 'precision'],
      ['choice', { options: AB, target: 'ft_opts' }, 'target'],
      ['choice', { options: AB, unique: true }, 'unique'],
      ['multiChoice', { options: AB, min: 1 }, 'min'],
      ['uuid', { prefix: 'x' }, 'prefix'],
      ['autonumber', { default: 'x' }, 'default'],
      ['autonumber', { unique: false }, 'unique'],
      ['text', { bogus: true }, 'bogus'],
    ];
    for (const [type, options, option] of cases) {
      const r = expectProblem(
        await http().post('/api/metadata/entities/ft_opts/fields', { name: 'f', type, ...options }),
        400,
        'XRM_ERR_METADATA_INVALID',
        `/${option}`,
      );
      expect(r.body.detail, `${type}.${option}`).toContain(option);
    }
    // the same inside an entity definition, with the path into its fields
    expectProblem(
      await http().post('/api/metadata/entities', {
        name: 'ft_opts_bad',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'flag', type: 'boolean', maxLength: 5 },
        ],
      }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/fields/1/maxLength',
    );
    expectProblem(
      await http().post('/api/metadata/entities/ft_opts/fields', { name: 'f', type: 'varchar' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/type',
    );
    expectProblem(
      await http().post('/api/metadata/entities/ft_opts/fields', { name: 'f' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/type',
    );
    // and an option on an update that the type does not take
    expectProblem(
      await http().patch('/api/metadata/entities/ft_opts/fields/name', { precision: 3 }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/precision',
    );
    // nothing was created
    expect(Object.keys(await columns(db(), 'ft_opts'))).not.toContain('f');
    expect(await tableExists(db(), 'ft_opts_bad')).toBe(false);
    expect(await constraints(db(), 'ft_opts')).toEqual(before);
    expect(await indexes(db(), 'ft_opts')).toEqual(beforeIdx);
  });
});
