/**
 * The privilege matrix (issue 8): every record privilege × access level (none, own, team, all) on
 * REST and GraphQL, with shares, row rules on principal variables, secured fields, API privileges,
 * explanations and role-restricted API keys — on both databases. Users sign in and act through
 * the HTTP API; outcomes are checked by reading as the administrator or straight from the
 * database (a refused write wrote nothing).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type Reply } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus } from './support/problems.ts';

interface Person {
  id: string;
  email: string;
  password: string;
  token: string;
}

const NAMES = ['olivia', 'tess', 'uma', 'alan', 'nora', 'rita', 'sam', 'rob', 'kay'] as const;
type Name = (typeof NAMES)[number];

/** The roles of the fixture, by name. */
const ROLES: Record<string, Record<string, unknown>> = {
  deal_own: {
    privileges: [
      { entity: 'deal', create: 'own', read: 'own', update: 'own', delete: 'own', append: 'own', share: 'own' },
      { entity: 'account', create: 'own', read: 'all', appendTo: 'own' },
    ],
  },
  deal_team: {
    privileges: [
      { entity: 'deal', create: 'team', read: 'team', update: 'team', delete: 'own', append: 'team' },
      { entity: 'account', read: 'team', appendTo: 'team' },
    ],
  },
  deal_member: {
    privileges: [
      { entity: 'deal', create: 'own', read: 'team', update: 'own', delete: 'team', append: 'own', share: 'own' },
      { entity: 'account', read: 'team', appendTo: 'team' },
    ],
  },
  deal_all: {
    privileges: [
      {
        entity: 'deal',
        create: 'all',
        read: 'all',
        update: 'all',
        delete: 'all',
        append: 'all',
        appendTo: 'all',
        assign: 'all',
        share: 'all',
      },
      { entity: 'account', create: 'all', read: 'all', update: 'all', appendTo: 'all' },
    ],
    fieldPermissions: [
      { entity: 'deal', field: 'amount', read: true, update: false },
      { entity: 'deal', field: 'notes', read: true, update: true },
    ],
  },
  account_reader: { privileges: [{ entity: 'account', read: 'all' }] },
  deal_region: {
    privileges: [{ entity: 'deal', read: 'all', update: 'all', delete: 'all' }],
    rowRules: [
      { entity: 'deal', privilege: 'read', filter: { region: { eq: '$user.region' } } },
      { entity: 'deal', privilege: 'update', filter: { region: { eq: 'emea' } } },
      { entity: 'deal', privilege: 'delete', filter: { region: { eq: 'emea' } } },
    ],
  },
  deal_team_owned: {
    privileges: [{ entity: 'deal', read: 'all' }],
    rowRules: [{ entity: 'deal', privilege: 'read', filter: { owner_id: { in: '$user.teams' } } }],
  },
};

/** Who holds which roles, and which teams they are in. */
const PEOPLE: Record<Name, { roles: string[]; teams?: string[]; attributes?: Record<string, unknown> }> = {
  olivia: { roles: ['deal_own'] },
  tess: { roles: ['deal_team'], teams: ['north'] },
  uma: { roles: ['deal_member'], teams: ['north'] },
  alan: { roles: ['deal_all'] },
  nora: { roles: ['account_reader'] },
  rita: { roles: ['deal_region'], attributes: { region: 'emea' } },
  sam: { roles: ['deal_team_owned'], teams: ['north'] },
  rob: { roles: ['deal_all'] },
  kay: { roles: ['deal_all', 'account_reader'] },
};

const MATRIX = "name startsWith 'M-'";
const sorted = (names: string[]) => [...names].sort();

describeEachDatabase('privilege matrix', (get) => {
  const admin = () => api(get().app);
  const people = {} as Record<Name, Person>;
  const as = (name: Name) => api(get().app, people[name].token);
  const db = () => get().services.db;
  let north = '';
  const accounts: Record<'olivia' | 'tess' | 'alan', string> = { olivia: '', tess: '', alan: '' };
  /** The matrix deals by name: M-olivia, M-uma, M-tess, M-alan, M-team (owned by the team north). */
  const deals: Record<string, string> = {};

  let seq = 0;
  /** A deal created by the administrator for `owner` (a user or a team id). */
  const newDeal = async (owner: string, fields: Record<string, unknown> = {}): Promise<any> =>
    expectStatus(
      await admin().post('/api/data/deal', {
        name: `X-${++seq}`,
        region: 'emea',
        amount: 10,
        owner_id: owner,
        ...fields,
      }),
      201,
    );
  /** The record as stored (administrator's view), or undefined. */
  const stored = async (id: string): Promise<Record<string, any> | undefined> => {
    const { rows } = await sql<Record<string, any>>`SELECT * FROM data.deal WHERE id = ${id}`.execute(db());
    return rows[0];
  };
  const countNamed = async (name: string): Promise<number> => {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM data.deal WHERE name = ${name}`.execute(
      db(),
    );
    return rows[0]!.n;
  };
  const listNames = async (who: Name, filter = MATRIX): Promise<string[]> => {
    const body = expectStatus(
      await as(who).get(`/api/data/deal?${new URLSearchParams({ filter, limit: '200' })}`),
      200,
    );
    return sorted(body.data.map((r: any) => r.name));
  };
  /** A GraphQL operation as `who`: the whole answer. */
  const gql = (who: Name, query: string, variables?: Record<string, unknown>) => as(who).graphql(query, variables);
  const gqlCode = (reply: Reply) => reply.body.errors?.[0]?.extensions?.code;

  beforeAll(async () => {
    expectStatus(
      await admin().post('/api/metadata/entities', {
        name: 'account',
        displayName: 'Account',
        fields: [
          { name: 'name', type: 'text', required: true },
          { name: 'region', type: 'text' },
        ],
      }),
      201,
    );
    expectStatus(
      await admin().post('/api/metadata/entities', {
        name: 'deal',
        displayName: 'Deal',
        fields: [
          { name: 'name', type: 'text', required: true },
          { name: 'region', type: 'text' },
          { name: 'amount', type: 'decimal', precision: 12, scale: 2, secured: true },
          { name: 'notes', type: 'text', searchable: true, secured: true },
          { name: 'account', type: 'lookup', target: 'account', onDelete: 'setNull', inverseName: 'deals' },
        ],
      }),
      201,
    );
    for (const [name, role] of Object.entries(ROLES))
      expectStatus(await admin().post('/api/roles', { name, ...role }), 201);
    north = expectStatus(await admin().post('/api/teams', { name: 'north' }), 201).id;
    for (const name of NAMES) {
      const email = `${name}@matrix.example`;
      const password = `${name}-password-long-enough`;
      const user = expectStatus(
        await admin().post('/api/users', { email, password, displayName: name, ...PEOPLE[name] }),
        201,
      );
      const { token } = expectStatus(await admin().post('/api/auth/login', { email, password }), 200);
      people[name] = { id: user.id, email, password, token };
    }
    for (const who of ['olivia', 'tess', 'alan'] as const) {
      const account = expectStatus(
        await admin().post('/api/data/account', { name: `A-${who}`, owner_id: people[who].id }),
        201,
      );
      accounts[who] = account.id;
    }
    const matrix: [string, string, string, number, string | null][] = [
      ['M-olivia', people.olivia.id, 'emea', 100, accounts.olivia],
      ['M-uma', people.uma.id, 'amer', 200, accounts.alan],
      ['M-tess', people.tess.id, 'emea', 300, accounts.tess],
      ['M-alan', people.alan.id, 'apac', 400, accounts.tess],
      ['M-team', north, 'amer', 500, null],
    ];
    for (const [name, owner, region, amount, account] of matrix) {
      const deal = expectStatus(
        await admin().post('/api/data/deal', { name, owner_id: owner, region, amount, account, notes: 'secret' }),
        201,
      );
      deals[name] = deal.id;
    }
  });

  /** Who sees which matrix deals. */
  const VISIBLE: Record<'nora' | 'olivia' | 'uma' | 'tess' | 'alan' | 'sam', string[]> = {
    nora: [],
    olivia: ['M-olivia'],
    tess: ['M-team', 'M-tess', 'M-uma'],
    uma: ['M-team', 'M-tess', 'M-uma'],
    alan: ['M-alan', 'M-olivia', 'M-team', 'M-tess', 'M-uma'],
    sam: ['M-team'],
  };

  describe('read', () => {
    it('lists, gets and counts over REST exactly the records of each read level (none, own, team, all)', async () => {
      for (const [who, visible] of Object.entries(VISIBLE) as [Name, string[]][]) {
        expect(await listNames(who), who).toEqual(visible);
        const counted = expectStatus(
          await as(who).get(`/api/data/deal?${new URLSearchParams({ filter: MATRIX, count: 'true' })}`),
          200,
        );
        expect(counted.totalCount, who).toBe(visible.length);
        for (const [name, id] of Object.entries(deals)) {
          const reply = await as(who).get(`/api/data/deal/${id}`);
          if (visible.includes(name)) expect(expectStatus(reply, 200).name, `${who} ${name}`).toBe(name);
          else expectProblem(reply, 404, 'XRM_ERR_RECORD_NOT_FOUND');
        }
        const aggregate = expectStatus(
          await as(who).get(`/api/data/deal/aggregate?${new URLSearchParams({ filter: MATRIX, aggregate: 'count' })}`),
          200,
        );
        expect(aggregate.data, who).toEqual([{ count: visible.length }]);
        const grouped = expectStatus(
          await as(who).get(`/api/data/deal/aggregate?${new URLSearchParams({ filter: MATRIX, groupBy: 'region' })}`),
          200,
        );
        const regions = (grouped.data as { count: number }[]).reduce((n, g) => n + g.count, 0);
        expect(regions, who).toBe(visible.length);
      }
    });

    it('answers a hidden record as 404 exactly like a missing one, its history too', async () => {
      const hidden = await as('olivia').get(`/api/data/deal/${deals['M-alan']}`);
      const missing = await as('olivia').get(`/api/data/deal/${randomUUID()}`);
      expectProblem(hidden, 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expectProblem(missing, 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expect(hidden.body.errors).toEqual(missing.body.errors);
      expectProblem(
        await as('olivia').get(`/api/data/deal/${deals['M-alan']}/history`),
        404,
        'XRM_ERR_RECORD_NOT_FOUND',
      );
      expectStatus(await as('olivia').get(`/api/data/deal/${deals['M-olivia']}/history`), 200);
    });

    it('lists, gets and counts through GraphQL exactly the records of each read level', async () => {
      for (const [who, visible] of Object.entries(VISIBLE) as [Name, string[]][]) {
        const list = await gql(
          who,
          `{ deals(filter: { name: { startsWith: "M-" } }, first: 100) { totalCount nodes { id name } }
             dealsAggregate(aggregate: ["count"], filter: { name: { startsWith: "M-" } }) }`,
        );
        expect(list.body.errors, JSON.stringify(list.body)).toBeUndefined();
        expect(sorted(list.body.data.deals.nodes.map((n: any) => n.name)), who).toEqual(visible);
        expect(list.body.data.deals.totalCount, who).toBe(visible.length);
        expect(list.body.data.dealsAggregate, who).toEqual([{ count: visible.length }]);
        for (const [name, id] of Object.entries(deals)) {
          const one = await gql(who, 'query($id: ID!) { deal(id: $id) { id name } }', { id });
          expect(one.body.errors, JSON.stringify(one.body)).toBeUndefined();
          expect(one.body.data.deal, `${who} ${name}`).toEqual(visible.includes(name) ? { id, name } : null);
        }
      }
    });

    it('shows a lookup to a hidden record as null and leaves hidden records out of to-many lists', async () => {
      // M-uma's account is Alan's, outside Tess's (team) read of accounts
      const uma = expectStatus(await as('tess').get(`/api/data/deal/${deals['M-uma']}?expand=account`), 200);
      expect(uma.account).toBeNull();
      const admins = expectStatus(await admin().get(`/api/data/deal/${deals['M-uma']}?expand=account`), 200);
      expect(admins.account).toMatchObject({ id: accounts.alan, name: 'A-alan' });
      // Tess's account holds M-tess and M-alan; M-alan is outside her read
      const account = expectStatus(
        await as('tess').get(`/api/data/account/${accounts.tess}?expand=${encodeURIComponent('deals(select=name)')}`),
        200,
      );
      expect(account.deals.map((d: any) => d.name)).toEqual(['M-tess']);
      const all = expectStatus(
        await admin().get(`/api/data/account/${accounts.tess}?expand=${encodeURIComponent('deals(select=name)')}`),
        200,
      );
      expect(sorted(all.deals.map((d: any) => d.name))).toEqual(['M-alan', 'M-tess']);
      const listed = expectStatus(
        await as('tess').get(`/api/data/deal?${new URLSearchParams({ filter: MATRIX, expand: 'account' })}`),
        200,
      );
      expect(Object.fromEntries(listed.data.map((d: any) => [d.name, d.account?.name ?? null]))).toEqual({
        'M-uma': null,
        'M-tess': 'A-tess',
        'M-team': null,
      });
      // filtering over a hidden lookup matches nothing
      expect(await listNames('tess', "account.name eq 'A-alan'")).toEqual([]);
      expect(await listNames('alan', "account.name eq 'A-alan'")).toEqual(['M-uma']);

      const graph = await gql(
        'tess',
        `query($id: ID!, $account: ID!) {
           deal(id: $id) { name account { name } }
           account(id: $account) { name deals { nodes { name } } }
         }`,
        { id: deals['M-uma'], account: accounts.tess },
      );
      expect(graph.body.errors, JSON.stringify(graph.body)).toBeUndefined();
      expect(graph.body.data.deal).toEqual({ name: 'M-uma', account: null });
      expect(graph.body.data.account).toEqual({ name: 'A-tess', deals: { nodes: [{ name: 'M-tess' }] } });
    });
  });

  describe('update and delete', () => {
    it('own: changes and deletes own records; another record is a 404 even with a wrong If-Match', async () => {
      const mine = await newDeal(people.olivia.id);
      const updated = expectStatus(await as('olivia').patch(`/api/data/deal/${mine.id}`, { region: 'amer' }), 200);
      expect(updated).toMatchObject({ region: 'amer', version: 2 });
      const before = await stored(deals['M-alan']!);
      const conditions: Record<string, string>[] = [
        {},
        { 'if-match': '"999"' },
        { 'if-match': `"${before!.version}"` },
      ];
      for (const headers of conditions) {
        expectProblem(
          await as('olivia').patch(`/api/data/deal/${deals['M-alan']}`, { region: 'x' }, headers),
          404,
          'XRM_ERR_RECORD_NOT_FOUND',
        );
        expectProblem(
          await as('olivia').delete(`/api/data/deal/${deals['M-alan']}`, headers),
          404,
          'XRM_ERR_RECORD_NOT_FOUND',
        );
      }
      expect(await stored(deals['M-alan']!)).toEqual(before);
      expect((await as('olivia').delete(`/api/data/deal/${mine.id}`)).status).toBe(204);
      expect(await stored(mine.id)).toBeUndefined();
    });

    it("team: updates a teammate's record, but deleting it (delete own) is a 403 and changes nothing", async () => {
      const umas = await newDeal(people.uma.id);
      expect(expectStatus(await as('tess').patch(`/api/data/deal/${umas.id}`, { region: 'apac' }), 200)).toMatchObject({
        region: 'apac',
        version: 2,
      });
      const before = await stored(umas.id);
      expectProblem(await as('tess').delete(`/api/data/deal/${umas.id}`), 403, 'XRM_ERR_FORBIDDEN');
      // no 412 for a write that is not allowed anyway
      expectProblem(
        await as('tess').delete(`/api/data/deal/${umas.id}`, { 'if-match': '"999"' }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      expect(await stored(umas.id)).toEqual(before);
      // Uma (update own, delete team): Tess's record is readable, not updatable — and deletable
      const tesss = await newDeal(people.tess.id);
      expectProblem(await as('uma').patch(`/api/data/deal/${tesss.id}`, { region: 'amer' }), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(
        await as('uma').patch(`/api/data/deal/${tesss.id}`, { region: 'amer' }, { 'if-match': '"999"' }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      expect((await stored(tesss.id))!.region).toBe('emea');
      expect((await as('uma').delete(`/api/data/deal/${tesss.id}`)).status).toBe(204);
      expect(await stored(tesss.id)).toBeUndefined();
      // outside the team: 404, with or without If-Match
      const alans = await newDeal(people.alan.id);
      const conditions: Record<string, string>[] = [{}, { 'if-match': '"999"' }];
      for (const headers of conditions) {
        expectProblem(
          await as('tess').patch(`/api/data/deal/${alans.id}`, { region: 'x' }, headers),
          404,
          'XRM_ERR_RECORD_NOT_FOUND',
        );
        expectProblem(await as('uma').delete(`/api/data/deal/${alans.id}`, headers), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      }
      expect((await stored(alans.id))!).toMatchObject({ region: 'emea', version: 1 });
      // a record owned by the team is the team's
      const teams = await newDeal(north);
      expectStatus(await as('tess').patch(`/api/data/deal/${teams.id}`, { region: 'amer' }), 200);
      expect((await as('uma').delete(`/api/data/deal/${teams.id}`)).status).toBe(204);
    });

    it('all: updates and deletes anyone’s record; a wrong If-Match is a 412 only then', async () => {
      const olivias = await newDeal(people.olivia.id);
      expectStatus(await as('alan').patch(`/api/data/deal/${olivias.id}`, { region: 'apac' }), 200);
      expectProblem(
        await as('alan').patch(`/api/data/deal/${olivias.id}`, { region: 'amer' }, { 'if-match': '"1"' }),
        412,
        'XRM_ERR_RECORD_VERSION_MISMATCH',
      );
      expect((await stored(olivias.id))!).toMatchObject({ region: 'apac', version: 2 });
      expect((await as('alan').delete(`/api/data/deal/${olivias.id}`, { 'if-match': '"2"' })).status).toBe(204);
      expect(await stored(olivias.id)).toBeUndefined();
    });

    it('none: a user without update or delete on deals gets 404 for every deal', async () => {
      const olivias = await newDeal(people.olivia.id);
      expectProblem(
        await as('nora').patch(`/api/data/deal/${olivias.id}`, { region: 'x' }),
        404,
        'XRM_ERR_RECORD_NOT_FOUND',
      );
      expectProblem(await as('nora').delete(`/api/data/deal/${olivias.id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expect((await stored(olivias.id))!.version).toBe(1);
    });

    it('does the same through GraphQL mutations, with the code in the error', async () => {
      const update = 'mutation($id: ID!) { updateDeal(id: $id, input: { region: "apac" }) { id region version } }';
      const remove = 'mutation($id: ID!) { deleteDeal(id: $id) }';
      const umas = await newDeal(people.uma.id);
      const alans = await newDeal(people.alan.id);
      const ok = await gql('tess', update, { id: umas.id });
      expect(ok.body.errors, JSON.stringify(ok.body)).toBeUndefined();
      expect(ok.body.data.updateDeal).toEqual({ id: umas.id, region: 'apac', version: 2 });
      const forbidden = await gql('tess', remove, { id: umas.id });
      expect(gqlCode(forbidden), JSON.stringify(forbidden.body)).toBe('XRM_ERR_FORBIDDEN');
      expect(forbidden.body.errors[0].extensions.status).toBe(403);
      expect(await stored(umas.id)).toMatchObject({ version: 2 });
      const notFound = await gql('tess', update, { id: alans.id });
      expect(gqlCode(notFound), JSON.stringify(notFound.body)).toBe('XRM_ERR_RECORD_NOT_FOUND');
      const notFoundDelete = await gql('tess', remove, { id: alans.id });
      expect(gqlCode(notFoundDelete), JSON.stringify(notFoundDelete.body)).toBe('XRM_ERR_RECORD_NOT_FOUND');
      const readOnly = await gql('uma', update, { id: (await newDeal(people.tess.id)).id });
      expect(gqlCode(readOnly), JSON.stringify(readOnly.body)).toBe('XRM_ERR_FORBIDDEN');
      expect(await stored(alans.id)).toMatchObject({ region: 'emea', version: 1 });
      const deleted = await gql('uma', remove, { id: umas.id });
      expect(deleted.body.errors, JSON.stringify(deleted.body)).toBeUndefined();
      expect(deleted.body.data.deleteDeal).toBe(umas.id);
      expect(await stored(umas.id)).toBeUndefined();
    });
  });

  describe('create and assign', () => {
    it("journals a restricted writer's bulk create like anyone's (the audit trail has every record)", async () => {
      const bulk = expectStatus(
        await as('olivia').post('/api/data/deal/bulk', {
          operation: 'create',
          records: [{ name: 'B-olivia-1' }, { name: 'B-olivia-2' }],
        }),
        200,
      );
      const ids = bulk.data.map((r: { id: string }) => r.id);
      const { rows } = await sql<{ record_id: string; actor: string }>`SELECT record_id::text, actor FROM xrm.audit
        WHERE entity = 'deal' AND message = 'create' AND record_id = ANY(${ids}::uuid[])`.execute(db());
      expect(rows.map((r) => r.record_id).sort()).toEqual([...ids].sort());
      expect(new Set(rows.map((r) => r.actor))).toEqual(new Set([`user:${people.olivia.id}`]));
    });

    it('refuses create at level none and writes nothing', async () => {
      expectProblem(await as('nora').post('/api/data/deal', { name: 'C-nora' }), 403, 'XRM_ERR_FORBIDDEN');
      const graph = await gql('nora', 'mutation { createDeal(input: { name: "C-nora" }) { id } }');
      expect(gqlCode(graph), JSON.stringify(graph.body)).toBe('XRM_ERR_FORBIDDEN');
      expect(await countNamed('C-nora')).toBe(0);
    });

    it('own: the creator owns the record; owning it to someone else needs assign', async () => {
      const created = expectStatus(await as('olivia').post('/api/data/deal', { name: 'C-olivia' }), 201);
      expect(created).toMatchObject({ owner_id: people.olivia.id, created_by: people.olivia.id });
      const graph = await gql(
        'olivia',
        'mutation { createDeal(input: { name: "C-olivia-gql" }) { ownerId createdBy } }',
      );
      expect(graph.body.data?.createDeal, JSON.stringify(graph.body)).toEqual({
        ownerId: people.olivia.id,
        createdBy: people.olivia.id,
      });
      expectProblem(
        await as('olivia').post('/api/data/deal', { name: 'C-olivia-for-uma', owner_id: people.uma.id }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      // team create without assign: a teammate as owner is still someone else
      expectProblem(
        await as('tess').post('/api/data/deal', { name: 'C-tess-for-uma', owner_id: people.uma.id }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      expect(await countNamed('C-olivia-for-uma')).toBe(0);
      expect(await countNamed('C-tess-for-uma')).toBe(0);
      // with assign (and create all) it is allowed
      const assigned = expectStatus(
        await as('alan').post('/api/data/deal', { name: 'C-alan-for-olivia', owner_id: people.olivia.id }),
        201,
      );
      expect(assigned).toMatchObject({ owner_id: people.olivia.id, created_by: people.alan.id });
      expect(expectStatus(await as('olivia').get(`/api/data/deal/${assigned.id}`), 200).name).toBe('C-alan-for-olivia');
    });

    it('changing owner_id needs assign on the record; with it the record moves away from its owner', async () => {
      const umas = await newDeal(people.uma.id);
      expectProblem(
        await as('tess').patch(`/api/data/deal/${umas.id}`, { owner_id: people.tess.id }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      expect((await stored(umas.id))!).toMatchObject({ owner_id: people.uma.id, version: 1 });

      const olivias = await newDeal(people.olivia.id);
      expectStatus(await as('olivia').get(`/api/data/deal/${olivias.id}`), 200);
      expectProblem(
        await as('olivia').patch(`/api/data/deal/${olivias.id}`, { owner_id: people.uma.id }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      const moved = expectStatus(
        await as('alan').patch(`/api/data/deal/${olivias.id}`, { owner_id: people.uma.id }),
        200,
      );
      expect(moved.owner_id).toBe(people.uma.id);
      expectProblem(await as('olivia').get(`/api/data/deal/${olivias.id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expect(await listNames('olivia', `name eq '${olivias.name}'`)).toEqual([]);
      expectStatus(await as('uma').get(`/api/data/deal/${olivias.id}`), 200);
    });
  });

  describe('append and appendTo', () => {
    it('a lookup to a record outside appendTo is refused exactly like a missing one', async () => {
      const olivias = await newDeal(people.olivia.id);
      // Olivia reads every account, but may append only to her own
      expectStatus(await as('olivia').get(`/api/data/account/${accounts.alan}`), 200);
      const hidden = await as('olivia').patch(`/api/data/deal/${olivias.id}`, { account: accounts.alan });
      const missing = await as('olivia').patch(`/api/data/deal/${olivias.id}`, { account: randomUUID() });
      expectProblem(hidden, 422, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND', '/account');
      expectProblem(missing, 422, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND', '/account');
      expect(hidden.body).toEqual(missing.body);
      expect((await stored(olivias.id))!).toMatchObject({ account: null, version: 1 });

      const createHidden = await as('olivia').post('/api/data/deal', { name: 'AP-hidden', account: accounts.alan });
      const createMissing = await as('olivia').post('/api/data/deal', { name: 'AP-missing', account: randomUUID() });
      expectProblem(createHidden, 422, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND', '/account');
      expectProblem(createMissing, 422, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND', '/account');
      expect(createHidden.body).toEqual(createMissing.body);
      expect(await countNamed('AP-hidden')).toBe(0);

      const inside = expectStatus(
        await as('olivia').patch(`/api/data/deal/${olivias.id}`, { account: accounts.olivia }),
        200,
      );
      expect(inside.account).toBe(accounts.olivia);
      expectStatus(await as('olivia').post('/api/data/deal', { name: 'AP-inside', account: accounts.olivia }), 201);
      // GraphQL: the same refusal
      const graph = await gql(
        'olivia',
        'mutation($id: ID!, $a: ID!) { updateDeal(id: $id, input: { accountId: $a }) { id } }',
        { id: olivias.id, a: accounts.alan },
      );
      expect(gqlCode(graph), JSON.stringify(graph.body)).toBe('XRM_ERR_RECORD_REFERENCE_NOT_FOUND');
      // team appendTo reaches a teammate's account
      const tesss = await newDeal(people.tess.id);
      expectStatus(await as('tess').patch(`/api/data/deal/${tesss.id}`, { account: accounts.tess }), 200);
      expectProblem(
        await as('tess').patch(`/api/data/deal/${tesss.id}`, { account: accounts.olivia }),
        422,
        'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
      );
    });
  });

  describe('shares', () => {
    it('shares only rights the sharer holds, with themselves too', async () => {
      const mine = await newDeal(people.olivia.id);
      const share = (rights: string[], principal = { user: people.nora.id }) =>
        as('olivia').post(`/api/data/deal/${mine.id}/share`, { principal, rights });
      // Olivia has no assign: she cannot hand it on, nor give herself more than she has
      const refused = await share(['read', 'assign']);
      expectProblem(refused, 403, 'XRM_ERR_FORBIDDEN');
      expect(refused.body.detail).toContain('only share rights you hold');
      expectProblem(await share(['assign'], { user: people.olivia.id }), 403, 'XRM_ERR_FORBIDDEN');
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.shares
        WHERE record_id = ${mine.id}`.execute(db());
      expect(rows[0]!.n).toBe(0);
      expectStatus(await share(['read', 'update']), 200);
    });

    it('grants read, then update, then withdraws, on one record for one user', async () => {
      const deal = await newDeal(people.olivia.id, { name: 'S-user' });
      const url = `/api/data/deal/${deal.id}`;
      expectProblem(await as('nora').get(url), 404, 'XRM_ERR_RECORD_NOT_FOUND');

      const shared = expectStatus(
        await as('olivia').post(`${url}/share`, { principal: { user: people.nora.id }, rights: ['read'] }),
        200,
      );
      expect(shared.data).toEqual([
        { principal: { user: people.nora.id }, rights: ['read'], createdAt: expect.any(String) },
      ]);
      expect(expectStatus(await as('olivia').get(`${url}/shares`), 200).data).toEqual(shared.data);
      expect(expectStatus(await as('nora').get(url), 200).name).toBe('S-user');
      expect(await listNames('nora', "name eq 'S-user'")).toEqual(['S-user']);
      expectProblem(await as('nora').patch(url, { region: 'amer' }), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await as('nora').delete(url), 403, 'XRM_ERR_FORBIDDEN');
      expect((await stored(deal.id))!).toMatchObject({ region: 'emea', version: 1 });

      expectStatus(
        await as('olivia').post(`${url}/share`, { principal: { user: people.nora.id }, rights: ['read', 'update'] }),
        200,
      );
      expect(expectStatus(await as('nora').patch(url, { region: 'amer' }), 200)).toMatchObject({
        region: 'amer',
        version: 2,
      });

      const withdrawn = expectStatus(
        await as('olivia').post(`${url}/share`, { principal: { user: people.nora.id }, rights: [] }),
        200,
      );
      expect(withdrawn.data).toEqual([]);
      expectProblem(await as('nora').get(url), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expectProblem(await as('nora').patch(url, { region: 'apac' }), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expect(await listNames('nora', "name eq 'S-user'")).toEqual([]);
    });

    it('a share of update or delete without read leaves the record invisible: 404, nothing changed', async () => {
      const deal = await newDeal(people.olivia.id, { name: 'S-blind' });
      const url = `/api/data/deal/${deal.id}`;
      expectStatus(
        await as('olivia').post(`${url}/share`, { principal: { user: people.nora.id }, rights: ['update', 'delete'] }),
        200,
      );
      expectProblem(await as('nora').get(url), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      const updated = await as('nora').patch(url, { region: 'amer' });
      const deleted = await as('nora').delete(url);
      expect({ update: updated.status, delete: deleted.status }, `${updated.text} / ${deleted.text}`).toEqual({
        update: 404,
        delete: 404,
      });
      expect((await stored(deal.id))!).toMatchObject({ region: 'emea', version: 1 });
    });

    it('needs the share privilege on a readable record: 403 without it, 404 for a record one cannot read', async () => {
      const umas = await newDeal(people.uma.id);
      const olivias = await newDeal(people.olivia.id);
      const share = { principal: { user: people.nora.id }, rights: ['read'] };
      // Tess reads Uma's record but holds no share privilege
      expectProblem(await as('tess').post(`/api/data/deal/${umas.id}/share`, share), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(
        await as('tess').post(`/api/data/deal/${olivias.id}/share`, share),
        404,
        'XRM_ERR_RECORD_NOT_FOUND',
      );
      expectProblem(await as('tess').get(`/api/data/deal/${olivias.id}/shares`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      // Olivia may share her own records only (share own)
      expectProblem(await as('olivia').post(`/api/data/deal/${umas.id}/share`, share), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.shares
        WHERE record_id IN (${umas.id}, ${olivias.id})`.execute(db());
      expect(rows[0]!.n).toBe(0);
      expectProblem(await as('nora').get(`/api/data/deal/${umas.id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    });

    it('a share with a team reaches its members', async () => {
      const deal = await newDeal(people.olivia.id, { name: 'S-team' });
      const url = `/api/data/deal/${deal.id}`;
      expectProblem(await as('tess').get(url), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expectStatus(await as('olivia').post(`${url}/share`, { principal: { team: north }, rights: ['read'] }), 200);
      for (const member of ['tess', 'uma', 'sam'] as const) {
        expect(expectStatus(await as(member).get(url), 200).name, member).toBe('S-team');
        expect(await listNames(member, "name eq 'S-team'"), member).toEqual(['S-team']);
      }
      const graph = await gql('uma', 'query($id: ID!) { deal(id: $id) { name } }', { id: deal.id });
      expect(graph.body.data?.deal, JSON.stringify(graph.body)).toEqual({ name: 'S-team' });
      expectProblem(await as('nora').get(url), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expectProblem(await as('tess').patch(url, { region: 'amer' }), 403, 'XRM_ERR_FORBIDDEN');
    });
  });

  describe('row rules', () => {
    it('matches nothing through ne or nin on an attribute the user lacks (never everything)', async () => {
      const role = {
        name: 'deal_not_blocked',
        privileges: [{ entity: 'deal', read: 'all' }],
        rowRules: [
          { entity: 'deal', privilege: 'read', filter: { region: { ne: '$user.blocked' } } },
          { entity: 'deal', privilege: 'read', filter: { region: { nin: '$user.blocked_list' } } },
        ],
      };
      expectStatus(await admin().post('/api/roles', role), 201);
      const user = { email: 'ned@example.com', password: 'ned-not-blocked' };
      const ned = expectStatus(await admin().post('/api/users', { ...user, roles: ['deal_not_blocked'] }), 201);
      const sign = async () =>
        api(get().app, expectStatus(await api(get().app, null).post('/api/auth/login', user), 200).token);
      const names = async () =>
        (
          expectStatus(await (await sign()).get(`/api/data/deal?${new URLSearchParams({ filter: MATRIX })}`), 200)
            .data as { name: string }[]
        ).map((d) => d.name);
      expect(await names()).toEqual([]);
      const attributes = { blocked: 'apac', blocked_list: ['apac'] };
      expectStatus(await admin().patch(`/api/users/${ned.id}`, { attributes }), 200);
      const { rows } = await sql<{ name: string }>`SELECT name FROM data.deal
        WHERE name LIKE 'M-%' AND region IS DISTINCT FROM 'apac' AND region IS NOT NULL`.execute(db());
      expect(sorted(await names())).toEqual(sorted(rows.map((r) => r.name)));
    });

    it('narrows reads by a user attribute, effective on the next request after the attribute changes', async () => {
      expect(await listNames('rita')).toEqual(['M-olivia', 'M-tess']);
      expectProblem(await as('rita').get(`/api/data/deal/${deals['M-uma']}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      const count = expectStatus(
        await as('rita').get(`/api/data/deal/aggregate?${new URLSearchParams({ filter: MATRIX })}`),
        200,
      );
      expect(count.data).toEqual([{ count: 2 }]);
      expectStatus(await admin().patch(`/api/users/${people.rita.id}`, { attributes: { region: 'amer' } }), 200);
      expect(await listNames('rita')).toEqual(['M-team', 'M-uma']);
      expectStatus(await as('rita').get(`/api/data/deal/${deals['M-uma']}`), 200);
      const graph = await gql('rita', '{ deals(filter: { name: { startsWith: "M-" } }) { totalCount } }');
      expect(graph.body.data?.deals.totalCount, JSON.stringify(graph.body)).toBe(2);
      expectStatus(await admin().patch(`/api/users/${people.rita.id}`, { attributes: { region: 'emea' } }), 200);
      expect(await listNames('rita')).toEqual(['M-olivia', 'M-tess']);
    });

    it('compiles a rule through a lookup inside the one statement, at the root and in expansions', async () => {
      const role = {
        name: 'deal_by_account',
        privileges: [
          { entity: 'deal', read: 'all' },
          { entity: 'account', read: 'all' },
        ],
        rowRules: [{ entity: 'deal', privilege: 'read', filter: { account: { name: { eq: 'A-olivia' } } } }],
      };
      expectStatus(await admin().post('/api/roles', role), 201);
      const user = { email: 'ada@example.com', password: 'ada-account-rule' };
      expectStatus(await admin().post('/api/users', { ...user, roles: ['deal_by_account'] }), 201);
      const ada = api(get().app, expectStatus(await api(get().app, null).post('/api/auth/login', user), 200).token);
      const { rows } = await sql<{
        name: string;
      }>`SELECT d.name FROM data.deal d JOIN data.account a ON a.id = d.account
        WHERE a.name = 'A-olivia' AND d.name LIKE 'M-%' ORDER BY d.name`.execute(db());
      expect(rows.length).toBeGreaterThan(0);
      const list = expectStatus(await ada.get(`/api/data/deal?${new URLSearchParams({ filter: MATRIX })}`), 200);
      expect(sorted(list.data.map((r: any) => r.name))).toEqual(rows.map((r) => r.name));
      // the same rule where deals are expanded from their account
      const accounts = expectStatus(await ada.get('/api/data/account?expand=deals(select=name)&limit=200'), 200);
      const expanded = accounts.data
        .flatMap((a: any) => a.deals.map((d: any) => d.name))
        .filter((n: string) => n.startsWith('M-'));
      expect(sorted(expanded)).toEqual(rows.map((r) => r.name));
    });

    it('refuses a schema change that would break a row rule; roles follow what a change removes', async () => {
      // deal_region's rules name deal.region: dropping it would silently widen Rita's reads
      const refused = await admin().delete('/api/metadata/entities/deal/fields/region');
      expectProblem(refused, 422, 'XRM_ERR_METADATA_CHANGE_REFUSED');
      expect(refused.body.errors.map((e: { path: string }) => e.path)).toContain('/roles/deal_region/rowRules/0');
      const deal = expectStatus(await admin().get('/api/metadata/entities/deal'), 200);
      expect(deal.fields.map((f: { name: string }) => f.name)).toContain('region');
      expect(await listNames('rita')).toEqual(['M-olivia', 'M-tess']);
      // privileges on an entity that goes are removed with it (that only narrows)
      const scratch = { name: 'scratch', fields: [{ name: 'name', type: 'text' }] };
      expectStatus(await admin().post('/api/metadata/entities', scratch), 201);
      const role = {
        name: 'scratch_reader',
        privileges: [
          { entity: 'scratch', read: 'all' },
          { entity: 'deal', read: 'own' },
        ],
      };
      expectStatus(await admin().post('/api/roles', role), 201);
      expectStatus(await admin().delete('/api/metadata/entities/scratch'), 204);
      const after = expectStatus(await admin().get('/api/roles/scratch_reader'), 200);
      expect(after.privileges).toEqual([{ entity: 'deal', read: 'own' }]);
    });

    /** Runs `body` while Rita's region attribute is `region`, then puts emea back. */
    const inRegion = async (region: string, body: () => Promise<void>) => {
      expectStatus(await admin().patch(`/api/users/${people.rita.id}`, { attributes: { region } }), 200);
      try {
        await body();
      } finally {
        await admin().patch(`/api/users/${people.rita.id}`, { attributes: { region: 'emea' } });
      }
    };

    it('narrows updates and deletes by a rule on that privilege', async () => {
      const emea = await newDeal(people.alan.id, { region: 'emea' });
      const amer = await newDeal(people.alan.id, { region: 'amer' });
      expectStatus(await as('rita').patch(`/api/data/deal/${emea.id}`, { name: 'R-emea' }), 200);
      // while Rita is in amer she reads the amer record, but the update and delete rules reach emea only
      await inRegion('amer', async () => {
        expectStatus(await as('rita').get(`/api/data/deal/${amer.id}`), 200);
        expectProblem(
          await as('rita').patch(`/api/data/deal/${amer.id}`, { name: 'R-amer' }),
          403,
          'XRM_ERR_FORBIDDEN',
        );
        expectProblem(await as('rita').delete(`/api/data/deal/${amer.id}`), 403, 'XRM_ERR_FORBIDDEN');
        const graph = await gql('rita', 'mutation($id: ID!) { updateDeal(id: $id, input: { name: "R-g" }) { id } }', {
          id: amer.id,
        });
        expect(gqlCode(graph), JSON.stringify(graph.body)).toBe('XRM_ERR_FORBIDDEN');
      });
      expect((await stored(amer.id))!).toMatchObject({ name: amer.name, version: 1 });
      expect((await stored(emea.id))!).toMatchObject({ name: 'R-emea', version: 2 });
      expect((await as('rita').delete(`/api/data/deal/${emea.id}`)).status).toBe(204);
      expect(await stored(emea.id)).toBeUndefined();
    });

    it('answers 404 to an update or delete of a record outside read, even where their rules reach it', async () => {
      const emea = await newDeal(people.alan.id, { region: 'emea' });
      await inRegion('amer', async () => {
        expectProblem(await as('rita').get(`/api/data/deal/${emea.id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
        const updated = await as('rita').patch(`/api/data/deal/${emea.id}`, { name: 'R-hidden' });
        const deleted = await as('rita').delete(`/api/data/deal/${emea.id}`);
        expect({ update: updated.status, delete: deleted.status }, `${updated.text} / ${deleted.text}`).toEqual({
          update: 404,
          delete: 404,
        });
        expectProblem(updated, 404, 'XRM_ERR_RECORD_NOT_FOUND');
        expectProblem(deleted, 404, 'XRM_ERR_RECORD_NOT_FOUND');
      });
      expect((await stored(emea.id))!).toMatchObject({ name: emea.name, version: 1 });
    });

    it('$user.teams: a member reads the records their teams own', async () => {
      expect(await listNames('sam')).toEqual(['M-team']);
      expectProblem(await as('sam').get(`/api/data/deal/${deals['M-tess']}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expectStatus(await as('sam').get(`/api/data/deal/${deals['M-team']}`), 200);
    });

    it('refuses a rule that does not compile when the role is saved, naming the path', async () => {
      const role = (filter: unknown) => ({
        name: `broken_${++seq}`,
        privileges: [{ entity: 'deal', read: 'all' }],
        rowRules: [{ entity: 'deal', privilege: 'read', filter }],
      });
      const cases: [unknown, string][] = [
        [{ nope: { eq: 1 } }, '/rowRules/0/filter/nope'],
        [{ region: { near: 'x' } }, '/rowRules/0/filter/region/near'],
        [{ region: { contains: '$user.region' } }, '/rowRules/0/filter/region/contains'],
        [{ region: { eq: '$user.teams' } }, '/rowRules/0/filter/region/eq'],
      ];
      for (const [filter, path] of cases) {
        const body = role(filter);
        const reply = expectProblem(await admin().post('/api/roles', body), 400, 'XRM_ERR_REQUEST_INVALID');
        expect(reply.body.errors, JSON.stringify(filter)).toEqual([{ path, message: expect.any(String) }]);
        expectProblem(await admin().get(`/api/roles/${body.name}`), 404, 'XRM_ERR_ROLE_NOT_FOUND');
      }
      // replacing a role with a broken rule is refused and leaves it as it was
      const before = expectStatus(await admin().get('/api/roles/deal_region'), 200);
      expectProblem(
        await admin().put('/api/roles/deal_region', {
          ...ROLES.deal_region,
          name: 'deal_region',
          rowRules: [{ entity: 'deal', privilege: 'read', filter: { nope: { eq: '$user.region' } } }],
        }),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/rowRules/0/filter/nope',
      );
      expect(expectStatus(await admin().get('/api/roles/deal_region'), 200)).toEqual(before);
    });
  });

  describe('secured fields', () => {
    const id = () => deals['M-olivia']!;

    it('leaves a field the role cannot read out of REST answers', async () => {
      const got = expectStatus(await as('olivia').get(`/api/data/deal/${id()}`), 200);
      expect(got.name).toBe('M-olivia');
      expect(got).not.toHaveProperty('amount');
      expect(got).not.toHaveProperty('notes');
      const listed = expectStatus(await as('olivia').get('/api/data/deal'), 200);
      expect(listed.data.length).toBeGreaterThan(0);
      for (const record of listed.data) {
        expect(record).not.toHaveProperty('amount');
        expect(record).not.toHaveProperty('notes');
      }
      const created = expectStatus(await as('olivia').post('/api/data/deal', { name: 'F-created' }), 201);
      expect(created).not.toHaveProperty('amount');
      const updated = expectStatus(await as('olivia').patch(`/api/data/deal/${created.id}`, { region: 'amer' }), 200);
      expect(updated).not.toHaveProperty('amount');
      // an expansion into deals hides it too
      const account = expectStatus(await as('olivia').get(`/api/data/account/${accounts.olivia}?expand=deals`), 200);
      expect(account.deals.map((d: any) => d.name)).toContain('M-olivia');
      for (const deal of account.deals) expect(deal).not.toHaveProperty('amount');
      // its history shows no change of it
      const history = expectStatus(await as('olivia').get(`/api/data/deal/${id()}/history`), 200);
      const fieldsIn = (page: any) => page.data.flatMap((e: any) => e.changes.map((c: any) => c.field));
      expect(fieldsIn(history)).toContain('name');
      expect(fieldsIn(history)).not.toContain('amount');
      expect(fieldsIn(history)).not.toContain('notes');
      expect(fieldsIn(expectStatus(await admin().get(`/api/data/deal/${id()}/history`), 200))).toEqual(
        expect.arrayContaining(['amount', 'notes']),
      );
      // the administrator and a role with read see it
      expect(expectStatus(await admin().get(`/api/data/deal/${id()}`), 200)).toMatchObject({
        amount: 100,
        notes: 'secret',
      });
      expect(expectStatus(await as('alan').get(`/api/data/deal/${id()}`), 200)).toMatchObject({
        amount: 100,
        notes: 'secret',
      });
    });

    it('refuses to filter, sort, search, select, expand, group or aggregate on it: 403 naming the path', async () => {
      const refused = async (path: string, query: Record<string, string>, at: string) => {
        const reply = await as('olivia').get(`${path}?${new URLSearchParams(query)}`);
        expectProblem(reply, 403, 'XRM_ERR_FIELD_FORBIDDEN');
        const paths = (reply.body.errors as { path: string }[]).map((e) => e.path);
        expect(paths, JSON.stringify(query)).toContain(at);
      };
      await refused('/api/data/deal', { filter: 'amount gt 1' }, '/filter/amount');
      await refused('/api/data/deal', { filter: JSON.stringify({ amount: { gt: 1 } }) }, '/filter/amount');
      await refused('/api/data/deal', { sort: '-amount' }, '/sort/0');
      await refused('/api/data/deal', { search: 'secret' }, '/search');
      await refused('/api/data/deal', { select: 'name,amount' }, '/select/1');
      await refused(`/api/data/deal/${id()}`, { select: 'amount' }, '/select/0');
      await refused('/api/data/deal/aggregate', { groupBy: 'amount' }, '/groupBy/0');
      await refused('/api/data/deal/aggregate', { aggregate: 'count,sum(amount)' }, '/aggregate/1');
      await refused(`/api/data/account/${accounts.olivia}`, { expand: 'deals(select=amount)' }, '/expand/0/select/0');
      await refused('/api/data/account', { filter: 'deals some (amount gt 1)' }, '/filter/deals/some/amount');
      // the same requests are fine for a role that reads it
      expectStatus(await as('alan').get(`/api/data/deal?${new URLSearchParams({ filter: 'amount gt 1' })}`), 200);
      expectStatus(await as('alan').get(`/api/data/deal?${new URLSearchParams({ search: 'secret' })}`), 200);
    });

    it("is absent from the caller's GraphQL schema: naming it invalid, aggregating or searching it 403", async () => {
      // introspection: the Deal type and its filter and order inputs have no amount for Olivia; Alan's have it
      const typeQuery = '{ __type(name: "Deal") { fields { name } } }';
      const fieldsOf = (reply: { body: any }) => reply.body.data.__type.fields.map((f: { name: string }) => f.name);
      expect(fieldsOf(await gql('olivia', typeQuery))).not.toContain('amount');
      expect(fieldsOf(await gql('olivia', typeQuery))).toContain('name');
      expect(fieldsOf(await gql('alan', typeQuery))).toContain('amount');
      const invalid = async (query: string, variables?: Record<string, unknown>) => {
        const reply = await gql('olivia', query, variables);
        expect(reply.status, JSON.stringify(reply.body)).toBe(400);
        expect(reply.body.data ?? null).toBeNull();
        expect(JSON.stringify(reply.body.errors)).toContain('amount');
        expect(JSON.stringify(reply.body)).not.toContain('100');
      };
      await invalid('query($id: ID!) { deal(id: $id) { name amount } }', { id: id() });
      await invalid('{ deals(filter: { amount: { gt: 1 } }) { nodes { name } } }');
      await invalid('{ deals(orderBy: [{ amount: DESC }]) { nodes { name } } }');
      await invalid('query($id: ID!) { account(id: $id) { name deals { nodes { name amount } } } }', {
        id: accounts.olivia,
      });
      // names inside strings reach the query engine, which refuses them with the path
      const summed = await gql('olivia', '{ dealsAggregate(aggregate: ["sum(amount)"]) }');
      expect(gqlCode(summed), JSON.stringify(summed.body)).toBe('XRM_ERR_FIELD_FORBIDDEN');
      expect(summed.body.errors[0].extensions.status).toBe(403);
      const grouped = await gql('olivia', '{ dealsAggregate(groupBy: ["amount"], aggregate: ["count"]) }');
      expect(gqlCode(grouped), JSON.stringify(grouped.body)).toBe('XRM_ERR_FIELD_FORBIDDEN');
      const searched = await gql('olivia', '{ deals(search: "secret") { nodes { name } } }');
      expect(gqlCode(searched), JSON.stringify(searched.body)).toBe('XRM_ERR_FIELD_FORBIDDEN');
      const plain = await gql('olivia', 'query($id: ID!) { deal(id: $id) { name } }', { id: id() });
      expect(plain.body).toEqual({ data: { deal: { name: 'M-olivia' } } });
      const alans = await gql('alan', 'query($id: ID!) { deal(id: $id) { name amount } }', { id: id() });
      expect(alans.body).toEqual({ data: { deal: { name: 'M-olivia', amount: 100 } } });
    });

    it("is absent from the caller's OpenAPI document, JSON Schema, TypeScript and metadata", async () => {
      const doc = (await as('olivia').get('/openapi.json')).body;
      expect(Object.keys(doc.components.schemas.Deal.properties)).not.toContain('amount');
      expect(Object.keys((await as('alan').get('/openapi.json')).body.components.schemas.Deal.properties)).toContain(
        'amount',
      );
      const schema = (await as('olivia').get('/api/metadata/entities/deal/schema?variant=read')).body;
      expect(Object.keys(schema.properties)).not.toContain('amount');
      expect((await as('olivia').get('/api/metadata/typescript')).text).not.toMatch(/\bamount\b/);
      const entity = (await as('olivia').get('/api/metadata/entities/deal')).body;
      expect(entity.fields.map((f: { name: string }) => f.name)).not.toContain('amount');
      expect((await api(get().app, null).get('/openapi.json')).status).toBe(401);
    });

    it("names no hidden field through the caller's alternate keys and indexes", async () => {
      const scratch = {
        name: 'keyed',
        fields: [
          { name: 'code', type: 'text' },
          { name: 'badge', type: 'text', secured: true },
        ],
      };
      expectStatus(await admin().post('/api/metadata/entities', scratch), 201);
      for (const [name, fields] of [
        ['by_code', ['code']],
        ['by_badge', ['badge']],
        ['by_both', ['code', 'badge']],
      ])
        expectStatus(await admin().post('/api/metadata/entities/keyed/keys', { name, fields }), 201);
      expectStatus(
        await admin().post('/api/metadata/entities/keyed/indexes', { name: 'ix_badge', fields: ['badge'] }),
        201,
      );
      const keysOf = (body: { alternateKeys?: { name: string }[] }) => (body.alternateKeys ?? []).map((k) => k.name);
      const seen = expectStatus(await as('olivia').get('/api/metadata/entities/keyed'), 200);
      expect(keysOf(seen)).toEqual(['by_code']);
      expect(seen.indexes ?? []).toEqual([]);
      expect(JSON.stringify(seen)).not.toContain('badge');
      const listed = expectStatus(await as('olivia').get('/api/metadata/entities'), 200);
      expect(JSON.stringify(listed)).not.toContain('badge');
      expect(keysOf(expectStatus(await admin().get('/api/metadata/entities/keyed'), 200))).toEqual([
        'by_code',
        'by_badge',
        'by_both',
      ]);
      expectStatus(await admin().delete('/api/metadata/entities/keyed'), 204);
    });

    it('refuses writing it without update (403 naming /amount, nothing written); read without update too', async () => {
      const refusedCreate = await as('olivia').post('/api/data/deal', { name: 'F-amount', amount: 5 });
      expectProblem(refusedCreate, 403, 'XRM_ERR_FIELD_FORBIDDEN', '/amount');
      expect(await countNamed('F-amount')).toBe(0);
      const before = await stored(id());
      expectProblem(
        await as('olivia').patch(`/api/data/deal/${id()}`, { amount: 5 }),
        403,
        'XRM_ERR_FIELD_FORBIDDEN',
        '/amount',
      );
      // Alan reads amount but may not update it; notes he may
      expectProblem(
        await as('alan').patch(`/api/data/deal/${id()}`, { amount: 5 }),
        403,
        'XRM_ERR_FIELD_FORBIDDEN',
        '/amount',
      );
      expectProblem(
        await as('alan').post('/api/data/deal', { name: 'F-alan', amount: 5 }),
        403,
        'XRM_ERR_FIELD_FORBIDDEN',
        '/amount',
      );
      expect(await countNamed('F-alan')).toBe(0);
      const graph = await gql('alan', 'mutation($id: ID!) { updateDeal(id: $id, input: { amount: 5 }) { id } }', {
        id: id(),
      });
      expect(gqlCode(graph), JSON.stringify(graph.body)).toBe('XRM_ERR_FIELD_FORBIDDEN');
      expect(await stored(id())).toEqual(before);
      const own = await newDeal(people.alan.id);
      expect(expectStatus(await as('alan').patch(`/api/data/deal/${own.id}`, { notes: 'visible' }), 200)).toMatchObject(
        { notes: 'visible', amount: 10 },
      );
      // the administrator writes it
      expect(expectStatus(await admin().patch(`/api/data/deal/${own.id}`, { amount: 7 }), 200)).toMatchObject({
        amount: 7,
      });
    });
  });

  describe('roles, API privileges, explanations and keys', () => {
    it('routes as the router does: percent-encoded paths are no way around credentials or privileges', async () => {
      const anonymous = api(get().app, null);
      for (const url of ['/%61pi/users', '/api/%75sers', '/%6Fpenapi.json', '/api/data/%64eal'])
        expectProblem(await anonymous.get(url), 401, 'XRM_ERR_AUTH_REQUIRED');
      expect((await anonymous.post('/%67raphql', { query: '{ __typename }' })).status).toBe(401);
      const nora = as('nora');
      expectProblem(await nora.get('/api/%75sers'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await nora.get('/%61pi/roles'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await nora.post('/api/%6Detadata/entities', { name: 'sneaky' }), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await nora.get('/api/metadata/%63hanges'), 403, 'XRM_ERR_FORBIDDEN');
      // a caller whose fields are hidden gets their own GraphQL schema whatever the spelling
      const olivia = await as('olivia').post('/%67raphql', { query: '{ __type(name: "Deal") { fields { name } } }' });
      expect(olivia.body.data.__type.fields.map((f: { name: string }) => f.name)).not.toContain('amount');
    });

    it('takes a removed role away on the next request', async () => {
      expect(await listNames('rob')).toEqual(VISIBLE.alan);
      expectStatus(await admin().patch(`/api/users/${people.rob.id}`, { roles: [] }), 200);
      expect(await listNames('rob')).toEqual([]);
      expect(expectStatus(await as('rob').get('/api/data/deal'), 200).data).toEqual([]);
      expectProblem(await as('rob').get(`/api/data/deal/${deals['M-alan']}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      const me = expectStatus(await as('rob').get('/api/auth/me'), 200);
      expect(me.roles).toEqual([]);
      expect(me.privileges.entities.deal.read).toBe('none');
      expectProblem(await as('rob').post('/api/data/deal', { name: 'C-rob' }), 403, 'XRM_ERR_FORBIDDEN');
    });

    it('refuses the platform APIs without their privilege; reading metadata is open', async () => {
      const nora = as('nora');
      expectProblem(
        await nora.post('/api/metadata/entities', { name: 'sneaky', fields: [{ name: 'x', type: 'text' }] }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      expectProblem(await nora.get('/api/users'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(
        await nora.patch(`/api/users/${people.nora.id}`, { roles: ['deal_all'] }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      expectProblem(await nora.get('/api/roles'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await nora.get('/api/teams'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await nora.get('/api/jobs'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await nora.get('/api/plugins'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await nora.get('/api/webhooks'), 403, 'XRM_ERR_FORBIDDEN');
      const entities = expectStatus(await nora.get('/api/metadata/entities'), 200);
      expect(JSON.stringify(entities)).toContain('"deal"');
      expect((await admin().get('/api/metadata/entities/sneaky')).status).toBe(404);
      expect(expectStatus(await admin().get(`/api/users/${people.nora.id}`), 200).roles).toEqual(['account_reader']);
    });

    it('GET /api/auth/me shows each level, the roles, teams and secured fields', async () => {
      const levels = async (who: Name) => {
        const me = expectStatus(await as(who).get('/api/auth/me'), 200);
        return me;
      };
      const olivia = await levels('olivia');
      expect(olivia).toMatchObject({
        user: { id: people.olivia.id, email: people.olivia.email },
        principal: { kind: 'user', id: people.olivia.id },
        roles: ['deal_own'],
        teams: [],
        privileges: { metadata: false, users: false, plugins: false },
      });
      expect(olivia.privileges.entities.deal).toEqual({
        create: 'own',
        read: 'own',
        update: 'own',
        delete: 'own',
        append: 'own',
        appendTo: 'none',
        assign: 'none',
        share: 'own',
      });
      expect(olivia.privileges.entities.account).toMatchObject({ create: 'own', read: 'all', appendTo: 'own' });
      // the secured fields hidden from her are not named to her
      expect(olivia.fields).toEqual({});
      const tess = await levels('tess');
      expect(tess.teams).toEqual([{ id: north, name: 'north' }]);
      expect(tess.privileges.entities.deal).toMatchObject({ read: 'team', update: 'team', delete: 'own' });
      const alan = await levels('alan');
      expect(alan.privileges.entities.deal).toMatchObject({ read: 'all', assign: 'all', share: 'all' });
      expect(alan.fields.deal).toEqual({ amount: { read: true, update: false }, notes: { read: true, update: true } });
      const nora = await levels('nora');
      expect(Object.values(nora.privileges.entities.deal)).toEqual(Array(8).fill('none'));
      expect(nora.privileges.entities.account.read).toBe('all');
      const root = expectStatus(await admin().get('/api/auth/me'), 200);
      expect(root.privileges).toMatchObject({ metadata: true, users: true, plugins: true });
      expect(root.privileges.entities.deal.delete).toBe('all');
    });

    it('explains allowed and denied with the role, and gives no hint for a record one cannot see', async () => {
      const explain = (id: string) =>
        as('olivia').get(`/api/security/explain?${new URLSearchParams({ entity: 'deal', id })}`);
      const own = expectStatus(await explain(deals['M-olivia']!), 200);
      expect(own).toMatchObject({ entity: 'deal', id: deals['M-olivia'] });
      expect(own.privileges.read).toMatchObject({ allowed: true, role: 'deal_own', level: 'own' });
      expect(own.privileges.update).toMatchObject({ allowed: true, role: 'deal_own', level: 'own' });
      expect(own.privileges.assign.allowed).toBe(false);
      expect(own.privileges.appendTo.allowed).toBe(false);
      // fields hidden from her are not named to her
      expect(own.hiddenFields).toEqual([]);
      const outside = expectStatus(await explain(deals['M-alan']!), 200);
      const random = expectStatus(await explain(randomUUID()), 200);
      for (const privilege of ['read', 'update', 'delete', 'share'])
        expect(outside.privileges[privilege].allowed, privilege).toBe(false);
      const { id: _a, ...outsideRest } = outside;
      const { id: _b, ...randomRest } = random;
      expect(outsideRest).toEqual(randomRest);
      // Tess: read by the team level, delete denied (delete own) on Uma's record
      const tess = expectStatus(
        await as('tess').get(`/api/security/explain?${new URLSearchParams({ entity: 'deal', id: deals['M-uma']! })}`),
        200,
      );
      expect(tess.privileges.read).toMatchObject({ allowed: true, role: 'deal_team', level: 'team' });
      expect(tess.privileges.delete.allowed).toBe(false);
      expect(tess.privileges.delete.reason).toEqual(expect.stringContaining('deal_team'));
      // a row rule shows as such
      const rita = expectStatus(
        await as('rita').get(
          `/api/security/explain?${new URLSearchParams({ entity: 'deal', id: deals['M-olivia']! })}`,
        ),
        200,
      );
      expect(rita.privileges.read).toMatchObject({ allowed: true, role: 'deal_region', rule: true });
      // an administrator asks on Olivia's behalf (Dataverse's check access); she may not ask for Alan
      const onBehalf = new URLSearchParams({ entity: 'deal', id: deals['M-olivia']!, user: people.olivia.id });
      const forOlivia = expectStatus(await admin().get(`/api/security/explain?${onBehalf}`), 200);
      expect({ ...forOlivia, hiddenFields: [] }).toEqual(own);
      expect(forOlivia.hiddenFields.sort()).toEqual(['amount', 'notes']);
      const forAlan = new URLSearchParams({ entity: 'deal', id: deals['M-olivia']!, user: people.alan.id });
      expectProblem(await as('olivia').get(`/api/security/explain?${forAlan}`), 403, 'XRM_ERR_FORBIDDEN');
      const nobody = new URLSearchParams({ entity: 'deal', id: deals['M-olivia']!, user: randomUUID() });
      expectProblem(await admin().get(`/api/security/explain?${nobody}`), 404, 'XRM_ERR_USER_NOT_FOUND');
    });

    it('an API key restricted to some of its user’s roles acts with those only', async () => {
      const kay = as('kay');
      expect(await listNames('kay')).toEqual(VISIBLE.alan);
      const key = expectStatus(await kay.post('/api/api-keys', { name: 'readonly', roles: ['account_reader'] }), 201);
      const asKey = api(get().app, key.key);
      const me = expectStatus(await asKey.get('/api/auth/me'), 200);
      expect(me.principal).toEqual({ kind: 'apiKey', id: key.id });
      expect(me.roles).toEqual(['account_reader']);
      expect(me.privileges.entities.deal.read).toBe('none');
      const deals_ = expectStatus(await asKey.get(`/api/data/deal?${new URLSearchParams({ filter: MATRIX })}`), 200);
      expect(deals_.data).toEqual([]);
      expectProblem(await asKey.get(`/api/data/deal/${deals['M-alan']}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      expectProblem(await asKey.post('/api/data/deal', { name: 'K-key' }), 403, 'XRM_ERR_FORBIDDEN');
      expect(await countNamed('K-key')).toBe(0);
      const accountList = expectStatus(await asKey.get('/api/data/account'), 200);
      expect(accountList.data.length).toBe(3);
      const graph = await asKey.graphql('{ deals { totalCount } }');
      expect(graph.body.data?.deals.totalCount, JSON.stringify(graph.body)).toBe(0);
      // the user's own session still has both roles; an unrestricted key too
      expect(await listNames('kay')).toEqual(VISIBLE.alan);
      const full = expectStatus(await kay.post('/api/api-keys', { name: 'full' }), 201);
      expect(expectStatus(await api(get().app, full.key).get('/api/auth/me'), 200).roles).toEqual([
        'account_reader',
        'deal_all',
      ]);
      const listed = expectStatus(await kay.get('/api/api-keys'), 200);
      expect(listed.data.find((k: any) => k.id === key.id).roles).toEqual(['account_reader']);
      // a role the user does not hold: 400
      expectProblem(
        await kay.post('/api/api-keys', { name: 'greedy', roles: ['deal_team'] }),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/roles/0',
      );
      expectProblem(
        await kay.post('/api/api-keys', { name: 'no such', roles: ['account_reader', 'nope'] }),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/roles/1',
      );
    });
  });
});
