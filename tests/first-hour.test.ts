/**
 * The first hour with the platform: `/` leads to the admin UI, /graphiql and /docs explore the
 * API with every page and asset served by the platform itself, a wrong method is a 405 naming
 * the right ones, and the logs are readable: JSON lines on a pipe (pretty on a terminal or with
 * XRM_LOG_FORMAT=pretty), /health polls below info, a final "closed" line. GraphiQL and the API
 * reference are also driven in Debian's Chromium (/usr/bin/chromium, never skipped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { adminToken, api, call } from './support/http.ts';
import { describeEachDatabase, startTestPlatform, type TestPlatform } from './support/platform.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './support/browser.ts';
import { TEST_ADMIN } from './support/test-admin.ts';
import { listen, ROOT } from './support/tools.ts';

const ID = '11111111-1111-4111-8111-111111111111';

/** The script, stylesheet and preload URLs of an HTML page. */
function assetUrls(html: string): string[] {
  return [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
}

type LogLine = Record<string, any>;

describe('configuration of the log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless XRM_LOG_FORMAT says', () => {
    expect(loadConfig({}, true).logFormat).toBe('pretty');
    expect(loadConfig({}, false).logFormat).toBe('json');
    expect(loadConfig({ XRM_LOG_FORMAT: 'json' }, true).logFormat).toBe('json');
    expect(loadConfig({ XRM_LOG_FORMAT: 'pretty' }, false).logFormat).toBe('pretty');
    expect(() => loadConfig({ XRM_LOG_FORMAT: 'xml' })).toThrow(/XRM_LOG_FORMAT must be one of pretty, json/);
  });
});

const logs: LogLine[] = [];
const logStream = { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) };

describeEachDatabase(
  'first hour over HTTP',
  (get) => {
    const http = () => api(get().app);
    const raw = (method: string, url: string) => call(get().app, method, url);

    it('redirects / to the admin UI', async () => {
      const res = await http().get('/');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/admin');
    });

    it('answers a method a path does not take with 405 and an Allow header', async () => {
      const cases = [
        ['PUT', `/api/data/partner/${ID}`, 'GET, HEAD, PATCH, DELETE'],
        ['DELETE', '/api/metadata/entities', 'GET, HEAD, POST'],
        ['PUT', '/graphql', 'GET, HEAD, POST'],
        ['POST', '/health', 'GET, HEAD'],
      ] as const;
      for (const [method, url, allow] of cases) {
        const res = await raw(method, url);
        expect(res.status, `${method} ${url}`).toBe(405);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers.allow).toBe(allow);
        expect(res.body).toMatchObject({
          status: 405,
          code: 'XRM_ERR_ROUTE_METHOD_NOT_ALLOWED',
          title: 'Method not allowed',
          instance: url,
        });
        expect(res.body.detail).toContain(allow);
      }
      // a path no method takes is still a 404
      const missing = await raw('PUT', '/api/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('XRM_ERR_ROUTE_NOT_FOUND');
      expect(missing.headers.allow).toBeUndefined();
      // a segment no route can match (past the router's parameter length) is a 404 as well
      expect((await raw('PUT', `/api/data/partner/${'a'.repeat(300)}`)).status).toBe(404);
    });

    it('serves the API reference at /docs with its own assets, reading /openapi.json', async () => {
      const page = await http().get('/docs');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const urls = assetUrls(page.text);
      expect(urls.filter((u) => u.endsWith('.js')).length).toBeGreaterThanOrEqual(3);
      expect(urls.some((u) => u.endsWith('.css'))).toBe(true);
      for (const url of urls) {
        expect(url, 'served by us').toMatch(/^\/docs\//);
        const asset = await http().get(url);
        expect(asset.status, url).toBe(200);
        expect(asset.text.length, url).toBeGreaterThan(0);
      }
      // Swagger UI asks for /docs/json: the live document, the one at /openapi.json
      const spec = await http().get('/docs/json');
      expect(spec.status).toBe(302);
      expect(spec.headers.location).toBe('/openapi.json');
    });

    it('serves GraphiQL at /graphiql with its bundle from the admin UI build', async () => {
      const page = await http().get('/graphiql');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const urls = assetUrls(page.text);
      expect(urls.some((u) => u.endsWith('.js'))).toBe(true);
      expect(urls.some((u) => u.endsWith('.css'))).toBe(true);
      for (const url of urls) {
        expect(url, 'served by us').toMatch(/^\/admin\//);
        const asset = await http().get(url);
        expect(asset.status, url).toBe(200);
        expect(asset.headers['content-type'], url).toMatch(url.endsWith('.css') ? /^text\/css/ : /javascript|svg/);
      }
    });

    it('keeps /, /docs and /graphiql out of the OpenAPI document', async () => {
      const doc = (await http().get('/openapi.json')).body as { paths: Record<string, unknown> };
      expect(
        Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/docs') || p.startsWith('/graphiql')),
      ).toEqual([]);
    });

    it('logs /health polls at debug and other requests at info', async () => {
      const from = logs.length;
      await http().get('/health');
      await http().get('/health?probe=1');
      await http().get('/api/metadata/entities');
      const lines = logs.slice(from);
      const incoming = lines.filter((l) => l.msg === 'incoming request');
      const health = incoming.filter((l) => String(l.req.url).startsWith('/health'));
      expect(health.map((l) => l.level)).toEqual([20, 20]);
      const entities = incoming.find((l) => l.req.url === '/api/metadata/entities');
      expect(entities?.level).toBe(30);
      const completed = (reqId: string) =>
        lines.filter((l) => l.msg === 'request completed' && l.reqId === reqId).map((l) => l.level);
      for (const l of health) expect(completed(l.reqId)).toEqual([20]);
      expect(completed(entities!.reqId)).toEqual([30]);
    });
  },
  { config: { logLevel: 'debug' }, build: { logStream } },
);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

interface Server {
  child: ChildProcess;
  base: string;
  /** Everything written to stdout so far. */
  output(): string;
  /** Signs the administrator in (POST /api/auth/login): `{ authorization: 'Bearer …' }`. */
  auth(): Promise<Record<string, string>>;
}

/** `npm start`'s entry point on in-memory PGlite, stdout a pipe, once /health answers 200. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const { XRM_LOG_FORMAT: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...inherited,
      XRM_DATA_DIR: 'memory://',
      LOG_LEVEL: 'info',
      XRM_ADMIN_EMAIL: TEST_ADMIN.email,
      XRM_ADMIN_PASSWORD: TEST_ADMIN.password,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => errors.push(chunk));
  const base = `http://127.0.0.1:${port}`;
  const server: Server = {
    child,
    base,
    output: () => Buffer.concat(chunks).toString(),
    async auth() {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(TEST_ADMIN),
      });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
      return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`server exited early with ${child.exitCode}: ${server.output()}${Buffer.concat(errors)}`);
    if (
      await fetch(`${server.base}/health`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return server;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not become healthy in 30 s');
}

async function stop(server: Server): Promise<number | null> {
  server.child.kill('SIGTERM');
  // 'close', not 'exit': stdout has been read to its end
  const [code] = (await once(server.child, 'close')) as [number | null];
  return code;
}

describe('npm start logs', () => {
  let json: Server;
  let pretty: Server;

  beforeAll(async () => {
    // both at once: most of a start is PGlite's own
    const started = await Promise.allSettled([startServer({}), startServer({ XRM_LOG_FORMAT: 'pretty' })]);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      for (const s of started) if (s.status === 'fulfilled') s.value.child.kill('SIGKILL');
      throw failed.reason;
    }
    [json, pretty] = started.map((s) => (s as PromiseFulfilledResult<Server>).value) as [Server, Server];
  });

  afterAll(() => {
    for (const server of [json, pretty]) if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('writes JSON lines on a pipe, no info line for /health polls, and "closed" last', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${json.base}/health`)).status).toBe(200);
    const auth = await json.auth();
    expect((await fetch(`${json.base}/api/metadata/entities`, { headers: auth })).status).toBe(200);
    // both requests (the sign-in and the read) are logged before the stop
    await expect.poll(() => json.output().split('"msg":"request completed"').length - 1).toBe(2);
    expect(await stop(json)).toBe(0);

    const lines = json
      .output()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine);
    expect(lines.some((l) => l.level === 30 && String(l.msg).startsWith('xrm-platform ready on'))).toBe(true);
    // only the requests that are not health checks are logged (the sign-in and the read), incoming
    // and completed; neither the password nor the token it answered is in the log
    expect(lines.filter((l) => l.msg === 'incoming request').map((l) => l.req.url)).toEqual([
      '/api/auth/login',
      '/api/metadata/entities',
    ]);
    expect(lines.filter((l) => l.msg === 'request completed')).toHaveLength(2);
    expect(lines.filter((l) => JSON.stringify(l).includes('/health'))).toEqual([]);
    expect(json.output()).not.toContain(TEST_ADMIN.password);
    expect(json.output()).not.toContain(auth.authorization!.slice('Bearer '.length));
    expect(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    expect(lines.at(-1), JSON.stringify(lines.slice(-5).map((l) => [l.time, l.msg, l.reqId]))).toMatchObject({
      level: 30,
      msg: 'closed',
    });
  });

  it('writes readable lines with XRM_LOG_FORMAT=pretty', async () => {
    const auth = await pretty.auth();
    expect((await fetch(`${pretty.base}/api/metadata/entities`, { headers: auth })).status).toBe(200);
    await expect.poll(() => pretty.output().split('request completed').length - 1).toBe(2);
    expect(await stop(pretty)).toBe(0);

    // ANSI colour codes out (ESC [ … m)
    const text = pretty.output().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    expect(text).not.toMatch(/^\{/m);
    expect(text).toMatch(/INFO: \[req-\w+\] incoming request GET \/api\/metadata\/entities$/m);
    expect(text).toMatch(/INFO: \[req-\w+\] request completed 200 in \d+\.\d ms$/m);
    expect(text.trimEnd()).toMatch(/INFO: closed$/);
  });
});

describe('GraphiQL and the API reference in Chromium [pglite]', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let base: string;
  /** The administrator's session: the browser holds it as the admin UI's `xrm_session` cookie. */
  let session: string;
  const serverLogs: LogLine[] = [];

  beforeAll(async () => {
    // fail, never skip, without the browser
    expect(existsSync(CHROMIUM), `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
    // the server's warnings and errors, shown when a page gets an unexpected answer
    const warnings = { write: (line: string) => void serverLogs.push(JSON.parse(line) as LogLine) };
    platform = await startTestPlatform('pglite', { logLevel: 'warn' }, { logStream: warnings });
    const http = api(platform.app);
    expect(
      (
        await http.post('/api/metadata/entities', {
          name: 'partner',
          fields: [{ name: 'name', type: 'text', required: true }],
        })
      ).status,
    ).toBe(201);
    expect((await http.post('/api/data/partner', { name: 'Acme Corp' })).status).toBe(201);
    base = await listen(platform.app);
    const token = await adminToken(platform.app);
    expect(token, 'the test administrator signs in').toEqual(expect.any(String));
    session = token!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  /** A page that records console errors and every request that leaves our origin. */
  async function open(path: string) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // signed in, as after the admin UI's sign-in: GraphiQL and /docs read the API with the cookie
    await page
      .context()
      .addCookies([{ name: 'xrm_session', value: session, url: base, httpOnly: true, sameSite: 'Strict' }]);
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on(
      'request',
      (r) => void (!/^(data|blob):/.test(r.url()) && !r.url().startsWith(base) && foreign.push(r.url())),
    );
    await page.goto(`${base}${path}`);
    return { page, errors, foreign };
  }

  it('GraphiQL runs a query against /graphql', async () => {
    const { page, errors, foreign } = await open('/graphiql');
    try {
      // the schema arrived by introspection: the documentation explorer lists the root types
      await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor();

      const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText('{ partners(first: 5) { totalCount nodes { name } } }');
      // whatever the editor closed by itself after the cursor goes
      await page.keyboard.press('ControlOrMeta+Shift+End');
      await page.keyboard.press('Delete');
      await page.locator('.graphiql-execute-button').click();
      // Monaco renders spaces as non-breaking ones
      const response = async () => (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
      await expect
        .poll(response, { timeout: 15_000, message: JSON.stringify(serverLogs) })
        .toContain('"name": "Acme Corp"');
      expect(await response()).toContain('"totalCount": 1');
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
      expect(serverLogs).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('the API reference renders the document', async () => {
    const { page, errors, foreign } = await open('/docs');
    try {
      const title = page.locator('.swagger-ui .info .title');
      await title.waitFor();
      expect(await title.innerText()).toContain('xrm-platform');
      // the live document: the entity's data routes are listed
      await page.locator('.opblock-summary-path', { hasText: '/api/data/partner' }).first().waitFor();
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
