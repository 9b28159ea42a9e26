/**
 * HTTP hardening (server/hardening.ts): security headers and a Content-Security-Policy the
 * platform's own pages live within, CORS for listed origins only, the per-address and sign-in
 * rate limits answering 429 problems, and statement_timeout cancelling a request's runaway
 * statement with a 504 problem while schema changes and migrations are never cut off.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, migrateToLatest } from '../metadata/database.ts';
import { SCHEMA_LOCK_KEY } from '../metadata/service.ts';
import { loadConfig } from '../server/config.ts';
import { checkCorsOrigins } from '../server/hardening.ts';
import { isStatementTimeout } from '../server/records/database-errors.ts';
import { adminToken, api, call, type Reply } from './support/http.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './support/browser.ts';
import {
  createTestDatabase,
  describeEachDatabase,
  startTestPlatform,
  TEST_ADMIN,
  type TestPlatform,
} from './support/platform.ts';
import { expectProblem, expectStatus } from './support/problems.ts';
import { listen } from './support/tools.ts';

const LISTED = 'https://app.example.com';
const UNLISTED = 'https://evil.example.net';
const LOGIN_LIMIT = 3;
const TIMEOUT_MS = 200;

/** A request from another client address (app.inject's remoteAddress), body as JSON when given. */
async function from(
  platform: TestPlatform,
  address: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await platform.app.inject({
    method: method as 'GET',
    url,
    remoteAddress: address,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const type = String(res.headers['content-type'] ?? '');
  const parsed = type.includes('json') && res.body.length ? JSON.parse(res.body) : res.body;
  return { status: res.statusCode, body: parsed, headers: res.headers, text: res.body };
}

function expectRateLimited(reply: Reply): void {
  expectProblem(reply, 429, 'XRM_ERR_RATE_LIMITED');
  const retryAfter = Number(reply.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(reply.body.detail).toContain(`retry in ${retryAfter} s`);
}

/** The CSP header as directive name → sources. */
function cspOf(reply: Reply): Map<string, string[]> {
  const header = String(reply.headers['content-security-policy'] ?? '');
  const directives = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

describe('hardening configuration', () => {
  it('reads the limits and origins from the environment, with defaults', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({
      corsOrigins: [],
      rateLimitPerMinute: 1200,
      loginRateLimitPerMinute: 10,
      statementTimeoutMs: 30_000,
      ddlLockTimeoutMs: 5_000,
      databasePoolSize: 10,
    });
    const set = loadConfig({
      XRM_CORS_ORIGINS: ' https://a.example.com , http://localhost:5173,',
      XRM_RATE_LIMIT_PER_MINUTE: '0',
      XRM_LOGIN_RATE_LIMIT_PER_MINUTE: '5',
      XRM_STATEMENT_TIMEOUT_MS: '0',
      XRM_DDL_LOCK_TIMEOUT_MS: '0',
      XRM_DATABASE_POOL_SIZE: '3',
    });
    expect(set).toMatchObject({
      corsOrigins: ['https://a.example.com', 'http://localhost:5173'],
      rateLimitPerMinute: 0,
      loginRateLimitPerMinute: 5,
      statementTimeoutMs: 0,
      ddlLockTimeoutMs: 0,
      databasePoolSize: 3,
    });
    expect(() => loadConfig({ XRM_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(/XRM_STATEMENT_TIMEOUT_MS/);
    expect(() => loadConfig({ XRM_DATABASE_POOL_SIZE: 'x' })).toThrow(/XRM_DATABASE_POOL_SIZE/);
  });

  it('accepts only exact origins: never `*`, a path or a trailing slash', () => {
    expect(() => checkCorsOrigins(['https://a.example.com', 'http://127.0.0.1:5173'])).not.toThrow();
    expect(() => checkCorsOrigins(['*'])).toThrow(/credentials/);
    for (const bad of ['https://a.example.com/', 'https://a.example.com/app', 'a.example.com', 'null'])
      expect(() => checkCorsOrigins([bad]), bad).toThrow(/exact origins/);
  });

  it('tells a statement timeout from an operator cancelling a statement', () => {
    const timeout = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    const cancelled = Object.assign(new Error('canceling statement due to user request'), { code: '57014' });
    expect(isStatementTimeout(timeout)).toBe(true);
    expect(isStatementTimeout(new Error('wrapped', { cause: timeout }))).toBe(true);
    expect(isStatementTimeout(cancelled)).toBe(false);
  });
});

describeEachDatabase(
  'HTTP hardening',
  (get, kind) => {
    const http = () => api(get().app);

    it('sends security headers on API, admin, error and health responses', async () => {
      for (const url of ['/api/metadata/entities', '/admin', '/admin/data/contact', '/api/nope', '/health']) {
        const reply = await http().get(url);
        const h = reply.headers;
        expect(h['x-content-type-options'], url).toBe('nosniff');
        expect(h['x-frame-options'], url).toBe('SAMEORIGIN');
        expect(h['referrer-policy'], url).toBe('no-referrer');
        expect(h['strict-transport-security'], url).toMatch(/^max-age=\d+/);
        expect(h['cross-origin-opener-policy'], url).toBe('same-origin');
        expect(h['cross-origin-resource-policy'], url).toBe('same-origin');
        expect(h['x-powered-by'], url).toBeUndefined();
        const csp = cspOf(reply);
        expect(csp.get('default-src'), url).toEqual(["'self'"]);
        expect(csp.get('script-src'), url).toEqual(["'self'"]);
        expect(csp.get('object-src'), url).toEqual(["'none'"]);
        // served over plain HTTP on private addresses too: its own assets must not be upgraded
        expect(csp.has('upgrade-insecure-requests'), url).toBe(false);
      }
    });

    it('allows what the admin UI, GraphiQL and /docs load: same-origin scripts, no inline script', async () => {
      for (const url of ['/admin', '/graphiql', '/docs/']) {
        const page = await http().get(url);
        expect(page.status, url).toBe(200);
        expect(String(page.headers['content-type']), url).toMatch(/^text\/html/);
        const csp = cspOf(page);
        const html = page.text;
        // no inline script: every <script> has a same-origin src, which 'self' allows, and it is served
        const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
        expect(scripts.length, url).toBeGreaterThan(0);
        for (const [, attributes, body] of scripts) {
          const src = /\bsrc="([^"]+)"/.exec(attributes ?? '')?.[1];
          expect(src, `${url}: an inline script CSP would block`).toBeDefined();
          expect(body!.trim(), url).toBe('');
          const asset = new URL(src!, `http://platform${url}`);
          expect(asset.host, src).toBe('platform');
          expect((await http().get(asset.pathname)).status, src).toBe(200);
        }
        expect(csp.get('script-src')).toEqual(["'self'"]);
        // stylesheets from the same origin; GraphiQL's one inline <style> (and Monaco's) needs 'unsafe-inline'
        for (const [, href] of html.matchAll(/<link rel="stylesheet"[^>]*href="([^"]+)"/g))
          expect(new URL(href!, `http://platform${url}`).host, href).toBe('platform');
        if (/<style>/.test(html)) expect(csp.get('style-src')).toContain("'unsafe-inline'");
      }
      // Monaco's web workers (see the Chromium suite below) and Swagger UI's data: logo
      expect(cspOf(await http().get('/graphiql')).get('worker-src')).toEqual(["'self'"]);
      expect(cspOf(await http().get('/docs/')).get('img-src')).toEqual(["'self'", 'data:']);
    });

    describe('CORS', () => {
      const preflight = (origin: string) =>
        from(get(), '127.0.0.1', 'OPTIONS', '/api/metadata/entities', undefined, {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, authorization',
        });

      it('answers a listed origin with credentials, on the preflight and the request', async () => {
        const pre = await preflight(LISTED);
        expect(pre.status).toBe(204);
        expect(pre.headers['access-control-allow-origin']).toBe(LISTED);
        expect(pre.headers['access-control-allow-credentials']).toBe('true');
        expect(String(pre.headers['access-control-allow-methods'])).toContain('PATCH');
        expect(pre.headers['access-control-allow-headers']).toBe('content-type, authorization');
        expect(String(pre.headers.vary)).toMatch(/Origin/);

        const reply = await http().get('/api/metadata/entities', { origin: LISTED });
        expect(reply.status).toBe(200);
        expect(reply.headers['access-control-allow-origin']).toBe(LISTED);
        expect(reply.headers['access-control-allow-credentials']).toBe('true');
        expect(reply.headers['access-control-expose-headers']).toBe('ETag, Location, Retry-After');
        expect(String(reply.headers.vary)).toMatch(/Origin/);
      });

      it('gives an unlisted origin, or none, no CORS header at all', async () => {
        const pre = await preflight(UNLISTED);
        expect(pre.status).not.toBe(204);
        expect(String(pre.headers['content-type'])).toMatch(/^application\/problem\+json/);
        for (const reply of [pre, await http().get('/api/metadata/entities', { origin: UNLISTED })]) {
          expect(reply.headers['access-control-allow-origin']).toBeUndefined();
          expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
          expect(reply.headers['access-control-expose-headers']).toBeUndefined();
        }
        // a listed origin's scheme or port must match exactly
        const pre2 = await preflight('http://app.example.com');
        expect(pre2.headers['access-control-allow-origin']).toBeUndefined();
      });

      it('keeps unknown paths 404 and 405s listing real methods with the preflight route in place', async () => {
        expectProblem(await call(get().app, 'PUT', '/api/nope'), 404, 'XRM_ERR_ROUTE_NOT_FOUND');
        const wrong = expectProblem(await call(get().app, 'POST', '/health'), 405, 'XRM_ERR_ROUTE_METHOD_NOT_ALLOWED');
        expect(wrong.headers.allow).toBe('GET, HEAD');
      });
    });

    describe('sign-in throttle', () => {
      const login = (address: string, email: string, password: string) =>
        from(get(), address, 'POST', '/api/auth/login', { email, password });

      it(`answers 429 past ${LOGIN_LIMIT} attempts for an email from an address, right password or not`, async () => {
        await adminToken(get().app); // the suite's own sign-in, from 127.0.0.1, before anything below
        const attacker = '203.0.113.7';
        for (let i = 0; i < LOGIN_LIMIT; i++)
          expectProblem(await login(attacker, TEST_ADMIN.email, `guess ${i}`), 401, 'XRM_ERR_AUTH_INVALID_CREDENTIALS');
        // the same email in other case counts against the same key; the right password no longer helps
        expectRateLimited(await login(attacker, TEST_ADMIN.email.toUpperCase(), 'guess 4'));
        expectRateLimited(await login(attacker, TEST_ADMIN.email, TEST_ADMIN.password));

        // another email from that address, and that email from another address, are not affected
        expectProblem(await login(attacker, 'someone.else@example.com', 'x'), 401, 'XRM_ERR_AUTH_INVALID_CREDENTIALS');
        expectStatus(await login('198.51.100.20', TEST_ADMIN.email, TEST_ADMIN.password), 200);
        // and the rest of the API answers that address
        expect((await from(get(), attacker, 'GET', '/health')).status).toBe(200);
      });

      it('throttles malformed sign-in bodies as well', async () => {
        const address = '203.0.113.8';
        for (let i = 0; i < LOGIN_LIMIT; i++)
          expect((await from(get(), address, 'POST', '/api/auth/login', { password: 1 })).status).toBe(400);
        expectRateLimited(await from(get(), address, 'POST', '/api/auth/login', { password: 1 }));
      });

      it('throttles the first-run setup the same way', async () => {
        const address = '203.0.113.9';
        const setup = () =>
          from(get(), address, 'POST', '/api/auth/setup', {
            token: 'not-the-token',
            email: 'new.admin@example.com',
            password: 'a long enough password',
          });
        for (let i = 0; i < LOGIN_LIMIT; i++) {
          const reply = await setup();
          // refused (wrong token, or setup already done), but a real route: not a 404
          expect([401, 409], reply.text).toContain(reply.status);
        }
        expectRateLimited(await setup());
      });
    });

    describe('statement_timeout', () => {
      if (kind === 'postgres') {
        it(`cancels a request's statement after ${TIMEOUT_MS} ms with a 504 problem naming the limit`, async () => {
          const platform = get();
          expectStatus(
            await http().post('/api/metadata/entities', {
              name: 'locked_thing',
              fields: [{ name: 'name', type: 'text' }],
            }),
            201,
          );
          const record = expectStatus(await http().post('/api/data/locked_thing', { name: 'before' }), 201);
          // another session holds the table: the request's SELECT waits for the lock until PostgreSQL cancels it
          const holder = new pg.Client({ connectionString: platform.database.config.databaseUrl });
          await holder.connect();
          try {
            await holder.query('BEGIN');
            await holder.query('LOCK TABLE data.locked_thing IN ACCESS EXCLUSIVE MODE');
            const started = Date.now();
            const reply = await http().get('/api/data/locked_thing');
            const elapsed = Date.now() - started;
            expectProblem(reply, 504, 'XRM_ERR_QUERY_TIMEOUT');
            expect(reply.body.detail).toContain(`ran longer than ${TIMEOUT_MS} ms`);
            expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
            expect(elapsed).toBeLessThan(5_000);
            // a write too, rolled back
            const write = await http().patch(`/api/data/locked_thing/${record.id}`, { name: 'after' });
            expectProblem(write, 504, 'XRM_ERR_QUERY_TIMEOUT');
            // GraphQL names it the same way
            const graphql = await http().graphql('{ lockedThings { nodes { name } } }');
            expect(graphql.body.errors[0].extensions).toMatchObject({ code: 'XRM_ERR_QUERY_TIMEOUT', status: 504 });
          } finally {
            await holder.query('ROLLBACK');
            await holder.end();
          }
          const after = expectStatus(await http().get(`/api/data/locked_thing/${record.id}`), 200);
          expect(after.name).toBe('before');
        });

        it('applies to every pooled connection, and not to schema changes', async () => {
          const { db } = get().services;
          const show = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(db);
          expect(show.rows[0]!.statement_timeout).toBe(`${TIMEOUT_MS}ms`);
          const error = await sql`SELECT pg_sleep(1)`.execute(db).catch((e: unknown) => e);
          expect(isStatementTimeout(error)).toBe(true);

          // a schema change waiting longer than the limit (here for another instance's change) completes
          const holder = new pg.Client({ connectionString: get().database.config.databaseUrl });
          await holder.connect();
          try {
            await holder.query('BEGIN');
            await holder.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
            const change = http().post('/api/metadata/entities', {
              name: 'patient_change',
              fields: [{ name: 'name', type: 'text' }],
            });
            await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
            await holder.query('COMMIT');
            expectStatus(await change, 201);
          } finally {
            await holder.end();
          }
        });

        it('opens at most XRM_DATABASE_POOL_SIZE connections; more statements wait for one', async () => {
          const fresh = await createTestDatabase('postgres');
          const database = openDatabase({ ...fresh.config, databasePoolSize: 2 });
          try {
            const backends = () =>
              sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'xrm-platform' AND pid <> pg_backend_pid()`;
            const seen: number[] = [];
            await Promise.all(
              Array.from({ length: 6 }, () =>
                backends()
                  .execute(database.db)
                  .then(async ({ rows }) => {
                    seen.push(rows[0]!.n);
                    await sql`SELECT pg_sleep(0.05)`.execute(database.db);
                  }),
              ),
            );
            expect(database.pool!.totalCount).toBe(2);
            expect(Math.max(...seen)).toBeLessThanOrEqual(1);
          } finally {
            await database.close();
            await fresh.drop();
          }
        });

        it('runs migrations without it and hands the connection back with it', async () => {
          const fresh = await createTestDatabase('postgres');
          const database = openDatabase({ ...fresh.config, statementTimeoutMs: TIMEOUT_MS });
          try {
            await migrateToLatest(database.db);
            // one connection: the one the migrations ran on
            const show = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(database.db);
            expect(show.rows[0]!.statement_timeout).toBe(`${TIMEOUT_MS}ms`);
            expect(database.pool!.totalCount).toBe(1);
          } finally {
            await database.close();
            await fresh.drop();
          }
        });
      } else {
        it('is not enforced by PGlite (no timer interrupt in its WASM build): a long statement completes', async () => {
          const { db } = get().services;
          const started = Date.now();
          await sql`SELECT pg_sleep(${(TIMEOUT_MS * 2) / 1000})`.execute(db);
          expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS * 2 - 20);
        });
      }
    });
  },
  {
    config: {
      corsOrigins: [LISTED],
      loginRateLimitPerMinute: LOGIN_LIMIT,
      statementTimeoutMs: TIMEOUT_MS,
    },
  },
);

describeEachDatabase(
  'global rate limit',
  (get) => {
    it('answers 429 problems past the limit of an address, to every route but /health', async () => {
      const address = '192.0.2.50';
      const token = await adminToken(get().app);
      const auth = { authorization: `Bearer ${token}` };
      for (let i = 0; i < 5; i++) {
        const reply = await from(get(), address, 'GET', '/api/metadata/entities', undefined, auth);
        expect(reply.status).toBe(200);
        expect(reply.headers['x-ratelimit-limit']).toBe('5');
        expect(reply.headers['x-ratelimit-remaining']).toBe(String(4 - i));
      }
      const limited = await from(get(), address, 'GET', '/api/metadata/entities', undefined, auth);
      expectRateLimited(limited);
      expect(limited.body.detail).toContain('More than 5 requests a minute from this address');
      expect(limited.headers['x-content-type-options']).toBe('nosniff');
      // unknown routes too; GraphQL answers the same code in its own errors shape
      expectRateLimited(await from(get(), address, 'GET', '/api/nope'));
      const graphql = await from(get(), address, 'POST', '/graphql', { query: '{ __typename }' }, auth);
      expect(graphql.status).toBe(429);
      expect(graphql.body.errors[0].extensions).toMatchObject({ code: 'XRM_ERR_RATE_LIMITED', status: 429 });
      expect(Number(graphql.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // /health never
      for (let i = 0; i < 10; i++) expect((await from(get(), address, 'GET', '/health')).status).toBe(200);
      // another address is not affected
      expect((await from(get(), '192.0.2.51', 'GET', '/api/metadata/entities', undefined, auth)).status).toBe(200);
    });
  },
  { config: { rateLimitPerMinute: 5 } },
);

describe('behind a reverse proxy (XRM_TRUST_PROXY) [pglite]', () => {
  const PROXY = '192.0.2.10';
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform('pglite', { rateLimitPerMinute: 3, trustProxy: PROXY });
  });
  afterAll(async () => {
    await platform?.close();
  });
  // unauthenticated: 401 until the address is past its limit
  const get = (address: string, headers: Record<string, string> = {}) =>
    from(platform, address, 'GET', '/api/metadata/entities', undefined, headers);

  it("limits each client the trusted proxy names in X-Forwarded-For, not the proxy's own address", async () => {
    const client = { 'x-forwarded-for': '198.51.100.1' };
    for (let i = 0; i < 3; i++) expect((await get(PROXY, client)).status).toBe(401);
    expectRateLimited(await get(PROXY, client));
    // another client behind the same proxy has a limit of its own
    expect((await get(PROXY, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(401);
  });

  it('believes no X-Forwarded-For from any other peer: a client cannot change its address', async () => {
    const peer = '203.0.113.7';
    for (let i = 0; i < 3; i++)
      expect((await get(peer, { 'x-forwarded-for': `198.51.100.${20 + i}` })).status).toBe(401);
    expectRateLimited(await get(peer, { 'x-forwarded-for': '198.51.100.99' }));
  });

  it("marks the session cookie Secure when the trusted proxy says the client's scheme was https", async () => {
    const login = (address: string, proto: string) =>
      platform.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: address,
        headers: { 'x-forwarded-proto': proto, 'x-forwarded-for': '198.51.100.40' },
        payload: TEST_ADMIN,
      });
    const behind = await login(PROXY, 'https');
    expect(behind.statusCode).toBe(200);
    expect(String(behind.headers['set-cookie'])).toMatch(/; Secure/);
    const direct = await login('203.0.113.8', 'https');
    expect(direct.statusCode).toBe(200);
    expect(String(direct.headers['set-cookie'])).not.toMatch(/Secure/);
  });

  it('reads XRM_TRUST_PROXY as off, on, a hop count or addresses and ranges', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ XRM_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ XRM_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ XRM_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ XRM_TRUST_PROXY: ' 10.0.0.0/8, 127.0.0.1 ,loopback,' }).trustProxy).toBe(
      '10.0.0.0/8,127.0.0.1,loopback',
    );
    expect(() => loadConfig({ XRM_TRUST_PROXY: 'proxy.example.com' })).toThrow(/XRM_TRUST_PROXY/);
  });
});

describe('behind one proxy hop (XRM_TRUST_PROXY=1) [pglite]', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform('pglite', { rateLimitPerMinute: 2, trustProxy: 1 });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('takes the address the nearest proxy appended, whatever the client put before it', async () => {
    const get = (forwarded: string) =>
      from(platform, '10.1.2.3', 'GET', '/api/metadata/entities', undefined, { 'x-forwarded-for': forwarded });
    // the client claims another address each time; the proxy appends the one it saw
    for (let i = 0; i < 2; i++) expect((await get(`198.51.100.${60 + i}, 203.0.113.50`)).status).toBe(401);
    expectRateLimited(await get('198.51.100.62, 203.0.113.50'));
    expect((await get('198.51.100.60, 203.0.113.51')).status).toBe(401);
  });
});

describe("the platform's pages under its Content-Security-Policy, in Chromium [pglite]", () => {
  let platform: TestPlatform;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    platform = await startTestPlatform('pglite');
    base = await listen(platform.app);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  /**
   * Opens a page, waits for `selector` (and for `workers` web workers to start), and returns every
   * CSP violation the browser reported.
   */
  async function violationsOf(path: string, selector: string, workers = 0): Promise<string[]> {
    // signed in, as the admin UI would be: /docs and GraphiQL load the caller's own documents
    const context = await browser.newContext();
    await context.addCookies([{ name: 'xrm_session', value: (await adminToken(platform.app))!, url: base }]);
    const page = await context.newPage();
    const violations: string[] = [];
    const started: string[] = [];
    page.on('worker', (worker) => started.push(new URL(worker.url()).pathname));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', " +
        "(e) => window.reportViolation(e.violatedDirective + ' blocked ' + e.blockedURI))",
    );
    try {
      const response = await page.goto(`${base}${path}`);
      expect(response?.headers()['content-security-policy'], path).toContain("script-src 'self'");
      await page.locator(selector).first().waitFor({ timeout: 20_000 });
      // let late scripts, workers and styles load
      await page.waitForLoadState('networkidle');
      await expect.poll(() => started.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(workers);
      for (const url of started) expect(url).toMatch(/^\/admin\/assets\/[\w.-]+\.js$/);
      return violations;
    } finally {
      await context.close();
    }
  }

  it('renders the admin UI without a violation', async () => {
    expect(await violationsOf('/admin', '#root > *')).toEqual([]);
  });

  it('renders GraphiQL, its Monaco editor and workers, without a violation', async () => {
    // Monaco's three: the editor, JSON (variables) and GraphQL language workers
    expect(await violationsOf('/graphiql', '.graphiql-container .monaco-editor', 3)).toEqual([]);
  });

  it('renders the API reference (Swagger UI) without a violation', async () => {
    expect(await violationsOf('/docs', '.swagger-ui .opblock')).toEqual([]);
  });
});
