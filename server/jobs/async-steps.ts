/**
 * The `async` stage: a change that an async step listens to queues one job per step, in the
 * write's transaction; after commit the job worker runs the step with the change's images and a
 * stable `ctx.eventId` (the same on every retry). The step's `ctx.data` writes share one
 * transaction with the job's completion, so a database effect commits exactly once — a worker
 * killed mid-run rolls them back and the retry starts clean; effects outside the database should
 * be keyed on `ctx.eventId`.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import type { Principal, StepContext } from '../../plugins/api.ts';
import type { PluginHost } from '../../plugins/host.ts';
import type { Change, ChangeConsumer, ChangeMessage, ChangeOrigin } from '../records/changes.ts';
import type { Access } from '../security/access.ts';
import type { WritePipeline } from '../records/pipeline.ts';
import { GiveUp, type JobRun } from './worker.ts';
import type { Job, JobQueue, NewJob } from './queue.ts';
import { XrmError } from '../../metadata/errors.ts';

interface StepPayload {
  message: ChangeMessage;
  entity: string;
  id: string;
  input: Record<string, unknown>;
  preImage?: Record<string, unknown>;
  postImage?: Record<string, unknown>;
  principal: Principal;
  correlationId: string;
  depth: number;
}

export class AsyncSteps implements ChangeConsumer {
  readonly name = 'async-steps';
  readonly #host: PluginHost;
  readonly #queue: JobQueue;
  readonly #db: Db;
  readonly #log: FastifyBaseLogger;
  #pipeline?: WritePipeline;
  onQueued: () => void = () => undefined;
  /** What a recorded principal may do now (security/access.ts); unset: steps act as the system. */
  resolveAccess?: (principal: Principal) => Promise<Access | undefined>;

  constructor(db: Db, host: PluginHost, queue: JobQueue, log: FastifyBaseLogger) {
    this.#db = db;
    this.#host = host;
    this.#queue = queue;
    this.#log = log;
  }

  connect(pipeline: WritePipeline): void {
    this.#pipeline = pipeline;
  }

  wants(_catalog: Catalog, message: ChangeMessage, entity: string): boolean {
    return this.#host.listens(message, entity, 'async');
  }

  async record(trx: Db, origin: ChangeOrigin, changes: readonly Change[]): Promise<void> {
    const jobs: NewJob[] = [];
    for (const c of changes) {
      for (const step of this.#host.steps(c.message, c.entity, 'async', c.input)) {
        const payload: StepPayload = {
          message: c.message,
          entity: c.entity,
          id: c.id,
          input: c.input,
          ...(c.before ? { preImage: c.before } : {}),
          ...(c.after ? { postImage: c.after } : {}),
          principal: origin.principal,
          correlationId: origin.correlationId,
          depth: c.depth,
        };
        jobs.push({ kind: 'step', target: step.key, eventId: c.eventId, payload });
      }
    }
    await this.#queue.enqueue(trx, jobs);
  }

  committed(): void {
    this.onQueued();
  }

  /** Runs one queued async step: its writes and the job's completion in one transaction. */
  async run(job: Job, run: JobRun): Promise<void> {
    const step = this.#host.step(job.target);
    if (!step) throw new GiveUp(`no enabled plugin step "${job.target}" is registered`);
    const p = job.payload as unknown as StepPayload;
    const log = this.#log.child({ plugin: step.plugin, stage: 'async', message: p.message, entity: p.entity });
    // the step acts as the caller of the write it follows, with the roles they hold now
    const access = await this.resolveAccess?.(p.principal);
    await this.#db.transaction().execute(async (trx) => {
      const ctx: StepContext = {
        principal: p.principal,
        message: p.message,
        entity: p.entity,
        id: p.id,
        input: p.input,
        preImage: p.preImage,
        postImage: p.postImage,
        shared: new Map(),
        depth: p.depth,
        eventId: job.eventId,
        correlationId: p.correlationId,
        log,
        signal: run.signal,
        data: this.#pipeline!.dataApi({
          principal: p.principal,
          access,
          correlationId: p.correlationId,
          log,
          db: trx,
          // jobs these writes queue are found when this one finishes (the worker looks again)
          depth: p.depth,
        }),
        reject: (text) => {
          throw new XrmError('XRM_ERR_PLUGIN_REJECTED', text);
        },
      };
      // past the budget the transaction rolls back and frees its connection, even if the step
      // ignores ctx.signal and runs on (its later writes then fail on the finished transaction)
      const aborted = new Promise<never>((_, reject) => {
        if (run.signal.aborted) reject(run.signal.reason);
        run.signal.addEventListener('abort', () => reject(run.signal.reason), { once: true });
      });
      await Promise.race([Promise.resolve().then(() => step.handler(ctx)), aborted]);
      await run.complete(trx);
    });
  }
}
