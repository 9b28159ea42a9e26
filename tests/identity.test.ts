/**
 * Identity (issue 8, slice 1): the first-run administrator, sign-in by bearer token and session
 * cookie, the same refusal for an unknown email and a wrong password, API keys, and credentials
 * that stop working on the very next request after a user is disabled, a password changes, a
 * session signs out or a key is revoked or expires. Writes record the signed-in principal; a
 * request without credentials is refused (401), and without any user the first administrator is
 * created once through the setup link's token.
 */
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus } from './support/problems.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieValue, setSessionCookie } from '../server/security/tokens.ts';
import { hashPassword, verifyPassword } from '../server/security/passwords.ts';

const ADMIN = { email: 'Admin@Example.com', password: 'correct horse battery staple' };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('passwords', () => {
  it('hashes with scrypt, self-describing, salted, and verifies', async () => {
    const a = await hashPassword('a long enough password');
    const b = await hashPassword('a long enough password');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('a long enough password', a)).toBe(true);
    expect(await verifyPassword('a long enough passworD', a)).toBe(false);
    expect(await verifyPassword('a long enough password', 'scrypt$bad')).toBe(false);
  });

  it('marks the session cookie Secure over https only', () => {
    const set = (protocol: string) => {
      let value = '';
      const reply = { header: (_name: string, v: string) => (value = v) } as unknown as FastifyReply;
      setSessionCookie({ protocol } as FastifyRequest, reply, 'tok', 60);
      return value;
    };
    expect(set('https')).toBe('xrm_session=tok; Max-Age=60; Path=/; HttpOnly; SameSite=Strict; Secure');
    expect(set('http')).toBe('xrm_session=tok; Max-Age=60; Path=/; HttpOnly; SameSite=Strict');
  });

  it('reads one cookie of a Cookie header', () => {
    expect(cookieValue('a=1; xrm_session=abc; b=2', 'xrm_session')).toBe('abc');
    expect(cookieValue('xrm_session_x=1', 'xrm_session')).toBeUndefined();
    expect(cookieValue(undefined, 'xrm_session')).toBeUndefined();
  });
});

describeEachDatabase(
  'identity',
  (get) => {
    /** Requests with only the credentials each call sends (none unless it passes some). */
    const http = () => api(get().app, null);
    const login = async (email: string, password: string) => {
      const reply = await http().post('/api/auth/login', { email, password });
      return expectStatus(reply, 200) as { token: string; expiresAt: string; user: { id: string; email: string } };
    };
    const me = (headers: Record<string, string>) => http().get('/api/auth/me', headers);
    /** The first-run administrator (ADMIN), signed in once per database leg. */
    let adminSession: Promise<{ token: string; user: { id: string } }> | undefined;
    const admin = async () => {
      adminSession ??= login(ADMIN.email, ADMIN.password);
      const { token, user } = await adminSession;
      return { http: api(get().app, token), id: user.id };
    };
    let userSeq = 0;
    /** A user with the given roles (none: signed in, but granted nothing). */
    const newUser = async (roles: string[] = []) => {
      const email = `user${++userSeq}@example.com`;
      const password = `password-${userSeq}-long-enough`;
      const user = await get().services.identity.createUser({ email, displayName: `User ${userSeq}`, password, roles });
      return { ...user, password };
    };

    it('creates the administrator from XRM_ADMIN_EMAIL on first run, once', async () => {
      const users = await sql<{ email: string; password_hash: string }>`
        SELECT email, password_hash FROM xrm.users`.execute(get().services.db);
      expect(users.rows).toHaveLength(1);
      expect(users.rows[0]!.email).toBe(ADMIN.email);
      expect(users.rows[0]!.password_hash).toMatch(/^scrypt\$/);
      expect(users.rows[0]!.password_hash).not.toContain(ADMIN.password);
      await get().services.identity.ensureFirstAdmin('other@example.com', ADMIN.password, get().app.log);
      const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.users`.execute(get().services.db);
      expect(after.rows[0]!.n).toBe(1);
    });

    it('signs in: the token works as a bearer and as the session cookie', async () => {
      const reply = await http().post('/api/auth/login', { email: 'admin@example.COM', password: ADMIN.password });
      const body = expectStatus(reply, 200);
      expect(body.user).toMatchObject({ email: ADMIN.email, displayName: 'Administrator' });
      expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
      const cookie = String(reply.headers['set-cookie']);
      expect(cookie).toContain(`xrm_session=${body.token};`);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\//);
      expect(cookie).not.toMatch(/Secure/);

      const byBearer = expectStatus(await me(bearer(body.token)), 200);
      // the first-run administrator holds the built-in role: every API privilege (only the built-in
      // activity entity exists yet)
      const every = (level: string) =>
        Object.fromEntries(
          ['create', 'read', 'update', 'delete', 'append', 'appendTo', 'assign', 'share'].map((p) => [p, level]),
        );
      expect(byBearer).toEqual({
        user: { id: body.user.id, email: ADMIN.email, displayName: 'Administrator' },
        principal: { kind: 'user', id: body.user.id },
        roles: ['system_administrator'],
        teams: [],
        privileges: { metadata: true, users: true, plugins: true, entities: { activity: every('all') } },
        fields: {},
      });
      const byCookie = expectStatus(await me({ cookie: `theme=dark; xrm_session=${body.token}` }), 200);
      expect(byCookie).toEqual(byBearer);

      const stored = await sql<{ token_hash: string }>`SELECT token_hash FROM xrm.sessions`.execute(get().services.db);
      expect(stored.rows.map((r) => r.token_hash)).not.toContain(body.token);
    });

    it('answers an unknown email and a wrong password identically', async () => {
      const wrong = await http().post('/api/auth/login', { email: ADMIN.email, password: 'not the password!' });
      const unknown = await http().post('/api/auth/login', {
        email: 'nobody@example.com',
        password: 'not the password!',
      });
      expectProblem(wrong, 401, 'XRM_ERR_AUTH_INVALID_CREDENTIALS');
      expect(unknown.status).toBe(401);
      expect(unknown.text).toBe(wrong.text);
      expect(unknown.headers['set-cookie']).toBeUndefined();
    });

    it('answers 401 without credentials or with an invalid token', async () => {
      expectProblem(await me({}), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(await me(bearer('not-a-token')), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(await me({ authorization: 'Basic abc' }), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(await http().get('/api/metadata/entities', bearer('nope')), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(
        await http().get('/api/metadata/entities', { cookie: 'xrm_session=nope' }),
        401,
        'XRM_ERR_AUTH_REQUIRED',
      );
      // signing in over a stale cookie still works
      const reply = await get().app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { 'content-type': 'application/json', cookie: 'xrm_session=stale' },
        payload: JSON.stringify(ADMIN),
      });
      expect(reply.statusCode).toBe(200);
    });

    it('refuses a disabled user on the very next request, and their sign-in', async () => {
      const user = await newUser();
      const { token } = await login(user.email, user.password);
      expectStatus(await me(bearer(token)), 200);
      await get().services.identity.setDisabled(user.id, true);
      expectProblem(await me(bearer(token)), 401, 'XRM_ERR_AUTH_REQUIRED');
      const refused = await http().post('/api/auth/login', { email: user.email, password: user.password });
      expectProblem(refused, 401, 'XRM_ERR_AUTH_INVALID_CREDENTIALS');
      // enabling again does not revive the old session
      await get().services.identity.setDisabled(user.id, false);
      expectProblem(await me(bearer(token)), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectStatus(await me(bearer((await login(user.email, user.password)).token)), 200);
    });

    it('ends sessions signed in before a password change', async () => {
      const user = await newUser();
      const { token } = await login(user.email, user.password);
      expectStatus(await me(bearer(token)), 200);
      await get().services.identity.changePassword(user.id, 'a brand new password');
      expectProblem(await me(bearer(token)), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(
        await http().post('/api/auth/login', { email: user.email, password: user.password }),
        401,
        'XRM_ERR_AUTH_INVALID_CREDENTIALS',
      );
      const fresh = await login(user.email, 'a brand new password');
      expectStatus(await me(bearer(fresh.token)), 200);
      await expect(get().services.identity.changePassword(user.id, 'short')).rejects.toMatchObject({
        code: 'XRM_ERR_REQUEST_INVALID',
      });
    });

    it('signs out: the token stops working and the cookie is cleared', async () => {
      const user = await newUser();
      const a = await login(user.email, user.password);
      const b = await login(user.email, user.password);
      const out = await http().post('/api/auth/logout', undefined, bearer(a.token));
      expect(out.status).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(/^xrm_session=; Max-Age=0/);
      expectProblem(await me(bearer(a.token)), 401, 'XRM_ERR_AUTH_REQUIRED');
      // another session of the same user is unaffected; signing out by cookie works too
      expectStatus(await me(bearer(b.token)), 200);
      const byCookie = await get().app.inject({
        method: 'POST',
        url: '/api/auth/logout',
        headers: { cookie: `xrm_session=${b.token}` },
      });
      expect(byCookie.statusCode).toBe(204);
      expectProblem(await me({ cookie: `xrm_session=${b.token}` }), 401, 'XRM_ERR_AUTH_REQUIRED');
      // signing out again is harmless
      expect((await http().post('/api/auth/logout', undefined, bearer(a.token))).status).toBe(204);
    });

    it('creates API keys shown once, usable as bearer, revoked or expired on the next request', async () => {
      const user = await newUser();
      const { token } = await login(user.email, user.password);
      expectProblem(await http().post('/api/api-keys', { name: 'ci' }), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(
        await http().post('/api/api-keys', { name: 'ci', expiresAt: '2001-01-01T00:00:00Z' }, bearer(token)),
        400,
        'XRM_ERR_REQUEST_INVALID',
      );

      const created = await http().post('/api/api-keys', { name: 'ci' }, bearer(token));
      const key = expectStatus(created, 201);
      expect(created.headers.location).toBe(`/api/api-keys/${key.id}`);
      expect(key.key).toMatch(/^xrm_[A-Za-z0-9_-]{43}$/);
      expect(key).toMatchObject({ name: 'ci', expiresAt: null });

      const listed = expectStatus(await http().get('/api/api-keys', bearer(token)), 200);
      expect(listed.data).toEqual([
        {
          id: key.id,
          name: 'ci',
          createdAt: key.createdAt,
          expiresAt: null,
          revokedAt: null,
          lastUsedAt: null,
          roles: null,
        },
      ]);
      expect(JSON.stringify(listed)).not.toContain(key.key);
      const stored = await sql<{ key_hash: string }>`SELECT key_hash FROM xrm.api_keys WHERE id = ${key.id}`.execute(
        get().services.db,
      );
      expect(stored.rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);

      const asKey = expectStatus(await me(bearer(key.key)), 200);
      expect(asKey).toEqual({
        user: { id: user.id, email: user.email, displayName: user.displayName },
        principal: { kind: 'apiKey', id: key.id },
        roles: [],
        teams: [],
        privileges: {
          metadata: false,
          users: false,
          plugins: false,
          entities: {
            activity: Object.fromEntries(
              ['create', 'read', 'update', 'delete', 'append', 'appendTo', 'assign', 'share'].map((p) => [p, 'none']),
            ),
          },
        },
        fields: {},
      });
      const used = expectStatus(await http().get('/api/api-keys', bearer(token)), 200);
      expect(used.data[0].lastUsedAt).toEqual(expect.any(String));
      // a key cannot manage keys (a signed-in user does)
      expectProblem(await http().get('/api/api-keys', bearer(key.key)), 401, 'XRM_ERR_AUTH_REQUIRED');

      // another user cannot revoke it
      const other = await newUser();
      const otherToken = (await login(other.email, other.password)).token;
      expectProblem(
        await http().delete(`/api/api-keys/${key.id}`, bearer(otherToken)),
        404,
        'XRM_ERR_API_KEY_NOT_FOUND',
      );
      expectProblem(await http().delete('/api/api-keys/not-a-uuid', bearer(token)), 404, 'XRM_ERR_API_KEY_NOT_FOUND');
      expectStatus(await me(bearer(key.key)), 200);

      expect((await http().delete(`/api/api-keys/${key.id}`, bearer(token))).status).toBe(204);
      expectProblem(await me(bearer(key.key)), 401, 'XRM_ERR_AUTH_REQUIRED');
      const revoked = expectStatus(await http().get('/api/api-keys', bearer(token)), 200);
      expect(revoked.data[0].revokedAt).toEqual(expect.any(String));

      const expiring = expectStatus(
        await http().post(
          '/api/api-keys',
          { name: 'short', expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
          bearer(token),
        ),
        201,
      );
      expectStatus(await me(bearer(expiring.key)), 200);
      await sql`UPDATE xrm.api_keys SET expires_at = now() - interval '1 second' WHERE id = ${expiring.id}`.execute(
        get().services.db,
      );
      // by hand in SQL: the change's notice (migration 0010) makes the instance check again
      await vi.waitFor(async () => expectProblem(await me(bearer(expiring.key)), 401, 'XRM_ERR_AUTH_REQUIRED'), {
        timeout: 3000,
        interval: 20,
      });

      // a disabled owner's keys stop too
      const live = expectStatus(await http().post('/api/api-keys', { name: 'live' }, bearer(token)), 201);
      expectStatus(await me(bearer(live.key)), 200);
      await get().services.identity.setDisabled(user.id, true);
      expectProblem(await me(bearer(live.key)), 401, 'XRM_ERR_AUTH_REQUIRED');
    });

    it('administers users: create, list, rename, disable, new password — each effective at once', async () => {
      const { http: asAdmin } = await admin();
      const created = expectStatus(
        await asAdmin.post('/api/users', {
          email: 'grace@example.com',
          displayName: 'Grace',
          password: 'a-long-password-1',
        }),
        201,
      );
      expect(created).toMatchObject({ email: 'grace@example.com', displayName: 'Grace', disabled: false });
      expect(created.passwordHash ?? created.password_hash).toBeUndefined();
      const listed = expectStatus(await asAdmin.get('/api/users'), 200).data as { id: string }[];
      expect(listed.map((u) => u.id)).toContain(created.id);
      expectProblem(
        await asAdmin.post('/api/users', { email: 'GRACE@example.com', password: 'another-long-pass' }),
        409,
        'XRM_ERR_RECORD_DUPLICATE',
      );
      expectProblem(
        await asAdmin.post('/api/users', { email: 'x@example.com', password: 'short' }),
        400,
        'XRM_ERR_REQUEST_INVALID',
      );

      const first = await login('grace@example.com', 'a-long-password-1');
      const renamed = expectStatus(await asAdmin.patch(`/api/users/${created.id}`, { displayName: 'Grace H.' }), 200);
      expect(renamed.displayName).toBe('Grace H.');
      expectStatus(await me(bearer(first.token)), 200);

      expectStatus(await asAdmin.patch(`/api/users/${created.id}`, { password: 'a-new-long-password' }), 200);
      expectProblem(await me(bearer(first.token)), 401, 'XRM_ERR_AUTH_REQUIRED');
      const second = await login('grace@example.com', 'a-new-long-password');
      expect(expectStatus(await asAdmin.patch(`/api/users/${created.id}`, { disabled: true }), 200).disabled).toBe(
        true,
      );
      expectProblem(await me(bearer(second.token)), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(
        await http().post('/api/auth/login', { email: 'grace@example.com', password: 'a-new-long-password' }),
        401,
        'XRM_ERR_AUTH_INVALID_CREDENTIALS',
      );
      expectStatus(await asAdmin.patch(`/api/users/${created.id}`, { disabled: false }), 200);
      await login('grace@example.com', 'a-new-long-password');

      expectProblem(
        await asAdmin.get('/api/users/00000000-0000-4000-8000-000000000000'),
        404,
        'XRM_ERR_USER_NOT_FOUND',
      );
      expectProblem(await asAdmin.patch('/api/users/not-a-uuid', { disabled: true }), 404, 'XRM_ERR_USER_NOT_FOUND');

      // administering users takes the `users` privilege: none without credentials, none for a user without it
      expectProblem(await http().get('/api/users'), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(
        await http().post('/api/users', { email: 'y@example.com', password: 'a-long-password-2' }),
        401,
        'XRM_ERR_AUTH_REQUIRED',
      );
      const plain = await newUser();
      const plainToken = (await login(plain.email, plain.password)).token;
      expectProblem(await http().get('/api/users', bearer(plainToken)), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(
        await http().patch(`/api/users/${created.id}`, { disabled: true }, bearer(plainToken)),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      expect(expectStatus(await asAdmin.get(`/api/users/${created.id}`), 200).disabled).toBe(false);
    });

    it('records the signed-in principal as the actor of data and metadata changes', async () => {
      const { http: asAdmin, id: adminId } = await admin();
      const user = await newUser(['system_administrator']);
      const { token } = await login(user.email, user.password);
      const entity = { name: 'idcase', fields: [{ name: 'name', type: 'text', required: true }] };
      expectStatus(await http().post('/api/metadata/entities', entity, bearer(token)), 201);
      const changes = expectStatus(await asAdmin.get('/api/metadata/changes?target=idcase'), 200);
      const ledger = changes.data as { actor: string; operation: string }[];
      expect(ledger[0]!.actor).toBe(`user:${user.id}`);

      const record = expectStatus(await http().post('/api/data/idcase', { name: 'one' }, bearer(token)), 201);
      const key = expectStatus(await http().post('/api/api-keys', { name: 'writer' }, bearer(token)), 201);
      expectStatus(await http().patch(`/api/data/idcase/${record.id}`, { name: 'two' }, bearer(key.key)), 200);
      // no credentials, no change (there is no anonymous `system` actor any more)
      expectProblem(
        await http().patch(`/api/data/idcase/${record.id}`, { name: 'nobody' }),
        401,
        'XRM_ERR_AUTH_REQUIRED',
      );
      expectStatus(await asAdmin.patch(`/api/data/idcase/${record.id}`, { name: 'three' }), 200);
      const history = expectStatus(await asAdmin.get(`/api/data/idcase/${record.id}/history`), 200);
      expect(history.data.map((h: { actor: string }) => h.actor)).toEqual([
        `user:${adminId}`,
        `apiKey:${key.id}`,
        `user:${user.id}`,
      ]);
    });
  },
  { config: { adminEmail: ADMIN.email, adminPassword: ADMIN.password } },
);

describeEachDatabase(
  'first-run setup',
  (get) => {
    const http = () => api(get().app, null);

    it('refuses the API until the first administrator exists, created once with the setup token', async () => {
      expect(expectStatus(await http().get('/api/auth/setup'), 200)).toEqual({ required: true });
      // no user yet is no open door
      expectProblem(await http().get('/api/metadata/entities'), 401, 'XRM_ERR_AUTH_REQUIRED');
      expectProblem(await http().post('/api/data/anything', { name: 'x' }), 401, 'XRM_ERR_AUTH_REQUIRED');

      // the token of the link the server printed at start
      const token = await get().services.identity.setupToken();
      expect(token).toEqual(expect.any(String));
      const input = { email: 'first@example.com', password: 'first administrator password', displayName: 'First' };
      expectProblem(
        await http().post('/api/auth/setup', { ...input, token: 'not-the-token' }),
        401,
        'XRM_ERR_AUTH_REQUIRED',
      );
      expect(expectStatus(await http().get('/api/auth/setup'), 200)).toEqual({ required: true });

      const reply = await http().post('/api/auth/setup', { ...input, token });
      const body = expectStatus(reply, 200);
      expect(body.user).toMatchObject({ email: input.email, displayName: 'First' });
      expect(String(reply.headers['set-cookie'])).toContain(`xrm_session=${body.token};`);
      const me = expectStatus(await http().get('/api/auth/me', bearer(body.token)), 200);
      expect(me.principal).toEqual({ kind: 'user', id: body.user.id });
      expect(me.roles).toEqual(['system_administrator']);
      expectStatus(await http().get('/api/metadata/entities', bearer(body.token)), 200);

      // setup is done, for anyone, with any token
      expect(expectStatus(await http().get('/api/auth/setup'), 200)).toEqual({ required: false });
      expectProblem(
        await http().post('/api/auth/setup', { ...input, email: 'second@example.com', token }),
        409,
        'XRM_ERR_SETUP_DONE',
      );
      expectProblem(await http().get('/api/metadata/entities'), 401, 'XRM_ERR_AUTH_REQUIRED');
      const users = await sql<{ email: string }>`SELECT email FROM xrm.users`.execute(get().services.db);
      expect(users.rows).toEqual([{ email: input.email }]);
    });
  },
  { config: { adminEmail: undefined, adminPassword: undefined } },
);
