/**
 * The scheduler of schedule rules. Every tick (XRM_AUTOMATION_TICK_MS), on whichever instance gets
 * the advisory lock, each active schedule rule whose cron came due since the tick it last claimed
 * (`scheduled_through`) is claimed — a compare-and-set on that column, so two instances never
 * both claim it — and its pass is queued as a durable job in the same transaction. After downtime
 * the missed ticks are caught up ONCE (the claim moves `scheduled_through` to now), not once per
 * missed tick. Times come from the rule clock, so tests move time instead of sleeping.
 */
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import type { RuleTrigger } from '../../metadata/types.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { cronOf } from './rules.ts';
import type { Clock } from './time.ts';

/** Key of the advisory lock a tick holds (one instance ticks at a time). */
export const SCHEDULER_LOCK_KEY = 0x7363686564; // "sched"

interface Due {
  id: string;
  version: number;
  trigger: Extract<RuleTrigger, { type: 'schedule' }>;
  through: string | null;
}

export class Scheduler {
  readonly #db: Db;
  readonly #queue: JobQueue;
  readonly #clock: Clock;
  readonly #log: FastifyBaseLogger;
  #timer?: NodeJS.Timeout;
  #ticking?: Promise<string[]>;
  onQueued: () => void = () => undefined;
  /** Work each tick does first, so schedule passes see it (relationship signals refreshed as time moves). */
  beforeTick?: () => Promise<unknown>;

  constructor(db: Db, queue: JobQueue, clock: Clock, log: FastifyBaseLogger) {
    this.#db = db;
    this.#queue = queue;
    this.#clock = clock;
    this.#log = log.child({ component: 'scheduler' });
  }

  start(everyMs: number): void {
    if (this.#timer || everyMs <= 0) return;
    this.#timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.#log.warn({ err }, 'scheduler tick failed'));
    }, everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking?.catch(() => undefined);
  }

  /** One tick: claims the due schedule rules and queues their passes; answers the ids claimed. */
  tick(): Promise<string[]> {
    // one tick at a time in this process; the advisory lock does it across instances
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<string[]> {
    if (this.beforeTick) {
      await this.beforeTick().catch((err: unknown) => this.#log.warn({ err }, 'work before a tick failed'));
    }
    const now = this.#clock();
    const claimed = await this.#db.transaction().execute(async (trx) => {
      const { rows: lock } = await sql<{
        ok: boolean;
      }>`SELECT pg_try_advisory_xact_lock(${SCHEDULER_LOCK_KEY}) AS ok`.execute(trx);
      if (!lock[0]?.ok) return [];
      const { rows } = await sql<Due>`SELECT id::text, (definition ->> 'version')::int AS version,
          definition -> 'trigger' AS trigger, to_json(scheduled_through) #>> '{}' AS through
        FROM xrm.automation_rules
        WHERE status = 'active' AND definition -> 'trigger' ->> 'type' = 'schedule'`.execute(trx);
      const out: string[] = [];
      for (const rule of rows) {
        let next: Date | null;
        try {
          next = cronOf(rule.trigger).nextRun(rule.through ? new Date(rule.through) : new Date(now.getTime() - 1));
        } catch (err) {
          this.#log.warn({ err, rule: rule.id }, 'a schedule rule has a cron that no longer parses');
          continue;
        }
        if (!next || next > now) continue;
        // compare-and-set: only the instance that read this value of scheduled_through claims the tick
        const { rows: won } = await sql`UPDATE xrm.automation_rules SET scheduled_through = ${now.toISOString()}
          WHERE id = ${rule.id} AND scheduled_through IS NOT DISTINCT FROM ${rule.through}::timestamptz
          RETURNING id`.execute(trx);
        if (!won.length) continue;
        await this.#queue.enqueue(trx, [
          {
            kind: 'automation',
            target: rule.id,
            eventId: crypto.randomUUID(),
            payload: { rule: rule.id, version: rule.version, trigger: 'schedule', tick: next.toISOString() },
          },
        ]);
        out.push(rule.id);
      }
      return out;
    });
    if (claimed.length) {
      this.#log.info({ rules: claimed }, 'schedule rules came due');
      this.onQueued();
    }
    return claimed;
  }
}
