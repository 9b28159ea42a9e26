/**
 * Retention: what the platform keeps of its own records, and for how long. Once an hour the
 * instance that runs the job worker deletes
 *
 * - succeeded jobs older than `jobsDays` (XRM_JOB_RETENTION_DAYS, 7): the queue is not an archive
 *   (JobQueue.prune: the queue knows its states);
 * - the operational logs older than `logDays` (XRM_LOG_RETENTION_DAYS, 30): webhook delivery
 *   attempts, automation runs, and sign-in sessions that ended (expired or signed out);
 * - audit entries older than `auditDays` (XRM_AUDIT_RETENTION_DAYS): by default (0) the audit trail
 *   is kept for ever, as an audit trail must be unless its owner decides otherwise.
 *
 * 0 keeps logs or the audit trail for ever, and no succeeded job past the next pass (as it always
 * did). Deletes go in batches of BATCH rows, each its own short statement, from
 * the oldest row up to the first one inside the period (read by the primary key, so a pass over a
 * large table with nothing to delete costs one index probe). Entries of the append-only audit
 * table are deleted under `xrm.audit_cutoff`, which its trigger honours for older rows only
 * (migrations/0013-audit-retention.ts).
 */
import { type RawBuilder, sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../metadata/database.ts';
import type { JobQueue } from './jobs/queue.ts';

export interface RetentionPolicy {
  /** Days a succeeded job is kept (XRM_JOB_RETENTION_DAYS; 0: none past the next pass). */
  readonly jobsDays: number;
  /** Days webhook deliveries, automation runs and ended sessions are kept (XRM_LOG_RETENTION_DAYS). */
  readonly logDays: number;
  /** Days audit entries are kept (XRM_AUDIT_RETENTION_DAYS). */
  readonly auditDays: number;
}

/** What one pass deleted, by kind. */
export interface Pruned {
  jobs: number;
  webhookDeliveries: number;
  automationRuns: number;
  sessions: number;
  audit: number;
}

/** Rows one delete statement removes at most. */
const BATCH = 5000;

/** The tables pruned by age, oldest first by their bigserial id. */
const BY_AGE = {
  webhookDeliveries: 'webhook_deliveries',
  automationRuns: 'automation_runs',
  audit: 'audit',
} as const;

export class Retention {
  readonly #db: Db;
  readonly #queue: JobQueue;
  readonly #policy: RetentionPolicy;
  readonly #log?: FastifyBaseLogger;

  constructor(db: Db, queue: JobQueue, policy: RetentionPolicy, log?: FastifyBaseLogger) {
    this.#db = db;
    this.#queue = queue;
    this.#policy = policy;
    this.#log = log;
  }

  get policy(): RetentionPolicy {
    return this.#policy;
  }

  /** One pass over every kind; logs what it deleted. `signal` stops it between two batches. */
  async prune(signal?: AbortSignal): Promise<Pruned> {
    const { jobsDays, logDays, auditDays } = this.#policy;
    const pruned: Pruned = {
      jobs: await this.#queue.prune(jobsDays),
      webhookDeliveries: logDays ? await this.#byAge(BY_AGE.webhookDeliveries, logDays, signal) : 0,
      automationRuns: logDays ? await this.#byAge(BY_AGE.automationRuns, logDays, signal) : 0,
      sessions: logDays ? await this.#sessions(logDays, signal) : 0,
      audit: auditDays ? await this.#byAge(BY_AGE.audit, auditDays, signal) : 0,
    };
    if (Object.values(pruned).some((n) => n > 0))
      this.#log?.info({ pruned, retention: this.#policy }, 'old records pruned');
    return pruned;
  }

  /** Sessions that expired or were signed out before the period. */
  #sessions(days: number, signal?: AbortSignal): Promise<number> {
    return this.#batches(
      signal,
      'sessions',
      sql`LEAST(expires_at, revoked_at) < now() - make_interval(days => ${days})`,
    );
  }

  /**
   * Rows of `name` created before the period: every id below the first row inside it. Ids grow
   * with time but for a row whose transaction began before the rows that got lower ids (its
   * `created_at` is its transaction's start): it goes once they are out of the period too, that
   * transaction's length late.
   */
  async #byAge(name: (typeof BY_AGE)[keyof typeof BY_AGE], days: number, signal?: AbortSignal): Promise<number> {
    const t = sql.table(`xrm.${name}`);
    const { rows } = await sql<{ cutoff: string; below: string | null; last: string | null }>`
      SELECT c.cutoff::text AS cutoff,
        (SELECT id::text FROM ${t} WHERE created_at >= c.cutoff ORDER BY id LIMIT 1) AS below,
        (SELECT max(id)::text FROM ${t}) AS last
      FROM (SELECT now() - make_interval(days => ${days}) AS cutoff) c`.execute(this.#db);
    const { cutoff, below, last } = rows[0]!;
    if (last === null) return 0;
    // nothing inside the period: every row is older
    const bound = below ?? (BigInt(last) + 1n).toString();
    const older = sql`id < ${bound}::bigint AND created_at < ${cutoff}::timestamptz`;
    // the audit trail's trigger lets through the entries older than the cutoff its transaction sets
    const prepare =
      name === 'audit'
        ? (trx: Db) => sql`SELECT set_config('xrm.audit_cutoff', ${cutoff}, true)`.execute(trx)
        : undefined;
    return this.#batches(signal, name, older, prepare);
  }

  /**
   * Deletes the rows of `name` that `where` selects, BATCH at a time in id order, each batch in a
   * transaction of its own (after `prepare`), until one deletes fewer or the pass is stopped; the total.
   */
  async #batches(
    signal: AbortSignal | undefined,
    name: string,
    where: RawBuilder<unknown>,
    prepare?: (trx: Db) => Promise<unknown>,
  ): Promise<number> {
    const t = sql.table(`xrm.${name}`);
    let total = 0;
    while (!signal?.aborted) {
      const n = await this.#db.transaction().execute(async (trx) => {
        await prepare?.(trx);
        const { rows } = await sql<{ n: number }>`WITH d AS (DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t}
            WHERE ${where} ORDER BY id LIMIT ${BATCH}) RETURNING 1)
          SELECT count(*)::int AS n FROM d`.execute(trx);
        return rows[0]!.n;
      });
      total += n;
      if (n < BATCH) break;
    }
    return total;
  }
}
