/**
 * Durability of the job queue behind `async` plugin steps, on real databases and (for the crash)
 * the real server process:
 * - a server killed with SIGKILL while an async step runs leaves its job `running` under a lease;
 *   restarted, it claims the job again once the lease ran out, and the step's database effect
 *   exists exactly once (the killed run's write died with its transaction);
 * - two instances over one PostgreSQL database drain one queue, no job run twice;
 * - a step that keeps failing is retried with backoff, dead-lettered after its last attempt,
 *   listed, and retried by hand;
 * - on PostgreSQL, while the LISTEN connection holds, an idle worker does not poll every
 *   XRM_JOB_POLL_MS: it sleeps until a notice or the next job's due time (a retry after its
 *   backoff), and looks for work at once when the connection drops.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../server/jobs/queue.ts';
import { buildPlatform, type Platform } from '../server/app.ts';
import { definePlugin } from '../plugins/api.ts';
import { api } from './support/http.ts';
import {
  createTestDatabase,
  DATABASES,
  type DatabaseKind,
  describeEachDatabase,
  testConfig,
  type TestDatabase,
} from './support/platform.ts';
import { expectProblem, expectStatus } from './support/problems.ts';
import { type ProcessExit, startServerProcess, type ServerProcess } from './support/server-process.ts';

const WAIT_MS = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it answers something other than undefined (bounded), failing with what it
 * waited for, what it saw last and `context()` (a server's log tail, say).
 */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; everyMs?: number; seen?: () => unknown; context?: () => string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? WAIT_MS;
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(options.everyMs ?? 50);
  }
  const seen = options.seen ? `; last seen: ${JSON.stringify(options.seen())}` : '';
  throw new Error(`${what}: not within ${timeoutMs} ms${seen}${options.context ? `\n${options.context()}` : ''}`);
}

// ─── 1. kill -9 mid-job ────────────────────────────────────────────────────────────────────────────

interface FetchReply {
  status: number;
  body: any;
  text: string;
}

/** A request to the server process as the test administrator (signed in once per process, see `auth()`). */
async function send(server: ServerProcess, method: string, path: string, body?: unknown): Promise<FetchReply> {
  const auth = await server.auth();
  const res = await fetch(server.base + path, {
    method,
    headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text };
}

/**
 * The plugin the server loads from XRM_PLUGINS_DIR: writes the effect through `ctx.data` (in the
 * job's transaction), then — on its first run only, decided by the marker file, which it fills
 * with the event id — hangs with that transaction open, so the test can kill the server mid-job.
 */
function exactlyOncePlugin(marker: string): string {
  return `import { existsSync, renameSync, writeFileSync } from 'node:fs';
const MARKER = ${JSON.stringify(marker)};
export default {
  name: 'exactly-once-probe',
  version: '1.0.0',
  setup(api) {
    api.on({ message: 'create', entity: 'purchase_order', stage: 'async' }, async (ctx) => {
      await ctx.data.create('effect', { event_id: ctx.eventId, order_id: ctx.id });
      if (!existsSync(MARKER)) {
        // written aside and renamed: the test sees the marker only once it holds the whole id
        writeFileSync(MARKER + '.tmp', ctx.eventId);
        renameSync(MARKER + '.tmp', MARKER);
        await new Promise(() => {});
      }
    });
  },
};
`;
}

/** SIGKILL, and waits until the process is gone; answers how it exited. */
async function killHard(server: ServerProcess): Promise<ProcessExit> {
  if (!server.exit()) server.child.kill('SIGKILL');
  return waitFor('the killed server process to exit', async () => server.exit(), { context: () => server.tail() });
}

/** The rows a killed server left behind (PostgreSQL: the test can look while no server runs). */
async function pgRows<T>(databaseUrl: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

// The legs share nothing (own database, own folder, own port): they run side by side, so the
// PostgreSQL one waits out its lease while the PGlite one creates its data folder.
describe.concurrent('a server killed mid-job [real server process]', () => {
  for (const kind of DATABASES) {
    describe(`[${kind}${kind === 'pglite' ? ', data folder, one process at a time' : ''}]`, () => {
      let database: TestDatabase;
      let dir: string;
      const servers: ServerProcess[] = [];

      beforeAll(async () => {
        database = await createTestDatabase(kind, { persistent: true });
        dir = mkdtempSync(join(tmpdir(), 'xrm-durability-'));
        writeFileSync(join(dir, 'exactly-once.mjs'), exactlyOncePlugin(join(dir, 'first-run.marker')));
      });

      afterAll(async () => {
        // a graceful stop proves nothing here and costs seconds (PGlite checkpoints)
        for (const server of servers) await killHard(server);
        await database?.drop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('kill -9 mid-job, then restart: the effect happens exactly once', async ({ expect }) => {
        const marker = join(dir, 'first-run.marker');
        const env = {
          ...(kind === 'postgres'
            ? { DATABASE_URL: database.config.databaseUrl! }
            : { DATABASE_URL: '', XRM_DATA_DIR: database.config.dataDir }),
          XRM_PLUGINS_DIR: dir,
          XRM_PLUGINS: '',
          XRM_JOB_POLL_MS: '100',
          XRM_JOB_BACKOFF_MS: '50',
          // a job's budget is max(plugin timeout, webhook timeout + 1 s): keep it under the lease
          XRM_WEBHOOK_TIMEOUT_MS: '100',
        };
        // The first run must still be running when it is killed: its budget is long (no abort and
        // retry in this process) and its lease outlasts the moments between the claim and the kill
        // (no claim of its own job again). Both are checked below on PostgreSQL; on PGlite the open
        // transaction holds the one connection, so nothing else can happen in that process anyway.
        const first = await startServerProcess(
          { ...env, XRM_JOB_LEASE_MS: '3000', XRM_PLUGIN_TIMEOUT_MS: '60000' },
          { readyTimeoutMs: 90_000 },
        );
        servers.push(first);
        // signed in now: once the step hangs, a sign-in could wait behind it (on PGlite its open
        // transaction holds the one connection)
        await first.auth();
        for (const [name, fields] of [
          ['effect', ['event_id', 'order_id']],
          ['purchase_order', ['title']],
        ] as const) {
          const body = { name, fields: fields.map((f) => ({ name: f, type: 'text' })) };
          const defined = await send(first, 'POST', '/api/metadata/entities', body);
          expect(defined.status, defined.text).toBe(201);
        }
        const order = await send(first, 'POST', '/api/data/purchase_order', { title: 'deliver once' });
        expect(order.status, order.text).toBe(201);

        // the first run wrote its effect (uncommitted) and hangs: the job is running
        await waitFor(
          'the first run of the async step to reach its hang',
          async () => existsSync(marker) || undefined,
          {
            everyMs: 20,
            context: () => first.tail(),
          },
        );
        const eventId = readFileSync(marker, 'utf8');
        expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
        const jobsSql = 'SELECT state, attempts FROM xrm.jobs';
        const url = database.config.databaseUrl!;
        if (kind === 'postgres') {
          expect(await pgRows(url, jobsSql), 'before the kill').toEqual([{ state: 'running', attempts: 1 }]);
        }

        const exit = await killHard(first);
        expect(exit.signal, first.tail()).toBe('SIGKILL');

        if (kind === 'postgres') {
          // nothing finished the job, and the killed run's write died with its transaction
          expect(await pgRows(url, jobsSql), 'after the kill').toEqual([{ state: 'running', attempts: 1 }]);
          expect(await pgRows(url, 'SELECT count(*)::int AS n FROM data.effect')).toEqual([{ n: 0 }]);
        }

        // same database, same plugins; the lease now exceeds the job's budget
        const second = await startServerProcess(
          { ...env, XRM_JOB_LEASE_MS: '1500', XRM_PLUGIN_TIMEOUT_MS: '1000' },
          { readyTimeoutMs: 90_000 },
        );
        servers.push(second);
        let jobs: Job[] = [];
        const job = await waitFor(
          'the job to succeed after the restart',
          async () => {
            const reply = await send(second, 'GET', '/api/jobs?kind=step');
            expect(reply.status, reply.text).toBe(200);
            jobs = reply.body.data;
            return jobs.length === 1 && jobs[0]!.state === 'succeeded' ? jobs[0] : undefined;
          },
          { seen: () => jobs, context: () => second.tail() },
        );
        expect(job).toMatchObject({ kind: 'step', eventId, state: 'succeeded', attempts: 2, lastError: null });

        const filter = encodeURIComponent(`event_id eq '${eventId}'`);
        const effects = await send(second, 'GET', `/api/data/effect?count=true&limit=10&filter=${filter}`);
        expect(effects.status, effects.text).toBe(200);
        expect(effects.body.totalCount, effects.text).toBe(1);
        expect(effects.body.data[0]).toMatchObject({ event_id: eventId, order_id: order.body.id });
        const all = await send(second, 'GET', '/api/data/effect?count=true&limit=1');
        expect(all.body.totalCount, all.text).toBe(1);
        // two server starts (a fresh PGlite folder is slow on a busy machine), the kill, the lease
      }, 180_000);
    });
  }
});

// ─── 2. two instances, one queue ───────────────────────────────────────────────────────────────────

const ORDERS = 200;

/** The same plugin (same name, same step, so the same job target) in each instance, labelled by it. */
function hitRecorder(instance: string) {
  return definePlugin({
    name: 'hit-recorder',
    version: '1.0.0',
    setup(api) {
      api.on({ message: 'create', entity: 'purchase_order', stage: 'async' }, async (ctx) => {
        await ctx.data!.create('hit', { event_id: ctx.eventId, worker: instance });
        await sleep(5);
      });
    },
  });
}

describe.runIf(DATABASES.includes('postgres'))(
  'two instances over one PostgreSQL database (PGlite is one process by design) [postgres]',
  () => {
    let database: TestDatabase;
    let a: Platform | undefined;
    let b: Platform | undefined;

    beforeAll(async () => {
      database = await createTestDatabase('postgres');
      const config = testConfig(database, {
        jobs: { maxAttempts: 5, leaseMs: 30_000, backoffMs: 50, pollMs: 50, concurrency: 4, retentionDays: 7 },
      });
      a = await buildPlatform(config, { plugins: [hitRecorder('a')] });
      b = await buildPlatform(config, { plugins: [hitRecorder('b')] });
      await Promise.all([a.start(), b.start()]);
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await database?.drop();
    });

    it('two instances drain one queue without duplicates', async () => {
      const httpA = api(a!.app);
      const httpB = api(b!.app);
      for (const [name, fields] of [
        ['hit', ['event_id', 'worker']],
        ['purchase_order', ['title']],
      ] as const) {
        const body = { name, fields: fields.map((f) => ({ name: f, type: 'text' })) };
        expectStatus(await httpA.post('/api/metadata/entities', body), 201);
      }
      // B runs jobs that write `hit` records: it must know the entity first
      await waitFor('instance B to serve the new entities', async () =>
        (await httpB.get('/api/data/hit?limit=1')).status === 200 ? true : undefined,
      );

      const records = Array.from({ length: ORDERS }, (_, i) => ({ title: `order ${i}` }));
      const created = expectStatus(
        await httpA.post('/api/data/purchase_order/bulk', { operation: 'create', records }),
        200,
      );
      expect(created.data).toHaveLength(ORDERS);

      let summary: Record<string, number> = {};
      await waitFor(
        `${ORDERS} jobs to succeed`,
        async () => {
          summary = expectStatus(await httpA.get('/api/jobs/summary'), 200);
          return summary.succeeded === ORDERS ? true : undefined;
        },
        { seen: () => summary },
      );
      expect(summary).toEqual({ queued: 0, running: 0, failed: 0, succeeded: ORDERS, dead: 0 });

      const jobs: Job[] = expectStatus(await httpA.get('/api/jobs?kind=step&limit=1000'), 200).data;
      expect(jobs).toHaveLength(ORDERS);
      expect(jobs.filter((j) => j.state !== 'succeeded' || j.attempts !== 1)).toEqual([]);

      const hits: { event_id: string; worker: string }[] = expectStatus(
        await httpA.get('/api/data/hit?limit=1000&count=true'),
        200,
      ).data;
      expect(hits).toHaveLength(ORDERS);
      const eventIds = new Set(hits.map((h) => h.event_id));
      expect(eventIds.size, 'a job ran twice').toBe(ORDERS);
      expect([...eventIds].sort()).toEqual(jobs.map((j) => j.eventId).sort());
      const byWorker = { a: 0, b: 0 };
      for (const h of hits) byWorker[h.worker as 'a' | 'b']++;
      expect(byWorker.a, JSON.stringify(byWorker)).toBeGreaterThan(0);
      expect(byWorker.b, JSON.stringify(byWorker)).toBeGreaterThan(0);
      expect(byWorker.a + byWorker.b).toBe(ORDERS);
    });
  },
);

// ─── 3. retries, dead letters, retry by hand ───────────────────────────────────────────────────────

const flaky = {
  healthy: false,
  /** Date.now() of every run, by the ticket title (one per database leg). */
  runs: new Map<string, number[]>(),
};

const flakyPlugin = definePlugin({
  name: 'flaky-step',
  version: '1.0.0',
  setup(api) {
    api.on({ message: 'create', entity: 'ticket', stage: 'async' }, async (ctx) => {
      const title = String(ctx.postImage?.title);
      flaky.runs.set(title, [...(flaky.runs.get(title) ?? []), Date.now()]);
      if (!flaky.healthy) throw new Error(`the flaky step refused ${title}`);
    });
  },
});

const MAX_ATTEMPTS = 3;
const BACKOFF_MS = 20;

describeEachDatabase(
  'a failing async step',
  (get, kind: DatabaseKind) => {
    const name = 'a failing async step is retried with backoff and dead-lettered after XRM_JOB_MAX_ATTEMPTS; ';
    it(name + 'retry by hand', async () => {
      const http = api(get().app);
      flaky.healthy = false;
      const title = `ticket on ${kind}`;
      expectStatus(
        await http.post('/api/metadata/entities', { name: 'ticket', fields: [{ name: 'title', type: 'text' }] }),
        201,
      );
      expectStatus(await http.post('/api/data/ticket', { title }), 201);

      let seen: Job[] = [];
      const dead = await waitFor(
        'the job to be dead-lettered',
        async () => {
          seen = expectStatus(await http.get('/api/jobs?kind=step'), 200).data;
          return seen[0]?.state === 'dead' ? seen[0] : undefined;
        },
        { seen: () => seen },
      );
      expect(dead).toMatchObject({
        state: 'dead',
        attempts: MAX_ATTEMPTS,
        maxAttempts: MAX_ATTEMPTS,
        lastError: `the flaky step refused ${title}`,
        lockedBy: null,
      });
      expect(dead.finishedAt).not.toBeNull();
      // one run per attempt, each after the previous one's backoff (at least half of 20, 40 ms: equal jitter)
      const runs = flaky.runs.get(title)!;
      expect(runs).toHaveLength(MAX_ATTEMPTS);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i]! - runs[i - 1]!, `gap before attempt ${i + 1}`).toBeGreaterThanOrEqual(
          (BACKOFF_MS * 2 ** (i - 1)) / 2 - 1,
        );
      }
      const listed: Job[] = expectStatus(await http.get('/api/jobs?state=dead'), 200).data;
      expect(listed.map((j) => j.id)).toEqual([dead.id]);
      expect(expectStatus(await http.get('/api/jobs?state=running'), 200).data).toEqual([]);

      flaky.healthy = true;
      const requeued = expectStatus(await http.post(`/api/jobs/${dead.id}/retry`), 200);
      expect(requeued).toMatchObject({ id: dead.id, attempts: 0 });
      const succeeded = await waitFor('the retried job to succeed', async () => {
        const job: Job = expectStatus(await http.get(`/api/jobs/${dead.id}`), 200);
        return job.state === 'succeeded' ? job : undefined;
      });
      expect(succeeded).toMatchObject({ id: dead.id, eventId: dead.eventId, attempts: 1, lockedBy: null });
      expect(flaky.runs.get(title)).toHaveLength(MAX_ATTEMPTS + 1);
      expect(expectStatus(await http.get('/api/jobs?state=dead'), 200).data).toEqual([]);

      expectProblem(await http.post(`/api/jobs/${dead.id}/retry`), 409, 'XRM_ERR_JOB_NOT_RETRYABLE');
      expectProblem(await http.get('/api/jobs/999999'), 404, 'XRM_ERR_JOB_NOT_FOUND');
    });
  },
  {
    config: {
      jobs: {
        maxAttempts: MAX_ATTEMPTS,
        leaseMs: 5000,
        backoffMs: BACKOFF_MS,
        pollMs: 50,
        concurrency: 2,
        retentionDays: 7,
      },
    },
    build: { plugins: [flakyPlugin] },
  },
);

// ─── 4. no poll while notices are heard ───────────────────────────────────────────────────────────

const patient = {
  healthy: false,
  runs: [] as number[],
};

const patientPlugin = definePlugin({
  name: 'patient-step',
  version: '1.0.0',
  setup(api) {
    api.on({ message: 'create', entity: 'parcel', stage: 'async' }, async () => {
      patient.runs.push(Date.now());
      if (!patient.healthy) throw new Error('not yet');
    });
  },
});

describe.runIf(DATABASES.includes('postgres'))('a worker that hears notices does not poll [postgres]', () => {
  const POLL_MS = 100;
  const RETRY_BACKOFF_MS = 400;
  let database: TestDatabase;
  let platform: Platform;
  let client: pg.Client;
  let claims = 0;
  /** Claims made while the runtime heard no notices (its LISTEN connection down). */
  let claimsUnheard = 0;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    platform = await buildPlatform(
      testConfig(database, {
        jobs: {
          maxAttempts: 3,
          leaseMs: 30_000,
          backoffMs: RETRY_BACKOFF_MS,
          pollMs: POLL_MS,
          concurrency: 2,
          retentionDays: 7,
        },
      }),
      { plugins: [patientPlugin] },
    );
    // counts the worker's claims (each one statement), passing every call through
    const queue = platform.services.jobs;
    const claim = queue.claim.bind(queue);
    queue.claim = (worker, limit) => {
      claims++;
      if (!platform.services.runtime.noticesHeard) claimsUnheard++;
      return claim(worker, limit);
    };
    await platform.start();
    client = new pg.Client({ connectionString: database.config.databaseUrl });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await platform?.close();
    await database?.drop();
  });

  it('idle: no claim every XRM_JOB_POLL_MS; a retry wakes it at its due time', async () => {
    expect(platform.services.runtime.noticesHeard).toBe(true);
    const before = claims;
    await sleep(12 * POLL_MS);
    // polling every 100 ms would have claimed about 12 times
    expect(claims - before).toBeLessThanOrEqual(1);

    const http = api(platform.app);
    expectStatus(
      await http.post('/api/metadata/entities', { name: 'parcel', fields: [{ name: 'label', type: 'text' }] }),
      201,
    );
    patient.healthy = false;
    expectStatus(await http.post('/api/data/parcel', { label: 'first' }), 201);
    await waitFor('the first attempt', async () => (patient.runs.length >= 1 ? true : undefined));
    patient.healthy = true;
    // the second attempt is due after the backoff (equal jitter: 200-400 ms); no poll finds it, the due time does
    const job = await waitFor('the retried job to succeed', async () => {
      const [j]: Job[] = expectStatus(await http.get('/api/jobs?kind=step'), 200).data;
      return j?.state === 'succeeded' ? j : undefined;
    });
    expect(job.attempts).toBe(2);
    const gap = patient.runs[1]! - patient.runs[0]!;
    expect(gap).toBeGreaterThanOrEqual(RETRY_BACKOFF_MS / 2 - 1);
    expect(gap).toBeLessThan(5_000);
  });

  it('looks for work at once when the LISTEN connection drops, and polls until it is back', async () => {
    const runtime = platform.services.runtime;
    const before = claimsUnheard;
    const { rows } = await client.query<{ killed: boolean }>(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database()
        AND application_name = 'xrm-platform listener' AND query ILIKE 'LISTEN%'`,
    );
    expect(rows.filter((r) => r.killed)).toHaveLength(1);
    // the drop wakes it (a claim at once), then it polls every 100 ms: the reconnect comes 250 ms after the drop at
    // the soonest, so at least two claims fall while notices are not heard (the reconnect's own look comes after)
    await waitFor('claims while the listener is down', async () => (claimsUnheard - before >= 2 ? true : undefined));
    await waitFor('the listener to be back', async () => (runtime.noticesHeard ? true : undefined));
  });
});
