/**
 * Group commit for creates: concurrent single creates of the same shape (entity, fields, writer,
 * audit and rule statements) share ONE multi-row INSERT, so PostgreSQL plans, executes and commits
 * once for all of them. As a database's group commit does, it only ever makes a write wait for a
 * statement already running: while fewer than `inFlight` statements of a shape run, a create goes
 * out at once, alone, exactly as it would without batching; creates that arrive while that many are
 * running queue, and the first statement to finish sends the whole queue (up to `maxRows`) as one.
 *
 * A statement the database refuses (severity ERROR: nothing of it was committed) is replayed one
 * create at a time, so each create gets its own answer (a 409 for the duplicate, a 201 for the
 * rest), as if none had been batched. A lost connection fails every create of the statement, as it
 * fails a single one: whether it committed is unknown, so nothing is replayed; a timeout or a
 * cancel fails them all too, rather than making each wait again.
 */

export interface CreateBatchOptions {
  /** Statements of one shape running at once before creates queue (≥ 1). */
  readonly inFlight: number;
  /** Creates in one statement at most (≥ 1; with 1 every create goes alone, a queue one by one). */
  readonly maxRows: number;
}

/** How a lane runs: one item alone (today's statement), several together (the multi-row statement). */
export interface CreateBatchRunner<I, R> {
  one(item: I): Promise<R>;
  /** The results in the items' order; rejects with the database's error, unmapped. */
  many(items: readonly I[]): Promise<R[]>;
}

interface Waiting<I, R> {
  readonly item: I;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane<I, R> {
  running: number;
  readonly queue: Waiting<I, R>[];
  readonly runner: CreateBatchRunner<I, R>;
}

/** SQLSTATE classes of failures that are not about the rows: connection, resources, cancel and timeout, system. */
const NOT_THE_ROWS = new Set(['08', '53', '57', '58', 'XX']);

/**
 * A database error that says the statement was refused as a whole and left nothing behind, for a
 * reason a row may carry (a constraint, a policy check, a value, a schema change racing it): each
 * create is worth trying again alone. A timeout or a cancel is not: alone, each would wait again.
 */
export function refusedStatement(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; severity?: unknown };
  if (typeof e.code !== 'string' || e.code.length !== 5 || e.severity !== 'ERROR') return false;
  return !NOT_THE_ROWS.has(e.code.slice(0, 2));
}

export class CreateBatches {
  readonly #lanes = new Map<string, Lane<unknown, unknown>>();
  readonly #options: CreateBatchOptions;
  /** Statements that carried more than one create, the creates they carried, shared statements refused and replayed. */
  #statements = 0;
  #rows = 0;
  #replayed = 0;

  constructor(options: CreateBatchOptions) {
    this.#options = { inFlight: Math.max(1, options.inFlight), maxRows: Math.max(1, options.maxRows) };
  }

  /** What went together so far, and how many creates wait in a queue right now. */
  get batched(): { statements: number; rows: number; replayed: number; queued: number } {
    let queued = 0;
    for (const lane of this.#lanes.values()) queued += lane.queue.length;
    return { statements: this.#statements, rows: this.#rows, replayed: this.#replayed, queued };
  }

  /**
   * Runs `item` in the lane `key` (creates that may share a statement: same text, same writer). The
   * runner of the first create of a busy lane serves the whole lane until it is idle again.
   */
  run<I, R>(key: string, item: I, runner: CreateBatchRunner<I, R>): Promise<R> {
    let lane = this.#lanes.get(key) as Lane<I, R> | undefined;
    if (!lane) {
      lane = { running: 0, queue: [], runner };
      this.#lanes.set(key, lane as Lane<unknown, unknown>);
    }
    if (lane.running < this.#options.inFlight) {
      lane.running++;
      return lane.runner.one(item).finally(() => this.#done(key, lane));
    }
    return new Promise<R>((resolve, reject) => lane.queue.push({ item, resolve, reject }));
  }

  #done<I, R>(key: string, lane: Lane<I, R>): void {
    lane.running--;
    if (lane.queue.length) {
      const group = lane.queue.splice(0, this.#options.maxRows);
      lane.running++;
      void this.#send(lane, group).finally(() => this.#done(key, lane));
    } else if (lane.running === 0) {
      this.#lanes.delete(key);
    }
  }

  async #send<I, R>(lane: Lane<I, R>, group: Waiting<I, R>[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group;
      await lane.runner.one(only!.item).then(only!.resolve, only!.reject);
      return;
    }
    let results: R[];
    try {
      results = await lane.runner.many(group.map((w) => w.item));
    } catch (error) {
      if (!refusedStatement(error)) {
        for (const w of group) w.reject(error);
        return;
      }
      // nothing was written: each create again on its own, for its own answer
      this.#replayed++;
      await Promise.all(group.map((w) => lane.runner.one(w.item).then(w.resolve, w.reject)));
      return;
    }
    this.#statements++;
    this.#rows += group.length;
    group.forEach((w, i) => w.resolve(results[i]!));
  }
}
