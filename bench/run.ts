/**
 * `npm run bench`: the platform against raw SQL on the same machine, on PostgreSQL.
 *
 * Seeds an account-like entity (100,000 rows) and a contact-like child (300,000), starts ONE
 * server process, drives it over loopback with autocannon, and runs the equivalent SQL through
 * pgbench (prepared mode, 8 clients) in the same run as the ceiling. Prints req/s, p50, p99 and
 * our/ceiling ratios. Then measures the catalog at scale: RSS with 200 entities × 30 fields and
 * how long one metadata change takes to be live.
 *
 * The write pipeline's costs, in the same run: R4 create one in three variants — the fast path (no
 * step listening, auditEnabled off), with the audit trail on, and with one `before` and one `after`
 * plugin step (a module in a temporary XRM_PLUGINS_DIR) — all against the same raw INSERT; R7 bulk
 * insert with the audit trail off and on, against a raw multi-row INSERT; and W1, the time from a
 * create's request to its signed webhook delivery reaching a receiver on 127.0.0.1.
 *
 * Automation rules (issue 9, whose own numbering calls these R6 and R7): A1 single creates and
 * updates on an entity with no rules, then with 20 active event rules whose conditions do not
 * match (target ≤ 10 % slower), against the raw INSERT / UPDATE; A2 a schedule rule's pass over
 * 100,000 records of which 1,000 match (target ≤ 2 s), the time until its 1,000 queued runs have
 * run (on a server restarted with XRM_BENCH_JOB_CONCURRENCY workers), and a second pass (queues 0).
 *
 * The relationship layer (issue 10, bench/relationships.ts), on its own database and server loaded with
 * the relationship demo through the bulk API: L1 what keeping signals current adds to an activity write
 * (target ≤ 5 ms p95 in its transaction), L2 the today list (≤ 50 ms p95), L3 a timeline page (≤ 10 ms
 * p95), L4 import throughput (the seed load, ingestion by 1,000, a CSV import job), each against raw SQL.
 *
 * Environment: XRM_BENCH_PG_URL (admin URL, default postgres://root@127.0.0.1:5432/postgres),
 * XRM_BENCH_SECONDS (per measurement, default 10), XRM_BENCH_CONNECTIONS (default 10, autocannon's own default),
 * The embedded database (bench/pglite.ts): the compiled server on PGlite, its first start on a new folder,
 * the README tour run against it, its reopening with that data, and the RSS of both after idling.
 *
 * XRM_BENCH_ONLY (comma-separated subset: R1, R2, R3, R4, R5, R6, R7, W1, A1, A2, L1, L2, L3, L4, catalog, pglite;
 * `reads` = R1–R3, R5, R6; `writes` = R4, R7, W1; `automation` = A1, A2; `relationships` = L1–L4; default all),
 * XRM_BENCH_SCALE (fraction of the seeded rows, default 1; smaller for a quick check only: the figures are
 * defined at 1), XRM_BENCH_WEBHOOK_WRITES (W1's creates, default 200), XRM_BENCH_JOB_CONCURRENCY (A2's job
 * workers, default 8), XRM_BENCH_ACTIVITIES (L1–L4's demo activities, default 1,000,000; times the scale below 1).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { pgliteBench } from './pglite.ts';
import { type BenchFigure, RELATIONSHIP_SCENARIOS, relationshipBench } from './relationships.ts';

const run = promisify(execFile);
const ADMIN_URL = process.env.XRM_BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.XRM_BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.XRM_BENCH_CONNECTIONS ?? 10);
const SCALE = Number(process.env.XRM_BENCH_SCALE ?? 1);
const ACCOUNTS = Math.max(1000, Math.round(100_000 * SCALE));
const CONTACTS = Math.max(3000, Math.round(300_000 * SCALE));
const WEBHOOK_WRITES = Number(process.env.XRM_BENCH_WEBHOOK_WRITES ?? 200);
/** A1: records seeded for the updates, and the event rules added; A2: records, and how many match. */
const DEALS = Math.max(1000, Math.round(10_000 * SCALE));
const EVENT_RULES = 20;
const LEADS = Math.max(1000, Math.round(100_000 * SCALE));
const STALE_LEADS = Math.round(LEADS / 100);
const JOB_CONCURRENCY = Number(process.env.XRM_BENCH_JOB_CONCURRENCY ?? 8);
/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS = 100;
const GROUPS: Record<string, readonly string[]> = {
  reads: ['R1', 'R2', 'R3', 'R5', 'R6'],
  writes: ['R4', 'R7', 'W1'],
  automation: ['A1', 'A2'],
  relationships: RELATIONSHIP_SCENARIOS,
};
const ONLY = process.env.XRM_BENCH_ONLY
  ? new Set(
      process.env.XRM_BENCH_ONLY.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .flatMap((s) => GROUPS[s] ?? [s]),
    )
  : undefined;
const want = (id: string) => ONLY === undefined || ONLY.has(id);

/**
 * R4 before the write pipeline (README, commit 6c681f5): the fast path must stay within 10 % of it.
 * Machines differ, so the comparison is on the share of raw SQL, which the same run measures.
 */
const R4_BEFORE_PIPELINE = { reqs: 5602, ratio: 0.368, commit: '6c681f5' };

/** R4c's plugin, loaded by the server from XRM_PLUGINS_DIR: one trivial `before` and one `after` step. */
const STEPS_ENTITY = 'account_steps';
const STEPS_PLUGIN = `export default {
  name: 'bench-steps',
  version: '1.0.0',
  setup(api) {
    api.on({ message: 'create', entity: '${STEPS_ENTITY}', stage: 'before' }, (ctx) => {
      if (typeof ctx.input.name === 'string') ctx.input.name = ctx.input.name.trim();
    });
    api.on({ message: 'create', entity: '${STEPS_ENTITY}', stage: 'after' }, (ctx) => {
      ctx.shared.set('bench.created', ctx.id);
    });
  },
};
`;

/** Deterministic ids so the HTTP client and pgbench pick the same random rows. */
const accountId = (n: number) => {
  const h = createHash('md5').update(String(n)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

type Figure = BenchFigure;

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

/** CPU time (user + system, ms) a process has used so far; 0 where /proc cannot tell (another OS). */
function cpuOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU time (ms) used so far by the PostgreSQL backends connected to `database` (a local server only). */
function databaseCpu(database: string): number {
  let ms = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    // a backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>" (autovacuum's names it too)
    if (cmdline.startsWith('postgres: ') && cmdline.split(/[\s\0]+/).includes(database)) ms += cpuOf(Number(pid));
  }
  return ms;
}

async function admin(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

/** Starts the compiled server; `port`: the one a restarted server takes again (its clients keep their base URL). */
async function startServer(
  databaseUrl: string,
  env: Record<string, string>,
  port?: number,
): Promise<{ child: ChildProcess; base: string }> {
  port ??= await freePort();
  const child = spawn(process.execPath, ['dist/server/main.js'], {
    env: { ...process.env, ...env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if (
      await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, base };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopServer(child);
  throw new Error('server did not start');
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A webhook receiver on 127.0.0.1: verifies each delivery's Standard Webhooks signature and notes
 * when the delivery of a record (`data.id`) arrived; `arrival(id)` waits for it.
 */
async function startReceiver(): Promise<{
  server: Server;
  url: string;
  setSecret(secret: string): void;
  arrival(id: string, timeoutMs: number): Promise<number>;
  deliveries(): number;
}> {
  let verifier: Webhook | undefined;
  let count = 0;
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  let failure: Error | undefined;
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        if (!verifier) throw new Error('a delivery before the subscription answered its secret');
        const event = verifier.verify(body, req.headers as Record<string, string>) as { data?: { id?: string } };
        const id = event.data?.id;
        if (typeof id !== 'string') throw new Error(`a delivery without data.id: ${body.slice(0, 200)}`);
        count++;
        if (!arrived.has(id)) arrived.set(id, at);
        waiting.get(id)?.(at);
        res.writeHead(204).end();
      } catch (err) {
        failure ??= err as Error;
        res.writeHead(400).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `http://127.0.0.1:${port}/hook`,
    setSecret: (secret) => {
      verifier = new Webhook(secret);
    },
    deliveries: () => count,
    arrival: (id, timeoutMs) => {
      if (failure) return Promise.reject(failure);
      const at = arrived.get(id);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(failure ?? new Error(`no delivery for ${id} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, (t) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(t);
        });
      });
    },
  };
}

/** The bench administrator (the server creates it on first start) and the bearer token of its session. */
const ADMIN = { email: 'bench@example.com', password: 'bench-admin-password' };
let adminAuth: Record<string, string> = {};

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  auth: Record<string, string> = adminAuth,
): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Signs in; answers the Authorization header of the session. */
async function signIn(base: string, email: string, password: string): Promise<Record<string, string>> {
  const { token } = await call(base, 'POST', '/api/auth/login', { email, password }, {});
  return { authorization: `Bearer ${token}` };
}

/** autocannon with every request authenticated (as the administrator unless `auth` says otherwise). */
async function cannon(opts: autocannon.Options, auth: Record<string, string> = adminAuth): Promise<autocannon.Result> {
  const requests = opts.requests?.map((r) => ({ ...r, headers: { ...r.headers, ...auth } }));
  const result = await autocannon({
    connections: CONNECTIONS,
    duration: SECONDS,
    pipelining: 1,
    ...opts,
    headers: { ...opts.headers, ...auth },
    ...(requests ? { requests } : {}),
  });
  if (result.non2xx || result.errors)
    throw new Error(`${opts.title}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result;
}

async function pgbench(databaseUrl: string, script: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'xrm-bench-'));
  try {
    const file = join(dir, 'script.sql');
    writeFileSync(file, script);
    const url = new URL(databaseUrl);
    const { stdout } = await run(
      'pgbench',
      [
        '-n',
        '-M',
        'prepared',
        '-c',
        '8',
        '-j',
        '2',
        '-T',
        String(SECONDS),
        '-f',
        file,
        '-h',
        url.hostname,
        '-p',
        url.port || '5432',
        '-U',
        decodeURIComponent(url.username || 'root'),
        url.pathname.slice(1),
      ],
      { maxBuffer: 1 << 24 },
    );
    const m = /tps = ([\d.]+)/.exec(stdout);
    if (!m) throw new Error(`pgbench printed no tps:\n${stdout}`);
    return Number(m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // the embedded database alone needs no PostgreSQL database, seed or server
  if (ONLY && [...ONLY].every((id) => id === 'pglite')) {
    const found = await pgliteBench(await freePort(), stopServer);
    report(found.figures, found.notes);
    return;
  }
  const dbName = `xrm_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin(`CREATE DATABASE "${dbName}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  let server: { child: ChildProcess; base: string } | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  const pluginsDir = mkdtempSync(join(tmpdir(), 'xrm-bench-plugins-'));
  const figures: Figure[] = [];
  /** Comparisons within the run, printed under the table. */
  const notes: string[] = [];
  try {
    writeFileSync(join(pluginsDir, 'bench-steps.mjs'), STEPS_PLUGIN);
    // W1 targets a receiver on loopback, which the SSRF guard refuses unless allowed
    const serverEnv = {
      XRM_PLUGINS_DIR: pluginsDir,
      XRM_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      XRM_ADMIN_EMAIL: ADMIN.email,
      XRM_ADMIN_PASSWORD: ADMIN.password,
      // the bench is one client hammering the server: no per-client rate limit
      XRM_RATE_LIMIT_PER_MINUTE: '0',
    };
    server = await startServer(databaseUrl, serverEnv);
    const { base } = server;
    adminAuth = await signIn(base, ADMIN.email, ADMIN.password);
    const statuses = ['new', 'active', 'inactive', 'vip', 'lost'];
    const regions = ['emea', 'apac', 'amer', 'latam'];
    const industries = [
      'retail',
      'energy',
      'finance',
      'health',
      'media',
      'software',
      'transport',
      'food',
      'mining',
      'public',
    ];
    const accountFields = [
      { name: 'name', type: 'text', required: true, searchable: true },
      { name: 'industry', type: 'choice', options: industries.map((v) => ({ value: v, label: v })) },
      { name: 'revenue', type: 'money' },
      { name: 'employees', type: 'integer' },
    ];
    // the audit trail is on by default for a new entity: the existing figures keep measuring the fast
    // path (no step listening, no audit), and the variants turn it on or add plugin steps explicitly
    await call(base, 'POST', '/api/metadata/entities', { name: 'account', auditEnabled: false, fields: accountFields });
    // R4c's twin of account: the bench plugin's steps listen to creates on it only
    await call(base, 'POST', '/api/metadata/entities', {
      name: STEPS_ENTITY,
      auditEnabled: false,
      fields: accountFields,
    });
    await call(base, 'POST', '/api/metadata/entities', {
      name: 'contact',
      auditEnabled: false,
      fields: [
        { name: 'full_name', type: 'text', required: true },
        { name: 'email', type: 'email' },
        { name: 'status', type: 'choice', options: statuses.map((v) => ({ value: v, label: v })) },
        { name: 'score', type: 'integer', indexed: true },
        { name: 'account', type: 'lookup', target: 'account', inverseName: 'contacts' },
        // R2b's row rule reads it; email is a secured field its role cannot read
        { name: 'region', type: 'choice', options: regions.map((v) => ({ value: v, label: v })) },
      ],
    });
    // R2 filters by status and sorts by score: the index that serves it (README "Which index serves a list")
    await call(base, 'POST', '/api/metadata/entities/contact/indexes', { fields: ['status', 'score'] });

    process.stdout.write(`seeding ${ACCOUNTS} accounts and ${CONTACTS} contacts… `);
    const seed = new pg.Client({ connectionString: databaseUrl });
    await seed.connect();
    const industryOf = `(ARRAY['${industries.join("','")}'])[1 + n % 10]`;
    for (const table of ['account', STEPS_ENTITY]) {
      await seed.query(`INSERT INTO data.${table} (id, name, industry, revenue, employees, created_at)
        SELECT md5(n::text)::uuid, 'Account ' || n, ${industryOf}, (n % 1000) * 1000.5, n % 5000,
               now() - (n || ' seconds')::interval
        FROM generate_series(1, ${ACCOUNTS}) n`);
    }
    const statusOf = `(ARRAY['${statuses.join("','")}'])[1 + n % 5]`;
    const scoreOf = '((hashint4(n)::bigint % 100) + 100) % 100';
    const regionOf = `(ARRAY['${regions.join("','")}'])[1 + (n / 7) % 4]`;
    await seed.query(`INSERT INTO data.contact (full_name, email, status, score, account, region, created_at)
      SELECT 'Contact ' || n, 'c' || n || '@example.com', ${statusOf}, ${scoreOf},
             md5((1 + n % ${ACCOUNTS})::text)::uuid, ${regionOf}, now() - (n || ' seconds')::interval
      FROM generate_series(1, ${CONTACTS}) n`);
    await seed.query('VACUUM ANALYZE data.account');
    await seed.query('VACUUM ANALYZE data.contact');
    await seed.query(`VACUUM ANALYZE data.${STEPS_ENTITY}`);
    await seed.end();
    process.stdout.write('done\n');

    const rand = () => 1 + Math.floor(Math.random() * ACCOUNTS);
    const record = (_t: string, cols: string) => `(SELECT row_to_json(r) FROM (SELECT ${cols}) r)`;
    const accountCols =
      't.id, t.created_at, t.updated_at, t.created_by, t.owner_id, t.version, ' +
      't.name, t.industry, t.revenue, t.employees';
    const contactCols = (a: string) =>
      `${a}.id, ${a}.created_at, ${a}.updated_at, ${a}.created_by, ${a}.owner_id, ${a}.version, ` +
      `${a}.full_name, ${a}.email, ${a}.status, ${a}.score, ${a}.account, ${a}.region`;

    const measure = async (
      name: string,
      target: string,
      targetReqs: number,
      targetRatio: number,
      http: Omit<autocannon.Options, 'url'>,
      sqlScript: string | number,
      auth: Record<string, string> = adminAuth,
    ) => {
      process.stdout.write(`${name}… `);
      const ours = await cannon({ ...http, title: name, url: base }, auth);
      const ceiling = typeof sqlScript === 'number' ? sqlScript : await pgbench(databaseUrl, sqlScript);
      const rps = ours.requests.average;
      figures.push({
        name,
        ours: rps,
        p50: ours.latency.p50,
        p99: ours.latency.p99,
        ceiling,
        unit: 'req/s',
        target,
        met: rps >= targetReqs && rps / ceiling >= targetRatio,
      });
      process.stdout.write(`${rps.toFixed(0)} req/s (ceiling ${ceiling.toFixed(0)})\n`);
      return { rps, ceiling };
    };

    if (want('R1')) {
      await measure(
        'R1 get by id',
        '≥ 6,000 req/s, p99 ≤ 5 ms, ≥ 8.5 %',
        6000,
        0.085,
        {
          requests: [
            { method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/data/account/${accountId(rand())}` }) },
          ],
        },
        `\\set n random(1, ${ACCOUNTS})\n` +
          `SELECT ${record('t', accountCols)}::text FROM data.account t WHERE t.id = md5(:n::text)::uuid;\n`,
      );
      figures[figures.length - 1]!.met &&= (figures[figures.length - 1]!.p99 ?? 99) <= 5;
    }

    const r2Filter = encodeURIComponent("status eq 'active' and score gte 50");
    if (want('R2'))
      await measure(
        'R2 filtered sorted page of 50',
        '≥ 3,300 req/s, ≥ 13 %',
        3300,
        0.13,
        { requests: [{ method: 'GET', path: `/api/data/contact?filter=${r2Filter}&sort=-score&limit=50` }] },
        `SELECT json_agg(${record('c', contactCols('c'))})::text FROM (SELECT * FROM data.contact c ` +
          "WHERE c.status = 'active' AND c.score >= 50 ORDER BY c.score DESC, c.id DESC LIMIT 50) c;\n",
      );

    // R2 as a partner manager (README's worked example, on contacts): read all narrowed by the row
    // rule region = $user.region, email a secured field the role cannot read; against the same
    // request as the administrator with that condition written in the filter, in the same run
    if (want('R2')) {
      await call(base, 'PATCH', '/api/metadata/entities/contact/fields/email', { secured: true });
      await call(base, 'POST', '/api/roles', {
        name: 'contact_manager',
        privileges: [{ entity: 'contact', read: 'all' }],
        rowRules: [{ entity: 'contact', privilege: 'read', filter: { region: { eq: '$user.region' } } }],
        fieldPermissions: [{ entity: 'contact', field: 'email', read: false, update: false }],
      });
      const manager = { email: 'pat@example.com', password: 'pat-contact-manager' };
      const attributes = { region: 'emea' };
      await call(base, 'POST', '/api/users', { ...manager, roles: ['contact_manager'], attributes });
      const managerAuth = await signIn(base, manager.email, manager.password);
      const withRegion = encodeURIComponent("status eq 'active' and score gte 50 and region eq 'emea'");
      const raw =
        `SELECT json_agg(${record('c', contactCols('c'))})::text FROM (SELECT * FROM data.contact c ` +
        "WHERE c.status = 'active' AND c.score >= 50 AND c.region = 'emea' " +
        'ORDER BY c.score DESC, c.id DESC LIMIT 50) c;\n';
      const ceiling = await pgbench(databaseUrl, raw);
      const asAdmin = await measure(
        'R2a admin, region in the filter',
        'R2b ≤ 1.3× its time',
        0,
        0,
        { requests: [{ method: 'GET', path: `/api/data/contact?filter=${withRegion}&sort=-score&limit=50` }] },
        ceiling,
      );
      const asManager = await measure(
        'R2b contact manager (rule + field)',
        '≥ 1/1.3 of R2a',
        asAdmin.rps / 1.3,
        0,
        { requests: [{ method: 'GET', path: `/api/data/contact?filter=${r2Filter}&sort=-score&limit=50` }] },
        ceiling,
        managerAuth,
      );
      notes.push(
        `R2 policy overhead: the contact manager's request takes ${(asAdmin.rps / asManager.rps).toFixed(2)}× ` +
          "the administrator's equivalent (target ≤ 1.3×)",
      );
      await call(base, 'PATCH', '/api/metadata/entities/contact/fields/email', { secured: null });
    }

    const contactsWithAccount =
      `SELECT json_agg((SELECT row_to_json(r) FROM (SELECT ${contactCols('c')}, ` +
      `(SELECT ${record('t', accountCols)} FROM data.account t WHERE t.id = c.account) AS account) r))::text\n` +
      '       FROM (SELECT * FROM data.contact c ORDER BY c.created_at, c.id LIMIT 50) c;\n';
    if (want('R3'))
      await measure(
        'R3 50 children + parent (REST)',
        '≥ 2,200 req/s, ≥ 35 %',
        2200,
        0.35,
        { requests: [{ method: 'GET', path: '/api/data/contact?limit=50&expand=account' }] },
        contactsWithAccount,
      );

    const gql = JSON.stringify({
      query:
        '{ contacts(first: 50) { nodes { id createdAt updatedAt createdBy ownerId version ' +
        'fullName email status score accountId account { ' +
        'id createdAt updatedAt createdBy ownerId version name industry revenue employees } } } }',
    });
    if (want('R6'))
      await measure(
        'R6 same as R3 (GraphQL)',
        '≥ 2,000 req/s, ≥ 32 %',
        2000,
        0.32,
        {
          requests: [{ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: gql }],
        },
        contactsWithAccount,
      );

    // R4: create one record, three variants against the same raw INSERT. (a) is the fast path the
    // figure always measured; (b) the same entity with the audit trail on (one more INSERT into
    // xrm.audit in the write's transaction); (c) a twin entity that one `before` and one `after` step
    // of the bench plugin listen to (the pipeline's step path, audit off).
    if (want('R4')) {
      const createBody = JSON.stringify({ name: 'New account', industry: 'retail', revenue: 1234.5, employees: 12 });
      const createOne = (entity: string): Omit<autocannon.Options, 'url'> => ({
        requests: [
          {
            method: 'POST',
            path: `/api/data/${entity}`,
            headers: { 'content-type': 'application/json' },
            body: createBody,
          },
        ],
      });
      const a = await measure(
        'R4a create one (fast path: audit off)',
        '≥ 3,500 req/s, ≥ 28 %',
        3500,
        0.28,
        createOne('account'),
        'WITH w AS (INSERT INTO data.account (name, industry, revenue, employees) ' +
          "VALUES ('New account', 'retail', 1234.5, 12) RETURNING *) SELECT row_to_json(w)::text FROM w;\n",
      );
      await call(base, 'PATCH', '/api/metadata/entities/account', { auditEnabled: true });
      let b: { rps: number };
      try {
        b = await measure(
          'R4b create one, audit on',
          '(cost of the audit trail)',
          0,
          0,
          createOne('account'),
          a.ceiling,
        );
      } finally {
        await call(base, 'PATCH', '/api/metadata/entities/account', { auditEnabled: false });
      }
      figures[figures.length - 1]!.met = undefined;
      const c = await measure(
        'R4c create one, before + after step',
        '(cost of the step path)',
        0,
        0,
        createOne(STEPS_ENTITY),
        a.ceiling,
      );
      figures[figures.length - 1]!.met = undefined;
      const before = R4_BEFORE_PIPELINE;
      const share = a.rps / a.ceiling;
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      notes.push(
        `R4a against R4 before the write pipeline (${before.commit}: ` +
          `${before.reqs} req/s, ${pct(before.ratio)} of raw): now ${pct(share)} of raw = ` +
          `${pct(share / before.ratio)} of its share, ${pct(a.rps / before.reqs)} of its req/s on that machine ` +
          `(target ≥ 90 % of its share: ${share / before.ratio >= 0.9 ? 'yes' : 'NO'})`,
        `R4b audit on: ${pct(b.rps / a.rps)} of R4a`,
        `R4c before + after step: ${pct(c.rps / a.rps)} of R4a`,
      );
    }

    if (want('R5'))
      await measure(
        'R5 count by group',
        '≥ 80 % of raw',
        0,
        0.8,
        { requests: [{ method: 'GET', path: '/api/data/contact/aggregate?groupBy=status&aggregate=count' }] },
        `SELECT json_agg(g)::text FROM (SELECT c.status, count(*) FROM data.contact c GROUP BY 1 ORDER BY 1) g;\n`,
      );

    // R7: bulk insert 10,000 records, 1,000 per request: one request at a time, then 4 at once; with
    // the audit trail off (the fast path), then on (1,000 audit rows in the same transaction), and the
    // same batches as raw multi-row INSERTs (pg, one connection per request in flight) as the ceiling
    if (want('R7')) {
      let batchNo = 0;
      const batch = () => {
        const k = batchNo++;
        return Array.from({ length: 1000 }, (_, i) => ({
          full_name: `Bulk ${k}-${i}`,
          email: `b${k}-${i}@example.com`,
          status: 'new',
          score: i % 100,
          account: accountId(1 + ((k * 1000 + i) % ACCOUNTS)),
        }));
      };
      const timed = async (concurrency: number, send: (slot: number) => Promise<void>) => {
        const started = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async (_, slot) => {
            for (let k = 0; k < 10 / concurrency; k++) await send(slot);
          }),
        );
        return (Math.ceil(10 / concurrency) * concurrency * 1000) / ((performance.now() - started) / 1000);
      };
      const raw = new pg.Pool({ connectionString: databaseUrl, max: 4 });
      const ceilings = new Map<number, number>();
      try {
        for (const concurrency of [1, 4]) {
          const clients = await Promise.all(Array.from({ length: concurrency }, () => raw.connect()));
          try {
            ceilings.set(
              concurrency,
              await timed(concurrency, async (slot) => {
                const records = batch();
                await clients[slot]!.query(
                  'WITH w AS (INSERT INTO data.contact (full_name, email, status, score, account) ' +
                    'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::uuid[]) RETURNING *) ' +
                    'SELECT row_to_json(w)::text FROM w',
                  [
                    records.map((r) => r.full_name),
                    records.map((r) => r.email),
                    records.map((r) => r.status),
                    records.map((r) => r.score),
                    records.map((r) => r.account),
                  ],
                );
              }),
            );
          } finally {
            for (const client of clients) client.release();
          }
        }
      } finally {
        await raw.end();
      }
      const bulk = async (audit: boolean) => {
        for (const concurrency of [1, 4]) {
          const name = `R7 bulk insert (${concurrency} at a time${audit ? ', audit on' : ''})`;
          process.stdout.write(`${name}… `);
          const perSecond = await timed(concurrency, async () => {
            await call(base, 'POST', '/api/data/contact/bulk', { operation: 'create', records: batch() });
          });
          const target = audit ? 15_000 : 30_000;
          figures.push({
            name,
            ours: perSecond,
            ceiling: ceilings.get(concurrency),
            unit: 'records/s',
            target: `≥ ${target.toLocaleString('en')} records/s`,
            met: perSecond >= target,
          });
          process.stdout.write(
            `${perSecond.toFixed(0)} records/s (ceiling ${ceilings.get(concurrency)!.toFixed(0)})\n`,
          );
        }
      };
      await bulk(false);
      await call(base, 'PATCH', '/api/metadata/entities/contact', { auditEnabled: true });
      try {
        await bulk(true);
      } finally {
        await call(base, 'PATCH', '/api/metadata/entities/contact', { auditEnabled: false });
      }
    }

    // W1: write → webhook delivered. A subscription to creates of an entity targets a receiver on
    // 127.0.0.1; sequential creates, each timed from the request's start to the receiver getting its
    // signed delivery (matched by data.id). The worker wakes on the commit: no short poll is set.
    if (want('W1')) {
      receiver = await startReceiver();
      await call(base, 'POST', '/api/metadata/entities', {
        name: 'ticket',
        fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'priority', type: 'integer' },
        ],
      });
      const hook = await call(base, 'POST', '/api/webhooks', {
        url: receiver.url,
        entity: 'ticket',
        messages: ['create'],
        description: 'bench W1',
      });
      receiver.setSecret(hook.secret);
      try {
        process.stdout.write(`W1 ${WEBHOOK_WRITES} creates → webhook delivered… `);
        const total: number[] = [];
        const afterResponse: number[] = [];
        for (let i = 0; i < WEBHOOK_WRITES; i++) {
          const started = performance.now();
          const created = await call(base, 'POST', '/api/data/ticket', { title: `Ticket ${i}`, priority: i % 5 });
          const answered = performance.now();
          const arrived = await receiver.arrival(created.id, 10_000);
          total.push(arrived - started);
          afterResponse.push(arrived - answered);
        }
        total.sort((x, y) => x - y);
        afterResponse.sort((x, y) => x - y);
        const [p50, p95, p99, max] = [50, 95, 99, 100].map((p) => percentile(total, p));
        const ms = (x: number) => x.toFixed(1);
        figures.push({
          name: 'W1 create → webhook delivered (p95)',
          ours: p95!,
          p50: Number(ms(p50!)),
          p99: Number(ms(p99!)),
          unit: 'ms',
          target: 'p95 ≤ 250 ms',
          met: p95! <= 250,
        });
        notes.push(
          `W1 create → webhook delivered over ${WEBHOOK_WRITES} sequential creates: p50 ${ms(p50!)} ms, ` +
            `p95 ${ms(p95!)} ms, max ${ms(max!)} ms; after the create's response: ` +
            `p50 ${ms(percentile(afterResponse, 50))} ms, p95 ${ms(percentile(afterResponse, 95))} ms ` +
            `(${receiver.deliveries()} deliveries received)`,
        );
        process.stdout.write(`p50 ${ms(p50!)} ms, p95 ${ms(p95!)} ms, max ${ms(max!)} ms\n`);
      } finally {
        // best effort: the database is dropped at the end anyway, and a failure here must not hide the first
        await call(base, 'DELETE', `/api/webhooks/${hook.id}`).catch(() => undefined);
      }
    }

    // A1 (issue 9's R6): what event rules cost a write when their conditions do not match. Single
    // creates and updates (audit off) on two twin entities: one with no rule, one with 20 active
    // event rules on create and update, each with a condition no record written meets and one
    // notify action (their predicates go into the write's own statement and queue nothing). On a
    // shared machine the two are measured in alternating slices (no rules, rules, rules, no rules),
    // and the CPU the server process and the database's backends spent per request is counted too.
    if (want('A1')) {
      const dealFields = [
        { name: 'name', type: 'text', required: true },
        { name: 'amount', type: 'integer' },
        { name: 'stage', type: 'choice', options: ['open', 'won', 'lost'].map((v) => ({ value: v, label: v })) },
      ];
      const twins = { plain: 'deal', ruled: 'deal_rules' } as const;
      for (const name of Object.values(twins))
        await call(base, 'POST', '/api/metadata/entities', { name, auditEnabled: false, fields: dealFields });
      const seed = new pg.Client({ connectionString: databaseUrl });
      await seed.connect();
      try {
        // the updates' targets: the ids accountId(n) stands for
        for (const name of Object.values(twins)) {
          await seed.query(`INSERT INTO data.${name} (id, name, amount, stage)
            SELECT md5(n::text)::uuid, 'Deal ' || n, n % 100000, (ARRAY['open', 'won', 'lost'])[1 + n % 3]
            FROM generate_series(1, ${DEALS}) n`);
          await seed.query(`VACUUM ANALYZE data.${name}`);
        }
      } finally {
        await seed.end();
      }
      for (let i = 0; i < EVENT_RULES; i++)
        await call(base, 'POST', '/api/automation/rules', {
          name: `bench A1 ${i}`,
          entity: twins.ruled,
          trigger: { type: 'event', messages: ['create', 'update'] },
          condition: { amount: { gt: 1_000_000_000 + i } },
          actions: [{ type: 'notify', to: 'owner', text: 'x' }],
        });
      const ops = {
        create: (entity: string): Omit<autocannon.Options, 'url'> => ({
          requests: [
            {
              method: 'POST',
              path: `/api/data/${entity}`,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ name: 'New deal', amount: 1234, stage: 'open' }),
            },
          ],
        }),
        update: (entity: string): Omit<autocannon.Options, 'url'> => ({
          requests: [
            {
              method: 'PATCH',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => {
                const n = 1 + Math.floor(Math.random() * DEALS);
                return { ...req, path: `/api/data/${entity}/${accountId(n)}`, body: JSON.stringify({ amount: n }) };
              },
            },
          ],
        }),
      };
      const raw = {
        create:
          `WITH w AS (INSERT INTO data.${twins.plain} (name, amount, stage) VALUES ('New deal', 1234, 'open') ` +
          'RETURNING *) SELECT row_to_json(w)::text FROM w;\n',
        update:
          `\\set n random(1, ${DEALS})\n` +
          `UPDATE data.${twins.plain} t SET amount = :n, updated_at = now(), version = t.version + 1 ` +
          'WHERE t.id = md5(:n::text)::uuid RETURNING row_to_json(t.*)::text;\n',
      };
      // warm up the server's write paths first, so no figure is the cold one
      for (const op of Object.values(ops))
        for (const entity of Object.values(twins))
          await cannon({ ...op(entity), title: 'A1 warm-up', url: base, duration: Math.min(2, SECONDS) });
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      for (const op of ['create', 'update'] as const) {
        type Variant = keyof typeof twins;
        const totals = {
          plain: { requests: 0, seconds: 0, server: 0, database: 0, p50: [] as number[], p99: [] as number[] },
          ruled: { requests: 0, seconds: 0, server: 0, database: 0, p50: [] as number[], p99: [] as number[] },
        };
        const slices: string[] = [];
        process.stdout.write(`A1 ${op} one, no rules / ${EVENT_RULES} event rules… `);
        for (const variant of ['plain', 'ruled', 'ruled', 'plain'] as Variant[]) {
          const cpu0 = { server: cpuOf(server.child.pid), database: databaseCpu(dbName) };
          const result = await cannon({ ...ops[op](twins[variant]), title: `A1 ${op} ${variant}`, url: base });
          const t = totals[variant];
          t.requests += result.requests.total;
          t.seconds += result.duration;
          t.server += cpuOf(server.child.pid) - cpu0.server;
          t.database += databaseCpu(dbName) - cpu0.database;
          t.p50.push(result.latency.p50);
          t.p99.push(result.latency.p99);
          slices.push(
            `${variant === 'plain' ? 'none' : 'rules'} ${(result.requests.total / result.duration).toFixed(0)}`,
          );
        }
        const ceiling = await pgbench(databaseUrl, raw[op]);
        const rps = (v: Variant) => totals[v].requests / totals[v].seconds;
        const cpu = (v: Variant) => ({
          server: totals[v].server / totals[v].requests,
          database: totals[v].database / totals[v].requests,
        });
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        for (const v of ['plain', 'ruled'] as Variant[])
          figures.push({
            name: `A1 ${op} one, ${v === 'plain' ? 'no rules' : `${EVENT_RULES} event rules`}`,
            ours: rps(v),
            p50: Math.round(mean(totals[v].p50)),
            p99: Math.round(mean(totals[v].p99)),
            ceiling,
            unit: 'req/s',
            target: v === 'plain' ? '(baseline)' : '≥ 90 % of no rules',
            met: v === 'plain' ? undefined : rps('ruled') >= 0.9 * rps('plain'),
          });
        const ms = (x: number) => x.toFixed(3);
        const [a, b] = [cpu('plain'), cpu('ruled')];
        notes.push(
          `A1 (issue 9 R6) ${op} with ${EVENT_RULES} event rules that do not match (target ≤ 10 % overhead): ` +
            `${rps('ruled').toFixed(0)} / ${rps('plain').toFixed(0)} req/s = ${pct(rps('ruled') / rps('plain'))} ` +
            `of no rules (raw SQL ${ceiling.toFixed(0)}/s: ${pct(rps('plain') / ceiling)} → ` +
            `${pct(rps('ruled') / ceiling)}); slices req/s: ${slices.join(', ')}; CPU ms per request, server + ` +
            `PostgreSQL: ${ms(a.server)} + ${ms(a.database)} → ${ms(b.server)} + ${ms(b.database)} ` +
            `(${pct((b.server + b.database) / (a.server + a.database))})`,
        );
        process.stdout.write(
          `${rps('plain').toFixed(0)} / ${rps('ruled').toFixed(0)} req/s (ceiling ${ceiling.toFixed(0)})\n`,
        );
      }
      // nothing matched: the rules must have queued no job
      const jobs = new pg.Client({ connectionString: databaseUrl });
      await jobs.connect();
      const queued = await jobs
        .query("SELECT count(*)::int AS n FROM xrm.jobs WHERE kind = 'automation'")
        .then((r) => r.rows[0].n as number)
        .finally(() => jobs.end());
      if (queued) throw new Error(`A1: rules that match nothing queued ${queued} runs`);
    }

    // A2 (issue 9's R7): a schedule rule's pass over 100,000 records of which 1,000 match, its
    // condition tested by PostgreSQL in the pass's one statement; then the time until the 1,000 run
    // jobs it queued have run (each: read the record, notify its owner, log the run), on a server
    // restarted with more job workers (and no scheduler tick, so only the bench starts passes); then
    // a second pass, which must queue nothing (once per record per condition episode).
    if (want('A2')) {
      const stages = ['new', 'working', 'won', 'stale'];
      await call(base, 'POST', '/api/metadata/entities', {
        name: 'lead',
        auditEnabled: false,
        fields: [
          { name: 'name', type: 'text', required: true },
          { name: 'stage', type: 'choice', options: stages.map((v) => ({ value: v, label: v })) },
          { name: 'last_contact_at', type: 'datetime' },
        ],
      });
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        process.stdout.write(`A2 seeding ${LEADS} leads… `);
        // stale: every 10th; contacted 20 days ago: every 100th (all stale) and every 10th + 3 (none
        // stale); the rest within the last 8 days. Stale and not contacted for 10 days: every 100th.
        await db.query(
          `INSERT INTO data.lead (id, name, stage, last_contact_at, owner_id, created_at)
          SELECT md5('lead' || n)::uuid, 'Lead ' || n,
                 CASE WHEN n % 10 = 0 THEN 'stale' ELSE (ARRAY['new', 'working', 'won'])[1 + n % 3] END,
                 now() - CASE WHEN n % 100 = 0 OR n % 10 = 3 THEN interval '20 days'
                              ELSE (n % 9) * interval '1 day' END,
                 (SELECT id FROM xrm.users WHERE lower(email) = lower($1)), now() - (n || ' seconds')::interval
          FROM generate_series(1, ${LEADS}) n`,
          [ADMIN.email],
        );
        await db.query('VACUUM ANALYZE data.lead');
        process.stdout.write('done\n');
        const condition = { stage: { eq: 'stale' }, last_contact_at: { olderThan: 'P10D' } };
        const started = performance.now();
        const { rows: raw } = await db.query(
          "SELECT count(*)::int AS n FROM data.lead WHERE stage = 'stale' " +
            "AND last_contact_at < now() - interval '10 days'",
        );
        const rawMs = performance.now() - started;
        if (raw[0].n !== STALE_LEADS) throw new Error(`A2 seeded ${raw[0].n} matching leads, not ${STALE_LEADS}`);
        const rule = await call(base, 'POST', '/api/automation/rules', {
          name: 'bench A2 stale leads',
          entity: 'lead',
          trigger: { type: 'schedule', cron: '0 9 * * *' },
          condition,
          actions: [{ type: 'notify', to: 'owner', text: '{{record.name}} is stale' }],
          // a pass over 1,000 matches is not a loop: the figure must not depend on how the loop guard
          // counts schedule runs (at a3acbb2 its default of 60 a minute turned this rule off after 60)
          maxRunsPerMinute: 100_000,
        });
        const port = Number(new URL(base).port);
        await stopServer(server.child);
        server = await startServer(
          databaseUrl,
          { ...serverEnv, XRM_JOB_CONCURRENCY: String(JOB_CONCURRENCY), XRM_AUTOMATION_TICK_MS: '0' },
          port,
        );
        const pending = async () => {
          const { rows } = await db.query(
            `SELECT count(*) FILTER (WHERE state IN ('queued', 'running', 'failed'))::int
              AS pending, count(*) FILTER (WHERE state = 'dead')::int AS dead
            FROM xrm.jobs WHERE kind = 'automation' AND target = $1`,
            [rule.id],
          );
          return rows[0] as { pending: number; dead: number };
        };
        const pass = async () => {
          const t0 = performance.now();
          const result = (await call(base, 'POST', `/api/automation/rules/${rule.id}/run`)) as {
            matched: number;
            queued: number;
          };
          return { ...result, ms: performance.now() - t0 };
        };
        process.stdout.write(`A2 schedule pass over ${LEADS} leads… `);
        const first = await pass();
        const drainStarted = performance.now();
        let left = await pending();
        while (left.pending > 0) {
          if (performance.now() - drainStarted > 600_000) throw new Error(`A2: ${left.pending} runs left after 10 min`);
          await new Promise((r) => setTimeout(r, 20));
          left = await pending();
        }
        const drainMs = performance.now() - drainStarted;
        const second = await pass();
        const { rows: outcomes } = await db.query(
          `SELECT outcome, count(*)::int AS n FROM xrm.automation_runs
            WHERE rule_id = $1 AND record_id IS NOT NULL GROUP BY 1 ORDER BY 1`,
          [rule.id],
        );
        const { rows: notified } = await db.query(
          'SELECT count(*)::int AS n FROM xrm.notifications WHERE rule_id = $1',
          [rule.id],
        );
        const runsPerSecond = first.queued / (drainMs / 1000);
        process.stdout.write(
          `${first.ms.toFixed(0)} ms (matched ${first.matched}, queued ${first.queued}); ` +
            `runs done in ${drainMs.toFixed(0)} ms (${runsPerSecond.toFixed(0)}/s); ` +
            `second pass ${second.ms.toFixed(0)} ms (queued ${second.queued})\n`,
        );
        figures.push(
          {
            name: `A2 schedule pass, ${LEADS.toLocaleString('en')} records`,
            ours: first.ms,
            unit: 'ms',
            target: '≤ 2,000 ms',
            met: first.ms <= 2000 && first.matched === STALE_LEADS && first.queued === STALE_LEADS,
          },
          {
            name: `A2 its ${first.queued.toLocaleString('en')} runs done`,
            ours: drainMs,
            unit: 'ms',
            target: `(${JOB_CONCURRENCY} job workers)`,
            met: undefined,
          },
          {
            name: 'A2 second pass (queues 0)',
            ours: second.ms,
            unit: 'ms',
            target: 'queues 0',
            met: second.queued === 0,
          },
        );
        notes.push(
          `A2 (issue 9 R7) schedule pass over ${LEADS} records: ${first.ms.toFixed(0)} ms, matched ` +
            `${first.matched}, queued ${first.queued} (raw SQL counts the matches in ${rawMs.toFixed(0)} ms); ` +
            `the runs done ${drainMs.toFixed(0)} ms after the pass answered = ${runsPerSecond.toFixed(0)} runs/s ` +
            `with XRM_JOB_CONCURRENCY=${JOB_CONCURRENCY}; run outcomes ` +
            `${outcomes.map((o: { outcome: string; n: number }) => `${o.outcome} ${o.n}`).join(', ') || 'none'}, ` +
            `${notified[0].n} notifications, ${left.dead} dead jobs; second pass ${second.ms.toFixed(0)} ms, ` +
            `matched ${second.matched}, queued ${second.queued}`,
        );
        // back to the server every other figure runs on
        await stopServer(server.child);
        server = await startServer(databaseUrl, serverEnv, port);
      } finally {
        await db.end();
      }
    }

    // catalog at scale: 200 entities × 30 fields, RSS, and time until one change is live
    if (want('catalog')) {
      process.stdout.write('catalog of 200 entities × 30 fields… ');
      const types = ['text', 'integer', 'decimal', 'boolean', 'date', 'datetime', 'email', 'longText', 'json', 'money'];
      for (let e = 0; e < 200; e++) {
        await call(base, 'POST', '/api/metadata/entities', {
          name: `scale_${e}`,
          fields: Array.from({ length: 30 }, (_, f) => ({ name: `field_${f}`, type: types[f % types.length] })),
        });
      }
      // touch the derived APIs once so their caches are part of the footprint
      await call(base, 'GET', '/openapi.json');
      await call(base, 'POST', '/graphql', { query: '{ _schemaVersion }' });
      const rssOf = () =>
        Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server!.child.pid}/status`, 'utf8'))![1]) / 1024;
      const peak = rssOf();
      figures.push({
        name: 'RSS right after building it',
        ours: peak,
        unit: 'MB',
        target: '(transient: garbage of 200 changes)',
        met: undefined,
      });
      // V8's memory reducer returns the garbage of the 200 rebuilds to the OS once the process idles
      await new Promise((r) => setTimeout(r, 25_000));
      const rss = rssOf();
      figures.push({
        name: 'RSS, 200 entities × 30 fields',
        ours: rss,
        unit: 'MB',
        target: '≤ 150 MB (settled, 25 s idle)',
        met: rss <= 150,
      });
      const started = performance.now();
      await call(base, 'POST', '/api/metadata/entities/scale_0/fields', { name: 'added_later', type: 'text' });
      await call(base, 'POST', '/graphql', { query: '{ scale0s(first: 1) { nodes { addedLater } } }' });
      await call(base, 'GET', '/api/data/scale_0?select=added_later&limit=1');
      const liveMs = performance.now() - started;
      figures.push({
        name: 'metadata change → live API',
        ours: liveMs,
        unit: 'ms',
        target: '≤ 300 ms',
        met: liveMs <= 300,
      });
      process.stdout.write(`${rss.toFixed(0)} MB, change live in ${liveMs.toFixed(0)} ms\n`);
    }

    // the relationship layer (L1–L4): its own database and server, so this one is done with first
    if (RELATIONSHIP_SCENARIOS.some(want)) {
      await stopServer(server.child);
      const found = await relationshipBench({
        adminUrl: ADMIN_URL,
        want,
        seconds: SECONDS,
        connections: CONNECTIONS,
        scale: SCALE,
        serverEnv,
        admin: ADMIN,
        startServer,
        stopServer,
        signIn,
        pgbench,
      });
      figures.push(...found.figures);
      notes.push(...found.notes);
    }

    // the embedded database: its own processes and folders, after every PostgreSQL server is stopped
    if (want('pglite')) {
      await stopServer(server.child);
      const found = await pgliteBench(await freePort(), stopServer);
      figures.push(...found.figures);
      notes.push(...found.notes);
    }
  } finally {
    if (server) await stopServer(server.child);
    if (receiver) await new Promise((r) => receiver!.server.close(r));
    rmSync(pluginsDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  }

  report(figures, notes);
}

/** Prints the results table and the notes under it. */
function report(figures: readonly Figure[], notes: readonly string[]): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(
    `\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `Node ${process.version}; ${SECONDS} s per figure, ${CONNECTIONS} HTTP connections, pgbench -M prepared -c 8\n`,
  );
  console.log(
    `${pad('request', 42)}${pad('ours', 18)}${pad('p50 / p99 ms', 14)}` +
      `${pad('raw SQL', 12)}${pad('ratio', 9)}${pad('target', 36)}met`,
  );
  for (const f of figures) {
    const ratio = f.ceiling ? `${((f.ours / f.ceiling) * 100).toFixed(1)} %` : '';
    const lat = f.p50 !== undefined ? `${f.p50} / ${f.p99}` : '';
    const ceiling = f.ceiling ? f.ceiling.toFixed(0) : '';
    const met = f.met === undefined ? '' : f.met ? 'yes' : 'NO';
    console.log(
      `${pad(f.name, 42)}${pad(`${f.ours.toFixed(0)} ${f.unit}`, 18)}${pad(lat, 14)}${pad(ceiling, 12)}` +
        `${pad(ratio, 9)}${pad(f.target, 36)}${met}`,
    );
  }
  if (notes.length) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
