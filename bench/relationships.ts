/**
 * Issue 10's relationship layer in `npm run bench` (bench/run.ts calls relationshipBench when any of
 * L1–L4 is wanted): its own fresh database and server, loaded with the relationship demo
 * (sdk/cli/relationship-demo.ts: XRM_BENCH_ACTIVITIES activities, default 1,000,000, over ~10k
 * tracked records) through the server's bulk API by seedRelationshipDemo, as a user would.
 *
 * - L1 what keeping signals current adds to one activity write (target ≤ 5 ms p95, in the same
 *   transaction). (a) End to end: autocannon creates of a call regarding a random tracked record
 *   against the same create with no `regarding` (its one party resolves to no record: nothing to
 *   keep current), in alternating slices; p50/p95/p99 and the difference. (b) In the transaction,
 *   the target's figure: 2,000 activity INSERTs on distinct random tracked records, one transaction
 *   each, timing only the upkeep the server's change consumer runs after the INSERT —
 *   refreshTargets (the links and the advisory locks in one statement, one fetch, the formula, one
 *   UPDATE), imported from
 *   server/relationships and run on a kysely over a pg pool.
 * - L2 `GET /api/relationships/today?owner=me&limit=20` (target ≤ 50 ms p95) against the UNION ALL
 *   over the tracked tables with the same four conditions, ranked in SQL (pgbench).
 * - L3 `GET /api/data/{entity}/{id}/timeline?limit=50` on random records (target ≤ 10 ms p95)
 *   against the page of links joined to the activities (pgbench, ids from a lookup table).
 * - L4 import throughput: (a) the seed load (bulk API, 1,000 a request), (b) POST
 *   /api/activities/ingest by 1,000 (upserts by message_id), (c) a CSV file through POST
 *   /api/activities/import?format=csv until its job says done; each against the same rows written
 *   into a scratch copy of data.activity's table (multi-row INSERTs by 1,000; COPY for the CSV).
 *
 * Latencies are each request's own (autocannon's response events, exact), CPU is what the server
 * process and the database's backends spent (/proc), so a noisy machine shows in the notes.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { type Db, openDatabase } from '../metadata/database.ts';
import { loadCatalog } from '../metadata/store.ts';
import { settingsOf, signalsOf } from '../server/relationships/formula.ts';
import {
  fetchInputs,
  type LinkRow,
  lockTargets,
  refreshTargets,
  storeSignals,
} from '../server/relationships/signals.ts';
import { type DemoActivity, demoActivities, demoRecords, demoSizes } from '../sdk/cli/relationship-demo.ts';
import { seedRelationshipDemo } from '../sdk/cli/seed-command.ts';

const run = promisify(execFile);

/** Unmeasured activity writes before L1b's sample (statements prepared on the connection). */
const WARM_UP_WRITES = 100;

/** The scenario ids (bench/run.ts's group `relationships`). */
export const RELATIONSHIP_SCENARIOS = ['L1', 'L2', 'L3', 'L4'] as const;

/** A row of the results table (bench/run.ts prints them). */
export interface BenchFigure {
  name: string;
  ours: number;
  p50?: number;
  p99?: number;
  ceiling?: number;
  unit: string;
  target: string;
  met: boolean | undefined;
}

/** What bench/run.ts lends: its settings and helpers. */
export interface RelationshipBenchContext {
  /** Admin connection URL: the fresh database is made and dropped through it. */
  adminUrl: string;
  want(id: string): boolean;
  seconds: number;
  connections: number;
  /** XRM_BENCH_SCALE: below 1 scales the activity counts down (a quick check only). */
  scale: number;
  /** The server's environment (administrator, rate limit off); its data and plugin folders are set here. */
  serverEnv: Record<string, string>;
  admin: { email: string; password: string };
  startServer(databaseUrl: string, env: Record<string, string>): Promise<{ child: ChildProcess; base: string }>;
  stopServer(child: ChildProcess): Promise<void>;
  signIn(base: string, email: string, password: string): Promise<Record<string, string>>;
  /** pgbench -M prepared -c 8 for `seconds`: answers tps. */
  pgbench(databaseUrl: string, script: string): Promise<number>;
}

type Auth = Record<string, string>;
interface Tracked {
  entity: string;
  id: string;
}
interface Latency {
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const latencyOf = (times: number[]): Latency => {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), count: times.length };
};
/** A latency cell (ms), rounded to what it needs. */
const ms2 = (x: number) => Number(x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2));
/** A latency as a table figure: µs below 100 ms (the table prints whole units), ms above. */
const latencyFigure = (name: string, ms: number, target: string, met: boolean | undefined): BenchFigure =>
  Math.abs(ms) < 100 ? { name, ours: ms * 1000, unit: 'µs', target, met } : { name, ours: ms, unit: 'ms', target, met };
/**
 * A read's three rows: its throughput at the bench's connections (with raw SQL's ceiling), then
 * its p95 there and on one connection against the target.
 */
const readFigures = (
  label: string,
  name: string,
  rps: number,
  ceiling: number,
  l: Latency,
  alone: Latency,
  connections: number,
  limitMs: number,
): BenchFigure[] => [
  {
    name,
    ours: rps,
    p50: ms2(l.p50),
    p99: ms2(l.p99),
    ceiling,
    unit: 'req/s',
    target: '(throughput; p95 below)',
    met: undefined,
  },
  latencyFigure(`${label} p95, ${connections} connections`, l.p95, `p95 ≤ ${limitMs} ms`, l.p95 <= limitMs),
  {
    ...latencyFigure(`${label} p95, 1 connection`, alone.p95, `p95 ≤ ${limitMs} ms`, alone.p95 <= limitMs),
    p50: ms2(alone.p50),
    p99: ms2(alone.p99),
  },
];
const fmt = (l: Latency) => `p50 ${l.p50.toFixed(2)} / p95 ${l.p95.toFixed(2)} / p99 ${l.p99.toFixed(2)} ms`;
const int = (x: number) => Math.round(x).toLocaleString('en');
const shuffle = <T>(xs: T[]): T[] => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
};

async function call(base: string, auth: Auth, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

/** autocannon, authenticated, with every 2xx response's own latency (ms) kept for exact percentiles. */
function cannon(
  ctx: RelationshipBenchContext,
  opts: autocannon.Options,
  auth: Auth,
): Promise<{ result: autocannon.Result; times: number[] }> {
  const times: number[] = [];
  const requests = opts.requests?.map((r) => ({ ...r, headers: { ...r.headers, ...auth } }));
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        connections: ctx.connections,
        duration: ctx.seconds,
        pipelining: 1,
        ...opts,
        headers: { ...opts.headers, ...auth },
        ...(requests ? { requests } : {}),
      },
      (error, result: autocannon.Result) => {
        if (error) return reject(error);
        if (result.non2xx || result.errors)
          return reject(new Error(`${opts.title}: ${result.non2xx} non-2xx, ${result.errors} errors`));
        resolve({ result, times });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status < 300) times.push(responseTime);
    });
  });
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS = 100;

/** A process's CPU time so far (user + system, ms) and its start time (ticks after boot); undefined once gone. */
function procCpu(pid: number): { ms: number; start: string } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS, start: fields[19]! };
  } catch {
    return undefined;
  }
}

/**
 * CPU of the PostgreSQL backends of one database (a local server only), sampled every 500 ms: a backend
 * that ends between two readings (a pool closing an idle connection, pgbench's, psql's) still counts up
 * to its last sample, where summing the live backends at both ends would lose it (and go negative).
 */
class BackendCpu {
  readonly #database: string;
  /** "pid:start" → CPU ms at the last sample. */
  readonly #last = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(database: string) {
    this.#database = database;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 500);
    this.#timer.unref();
  }

  #sample(): void {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      // a backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>"
      if (!cmdline.startsWith('postgres: ') || !cmdline.split(/[\s\0]+/).includes(this.#database)) continue;
      const cpu = procCpu(Number(entry));
      if (cpu) this.#last.set(`${entry}:${cpu.start}`, cpu.ms);
    }
  }

  /** The readings now, to measure from. */
  mark(): Map<string, number> {
    this.#sample();
    return new Map(this.#last);
  }

  /** CPU ms the database's backends spent since `mark`. */
  since(mark: ReadonlyMap<string, number>): number {
    this.#sample();
    let ms = 0;
    for (const [key, value] of this.#last) ms += value - (mark.get(key) ?? 0);
    return ms;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The columns of a raw activity row, in the scratch table's INSERT order. */
const RAW_COLUMNS = [
  ['id', 'uuid'],
  ['kind', 'text'],
  ['direction', 'text'],
  ['subject', 'text'],
  ['body', 'text'],
  ['occurred_at', 'timestamptz'],
  ['duration_minutes', 'int'],
  ['due_at', 'timestamptz'],
  ['completed_at', 'timestamptz'],
  ['message_id', 'text'],
  ['in_reply_to', 'uuid'],
  ['regarding', 'jsonb'],
  ['parties', 'jsonb'],
  ['owner_id', 'uuid'],
  ['created_by', 'uuid'],
] as const;
const RAW_TABLE = 'public.bench_activity_raw';

/** One multi-row INSERT of these activities into the scratch table (optionally an upsert by message_id). */
function rawInsert(activities: readonly Partial<DemoActivity>[], owner: string, upsert = false) {
  const value = (a: Partial<DemoActivity>, c: string): unknown => {
    if (c === 'owner_id' || c === 'created_by') return owner;
    const v = (a as Record<string, unknown>)[c];
    if (v === undefined || v === null) return null;
    return c === 'regarding' || c === 'parties' ? JSON.stringify(v) : v;
  };
  const cols = RAW_COLUMNS.map(([c]) => c);
  const text =
    `INSERT INTO ${RAW_TABLE} (${cols.join(', ')}) SELECT * FROM unnest(` +
    RAW_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ') +
    ')' +
    (upsert
      ? ` ON CONFLICT (message_id) DO UPDATE SET ${cols
          .filter((c) => c !== 'id' && c !== 'message_id')
          .map((c) => `${c} = EXCLUDED.${c}`)
          .join(', ')}, updated_at = now(), version = ${RAW_TABLE.split('.')[1]}.version + 1`
      : '');
  return { text, values: cols.map((c) => activities.map((a) => value(a, c))) };
}

/** Times the scratch-table INSERTs of these batches (their statements only); answers rows/s. */
async function rawLoad(
  client: pg.Client,
  batches: Iterable<Partial<DemoActivity>[]>,
  owner: string,
  upsert = false,
): Promise<{ perSecond: number; rows: number; seconds: number }> {
  await client.query(`TRUNCATE ${RAW_TABLE}`);
  let rows = 0;
  let spent = 0;
  for (const batch of batches) {
    const q = rawInsert(batch, owner, upsert);
    const t0 = performance.now();
    await client.query(q.text, q.values);
    spent += performance.now() - t0;
    rows += batch.length;
  }
  return { perSecond: rows / (spent / 1000), rows, seconds: spent / 1000 };
}

function* chunks<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

export async function relationshipBench(
  ctx: RelationshipBenchContext,
): Promise<{ figures: BenchFigure[]; notes: string[] }> {
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  const shrink = Math.min(1, ctx.scale);
  const activities = Math.max(
    1000,
    Math.min(1_000_000, Math.round(Number(process.env.XRM_BENCH_ACTIVITIES ?? 1_000_000) * shrink)),
  );
  const ingestCount = Math.max(2000, Math.round(20_000 * shrink));
  const csvRows = Math.max(5000, Math.round(50_000 * shrink));
  const options = { activities, seed: 1, now: new Date() };
  const load0 = loadavg()[0]!;

  const dbName = `xrm_bench_rel_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const adminClient = async (text: string) => {
    const c = new pg.Client({ connectionString: ctx.adminUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await adminClient(`CREATE DATABASE "${dbName}"`);
  const url = new URL(ctx.adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const dataDir = mkdtempSync(join(tmpdir(), 'xrm-bench-rel-'));
  let server: { child: ChildProcess; base: string } | undefined;
  const db = new pg.Client({ connectionString: databaseUrl });
  let dbOpen = false;
  let backends: BackendCpu | undefined;
  try {
    // no plugin: the bench's own (bench/run.ts) listen to other entities anyway
    server = await ctx.startServer(databaseUrl, {
      ...ctx.serverEnv,
      XRM_DATA_DIR: dataDir,
      XRM_PLUGINS_DIR: join(dataDir, 'plugins.d'),
    });
    const { base } = server;
    const pid = server.child.pid;
    const auth = await ctx.signIn(base, ctx.admin.email, ctx.admin.password);
    await db.connect();
    dbOpen = true;
    const one = async <T = any>(text: string, values?: unknown[]): Promise<T> =>
      (await db.query(text, values)).rows[0] as T;
    const owner = (await one<{ id: string }>('SELECT id::text FROM xrm.users WHERE lower(email) = lower($1)', [
      ctx.admin.email,
    ]))!.id;
    backends = new BackendCpu(dbName);
    const meter = backends;
    const serverCpu = () => procCpu(pid!)?.ms ?? 0;
    const cpu = () => ({ server: serverCpu(), database: meter.mark(), bench: process.cpuUsage() });
    /** CPU spent since `c0`: the server, the database's backends, this process (ms). */
    const spent = (c0: ReturnType<typeof cpu>) => {
      const b = process.cpuUsage(c0.bench);
      return {
        server: serverCpu() - c0.server,
        database: meter.since(c0.database),
        bench: (b.user + b.system) / 1000,
      };
    };

    // ——— the load: the demo through the bulk API (seedRelationshipDemo), its activities timed ———
    const sizes = demoSizes(activities);
    const recordCount = Object.values(sizes).reduce((a, b) => a + b, 0);
    process.stdout.write(`relationships: generating ${int(activities)} demo activities (timing the generator)… `);
    let t0 = performance.now();
    let generated = 0;
    for (const a of demoActivities(options)) generated += JSON.stringify(a).length > 0 ? 1 : 0;
    const generatorSeconds = (performance.now() - t0) / 1000;
    process.stdout.write(`${generatorSeconds.toFixed(1)} s\n`);
    if (generated !== activities) notes.push(`the demo generator made ${generated} activities, not ${activities}`);

    process.stdout.write(`relationships: seeding ${int(activities)} activities over ${int(recordCount)} records…\n`);
    const seedTimes = { first: 0, last: 0, batches: 0, maxBatch: 0, each: [] as number[] };
    const api = {
      async call(method: string, path: string, body?: unknown) {
        const started = performance.now();
        const res = await fetch(base + path, {
          method,
          headers: {
            accept: 'application/json',
            ...auth,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (path === '/api/data/activity/bulk') {
          const ended = performance.now();
          seedTimes.first ||= started;
          seedTimes.last = ended;
          seedTimes.batches++;
          seedTimes.maxBatch = Math.max(seedTimes.maxBatch, ended - started);
          seedTimes.each.push(ended - started);
        }
        return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
      },
    };
    let seedLog = '';
    const seedCpu0 = cpu();
    t0 = performance.now();
    await seedRelationshipDemo(api, options, {
      stdout: (text) => {
        seedLog += text;
      },
      stderr: (text) => {
        seedLog += text;
        if (text.startsWith('activities:')) process.stdout.write(`  seed ${text}`);
      },
    });
    const seedAll = (performance.now() - t0) / 1000;
    const seedCpu = spent(seedCpu0);
    const seedSeconds = (seedTimes.last - seedTimes.first) / 1000;
    const seedRate = activities / seedSeconds;
    process.stdout.write(
      `relationships: seeded ${int(seedRate)} activities/s ` +
        `(${seedSeconds.toFixed(0)} s; ${seedAll.toFixed(0)} s in all)\n`,
    );
    const counts = await one<{ activities: number; links: number }>(
      'SELECT (SELECT count(*) FROM data.activity)::int AS activities, ' +
        '(SELECT count(*) FROM xrm.activity_links)::int AS links',
    );
    if (counts.activities !== activities)
      throw new Error(`the seed wrote ${counts.activities} activities, not ${activities}:\n${seedLog}`);
    const entities = (
      (await call(base, auth, 'GET', '/api/metadata/entities')) as {
        data: { name: string; primaryField: string; trackActivities?: boolean; signalSettings?: unknown }[];
      }
    ).data.filter((e) => e.trackActivities);
    for (const table of ['data.activity', 'xrm.activity_links', ...entities.map((e) => `data.${e.name}`)])
      await db.query(`VACUUM ANALYZE ${table}`);
    // how the rate moves as the history grows: the batches of the first and the last tenth of the load
    const tenth = Math.max(1, Math.floor(seedTimes.each.length / 10));
    const rateOf = (batches: number[]) => (batches.length * 1000) / (batches.reduce((a, b) => a + b, 0) / 1000);
    const firstTenth = rateOf(seedTimes.each.slice(0, tenth));
    const lastTenth = rateOf(seedTimes.each.slice(-tenth));
    notes.push(
      `L4a seed (seedRelationshipDemo, bulk API by 1,000): ${int(activities)} activities in ` +
        `${seedSeconds.toFixed(1)} s ` +
        `= ${int(seedRate)}/s (records and entities first: ${(seedAll - seedSeconds).toFixed(1)} s; slowest batch ` +
        `${(seedTimes.maxBatch / 1000).toFixed(2)} s); ${int(counts.links)} links ` +
        `(${(counts.links / activities).toFixed(2)} per activity); CPU per 1,000 activities: server ` +
        `${int((seedCpu.server / activities) * 1000)} ms, ` +
        `PostgreSQL ${int((seedCpu.database / activities) * 1000)} ms, ` +
        `the bench (generator + JSON) ${int((seedCpu.bench / activities) * 1000)} ms — the generator alone ` +
        `took ${generatorSeconds.toFixed(1)} s for all of them; the bulk requests' own rate over the first ` +
        `tenth of the load ${int(firstTenth)}/s, over the last tenth ${int(lastTenth)}/s`,
    );

    const records: Tracked[] = [];
    const contactEmails: string[] = [];
    for (const r of demoRecords(options)) {
      records.push({ entity: r.entity, id: r.id });
      if (r.entity === 'contact' && typeof r.values.email === 'string') contactEmails.push(r.values.email);
    }
    const regardingTypes = new Set(['partner', 'supplier', 'investor', 'deal', 'asset', 'iot_device', 'employee']);
    const streams = records.filter((r) => regardingTypes.has(r.entity));
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    await db.query(
      `CREATE TABLE ${RAW_TABLE} (LIKE data.activity INCLUDING ALL);
       CREATE TABLE public.bench_rel_ids (n int PRIMARY KEY, entity text NOT NULL, id uuid NOT NULL)`,
    );
    await db.query(
      'INSERT INTO public.bench_rel_ids SELECT n, e, i ' +
        'FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS x(e, i, n)',
      [records.map((r) => r.entity), records.map((r) => r.id)],
    );
    await db.query('ANALYZE public.bench_rel_ids');

    // ——— L1 the upkeep of one activity write ———
    if (ctx.want('L1')) {
      const party = [{ role: 'from', address: ctx.admin.email }];
      const callBody = (regarding?: Tracked) =>
        JSON.stringify({
          kind: 'call',
          direction: 'outbound',
          subject: 'Bench call',
          occurred_at: new Date().toISOString(),
          duration_minutes: 15,
          parties: party,
          ...(regarding ? { regarding } : {}),
        });
      const variant = (tracked: boolean): autocannon.Options => ({
        url: base,
        title: `L1a ${tracked ? 'tracked' : 'not tracked'}`,
        requests: [
          {
            method: 'POST',
            path: '/api/data/activity',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: callBody(tracked ? pick(records) : undefined) }),
          },
        ],
      });
      process.stdout.write('L1a activity write, not tracked / tracked… ');
      for (const tracked of [false, true])
        await cannon(ctx, { ...variant(tracked), duration: Math.min(2, ctx.seconds) }, auth);
      /** Alternating slices (none, tracked, tracked, none) on a shared machine; `connections` at once. */
      const slices = async (connections: number, slice: number) => {
        const totals = {
          plain: { times: [] as number[], requests: 0, seconds: 0, server: 0, database: 0 },
          tracked: { times: [] as number[], requests: 0, seconds: 0, server: 0, database: 0 },
        };
        for (const v of ['plain', 'tracked', 'tracked', 'plain'] as const) {
          const c0 = cpu();
          const opts = { ...variant(v === 'tracked'), duration: slice, connections };
          const { result, times } = await cannon(ctx, opts, auth);
          const c = spent(c0);
          const t = totals[v];
          t.times.push(...times);
          t.requests += result.requests.total;
          t.seconds += result.duration;
          t.server += c.server;
          t.database += c.database;
        }
        return totals;
      };
      const totals = await slices(ctx.connections, Math.max(1, ctx.seconds / 2));
      const single = await slices(1, Math.max(1, ctx.seconds / 4));
      const single0 = latencyOf(single.plain.times);
      const single1 = latencyOf(single.tracked.times);
      const rawCreate =
        `WITH w AS (INSERT INTO ${RAW_TABLE} (kind, direction, subject, occurred_at, duration_minutes, parties, ` +
        `regarding, owner_id, created_by) VALUES ('call', 'outbound', 'Bench call', now(), 15, ` +
        `'${JSON.stringify(party)}', '${JSON.stringify(records[0])}', '${owner}', '${owner}') ` +
        'RETURNING *) SELECT row_to_json(w)::text FROM w;\n';
      const ceiling = await ctx.pgbench(databaseUrl, rawCreate);
      await db.query(`TRUNCATE ${RAW_TABLE}`);
      const plain = latencyOf(totals.plain.times);
      const tracked = latencyOf(totals.tracked.times);
      const rps = (v: keyof typeof totals) => totals[v].requests / totals[v].seconds;
      const perReq = (v: keyof typeof totals) =>
        `${(totals[v].server / totals[v].requests).toFixed(2)} + ` +
        `${(totals[v].database / totals[v].requests).toFixed(2)}`;
      process.stdout.write(`${rps('plain').toFixed(0)} / ${rps('tracked').toFixed(0)} req/s\n`);

      // (b) the upkeep's statements in the write's transaction, timed on their own
      // as the server opens it: the upkeep's statements run prepared (metadata/database.ts)
      const kdb: Db = openDatabase({ databaseUrl, dataDir: dataDir }).db;
      const n = Math.min(2000, records.length);
      const sample = shuffle([...records]).slice(0, n);
      const upkeep: number[] = [];
      /** Each sampled record's links before its write, beside its upkeep time. */
      const byLinks: { links: number; ms: number }[] = [];
      const linkCount = new Map<string, number>(
        (
          await db.query(
            "SELECT entity || ':' || record_id AS k, count(*)::int AS n FROM xrm.activity_links GROUP BY 1",
          )
        ).rows.map((r: { k: string; n: number }) => [r.k, r.n]),
      );
      const inserts: number[] = [];
      const parts = { lock: [] as number[], fetch: [] as number[], formula: [] as number[] };
      const store: number[] = [];
      process.stdout.write(`L1b upkeep in the transaction of ${n} activity writes… `);
      try {
        const catalog = await loadCatalog(kdb);
        /** One activity write on `record` in its own transaction: the INSERT, then `upkeep` (timed by the caller). */
        const write = (record: Tracked, upkeep: (trx: Db, links: LinkRow[]) => Promise<void>) =>
          kdb.transaction().execute(async (trx) => {
            const started = performance.now();
            const { rows } = await sql<{ id: string }>`INSERT INTO data.activity
              (kind, direction, subject, occurred_at, duration_minutes, parties, regarding, owner_id, created_by)
              VALUES ('call', 'outbound', 'Bench call', now(), 15, ${JSON.stringify(party)}::jsonb,
                ${JSON.stringify(record)}::jsonb, ${owner}::uuid, ${owner}::uuid)
              RETURNING id::text`.execute(trx);
            inserts.push(performance.now() - started);
            const { id } = rows[0]!;
            await upkeep(trx, [{ entity: record.entity, record_id: record.id, activity_id: id, role: 'regarding' }]);
          });
        // a running server's connections hold these statements prepared after their first use:
        // 100 unmeasured writes first, so the figure is that steady state, not the first PREPAREs
        for (const record of shuffle([...records]).slice(0, WARM_UP_WRITES))
          await write(record, (trx, link) =>
            refreshTargets(trx, catalog, new Map([[record.entity, new Set([record.id])]]), new Date(), link),
          );
        inserts.length = 0;
        for (const record of sample) {
          await write(record, async (trx, link) => {
            const started = performance.now();
            await refreshTargets(trx, catalog, new Map([[record.entity, new Set([record.id])]]), new Date(), link);
            upkeep.push(performance.now() - started);
            byLinks.push({
              links: linkCount.get(`${record.entity}:${record.id}`) ?? 0,
              ms: upkeep[upkeep.length - 1]!,
            });
          });
        }
        // the same upkeep statement by statement (another 500 records), to see where its time goes
        for (const record of shuffle([...records]).slice(0, Math.min(500, records.length))) {
          await write(record, async (trx, link) => {
            let at = performance.now();
            const lap = (into: number[]) => {
              const now = performance.now();
              into.push(now - at);
              at = now;
            };
            await lockTargets(trx, new Map([[record.entity, new Set([record.id])]]), link);
            lap(parts.lock);
            const asOf = new Date();
            const inputs = await fetchInputs(trx, record.entity, [record.id], asOf);
            lap(parts.fetch);
            const settings = settingsOf(catalog.entity(record.entity)?.signalSettings);
            const signals = new Map([...inputs].map(([id, input]) => [id, signalsOf(input, settings, asOf.getTime())]));
            lap(parts.formula);
            await storeSignals(trx, record.entity, signals);
            lap(store);
          });
        }
      } finally {
        await kdb.destroy();
      }
      const upkeepL = latencyOf(upkeep);
      const insertL = latencyOf(inserts);
      process.stdout.write(`${fmt(upkeepL)}\n`);
      figures.push(
        {
          name: 'L1a activity write, nothing to keep',
          ours: rps('plain'),
          p50: ms2(plain.p50),
          p99: ms2(plain.p99),
          ceiling,
          unit: 'req/s',
          target: '(baseline: no regarding, no record)',
          met: undefined,
        },
        {
          name: 'L1a activity write, tracked record',
          ours: rps('tracked'),
          p50: ms2(tracked.p50),
          p99: ms2(tracked.p99),
          ceiling,
          unit: 'req/s',
          target: '(end to end, under load)',
          met: undefined,
        },
        {
          ...latencyFigure(
            `L1a added p95, ${ctx.connections} connections`,
            tracked.p95 - plain.p95,
            '(shown; the target is L1b)',
            undefined,
          ),
          p50: ms2(tracked.p50 - plain.p50),
          p99: ms2(tracked.p99 - plain.p99),
        },
        {
          ...latencyFigure(
            'L1a added p95, 1 connection',
            single1.p95 - single0.p95,
            '(shown; the target is L1b)',
            undefined,
          ),
          p50: ms2(single1.p50 - single0.p50),
          p99: ms2(single1.p99 - single0.p99),
        },
        {
          ...latencyFigure('L1b signal upkeep in the txn, p95', upkeepL.p95, 'p95 ≤ 5 ms', upkeepL.p95 <= 5),
          p50: ms2(upkeepL.p50),
          p99: ms2(upkeepL.p99),
        },
      );
      // the upkeep by how long the record's history is: quartiles of the sample by its links
      byLinks.sort((a, b) => a.links - b.links);
      const quarters = [0, 1, 2, 3].map((q) => {
        const slice = byLinks.slice(Math.floor((q * byLinks.length) / 4), Math.floor(((q + 1) * byLinks.length) / 4));
        const l = latencyOf(slice.map((x) => x.ms));
        const range = `${slice[0]?.links ?? 0}–${slice[slice.length - 1]?.links ?? 0}`;
        return `${range} links: ${l.p50.toFixed(1)}/${l.p95.toFixed(1)}`;
      });
      const part = (xs: number[]) => {
        const l = latencyOf(xs);
        return `${l.p50.toFixed(2)}/${l.p95.toFixed(2)}`;
      };
      notes.push(
        `L1a POST /api/data/activity, ${ctx.connections} connections, alternating slices (none, tracked, tracked, ` +
          `none): nothing to keep ${rps('plain').toFixed(0)} req/s, ${fmt(plain)}; regarding a random tracked ` +
          `record ${rps('tracked').toFixed(0)} req/s, ${fmt(tracked)}; difference p50 ` +
          `${(tracked.p50 - plain.p50).toFixed(2)} / p95 ${(tracked.p95 - plain.p95).toFixed(2)} / p99 ` +
          `${(tracked.p99 - plain.p99).toFixed(2)} ms (it also holds the regarding check's SELECT); CPU ms per ` +
          `request, server + PostgreSQL: ${perReq('plain')} → ${perReq('tracked')}; ` +
          `raw INSERT ${ceiling.toFixed(0)}/s. ` +
          `One connection: ${fmt(single0)} → ${fmt(single1)}, ` +
          `${(single.plain.requests / single.plain.seconds).toFixed(0)} → ` +
          `${(single.tracked.requests / single.tracked.seconds).toFixed(0)} req/s`,
        `L1b (the target's figure) upkeep of ${n} activity writes on distinct random tracked records (after ` +
          `${WARM_UP_WRITES} unmeasured ones), one ` +
          `transaction each, after the INSERT (refreshTargets, as the change consumer runs it): ` +
          `${fmt(upkeepL)} (max ${Math.max(...upkeep).toFixed(2)}); the activity INSERT itself ${fmt(insertL)}; ` +
          `p50/p95 ms by statement (500 more): links + locks ${part(parts.lock)}, fetch ` +
          `${part(parts.fetch)}, formula (JS) ${part(parts.formula)}, UPDATE ${part(store)}; p50/p95 ms by the ` +
          `record's history (quartiles of the sample): ${quarters.join(', ')}`,
      );
    }

    // ——— L2 today for one owner ———
    const cadence = (e: (typeof entities)[number]) =>
      settingsOf(e.signalSettings as Parameters<typeof settingsOf>[0]).cadenceDays;
    const epoch = (x: string) => `extract(epoch FROM ${x})`;
    /** The today list's candidates as raw SQL: every tracked table's records of the owner meeting a condition. */
    const todayUnion = (ownerId: string) =>
      entities
        .map((e) => {
          const stale = `now() - interval '${2 * cadence(e)} days'`;
          return (
            `SELECT '${e.name}' AS entity, t.id, t.${e.primaryField}::text AS name, t.last_contact_at, ` +
            't.awaiting_reply_since, t.reply_overdue_at, t.median_response_minutes, t.relationship_strength, ' +
            't.relationship_health, t.strength_change_30d, t.unfollowed_meeting_at, t.next_meeting_at, ' +
            't.interactions_90d, (' +
            'CASE WHEN t.reply_overdue_at <= now() AND t.awaiting_reply_since IS NOT NULL THEN 4 * least(10, ' +
            `${epoch('now() - t.awaiting_reply_since')} / greatest(60, ` +
            `${epoch('t.reply_overdue_at - t.awaiting_reply_since')})) ELSE 0 END + ` +
            "CASE WHEN t.unfollowed_meeting_at <= now() - interval '1 day' THEN 3 * least(5, " +
            `${epoch('now() - t.unfollowed_meeting_at')} / 86400) ELSE 0 END + ` +
            'CASE WHEN t.strength_change_30d <= -20 THEN 2 * least(5, -t.strength_change_30d / 10.0) ELSE 0 END + ' +
            `CASE WHEN t.last_contact_at < ${stale} THEN least(5, ` +
            `floor(${epoch('now() - t.last_contact_at')} / 86400) / ${2 * cadence(e)}) ELSE 0 END` +
            ') * (1 + coalesce(t.relationship_strength, 0) / 100.0) AS priority ' +
            `FROM data.${e.name} t WHERE t.owner_id = '${ownerId}' AND (t.reply_overdue_at <= now() ` +
            "OR t.unfollowed_meeting_at <= now() - interval '1 day' OR t.strength_change_30d <= -20 " +
            `OR t.last_contact_at < ${stale})`
          );
        })
        .join('\nUNION ALL\n');
    const todaySql = (ownerId: string) =>
      `SELECT COALESCE(json_agg(r), '[]')::text AS list FROM (SELECT * FROM (\n${todayUnion(ownerId)}\n) u ` +
      'ORDER BY priority DESC, id::text LIMIT 20) r;\n';
    if (ctx.want('L2')) {
      process.stdout.write('L2 today (20, one owner)… ');
      const today = '/api/relationships/today?owner=me&limit=20';
      const requests = [{ method: 'GET' as const, path: today }];
      await cannon(ctx, { url: base, title: 'L2 warm-up', duration: Math.min(2, ctx.seconds), requests }, auth);
      const c0 = cpu();
      const { result, times } = await cannon(ctx, { url: base, title: 'L2 today', requests }, auth);
      const c = spent(c0);
      const alone = latencyOf((await cannon(ctx, { url: base, title: 'L2 1', connections: 1, requests }, auth)).times);
      const ceiling = await ctx.pgbench(databaseUrl, todaySql(owner));
      const l = latencyOf(times);
      const rps = result.requests.total / result.duration;
      // the same list both ways, and how many records each entity has that meet a condition
      const ours = (await call(base, auth, 'GET', today)) as { data: { entity: string; id: string }[] };
      const raw = JSON.parse((await one<{ list: string }>(todaySql(owner))).list) as { id: string }[];
      const oursIds = new Set(ours.data.map((x) => x.id));
      const same = raw.filter((x) => oursIds.has(x.id)).length;
      const matching = await db.query(
        `SELECT entity, count(*)::int AS n FROM (${todayUnion(owner)}) m GROUP BY 1 ORDER BY 2 DESC`,
      );
      const candidates = matching.rows.map((r: { entity: string; n: number }) => `${r.entity} ${r.n}`).join(', ');
      process.stdout.write(`${rps.toFixed(0)} req/s, ${fmt(l)} (ceiling ${ceiling.toFixed(0)})\n`);
      figures.push(
        ...readFigures('L2 today', 'L2 today, 20 for one owner', rps, ceiling, l, alone, ctx.connections, 50),
      );
      notes.push(
        `L2 GET /api/relationships/today?owner=me&limit=20 (one owner holds all ${int(recordCount)} records): ` +
          `${rps.toFixed(0)} req/s, ${fmt(l)} (one connection: ${fmt(alone)}); CPU ms per request, server + ` +
          `PostgreSQL: ${(c.server / result.requests.total).toFixed(2)} + ` +
          `${(c.database / result.requests.total).toFixed(2)}; raw SQL (UNION ALL over ${entities.length} tables, ` +
          `ranked in SQL) ${ceiling.toFixed(0)}/s. Records ` +
          `meeting a condition: ${candidates}; the platform's 20 and raw SQL's top 20 share ${same} records`,
      );
    }

    // ——— L3 the timeline page ———
    if (ctx.want('L3')) {
      process.stdout.write('L3 timeline page of 50… ');
      const timeline: autocannon.Options = {
        url: base,
        title: 'L3 timeline',
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => {
              const r = pick(records);
              return { ...req, path: `/api/data/${r.entity}/${r.id}/timeline?limit=50` };
            },
          },
        ],
      };
      await cannon(ctx, { ...timeline, duration: Math.min(2, ctx.seconds) }, auth);
      const c0 = cpu();
      const { result, times } = await cannon(ctx, timeline, auth);
      const c = spent(c0);
      const alone = latencyOf((await cannon(ctx, { ...timeline, connections: 1 }, auth)).times);
      const ceiling = await ctx.pgbench(
        databaseUrl,
        `\\set n random(1, ${records.length})\n` +
          "SELECT COALESCE(json_agg(row_to_json(a) ORDER BY a.occurred_at DESC, a.id DESC), '[]')::text FROM (" +
          'SELECT a.* FROM public.bench_rel_ids b JOIN xrm.activity_links l ON l.entity = b.entity ' +
          'AND l.record_id = b.id JOIN data.activity a ON a.id = l.activity_id WHERE b.n = :n ' +
          'ORDER BY l.occurred_at DESC, l.activity_id DESC LIMIT 51) a;\n',
      );
      const l = latencyOf(times);
      const rps = result.requests.total / result.duration;
      const linksPer = await one<{ avg: number; max: number }>(
        'SELECT avg(n)::float AS avg, max(n)::int AS max FROM (SELECT count(*) AS n FROM xrm.activity_links ' +
          'GROUP BY entity, record_id) x',
      );
      process.stdout.write(`${rps.toFixed(0)} req/s, ${fmt(l)} (ceiling ${ceiling.toFixed(0)})\n`);
      figures.push(
        ...readFigures('L3 timeline', 'L3 timeline page of 50', rps, ceiling, l, alone, ctx.connections, 10),
      );
      notes.push(
        `L3 GET /api/data/{entity}/{id}/timeline?limit=50 on random records of all ${int(records.length)} ` +
          `(links per linked record: mean ${linksPer.avg.toFixed(0)}, max ${linksPer.max}): ${rps.toFixed(0)} ` +
          `req/s, ${fmt(l)} (one connection: ${fmt(alone)}); CPU ms per request, server + PostgreSQL: ` +
          `${(c.server / result.requests.total).toFixed(2)} + ${(c.database / result.requests.total).toFixed(2)}; ` +
          `raw SQL (links ⋈ activities, LIMIT 51) ${ceiling.toFixed(0)}/s`,
      );
    }

    // ——— L4 imports: (a) the seed above, (b) ingest by 1,000, (c) a CSV file; each against raw INSERTs ———
    if (ctx.want('L4')) {
      process.stdout.write('L4a raw SQL: the same demo activities into a scratch table… ');
      const seedRaw = await rawLoad(db, chunks(demoActivities(options), 1000), owner);
      process.stdout.write(`${int(seedRaw.perSecond)} rows/s\n`);
      figures.push({
        name: `L4a seed load (bulk API), ${int(activities)}`,
        ours: seedRate,
        ceiling: seedRaw.perSecond,
        unit: 'activities/s',
        target: '(throughput)',
        met: undefined,
      });

      // (b) connector ingestion: new emails by 1,000 with message ids, every other one a reply
      const before = await one<{ n: number }>('SELECT count(*)::int AS n FROM data.activity');
      const ingestRows = (k: number) =>
        Array.from({ length: 1000 }, (_, i) => {
          const n = k * 1000 + i;
          const inbound = n % 2 === 1;
          const contact = contactEmails[n % contactEmails.length]!;
          return {
            message_id: `bench-ingest-${n}@bench.example`,
            kind: 'email',
            direction: inbound ? 'inbound' : 'outbound',
            subject: `${inbound ? 'Re: ' : ''}Bench ingest ${n - (inbound ? 1 : 0)}`,
            occurred_at: new Date(Date.now() - (ingestCount - n) * 60_000).toISOString(),
            regarding: streams[Math.floor(n / 2) % streams.length],
            parties: inbound
              ? [
                  { role: 'from', address: contact },
                  { role: 'to', address: ctx.admin.email },
                ]
              : [
                  { role: 'from', address: ctx.admin.email },
                  { role: 'to', address: contact },
                ],
            ...(inbound ? { in_reply_to: `bench-ingest-${n - 1}@bench.example` } : {}),
          };
        });
      const ingestBatches = Math.ceil(ingestCount / 1000);
      process.stdout.write(`L4b ingest ${int(ingestBatches * 1000)} by 1,000… `);
      const c0 = cpu();
      t0 = performance.now();
      let created = 0;
      for (let k = 0; k < ingestBatches; k++) {
        const answer = (await call(base, auth, 'POST', '/api/activities/ingest', { activities: ingestRows(k) })) as {
          data: { created: boolean }[];
        };
        created += answer.data.filter((x) => x.created).length;
      }
      const ingestSeconds = (performance.now() - t0) / 1000;
      const ingestCpu = spent(c0);
      const ingestRate = (ingestBatches * 1000) / ingestSeconds;
      const bumpedFirst = await one<{ n: number }>(
        "SELECT count(*)::int AS n FROM data.activity WHERE message_id LIKE 'bench-ingest-%' AND version > 1",
      );
      // the same batches again: the idempotent no-op
      t0 = performance.now();
      let again = 0;
      for (let k = 0; k < ingestBatches; k++) {
        const answer = (await call(base, auth, 'POST', '/api/activities/ingest', { activities: ingestRows(k) })) as {
          data: { created: boolean }[];
        };
        again += answer.data.filter((x) => x.created).length;
      }
      const againRate = (ingestBatches * 1000) / ((performance.now() - t0) / 1000);
      const afterIngest = await one<{ n: number; replies: number; rewritten: number }>(
        "SELECT count(*)::int AS n, count(*) FILTER (WHERE message_id LIKE 'bench-ingest-%' " +
          "AND in_reply_to IS NOT NULL)::int AS replies, count(*) FILTER (WHERE message_id LIKE 'bench-ingest-%' " +
          'AND version > 1)::int AS rewritten FROM data.activity',
      );
      const ids = new Map<string, string>();
      const ingestRaw = await rawLoad(
        db,
        (function* () {
          for (let k = 0; k < ingestBatches; k++)
            yield ingestRows(k).map((a) => {
              const id = randomUUID();
              ids.set(a.message_id, id);
              const { in_reply_to, ...rest } = a;
              return { ...rest, id, ...(in_reply_to ? { in_reply_to: ids.get(in_reply_to) } : {}) };
            }) as Partial<DemoActivity>[];
        })(),
        owner,
        true,
      );
      process.stdout.write(`${int(ingestRate)} activities/s (ceiling ${int(ingestRaw.perSecond)})\n`);
      figures.push({
        name: `L4b ingest by 1,000, ${int(ingestBatches * 1000)}`,
        ours: ingestRate,
        ceiling: ingestRaw.perSecond,
        unit: 'activities/s',
        target: '(throughput)',
        met: created === ingestBatches * 1000 && again === 0 ? undefined : false,
      });
      notes.push(
        `L4b POST /api/activities/ingest, ${ingestBatches} batches of 1,000 new emails (message ids, half of ` +
          `them replies by Message-ID, regarding a tracked record, a contact as a party): ${int(ingestRate)}/s, ` +
          `created ${int(created)}, ${int(afterIngest.n - before.n)} rows added, ${int(afterIngest.replies)} ` +
          `replies linked; the same batches again (idempotent, created ${again}; rows at version > 1: ` +
          `${int(bumpedFirst.n)} before it, ${int(afterIngest.rewritten)} after): ${int(againRate)}/s; CPU per ` +
          `1,000: server ${int(ingestCpu.server / ingestBatches)} ms, PostgreSQL ` +
          `${int(ingestCpu.database / ingestBatches)} ms; raw upsert by 1,000 ${int(ingestRaw.perSecond)} rows/s`,
      );

      // (c) a CSV file through the import job
      const dir = mkdtempSync(join(tmpdir(), 'xrm-bench-csv-'));
      try {
        const kinds = ['email', 'call', 'meeting'];
        const csvActivity = (i: number) => {
          const inbound = i % 2 === 0;
          const contact = contactEmails[(i * 7) % contactEmails.length]!;
          const [from, to] = inbound ? [contact, ctx.admin.email] : [ctx.admin.email, contact];
          return {
            kind: kinds[i % 3]!,
            direction: inbound ? 'inbound' : 'outbound',
            subject: `Bench CSV ${i}`,
            occurred_at: new Date(Date.now() - (csvRows - i) * 30_000).toISOString(),
            from,
            to,
          };
        };
        const lines = ['kind,direction,subject,occurred_at,from,to'];
        for (let i = 0; i < csvRows; i++) {
          const a = csvActivity(i);
          lines.push(`${a.kind},${a.direction},${a.subject},${a.occurred_at},${a.from},${a.to}`);
        }
        const csv = `${lines.join('\n')}\n`;
        process.stdout.write(`L4c CSV import of ${int(csvRows)} rows… `);
        const before2 = await one<{ n: number }>('SELECT count(*)::int AS n FROM data.activity');
        const c1 = cpu();
        t0 = performance.now();
        const res = await fetch(`${base}/api/activities/import?format=csv`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'text/csv' },
          body: csv,
        });
        if (res.status !== 202) throw new Error(`L4c import → ${res.status}: ${(await res.text()).slice(0, 500)}`);
        const { job } = (await res.json()) as { job: { id: string } };
        let view: { state: string; lastError: string | null; progress: Record<string, any> | null };
        for (;;) {
          view = await call(base, auth, 'GET', `/api/activities/import/${job.id}`);
          if (view.progress?.done || view.state === 'dead' || view.state === 'failed') break;
          if (performance.now() - t0 > 3_600_000) throw new Error('L4c: the import is not done after an hour');
          await new Promise((r) => setTimeout(r, 100));
        }
        const csvSeconds = (performance.now() - t0) / 1000;
        const csvCpu = spent(c1);
        if (!view.progress?.done) throw new Error(`L4c import ${view.state}: ${view.lastError}`);
        const csvRate = csvRows / csvSeconds;
        const after2 = await one<{ n: number; linked: number }>(
          'SELECT count(*)::int AS n, (SELECT count(*) FROM xrm.activity_links l JOIN data.activity a ' +
            "ON a.id = l.activity_id WHERE a.subject LIKE 'Bench CSV %')::int AS linked FROM data.activity",
        );
        // raw: COPY of the same rows (as the platform stores them) into the scratch table, by psql
        await db.query(`TRUNCATE ${RAW_TABLE}`);
        const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
        const copyLines: string[] = [];
        for (let i = 0; i < csvRows; i++) {
          const a = csvActivity(i);
          const parties = JSON.stringify([
            { role: 'from', address: a.from },
            { role: 'to', address: a.to },
          ]);
          copyLines.push(
            `${a.kind},${a.direction},${a.subject},${a.occurred_at},${quote(parties)},import:${i},${owner},${owner}`,
          );
        }
        const copyFile = join(dir, 'copy.csv');
        writeFileSync(copyFile, `${copyLines.join('\n')}\n`);
        const copyStarted = performance.now();
        await run('psql', [
          databaseUrl,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy ${RAW_TABLE} (kind, direction, subject, occurred_at, parties, message_id, owner_id, created_by) ` +
            `FROM '${copyFile}' WITH (FORMAT csv)`,
        ]);
        const copyRate = csvRows / ((performance.now() - copyStarted) / 1000);
        process.stdout.write(`${int(csvRate)} activities/s (ceiling ${int(copyRate)})\n`);
        figures.push({
          name: `L4c CSV import job, ${int(csvRows)} rows`,
          ours: csvRate,
          ceiling: copyRate,
          unit: 'activities/s',
          target: '(throughput)',
          met: after2.n - before2.n === csvRows ? undefined : false,
        });
        notes.push(
          `L4c POST /api/activities/import?format=csv, ${int(csvRows)} rows ` +
            `(${(csv.length / 2 ** 20).toFixed(1)} MB; ` +
            `kind,direction,subject,occurred_at,from,to, a seeded contact's address on each): done in ` +
            `${csvSeconds.toFixed(1)} s = ${int(csvRate)}/s, ${int(after2.n - before2.n)} rows added, ` +
            `${int(after2.linked)} links, problems ${view.progress.problems ?? '?'}; CPU per 1,000: server ` +
            `${int((csvCpu.server / csvRows) * 1000)} ms, PostgreSQL ${int((csvCpu.database / csvRows) * 1000)} ms; ` +
            `raw COPY (psql \\copy) ${int(copyRate)} rows/s`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    notes.push(
      `relationships: load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end ` +
        `(1 min; the machine is shared)`,
    );
  } finally {
    backends?.stop();
    if (dbOpen) await db.end().catch(() => undefined);
    if (server) await ctx.stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
    await adminClient(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  }
  return { figures, notes };
}
