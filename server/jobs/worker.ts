/**
 * The job worker: claims due jobs (up to `concurrency` at a time), runs each with its kind's
 * handler under an AbortSignal that fires when the budget runs out, and records the outcome. It
 * wakes on its own commits and on `xrm_jobs` notices from other instances (PostgreSQL). While
 * notices are heard, it also wakes when the next job falls due (a retry's backoff, a lapsed lease)
 * and polls only as a safety net, every IDLE_POLL_MS; while they are not (PGlite, or the LISTEN
 * connection down), it polls every `pollMs`. One per instance; on PGlite the one in-process worker.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../metadata/database.ts';
import { type Job, type JobKind, type JobQueue, LeaseLost } from './queue.ts';

export interface JobRun {
  readonly signal: AbortSignal;
  /** Marks the job done inside `trx`, so the handler's writes and its completion commit together. */
  complete(trx: Db): Promise<void>;
}

/** Runs one job; throws to fail the attempt (`RetryLater` to set the next delay, `GiveUp` to dead-letter). */
export type JobHandler = (job: Job, run: JobRun) => Promise<void>;

export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export class GiveUp extends Error {}

/** The safety-net poll while notices of queued jobs are heard (none is lost on a live connection). */
export const IDLE_POLL_MS = 30_000;

export interface WorkerOptions {
  readonly concurrency: number;
  /** The poll while notices are not heard (XRM_JOB_POLL_MS). */
  readonly pollMs: number;
  /** Whether notices of jobs other instances queue reach this worker right now (Runtime.noticesHeard). */
  readonly noticesHeard?: () => boolean;
  /** Each kind's budget per run (past it the run is aborted and counts as failed). */
  readonly budgets: Readonly<Record<JobKind, number>>;
  /** Once an hour, and at start: what the instance running the worker keeps tidy (server/retention.ts). */
  readonly housekeeping?: (signal: AbortSignal) => Promise<unknown>;
}

export class JobWorker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #queue: JobQueue;
  readonly #log: FastifyBaseLogger;
  readonly #handlers: Partial<Record<JobKind, JobHandler>> = {};
  readonly #onDead: Partial<Record<JobKind, (job: Job) => Promise<void>>> = {};
  readonly #options: WorkerOptions;
  readonly #running = new Set<Promise<void>>();
  #stopped = true;
  #timer?: NodeJS.Timeout;
  #wake?: () => void;
  #loop?: Promise<void>;
  #pending = false;

  constructor(queue: JobQueue, log: FastifyBaseLogger, options: WorkerOptions) {
    this.#queue = queue;
    this.#log = log.child({ worker: this.id });
    this.#options = options;
  }

  /** `onDead`: told when a job of this kind is dead-lettered without its handler (its last attempt was lost). */
  handle(kind: JobKind, handler: JobHandler, onDead?: (job: Job) => Promise<void>): void {
    this.#handlers[kind] = handler;
    if (onDead) this.#onDead[kind] = onDead;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    this.#loop = this.#run();
  }

  /** Looks for work now (after a commit that queued some, or a notice). */
  wake(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Stops claiming and waits for the jobs in hand to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#stopping.abort();
    await this.#loop;
    await Promise.allSettled([...this.#running, this.#housekeeping]);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      this.#pending = false;
      let claimed: Job[] = [];
      let wait: number | undefined;
      try {
        claimed = await this.#queue.claim(this.id, this.#options.concurrency - this.#running.size);
        this.#failures = 0;
        this.#housekeep();
      } catch (err) {
        // the database is away: back off (up to 30 s) instead of logging every poll
        this.#failures++;
        wait = Math.min(30_000, this.#options.pollMs * 2 ** Math.min(this.#failures, 10));
        if (this.#failures === 1 || this.#failures % 10 === 0)
          this.#log.warn({ err, failures: this.#failures, retryInMs: wait }, 'claiming jobs failed');
      }
      for (const job of claimed) {
        const run = this.#execute(job).finally(() => {
          this.#running.delete(run);
          this.wake();
        });
        this.#running.add(run);
      }
      if (this.#stopped) break;
      // more may be due right away when we took a full batch; otherwise sleep until woken or polled
      if (claimed.length && this.#running.size < this.#options.concurrency) continue;
      if (this.#pending) continue;
      wait ??= await this.#untilDue();
      if (this.#pending || this.#stopped) continue;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, wait);
      });
      clearTimeout(this.#timer);
      this.#wake = undefined;
    }
  }

  #failures = 0;
  #housekeptAt = 0;
  #housekeeping?: Promise<void>;
  /** Aborted by stop(): a housekeeping pass ends after its current batch. */
  #stopping = new AbortController();

  /**
   * How long to sleep. While notices are not heard: the poll, `pollMs`. While they are: until the
   * next job falls due, at most IDLE_POLL_MS; with every slot taken a finishing job wakes the worker,
   * so nothing is due for it; at least 10 ms, as a due job the claim skipped is locked by another
   * worker's claim, for a moment.
   */
  async #untilDue(): Promise<number> {
    if (!this.#options.noticesHeard?.()) return this.#options.pollMs;
    const poll = Math.max(IDLE_POLL_MS, this.#options.pollMs);
    if (this.#running.size >= this.#options.concurrency) return poll;
    // the claim just worked: a failure here is passing, and the poll covers it
    const due = await this.#queue.nextDueInMs().catch(() => undefined);
    return due === undefined ? poll : Math.min(poll, Math.max(10, due));
  }

  /**
   * Once an hour (the first time at start), beside the jobs: the housekeeping (old jobs, logs and
   * audit entries). A long one (a backlog after a retention was shortened) delays no job.
   */
  #housekeep(): void {
    const housekeeping = this.#options.housekeeping;
    if (!housekeeping || this.#housekeeping || Date.now() - this.#housekeptAt < 3_600_000) return;
    this.#housekeptAt = Date.now();
    this.#housekeeping = housekeeping(this.#stopping.signal)
      .then(
        () => undefined,
        (err: unknown) => this.#log.warn({ err }, 'housekeeping failed; it runs again in an hour'),
      )
      .finally(() => (this.#housekeeping = undefined));
  }

  async #execute(job: Job): Promise<void> {
    const log = this.#log.child({ job: job.id, kind: job.kind, target: job.target, attempt: job.attempts });
    if (job.attempts > job.maxAttempts) {
      // its lease ran out on the last attempt (the worker died): no more tries
      await this.#queue.fail(job, this.id, job.lastError ?? 'the worker running it stopped', { dead: true });
      log.warn('job dead-lettered after its last attempt was lost');
      await this.#onDead[job.kind]?.(job).catch((err: unknown) => log.error({ err }, 'reporting a dead job failed'));
      return;
    }
    const handler = this.#handlers[job.kind];
    const controller = new AbortController();
    const budget = this.#options.budgets[job.kind];
    const timer = setTimeout(() => controller.abort(new Error(`took longer than ${budget} ms`)), budget);
    let completed = false;
    // the heartbeat: a running job keeps its lease; a killed worker's lapses and the job runs again
    const heartbeat = setInterval(
      () => {
        this.#queue.extend(job, this.id).catch((err: unknown) => log.warn({ err }, 'renewing a job lease failed'));
      },
      Math.max(50, Math.floor(this.#queue.options.leaseMs / 3)),
    );
    try {
      if (!handler) throw new Error(`no handler for jobs of kind ${job.kind}`);
      const aborted = new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
      );
      await Promise.race([
        handler(job, {
          signal: controller.signal,
          complete: async (trx) => {
            if (controller.signal.aborted) throw controller.signal.reason;
            await this.#queue.complete(job, this.id, trx);
            completed = true;
          },
        }),
        aborted,
      ]);
      if (!completed) await this.#queue.complete(job, this.id);
      log.debug('job succeeded');
    } catch (err) {
      if (err instanceof LeaseLost) {
        log.warn({ err }, 'job lease lost; its work was rolled back');
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      const retryAfterMs = err instanceof RetryLater ? err.retryAfterMs : undefined;
      await this.#queue
        .fail(job, this.id, message, { retryAfterMs, dead: err instanceof GiveUp })
        .catch((e: unknown) => log.error({ err: e }, 'recording a job failure failed; its lease will expire'));
      const last = err instanceof GiveUp || job.attempts >= job.maxAttempts;
      log[last ? 'error' : 'warn']({ err }, last ? 'job dead-lettered' : 'job attempt failed; will retry');
    } finally {
      clearTimeout(timer);
      clearInterval(heartbeat);
    }
  }
}
