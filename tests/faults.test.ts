/**
 * Faults: a lost PostgreSQL connection must not kill the server. The real server process
 * (`node --import tsx server/main.ts`) serves HTTP load while every backend of its database is
 * terminated once a second. It must stay up, answer the requests that fail with a 503 problem
 * carrying Retry-After (never a 500), succeed again within a second of each termination, keep
 * every write it acknowledged, and re-establish its LISTEN connection: schema polling is off, so
 * only a notice can bring it a change made through another instance.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlatform } from '../server/app.ts';
import { api } from './support/http.ts';
import { createTestDatabase, DATABASES, testConfig, type TestDatabase } from './support/platform.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

const CLIENTS = 4;
const LOAD_MS = 8000;
const TERMINATIONS = 7;
/** First termination after this much load, then one a second (the last leaves 1.5 s of load). */
const FIRST_TERMINATION_MS = 500;
const TERMINATION_INTERVAL_MS = 1000;
const REQUEST_TIMEOUT_MS = 5000;
const RECOVERY_MS = 1000;
const LISTEN_RECOVERY_MS = 3000;

type Op = 'create' | 'list' | 'read' | 'update';
const OPS: readonly Op[] = ['create', 'list', 'read', 'update'];

interface Outcome {
  op: Op;
  method: string;
  path: string;
  /** performance.now() when the request was sent and when its body was read. */
  start: number;
  end: number;
  /** 0 when no HTTP answer arrived (see `error`). */
  status: number;
  contentType: string;
  retryAfter: string | null;
  code?: string;
  id?: string;
  text: string;
  error?: string;
}

interface Termination {
  /** performance.now() when pg_terminate_backend returned. */
  at: number;
  killed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where to send and as whom: the server's base URL and the test administrator's `authorization` header. */
interface Target {
  base: string;
  auth: Record<string, string>;
}

async function send(to: Target, op: Op, method: string, path: string, body?: unknown): Promise<Outcome> {
  const start = performance.now();
  try {
    const res = await fetch(to.base + path, {
      method,
      headers: body === undefined ? to.auth : { ...to.auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let json: { code?: unknown; id?: unknown } | undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      op,
      method,
      path,
      start,
      end: performance.now(),
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      retryAfter: res.headers.get('retry-after'),
      code: typeof json?.code === 'string' ? json.code : undefined,
      id: typeof json?.id === 'string' ? json.id : undefined,
      text: text.slice(0, 500),
    };
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return {
      op,
      method,
      path,
      start,
      end: performance.now(),
      status: 0,
      contentType: '',
      retryAfter: null,
      text: '',
      error: String(cause ?? err),
    };
  }
}

/** One client: cycles through create, list, read and update until `until`, recording every answer. */
async function clientLoop(
  to: Target,
  worker: number,
  until: number,
  known: string[],
  acknowledged: string[],
  outcomes: Outcome[],
): Promise<void> {
  for (let i = 0; performance.now() < until; i++) {
    const op = OPS[(i + worker) % OPS.length];
    const id = known[(i * 7 + worker) % known.length];
    let outcome: Outcome;
    if (op === 'create') outcome = await send(to, op, 'POST', '/api/data/note', { title: `w${worker} #${i}` });
    else if (op === 'list') outcome = await send(to, op, 'GET', '/api/data/note?limit=20');
    else if (op === 'read') outcome = await send(to, op, 'GET', `/api/data/note/${id}`);
    else outcome = await send(to, op, 'PATCH', `/api/data/note/${id}`, { title: `patched by w${worker} #${i}` });
    outcomes.push(outcome);
    // no answer at all (the server is gone): don't spin on refused connections
    if (outcome.status === 0) await sleep(50);
    if (op === 'create' && outcome.status === 201 && outcome.id) {
      acknowledged.push(outcome.id);
      known.push(outcome.id);
    }
  }
}

/** Terminates every other backend of the database `count` times, on a fixed schedule from `t0`. */
async function terminateRepeatedly(databaseUrl: string, t0: number, count: number): Promise<Termination[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  const terminations: Termination[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await sleep(Math.max(0, t0 + FIRST_TERMINATION_MS + i * TERMINATION_INTERVAL_MS - performance.now()));
      const { rows } = await client.query<{ pg_terminate_backend: boolean }>(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() ` +
          `AND pid <> pg_backend_pid()`,
      );
      terminations.push({ at: performance.now(), killed: rows.filter((r) => r.pg_terminate_backend).length });
    }
  } finally {
    await client.end();
  }
  return terminations;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(20);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe.runIf(DATABASES.includes('postgres'))('a lost PostgreSQL connection [postgres, real server process]', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  /** The server, as the test administrator (signed in before any fault, so every request carries a token). */
  let target: Target;
  let t0 = 0;
  const outcomes: Outcome[] = [];
  const acknowledged: string[] = [];
  let terminations: Termination[] = [];

  const ms = (t: number) => `${Math.round(t - t0)} ms`;
  const describeOutcome = (o: Outcome) =>
    `${o.method} ${o.path} sent at ${ms(o.start)} took ${Math.round(o.end - o.start)} ms → ` +
    (o.status
      ? `${o.status} ${o.contentType} retry-after=${o.retryAfter} ${o.text.slice(0, 300)}`
      : `no answer: ${o.error}`);
  const report = (title: string, bad: Outcome[], total = outcomes.length) =>
    `${title}: ${bad.length} of ${total} responses\n${bad.slice(0, 10).map(describeOutcome).join('\n')}\n` +
    `terminations at ${terminations.map((t) => `${ms(t.at)} (killed ${t.killed})`).join(', ')}\n${server.tail()}`;
  /** How long after a termination the first request sent after it completed with success (Infinity: never). */
  const recoveryAfter = (t: Termination) =>
    outcomes
      .filter((o) => o.start >= t.at && o.status >= 200 && o.status < 300)
      .reduce((first, o) => Math.min(first, o.end - t.at), Infinity);
  const expectRunning = () => {
    const exit = server.exit();
    expect(
      exit,
      exit && `server exited at ${ms(exit.at)} (code ${exit.code}, signal ${exit.signal})\n${server.tail()}`,
    ).toBeUndefined();
  };

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    server = await startServerProcess({
      DATABASE_URL: database.config.databaseUrl!,
      LOG_LEVEL: 'warn',
      XRM_SCHEMA_POLL_MS: '0',
    });
    target = { base: server.base, auth: await server.auth() };
    const post = (path: string, body: unknown) => send(target, 'create', 'POST', path, body);
    const entity = await post('/api/metadata/entities', {
      name: 'note',
      fields: [{ name: 'title', type: 'text', required: true }],
    });
    if (entity.status !== 201) throw new Error(`defining note: ${describeOutcome(entity)}`);
    const known: string[] = [];
    for (let i = 0; i < 5; i++) {
      const record = await post('/api/data/note', { title: `seed ${i}` });
      if (record.status !== 201 || !record.id) throw new Error(`seeding: ${describeOutcome(record)}`);
      known.push(record.id);
      acknowledged.push(record.id);
    }

    t0 = performance.now();
    const until = t0 + LOAD_MS;
    const [killed] = await Promise.all([
      terminateRepeatedly(database.config.databaseUrl!, t0, TERMINATIONS),
      ...Array.from({ length: CLIENTS }, (_, worker) =>
        clientLoop(target, worker, until, known, acknowledged, outcomes),
      ),
    ]);
    terminations = killed;
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
    console.info(
      `faults: ${outcomes.length} requests by status ${JSON.stringify(counts)}; ` +
        `terminations killed ${terminations.map((t) => t.killed).join(',')} backends, ` +
        `first success after each in ${terminations.map((t) => Math.round(recoveryAfter(t))).join(',')} ms`,
    );
  }, 120_000);

  afterAll(async () => {
    const exit = await server?.stop(10_000);
    if (exit && !(exit.requested && exit.code === 0))
      console.warn(
        `server did not stop cleanly on SIGTERM: code ${exit.code}, signal ${exit.signal}` +
          `${exit.requested ? '' : ' (it had already exited)'}\n${server.tail(10)}`,
      );
    await database?.drop();
  }, 120_000);

  it('injects the fault for real: every termination ran under load and backends were killed', () => {
    expect(terminations).toHaveLength(TERMINATIONS);
    expect(
      terminations.some((t) => t.killed > 0),
      `killed per termination: ${terminations.map((t) => t.killed)}`,
    ).toBe(true);
    const beforeFault = outcomes.filter((o) => o.end < terminations[0].at && o.status >= 200 && o.status < 300);
    for (const op of OPS)
      expect(
        beforeFault.some((o) => o.op === op),
        `no successful ${op} before the first termination`,
      ).toBe(true);
  });

  it('keeps the process running through the terminations', () => {
    expectRunning();
  });

  it('answers every request over HTTP (no dropped connection, no hang)', () => {
    const unanswered = outcomes.filter((o) => o.status === 0);
    expect(unanswered.length, report('requests without an HTTP answer', unanswered)).toBe(0);
  });

  it('never answers 500; the only 5xx it answers is 503', () => {
    const bad = outcomes.filter((o) => o.status >= 500 && o.status !== 503);
    expect(bad.length, report('5xx other than 503', bad)).toBe(0);
  });

  it('answers every 503 as an XRM_ERR_SERVICE_UNAVAILABLE problem with a Retry-After in seconds', () => {
    const bad = outcomes.filter(
      (o) =>
        o.status === 503 &&
        !(
          o.contentType.startsWith('application/problem+json') &&
          o.code === 'XRM_ERR_SERVICE_UNAVAILABLE' &&
          /^[1-9]\d*$/.test(o.retryAfter ?? '')
        ),
    );
    expect(bad.length, report('malformed 503s', bad)).toBe(0);
  });

  it('answers valid requests only with success or 503 (no 4xx from a lost connection)', () => {
    const bad = outcomes.filter((o) => o.status >= 300 && o.status < 500);
    expect(bad.length, report('3xx/4xx answers to valid requests', bad)).toBe(0);
  });

  it('succeeds again within one second of every termination', () => {
    const late = terminations.flatMap((t) => {
      const after = recoveryAfter(t);
      return after <= RECOVERY_MS
        ? []
        : [
            `termination at ${ms(t.at)}: first success ` +
              `${Number.isFinite(after) ? `${Math.round(after)} ms` : 'never'} later`,
          ];
    });
    const failed = outcomes.filter((o) => !(o.status >= 200 && o.status < 300));
    expect(late.length, report(`${late.join('\n')}\nnon-2xx answers`, failed)).toBe(0);
  });

  it('keeps every write it acknowledged', async () => {
    const missing: Outcome[] = [];
    for (let i = 0; i < acknowledged.length; i += 16) {
      const batch = await Promise.all(
        acknowledged.slice(i, i + 16).map((id) => send(target, 'read', 'GET', `/api/data/note/${id}`)),
      );
      missing.push(...batch.filter((o) => o.status !== 200));
    }
    expect(missing.length, report('acknowledged creates not readable afterwards', missing, acknowledged.length)).toBe(
      0,
    );
  });

  it(
    're-establishes LISTEN: ' + 'a new entity defined through another instance is served within three seconds',
    async () => {
      const other = await buildPlatform(testConfig(database, { schemaPollMs: 0 }));
      try {
        await other.start();
        const created = await api(other.app).post('/api/metadata/entities', {
          name: 'memo',
          fields: [{ name: 'body', type: 'text' }],
        });
        expect(created.status, created.text).toBe(201);
        let last: Outcome | undefined;
        const elapsed = await waitFor(async () => {
          last = await send(target, 'list', 'GET', '/api/data/memo');
          return last.status === 200;
        }, LISTEN_RECOVERY_MS).catch((err: Error) => {
          throw new Error(`${err.message}; last answer: ${last && describeOutcome(last)}\n${server.tail()}`);
        });
        expect(elapsed).toBeLessThan(LISTEN_RECOVERY_MS);
      } finally {
        await other.close();
      }
      expectRunning();
    },
  );
});
