/**
 * The durable job queue: rows in `xrm.jobs`, written in the same transaction as the change they
 * follow (so a rolled-back write queues nothing, and a committed one cannot lose its jobs), and
 * claimed by workers with FOR UPDATE SKIP LOCKED, so several instances drain one queue without
 * running a job twice at once. A claim holds a lease; a worker killed mid-job leaves the job to be
 * claimed again once the lease has run out. Failures back off exponentially with jitter; after
 * `maxAttempts` a job is dead-lettered, listed and retryable by hand.
 *
 * Ours rather than pg-boss: pg-boss 12 declares Node >= 22.12, and we need the enqueue to join the
 * write's own kysely transaction on PostgreSQL and on PGlite alike — one table and four
 * statements do that.
 */
import { sql } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';

export const JOB_STATES = ['queued', 'running', 'failed', 'succeeded', 'dead'] as const;
export type JobState = (typeof JOB_STATES)[number];
/**
 * `step`: an async plugin step; `webhook`: a subscription's delivery; `automation`: a rule's run on
 * a record or a schedule pass; `email`: a rule's email; `call`: a rule's webhook action; `import`:
 * an activity import; `index`: the CONCURRENTLY build of a declared index on a large table.
 */
export const JOB_KINDS = ['step', 'webhook', 'automation', 'email', 'call', 'import', 'index'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface NewJob {
  readonly kind: JobKind;
  /** What runs it: an async step's key (`plugin#n`), a webhook's id, a rule's id. */
  readonly target: string;
  readonly eventId: string;
  readonly payload: unknown;
}

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly target: string;
  readonly eventId: string;
  readonly payload: Record<string, unknown>;
  readonly state: JobState;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly runAt: string;
  readonly lockedBy: string | null;
  readonly lockedUntil: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** How far a long job got (an import: bytes read, activities imported, problems); null until it reports. */
  readonly progress: Record<string, unknown> | null;
}

export interface QueueOptions {
  readonly maxAttempts: number;
  /** How long a claim holds a job without a heartbeat; the worker renews it every third of it. */
  readonly leaseMs: number;
  /** First retry delay; doubles per attempt (with jitter), up to `backoffCapMs`. */
  readonly backoffMs: number;
  readonly backoffCapMs: number;
}

const JOB_JSON = sql`json_build_object('id', id::text, 'kind', kind, 'target', target, 'eventId', event_id,
  'payload', payload, 'state', state, 'attempts', attempts, 'maxAttempts', max_attempts, 'runAt', run_at,
  'lockedBy', locked_by, 'lockedUntil', locked_until, 'lastError', last_error, 'createdAt', created_at,
  'updatedAt', updated_at, 'finishedAt', finished_at, 'progress', progress)`;

/** The lease was lost (the job ran past it and someone else claimed it): the work must not commit. */
export class LeaseLost extends Error {}

export class JobQueue {
  readonly #db: Db;
  readonly options: QueueOptions;

  constructor(db: Db, options: QueueOptions) {
    this.#db = db;
    this.options = options;
  }

  /** Queues jobs in the caller's transaction (one statement), and tells listening workers at commit. */
  async enqueue(trx: Db, jobs: readonly NewJob[]): Promise<void> {
    if (!jobs.length) return;
    const rows = JSON.stringify(
      jobs.map((j) => ({ kind: j.kind, target: j.target, event_id: j.eventId, payload: j.payload })),
    );
    await sql`INSERT INTO xrm.jobs (kind, target, event_id, payload, max_attempts)
      SELECT kind, target, event_id, payload, ${this.options.maxAttempts}
      FROM json_to_recordset(${rows}::json) AS x(kind text, target text, event_id uuid, payload jsonb)`.execute(trx);
    await sql`SELECT pg_notify('xrm_jobs', '')`.execute(trx);
  }

  /** Queues one job and answers its id (a job the caller follows: an import). */
  async enqueueOne(db: Db, job: NewJob): Promise<string> {
    const { rows } = await sql<{ id: string }>`INSERT INTO xrm.jobs (kind, target, event_id, payload, max_attempts)
      VALUES (${job.kind}, ${job.target}, ${job.eventId}::uuid, ${JSON.stringify(job.payload)}::jsonb,
        ${this.options.maxAttempts})
      RETURNING id::text`.execute(db);
    await sql`SELECT pg_notify('xrm_jobs', '')`.execute(db);
    return rows[0]!.id;
  }

  /** Records how far a running job got. */
  async setProgress(id: string, progress: Record<string, unknown>): Promise<void> {
    await sql`UPDATE xrm.jobs SET progress = ${JSON.stringify(progress)}::jsonb WHERE id = ${id}`.execute(this.#db);
  }

  /** Claims up to `limit` due jobs (waiting ones, and running ones whose lease ran out) for `worker`. */
  async claim(worker: string, limit: number): Promise<Job[]> {
    if (limit <= 0) return [];
    const lease = `${this.options.leaseMs} milliseconds`;
    const { rows } = await sql<{ j: Job }>`UPDATE xrm.jobs j SET state = 'running', attempts = j.attempts + 1,
        locked_by = ${worker}, locked_until = now() + ${lease}::interval, updated_at = now()
      FROM (SELECT id AS due_id FROM xrm.jobs
        WHERE (state IN ('queued', 'failed') AND run_at <= now()) OR (state = 'running' AND locked_until < now())
        ORDER BY run_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED) due
      WHERE j.id = due.due_id
      RETURNING ${JOB_JSON} AS j`.execute(this.#db);
    return rows.map((r) => r.j);
  }

  /**
   * Milliseconds until the next job falls due: a waiting one's `run_at`, or the end of a running
   * one's lease (its worker may be gone). Undefined when no job is waiting or running.
   */
  async nextDueInMs(): Promise<number | undefined> {
    const { rows } = await sql<{ ms: number | null }>`SELECT (extract(epoch FROM least(
        (SELECT min(run_at) FROM xrm.jobs WHERE state IN ('queued', 'failed')),
        (SELECT min(locked_until) FROM xrm.jobs WHERE state = 'running')) - now()) * 1000)::float8 AS ms`.execute(
      this.#db,
    );
    const ms = rows[0]?.ms;
    return ms == null ? undefined : Math.max(0, Math.ceil(ms));
  }

  /** Renews the lease of a job still running (the worker's heartbeat); false when it is no longer held. */
  async extend(job: Job, worker: string): Promise<boolean> {
    const lease = `${this.options.leaseMs} milliseconds`;
    const { rows } = await sql`UPDATE xrm.jobs SET locked_until = now() + ${lease}::interval
      WHERE id = ${job.id} AND state = 'running' AND locked_by = ${worker} AND attempts = ${job.attempts}
      RETURNING id`.execute(this.#db);
    return rows.length > 0;
  }

  /**
   * Marks the job done — in `trx` when given, so a handler's writes and its completion commit
   * together. Fenced by the claim: a worker whose lease was taken over gets LeaseLost.
   */
  async complete(job: Job, worker: string, trx: Db = this.#db): Promise<void> {
    const { rows } = await sql`UPDATE xrm.jobs SET state = 'succeeded', finished_at = now(), updated_at = now(),
        locked_by = NULL, locked_until = NULL
      WHERE id = ${job.id} AND state = 'running' AND locked_by = ${worker} AND attempts = ${job.attempts}
      RETURNING id`.execute(trx);
    if (!rows.length) throw new LeaseLost(`job ${job.id} is no longer held by ${worker}`);
  }

  /** Records a failed attempt: retried after a backoff (at least `retryAfterMs`), or dead after the last. */
  async fail(job: Job, worker: string, error: string, options: { retryAfterMs?: number; dead?: boolean } = {}) {
    const { backoffMs, backoffCapMs } = this.options;
    const exponential = Math.min(backoffCapMs, backoffMs * 2 ** Math.max(0, job.attempts - 1));
    // "equal jitter": half fixed, half random, so retries of one failure spread out
    const delay = Math.max(options.retryAfterMs ?? 0, Math.round(exponential / 2 + Math.random() * (exponential / 2)));
    const dead = options.dead === true || job.attempts >= job.maxAttempts;
    await sql`UPDATE xrm.jobs SET state = ${dead ? 'dead' : 'failed'}, last_error = ${error.slice(0, 2000)},
        run_at = now() + ${`${delay} milliseconds`}::interval, updated_at = now(), locked_by = NULL,
        locked_until = NULL, finished_at = ${dead ? sql`now()` : sql`NULL`}
      WHERE id = ${job.id} AND state = 'running' AND locked_by = ${worker} AND attempts = ${job.attempts}`.execute(
      this.#db,
    );
  }

  async get(id: string): Promise<Job> {
    if (!/^\d{1,18}$/.test(id)) throw new XrmError('XRM_ERR_JOB_NOT_FOUND', `No job has id ${id}`);
    const { rows } = await sql<{ j: Job }>`SELECT ${JOB_JSON} AS j FROM xrm.jobs WHERE id = ${id}`.execute(this.#db);
    if (!rows[0]) throw new XrmError('XRM_ERR_JOB_NOT_FOUND', `No job has id ${id}`);
    return rows[0].j;
  }

  /** Newest first, keyset paged by id. */
  async list(options: { state?: JobState; kind?: JobKind; limit: number; cursor?: string }) {
    const where = [sql`true`];
    if (options.state) where.push(sql`state = ${options.state}`);
    if (options.kind) where.push(sql`kind = ${options.kind}`);
    if (options.cursor) where.push(sql`id < ${options.cursor}`);
    const { rows } = await sql<{ j: Job }>`SELECT ${JOB_JSON} AS j FROM xrm.jobs
      WHERE ${sql.join(where, sql` AND `)} ORDER BY id DESC LIMIT ${options.limit + 1}`.execute(this.#db);
    const data = rows.slice(0, options.limit).map((r) => r.j);
    return { data, ...(rows.length > options.limit ? { nextCursor: data[data.length - 1]!.id } : {}) };
  }

  /** Counts per state (the admin UI's summary). */
  async counts(): Promise<Record<JobState, number>> {
    const { rows } = await sql<{ state: JobState; n: string }>`SELECT state, count(*)::text AS n FROM xrm.jobs
      GROUP BY state`.execute(this.#db);
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const r of rows) counts[r.state] = Number(r.n);
    return counts;
  }

  /** Runs a failed or dead job again now, with a fresh set of attempts. */
  async retry(id: string): Promise<Job> {
    const job = await this.get(id);
    const { rows } = await sql<{ j: Job }>`UPDATE xrm.jobs SET state = 'queued', attempts = 0, run_at = now(),
        finished_at = NULL, updated_at = now()
      WHERE id = ${job.id} AND state IN ('failed', 'dead') RETURNING ${JOB_JSON} AS j`.execute(this.#db);
    if (!rows[0]) {
      throw new XrmError('XRM_ERR_JOB_NOT_RETRYABLE', `Job ${id} is ${job.state}; only failed and dead jobs retry`);
    }
    await sql`SELECT pg_notify('xrm_jobs', '')`.execute(this.#db);
    return rows[0].j;
  }

  /** Deletes succeeded jobs older than `days` (the queue is not an archive; the audit trail is). */
  async prune(days: number): Promise<number> {
    const { rows } = await sql<{ n: string }>`WITH d AS (DELETE FROM xrm.jobs
      WHERE state = 'succeeded' AND finished_at < now() - ${`${days} days`}::interval RETURNING 1)
      SELECT count(*)::text AS n FROM d`.execute(this.#db);
    return Number(rows[0]?.n ?? 0);
  }
}
