/**
 * GraphQL over the write pipeline's extras, on both databases: `history` on entity types
 * (the audit trail, newest first, old → new, keyset paged) and one mutation per custom message
 * (its output answered, its writes in the operation's one transaction, its input checked).
 */
import { beforeAll, expect, it } from 'vitest';
import { definePlugin } from '../plugins/api.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';

/** The records close_deal's handler ran on. */
const closed: string[] = [];

const plugin = definePlugin({
  name: 'deals',
  version: '1.0.0',
  setup(api) {
    api.defineMessage(
      {
        name: 'close_deal',
        description: 'Closes a deal with a reason',
        entity: 'deal',
        input: {
          type: 'object',
          properties: { reason: { type: 'string', minLength: 3 } },
          required: ['reason'],
          additionalProperties: false,
        },
        output: {
          type: 'object',
          properties: { closed: { type: 'boolean' }, name: { type: 'string' } },
          required: ['closed'],
        },
      },
      async (ctx) => {
        closed.push(ctx.id!);
        const updated = await ctx.data!.update('deal', ctx.id!, { status: `closed: ${String(ctx.input.reason)}` });
        return { closed: true, name: updated.name };
      },
    );
  },
});

describeEachDatabase(
  'GraphQL: audit history and custom messages',
  (get) => {
    const http = () => api(get().app);
    const gql = async (query: string, variables?: Record<string, unknown>) => {
      const res = await http().graphql(query, variables);
      expect(res.status, res.text).toBe(200);
      return res.body as { data?: any; errors?: any[] };
    };
    const ok = async (query: string, variables?: Record<string, unknown>) => {
      const body = await gql(query, variables);
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      return body.data;
    };
    const createDeal = async (name: string): Promise<string> =>
      (await ok('mutation($name: String!) { createDeal(input: { name: $name }) { id } }', { name })).createDeal.id;

    beforeAll(async () => {
      const deal = {
        name: 'deal',
        fields: [
          { name: 'name', type: 'text', required: true },
          { name: 'status', type: 'text' },
        ],
      };
      expectStatus(await http().post('/api/metadata/entities', deal), 201);
    });

    it('serves history on entity types and a mutation per custom message', async () => {
      const data = await ok(`{
        deal: __type(name: "Deal") { fields { name } }
        mutation: __type(name: "Mutation") { fields { name args { name type { name kind ofType { name } } } } }
      }`);
      expect(data.deal.fields.map((f: { name: string }) => f.name)).toContain('history');
      const closeDeal = data.mutation.fields.find((f: { name: string }) => f.name === 'closeDeal');
      expect(closeDeal.args).toEqual([
        { name: 'input', type: { name: null, kind: 'NON_NULL', ofType: { name: 'JSON' } } },
        { name: 'target', type: { name: 'RecordTargetInput', kind: 'INPUT_OBJECT', ofType: null } },
      ]);
    });

    it('answers a record history newest first with old → new, keyset paged', async () => {
      const id = await createDeal('Acme');
      await ok('mutation($id: ID!) { updateDeal(id: $id, input: { name: "Acme Corp", status: "open" }) { id } }', {
        id,
      });
      const history = `query($id: ID!, $first: Int, $after: String) {
        deal(id: $id) {
          name
          history(first: $first, after: $after) {
            nodes { id message actor correlationId depth at changes { field old new } }
            edges { cursor node { id } }
            pageInfo { hasNextPage endCursor }
          }
        }
      }`;
      const { deal } = await ok(history, { id });
      expect(deal.name).toBe('Acme Corp');
      const [update, create] = deal.history.nodes;
      expect(deal.history.nodes).toHaveLength(2);
      expect(deal.history.pageInfo.hasNextPage).toBe(false);
      expect(update).toMatchObject({ message: 'update', depth: 1, actor: expect.any(String) });
      expect(update.correlationId).toEqual(expect.any(String));
      expect(Date.parse(update.at)).not.toBeNaN();
      const byField = (entry: { changes: { field: string }[] }) =>
        Object.fromEntries(entry.changes.map((c) => [c.field, c]));
      expect(byField(update).name).toEqual({ field: 'name', old: 'Acme', new: 'Acme Corp' });
      expect(byField(update).status).toEqual({ field: 'status', old: null, new: 'open' });
      expect(create.message).toBe('create');
      expect(byField(create).name).toEqual({ field: 'name', old: null, new: 'Acme' });
      expect(deal.history.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([update.id, create.id]);

      // one entry per page, continued after the end cursor, without `id` selected on the record
      const page = `query($id: ID!, $after: String) {
        deal(id: $id) { history(first: 1, after: $after) { nodes { message } pageInfo { hasNextPage endCursor } } }
      }`;
      const first = (await ok(page, { id })).deal.history;
      expect(first.nodes).toEqual([{ message: 'update' }]);
      expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: update.id });
      const second = (await ok(page, { id, after: first.pageInfo.endCursor })).deal.history;
      expect(second.nodes).toEqual([{ message: 'create' }]);
      expect(second.pageInfo.hasNextPage).toBe(false);

      // in a list too, and a bad page size is a coded error
      const list = await ok('{ deals(first: 5) { nodes { name history { nodes { message } } } } }');
      const listed = list.deals.nodes.find((n: { name: string }) => n.name === 'Acme Corp');
      expect(listed.history.nodes.map((n: { message: string }) => n.message)).toEqual(['update', 'create']);
      const bad = await gql('query($id: ID!) { deal(id: $id) { history(first: 0) { nodes { id } } } }', { id });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'XRM_ERR_QUERY_INVALID' });
    });

    it('runs a custom message, answering its output, in the operation transaction', async () => {
      const id = await createDeal('Globex');
      const close = `mutation($id: ID!, $input: JSON!) {
        closeDeal(input: $input, target: { entity: "deal", id: $id })
      }`;
      const data = await ok(close, { id, input: { reason: 'won it' } });
      expect(data.closeDeal).toEqual({ closed: true, name: 'Globex' });
      const read = async (dealId: string) =>
        (await ok('query($id: ID!) { deal(id: $id) { status } }', { id: dealId })).deal.status;
      expect(await read(id)).toBe('closed: won it');

      // a later root field of the same operation fails: the message's write is rolled back with it
      const other = await createDeal('Initech');
      const missing = '00000000-0000-4000-8000-000000000000';
      const body = await gql(
        `mutation($id: ID!, $missing: ID!) {
          closeDeal(input: { reason: "lost it" }, target: { entity: "deal", id: $id })
          updateDeal(id: $missing, input: { name: "Nobody" }) { id }
        }`,
        { id: other, missing },
      );
      // updateDeal is non-null: its error nulls the whole data, as nothing the operation wrote is kept
      expect(body.data).toBeNull();
      expect(closed).toContain(other);
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]).toMatchObject({
        path: ['updateDeal'],
        extensions: { code: 'XRM_ERR_RECORD_NOT_FOUND' },
      });
      expect(await read(other)).toBeNull();
      const history = await ok('query($id: ID!) { deal(id: $id) { history { nodes { message } } } }', {
        id: other,
      });
      expect(history.deal.history.nodes).toEqual([{ message: 'create' }]);
    });

    it('answers XRM_ERR_REQUEST_INVALID for a custom message input or target its definition refuses', async () => {
      const id = await createDeal('Umbrella');
      const short = await gql(
        'mutation($id: ID!) { closeDeal(input: { reason: "no" }, target: { entity: "deal", id: $id }) }',
        { id },
      );
      expect(short.data).toEqual({ closeDeal: null });
      expect(short.errors).toHaveLength(1);
      expect(short.errors![0]).toMatchObject({
        path: ['closeDeal'],
        extensions: { code: 'XRM_ERR_REQUEST_INVALID', status: 400 },
      });
      expect(short.errors![0].extensions.errors.map((e: { path: string }) => e.path)).toEqual(['/input/reason']);
      const unbound = await gql('mutation { closeDeal(input: { reason: "fine" }) }');
      expect(unbound.errors![0]).toMatchObject({
        extensions: { code: 'XRM_ERR_REQUEST_INVALID', errors: [{ path: '/target' }] },
      });
      expect(
        (await ok('query($id: ID!) { deal(id: $id) { status } }', { id })).deal.status,
        'nothing was written',
      ).toBeNull();
    });
  },
  { build: { plugins: [plugin] } },
);
