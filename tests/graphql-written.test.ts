/**
 * A GraphQL create or update answers from the write's own RETURNING when the selection reads only
 * the record's own fields and the caller may read every record (no second statement); the answer
 * is exactly what reading the record back gives, for every kind of value. Otherwise (a lookup in
 * the selection, a row rule on reads) it reads the record back, as before.
 */
import { expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';
import { everyValue, everyValueType } from './support/value-types.ts';

const FIELDS = `id version createdAt updatedAt ownerId title body email website amount ratio share
  count big flag day at stage tags payload ref ticket`;

const statements: string[] = [];
/** BEGIN, COMMIT and ROLLBACK sent (seen on PostgreSQL; PGlite runs its transactions without statements). */
const transactionStatements = () =>
  statements.map((s) => s.trim().toLowerCase()).filter((s) => /^(begin|commit|rollback)\b/.test(s));
/** Statements that read a gw_thing record back (the write's own statement only INSERTs or UPDATEs it). */
const readsBack = () =>
  statements.filter((s) => s.includes('"data"."gw_thing"') && !/(INSERT INTO|UPDATE) "data"\."gw_thing"/.test(s));

describeEachDatabase(
  'GraphQL writes answer from what they wrote',
  (get, kind) => {
    const http = () => api(get().app);

    it('answers a create and an update with exactly what reading the record gives, every value type', async () => {
      expectStatus(await http().post('/api/metadata/entities', { name: 'gw_parent', fields: [] }), 201);
      const fields = everyValueType('gw_parent');
      expectStatus(await http().post('/api/metadata/entities', { name: 'gw_thing', fields }), 201);
      const parent = expectStatus(await http().post('/api/data/gw_parent', { name: 'P' }), 201);

      const { parent: parentId, ...values } = everyValue(parent.id);
      const input = { ...values, parentId };
      statements.length = 0;
      const created = await http().graphql(
        `mutation ($input: GwThingCreateInput!) { createGwThing(input: $input) { ${FIELDS} } }`,
        { input },
      );
      expect(created.body.errors).toBeUndefined();
      const written = created.body.data.createGwThing;
      expect(readsBack()).toEqual([]);
      // the operation's one field writes as REST does: no transaction statements around it
      expect(transactionStatements()).toEqual([]);
      const read = await http().graphql(`query ($id: ID!) { gwThing(id: $id) { ${FIELDS} } }`, { id: written.id });
      expect(written).toEqual(read.body.data.gwThing);
      expect(written).toMatchObject({ title: 'Thing', amount: 1234.5, ticket: 'T-0001', tags: ['a', 'b'] });

      statements.length = 0;
      const updated = await http().graphql(
        `mutation ($id: ID!) {
        updateGwThing(id: $id, input: { title: "Changed", amount: 1, payload: [1] }) { ${FIELDS} }
      }`,
        { id: written.id },
      );
      expect(updated.body.errors).toBeUndefined();
      expect(readsBack()).toEqual([]);
      const reread = await http().graphql(`query ($id: ID!) { gwThing(id: $id) { ${FIELDS} } }`, { id: written.id });
      expect(updated.body.data.updateGwThing).toEqual(reread.body.data.gwThing);
      expect(updated.body.data.updateGwThing).toMatchObject({ title: 'Changed', version: 2, payload: [1] });

      // a lookup in the selection is read back with it
      statements.length = 0;
      const withParent = await http().graphql(
        `mutation { createGwThing(input: { title: "Child", parentId: "${parent.id}" }) { title parent { name } } }`,
      );
      expect(withParent.body.errors).toBeUndefined();
      expect(withParent.body.data.createGwThing).toEqual({ title: 'Child', parent: { name: 'P' } });
      expect(readsBack()).toHaveLength(1);
      if (kind === 'postgres') expect(transactionStatements()).toEqual(['begin', 'commit']);

      // two fields: one transaction around both, so the second failing undoes the first
      statements.length = 0;
      const two = await http().graphql(
        `mutation {
          a: createGwThing(input: { title: "A" }) { id }
          b: updateGwThing(id: "00000000-0000-4000-8000-000000000000", input: { title: "B" }) { id }
        }`,
      );
      expect(two.body.errors?.[0]?.extensions?.code).toBe('XRM_ERR_RECORD_NOT_FOUND');
      if (kind === 'postgres') expect(transactionStatements()).toEqual(['begin', 'rollback']);
      const kept = await http().graphql('{ gwThings(filter: { title: { eq: "A" } }) { nodes { id } } }');
      expect(kept.body.data.gwThings.nodes).toEqual([]);
    });
  },
  {
    config: { schemaPollMs: 0, jobs: { ...loadConfig({}).jobs, concurrency: 0 } },
    build: { onQuery: (text) => statements.push(text) },
  },
);
