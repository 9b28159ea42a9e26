/**
 * The attacker of the security issue (issue 8), on both databases. Mallory holds one role,
 * `deal_rep`: create, read, update, delete, append and appendTo at level `own` on `deal`, nothing
 * on `account`, no field permission (so `deal.amount` and the searchable `deal.secret_note`, both
 * `secured`, are hidden from her), no assign, no share, no platform API. Victor (`deal_manager`:
 * everything on both entities and both secured fields) owns the records she goes after; one of
 * his deals is shared with her read-only.
 *
 * Every attack asserts the exact answer (status and code), that the answer never carries a value
 * she may not see (the text is searched for the secrets, not only the parsed fields), and — by
 * reading the tables afterwards with SQL, not through the API under attack — that nothing was
 * written: data.deal, data.account, the N:N junction, xrm.audit, xrm.shares, xrm.api_keys, roles,
 * users, webhooks and the schema version.
 *
 * Covered: IDOR by id (REST and GraphQL, read, update, delete, history, share, shares, explain,
 * related lists, N:N); secured fields in filter, sort, search, select, expand, aggregate, groupBy
 * and GraphQL (aliases and fragments too); cursor tampering; expansions into an entity without
 * read (to-one, to-many, N:N, nested, sort and group keys); GraphQL alias, batch, fragment and depth
 * amplification; mass assignment (created_by, version, timestamps, id, owner_id, secured fields,
 * lookups to hidden records, bulk); upsert over the victim's alternate key; oversize bodies;
 * platform APIs without their privilege; revoked, expired, forged and restricted credentials, a
 * disabled user's live session and key, a session after a password change or sign-out; the
 * sign-in throttle; CORS from an unlisted origin. Statements are cached per role set: a second
 * user of Mallory's role must not see her records through a cached statement, nor she theirs.
 *
 * tests/hardening.test.ts proves the HTTP hardening in detail (headers, CORS, both rate limits);
 * the sign-in throttle and CORS appear here once each, as the attacker meets them.
 */
import { type RawBuilder, sql } from 'kysely';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, expect, it } from 'vitest';
import { LIMITS } from '../server/limits.ts';
import { api, type Reply } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus, leaksIn } from './support/problems.ts';

const PASSWORD = 'a long enough password';
const LOGIN_LIMIT = 5;
const LISTED = 'https://app.example';
const UNLISTED = 'https://evil.example';
/** An id no record has. */
const RANDOM = '3f2504e0-4f89-41d3-9a0c-0305e82c3399';
const ZERO_ID = '00000000-0000-0000-0000-000000000000';
const MAX_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Victor's values: none may ever reach Mallory. */
const VICTIM = {
  dealName: 'Victor Zeta Merger',
  childName: 'Victor Quokka Addendum',
  accountName: 'Acme Hidden Holdings',
  amount: '9876543.21',
  note: 'zanzibar-classified',
  sharedName: 'Victor Shared Pipeline',
  sharedAmount: '5550123.45',
  sharedNote: 'okapi-eyes-only',
};
/** Values of Mallory's own deal she may not read either: the secured fields, set by an administrator. */
const OWN_HIDDEN = { amount: '3141592.65', note: 'narwhal-restricted' };
/** Substrings no answer to Mallory may contain (decimals without their fraction: any rendering). */
const SECRETS = [
  VICTIM.dealName,
  VICTIM.childName,
  VICTIM.accountName,
  VICTIM.amount.split('.')[0]!,
  VICTIM.note,
  VICTIM.sharedAmount.split('.')[0]!,
  VICTIM.sharedNote,
  OWN_HIDDEN.amount.split('.')[0]!,
  OWN_HIDDEN.note,
];

/** base64url of a JSON value: how the API encodes its cursors (server/query/compile-read.ts). */
const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodeCursor = (cursor: string): unknown => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

interface Session {
  id: string;
  token: string;
}

describeEachDatabase(
  'attacker (security)',
  (get) => {
    const admin = () => api(get().app);
    const anonymous = () => api(get().app, null);
    const as = (token: string) => api(get().app, token);

    let mallory: Session;
    let victor: Session;
    let trudy: Session;
    const malloryHttp = () => as(mallory.token);
    const victorHttp = () => as(victor.token);

    /** Victor's records. */
    let victimAccount: any;
    let victimDeal: any;
    let victimChild: any;
    let sharedDeal: any;
    /** Mallory's own records, created by her. */
    const mine: any[] = [];
    let dealRepRole: any;

    // ---------------------------------------------------------------------------------------------
    // helpers
    // ---------------------------------------------------------------------------------------------

    async function signIn(email: string, password = PASSWORD): Promise<string> {
      return expectStatus(await anonymous().post('/api/auth/login', { email, password }), 200).token;
    }

    async function newUser(email: string, roles: string[]): Promise<Session> {
      const user = expectStatus(
        await admin().post('/api/users', { email, password: PASSWORD, displayName: email, roles }),
        201,
      );
      return { id: user.id, token: await signIn(email) };
    }

    /** The answer carries none of the values Mallory may not see, and nothing of the server's insides. */
    function expectNoSecrets(reply: Reply, label = '', extra: readonly string[] = []): void {
      const context = `${label}: ${reply.status} ${reply.text.slice(0, 1500)}`;
      for (const secret of [...SECRETS, ...extra])
        expect(reply.text.includes(secret), `${secret} in ${context}`).toBe(false);
      expect(leaksIn(reply.text), context).toEqual([]);
    }

    /** `path` names `want`: equal to it or below it (`/filter/amount/gt` names `/filter`). */
    const names = (path: string, want: string): boolean => path === want || path.startsWith(`${want}/`);

    /** A 403 XRM_ERR_FIELD_FORBIDDEN problem naming `path`, without a secret. */
    function expectFieldForbidden(reply: Reply, path: string, label = ''): void {
      const context = `${label}: ${reply.status} ${reply.text.slice(0, 1500)}`;
      expectProblem(reply, 403, 'XRM_ERR_FIELD_FORBIDDEN');
      const paths = ((reply.body.errors ?? []) as { path: string }[]).map((e) => e.path);
      expect(
        paths.some((p) => names(p, path)),
        `errors[].path should name ${path}: ${context}`,
      ).toBe(true);
      expectNoSecrets(reply, label);
    }

    /** A GraphQL answer with an error of `code` (and `status`), no data for it, no secret, never a 5xx. */
    function expectGraphqlError(reply: Reply, code: string, status: number, label = ''): any {
      const context = `${label}: ${reply.status} ${reply.text.slice(0, 1500)}`;
      expect(reply.status, context).toBeLessThan(500);
      const errors = (reply.body?.errors ?? []) as any[];
      const error = errors.find((e) => e?.extensions?.code === code);
      expect(error, context).toBeDefined();
      expect(error.extensions.status, context).toBe(status);
      expect(
        errors.filter((e) => e?.extensions?.code === 'XRM_ERR_INTERNAL'),
        context,
      ).toEqual([]);
      expectNoSecrets(reply, label);
      return error;
    }

    /** A body as the client sees it, with each of `ids` written as <id0>, <id1>… (details and instances echo them). */
    const shapeOf = (reply: Reply, ids: readonly string[]): unknown => {
      let text = reply.text;
      ids.forEach((id, i) => (text = text.replaceAll(id, `<id${i}>`)));
      return text.length ? JSON.parse(text) : text;
    };

    /**
     * The victim's record and an id no record has get the same answer: status, type and body,
     * with each pair of ids ([victim's, random]) written alike.
     */
    function expectSameAnswer(
      victim: Reply,
      random: Reply,
      ids: readonly [string, string] | readonly (readonly [string, string])[],
      label: string,
    ): void {
      const pairs = (typeof ids[0] === 'string' ? [ids] : ids) as readonly (readonly [string, string])[];
      const context =
        `${label}: victim ${victim.status} ${victim.text.slice(0, 600)} / ` +
        `random ${random.status} ${random.text.slice(0, 600)}`;
      // soft: the test goes on to read the database, and reports every difference it meets
      expect.soft(victim.status, context).toBe(random.status);
      expect.soft(String(victim.headers['content-type']), context).toBe(String(random.headers['content-type']));
      const victimShape = shapeOf(
        victim,
        pairs.map((p) => p[0]),
      );
      const randomShape = shapeOf(
        random,
        pairs.map((p) => p[1]),
      );
      expect.soft(victimShape, context).toEqual(randomShape);
    }

    const rows = async <T = any>(query: RawBuilder<T>): Promise<T[]> => (await query.execute(get().services.db)).rows;

    /** Everything an attack might write, read straight from the tables. */
    async function databaseState() {
      return {
        deals: await rows(sql`SELECT to_jsonb(t) AS r FROM data.deal t ORDER BY t.id`),
        accounts: await rows(sql`SELECT to_jsonb(t) AS r FROM data.account t ORDER BY t.id`),
        partners: await rows(sql`SELECT from_id, to_id FROM data.deal_partners ORDER BY from_id, to_id`),
        audit: await rows(sql`SELECT count(*)::int AS n, max(id)::text AS last FROM xrm.audit`),
        shares: await rows(
          sql`SELECT entity, record_id, principal_id, rights FROM xrm.shares ORDER BY record_id, principal_id`,
        ),
        keys: await rows(sql`SELECT id, user_id, revoked_at, expires_at, roles FROM xrm.api_keys ORDER BY id`),
        roles: await rows(sql`SELECT name, definition, updated_at FROM xrm.roles ORDER BY name`),
        userRoles: await rows(sql`SELECT user_id, role_id FROM xrm.user_roles ORDER BY user_id, role_id`),
        users: await rows(sql`SELECT id, email, disabled, password_hash FROM xrm.users ORDER BY id`),
        webhooks: await rows(sql`SELECT count(*)::int AS n FROM xrm.webhooks`),
        jobs: await rows(sql`SELECT count(*)::int AS n FROM xrm.jobs`),
        sessions: await rows(sql`SELECT count(*)::int AS n, count(revoked_at)::int AS revoked FROM xrm.sessions`),
        schema: await rows(sql`SELECT version FROM xrm.schema_state`),
        fields: await rows(sql`SELECT entity, name, definition FROM xrm.fields ORDER BY entity, name`),
      };
    }

    /** Runs `attack` and asserts, from the tables, that it wrote nothing at all. */
    async function writesNothing(attack: () => Promise<void>): Promise<void> {
      const before = await databaseState();
      await attack();
      expect(await databaseState()).toEqual(before);
    }

    async function dealRow(id: string): Promise<any> {
      return (await rows<{ r: any }>(sql`SELECT to_jsonb(t) AS r FROM data.deal t WHERE t.id = ${id}`))[0]?.r;
    }

    /** The audit entries about one record. */
    const auditOf = (id: string) =>
      rows(sql`SELECT id::text, entity, message, actor, changes FROM xrm.audit WHERE record_id = ${id} ORDER BY id`);

    const visibleIds = () => new Set([...mine.map((d) => d.id), sharedDeal.id]);

    // ---------------------------------------------------------------------------------------------
    // the model, the people and their records
    // ---------------------------------------------------------------------------------------------

    beforeAll(async () => {
      expectStatus(
        await admin().post('/api/metadata/entities', {
          name: 'account',
          primaryField: 'name',
          fields: [{ name: 'name', type: 'text', searchable: true }],
        }),
        201,
      );
      expectStatus(
        await admin().post('/api/metadata/entities', {
          name: 'deal',
          primaryField: 'name',
          fields: [
            { name: 'name', type: 'text', searchable: true },
            { name: 'code', type: 'text' },
            { name: 'amount', type: 'decimal', precision: 14, scale: 2, secured: true },
            { name: 'secret_note', type: 'text', searchable: true, secured: true },
            { name: 'account', type: 'lookup', target: 'account', inverseName: 'deals', onDelete: 'setNull' },
            { name: 'parent', type: 'lookup', target: 'deal', inverseName: 'children', onDelete: 'setNull' },
          ],
        }),
        201,
      );
      expectStatus(await admin().post('/api/metadata/entities/deal/keys', { name: 'code', fields: ['code'] }), 201);
      expectStatus(
        await admin().post('/api/metadata/relationships', {
          name: 'deal_partners',
          type: 'manyToMany',
          from: 'deal',
          to: 'account',
        }),
        201,
      );
      const role = (name: string, extra: Record<string, unknown>) => ({
        name,
        privileges: [],
        rowRules: [],
        fieldPermissions: [],
        metadata: false,
        users: false,
        plugins: false,
        ...extra,
      });
      dealRepRole = expectStatus(
        await admin().post(
          '/api/roles',
          role('deal_rep', {
            privileges: [
              {
                entity: 'deal',
                create: 'own',
                read: 'own',
                update: 'own',
                delete: 'own',
                append: 'own',
                appendTo: 'own',
              },
            ],
          }),
        ),
        201,
      );
      const all = Object.fromEntries(
        ['create', 'read', 'update', 'delete', 'append', 'appendTo', 'assign', 'share'].map((p) => [p, 'all']),
      );
      expectStatus(
        await admin().post(
          '/api/roles',
          role('deal_manager', {
            privileges: [
              { entity: 'deal', ...all },
              { entity: 'account', ...all },
            ],
            fieldPermissions: [
              { entity: 'deal', field: 'amount', read: true, update: true },
              { entity: 'deal', field: 'secret_note', read: true, update: true },
            ],
          }),
        ),
        201,
      );
      mallory = await newUser('mallory@example.com', ['deal_rep']);
      victor = await newUser('victor@example.com', ['deal_manager']);
      trudy = await newUser('trudy@example.com', ['deal_rep']);

      victimAccount = expectStatus(await victorHttp().post('/api/data/account', { name: VICTIM.accountName }), 201);
      victimDeal = expectStatus(
        await victorHttp().post('/api/data/deal', {
          name: VICTIM.dealName,
          code: 'V-001',
          amount: Number(VICTIM.amount),
          secret_note: VICTIM.note,
          account: victimAccount.id,
        }),
        201,
      );
      sharedDeal = expectStatus(
        await victorHttp().post('/api/data/deal', {
          name: VICTIM.sharedName,
          code: 'V-002',
          amount: Number(VICTIM.sharedAmount),
          secret_note: VICTIM.sharedNote,
        }),
        201,
      );
      expectStatus(
        await victorHttp().post(`/api/data/deal/${sharedDeal.id}/share`, {
          principal: { user: mallory.id },
          rights: ['read'],
        }),
        200,
      );
      for (const [name, code] of [
        ['Mallory pipeline A', 'M-001'],
        ['Mallory pipeline B', 'M-002'],
        ['Mallory pipeline C', 'M-003'],
      ]) {
        mine.push(expectStatus(await malloryHttp().post('/api/data/deal', { name, code }), 201));
      }
      // her first deal: secured values she cannot read, and links to Victor's account
      expectStatus(
        await admin().patch(`/api/data/deal/${mine[0].id}`, {
          amount: Number(OWN_HIDDEN.amount),
          secret_note: OWN_HIDDEN.note,
          account: victimAccount.id,
        }),
        200,
      );
      mine[0] = expectStatus(await admin().get(`/api/data/deal/${mine[0].id}`), 200);
      // Victor's child deal under hers, his deal linked to his account, hers linked to it too
      victimChild = expectStatus(
        await victorHttp().post('/api/data/deal', { name: VICTIM.childName, code: 'V-003', parent: mine[0].id }),
        201,
      );
      expect((await admin().post(`/api/data/deal/${mine[0].id}/deal_partners`, { id: victimAccount.id })).status).toBe(
        204,
      );
      expect(
        (await victorHttp().post(`/api/data/deal/${victimDeal.id}/deal_partners`, { id: victimAccount.id })).status,
      ).toBe(204);
    });

    // ---------------------------------------------------------------------------------------------
    // IDOR by id
    // ---------------------------------------------------------------------------------------------

    it(
      'answers IDOR by id on REST (read, update, delete, history, share, shares, related, explain) ' +
        'exactly as for an id no record has, writing nothing',
      async () => {
        const attempts: [string, (id: string) => Promise<Reply>, number, string | undefined][] = [
          ['GET', (id) => malloryHttp().get(`/api/data/deal/${id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND'],
          [
            'GET expand',
            (id) => malloryHttp().get(`/api/data/deal/${id}?expand=account,children`),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          [
            'PATCH',
            (id) => malloryHttp().patch(`/api/data/deal/${id}`, { name: 'pwned' }),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          [
            'PATCH If-Match (no 412 for a hidden record)',
            (id) => malloryHttp().patch(`/api/data/deal/${id}`, { name: 'pwned' }, { 'if-match': '"999"' }),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          [
            'PATCH If-Match of its version',
            (id) => malloryHttp().patch(`/api/data/deal/${id}`, { name: 'pwned' }, { 'if-match': '"1"' }),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          ['DELETE', (id) => malloryHttp().delete(`/api/data/deal/${id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND'],
          [
            'DELETE If-Match',
            (id) => malloryHttp().delete(`/api/data/deal/${id}`, { 'if-match': '"999"' }),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          ['history', (id) => malloryHttp().get(`/api/data/deal/${id}/history`), 404, 'XRM_ERR_RECORD_NOT_FOUND'],
          [
            'share with herself',
            (id) =>
              malloryHttp().post(`/api/data/deal/${id}/share`, {
                principal: { user: mallory.id },
                rights: ['read', 'update', 'delete', 'share'],
              }),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          ['shares', (id) => malloryHttp().get(`/api/data/deal/${id}/shares`), 404, 'XRM_ERR_RECORD_NOT_FOUND'],
          ['related list', (id) => malloryHttp().get(`/api/data/deal/${id}/children`), 404, 'XRM_ERR_RECORD_NOT_FOUND'],
          [
            'N:N list',
            (id) => malloryHttp().get(`/api/data/deal/${id}/deal_partners`),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          [
            'N:N associate from it',
            (id) => malloryHttp().post(`/api/data/deal/${id}/deal_partners`, { id: RANDOM }),
            422,
            'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
          ],
          [
            'bulk update',
            (id) =>
              malloryHttp().post('/api/data/deal/bulk', { operation: 'update', records: [{ id, name: 'pwned' }] }),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          [
            'bulk delete',
            (id) => malloryHttp().post('/api/data/deal/bulk', { operation: 'delete', records: [{ id }] }),
            404,
            'XRM_ERR_RECORD_NOT_FOUND',
          ],
          // explain answers 200 "not visible to you" alike for a hidden and a missing record
          ['explain', (id) => malloryHttp().get(`/api/security/explain?entity=deal&id=${id}`), 200, undefined],
        ];
        await writesNothing(async () => {
          for (const [label, attempt, status, code] of attempts) {
            for (const target of [victimDeal.id, victimChild.id]) {
              const victim = await attempt(target);
              const random = await attempt(RANDOM);
              if (code) expectProblem(victim, status, code);
              else expect(victim.status, `${label}: ${victim.text.slice(0, 600)}`).toBe(status);
              expectSameAnswer(victim, random, [target, RANDOM], label);
              expectNoSecrets(victim, label);
            }
          }
          // the account side: no privilege at all on account
          for (const [label, url] of [
            ['GET account', (id: string) => `/api/data/account/${id}`],
            ['account related', (id: string) => `/api/data/account/${id}/deals`],
            ['account N:N', (id: string) => `/api/data/account/${id}/deal_partners`],
            ['account history', (id: string) => `/api/data/account/${id}/history`],
          ] as const) {
            const victim = await malloryHttp().get(url(victimAccount.id));
            expectProblem(victim, 404, 'XRM_ERR_RECORD_NOT_FOUND');
            expectSameAnswer(victim, await malloryHttp().get(url(RANDOM)), [victimAccount.id, RANDOM], label);
            expectNoSecrets(victim, label);
          }
          for (const [label, attempt] of [
            ['PATCH account', (id: string) => malloryHttp().patch(`/api/data/account/${id}`, { name: 'pwned' })],
            ['DELETE account', (id: string) => malloryHttp().delete(`/api/data/account/${id}`)],
          ] as const) {
            const victim = await attempt(victimAccount.id);
            expectProblem(victim, 404, 'XRM_ERR_RECORD_NOT_FOUND');
            expectSameAnswer(victim, await attempt(RANDOM), [victimAccount.id, RANDOM], label);
          }
        });
        // Victor's deal as it was
        const row = await dealRow(victimDeal.id);
        expect(row).toMatchObject({ name: VICTIM.dealName, owner_id: victor.id, version: 1 });
        expect(String(row.amount)).toBe(VICTIM.amount);
      },
    );

    it('answers IDOR by id on GraphQL: null for reads, "not found" for writes, as for a missing id', async () => {
      await writesNothing(async () => {
        for (const [target, type] of [
          [victimDeal.id, 'deal'],
          [victimChild.id, 'deal'],
          [victimAccount.id, 'account'],
        ] as const) {
          const read = `query($id: ID!) { ${type}(id: $id) { id name } }`;
          const victim = await malloryHttp().graphql(read, { id: target });
          expect(victim.status, victim.text).toBe(200);
          expect(victim.body, victim.text).toEqual({ data: { [type]: null } });
          expect((await malloryHttp().graphql(read, { id: RANDOM })).body).toEqual(victim.body);
          expectNoSecrets(victim, read);
        }
        const history = await malloryHttp().graphql('query($id: ID!) { deal(id: $id) { history { nodes { id } } } }', {
          id: victimDeal.id,
        });
        expect(history.body).toEqual({ data: { deal: null } });
        for (const mutation of [
          'mutation($id: ID!) { updateDeal(id: $id, input: { name: "pwned" }) { id name } }',
          'mutation($id: ID!) { deleteDeal(id: $id) }',
          'mutation($id: ID!) { updateAccount(id: $id, input: { name: "pwned" }) { id } }',
          'mutation($id: ID!) { deleteAccount(id: $id) }',
        ]) {
          const target = mutation.includes('Account') ? victimAccount.id : victimDeal.id;
          const victim = await malloryHttp().graphql(mutation, { id: target });
          const error = expectGraphqlError(victim, 'XRM_ERR_RECORD_NOT_FOUND', 404, mutation);
          const random = await malloryHttp().graphql(mutation, { id: RANDOM });
          expect(JSON.parse(victim.text.replaceAll(target, '<id>'))).toEqual(
            JSON.parse(random.text.replaceAll(RANDOM, '<id>')),
          );
          expect(error.message).not.toContain('permission');
        }
      });
    });

    it('lists, counts and aggregates only her own and shared records (and no account at all)', async () => {
      const expected = [...visibleIds()].sort();
      for (const count of ['true', 'estimated']) {
        const page = expectStatus(await malloryHttp().get(`/api/data/deal?${q({ count, limit: '1000' })}`), 200);
        expect(page.data.map((d: any) => d.id).sort()).toEqual(expected);
        expect(page.totalCount).toBe(expected.length);
      }
      const listed = await malloryHttp().get('/api/data/deal?expand=account,parent,children,deal_partners');
      expectNoSecrets(listed, 'list', [victimDeal.id, victimChild.id]);
      for (const record of expectStatus(listed, 200).data) {
        expect(record).not.toHaveProperty('amount');
        expect(record).not.toHaveProperty('secret_note');
      }
      const count = expectStatus(await malloryHttp().get('/api/data/deal/aggregate?aggregate=count'), 200);
      expect(count).toEqual({ data: [{ count: expected.length }] });
      expect(expectStatus(await malloryHttp().get('/api/data/account?count=true'), 200)).toEqual({
        data: [],
        totalCount: 0,
      });
      const graphql = await malloryHttp().graphql(
        '{ deals(first: 100) { totalCount nodes { id } } accounts { totalCount nodes { id name } } ' +
          'n: dealsAggregate(aggregate: ["count"]) a: accountsAggregate(aggregate: ["count"]) }',
      );
      expect(graphql.body.errors, graphql.text).toBeUndefined();
      expect(graphql.body.data.deals.totalCount).toBe(expected.length);
      expect(graphql.body.data.deals.nodes.map((d: any) => d.id).sort()).toEqual(expected);
      expect(graphql.body.data.accounts).toEqual({ totalCount: 0, nodes: [] });
      expect(graphql.body.data.n).toEqual([{ count: expected.length }]);
      expect(graphql.body.data.a).toEqual([{ count: 0 }]);
      expectNoSecrets(graphql, 'graphql lists', [victimDeal.id, victimChild.id]);
      // filtering on the victim's visible-to-nobody values finds nothing: no oracle
      for (const filter of [
        `name eq '${VICTIM.dealName}'`,
        `id eq '${victimDeal.id}'`,
        `parent eq '${mine[0].id}'`,
        `account.name eq '${VICTIM.accountName}'`,
        `account.name startsWith 'Acme'`,
        JSON.stringify({ children: { some: { name: { eq: VICTIM.childName } } } }),
        JSON.stringify({ deal_partners: { some: { name: { startsWith: 'Acme' } } } }),
      ]) {
        const reply = await malloryHttp().get(`/api/data/deal?${q({ filter })}`);
        expect(expectStatus(reply, 200).data, filter).toEqual([]);
        const aggregate = await malloryHttp().get(`/api/data/deal/aggregate?${q({ filter, aggregate: 'count' })}`);
        expect(expectStatus(aggregate, 200), filter).toEqual({ data: [{ count: 0 }] });
      }
    });

    // ---------------------------------------------------------------------------------------------
    // secured fields
    // ---------------------------------------------------------------------------------------------

    /** [REST url, path the 403 names]: every way of naming a secured field in a read. */
    const securedReads = (): [string, string][] => [
      [`/api/data/deal?${q({ filter: 'amount gt 0' })}`, '/filter'],
      [`/api/data/deal?${q({ filter: 'amount gt 9000000' })}`, '/filter'],
      [`/api/data/deal?${q({ filter: "name eq 'x' or amount gt 1000000" })}`, '/filter'],
      [`/api/data/deal?${q({ filter: '{"amount":{"gt":0}}' })}`, '/filter'],
      [`/api/data/deal?${q({ filter: '{"not":{"secret_note":{"startsWith":"zan"}}}' })}`, '/filter'],
      [`/api/data/deal?${q({ filter: 'parent.amount gt 0' })}`, '/filter'],
      [`/api/data/deal?${q({ filter: '{"children":{"some":{"amount":{"gt":0}}}}' })}`, '/filter'],
      [`/api/data/deal?${q({ filter: "secret_note contains 'zanzibar'" })}`, '/filter'],
      [`/api/data/deal?${q({ sort: 'amount' })}`, '/sort'],
      [`/api/data/deal?${q({ sort: 'name,-amount' })}`, '/sort'],
      [`/api/data/deal?${q({ sort: 'parent.secret_note' })}`, '/sort'],
      [`/api/data/deal?${q({ select: 'name,amount' })}`, '/select'],
      [`/api/data/deal?${q({ select: 'secret_note' })}`, '/select'],
      [`/api/data/deal?${q({ search: 'zanzibar' })}`, '/search'],
      [`/api/data/deal?${q({ search: VICTIM.dealName })}`, '/search'],
      [`/api/data/deal?${q({ expand: 'children(select=amount)' })}`, '/expand'],
      [`/api/data/deal?${q({ expand: 'children(filter=amount gt 0)' })}`, '/expand'],
      [`/api/data/deal?${q({ expand: 'children(sort=-amount)' })}`, '/expand'],
      [`/api/data/deal?${q({ expand: 'parent(select=secret_note)' })}`, '/expand'],
      [`/api/data/deal/aggregate?${q({ aggregate: 'sum(amount)' })}`, '/aggregate'],
      [`/api/data/deal/aggregate?${q({ aggregate: 'count,max(amount)' })}`, '/aggregate'],
      [`/api/data/deal/aggregate?${q({ aggregate: 'countDistinct(secret_note)' })}`, '/aggregate'],
      [`/api/data/deal/aggregate?${q({ groupBy: 'amount', aggregate: 'count' })}`, '/groupBy'],
      [`/api/data/deal/aggregate?${q({ groupBy: 'parent.secret_note' })}`, '/groupBy'],
      [`/api/data/deal/aggregate?${q({ filter: 'amount gt 0', aggregate: 'count' })}`, '/filter'],
      [`/api/data/deal/aggregate?${q({ search: 'zanzibar', aggregate: 'count' })}`, '/search'],
      [`/api/data/deal/${mine[0].id}?${q({ select: 'amount' })}`, '/select'],
      [`/api/data/deal/${mine[0].id}?${q({ expand: 'children(select=secret_note)' })}`, '/expand'],
      [`/api/data/deal/${sharedDeal.id}?${q({ select: 'name,amount' })}`, '/select'],
      [`/api/data/deal/${mine[0].id}/children?${q({ filter: 'amount gt 0' })}`, '/filter'],
      [`/api/data/deal/${mine[0].id}/children?${q({ sort: 'amount' })}`, '/sort'],
    ];

    it('refuses a secured field in filter, sort, search, select, expand, aggregate, groupBy: 403 + path', async () => {
      for (const [url, path] of securedReads()) {
        // served to whoever may read the field: the refusal is about Mallory, not the query
        expect((await admin().get(url)).status, `admin ${url}`).toBe(200);
        expectFieldForbidden(await malloryHttp().get(url), path, url);
      }
    });

    /** Names of the fields (or input fields) of a GraphQL type in the schema the holder of `token` is served. */
    async function graphqlFieldsOf(token: string | undefined, type: string): Promise<string[]> {
      const client = token === undefined ? admin() : as(token);
      const reply = await client.graphql(
        'query($t: String!) { __type(name: $t) { fields { name } inputFields { name } } }',
        {
          t: type,
        },
      );
      expect(reply.body.errors, reply.text).toBeUndefined();
      const found = reply.body.data.__type;
      return [...(found?.fields ?? []), ...(found?.inputFields ?? [])].map((f: { name: string }) => f.name);
    }

    const SECURED_GRAPHQL_FIELDS = ['amount', 'secretNote'];
    const DEAL_TYPES = ['Deal', 'DealFilter', 'DealOrderBy', 'DealCreateInput', 'DealUpdateInput'];

    /**
     * Whether Mallory's GraphQL schema leaves the secured fields out (the caller's view of the
     * catalog) rather than listing them and refusing them when named. Either way the masking must
     * be whole: a field absent from the output type but present in the filter or order type would
     * be an oracle.
     */
    async function graphqlMasksSecuredFields(): Promise<boolean> {
      const listed = await Promise.all(DEAL_TYPES.map((t) => graphqlFieldsOf(mallory.token, t)));
      const masked = !listed[0]!.includes('amount');
      for (const [i, type] of DEAL_TYPES.entries()) {
        for (const field of SECURED_GRAPHQL_FIELDS)
          expect(listed[i]!.includes(field), `${type}.${field}`).toBe(!masked);
      }
      return masked;
    }

    /** The same operation naming a field no entity has, in place of every secured one. */
    const unknownFieldTwin = (text: string, variables: Record<string, unknown> = {}) =>
      [
        text.replace(/\b(amount|secretNote)\b/g, 'noSuchField'),
        JSON.parse(JSON.stringify(variables).replace(/"(amount|secretNote)"/g, '"noSuchField"')),
      ] as const;

    /**
     * A GraphQL operation naming a secured field Mallory may not read, refused: with her schema
     * masked, exactly as an operation naming a field that does not exist is (same status, an error
     * naming the field, no data); otherwise 403 XRM_ERR_FIELD_FORBIDDEN. Never data for it, never a
     * 5xx, never a secret.
     */
    async function expectGraphqlFieldRefused(
      text: string,
      variables: Record<string, unknown>,
      masked: boolean,
    ): Promise<void> {
      const reply = await malloryHttp().graphql(text, variables);
      const context = `${text}: ${reply.status} ${reply.text.slice(0, 1500)}`;
      if (!masked) {
        const error = expectGraphqlError(reply, 'XRM_ERR_FIELD_FORBIDDEN', 403, text);
        expect(error.extensions.errors[0]?.path, context).toMatch(/^\//);
      } else {
        const twin = await malloryHttp().graphql(...unknownFieldTwin(text, variables));
        expect(reply.status, context).toBeLessThan(500);
        // soft: the test goes on to the next operation and reports every difference
        expect
          .soft(reply.status, `same status as a field that does not exist (${twin.status}): ${context}`)
          .toBe(twin.status);
        expect(reply.body.data ?? null, context).toBeNull();
        const errors = (reply.body.errors ?? []) as { message: string }[];
        expect(
          errors.some((e) => /"(amount|secretNote)"/.test(e.message)),
          `an error should name the field: ${context}`,
        ).toBe(true);
        expectNoSecrets(reply, text);
      }
      expect(JSON.stringify(reply.body.data ?? null), context).not.toMatch(/amount|secretNote/);
    }

    it('refuses selecting, filtering, ordering, searching, grouping a secured field in GraphQL', async () => {
      // the administrator's schema has them all
      for (const type of DEAL_TYPES) {
        const fields = await graphqlFieldsOf(undefined, type);
        for (const field of SECURED_GRAPHQL_FIELDS) expect(fields, type).toContain(field);
      }
      const masked = await graphqlMasksSecuredFields();
      /** Named through the schema's types: selections, fragments, orderBy, filter literals and variables. */
      const typed: [string, Record<string, unknown>?][] = [
        ['{ deals { nodes { id amount } } }'],
        ['{ deals { nodes { id secretNote } } }'],
        ['{ deals { nodes { id hidden: amount } } }'],
        ['{ deals { nodes { ...F } } } fragment F on Deal { id amount }'],
        ['{ deals { nodes { ... on Deal { secretNote } } } }'],
        ['query($id: ID!) { deal(id: $id) { name amount } }', { id: mine[0].id }],
        ['query($id: ID!) { deal(id: $id) { name secretNote } }', { id: sharedDeal.id }],
        ['{ deals { nodes { children { nodes { amount } } } } }'],
        ['{ deals { nodes { parent { secretNote } } } }'],
        ['{ deals(orderBy: [{ amount: DESC }]) { nodes { id } } }'],
        ['{ deals(orderBy: [{ parent: { amount: ASC } }]) { nodes { id } } }'],
        ['{ deals(filter: { amount: { gt: 0 } }) { nodes { id } } }'],
        ['query($f: DealFilter) { deals(filter: $f) { totalCount } }', { f: { secretNote: { startsWith: 'zan' } } }],
        ['query($f: DealFilter) { deals(filter: $f) { totalCount } }', { f: { or: [{ amount: { gt: 1 } }] } }],
        ['{ deals { nodes { children(filter: { amount: { gt: 0 } }) { nodes { id } } } } }'],
        ['{ dealsAggregate(filter: { amount: { gt: 0 } }, aggregate: ["count"]) }'],
      ];
      /** Named in strings the schema does not type: search, aggregate and groupBy expressions. */
      const untyped: string[] = [
        '{ deals(search: "zanzibar") { nodes { id } } }',
        '{ dealsAggregate(aggregate: ["sum(amount)"]) }',
        '{ dealsAggregate(aggregate: ["count", "max(amount)"]) }',
        '{ dealsAggregate(groupBy: ["amount"], aggregate: ["count"]) }',
        '{ dealsAggregate(groupBy: ["secretNote"], aggregate: ["count"]) }',
        '{ dealsAggregate(groupBy: ["parent.amount"], aggregate: ["count"]) }',
      ];
      for (const [text, variables] of typed) {
        const served = await admin().graphql(text, variables);
        expect(served.body.errors, `admin ${text}: ${served.text.slice(0, 600)}`).toBeUndefined();
        await expectGraphqlFieldRefused(text, variables ?? {}, masked);
      }
      for (const text of untyped) {
        const served = await admin().graphql(text);
        expect(served.body.errors, `admin ${text}: ${served.text.slice(0, 600)}`).toBeUndefined();
        const error = expectGraphqlError(await malloryHttp().graphql(text), 'XRM_ERR_FIELD_FORBIDDEN', 403, text);
        expect(error.extensions.errors[0]?.path, text).toMatch(/^\/(search|aggregate|groupBy)/);
      }
    });

    it('keeps secured fields out of every record she gets: reads, write and bulk answers, history', async () => {
      const check = (reply: Reply, label: string) => {
        expectNoSecrets(reply, label);
        expect(reply.text, label).not.toMatch(/"amount"|"secret_note"|"secretNote"/);
      };
      check(await malloryHttp().get(`/api/data/deal/${mine[0].id}`), 'get own');
      check(await malloryHttp().get(`/api/data/deal/${sharedDeal.id}`), 'get shared');
      check(await malloryHttp().get('/api/data/deal?expand=parent,children'), 'list');
      check(await malloryHttp().get(`/api/data/deal/${mine[0].id}/history`), 'history');
      const history = await malloryHttp().graphql(
        'query($id: ID!) { deal(id: $id) { history { nodes { message changes { field old new } } } } }',
        { id: mine[0].id },
      );
      expect(history.body.errors, history.text).toBeUndefined();
      // the administrator's update is there, without its secured changes
      expect(history.body.data.deal.history.nodes.map((n: any) => n.message)).toContain('update');
      check(history, 'GraphQL history');
      const updated = await malloryHttp().patch(`/api/data/deal/${mine[0].id}`, { name: 'Mallory pipeline A+' });
      expectStatus(updated, 200);
      check(updated, 'update answer');
      const bulk = await malloryHttp().post('/api/data/deal/bulk', {
        operation: 'update',
        records: [{ id: mine[0].id, name: 'Mallory pipeline A' }],
      });
      expectStatus(bulk, 200);
      check(bulk, 'bulk answer');
      const graphql = await malloryHttp().graphql(
        'mutation($id: ID!) { updateDeal(id: $id, input: { code: "M-001" }) { id name code } }',
        { id: mine[0].id },
      );
      expect(graphql.body.errors, graphql.text).toBeUndefined();
      check(graphql, 'GraphQL update');
      // her writes left the values she cannot see as they were
      const row = await dealRow(mine[0].id);
      expect(String(row.amount)).toBe(OWN_HIDDEN.amount);
      expect(row.secret_note).toBe(OWN_HIDDEN.note);
    });

    // ---------------------------------------------------------------------------------------------
    // cursor tampering
    // ---------------------------------------------------------------------------------------------

    it('never lets a forged cursor reach a record outside her access, and never answers it with a 5xx', async () => {
      const visible = visibleIds();
      const issued = expectStatus(await malloryHttp().get(`/api/data/deal?${q({ sort: 'name', limit: '1' })}`), 200);
      const decoded = decodeCursor(issued.nextCursor) as unknown[];
      // the sort value of her own first record and its id: nothing else
      expect(decoded).toEqual([issued.data[0].name, issued.data[0].id]);
      const victimRow = await dealRow(victimDeal.id);

      /** Every page after `cursor` (limit 1), following nextCursor: the ids answered. */
      const walk = async (params: Record<string, string>): Promise<string[]> => {
        const ids: string[] = [];
        let cursor: string | undefined = params.cursor;
        for (let page = 0; page < 20; page++) {
          const reply: Reply = await malloryHttp().get(
            `/api/data/deal?${q({ ...params, limit: '1', ...(cursor ? { cursor } : {}) })}`,
          );
          expectNoSecrets(reply, `walk ${JSON.stringify(params)}`, [victimDeal.id, victimChild.id]);
          const body: { data: { id: string }[]; nextCursor?: string } = expectStatus(reply, 200);
          ids.push(...body.data.map((d: any) => d.id));
          if (!body.nextCursor) break;
          cursor = body.nextCursor;
        }
        return ids;
      };
      const forged: [string, Record<string, string>][] = [
        ['before everything', { sort: 'name', cursor: cursorOf(['', ZERO_ID]) }],
        ['at the victim record', { sort: 'name', cursor: cursorOf([VICTIM.dealName, victimDeal.id]) }],
        ['just before the victim record', { sort: 'name', cursor: cursorOf([VICTIM.dealName, ZERO_ID]) }],
        ['a null sort value', { sort: 'name', cursor: cursorOf([null, ZERO_ID]) }],
        ['after everything', { sort: 'name', cursor: cursorOf(['\uffff', MAX_ID]) }],
        ['descending', { sort: '-name', cursor: cursorOf(['\uffff', MAX_ID]) }],
        ['the default order at the victim record', { cursor: cursorOf([victimRow.created_at, victimDeal.id]) }],
        ['the default order from the start', { cursor: cursorOf(['1970-01-01T00:00:00Z', ZERO_ID]) }],
        ['through a lookup', { sort: 'parent.name', cursor: cursorOf([null, ZERO_ID]) }],
        ['a number for a text key', { sort: 'name', cursor: cursorOf([0, ZERO_ID]) }],
      ];
      for (const [label, params] of forged) {
        const ids = await walk(params);
        expect(
          ids.filter((id) => !visible.has(id)),
          label,
        ).toEqual([]);
      }
      // a cursor carrying a secured field's sort value: the sort itself is refused
      expectFieldForbidden(
        await malloryHttp().get(
          `/api/data/deal?${q({ sort: 'amount', cursor: cursorOf([VICTIM.amount, victimDeal.id]) })}`,
        ),
        '/sort',
        'sort=amount with a cursor',
      );
      // a cursor with an extra (secured) value, a foreign shape or garbage: 400 naming /cursor
      for (const cursor of [
        cursorOf([VICTIM.dealName, Number(VICTIM.amount), victimDeal.id]),
        cursorOf({ amount: Number(VICTIM.amount), id: victimDeal.id }),
        cursorOf([VICTIM.dealName, 'not-an-id']),
        'not base64 at all!',
      ]) {
        const reply = await malloryHttp().get(`/api/data/deal?${q({ sort: 'name', cursor })}`);
        expectProblem(reply, 400, 'XRM_ERR_QUERY_INVALID');
        expect(((reply.body.errors ?? []) as { path: string }[]).some((e) => e.path.endsWith('cursor'))).toBe(true);
        expectNoSecrets(reply, 'bad cursor');
      }
      // longer than any cursor the API issues: refused by the route's own schema
      expectProblem(
        await malloryHttp().get(`/api/data/deal?${q({ sort: 'name', cursor: 'A'.repeat(LIMITS.cursorLength + 10) })}`),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/querystring/cursor',
      );
      // the related list under her deal (Victor's child is there) and GraphQL after/before
      const related = await malloryHttp().get(
        `/api/data/deal/${mine[0].id}/children?${q({ sort: 'name', cursor: cursorOf(['', ZERO_ID]) })}`,
      );
      expect(expectStatus(related, 200).data).toEqual([]);
      expectNoSecrets(related, 'related cursor', [victimChild.id]);
      for (const text of [
        'query($c: String) { deals(first: 10, after: $c, orderBy: [{ name: ASC }]) { nodes { id } } }',
        'query($c: String) { deals(last: 10, before: $c, orderBy: [{ name: ASC }]) { nodes { id } } }',
      ]) {
        for (const cursor of [
          cursorOf(['', ZERO_ID]),
          cursorOf(['\uffff', MAX_ID]),
          cursorOf([VICTIM.dealName, victimDeal.id]),
        ]) {
          const reply = await malloryHttp().graphql(text, { c: cursor });
          expect(reply.status, reply.text).toBeLessThan(500);
          expect(reply.body.errors, reply.text).toBeUndefined();
          expectNoSecrets(reply, text, [victimDeal.id, victimChild.id]);
        }
      }
    });

    it('puts no hidden value into the cursors and group keys of an order through a hidden lookup', async () => {
      // her first deal points at Victor's account: sorting or grouping by its name must not reveal it
      for (const sort of ['account.name,name', '-account.name,name']) {
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const reply = await malloryHttp().get(
            `/api/data/deal?${q({ sort, limit: '1', ...(cursor ? { cursor } : {}) })}`,
          );
          const body = expectStatus(reply, 200);
          expectNoSecrets(reply, sort);
          if (!body.nextCursor) break;
          cursor = body.nextCursor as string;
          expect(JSON.stringify(decodeCursor(cursor)), sort).not.toContain(VICTIM.accountName);
        }
      }
      const grouped = await malloryHttp().get(
        `/api/data/deal/aggregate?${q({ groupBy: 'account.name', aggregate: 'count' })}`,
      );
      expectStatus(grouped, 200);
      expectNoSecrets(grouped, 'groupBy account.name');
      const graphql = await malloryHttp().graphql(
        '{ deals(first: 1, orderBy: [{ account: { name: DESC } }]) { edges { cursor } pageInfo { endCursor } } ' +
          'dealsAggregate(groupBy: ["account.name"], aggregate: ["count"]) }',
      );
      expect(graphql.body.errors, graphql.text).toBeUndefined();
      expectNoSecrets(graphql, 'GraphQL order by account name');
      for (const edge of graphql.body.data.deals.edges)
        expect(JSON.stringify(decodeCursor(edge.cursor))).not.toContain(VICTIM.accountName);
    });

    // ---------------------------------------------------------------------------------------------
    // expanding into an entity without read
    // ---------------------------------------------------------------------------------------------

    it('expands a lookup into an entity she cannot read as null, and to-many and N:N sides as empty', async () => {
      const one = await malloryHttp().get(
        `/api/data/deal/${mine[0].id}?${q({ expand: 'account(expand=deals,deal_partners),children,deal_partners' })}`,
      );
      const record = expectStatus(one, 200);
      expectNoSecrets(one, 'expand one', [victimChild.id, victimDeal.id]);
      expect(record.account).toBeNull();
      expect(record.children).toEqual([]);
      expect(record.deal_partners).toEqual([]);
      const list = await malloryHttp().get(`/api/data/deal?${q({ expand: 'account,children,deal_partners,parent' })}`);
      expectNoSecrets(list, 'expand list', [victimChild.id, victimDeal.id]);
      for (const deal of expectStatus(list, 200).data) {
        expect(deal.account, deal.name).toBeNull();
        expect(deal.children, deal.name).toEqual([]);
        expect(deal.deal_partners, deal.name).toEqual([]);
      }
      for (const url of [`/api/data/deal/${mine[0].id}/children`, `/api/data/deal/${mine[0].id}/deal_partners`]) {
        const reply = await malloryHttp().get(`${url}?count=true`);
        expect(expectStatus(reply, 200)).toEqual({ data: [], totalCount: 0 });
      }
      const graphql = await malloryHttp().graphql(
        `query($id: ID!) { deal(id: $id) {
          account { id name deals { totalCount nodes { id name } } }
          children { totalCount nodes { id name } }
          dealPartners { totalCount nodes { id name } }
        } deals { nodes { account { name } children { nodes { name } } parent { name } } } }`,
        { id: mine[0].id },
      );
      expect(graphql.body.errors, graphql.text).toBeUndefined();
      expect(graphql.body.data.deal).toEqual({
        account: null,
        children: { totalCount: 0, nodes: [] },
        dealPartners: { totalCount: 0, nodes: [] },
      });
      expectNoSecrets(graphql, 'GraphQL nested', [victimChild.id, victimDeal.id, victimAccount.id]);
      // the links are there: an administrator sees them
      const seen = expectStatus(
        await admin().get(`/api/data/deal/${mine[0].id}?${q({ expand: 'account,children,deal_partners' })}`),
        200,
      );
      expect(seen.account.name).toBe(VICTIM.accountName);
      expect(seen.children.map((c: any) => c.id)).toEqual([victimChild.id]);
      expect(seen.deal_partners.map((c: any) => c.id)).toEqual([victimAccount.id]);
    });

    // ---------------------------------------------------------------------------------------------
    // GraphQL amplification
    // ---------------------------------------------------------------------------------------------

    it('refuses GraphQL alias, batch, fragment and depth amplification with 400 and keeps answering', async () => {
      const nested = (levels: number): string => {
        // deals → nodes → account → deals → nodes → account …: three levels a round
        let inner = 'id';
        let depth = 3; // deals { nodes { … } } around it, and the operation itself
        while (depth + 3 <= levels) {
          inner = `account { deals { nodes { ${inner} } } }`;
          depth += 3;
        }
        return `{ deals { nodes { ${inner} } } }`;
      };
      const doubling = (levels: number): string => {
        const fragments = [`fragment F0 on Deal { id name code }`];
        for (let i = 1; i <= levels; i++)
          fragments.push(`fragment F${i} on Deal { ...F${i - 1} a${i}: name ...F${i - 1} }`);
        return `{ deals { nodes { ...F${levels} } } } ${fragments.join(' ')}`;
      };
      const aliased = (n: number, field: (i: number) => string) =>
        Array.from({ length: n }, (_, i) => field(i)).join(' ');
      const attacks: [string, () => Promise<Reply>, string, RegExp][] = [
        [
          '1,000 aliases of a root field',
          () =>
            malloryHttp().graphql(
              `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: deals { totalCount }`).join(' ')} }`,
            ),
          'XRM_ERR_QUERY_INVALID',
          new RegExp(`at most ${LIMITS.graphqlRootFields} root fields`),
        ],
        [
          '1,000 aliased mutations',
          () =>
            malloryHttp().graphql(
              `mutation { ${aliased(1000, (i) => `m${i}: createDeal(input: { name: "spam ${i}" }) { id }`)} }`,
            ),
          'XRM_ERR_QUERY_INVALID',
          new RegExp(`at most ${LIMITS.graphqlRootFields} root fields`),
        ],
        [
          '2,500 aliases of one column',
          () =>
            malloryHttp().graphql(
              `{ deals { nodes { ${Array.from({ length: 2500 }, (_, i) => `n${i}: name`).join(' ')} } } }`,
            ),
          'XRM_ERR_QUERY_INVALID',
          /at most/,
        ],
        ['fragments doubling 16 times', () => malloryHttp().graphql(doubling(16)), 'XRM_ERR_QUERY_INVALID', /at most/],
        [
          '30 levels of nesting',
          () => malloryHttp().graphql(nested(30)),
          'XRM_ERR_QUERY_INVALID',
          new RegExp(`nests at most ${LIMITS.graphqlDepth} levels`),
        ],
        [
          'a batch of 100 operations (an array body)',
          () =>
            malloryHttp().post(
              '/graphql',
              Array.from({ length: 100 }, () => ({ query: '{ deals { totalCount } }' })),
            ),
          'XRM_ERR_REQUEST_INVALID',
          /JSON object/,
        ],
      ];
      await writesNothing(async () => {
        for (const [label, attack, code, message] of attacks) {
          const started = performance.now();
          const reply = await attack();
          const ms = performance.now() - started;
          const context = `${label}: ${reply.status} ${reply.text.slice(0, 600)}`;
          expect(reply.status, context).toBe(400);
          const errors = (reply.body?.errors ?? []) as any[];
          expect(errors.length, context).toBe(1);
          expect(errors[0].extensions?.code, context).toBe(code);
          expect(errors[0].message, context).toMatch(message);
          expect(reply.body?.data ?? null, context).toBeNull();
          expectNoSecrets(reply, label);
          expect(ms, `${label} took ${Math.round(ms)} ms`).toBeLessThan(2000);
          // and the server answers the next request at once
          const next = await malloryHttp().graphql('{ deals { totalCount } }');
          expect(next.status, `after ${label}`).toBe(200);
          expect(next.body.data.deals.totalCount, `after ${label}`).toBe(visibleIds().size);
        }
      });
      // within the limits the same shapes are served (20 levels, 50 roots): the numbers are the limits
      const within = await malloryHttp().graphql(nested(LIMITS.graphqlDepth));
      expect(within.body.errors, within.text.slice(0, 600)).toBeUndefined();
      expectNoSecrets(within, 'nested within the limit', [victimDeal.id, victimChild.id]);
      const roots = await malloryHttp().graphql(
        `{ ${Array.from({ length: LIMITS.graphqlRootFields }, (_, i) => `a${i}: deals { totalCount }`).join(' ')} }`,
      );
      expect(roots.body.errors, roots.text.slice(0, 600)).toBeUndefined();
    });

    // ---------------------------------------------------------------------------------------------
    // mass assignment
    // ---------------------------------------------------------------------------------------------

    it(
      'refuses mass-assigning created_by, version, timestamps, owner_id, secured fields and hidden lookups, ' +
        'writing nothing',
      async () => {
        const create = (body: Record<string, unknown>) =>
          malloryHttp().post('/api/data/deal', { name: 'mass', ...body });
        const update = (body: Record<string, unknown>) => malloryHttp().patch(`/api/data/deal/${mine[1].id}`, body);
        const masked = await graphqlMasksSecuredFields();
        await writesNothing(async () => {
          // the columns the platform sets: not in the write schema, so a 400 naming them
          for (const [field, value] of [
            ['created_by', victor.id],
            ['version', 42],
            ['created_at', '2000-01-01T00:00:00Z'],
            ['updated_at', '2000-01-01T00:00:00Z'],
          ] as const) {
            const body = { [field]: value };
            expectProblem(await create(body), 400, 'XRM_ERR_RECORD_INVALID', `/${field}`);
            expectProblem(await update(body), 400, 'XRM_ERR_RECORD_INVALID', `/${field}`);
            expectProblem(
              await malloryHttp().post('/api/data/deal/bulk', {
                operation: 'create',
                records: [{ name: 'ok' }, { name: 'x', ...body }],
              }),
              400,
              'XRM_ERR_RECORD_INVALID',
              `/records/1/${field}`,
            );
          }
          // an id in an update body is not the record's: refused, not applied
          expectProblem(await update({ id: victimDeal.id }), 400, 'XRM_ERR_RECORD_INVALID', '/id');
          // owner_id of someone else needs assign, on create and on update
          for (const reply of [
            await create({ owner_id: victor.id }),
            await update({ owner_id: victor.id }),
            await malloryHttp().post('/api/data/deal/bulk', {
              operation: 'create',
              records: [{ name: 'ok' }, { name: 'x', owner_id: victor.id }],
            }),
            await malloryHttp().post('/api/data/deal/upsert', { code: 'M-NEW', name: 'x', owner_id: victor.id }),
          ]) {
            expectProblem(reply, 403, 'XRM_ERR_FORBIDDEN');
            expectNoSecrets(reply, 'owner_id');
          }
          // secured fields need update
          for (const [field, value] of [
            ['amount', 1],
            ['secret_note', 'planted'],
          ]) {
            expectFieldForbidden(await create({ [field]: value }), `/${field}`, `create ${field}`);
            expectFieldForbidden(await update({ [field]: value }), `/${field}`, `update ${field}`);
          }
          // a lookup to a record outside appendTo: the answer for a record that does not exist
          for (const [field, target] of [
            ['account', victimAccount.id],
            ['parent', victimDeal.id],
            ['parent', victimChild.id],
          ] as const) {
            for (const write of [create, update]) {
              const victim = await write({ [field]: target });
              expectProblem(victim, 422, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND', `/${field}`);
              expectSameAnswer(victim, await write({ [field]: RANDOM }), [target, RANDOM], `${field} → hidden`);
              expectNoSecrets(victim, field);
            }
          }
          // GraphQL: no owner in its inputs; secured fields and hidden lookups refused as on REST
          const owner = await malloryHttp().graphql(
            'mutation($v: ID!) { createDeal(input: { name: "mass", ownerId: $v }) { id } }',
            { v: victor.id },
          );
          expect(owner.status, owner.text).toBe(400);
          expect(owner.body.errors?.[0]?.message, owner.text).toMatch(/"ownerId"/);
          for (const [text, variables] of [
            ['mutation { createDeal(input: { name: "mass", amount: 1 }) { id } }', {}],
            ['mutation($id: ID!) { updateDeal(id: $id, input: { secretNote: "planted" }) { id } }', { id: mine[1].id }],
          ] as const) {
            await expectGraphqlFieldRefused(text, variables ?? {}, masked);
          }
          for (const [text, variables] of [
            [
              'mutation($a: ID!) { createDeal(input: { name: "mass", accountId: $a }) { id } }',
              { a: victimAccount.id },
            ],
            [
              'mutation($id: ID!, $p: ID!) { updateDeal(id: $id, input: { parentId: $p }) { id } }',
              { id: mine[1].id, p: victimDeal.id },
            ],
          ] as const) {
            expectGraphqlError(
              await malloryHttp().graphql(text, variables),
              'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
              422,
              text,
            );
          }
        });
        // a record she creates is hers: created_by and owner_id are Mallory, whatever she could have tried
        const created = expectStatus(
          await malloryHttp().post('/api/data/deal', { name: 'Mallory legit', owner_id: mallory.id }),
          201,
        );
        const row = await dealRow(created.id);
        expect(row).toMatchObject({ created_by: mallory.id, owner_id: mallory.id, version: 1 });
        for (const deal of mine)
          expect(await dealRow(deal.id)).toMatchObject({ created_by: mallory.id, owner_id: mallory.id });
        expect((await malloryHttp().delete(`/api/data/deal/${created.id}`)).status).toBe(204);
        expect(await dealRow(created.id)).toBeUndefined();
      },
    );

    it("refuses a create with the id of Victor's record without touching it", async () => {
      await writesNothing(async () => {
        const reply = await malloryHttp().post('/api/data/deal', { id: victimDeal.id, name: 'clone' });
        expectProblem(reply, 409, 'XRM_ERR_RECORD_DUPLICATE');
        expectNoSecrets(reply, 'create with his id');
        const graphql = await malloryHttp().graphql(
          'mutation($id: ID) { createDeal(input: { id: $id, name: "clone" }) { id name } }',
          {
            id: victimDeal.id,
          },
        );
        expectGraphqlError(graphql, 'XRM_ERR_RECORD_DUPLICATE', 409, 'GraphQL create with his id');
      });
    });

    it("refuses an upsert matching Victor's alternate key with 403, leaving his record unchanged", async () => {
      await writesNothing(async () => {
        for (const reply of [
          await malloryHttp().post('/api/data/deal/upsert', { code: 'V-001', name: 'hijacked' }),
          await malloryHttp().post('/api/data/deal/upsert?key=code', { code: 'V-003', name: 'hijacked' }),
          await malloryHttp().post('/api/data/deal/bulk', {
            operation: 'upsert',
            key: 'code',
            records: [{ code: 'V-001', name: 'hijacked' }],
          }),
        ]) {
          expectProblem(reply, 403, 'XRM_ERR_FORBIDDEN');
          expectNoSecrets(reply, 'upsert', [victimDeal.id, victimChild.id]);
        }
      });
      expect(await dealRow(victimDeal.id)).toMatchObject({ name: VICTIM.dealName, owner_id: victor.id, version: 1 });
    });

    it('answers an N:N link to a record outside appendTo like one to a missing record, writing nothing', async () => {
      await writesNothing(async () => {
        const victim = await malloryHttp().post(`/api/data/deal/${mine[1].id}/deal_partners`, { id: victimAccount.id });
        expectProblem(victim, 422, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND', '/toId');
        const random = await malloryHttp().post(`/api/data/deal/${mine[1].id}/deal_partners`, { id: RANDOM });
        expectSameAnswer(victim, random, [victimAccount.id, RANDOM], 'associate');
        expectNoSecrets(victim, 'associate');
        const link = 'mutation($id: ID!, $to: ID!) { associateDealDealPartners(id: $id, otherId: $to) }';
        const graphql = await malloryHttp().graphql(link, { id: mine[1].id, to: victimAccount.id });
        expectGraphqlError(graphql, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND', 422, 'GraphQL associate');
        const graphqlRandom = await malloryHttp().graphql(link, { id: mine[1].id, to: RANDOM });
        expect
          .soft(JSON.parse(graphql.text.replaceAll(victimAccount.id, '<id>')))
          .toEqual(JSON.parse(graphqlRandom.text.replaceAll(RANDOM, '<id>')));
      });
    });

    it('cannot unlink, or write history about, N:N links to records she cannot see', async () => {
      const OTHER = '9b2f7c1e-5d4a-4e8b-a1c3-7f6e5d4c3b2a';
      const attempts: [string, string, string, string][] = [
        // [label, from, to, the from of the same request with ids no record has]
        // an administrator linked her deal to Victor's account; Victor linked his deal to it
        ['her deal to his hidden account (linked)', mine[0].id, victimAccount.id, mine[0].id],
        ['his hidden deal to his hidden account (linked)', victimDeal.id, victimAccount.id, OTHER],
        ['her other deal to his hidden account (not linked)', mine[1].id, victimAccount.id, mine[1].id],
      ];
      // the same requests with ids no record has, first: those no-ops on her own deals are hers to make
      const randoms: Reply[] = [];
      for (const [, , , from] of attempts)
        randoms.push(await malloryHttp().delete(`/api/data/deal/${from}/deal_partners/${RANDOM}`));
      await writesNothing(async () => {
        for (const [i, [label, from, to, randomFrom]] of attempts.entries()) {
          const before = await auditOf(to);
          const reply = await malloryHttp().delete(`/api/data/deal/${from}/deal_partners/${to}`);
          // soft, to report each: no entry in the history of a record she cannot see
          expect.soft(await auditOf(to), `${label}: audit entries written about his account`).toEqual(before);
          expect(reply.status, `${label}: ${reply.text}`).toBeLessThan(500);
          expectNoSecrets(reply, label);
          expectSameAnswer(
            reply,
            randoms[i]!,
            [
              [to, RANDOM],
              [from, randomFrom],
            ],
            label,
          );
        }
        const graphql = await malloryHttp().graphql(
          'mutation($id: ID!, $to: ID!) { disassociateDealDealPartners(id: $id, otherId: $to) }',
          { id: mine[0].id, to: victimAccount.id },
        );
        expect(graphql.status, graphql.text).toBeLessThan(500);
        expectNoSecrets(graphql, 'GraphQL disassociate');
      });
    });

    it('refuses sharing without the share privilege: on her own record, on one shared with her read-only', async () => {
      await writesNothing(async () => {
        for (const id of [mine[0].id, sharedDeal.id]) {
          const reply = await malloryHttp().post(`/api/data/deal/${id}/share`, {
            principal: { user: trudy.id },
            rights: ['read', 'update'],
          });
          expectProblem(reply, 403, 'XRM_ERR_FORBIDDEN');
          expectNoSecrets(reply, 'share');
        }
        // read-only share: readable, so a 403 (not a 404) for update and delete
        expectProblem(
          await malloryHttp().patch(`/api/data/deal/${sharedDeal.id}`, { name: 'pwned' }),
          403,
          'XRM_ERR_FORBIDDEN',
        );
        expectProblem(await malloryHttp().delete(`/api/data/deal/${sharedDeal.id}`), 403, 'XRM_ERR_FORBIDDEN');
        // widening her own share of it
        expectProblem(
          await malloryHttp().post(`/api/data/deal/${sharedDeal.id}/share`, {
            principal: { user: mallory.id },
            rights: ['read', 'update', 'delete', 'share'],
          }),
          403,
          'XRM_ERR_FORBIDDEN',
        );
      });
    });

    it("keeps a cached statement from serving one user's records to another user of the same role", async () => {
      const trudyDeal = expectStatus(
        await as(trudy.token).post('/api/data/deal', { name: 'Trudy pipeline', code: 'T-001' }),
        201,
      );
      try {
        for (let round = 0; round < 2; round++) {
          const hers = expectStatus(await malloryHttp().get('/api/data/deal?sort=name'), 200).data.map(
            (d: any) => d.id,
          );
          const theirs = expectStatus(await as(trudy.token).get('/api/data/deal?sort=name'), 200).data.map(
            (d: any) => d.id,
          );
          expect(hers).not.toContain(trudyDeal.id);
          expect(theirs).toEqual([trudyDeal.id]);
          expectProblem(await malloryHttp().get(`/api/data/deal/${trudyDeal.id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
          expectProblem(await as(trudy.token).get(`/api/data/deal/${mine[0].id}`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
          const graphql = '{ deals { nodes { id } } }';
          const gm = (await malloryHttp().graphql(graphql)).body.data.deals.nodes.map((d: any) => d.id);
          const gt = (await as(trudy.token).graphql(graphql)).body.data.deals.nodes.map((d: any) => d.id);
          expect(gm).not.toContain(trudyDeal.id);
          expect(gt).toEqual([trudyDeal.id]);
        }
      } finally {
        expect((await as(trudy.token).delete(`/api/data/deal/${trudyDeal.id}`)).status).toBe(204);
      }
    });

    // ---------------------------------------------------------------------------------------------
    // the platform's own APIs
    // ---------------------------------------------------------------------------------------------

    it('refuses the metadata, users, roles, teams, plugins, jobs and webhooks APIs without the privilege', async () => {
      await writesNothing(async () => {
        const attempts: [string, () => Promise<Reply>][] = [
          [
            'unsecure the field',
            () => malloryHttp().patch('/api/metadata/entities/deal/fields/amount', { secured: false }),
          ],
          ['new entity', () => malloryHttp().post('/api/metadata/entities', { name: 'loot', fields: [] })],
          ['list users', () => malloryHttp().get('/api/users')],
          [
            'make herself admin',
            () => malloryHttp().patch(`/api/users/${mallory.id}`, { roles: ['system_administrator'] }),
          ],
          ['disable Victor', () => malloryHttp().patch(`/api/users/${victor.id}`, { disabled: true })],
          [
            'reset his password',
            () => malloryHttp().patch(`/api/users/${victor.id}`, { password: 'mallory owns this now' }),
          ],
          ['new user', () => malloryHttp().post('/api/users', { email: 'sock@example.com', password: PASSWORD })],
          ['list roles', () => malloryHttp().get('/api/roles')],
          [
            'widen her role',
            () =>
              malloryHttp().put(`/api/roles/${dealRepRole.id}`, {
                name: 'deal_rep',
                privileges: [{ entity: 'deal', read: 'all' }],
                rowRules: [],
                fieldPermissions: [{ entity: 'deal', field: 'amount', read: true, update: true }],
                metadata: false,
                users: false,
                plugins: false,
              }),
          ],
          [
            'new role',
            () => malloryHttp().post('/api/roles', { name: 'loot', metadata: true, users: true, plugins: true }),
          ],
          ['new team', () => malloryHttp().post('/api/teams', { name: 'crew', members: [mallory.id] })],
          ['plugins', () => malloryHttp().get('/api/plugins')],
          ['jobs', () => malloryHttp().get('/api/jobs')],
          ['webhooks', () => malloryHttp().get('/api/webhooks')],
          [
            'new webhook',
            () =>
              malloryHttp().post('/api/webhooks', {
                name: 'exfiltrate',
                url: 'https://evil.example/hook',
                events: ['deal.created', 'deal.updated'],
              }),
          ],
        ];
        for (const [label, attempt] of attempts) {
          const reply = await attempt();
          expectProblem(reply, 403, 'XRM_ERR_FORBIDDEN');
          expectNoSecrets(reply, label);
        }
        // an API key with a role she does not hold
        expectProblem(
          await malloryHttp().post('/api/api-keys', { name: 'escalate', roles: ['system_administrator'] }),
          400,
          'XRM_ERR_REQUEST_INVALID',
          '/roles/0',
        );
      });
    });

    // ---------------------------------------------------------------------------------------------
    // oversize bodies
    // ---------------------------------------------------------------------------------------------

    it(`answers bodies over ${LIMITS.bodyBytes} bytes with a 413 problem, writing nothing`, async () => {
      const huge = 'x'.repeat(LIMITS.bodyBytes + 1024);
      await writesNothing(async () => {
        for (const [label, attempt] of [
          ['create', () => malloryHttp().post('/api/data/deal', { name: 'big', code: huge })],
          ['update', () => malloryHttp().patch(`/api/data/deal/${mine[1].id}`, { code: huge })],
          ['bulk', () => malloryHttp().post('/api/data/deal/bulk', { operation: 'create', records: [{ name: huge }] })],
          ['graphql', () => malloryHttp().graphql(`mutation { createDeal(input: { name: "${huge}" }) { id } }`)],
          ['api key', () => malloryHttp().post('/api/api-keys', { name: huge })],
        ] as const) {
          const reply = await attempt();
          expect(reply.status, `${label}: ${reply.text.slice(0, 300)}`).toBe(413);
          const code = reply.body?.code ?? reply.body?.errors?.[0]?.extensions?.code;
          expect(code, `${label}: ${reply.text.slice(0, 300)}`).toBe('XRM_ERR_REQUEST_TOO_LARGE');
          expect(reply.text.length, label).toBeLessThan(2000);
        }
      });
      expect((await malloryHttp().get('/api/data/deal?limit=1')).status).toBe(200);
    });

    // ---------------------------------------------------------------------------------------------
    // credentials
    // ---------------------------------------------------------------------------------------------

    /** 401 XRM_ERR_AUTH_REQUIRED: a problem on REST, GraphQL's errors shape on /graphql. */
    const expectAuthRequired = (reply: Reply, label: string) => {
      if (reply.body?.errors && !reply.body.code) {
        expect(reply.status, `${label}: ${reply.text}`).toBe(401);
        expect(reply.body.data ?? null, label).toBeNull();
        expect(
          reply.body.errors.map((e: any) => e.extensions?.code),
          label,
        ).toEqual(['XRM_ERR_AUTH_REQUIRED']);
      } else {
        expectProblem(reply, 401, 'XRM_ERR_AUTH_REQUIRED');
      }
      expectNoSecrets(reply, label);
    };

    it('stops a revoked API key on the next request, and keeps her away from keys that are not hers', async () => {
      const created = expectStatus(await malloryHttp().post('/api/api-keys', { name: 'laptop' }), 201);
      const theirs = expectStatus(await victorHttp().post('/api/api-keys', { name: 'victor ci' }), 201);
      const key = () => as(created.key);
      expect(expectStatus(await key().get('/api/data/deal'), 200).data.length).toBe(visibleIds().size);
      // a key cannot mint keys, nor revoke the one it is
      expectAuthRequired(await key().post('/api/api-keys', { name: 'more' }), 'key mints a key');
      // Victor's key: not hers to list or revoke
      const listed = expectStatus(await malloryHttp().get('/api/api-keys'), 200).data.map((k: any) => k.id);
      expect(listed).toEqual([created.id]);
      await writesNothing(async () => {
        const revoke = await malloryHttp().delete(`/api/api-keys/${theirs.id}`);
        expectProblem(revoke, 404, 'XRM_ERR_API_KEY_NOT_FOUND');
        expectSameAnswer(
          revoke,
          await malloryHttp().delete(`/api/api-keys/${RANDOM}`),
          [theirs.id, RANDOM],
          'revoke his key',
        );
      });
      expect((await as(theirs.key).get('/api/data/deal')).status).toBe(200);
      // revoked: the next request is refused, and writes with it write nothing
      expect((await malloryHttp().delete(`/api/api-keys/${created.id}`)).status).toBe(204);
      const [stored] = await rows<{ revoked_at: unknown }>(
        sql`SELECT revoked_at FROM xrm.api_keys WHERE id = ${created.id}`,
      );
      expect(stored!.revoked_at).not.toBeNull();
      await writesNothing(async () => {
        expectAuthRequired(await key().get('/api/data/deal'), 'revoked key read');
        expectAuthRequired(await key().post('/api/data/deal', { name: 'after revocation' }), 'revoked key write');
        expectAuthRequired(await key().graphql('{ deals { totalCount } }'), 'revoked key GraphQL');
      });
    });

    it('stops an API key once it expires', async () => {
      const expiresAt = new Date(Date.now() + 2000).toISOString();
      const created = expectStatus(await malloryHttp().post('/api/api-keys', { name: 'short', expiresAt }), 201);
      expect(expectStatus(await as(created.key).get('/api/data/deal?limit=1'), 200).data).toHaveLength(1);
      await sleep(new Date(expiresAt).getTime() - Date.now() + 600);
      await writesNothing(async () => {
        expectAuthRequired(await as(created.key).get('/api/data/deal?limit=1'), 'expired key');
        expectAuthRequired(await as(created.key).post('/api/data/deal', { name: 'after expiry' }), 'expired key write');
      });
      // an expiry in the past is refused when the key is made
      expectProblem(
        await malloryHttp().post('/api/api-keys', { name: 'past', expiresAt: '2001-01-01T00:00:00Z' }),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/expiresAt',
      );
    });

    it("stops a disabled user's live session and key at once; re-enabling does not revive the session", async () => {
      const dora = await newUser('dora@example.com', ['deal_rep']);
      const key = expectStatus(await as(dora.token).post('/api/api-keys', { name: 'dora key' }), 201).key as string;
      expectStatus(await as(dora.token).post('/api/data/deal', { name: 'Dora pipeline' }), 201);
      expect((await as(key).get('/api/data/deal')).status).toBe(200);
      expectStatus(await admin().patch(`/api/users/${dora.id}`, { disabled: true }), 200);
      await writesNothing(async () => {
        for (const credential of [dora.token, key]) {
          expectAuthRequired(await as(credential).get('/api/data/deal'), 'disabled read');
          expectAuthRequired(await as(credential).post('/api/data/deal', { name: 'while disabled' }), 'disabled write');
          expectAuthRequired(await as(credential).graphql('{ deals { totalCount } }'), 'disabled GraphQL');
        }
        // the cookie the admin UI uses, too
        expectAuthRequired(
          await api(get().app).get('/api/data/deal', { cookie: `xrm_session=${dora.token}` }),
          'disabled cookie',
        );
      });
      expectProblem(
        await anonymous().post('/api/auth/login', { email: 'dora@example.com', password: PASSWORD }),
        401,
        'XRM_ERR_AUTH_INVALID_CREDENTIALS',
      );
      expectStatus(await admin().patch(`/api/users/${dora.id}`, { disabled: false }), 200);
      expectAuthRequired(await as(dora.token).get('/api/data/deal'), 'session from before the suspension');
    });

    it('stops a session after a password change or a sign-out, and refuses forged credentials', async () => {
      const pat = await newUser('pat@example.com', ['deal_rep']);
      expect((await as(pat.token).get('/api/data/deal')).status).toBe(200);
      expectStatus(await admin().patch(`/api/users/${pat.id}`, { password: 'a brand new long password' }), 200);
      await writesNothing(async () => {
        expectAuthRequired(await as(pat.token).get('/api/data/deal'), 'after password change');
        expectAuthRequired(await as(pat.token).post('/api/data/deal', { name: 'stale session' }), 'stale write');
      });
      const fresh = await signIn('pat@example.com', 'a brand new long password');
      expect((await as(fresh).get('/api/data/deal')).status).toBe(200);
      expect((await as(fresh).post('/api/auth/logout')).status).toBe(204);
      expectAuthRequired(await as(fresh).get('/api/data/deal'), 'after sign-out');
      await writesNothing(async () => {
        for (const [label, headers] of [
          ['a random session token', { authorization: `Bearer xrms_${'A'.repeat(43)}` }],
          ['a random API key', { authorization: `Bearer xrm_${'A'.repeat(43)}` }],
          ['a token hash', { authorization: `Bearer ${'0'.repeat(64)}` }],
          [
            'Basic credentials',
            { authorization: `Basic ${Buffer.from(`mallory@example.com:${PASSWORD}`).toString('base64')}` },
          ],
          ['an empty bearer', { authorization: 'Bearer ' }],
          ['a forged cookie', { cookie: 'xrm_session=xrms_forged' }],
        ] as const) {
          expectAuthRequired(await api(get().app).get('/api/data/deal', headers), label);
          expectAuthRequired(await api(get().app).post('/api/data/deal', { name: 'forged' }, headers), label);
        }
        expectAuthRequired(await anonymous().get('/api/data/deal'), 'no credentials');
        expectAuthRequired(await anonymous().graphql('{ deals { totalCount } }'), 'no credentials GraphQL');
      });
    });

    it('throttles brute-force sign-in: 429, Retry-After, the right password too (see hardening.test.ts)', async () => {
      const brutus = await newUser('brutus@example.com', ['deal_rep']);
      const address = '203.0.113.66';
      const login = async (password: string): Promise<Reply> => {
        const res = await get().app.inject({
          method: 'POST',
          url: '/api/auth/login',
          remoteAddress: address,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ email: 'brutus@example.com', password }),
        });
        return { status: res.statusCode, body: JSON.parse(res.body), headers: res.headers, text: res.body };
      };
      const sessions = async () =>
        (await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM xrm.sessions WHERE user_id = ${brutus.id}`))[0]!
          .n;
      const before = await sessions();
      for (let i = 0; i < LOGIN_LIMIT; i++)
        expectProblem(await login(`guess number ${i}`), 401, 'XRM_ERR_AUTH_INVALID_CREDENTIALS');
      for (const password of ['guess number 99', PASSWORD]) {
        const reply = expectProblem(await login(password), 429, 'XRM_ERR_RATE_LIMITED');
        const retryAfter = Number(reply.headers['retry-after']);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(reply.text).not.toContain('token');
      }
      // no session was opened while throttled
      expect(await sessions()).toBe(before);
    });

    it('gives an unlisted origin no CORS header on the preflight or her request (see hardening.test.ts)', async () => {
      const preflight = (origin: string) =>
        get().app.inject({
          method: 'OPTIONS',
          url: '/api/data/deal',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type, authorization',
          },
        });
      const unlisted = await preflight(UNLISTED);
      expect(unlisted.statusCode).not.toBe(204);
      expect(unlisted.headers['access-control-allow-origin']).toBeUndefined();
      expect(unlisted.headers['access-control-allow-credentials']).toBeUndefined();
      const request = await malloryHttp().get('/api/data/deal', { origin: UNLISTED });
      expect(request.headers['access-control-allow-origin']).toBeUndefined();
      expect(request.headers['access-control-allow-credentials']).toBeUndefined();
      // the listed origin is configured and answered: the absence above is the refusal
      expect((await preflight(LISTED)).headers['access-control-allow-origin']).toBe(LISTED);
    });
  },
  { config: { loginRateLimitPerMinute: LOGIN_LIMIT, corsOrigins: [LISTED] } },
);
