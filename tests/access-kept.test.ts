/**
 * Kept access (server/security/access.ts): on PostgreSQL, while the instance hears `xrm_security`
 * notices (migration 0010), a presented credential's access is kept in memory, so only the first
 * request of a token runs the credential statement. Any change to who may do what — on this
 * instance, on another one, or by hand in SQL — is refused or applied on the next request (within
 * the notice's delivery), and while the LISTEN connection is down nothing is kept. On PGlite
 * nothing is kept at all.
 */
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildPlatform, type Platform } from '../server/app.ts';
import { loadConfig, type Config } from '../server/config.ts';
import { api, type Reply } from './support/http.ts';
import { createTestDatabase, DATABASES, testConfig, type TestDatabase } from './support/platform.ts';
import { expectProblem, expectStatus } from './support/problems.ts';

/** The credential statement of a session token (identity.ts credentialCheck, joined in access.ts #load). */
const CREDENTIAL_CHECK = 'FROM xrm.sessions s JOIN xrm.users u';
/** How long a notice may take to reach the other instance (asserted well under the 60 s keeping). */
const NOTICE_MS = 2000;

/** No background statements (job worker, version poll, automation ticks) while requests are counted. */
const QUIET: Partial<Config> = {
  schemaPollMs: 0,
  automationTickMs: 3_600_000,
  jobs: { ...loadConfig({}).jobs, concurrency: 0 },
};

interface Instance {
  readonly platform: Platform;
  /** Every statement this instance sent since the last `counted`. */
  readonly statements: string[];
}

async function instance(database: TestDatabase): Promise<Instance> {
  const statements: string[] = [];
  const platform = await buildPlatform(testConfig(database, QUIET), { onQuery: (text) => statements.push(text) });
  return { platform, statements };
}

interface Counted {
  reply: Reply;
  /** Statements the request sent. */
  total: number;
  /** Of them, credential checks. */
  checks: number;
}

async function counted(on: Instance, run: () => Promise<Reply>): Promise<Counted> {
  on.statements.length = 0;
  const reply = await run();
  const checks = on.statements.filter((text) => text.includes(CREDENTIAL_CHECK)).length;
  return { reply, total: on.statements.length, checks };
}

/** Lets the notices of the set-up (sign-ins, new users) arrive before requests are counted. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

let userSeq = 0;

/** A user holding `roles`, created through `on`'s identity service and signed in there (`sessions` times). */
async function signedInUser(on: Platform, roles: string[], sessions = 1) {
  const email = `kept${++userSeq}@example.com`;
  const password = `kept-password-${userSeq}-long-enough`;
  const user = await on.services.identity.createUser({ email, displayName: `Kept ${userSeq}`, password, roles });
  const tokens: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const reply = await api(on.app, null).post('/api/auth/login', { email, password });
    tokens.push(expectStatus(reply, 200).token as string);
  }
  return { id: user.id, email, password, token: tokens[0]!, tokens };
}

const GIZMOS = '/api/data/gizmo?select=name&sort=name';

describe.skipIf(!DATABASES.includes('postgres'))('kept access [postgres]', () => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  /** A connection of the test's own: changes "by hand", the listener's termination. */
  let client: pg.Client;
  let alphaId: string;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    a = await instance(database);
    b = await instance(database);
    await Promise.all([a.platform.start(), b.platform.start()]);
    client = new pg.Client({ connectionString: database.config.databaseUrl });
    client.on('error', () => undefined);
    await client.connect();
    const admin = api(a.platform.app);
    const gizmo = { name: 'gizmo', fields: [{ name: 'name', type: 'text' }] };
    expectStatus(await admin.post('/api/metadata/entities', gizmo), 201);
    alphaId = expectStatus(await admin.post('/api/data/gizmo', { name: 'alpha' }), 201).id;
    expectStatus(await admin.post('/api/data/gizmo', { name: 'beta' }), 201);
    for (const role of ['gizmo_reader', 'gizmo_viewer'])
      expectStatus(await admin.post('/api/roles', { name: role, privileges: [{ entity: 'gizmo', read: 'all' }] }), 201);
    // B serves the entity (schema notice) before anything is asked of it
    await vi.waitFor(async () => expect((await api(b.platform.app).get('/api/data/gizmo')).status).toBe(200), {
      timeout: NOTICE_MS,
      interval: 20,
    });
  }, 30_000);

  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await a?.platform.close();
    await b?.platform.close();
    await database?.drop();
  });

  it('runs the credential statement on the first request of a token only, answering the same', async () => {
    expect(a.platform.services.runtime.noticesHeard).toBe(true);
    // two sessions of one user: the first one's request loads the user's roles, so the second
    // token's first request differs from its next ones by the credential statement alone
    const user = await signedInUser(a.platform, ['gizmo_reader'], 2);
    await settle();
    const [warm, token] = user.tokens as [string, string];
    expectStatus(await api(a.platform.app, warm).get(GIZMOS), 200);
    const first = await counted(a, () => api(a.platform.app, token).get(GIZMOS));
    const second = await counted(a, () => api(a.platform.app, token).get(GIZMOS));
    const third = await counted(a, () => api(a.platform.app, token).get(GIZMOS));
    expectStatus(first.reply, 200);
    expect(first.checks).toBe(1);
    expect(second.checks).toBe(0);
    expect(third.checks).toBe(0);
    expect(second.total).toBe(first.total - 1);
    expect(third.total).toBe(second.total);
    expect((first.reply.body.data as { name: string }[]).map((r) => r.name)).toEqual(['alpha', 'beta']);
    expect(second.reply.status).toBe(200);
    expect(second.reply.body).toEqual(first.reply.body);
    expect(third.reply.body).toEqual(first.reply.body);
    // who the caller is is kept too
    const me = await counted(a, () => api(a.platform.app, token).get('/api/auth/me'));
    expect(me.checks).toBe(0);
    expect(expectStatus(me.reply, 200).user).toMatchObject({ id: user.id, email: user.email });
  });

  /** A token of a new user whose access A keeps (its second request runs no credential statement). */
  async function keptOnA(roles: string[] = ['gizmo_reader']) {
    const user = await signedInUser(a.platform, roles);
    await settle();
    const http = api(a.platform.app, user.token);
    expect((await counted(a, () => http.get(GIZMOS))).checks).toBe(1);
    const again = await counted(a, () => http.get(GIZMOS));
    expect(again.checks).toBe(0);
    expectStatus(again.reply, 200);
    return { ...user, http, keptAt: performance.now() };
  }

  /** A refuses the kept token within NOTICE_MS, long before the 60 s a kept access may last. */
  async function refusedOnA(user: Awaited<ReturnType<typeof keptOnA>>) {
    await vi.waitFor(async () => expect((await user.http.get(GIZMOS)).status).toBe(401), {
      timeout: NOTICE_MS,
      interval: 20,
    });
    expect(performance.now() - user.keptAt).toBeLessThan(10_000);
    expectProblem(await user.http.get(GIZMOS), 401, 'XRM_ERR_AUTH_REQUIRED');
    expectProblem(await user.http.get('/api/auth/me'), 401, 'XRM_ERR_AUTH_REQUIRED');
  }

  it('refuses a token signed out on another instance, by its notice', async () => {
    const user = await keptOnA();
    expect((await api(b.platform.app, user.token).post('/api/auth/logout')).status).toBeLessThan(300);
    await refusedOnA(user);
  });

  it("refuses a user disabled through another instance's API, by its notice", async () => {
    const user = await keptOnA();
    expectStatus(await api(b.platform.app).patch(`/api/users/${user.id}`, { disabled: true }), 200);
    await refusedOnA(user);
  });

  it("applies a role changed on another instance to A's next requests", async () => {
    const user = await keptOnA(['gizmo_viewer']);
    const roles = expectStatus(await api(b.platform.app).get('/api/roles'), 200).data as { id: string; name: string }[];
    const viewer = roles.find((r) => r.name === 'gizmo_viewer')!;
    expect(expectStatus(await user.http.get(GIZMOS), 200).data).toHaveLength(2);
    expectStatus(await user.http.get(`/api/data/gizmo/${alphaId}`), 200);
    // the role loses read on gizmo (and nothing else changes for anyone else)
    expectStatus(
      await api(b.platform.app).put(`/api/roles/${viewer.id}`, { name: 'gizmo_viewer', privileges: [] }),
      200,
    );
    // a list the caller may not read is answered empty
    await vi.waitFor(async () => expect(expectStatus(await user.http.get(GIZMOS), 200).data).toEqual([]), {
      timeout: NOTICE_MS,
      interval: 20,
    });
    expect(performance.now() - user.keptAt).toBeLessThan(10_000);
    // and one record by id is refused
    expect([403, 404]).toContain((await user.http.get(`/api/data/gizmo/${alphaId}`)).status);
    // still signed in: only the role changed
    expectStatus(await user.http.get('/api/auth/me'), 200);
    // and another holder of another role keeps reading
    const reader = await keptOnA();
    expectStatus(await reader.http.get(GIZMOS), 200);
  });

  it('refuses a user disabled by hand in SQL, by its notice', async () => {
    const user = await keptOnA();
    await client.query('UPDATE xrm.users SET disabled = true WHERE id = $1', [user.id]);
    await refusedOnA(user);
  });

  it('keeps nothing while the LISTEN connection is down, and forgets what it kept when it drops', async () => {
    const user = await keptOnA();
    const other = await keptOnA();
    const runtime = a.platform.services.runtime;
    const { rows } = await client.query<{ killed: boolean }>(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database()
        AND application_name = 'xrm-platform listener' AND query ILIKE 'LISTEN%'`,
    );
    // A's and B's listeners
    expect(rows.filter((r) => r.killed)).toHaveLength(2);
    await vi.waitFor(() => expect(runtime.noticesHeard).toBe(false), { timeout: 1000, interval: 2 });
    // what was kept is gone, and nothing is kept while notices cannot be heard
    const down1 = await counted(a, () => other.http.get(GIZMOS));
    const down2 = await counted(a, () => other.http.get(GIZMOS));
    expectStatus(down1.reply, 200);
    expect([down1.checks, down2.checks]).toEqual([1, 1]);
    // a change nobody on A hears of: refused on the very next request all the same
    expect(runtime.noticesHeard).toBe(false);
    await client.query('UPDATE xrm.users SET disabled = true WHERE id = $1', [user.id]);
    expectProblem(await user.http.get(GIZMOS), 401, 'XRM_ERR_AUTH_REQUIRED');
    // the whole window fell while the listener was down (it reconnects 250 ms after the drop at the soonest)
    expect(runtime.noticesHeard).toBe(false);

    // back: keeping resumes, and notices count again
    await vi.waitFor(() => expect(runtime.noticesHeard).toBe(true), { timeout: 6000, interval: 20 });
    const after = await keptOnA();
    await client.query('UPDATE xrm.users SET disabled = true WHERE id = $1', [after.id]);
    await refusedOnA(after);
  }, 15_000);

  it('refuses a user disabled through the same instance on the very next request', async () => {
    const user = await keptOnA();
    await a.platform.services.identity.setDisabled(user.id, true);
    expectProblem(await user.http.get(GIZMOS), 401, 'XRM_ERR_AUTH_REQUIRED');
    // and a role taken away through the same instance's API
    const reader = await keptOnA(['gizmo_reader']);
    expectStatus(await api(a.platform.app).patch(`/api/users/${reader.id}`, { roles: [] }), 200);
    expect(expectStatus(await reader.http.get(GIZMOS), 200).data).toEqual([]);
  });

  it("what changes nobody's access sends no notice: a user's sign-in, signing out a token nobody holds", async () => {
    const user = await keptOnA();
    await signedInUser(b.platform, []);
    // the public sign-out route with a made-up token changes no row: no notice, nothing forgotten
    const bogus = api(b.platform.app, 'xrms_not-a-token-anybody-holds');
    expect((await bogus.post('/api/auth/logout')).status).toBe(204);
    await settle();
    const next = await counted(a, () => user.http.get(GIZMOS));
    expect(next.checks).toBe(0);
    expectStatus(next.reply, 200);
  });
});

describe.skipIf(!DATABASES.includes('pglite'))('kept access [pglite]', () => {
  let database: TestDatabase;
  let p: Instance;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    p = await instance(database);
    await p.platform.start();
    const admin = api(p.platform.app);
    const gizmo = { name: 'gizmo', fields: [{ name: 'name', type: 'text' }] };
    expectStatus(await admin.post('/api/metadata/entities', gizmo), 201);
    expectStatus(await admin.post('/api/data/gizmo', { name: 'alpha' }), 201);
    expectStatus(
      await admin.post('/api/roles', { name: 'gizmo_reader', privileges: [{ entity: 'gizmo', read: 'all' }] }),
      201,
    );
  }, 30_000);

  afterAll(async () => {
    await p?.platform.close();
    await database?.drop();
  });

  it('keeps nothing: every request runs the credential statement, and a sign-out counts on the next', async () => {
    expect(p.platform.services.runtime.noticesHeard).toBe(false);
    const user = await signedInUser(p.platform, ['gizmo_reader']);
    const http = api(p.platform.app, user.token);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await counted(p, () => http.get(GIZMOS)));
    expect(runs.map((r) => r.checks)).toEqual([1, 1, 1]);
    expect(runs[2]!.total).toBe(runs[1]!.total);
    for (const run of runs)
      expect(expectStatus(run.reply, 200).data).toEqual([expect.objectContaining({ name: 'alpha' })]);
    expect((await http.post('/api/auth/logout')).status).toBeLessThan(300);
    expectProblem(await http.get(GIZMOS), 401, 'XRM_ERR_AUTH_REQUIRED');
    // and a change by hand in SQL, with nothing to notify
    const other = await signedInUser(p.platform, ['gizmo_reader']);
    const otherHttp = api(p.platform.app, other.token);
    expectStatus(await otherHttp.get(GIZMOS), 200);
    await sql`UPDATE xrm.users SET disabled = true WHERE id = ${other.id}`.execute(p.platform.services.db);
    expectProblem(await otherHttp.get(GIZMOS), 401, 'XRM_ERR_AUTH_REQUIRED');
  });
});
