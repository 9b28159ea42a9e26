/**
 * Every kind of schema change through the metadata API, on both databases. Accepted changes alter
 * the physical schema, keep the data, append a ledger entry and bump the schema version. Refused
 * changes (422 not lossless, 409 existing data in the way, 409 in use) leave the catalog, the stored
 * metadata, the physical schema, the version and the ledger exactly as they were.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { api, type Reply } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import {
  checkOf,
  column,
  columns,
  constraints,
  foreignKeyOf,
  indexesOn,
  physicalSnapshot,
  sequences,
  tableExists,
} from './support/physical-schema.ts';
import { expectProblem, expectStatus, modelling } from './support/problems.ts';

const ABC = [
  { value: 'a', label: 'A' },
  { value: 'b', label: 'B' },
  { value: 'c', label: 'C' },
];

interface LedgerEntry {
  id: number;
  version: number;
  actor: string;
  operation: string;
  target: string;
  before: any;
  after: any;
  statements: string[];
  createdAt: string;
}

describeEachDatabase('metadata changes', (get) => {
  const http = () => api(get().app);
  const db = () => get().services.db;

  const { defineEntity, createRecord } = modelling(http);

  /** All records, in the order of `sortBy` (records created within one clock tick tie on created_at). */
  async function records(entity: string, sortBy = 'name'): Promise<any[]> {
    const data = expectStatus(await http().get(`/api/data/${entity}?limit=1000`), 200).data as Record<
      string,
      unknown
    >[];
    const key = (r: Record<string, unknown>) =>
      r[sortBy] === null || r[sortBy] === undefined ? '\uffff' : String(r[sortBy]);
    return data.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  }

  async function version(): Promise<number> {
    return expectStatus(await http().get('/api/metadata'), 200).version;
  }

  /** The ledger's actor for changes the signed-in test administrator makes: `user:<id>`. */
  let adminActor: string | undefined;
  async function actor(): Promise<string> {
    adminActor ??= `user:${expectStatus(await http().get('/api/auth/me'), 200).user.id}`;
    return adminActor;
  }

  async function ledger(limit = 1): Promise<{ data: LedgerEntry[]; totalCount: number }> {
    return expectStatus(await http().get(`/api/metadata/changes?limit=${limit}`), 200);
  }

  /** The stored definitions, straight from the system tables. */
  async function storedMetadata(): Promise<unknown> {
    const q = async (table: string) =>
      (
        await sql<{ r: unknown }>`SELECT to_jsonb(t) AS r FROM ${sql.table(`xrm.${table}`)} t ORDER BY 1::text`.execute(
          db(),
        )
      ).rows
        .map((row) => JSON.stringify(row.r))
        .sort();
    return {
      entities: await q('entities'),
      fields: await q('fields'),
      relationships: await q('relationships'),
      choiceSets: await q('choice_sets'),
      state: await q('schema_state'),
    };
  }

  /** Everything a refused change must leave untouched. */
  async function everything(): Promise<unknown> {
    return {
      entities: expectStatus(await http().get('/api/metadata/entities'), 200),
      relationships: expectStatus(await http().get('/api/metadata/relationships'), 200),
      choiceSets: expectStatus(await http().get('/api/metadata/choice-sets'), 200),
      stored: await storedMetadata(),
      physical: await physicalSnapshot(db()),
      version: await version(),
      ledger: (await ledger()).totalCount,
    };
  }

  /** Runs a change that must be refused, and checks that nothing at all changed. */
  async function expectRefused(
    change: () => Promise<Reply>,
    status: number,
    code: string,
    ...paths: string[]
  ): Promise<Reply> {
    const before = await everything();
    const reply = expectProblem(await change(), status, code, ...paths);
    expect(await everything()).toEqual(before);
    return reply;
  }

  /** A 409 data conflict whose detail and `offendingRows` name how many records are in the way. */
  async function expectDataConflict(
    change: () => Promise<Reply>,
    offendingRows: number,
    path?: string,
  ): Promise<Reply> {
    const reply = await expectRefused(change, 409, 'XRM_ERR_METADATA_DATA_CONFLICT', ...(path ? [path] : []));
    expect(reply.body.offendingRows, reply.text).toBe(offendingRows);
    expect(reply.body.detail).toContain(`${offendingRows} existing record`);
    return reply;
  }

  /** Runs a change that must be accepted: one new ledger entry (returned), version + 1. */
  async function expectAccepted(
    change: () => Promise<Reply>,
    status: number,
    operation: string,
    target: string,
  ): Promise<{ reply: Reply; entry: LedgerEntry }> {
    const v = await version();
    const count = (await ledger()).totalCount;
    const reply = await change();
    expectStatus(reply, status);
    expect(await version()).toBe(v + 1);
    const after = await ledger();
    expect(after.totalCount).toBe(count + 1);
    const entry = after.data[0]!;
    expect(entry).toMatchObject({ version: v + 1, actor: await actor(), operation, target });
    expect(Array.isArray(entry.statements)).toBe(true);
    expect(Number.isNaN(Date.parse(entry.createdAt))).toBe(false);
    return { reply, entry };
  }

  const patchField = (entity: string, field: string, patch: unknown) => () =>
    http().patch(`/api/metadata/entities/${entity}/fields/${field}`, patch);
  const addField = (entity: string, field: unknown) => () =>
    http().post(`/api/metadata/entities/${entity}/fields`, field);

  // ---------------------------------------------------------------------------------------------
  // Accepted changes
  // ---------------------------------------------------------------------------------------------

  it('creating an entity is a ledger entry with its DDL', async () => {
    const { reply, entry } = await expectAccepted(
      () =>
        http().post('/api/metadata/entities', {
          name: 'mc_created',
          fields: [{ name: 'title', type: 'text', unique: true }],
        }),
      201,
      'entity.create',
      'mc_created',
    );
    expect(reply.headers.location).toBe('/api/metadata/entities/mc_created');
    expect(entry.before).toBeNull();
    expect(entry.after).toMatchObject({ name: 'mc_created', primaryField: 'title' });
    expect(entry.statements[0]).toMatch(/^CREATE TABLE "data"\."mc_created"/);
    expect(entry.statements.some((s) => /^CREATE UNIQUE INDEX .* ON "data"\."mc_created" \("title"\)$/.test(s))).toBe(
      true,
    );
    expect(await tableExists(db(), 'mc_created')).toBe(true);
    // the same name again is taken, and nothing changes
    await expectRefused(
      () => http().post('/api/metadata/entities', { name: 'mc_created' }),
      409,
      'XRM_ERR_METADATA_NAME_TAKEN',
      '/name',
    );
    await expectRefused(
      () => http().post('/api/metadata/entities', { name: 'mc_createds' }),
      409,
      'XRM_ERR_METADATA_NAME_TAKEN',
    );
  });

  it(
    'adds fields: optional, required with a default, lookups; ' +
      'refuses a required field without default while records exist',
    async () => {
      await defineEntity('mc_add', [{ name: 'name', type: 'text' }]);
      const r1 = await createRecord('mc_add', { name: 'one' });
      await createRecord('mc_add', { name: 'two' });

      const { reply, entry } = await expectAccepted(
        addField('mc_add', { name: 'nickname', type: 'text', maxLength: 40 }),
        201,
        'field.create',
        'mc_add.nickname',
      );
      expect(reply.headers.location).toBe('/api/metadata/entities/mc_add/fields/nickname');
      expect(entry.before).toBeNull();
      expect(entry.after).toMatchObject({ name: 'nickname', type: 'text', maxLength: 40 });
      expect(entry.statements).toEqual(['ALTER TABLE "data"."mc_add" ADD COLUMN "nickname" varchar(40)']);
      expect(await column(db(), 'mc_add', 'nickname')).toMatchObject({ maxLength: 40, nullable: true });
      expect((await records('mc_add')).map((r) => r.nickname)).toEqual([null, null]);

      await expectAccepted(
        addField('mc_add', { name: 'score', type: 'integer', required: true, default: 5, min: 0 }),
        201,
        'field.create',
        'mc_add.score',
      );
      expect(await column(db(), 'mc_add', 'score')).toMatchObject({ nullable: false, default: '5' });
      expect(await checkOf(db(), 'mc_add', 'score')).toMatch(/score >= 0/);
      expect((await records('mc_add')).map((r) => r.score)).toEqual([5, 5]);

      const lookup = await expectAccepted(
        addField('mc_add', { name: 'parent', type: 'lookup', target: 'mc_add', inverseName: 'children' }),
        201,
        'field.create',
        'mc_add.parent',
      );
      expect(lookup.entry.after).toMatchObject({ onDelete: 'setNull', inverseName: 'children' });
      expect(await foreignKeyOf(db(), 'mc_add', 'parent')).toMatch(/REFERENCES data\.mc_add\(id\) ON DELETE SET NULL/);
      const entity = expectStatus(await http().get('/api/metadata/entities/mc_add'), 200);
      expect(entity.navigations).toEqual([{ kind: 'inverse', name: 'children', source: 'mc_add', field: 'parent' }]);

      // refusals
      await expectDataConflict(addField('mc_add', { name: 'must', type: 'text', required: true }), 2, '/required');
      await expectDataConflict(
        addField('mc_add', { name: 'code', type: 'text', unique: true, default: 'same' }),
        2,
        '/unique',
      );
      await expectRefused(
        addField('mc_add', { name: 'nickname', type: 'text' }),
        409,
        'XRM_ERR_METADATA_NAME_TAKEN',
        '/name',
      );
      await expectRefused(
        addField('mc_add', { name: 'children', type: 'text' }),
        409,
        'XRM_ERR_METADATA_NAME_TAKEN',
        '/name',
      );
      await expectRefused(
        addField('mc_add', { name: 'parent_id', type: 'text' }),
        409,
        'XRM_ERR_METADATA_NAME_TAKEN',
        '/name',
      );
      await expectRefused(
        addField('mc_add', { name: 'bad name', type: 'text' }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/name',
      );
      await expectRefused(addField('mc_nope', { name: 'x', type: 'text' }), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
      // the record data survived all of it
      expect((await http().get(`/api/data/mc_add/${r1.id}`)).body).toMatchObject({
        name: 'one',
        nickname: null,
        score: 5,
        parent: null,
      });
    },
  );

  it('drops fields with their column, constraints, indexes and sequence; refuses the primary field', async () => {
    await defineEntity('mc_drop', [
      { name: 'name', type: 'text' },
      { name: 'extra', type: 'text', unique: true, searchable: true, minLength: 2 },
      { name: 'ref', type: 'lookup', target: 'mc_drop' },
      { name: 'num', type: 'autonumber', prefix: 'D' },
    ]);
    await createRecord('mc_drop', { name: 'keep', extra: 'xx' });
    const { entry } = await expectAccepted(
      () => http().delete('/api/metadata/entities/mc_drop/fields/extra'),
      204,
      'field.delete',
      'mc_drop.extra',
    );
    expect(entry.before).toMatchObject({ name: 'extra', unique: true });
    expect(entry.after).toBeNull();
    // the searchable field leaves the full-text index, which is rebuilt without it
    expect(entry.statements).toEqual([
      'ALTER TABLE "data"."mc_drop" DROP COLUMN "extra"',
      'DROP INDEX IF EXISTS "data"."fts__mc_drop"',
      `CREATE INDEX "fts__mc_drop" ON "data"."mc_drop" USING gin (to_tsvector('simple'::regconfig, ` +
        `coalesce("name"::text, ''))) WITH (fastupdate = off)`,
    ]);
    expect(await column(db(), 'mc_drop', 'extra')).toBeUndefined();
    expect(await indexesOn(db(), 'mc_drop', 'extra')).toEqual([]);
    expect(await checkOf(db(), 'mc_drop', 'extra')).toBeUndefined();

    await expectAccepted(
      () => http().delete('/api/metadata/entities/mc_drop/fields/ref'),
      204,
      'field.delete',
      'mc_drop.ref',
    );
    expect(await foreignKeyOf(db(), 'mc_drop', 'ref')).toBeUndefined();
    expect(expectStatus(await http().get('/api/metadata/entities/mc_drop'), 200).navigations).toEqual([]);

    expect(await sequences(db())).toContain('seq__mc_drop__num');
    const auto = await expectAccepted(
      () => http().delete('/api/metadata/entities/mc_drop/fields/num'),
      204,
      'field.delete',
      'mc_drop.num',
    );
    expect(auto.entry.statements[1]).toMatch(/^DROP SEQUENCE/);
    expect(await sequences(db())).not.toContain('seq__mc_drop__num');

    expect((await records('mc_drop')).map((r) => r.name)).toEqual(['keep']);
    expect(Object.keys((await records('mc_drop'))[0])).not.toContain('extra');
    await expectRefused(
      () => http().delete('/api/metadata/entities/mc_drop/fields/name'),
      422,
      'XRM_ERR_METADATA_CHANGE_REFUSED',
    );
    await expectRefused(
      () => http().delete('/api/metadata/entities/mc_drop/fields/nope'),
      404,
      'XRM_ERR_METADATA_FIELD_NOT_FOUND',
    );
  });

  it('relabels a field of every type (displayName, description) without touching the physical schema', async () => {
    expectStatus(await http().post('/api/metadata/choice-sets', { name: 'mc_relabel_set', options: ABC }), 201);
    await defineEntity('mc_relabel_target', [{ name: 'name', type: 'text' }]);
    const types = expectStatus(await http().get('/api/metadata/field-types'), 200).data.map(
      (t: { name: string }) => t.name,
    ) as string[];
    const fields = types.map((type) => ({
      name: `f_${type.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
      type,
      ...(type === 'choice' ? { choiceSet: 'mc_relabel_set' } : type === 'multiChoice' ? { options: ABC } : {}),
      ...(type === 'lookup' ? { target: 'mc_relabel_target' } : {}),
    }));
    await defineEntity('mc_relabel', [{ name: 'name', type: 'text' }, ...fields]);
    await createRecord('mc_relabel', { name: 'r' });
    for (const field of fields) {
      const physical = await physicalSnapshot(db());
      const before = expectStatus(await http().get(`/api/metadata/entities/mc_relabel/fields/${field.name}`), 200);
      const { reply, entry } = await expectAccepted(
        patchField('mc_relabel', field.name, {
          displayName: `Étiquette ${field.type} 日本語`,
          description: `What "${field.type}" holds`,
        }),
        200,
        'field.update',
        `mc_relabel.${field.name}`,
      );
      expect(reply.body, field.type).toEqual({
        ...before,
        displayName: `Étiquette ${field.type} 日本語`,
        description: `What "${field.type}" holds`,
      });
      expect(entry.statements, field.type).toEqual([]);
      expect(entry.before.displayName).toBe(before.displayName);
      expect(entry.after.displayName).toBe(`Étiquette ${field.type} 日本語`);
      expect(await physicalSnapshot(db()), field.type).toEqual(physical);
      // null removes the description again
      const cleared = expectStatus(
        await http().patch(`/api/metadata/entities/mc_relabel/fields/${field.name}`, { description: null }),
        200,
      );
      expect(cleared.description, field.type).toBeUndefined();
      expect(await physicalSnapshot(db()), field.type).toEqual(physical);
    }
    const entity = expectStatus(await http().get('/api/metadata/entities/mc_relabel'), 200);
    expect(entity.fields.find((f: { name: string }) => f.name === 'f_json').displayName).toBe('Étiquette json 日本語');
    expect((await records('mc_relabel')).length).toBe(1);
  });

  it('raises maxLength (text and longText) keeping the data', async () => {
    await defineEntity('mc_widen', [
      { name: 'name', type: 'text', maxLength: 10 },
      { name: 'body', type: 'longText', maxLength: 20 },
    ]);
    await createRecord('mc_widen', { name: '0123456789', body: 'x'.repeat(20) });
    const { entry } = await expectAccepted(
      patchField('mc_widen', 'name', { maxLength: 50 }),
      200,
      'field.update',
      'mc_widen.name',
    );
    expect(entry.before.maxLength).toBe(10);
    expect(entry.after.maxLength).toBe(50);
    expect(entry.statements).toEqual([
      'ALTER TABLE "data"."mc_widen" ALTER COLUMN "name" TYPE varchar(50) USING "name"::text',
    ]);
    expect(await column(db(), 'mc_widen', 'name')).toMatchObject({ maxLength: 50 });
    await expectAccepted(patchField('mc_widen', 'body', { maxLength: 100 }), 200, 'field.update', 'mc_widen.body');
    expect(await checkOf(db(), 'mc_widen', 'body')).toMatch(/<= 100/);
    await createRecord('mc_widen', { name: 'x'.repeat(50), body: 'y'.repeat(100) });
    // null removes the limit of a longText
    await expectAccepted(patchField('mc_widen', 'body', { maxLength: null }), 200, 'field.update', 'mc_widen.body');
    expect(await checkOf(db(), 'mc_widen', 'body')).toBeUndefined();
    await createRecord('mc_widen', { body: 'z'.repeat(1000) });
    expect((await records('mc_widen')).map((r) => r.name)).toEqual(['0123456789', 'x'.repeat(50), null]);
    expect((await records('mc_widen', 'body')).map((r) => r.body.length)).toEqual([20, 100, 1000]);
  });

  it('adds choice options inline and on a shared choice set; every field using the set follows', async () => {
    await defineEntity('mc_opts', [
      { name: 'name', type: 'text' },
      { name: 'status', type: 'choice', options: ABC.slice(0, 2), default: 'a' },
    ]);
    await createRecord('mc_opts', { status: 'b' });
    expectProblem(await http().post('/api/data/mc_opts', { status: 'c' }), 400, 'XRM_ERR_RECORD_INVALID', '/status');
    const { entry } = await expectAccepted(
      patchField('mc_opts', 'status', { options: ABC }),
      200,
      'field.update',
      'mc_opts.status',
    );
    expect(entry.statements.length).toBe(2); // drop and re-add the CHECK
    expect(await checkOf(db(), 'mc_opts', 'status')).toContain(`'c'`);
    await createRecord('mc_opts', { status: 'c' });
    // relabelling an option is metadata only
    const relabel = await expectAccepted(
      patchField('mc_opts', 'status', { options: [{ value: 'a', label: 'Alpha' }, ...ABC.slice(1)] }),
      200,
      'field.update',
      'mc_opts.status',
    );
    expect(relabel.entry.statements).toEqual([]);
    // removing an option nobody uses is fine
    await expectAccepted(
      patchField('mc_opts', 'status', { options: ABC.slice(0, 3).concat([{ value: 'd', label: 'D' }]) }),
      200,
      'field.update',
      'mc_opts.status',
    );
    await expectAccepted(patchField('mc_opts', 'status', { options: ABC }), 200, 'field.update', 'mc_opts.status');
    expect(await checkOf(db(), 'mc_opts', 'status')).not.toContain(`'d'`);

    expectStatus(
      await http().post('/api/metadata/choice-sets', {
        name: 'mc_shared',
        options: [
          { value: 'x', label: 'X' },
          { value: 'y', label: 'Y' },
        ],
      }),
      201,
    );
    await defineEntity('mc_shared_one', [
      { name: 'name', type: 'text' },
      { name: 'kind', type: 'choice', choiceSet: 'mc_shared' },
    ]);
    await defineEntity('mc_shared_two', [
      { name: 'name', type: 'text' },
      { name: 'kinds', type: 'multiChoice', choiceSet: 'mc_shared' },
    ]);
    await createRecord('mc_shared_one', { kind: 'x' });
    await createRecord('mc_shared_two', { kinds: ['x', 'y'] });
    const set = await expectAccepted(
      () =>
        http().patch('/api/metadata/choice-sets/mc_shared', {
          options: [
            { value: 'x', label: 'X' },
            { value: 'y', label: 'Y' },
            { value: 'z', label: 'Zed' },
          ],
        }),
      200,
      'choiceSet.update',
      'choiceSet:mc_shared',
    );
    expect(set.entry.before.options.length).toBe(2);
    expect(set.entry.after.options.length).toBe(3);
    expect(set.entry.statements.length).toBe(4); // two fields: drop and re-add each CHECK
    expect(await checkOf(db(), 'mc_shared_one', 'kind')).toContain(`'z'`);
    expect(await checkOf(db(), 'mc_shared_two', 'kinds')).toContain(`'z'`);
    await createRecord('mc_shared_one', { kind: 'z' });
    await createRecord('mc_shared_two', { kinds: ['z'] });
    const schema = expectStatus(await http().get('/api/metadata/entities/mc_shared_two/schema?variant=create'), 200);
    expect(schema.properties.kinds.items.enum).toEqual(['x', 'y', 'z']);
    // relabel the set only: no DDL
    const relabel2 = await expectAccepted(
      () => http().patch('/api/metadata/choice-sets/mc_shared', { displayName: 'Shared kinds' }),
      200,
      'choiceSet.update',
      'choiceSet:mc_shared',
    );
    expect(relabel2.entry.statements).toEqual([]);
    // relabelling an option is metadata only too
    const relabel3 = await expectAccepted(
      () =>
        http().patch('/api/metadata/choice-sets/mc_shared', {
          options: [
            { value: 'x', label: 'Ex' },
            { value: 'y', label: 'Y' },
            { value: 'z', label: 'Zed' },
          ],
        }),
      200,
      'choiceSet.update',
      'choiceSet:mc_shared',
    );
    expect(relabel3.entry.statements).toEqual([]);
    expect(schema.properties.kinds['x-xrm-options']).toBeDefined();
    expect(expectStatus(await http().get('/api/metadata/choice-sets/mc_shared'), 200).displayName).toBe('Shared kinds');
    // a set in use cannot be deleted
    await expectRefused(() => http().delete('/api/metadata/choice-sets/mc_shared'), 409, 'XRM_ERR_METADATA_IN_USE');
    await expectRefused(
      () => http().patch('/api/metadata/choice-sets/mc_nope', { options: ABC }),
      404,
      'XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND',
    );
  });

  it('turns required, unique and indexed on and off', async () => {
    await defineEntity('mc_flags', [
      { name: 'name', type: 'text' },
      { name: 'code', type: 'text' },
    ]);
    await createRecord('mc_flags', { name: 'a', code: 'A' });
    await createRecord('mc_flags', { name: 'b', code: 'B' });

    const req = await expectAccepted(
      patchField('mc_flags', 'code', { required: true }),
      200,
      'field.update',
      'mc_flags.code',
    );
    expect(req.entry.statements).toEqual(['ALTER TABLE "data"."mc_flags" ALTER COLUMN "code" SET NOT NULL']);
    expect(await column(db(), 'mc_flags', 'code')).toMatchObject({ nullable: false });
    expectProblem(await http().post('/api/data/mc_flags', { name: 'c' }), 400, 'XRM_ERR_RECORD_INVALID', '/code');
    await expectAccepted(patchField('mc_flags', 'code', { required: false }), 200, 'field.update', 'mc_flags.code');
    expect(await column(db(), 'mc_flags', 'code')).toMatchObject({ nullable: true });
    await createRecord('mc_flags', { name: 'c' });

    const uq = await expectAccepted(
      patchField('mc_flags', 'code', { unique: true }),
      200,
      'field.update',
      'mc_flags.code',
    );
    expect(uq.entry.statements).toEqual([
      expect.stringMatching(/^CREATE UNIQUE INDEX "uq__mc_flags__code" ON "data"\."mc_flags" \("code"\)$/),
    ]);
    expect((await indexesOn(db(), 'mc_flags', 'code')).map((i) => i.name)).toEqual(['uq__mc_flags__code']);
    expectProblem(await http().post('/api/data/mc_flags', { code: 'A' }), 409, 'XRM_ERR_RECORD_DUPLICATE', '/code');
    await expectAccepted(patchField('mc_flags', 'code', { unique: false }), 200, 'field.update', 'mc_flags.code');
    expect(await indexesOn(db(), 'mc_flags', 'code')).toEqual([]);
    await createRecord('mc_flags', { code: 'A' });

    await expectAccepted(patchField('mc_flags', 'name', { indexed: true }), 200, 'field.update', 'mc_flags.name');
    expect((await indexesOn(db(), 'mc_flags', 'name')).map((i) => i.name)).toEqual(['ix__mc_flags__name']);
    await expectAccepted(patchField('mc_flags', 'name', { indexed: false }), 200, 'field.update', 'mc_flags.name');
    expect(await indexesOn(db(), 'mc_flags', 'name')).toEqual([]);
    // searchable is full text: a text field in it gets no B-tree of its own
    await expectAccepted(patchField('mc_flags', 'code', { searchable: true }), 200, 'field.update', 'mc_flags.code');
    expect(await indexesOn(db(), 'mc_flags', 'code')).toEqual([]);
    expect((await records('mc_flags')).length).toBe(4);
  });

  it("changes a lookup's delete behaviour (the foreign key is replaced)", async () => {
    await defineEntity('mc_fk_parent', [{ name: 'name', type: 'text' }]);
    await defineEntity('mc_fk_child', [
      { name: 'name', type: 'text' },
      { name: 'parent', type: 'lookup', target: 'mc_fk_parent' },
    ]);
    const p = await createRecord('mc_fk_parent', { name: 'p' });
    await createRecord('mc_fk_child', { name: 'c', parent: p.id });
    await expectAccepted(
      patchField('mc_fk_child', 'parent', { onDelete: 'cascade' }),
      200,
      'field.update',
      'mc_fk_child.parent',
    );
    expect(await foreignKeyOf(db(), 'mc_fk_child', 'parent')).toMatch(/ON DELETE CASCADE$/);
    await expectAccepted(
      patchField('mc_fk_child', 'parent', { onDelete: 'restrict' }),
      200,
      'field.update',
      'mc_fk_child.parent',
    );
    expectProblem(await http().delete(`/api/data/mc_fk_parent/${p.id}`), 409, 'XRM_ERR_RECORD_DELETE_RESTRICTED');
    await expectAccepted(
      patchField('mc_fk_child', 'parent', { required: true }),
      200,
      'field.update',
      'mc_fk_child.parent',
    );
    expect(await column(db(), 'mc_fk_child', 'parent')).toMatchObject({ nullable: false });
    await expectRefused(
      patchField('mc_fk_child', 'parent', { onDelete: 'setNull' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/onDelete',
    );
  });

  it('makes lossless type changes, converting the stored values', async () => {
    const cases: {
      name: string;
      from: Record<string, unknown>;
      values: unknown[];
      patch: Record<string, unknown>;
      expected: unknown[];
      column: Record<string, unknown>;
    }[] = [
      {
        name: 'int_dec',
        from: { type: 'integer', min: -10 },
        values: [1, -5, 2147483647, null],
        patch: { type: 'decimal' },
        expected: [1, -5, 2147483647, null],
        column: { dataType: 'numeric', precision: 18, scale: 2 },
      },
      {
        name: 'int_big',
        from: { type: 'integer', unique: true },
        values: [1, -2147483648, null],
        patch: { type: 'bigInteger' },
        expected: [1, -2147483648, null],
        column: { dataType: 'bigint' },
      },
      {
        name: 'int_text',
        from: { type: 'integer' },
        values: [42, -7],
        patch: { type: 'text', maxLength: 20 },
        expected: ['42', '-7'],
        column: { dataType: 'character varying', maxLength: 20 },
      },
      {
        name: 'text_long',
        from: { type: 'text', maxLength: 30, searchable: true },
        values: ['short', 'x'.repeat(30), null],
        patch: { type: 'longText' },
        expected: ['short', 'x'.repeat(30), null],
        column: { dataType: 'text' },
      },
      {
        name: 'email_text',
        from: { type: 'email', unique: true },
        values: ['a@example.com', 'b@example.org'],
        patch: { type: 'text' },
        expected: ['a@example.com', 'b@example.org'],
        column: { dataType: 'character varying', maxLength: 255 },
      },
      {
        name: 'long_text',
        from: { type: 'longText' },
        values: ['fits', null],
        patch: { type: 'text', maxLength: 10 },
        expected: ['fits', null],
        column: { dataType: 'character varying', maxLength: 10 },
      },
      {
        name: 'choice_multi',
        from: { type: 'choice', options: ABC, default: 'a' },
        values: ['a', 'b', null],
        patch: { type: 'multiChoice', default: ['a'] },
        expected: [['a'], ['b'], null],
        column: { dataType: 'ARRAY', udtName: '_text' },
      },
      {
        name: 'choice_text',
        from: { type: 'choice', options: ABC },
        values: ['c'],
        patch: { type: 'text' },
        expected: ['c'],
        column: { dataType: 'character varying' },
      },
      {
        name: 'date_time',
        from: { type: 'date' },
        values: ['2024-01-02'],
        patch: { type: 'datetime' },
        expected: ['2024-01-02T00:00:00+00:00'],
        column: { dataType: 'timestamp with time zone' },
      },
      {
        name: 'uuid_text',
        from: { type: 'uuid' },
        values: ['6f1c2b7e-2c1d-4c8e-9a55-0b8b1f0e7a10'],
        patch: { type: 'text' },
        expected: ['6f1c2b7e-2c1d-4c8e-9a55-0b8b1f0e7a10'],
        column: { dataType: 'character varying' },
      },
      {
        name: 'dec_wider',
        from: { type: 'decimal', precision: 10, scale: 2 },
        values: [12345678.91],
        patch: { precision: 12 },
        expected: [12345678.91],
        column: { dataType: 'numeric', precision: 12, scale: 2 },
      },
      {
        name: 'dec_scale',
        from: { type: 'decimal', precision: 10, scale: 2 },
        values: [1.25],
        patch: { precision: 14, scale: 4 },
        expected: [1.25],
        column: { dataType: 'numeric', precision: 14, scale: 4 },
      },
      {
        name: 'money_dec',
        from: { type: 'money' },
        values: [1.2345],
        patch: { type: 'decimal', precision: 19, scale: 4 },
        expected: [1.2345],
        column: { dataType: 'numeric', precision: 19, scale: 4 },
      },
      {
        name: 'big_dec',
        from: { type: 'bigInteger' },
        values: [9007199254740991],
        patch: { type: 'decimal', precision: 30, scale: 0 },
        expected: [9007199254740991],
        column: { dataType: 'numeric', precision: 30, scale: 0 },
      },
    ];
    for (const c of cases) {
      const entity = `mc_conv_${c.name}`;
      await defineEntity(entity, [
        { name: 'name', type: 'text' },
        { name: 'v', ...c.from },
      ]);
      for (const [i, v] of c.values.entries()) await createRecord(entity, { name: `r${i}`, v });
      const { reply, entry } = await expectAccepted(
        patchField(entity, 'v', c.patch),
        200,
        'field.update',
        `${entity}.v`,
      );
      expect(reply.body.type, c.name).toBe(c.patch.type ?? c.from.type);
      expect(entry.before.type, c.name).toBe(c.from.type);
      expect(entry.after.type, c.name).toBe(c.patch.type ?? c.from.type);
      // money is numeric(19, 4) already: the same column, metadata only
      expect(
        entry.statements.some((s) => /ALTER COLUMN "v" TYPE/.test(s)),
        c.name,
      ).toBe(c.name !== 'money_dec');
      expect(await column(db(), entity, 'v'), c.name).toMatchObject(c.column);
      const got = (await records(entity)).map((r) => r.v);
      if (c.name === 'date_time')
        expect(
          got.map((g) => new Date(g).toISOString()),
          c.name,
        ).toEqual(['2024-01-02T00:00:00.000Z']);
      else expect(got, c.name).toEqual(c.expected);
      // the converted field keeps working through the API (a value no record has: some are unique)
      const fresh: Record<string, unknown> = {
        int_big: 9007199254740991,
        email_text: 'not-an-email-now',
        int_dec: 0.25,
        choice_multi: ['a', 'c'],
      };
      const created = await createRecord(entity, { name: 'after', v: c.name in fresh ? fresh[c.name] : c.expected[0] });
      expect(created.v, c.name).not.toBeUndefined();
    }
    // the options of the old type that the new one takes survive: integer min → decimal CHECK
    expect(await checkOf(db(), 'mc_conv_int_dec', 'v')).toMatch(/v >= .*-10/);
    // a unique integer stays unique as bigInteger
    expect((await indexesOn(db(), 'mc_conv_int_big', 'v')).map((i) => i.definition)).toEqual([
      expect.stringMatching(/UNIQUE/),
    ]);
    expect(await checkOf(db(), 'mc_conv_choice_multi', 'v')).toContain('<@');
    expect((await column(db(), 'mc_conv_choice_multi', 'v'))!.default).toContain(`'a'`);
    expect(await checkOf(db(), 'mc_conv_choice_text', 'v')).toBeUndefined();
    await createRecord('mc_conv_choice_text', { v: 'anything now' });
    expectProblem(
      await http().post('/api/data/mc_conv_int_big', { v: 9007199254740991 }),
      409,
      'XRM_ERR_RECORD_DUPLICATE',
      '/v',
    );
  });

  it('relabels an entity (metadata only) and changes its primary field (and so its full-text index)', async () => {
    await defineEntity('mc_ent', [
      { name: 'name', type: 'text' },
      { name: 'code', type: 'text' },
    ]);
    const physical = await physicalSnapshot(db());
    const { reply, entry } = await expectAccepted(
      () =>
        http().patch('/api/metadata/entities/mc_ent', {
          displayName: '顧客',
          pluralDisplayName: '顧客たち',
          description: 'Customers, "quoted"',
        }),
      200,
      'entity.update',
      'mc_ent',
    );
    expect(reply.body).toMatchObject({
      name: 'mc_ent',
      displayName: '顧客',
      pluralDisplayName: '顧客たち',
      description: 'Customers, "quoted"',
    });
    expect(entry.statements).toEqual([]);
    expect(entry.before).toMatchObject({ displayName: 'Mc ent' });
    expect(entry.after).toMatchObject({ displayName: '顧客' });
    expect(entry.before.fields).toBeUndefined();
    expect(await physicalSnapshot(db())).toEqual(physical);
    const primary = await expectAccepted(
      () => http().patch('/api/metadata/entities/mc_ent', { primaryField: 'code' }),
      200,
      'entity.update',
      'mc_ent',
    );
    expect(expectStatus(await http().get('/api/metadata/entities/mc_ent'), 200)).toMatchObject({
      displayName: '顧客',
      primaryField: 'code',
    });
    expect(primary.entry.statements).toEqual([
      'DROP INDEX IF EXISTS "data"."fts__mc_ent"',
      `CREATE INDEX "fts__mc_ent" ON "data"."mc_ent" USING gin (to_tsvector('simple'::regconfig, ` +
        `coalesce("code"::text, ''))) WITH (fastupdate = off)`,
    ]);
    await expectRefused(
      () => http().patch('/api/metadata/entities/mc_ent', { name: 'renamed' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/name',
    );
    await expectRefused(
      () => http().patch('/api/metadata/entities/mc_ent', { pluralName: 'x' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/pluralName',
    );
    await expectRefused(
      () => http().patch('/api/metadata/entities/mc_ent', { primaryField: 'nope' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/primaryField',
    );
    await expectRefused(
      () => http().patch('/api/metadata/entities/mc_ent', { displayName: '' }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/displayName',
    );
    await expectRefused(
      () => http().patch('/api/metadata/entities/mc_nope', { displayName: 'x' }),
      404,
      'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
    );
  });

  it("deletes an entity with its table and sequences; refuses while another entity's lookup points at it", async () => {
    await defineEntity('mc_parent', [
      { name: 'name', type: 'text' },
      { name: 'num', type: 'autonumber' },
      { name: 'boss', type: 'lookup', target: 'mc_parent' },
    ]);
    await defineEntity('mc_child', [
      { name: 'name', type: 'text' },
      { name: 'parent', type: 'lookup', target: 'mc_parent' },
    ]);
    const p = await createRecord('mc_parent', { name: 'p' });
    await createRecord('mc_child', { name: 'c', parent: p.id });

    const inUse = await expectRefused(
      () => http().delete('/api/metadata/entities/mc_parent'),
      409,
      'XRM_ERR_METADATA_IN_USE',
    );
    expect(inUse.body.detail).toContain('mc_child.parent');
    expect(inUse.body.references).toEqual([{ entity: 'mc_child', field: 'parent' }]);

    await expectAccepted(
      () => http().delete('/api/metadata/entities/mc_child/fields/parent'),
      204,
      'field.delete',
      'mc_child.parent',
    );
    const { entry } = await expectAccepted(
      () => http().delete('/api/metadata/entities/mc_parent'),
      204,
      'entity.delete',
      'mc_parent',
    );
    expect(entry.before).toMatchObject({ name: 'mc_parent' });
    expect(entry.before.fields.map((f: { name: string }) => f.name)).toEqual(['name', 'num', 'boss']);
    expect(entry.after).toBeNull();
    expect(entry.statements).toEqual([
      'DROP TABLE "data"."mc_parent"',
      'DROP SEQUENCE IF EXISTS "data"."seq__mc_parent__num"',
    ]);
    expect(await tableExists(db(), 'mc_parent')).toBe(false);
    expect(await sequences(db())).not.toContain('seq__mc_parent__num');
    expectProblem(await http().get('/api/metadata/entities/mc_parent'), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
    expectProblem(await http().get(`/api/data/mc_parent/${p.id}`), 404, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND');
    expect(
      expectStatus(await http().get('/api/metadata/entities/mc_child'), 200).fields.map(
        (f: { name: string }) => f.name,
      ),
    ).toEqual(['name']);
    // stored field rows went with it
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.fields WHERE entity = 'mc_parent'`.execute(
      db(),
    );
    expect(rows.rows[0]!.n).toBe(0);
    // the name is free again
    await defineEntity('mc_parent', [{ name: 'title', type: 'text' }]);
    await expectRefused(
      () => http().delete('/api/metadata/entities/mc_nope'),
      404,
      'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
    );
  });

  it('creates and deletes many-to-many relationships (junction tables)', async () => {
    await defineEntity('mc_student', [{ name: 'name', type: 'text' }]);
    await defineEntity('mc_course', [{ name: 'title', type: 'text' }]);
    const { reply, entry } = await expectAccepted(
      () =>
        http().post('/api/metadata/relationships', {
          name: 'mc_enrolment',
          type: 'manyToMany',
          from: 'mc_student',
          to: 'mc_course',
          displayName: 'Enrolment',
        }),
      201,
      'relationship.create',
      'mc_enrolment',
    );
    expect(reply.headers.location).toBe('/api/metadata/relationships/mc_enrolment');
    expect(entry.after).toMatchObject({ name: 'mc_enrolment', from: 'mc_student', to: 'mc_course' });
    expect(entry.statements[0]).toMatch(/^CREATE TABLE "data"\."mc_enrolment"/);
    const cols = await columns(db(), 'mc_enrolment');
    expect(Object.keys(cols)).toEqual(['from_id', 'to_id', 'created_at']);
    expect(cols.from_id).toMatchObject({ dataType: 'uuid', nullable: false });
    const cons = (await constraints(db(), 'mc_enrolment')).map((c) => c.definition);
    expect(cons).toEqual(
      expect.arrayContaining([
        'PRIMARY KEY (from_id, to_id)',
        'FOREIGN KEY (from_id) REFERENCES data.mc_student(id) ON DELETE CASCADE',
        'FOREIGN KEY (to_id) REFERENCES data.mc_course(id) ON DELETE CASCADE',
      ]),
    );
    const s = await createRecord('mc_student', { name: 's' });
    const c = await createRecord('mc_course', { title: 'c' });
    expect((await http().post(`/api/data/mc_student/${s.id}/mc_enrolment`, { id: c.id })).status).toBe(204);
    expect(
      expectStatus(await http().get(`/api/data/mc_course/${c.id}/mc_enrolment`), 200).data.map(
        (r: { id: string }) => r.id,
      ),
    ).toEqual([s.id]);
    expect(expectStatus(await http().get('/api/metadata/entities/mc_course'), 200).navigations).toEqual([
      {
        kind: 'manyToMany',
        name: 'mc_enrolment',
        relationship: 'mc_enrolment',
        other: 'mc_student',
        selfColumn: 'to_id',
        otherColumn: 'from_id',
      },
    ]);

    await expectRefused(
      () =>
        http().post('/api/metadata/relationships', {
          name: 'mc_enrolment',
          type: 'manyToMany',
          from: 'mc_student',
          to: 'mc_course',
        }),
      409,
      'XRM_ERR_METADATA_NAME_TAKEN',
    );
    await expectRefused(
      () =>
        http().post('/api/metadata/relationships', {
          name: 'mc_student',
          type: 'manyToMany',
          from: 'mc_student',
          to: 'mc_course',
        }),
      409,
      'XRM_ERR_METADATA_NAME_TAKEN',
    );
    await expectRefused(
      () =>
        http().post('/api/metadata/relationships', {
          name: 'mc_rel',
          type: 'manyToMany',
          from: 'mc_student',
          to: 'mc_nope',
        }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/to',
    );
    await expectRefused(
      () =>
        http().post('/api/metadata/relationships', {
          name: 'mc_rel',
          type: 'oneToMany',
          from: 'mc_student',
          to: 'mc_course',
        }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/type',
    );
    await expectRefused(() => http().delete('/api/metadata/entities/mc_course'), 409, 'XRM_ERR_METADATA_IN_USE');

    const del = await expectAccepted(
      () => http().delete('/api/metadata/relationships/mc_enrolment'),
      204,
      'relationship.delete',
      'mc_enrolment',
    );
    expect(del.entry.before).toMatchObject({ name: 'mc_enrolment' });
    expect(del.entry.statements).toEqual(['DROP TABLE "data"."mc_enrolment"']);
    expect(await tableExists(db(), 'mc_enrolment')).toBe(false);
    expect(expectStatus(await http().get('/api/metadata/entities/mc_course'), 200).navigations).toEqual([]);
    await expectRefused(
      () => http().delete('/api/metadata/relationships/mc_enrolment'),
      404,
      'XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND',
    );
    await expectAccepted(() => http().delete('/api/metadata/entities/mc_course'), 204, 'entity.delete', 'mc_course');
    // a self many-to-many
    await expectAccepted(
      () =>
        http().post('/api/metadata/relationships', {
          name: 'mc_friends',
          type: 'manyToMany',
          from: 'mc_student',
          to: 'mc_student',
        }),
      201,
      'relationship.create',
      'mc_friends',
    );
    const s2 = await createRecord('mc_student', { name: 's2' });
    expect((await http().post(`/api/data/mc_student/${s.id}/mc_friends`, { id: s2.id })).status).toBe(204);
    const links = await sql<{
      from_id: string;
      to_id: string;
    }>`SELECT from_id::text, to_id::text FROM data.mc_friends`.execute(db());
    expect(links.rows).toEqual([{ from_id: s.id, to_id: s2.id }]);
  });

  // ---------------------------------------------------------------------------------------------
  // Refused changes: nothing changes, anywhere
  // ---------------------------------------------------------------------------------------------

  it('refuses type changes that are not lossless (422) and leaves everything as it was', async () => {
    await defineEntity('mc_lossy', [
      { name: 'name', type: 'text' },
      { name: 't', type: 'text' },
      { name: 'd', type: 'decimal' },
      { name: 'b', type: 'boolean' },
      { name: 'dt', type: 'datetime' },
      { name: 'mc', type: 'multiChoice', options: ABC },
      { name: 'j', type: 'json' },
      { name: 'big', type: 'bigInteger' },
      { name: 'l', type: 'lookup', target: 'mc_lossy' },
      { name: 'c', type: 'choice', options: ABC },
      { name: 'i', type: 'integer' },
    ]);
    await createRecord('mc_lossy', {
      name: 'r',
      t: '12',
      d: 1.5,
      b: true,
      dt: '2024-01-01T10:00:00Z',
      mc: ['a'],
      j: { a: 1 },
      big: 5,
      i: 3,
    });
    const refusals: [string, Record<string, unknown>, string][] = [
      ['t', { type: 'integer' }, '/type'],
      ['t', { type: 'boolean' }, '/type'],
      ['t', { type: 'email' }, '/type'],
      ['d', { type: 'integer' }, '/type'],
      ['d', { precision: 10 }, '/type'],
      ['d', { scale: 4 }, '/type'],
      ['d', { type: 'money' }, '/type'],
      ['b', { type: 'integer' }, '/type'],
      ['dt', { type: 'date' }, '/type'],
      ['mc', { type: 'choice' }, '/type'],
      ['j', { type: 'text' }, '/type'],
      ['big', { type: 'integer' }, '/type'],
      ['big', { type: 'decimal' }, '/type'],
      ['i', { type: 'decimal', precision: 5, scale: 0 }, '/type'],
      ['l', { type: 'uuid' }, '/type'],
      ['l', { target: 'mc_lossy_other' }, '/target'],
      ['c', { choiceSet: 'mc_lossy_set', options: null }, '/choiceSet'],
      ['t', { name: 'renamed' }, '/name'],
    ];
    await defineEntity('mc_lossy_other', [{ name: 'name', type: 'text' }]);
    expectStatus(await http().post('/api/metadata/choice-sets', { name: 'mc_lossy_set', options: ABC }), 201);
    for (const [field, patch, path] of refusals) {
      const r = await expectRefused(patchField('mc_lossy', field, patch), 422, 'XRM_ERR_METADATA_CHANGE_REFUSED', path);
      expect(r.body.detail.length, JSON.stringify(patch)).toBeGreaterThan(10);
    }
    // an invalid type name or option is a 400, also unchanged
    await expectRefused(patchField('mc_lossy', 't', { type: 'varchar' }), 400, 'XRM_ERR_METADATA_INVALID', '/type');
    await expectRefused(patchField('mc_lossy', 't', { type: 'constructor' }), 400, 'XRM_ERR_METADATA_INVALID', '/type');
    await expectRefused(patchField('mc_lossy', 'b', { maxLength: 3 }), 400, 'XRM_ERR_METADATA_INVALID', '/maxLength');
    await expectRefused(patchField('mc_lossy', 'nope', { displayName: 'x' }), 404, 'XRM_ERR_METADATA_FIELD_NOT_FOUND');
    expect((await records('mc_lossy'))[0]).toMatchObject({ t: '12', d: 1.5, b: true, mc: ['a'], big: 5, i: 3 });
  });

  it('refuses required while records have no value, with the count of offending records', async () => {
    await defineEntity('mc_req', [
      { name: 'name', type: 'text' },
      { name: 'code', type: 'text' },
      { name: 'n', type: 'integer' },
    ]);
    await createRecord('mc_req', { name: 'a', code: 'A', n: 1 });
    await createRecord('mc_req', { name: 'b' });
    await createRecord('mc_req', { name: 'c' });
    await expectDataConflict(patchField('mc_req', 'code', { required: true }), 2, '/required');
    await expectDataConflict(patchField('mc_req', 'n', { required: true, min: 0 }), 2, '/required');
    // a lookup made required while records point nowhere
    await expectAccepted(
      addField('mc_req', { name: 'ref', type: 'lookup', target: 'mc_req' }),
      201,
      'field.create',
      'mc_req.ref',
    );
    await expectDataConflict(patchField('mc_req', 'ref', { required: true, onDelete: 'restrict' }), 3, '/required');
  });

  it('refuses unique while records share a value, with the count of offending records', async () => {
    await defineEntity('mc_uq', [
      { name: 'name', type: 'text' },
      { name: 'email', type: 'email' },
      { name: 'n', type: 'integer' },
    ]);
    for (const [email, n] of [
      ['x@example.com', 1],
      ['x@example.com', 1],
      ['X@example.com', 2],
      ['y@example.com', 1],
      [null, null],
      [null, null],
    ] as const) {
      await createRecord('mc_uq', { email, n });
    }
    // case matters; nulls never conflict
    await expectDataConflict(patchField('mc_uq', 'email', { unique: true }), 2, '/unique');
    await expectDataConflict(patchField('mc_uq', 'n', { unique: true }), 3, '/unique');
  });

  it('refuses narrowing below what is stored (maxLength, minLength, min/max), with the count', async () => {
    await defineEntity('mc_narrow', [
      { name: 'name', type: 'text', maxLength: 50 },
      { name: 'body', type: 'longText' },
      { name: 'n', type: 'integer', min: 0, max: 100 },
    ]);
    for (const [name, body, n] of [
      ['short', 'x'.repeat(300), 1],
      ['a bit longer', 'ok', 50],
      ['much much longer', 'x'.repeat(10), 99],
      [null, null, null],
    ] as const) {
      await createRecord('mc_narrow', { name, body, n });
    }
    await expectDataConflict(patchField('mc_narrow', 'name', { maxLength: 5 }), 2, '/type');
    await expectDataConflict(patchField('mc_narrow', 'name', { minLength: 6 }), 1);
    await expectDataConflict(patchField('mc_narrow', 'name', { type: 'longText', maxLength: 12 }), 1);
    await expectDataConflict(patchField('mc_narrow', 'body', { maxLength: 9 }), 2);
    await expectDataConflict(patchField('mc_narrow', 'body', { type: 'text' }), 1, '/type');
    await expectDataConflict(patchField('mc_narrow', 'n', { max: 50 }), 1);
    await expectDataConflict(patchField('mc_narrow', 'n', { min: 2 }), 1);
    await expectDataConflict(patchField('mc_narrow', 'n', { min: 51, max: 98 }), 3);
    // exactly at the limit is fine
    await expectAccepted(patchField('mc_narrow', 'name', { maxLength: 16 }), 200, 'field.update', 'mc_narrow.name');
    await expectAccepted(patchField('mc_narrow', 'n', { min: 1, max: 99 }), 200, 'field.update', 'mc_narrow.n');
    expect(await column(db(), 'mc_narrow', 'name')).toMatchObject({ maxLength: 16 });
  });

  it('refuses removing choice options in use (inline and on a shared set), with the count', async () => {
    expectStatus(
      await http().post('/api/metadata/choice-sets', {
        name: 'mc_rm_set',
        options: [
          { value: 'x', label: 'X' },
          { value: 'y', label: 'Y' },
          { value: 'z', label: 'Z' },
        ],
      }),
      201,
    );
    await defineEntity('mc_rm', [
      { name: 'name', type: 'text' },
      { name: 'status', type: 'choice', options: ABC },
      { name: 'tags', type: 'multiChoice', options: ABC },
      { name: 'kind', type: 'choice', choiceSet: 'mc_rm_set' },
    ]);
    await createRecord('mc_rm', { status: 'a', tags: ['a', 'b'], kind: 'y' });
    await createRecord('mc_rm', { status: 'a', tags: ['b'], kind: 'y' });
    await createRecord('mc_rm', { status: 'b', tags: [], kind: 'x' });
    await expectDataConflict(patchField('mc_rm', 'status', { options: ABC.slice(1) }), 2, '/status');
    await expectDataConflict(patchField('mc_rm', 'tags', { options: [ABC[0], ABC[2]] }), 2, '/tags');
    await expectDataConflict(
      () =>
        http().patch('/api/metadata/choice-sets/mc_rm_set', {
          options: [
            { value: 'x', label: 'X' },
            { value: 'z', label: 'Z' },
          ],
        }),
      2,
      '/kind',
    );
    // a field default outside the new options is refused too
    await expectRefused(
      patchField('mc_rm', 'status', { default: 'c', options: ABC.slice(0, 2) }),
      400,
      'XRM_ERR_METADATA_INVALID',
      '/default',
    );
    // the unused option can go
    await expectAccepted(
      () =>
        http().patch('/api/metadata/choice-sets/mc_rm_set', {
          options: [
            { value: 'x', label: 'X' },
            { value: 'y', label: 'Y' },
          ],
        }),
      200,
      'choiceSet.update',
      'choiceSet:mc_rm_set',
    );
    expect(await checkOf(db(), 'mc_rm', 'kind')).not.toContain(`'z'`);
  });

  it('refuses removing a choice-set option that a using field has as its default', async () => {
    expectStatus(
      await http().post('/api/metadata/choice-sets', {
        name: 'mc_def_set',
        options: [
          { value: 'x', label: 'X' },
          { value: 'y', label: 'Y' },
        ],
      }),
      201,
    );
    await defineEntity('mc_def', [
      { name: 'name', type: 'text' },
      { name: 'kind', type: 'choice', choiceSet: 'mc_def_set', default: 'y' },
    ]);
    await expectRefused(
      () => http().patch('/api/metadata/choice-sets/mc_def_set', { options: [{ value: 'x', label: 'X' }] }),
      422,
      'XRM_ERR_METADATA_CHANGE_REFUSED',
    );
    expect((await createRecord('mc_def', { name: 'n' })).kind).toBe('y');
  });

  it('keeps a complete ledger: newest first, one version per change, filterable by target', async () => {
    await defineEntity('mc_ledger', [{ name: 'name', type: 'text' }]);
    // "_" in the target is no wildcard: mcxledger's changes are not mc_ledger's
    await defineEntity('mcxledger', [{ name: 'name', type: 'text' }]);
    await expectAccepted(addField('mcxledger', { name: 'b', type: 'integer' }), 201, 'field.create', 'mcxledger.b');
    await expectAccepted(addField('mc_ledger', { name: 'a', type: 'integer' }), 201, 'field.create', 'mc_ledger.a');
    await expectAccepted(patchField('mc_ledger', 'a', { type: 'bigInteger' }), 200, 'field.update', 'mc_ledger.a');
    await expectAccepted(
      () => http().delete('/api/metadata/entities/mc_ledger/fields/a'),
      204,
      'field.delete',
      'mc_ledger.a',
    );
    const mine = expectStatus(await http().get('/api/metadata/changes?target=mc_ledger'), 200);
    expect(mine.totalCount).toBe(4);
    expect(mine.data.map((e: LedgerEntry) => e.operation)).toEqual([
      'field.delete',
      'field.update',
      'field.create',
      'entity.create',
    ]);
    const all = await ledger(1000);
    expect(all.data.length).toBe(all.totalCount);
    const versions = all.data.map((e) => e.version);
    expect(versions).toEqual([...versions].sort((x, y) => y - x));
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions[0]).toBe(await version());
    // paging
    const page = expectStatus(await http().get('/api/metadata/changes?limit=2&offset=1'), 200);
    expect(page.data.map((e: LedgerEntry) => e.id)).toEqual(all.data.slice(1, 3).map((e) => e.id));
  });
});
