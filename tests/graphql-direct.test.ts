/**
 * A GraphQL read of one record's own fields, or of a page's `nodes` (own fields and lookups), is
 * answered with its statement's JSON as it comes, without executing the operation, and a create
 * from its one variable selecting own fields with the written record: the answer is the same
 * text, byte for byte, as the ordinary execution gives, for every kind of value, and so is a
 * failed write's. Whatever has another shape, or a variable graphql-js refuses, is executed as
 * before and answers as before.
 */
import { beforeAll, expect, it } from 'vitest';
import { definePlugin } from '../plugins/api.ts';
import { loadConfig } from '../server/config.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';
import { everyValue, everyValueType } from './support/value-types.ts';

/** Operations graphql-js executed (a direct answer executes none); both databases' platforms count here. */
let executed = 0;

/**
 * A step that changes the written record of a gd_odd after the write (a step should not: its
 * `postImage` is read-only), so that a value no scalar serializes reaches the answer.
 */
const oddStep = definePlugin({
  name: 'gd-odd',
  version: '1.0.0',
  setup(api) {
    api.on({ message: 'create', entity: 'gd_odd', stage: 'after' }, (ctx) => {
      (ctx.postImage as Record<string, unknown>).count = 'not a number';
    });
  },
});

/** Every own field but the JSON one: answered as the same text either way. */
const OWN = `id version createdAt updatedAt ownerId title body email website amount ratio share
  count big flag day at stage tags ref ticket parentId`;

describeEachDatabase(
  'GraphQL direct answers',
  (get) => {
    const http = () => api(get().app);
    const ids: string[] = [];

    /** POSTs the operation; answers the status and the exact text. */
    const post = async (query: string, variables?: Record<string, unknown>) => {
      const reply = await http().graphql(query, variables);
      return { status: reply.status, type: reply.headers['content-type'], text: reply.text };
    };
    /**
     * The operation answered directly, and the same operation executed the ordinary way (a
     * directive on `leaf` keeps it from the direct path): both answers, and how many executed.
     */
    const both = async (query: string, leaf: string, variables?: Record<string, unknown>) => {
      const before = executed;
      const direct = await post(query, variables);
      const directExecuted = executed - before;
      // the leaf as selected, not as named in an argument (`orderBy: [{ title: ASC }]`)
      const forced = query.replace(new RegExp(`\\b${leaf}\\b(?!\\s*:)`), `${leaf} @include(if: true)`);
      expect(forced).not.toBe(query);
      const ordinary = await post(forced, variables);
      return { direct, ordinary, directExecuted, ordinaryExecuted: executed - before - directExecuted };
    };

    beforeAll(async () => {
      expectStatus(await http().post('/api/metadata/entities', { name: 'gd_parent', fields: [] }), 201);
      const fields = everyValueType('gd_parent');
      expectStatus(await http().post('/api/metadata/entities', { name: 'gd_thing', fields }), 201);
      const parent = expectStatus(await http().post('/api/data/gd_parent', { name: 'P "quoted" \\ ü' }), 201);
      const records = [
        {
          // every value type, with edge values: control characters, a query string, a negative
          // count, JSON with an empty key and a small float
          ...everyValue(parent.id, 'Thing "one"\n\t\u0001 ✓'),
          website: 'https://example.com/x?y=1&z=2',
          count: -7,
          payload: { nested: [1, 'two', null, 1.5e-7], ok: true, '': {} },
        },
        { title: 'nulls everywhere' },
        { title: 'third', amount: 0, flag: false, tags: [], payload: 'a string', parent: parent.id },
      ];
      for (const record of records) ids.push(expectStatus(await http().post('/api/data/gd_thing', record), 201).id);
    });

    it('answers a record by id with the text the ordinary execution gives, for every value type', async () => {
      for (const id of ids) {
        const { direct, ordinary, directExecuted, ordinaryExecuted } = await both(
          `query One($id: ID!) { thing: gdThing(id: $id) { ${OWN} } }`,
          'title',
          { id },
        );
        expect(direct.status).toBe(200);
        expect(direct.text).toBe(ordinary.text);
        expect(direct.type).toBe(ordinary.type);
        expect(JSON.parse(direct.text).data.thing.id).toBe(id);
        expect([directExecuted, ordinaryExecuted]).toEqual([0, 1]);
        // a variable the operation does not declare changes nothing (graphql-js ignores it too)
        const extra = await both(`query One($id: ID!) { gdThing(id: $id) { ${OWN} } }`, 'title', { id, n: [1] });
        expect(extra.direct.text).toBe(extra.ordinary.text);
        expect(extra.directExecuted).toBe(0);
        // a JSON field comes as PostgreSQL writes it (as REST answers it): the same JSON, its own spacing
        const json = await both(`query($id: ID!) { gdThing(id: $id) { title payload } }`, 'title', { id });
        expect(JSON.parse(json.direct.text)).toEqual(JSON.parse(json.ordinary.text));
        expect(json.directExecuted).toBe(0);
        const rest = expectStatus(await http().get(`/api/data/gd_thing/${id}?select=payload`), 200);
        expect(JSON.parse(json.direct.text).data.gdThing.payload).toEqual(rest.payload);
      }
      // none by that id: null, as before
      const { direct, ordinary, directExecuted } = await both(
        '{ gdThing(id: "00000000-0000-4000-8000-000000000000") { id title } }',
        'title',
      );
      expect(direct.text).toBe('{"data":{"gdThing":null}}');
      expect(direct.text).toBe(ordinary.text);
      expect(directExecuted).toBe(0);
    });

    it("answers a page's nodes, lookups included, forward and backward, as the ordinary execution does", async () => {
      const queries = [
        `{ gdThings(orderBy: [{ title: ASC }]) { nodes { ${OWN} parent { id name } } } }`,
        `query Page($n: Int!, $t: String!) {
          things: gdThings(first: $n, filter: { title: { ne: $t } }, orderBy: [{ amount: DESC }]) {
            items: nodes { title amount parent { name } }
          }
        }`,
        '{ gdThings(last: 2, orderBy: [{ title: DESC }]) { nodes { title } } }',
        '{ gdThings(filter: { title: { eq: "none" } }) { nodes { title } } }',
      ];
      for (const query of queries) {
        const { direct, ordinary, directExecuted } = await both(query, 'title', { n: 2, t: 'third' });
        expect(direct.status, direct.text).toBe(200);
        expect(direct.text).toBe(ordinary.text);
        expect(directExecuted, query).toBe(0);
      }
      const named = JSON.parse((await post(queries[1]!, { n: 2, t: 'third' })).text);
      const titles = named.data.things.items.map((n: { title: string }) => n.title);
      expect(titles.sort()).toEqual(['Thing "one"\n\t\u0001 ✓', 'nulls everywhere']);
    });

    it('executes every other shape the ordinary way', async () => {
      const others = [
        '{ gdThings { totalCount nodes { title } } }',
        '{ gdThings(first: 2) { nodes { id } } gdThings(first: 2) { nodes { title } } }',
        '{ gdThings { nodes { title __typename } } }',
        '{ gdThings { nodes { ...F } } } fragment F on GdThing { title }',
        '{ gdThings { pageInfo { hasNextPage } nodes { title } } }',
        `{ gdThing(id: "${'0'.repeat(8)}-0000-4000-8000-000000000000") { title } gdParents { nodes { name } } }`,
        '{ gdParents { nodes { name gdThings { nodes { title } } } } }',
        'query($skip: Boolean!) { gdThings { nodes { title @skip(if: $skip) } } }',
        // a direct shape past 16 KB: parsed once, by the ordinary way, and kept as no plan's key
        `# ${'x'.repeat(16 * 1024)}\n{ gdThings { nodes { title } } }`,
      ];
      for (const query of others) {
        const before = executed;
        const reply = await post(query, { skip: false });
        expect(reply.status, reply.text).toBe(200);
        expect(JSON.parse(reply.text).errors, reply.text).toBeUndefined();
        expect(executed - before, query.slice(-200)).toBe(1);
      }
    });

    it('reports a refused variable or argument as before: the ordinary execution reports it', async () => {
      const query = 'query($n: Int!) { gdThings(first: $n) { nodes { title } } }';
      const negative = await post(query, { n: -1 });
      expect(negative.status).toBe(200);
      expect(JSON.parse(negative.text).errors[0].extensions.code).toBe('XRM_ERR_QUERY_INVALID');
      const missing = await post(query);
      expect(JSON.parse(missing.text).errors[0].message).toContain('$n');
      const wrong = await post('query($id: ID!) { gdThing(id: $id) { title } }', { id: 'not-a-uuid' });
      expect(wrong.text).toBe(
        (await post('query($id: ID!) { gdThing(id: $id) { title @include(if: true) } }', { id: 'not-a-uuid' })).text,
      );
      // `$id: ID!` takes a string as it comes; anything else is coerced (or refused) by graphql-js, as before
      for (const variables of [{ id: 7 }, {}, { id: null }, { id: ['x'] }, { id: { a: 1 } }]) {
        const direct = await post('query($id: ID!) { gdThing(id: $id) { title } }', variables);
        const ordinary = await post('query($id: ID!) { gdThing(id: $id) { title @include(if: true) } }', variables);
        expect(direct.status, JSON.stringify(variables)).toBe(ordinary.status);
        expect(direct.text, JSON.stringify(variables)).toBe(ordinary.text);
      }
      const unknown = await post('{ gdThing(id: "x") { nope } }');
      expect(unknown.status).toBe(400);
      expect(unknown.text).toContain('nope');
    });

    /** gd_thing's create input (GraphQL names) from a record of every value type. */
    const createInput = (title: string, overrides: Record<string, unknown> = {}) => {
      const { parent, ...values } = everyValue(ids.length ? parentId : '', title);
      return { ...values, parentId: parent, ...overrides };
    };
    let parentId = '';
    /** Every member but those that differ from one record to the next (id, times, autonumber). */
    const SAME = `version ownerId title body email website amount ratio share count big flag day at stage
      tags payload ref parentId`;
    const create = (selection: string) =>
      `mutation New($input: GdThingCreateInput!) { made: createGdThing(input: $input) { ${selection} } }`;
    const count = async () => {
      const reply = await post('{ gdThings { totalCount } }');
      return JSON.parse(reply.text).data.gdThings.totalCount as number;
    };

    it('creates from the one variable and answers as the ordinary execution does, for every value type', async () => {
      parentId = JSON.parse((await post(`query($id: ID!) { gdThing(id: $id) { parentId } }`, { id: ids[0] })).text).data
        .gdThing.parentId;
      const inputs = [
        createInput('Made "one"\n\t\u0001 ✓'),
        { title: 'only a title' },
        { title: 'zeros', amount: 0, flag: false, tags: [], payload: 'a string', ref: null },
        // a single value where a list is expected stands for a list of one, as graphql-js coerces it
        { title: 'one tag', tags: 'b', big: '9007199254740991' },
      ];
      for (const input of inputs) {
        const before = await count();
        const { direct, ordinary, directExecuted, ordinaryExecuted } = await both(create(SAME), 'title', { input });
        expect(direct.status, direct.text).toBe(200);
        expect(direct.text).toBe(ordinary.text);
        expect(direct.type).toBe(ordinary.type);
        expect([directExecuted, ordinaryExecuted]).toEqual([0, 1]);
        expect(await count()).toBe(before + 2);
      }
      expect(JSON.parse((await post(create('tags big'), { input: inputs[3] })).text).data.made).toEqual({
        tags: ['b'],
        big: 9007199254740991,
      });
      // what differs from one record to the next is what reading the record back gives
      const volatile = 'id createdAt updatedAt ticket';
      const before = executed;
      const made = JSON.parse((await post(create(`${volatile} title`), { input: createInput('read back') })).text);
      expect(executed).toBe(before);
      const read = await post(`query($id: ID!) { gdThing(id: $id) { ${volatile} title @include(if: true) } }`, {
        id: made.data.made.id,
      });
      expect(JSON.parse(read.text).data.gdThing).toEqual(made.data.made);
    });

    it('answers a failed create with the error the ordinary execution gives, and writes nothing', async () => {
      const failing = [
        createInput('bad email', { email: 'not an email' }),
        createInput('no such parent', { parentId: '00000000-0000-4000-8000-000000000000' }),
        { title: 'x'.repeat(300) },
      ];
      for (const input of failing) {
        const before = await count();
        const { direct, ordinary, directExecuted, ordinaryExecuted } = await both(create('id title'), 'title', {
          input,
        });
        expect(direct.status).toBe(ordinary.status);
        expect(direct.text).toBe(ordinary.text);
        expect(JSON.parse(direct.text)).toMatchObject({ data: null, errors: [{ path: ['made'] }] });
        expect([directExecuted, ordinaryExecuted]).toEqual([0, 1]);
        expect(await count()).toBe(before);
      }
      const [message] = JSON.parse((await post(create('id'), { input: failing[0] })).text).errors;
      expect(message.extensions).toMatchObject({ code: 'XRM_ERR_RECORD_INVALID', errors: [{ path: '/email' }] });
    });

    it('leaves a variable graphql-js refuses, and every other mutation shape, to the ordinary execution', async () => {
      const refused = [
        {},
        { input: null },
        { input: [{ title: 'in a list' }] },
        { input: { title: 5 } },
        { input: { title: 'x', nope: 1 } },
        { input: { title: 'x', count: 1.5 } },
        { input: { title: 'x', day: '2026-13' } },
        { input: { title: 'x', tags: [null] } },
        { input: { title: 'x', stage: ['won'] } },
        { input: 'a string' },
      ];
      for (const variables of refused) {
        const before = await count();
        const { direct, ordinary, ...executions } = await both(create('id title'), 'title', variables);
        expect(direct.status, JSON.stringify(variables)).toBe(ordinary.status);
        expect(direct.text, JSON.stringify(variables)).toBe(ordinary.text);
        expect(JSON.parse(direct.text).errors, JSON.stringify(variables)).toBeDefined();
        // mercurius refuses the variables before executing, both times
        expect(executions, JSON.stringify(variables)).toEqual({ directExecuted: 0, ordinaryExecuted: 0 });
        expect(await count()).toBe(before);
      }
      const others = [
        'mutation { createGdThing(input: { title: "literal" }) { id } }',
        'createGdThing(input: $input) { title parent { name } }',
        'createGdThing(input: $input) { title __typename }',
        'a: createGdThing(input: $input) { id } b: createGdThing(input: $input) { id }',
        'createGdThing(input: $input) { id title @skip(if: $skip) }',
      ].map((fields) =>
        fields.startsWith('mutation')
          ? fields
          : `mutation($input: GdThingCreateInput!${fields.includes('$skip') ? ', $skip: Boolean!' : ''}) { ${fields} }`,
      );
      for (const query of others) {
        const before = executed;
        const reply = await post(query, { input: { title: 'other shape' }, skip: false });
        expect(reply.status, reply.text).toBe(200);
        expect(JSON.parse(reply.text).errors, reply.text).toBeUndefined();
        expect(executed - before, query.slice(-200)).toBe(1);
      }
    });

    it('executes the operation with the written record when a value does not serialize, writing once', async () => {
      const fields = [
        { name: 'title', type: 'text' },
        { name: 'count', type: 'integer' },
      ];
      expectStatus(await http().post('/api/metadata/entities', { name: 'gd_odd', fields }), 201);
      const query = 'mutation($input: GdOddCreateInput!) { createGdOdd(input: $input) { title count } }';
      // the directive that keeps the ordinary execution off the direct path goes after `count`, so
      // the error's location is the same column both ways
      const { direct, ordinary } = await both(query, 'count', { input: { title: 'odd', count: 1 } });
      expect(direct.status).toBe(ordinary.status);
      expect(direct.text).toBe(ordinary.text);
      expect(JSON.parse(direct.text)).toMatchObject({
        data: { createGdOdd: { title: 'odd', count: null } },
        errors: [{ path: ['createGdOdd', 'count'] }],
      });
      // one record for each request: the operation was executed with the write's outcome, not written again
      const records = expectStatus(await http().get('/api/data/gd_odd'), 200);
      expect(records.data).toHaveLength(2);
    });
  },
  {
    config: { schemaPollMs: 0, jobs: { ...loadConfig({}).jobs, concurrency: 0 } },
    build: {
      plugins: [oddStep],
      onGraphql: (graphql) =>
        graphql.addHook('preExecution', async () => {
          executed++;
        }),
    },
  },
);
