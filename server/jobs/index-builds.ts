/**
 * Builds of declared indexes over large tables (PostgreSQL). The metadata change commits the index
 * `building` and queues an `index` job in its own transaction (metadata/service.ts addIndex); the
 * job runs CREATE INDEX CONCURRENTLY on a connection of its own, outside any transaction, so
 * writes go on while the table is read, and reports pg_stat_progress_create_index on the job every
 * second. A metadata change then sets the index `active`, or `failed` with why: a build the data
 * refuses (duplicates for a unique index) is not retried; any other failure is, and every attempt
 * first drops the INVALID index a failed one left.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import * as ddl from '../../metadata/ddl.ts';
import { constraintNames } from '../../metadata/physical-names.ts';
import type { IndexBuilds, MetadataService } from '../../metadata/service.ts';
import { loadCatalog } from '../../metadata/store.ts';
import type { IndexDef } from '../../metadata/types.ts';
import type { Job, JobQueue } from './queue.ts';
import { GiveUp, type JobRun } from './worker.ts';

/** How often a running build reports its progress on its job. */
export const INDEX_PROGRESS_MS = 1000;

/** The job target of an index's build (what GET …/indexes/{index} finds its progress by). */
export const indexJobTarget = (entity: string, index: string): string => `${entity}.${index}`;

interface IndexJobPayload {
  readonly entity: string;
  readonly index: string;
  /** The definition queued: a later index of the same name is not this job's. */
  readonly fields: readonly string[];
  readonly unique: boolean;
}

/** A row of pg_stat_progress_create_index (bigint columns arrive as text). */
export interface BuildProgressRow {
  readonly phase: string;
  readonly blocks_done: string | number;
  readonly blocks_total: string | number;
  readonly tuples_done: string | number;
  readonly tuples_total: string | number;
  readonly lockers_done: string | number;
  readonly lockers_total: string | number;
}

/** Where each phase of CREATE INDEX CONCURRENTLY (B-tree) starts and ends, in percent of the build. */
const PHASES: readonly (readonly [prefix: string, from: number, to: number])[] = [
  ['initializing', 0, 1],
  ['waiting for writers before build', 1, 3],
  ['building index: scanning table', 3, 45],
  ['building index: sorting', 45, 50],
  ['building index', 50, 60],
  ['waiting for writers before validation', 60, 62],
  ['index validation: scanning index', 62, 70],
  ['index validation: sorting tuples', 70, 75],
  ['index validation: scanning table', 75, 97],
  ['waiting for old snapshots', 97, 98],
  ['waiting for readers', 98, 99],
];

/** A progress row as the job reports it: the counters, and a `percent` of the whole build. */
export function buildProgress(row: BuildProgressRow): Record<string, unknown> {
  const n = (v: string | number) => Number(v) || 0;
  const [blocksDone, blocksTotal, tuplesDone, tuplesTotal, lockersDone, lockersTotal] = [
    n(row.blocks_done),
    n(row.blocks_total),
    n(row.tuples_done),
    n(row.tuples_total),
    n(row.lockers_done),
    n(row.lockers_total),
  ];
  const part = blocksTotal
    ? blocksDone / blocksTotal
    : tuplesTotal
      ? tuplesDone / tuplesTotal
      : lockersTotal
        ? lockersDone / lockersTotal
        : 0;
  const [, from, to] = PHASES.find(([prefix]) => row.phase.startsWith(prefix)) ?? ['', 0, 0];
  const percent = Math.round(from + (to - from) * Math.min(1, Math.max(0, part)));
  return { phase: row.phase, blocksDone, blocksTotal, tuplesDone, tuplesTotal, lockersDone, lockersTotal, percent };
}

/** The ledger's actor of what the platform changes on its own. */
const SYSTEM = { actor: 'system' } as const;

/** SQLSTATEs of a build the table's data refuses, and what the index's `error` says of each. */
const DATA_FAILURES: Readonly<Record<string, (index: IndexDef) => string>> = {
  '23505': (index) =>
    `Records share values of ${index.fields.join(', ')}: a unique index cannot be built over them ` +
    '(remove the duplicates, then delete the index and declare it again)',
  '54000': (index) =>
    `A value of ${index.fields.join(', ')} is too large for an index entry (about 2,700 bytes at most)`,
};

export class IndexBuilder implements IndexBuilds {
  readonly concurrentRows: number;
  readonly #db: Db;
  readonly #queue: JobQueue;
  readonly #log: FastifyBaseLogger;
  #metadata?: MetadataService;

  constructor(db: Db, queue: JobQueue, concurrentRows: number, log: FastifyBaseLogger) {
    this.#db = db;
    this.#queue = queue;
    this.concurrentRows = concurrentRows;
    this.#log = log.child({ component: 'index-builds' });
  }

  /** The metadata service that ends builds (it is built with this as its IndexBuilds). */
  connect(metadata: MetadataService): void {
    this.#metadata = metadata;
  }

  queue(trx: Db, entity: string, index: IndexDef): Promise<string> {
    const payload: IndexJobPayload = { entity, index: index.name, fields: index.fields, unique: index.unique };
    return this.#queue.enqueueOne(trx, {
      kind: 'index',
      target: indexJobTarget(entity, index.name),
      eventId: randomUUID(),
      payload,
    });
  }

  /** The latest progress of the build of an index still building (null before it reports). */
  async progress(entity: string, index: string): Promise<Record<string, unknown> | null> {
    const { rows } = await sql<{ progress: Record<string, unknown> | null }>`SELECT progress FROM xrm.jobs
      WHERE state IN ('queued', 'running', 'failed') AND kind = 'index' AND target = ${indexJobTarget(entity, index)}
      ORDER BY id DESC LIMIT 1`.execute(this.#db);
    return rows[0]?.progress ?? null;
  }

  /** The job: build, then record the outcome (nothing when the index was deleted meanwhile). */
  async run(job: Job, run: JobRun): Promise<void> {
    const payload = job.payload as unknown as IndexJobPayload;
    const { entity } = payload;
    const index = await this.#ours(payload);
    if (!index) return this.#dropOrphan(payload);
    // the DDL this attempt runs, for the ledger entry that ends the build
    const ran: string[] = [];
    try {
      await this.#build(job, run, entity, index, ran);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.#dropInvalid(entity, index, ran);
      if (!(await this.#ours(payload))) return this.#dropOrphan(payload);
      const failure = DATA_FAILURES[(error as { code?: string }).code ?? '']?.(index);
      if (!failure && job.attempts < job.maxAttempts) throw error;
      const why = failure ?? `The build failed: ${message}`;
      if (await this.#metadata!.finishIndexBuild(entity, index.name, { error: why, ran }, SYSTEM)) {
        this.#log.warn({ job: job.id, entity, index: index.name, err: error }, 'index build failed');
        throw new GiveUp(why);
      }
      return;
    }
    if (!(await this.#metadata!.finishIndexBuild(entity, index.name, { ran }, SYSTEM))) await this.#dropOrphan(payload);
  }

  /** A job whose last attempt was lost (its worker stopped): the index failed. */
  async dead(job: Job): Promise<void> {
    const payload = job.payload as unknown as IndexJobPayload;
    const index = await this.#ours(payload);
    if (!index) return;
    const ran: string[] = [];
    await this.#dropInvalid(payload.entity, index, ran);
    const why = `The build stopped: ${job.lastError ?? 'the worker running it stopped'}`;
    await this.#metadata!.finishIndexBuild(payload.entity, index.name, { error: why, ran }, SYSTEM);
  }

  /** The index as the catalog has it now, when it is still this job's to build. */
  async #ours(payload: IndexJobPayload): Promise<IndexDef | undefined> {
    const index = (await loadCatalog(this.#db)).entity(payload.entity)?.indexes?.find((i) => i.name === payload.index);
    const same =
      index?.status === 'building' &&
      index.unique === payload.unique &&
      index.fields.join(',') === payload.fields.join(',');
    return same ? index : undefined;
  }

  /** Runs `statement` on `db`, outside any transaction, and notes its text in `ran`. */
  async #run(db: Db, statement: ddl.Statement, ran: string[]): Promise<void> {
    ran.push(statement.compile(db).sql);
    await statement.execute(db);
  }

  async #build(job: Job, run: JobRun, entity: string, index: IndexDef, ran: string[]): Promise<void> {
    await this.#queue.setProgress(job.id, { phase: 'starting', percent: 0 });
    await this.#db.connection().execute(async (conn) => {
      // its own connection, outside any transaction: no statement_timeout for a build of minutes
      await sql`SET statement_timeout = 0`.execute(conn);
      try {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn);
        const pid = rows[0]!.pid;
        // a previous attempt's INVALID index would satisfy IF NOT EXISTS: it goes first
        if ((await this.#validity(conn, entity, index)) === false)
          await this.#run(conn, ddl.dropEntityIndex(entity, index, true), ran);
        const cancel = () => {
          sql`SELECT pg_cancel_backend(${pid})`.execute(this.#db).catch(() => undefined);
        };
        run.signal.addEventListener('abort', cancel, { once: true });
        let reporting = false;
        const timer = setInterval(() => {
          if (reporting) return;
          reporting = true;
          this.#report(job, pid)
            .catch((err: unknown) => this.#log.warn({ err, job: job.id }, 'reporting index build progress failed'))
            .finally(() => {
              reporting = false;
            });
        }, INDEX_PROGRESS_MS);
        try {
          await this.#run(conn, ddl.createEntityIndex(entity, index, true), ran);
        } finally {
          clearInterval(timer);
          run.signal.removeEventListener('abort', cancel);
        }
      } finally {
        await sql`RESET statement_timeout`.execute(conn).catch(() => undefined);
      }
    });
    // IF NOT EXISTS keeps an index of that name as it is: it must be the valid one
    if ((await this.#validity(this.#db, entity, index)) !== true)
      throw new Error(`index ${constraintNames.entityIndex(entity, index.name)} is not valid after its build`);
    await this.#queue.setProgress(job.id, { phase: 'done', percent: 100 });
  }

  async #report(job: Job, pid: number): Promise<void> {
    const { rows } = await sql<BuildProgressRow>`SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total,
        lockers_done, lockers_total FROM pg_stat_progress_create_index WHERE pid = ${pid}`.execute(this.#db);
    if (rows[0]) await this.#queue.setProgress(job.id, buildProgress(rows[0]));
  }

  /** pg_index.indisvalid of the index, or undefined when there is none. */
  async #validity(db: Db, entity: string, index: IndexDef): Promise<boolean | undefined> {
    const { rows } = await sql<{ valid: boolean }>`SELECT i.indisvalid AS valid FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'data' AND c.relname = ${constraintNames.entityIndex(entity, index.name)}`.execute(db);
    return rows[0]?.valid;
  }

  /** Drops what a failed build left (an INVALID index), never a valid one. */
  async #dropInvalid(entity: string, index: IndexDef, ran: string[]): Promise<void> {
    if ((await this.#validity(this.#db, entity, index)) === false)
      await this.#run(this.#db, ddl.dropEntityIndex(entity, index, true), ran);
  }

  /** The index is gone from the metadata (deleted while it was built): so goes what the build made. */
  async #dropOrphan(payload: IndexJobPayload): Promise<void> {
    const catalog = await loadCatalog(this.#db);
    if (catalog.entity(payload.entity)?.indexes?.some((i) => i.name === payload.index)) return;
    if (!catalog.entity(payload.entity)) return;
    await ddl.dropEntityIndex(payload.entity, { name: payload.index }, true).execute(this.#db);
  }
}
