/**
 * Event rules, a built-in consumer of the write pipeline's changes: for every committed create,
 * update, delete, associate or disassociate, the conditions of the active rules on that entity and
 * message are tested by PostgreSQL on the record as written and as it was — inside the write's own
 * statement when nothing else needs a transaction — and each rule that matches queues ONE durable
 * `automation` job in the write's transaction. A rolled-back write queues nothing; a committed one
 * cannot lose its runs; a rule whose condition does not match costs one predicate in that
 * statement, no round trip.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import { table } from '../../metadata/physical-names.ts';
import type { AutomationRuleDef } from '../../metadata/types.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { QueryService } from '../query/query-service.ts';
import type { Change, ChangeConsumer, ChangeMessage, ChangeOrigin, CustomEvent } from '../records/changes.ts';
import { conditionPredicate, splitCondition } from './conditions.ts';
import type { Clock } from './time.ts';

/** The name the rules run under as a built-in plugin (switching it off stops every rule). */
export const AUTOMATION_PLUGIN = 'automation';

export class EventRules implements ChangeConsumer {
  readonly name = AUTOMATION_PLUGIN;
  readonly #queue: JobQueue;
  readonly #query: QueryService;
  readonly #clock: Clock;
  /** Compiled rule predicates per catalog, by entity and message (those that read no clock). */
  readonly #compiled = new WeakMap<Catalog, Map<string, RawBuilder<unknown>>>();
  readonly #wakeOnCommit: boolean;
  onQueued: () => void = () => undefined;

  /**
   * `wakeOnCommit`: wake this instance's worker after every observed write (PGlite, which has no
   * LISTEN); on PostgreSQL the statement that queues a run also NOTIFYs `xrm_jobs`, so a write
   * whose rules match nothing wakes nobody.
   */
  constructor(queue: JobQueue, query: QueryService, clock: Clock, wakeOnCommit: boolean) {
    this.#queue = queue;
    this.#query = query;
    this.#clock = clock;
    this.#wakeOnCommit = wakeOnCommit;
  }

  #rules(catalog: Catalog, message: string, entity: string): AutomationRuleDef[] {
    if (catalog.disabledPlugins.has(AUTOMATION_PLUGIN)) return [];
    return catalog
      .eventRules(entity)
      .filter((r) => r.trigger.type === 'event' && (r.trigger.messages as readonly string[]).includes(message));
  }

  wants(catalog: Catalog, message: ChangeMessage, entity: string): boolean {
    return this.#rules(catalog, message, entity).length > 0;
  }

  /** `(id, version, matches)` of each rule, as a VALUES list over the images `n` and `o`. */
  #values(catalog: Catalog, message: string, entity: string): RawBuilder<unknown> {
    const key = `${entity}\u0000${message}`;
    let byKey = this.#compiled.get(catalog);
    const kept = byKey?.get(key);
    if (kept) return kept;
    let relative = false;
    const rows = this.#rules(catalog, message, entity).map((rule) => {
      const trigger = rule.trigger as Extract<AutomationRuleDef['trigger'], { type: 'event' }>;
      // change tests read the record as it was: none before a create or a custom message (they test it as it is)
      const split = splitCondition(catalog, entity, rule.condition, this.#clock(), true);
      relative ||= split.relative;
      const changed = message === 'update' ? trigger.changed : undefined;
      const ok = conditionPredicate(catalog, entity, split, this.#query.parseContext(), changed);
      return sql`(${sql.lit(rule.id)}, ${sql.lit(rule.version)}, ${ok})`;
    });
    const values = sql`(VALUES ${sql.join(rows)}) r(id, v, ok)`;
    if (!relative) {
      if (!byKey) this.#compiled.set(catalog, (byKey = new Map()));
      byKey.set(key, values);
    }
    return values;
  }

  /**
   * The INSERT of the jobs of the rules that match, reading `w(record json, old json,
   * correlation_id text)`; each run queued NOTIFYs the workers (delivered at commit; the CASE calls
   * it for matching rules only).
   */
  #enqueue(
    catalog: Catalog,
    message: string,
    entity: string,
    origin: ChangeOrigin,
    depth: number,
    extra?: Record<string, unknown>,
  ): RawBuilder<unknown> {
    const t = table(entity);
    const payload = sql`jsonb_build_object('rule', r.id, 'version', r.v, 'trigger', 'event',
      'message', ${message}::text, 'entity', ${entity}::text, 'id', n.id,${
        // a deleted record can be read no more: its last image goes with the run (templates read it)
        message === 'delete' ? sql` 'previous', w.old,` : sql``
      }
      'depth', ${depth}::int, 'principal', ${JSON.stringify(origin.principal)}::jsonb,
      'correlationId', w.correlation_id)${extra ? sql` || ${JSON.stringify(extra)}::jsonb` : sql``}`;
    return sql`INSERT INTO xrm.jobs (kind, target, event_id, payload, max_attempts)
      SELECT 'automation', r.id, gen_random_uuid(), ${payload}, ${this.#queue.options.maxAttempts}::int
      FROM w CROSS JOIN LATERAL json_populate_record(NULL::${t}, COALESCE(w.record, w.old)) n
        CROSS JOIN LATERAL json_populate_record(NULL::${t}, w.old) o
        CROSS JOIN LATERAL ${this.#values(catalog, message, entity)}
      WHERE CASE WHEN r.ok THEN pg_notify('xrm_jobs', '')::text = '' ELSE false END`;
  }

  inline(
    message: ChangeMessage,
    entity: string,
    origin: ChangeOrigin,
    depth: number,
    catalog: Catalog,
  ): RawBuilder<unknown> {
    return this.#enqueue(catalog, message, entity, origin, depth);
  }

  async record(trx: Db, origin: ChangeOrigin, changes: readonly Change[], catalog: Catalog): Promise<void> {
    // records: one statement per (entity, message, depth) group
    const groups = new Map<string, Change[]>();
    for (const c of changes) {
      if (c.link) {
        await this.#link(trx, origin, c, catalog);
        continue;
      }
      if (!this.wants(catalog, c.message, c.entity)) continue;
      const key = `${c.entity}\u0000${c.message}\u0000${c.depth}`;
      const list = groups.get(key);
      if (list) list.push(c);
      else groups.set(key, [c]);
    }
    for (const list of groups.values()) {
      const { entity, message, depth } = list[0]!;
      const rows = JSON.stringify(list.map((c) => ({ record: c.after ?? null, old: c.before ?? null })));
      await sql`WITH w AS (SELECT x.record, x.old, ${origin.correlationId}::text AS correlation_id
          FROM json_to_recordset(${rows}::json) AS x(record json, old json))
        ${this.#enqueue(catalog, message, entity, origin, depth)}`.execute(trx);
    }
  }

  /** A link is an event of the records on both its sides: each side's rules see their record as it is. */
  async #link(trx: Db, origin: ChangeOrigin, c: Change, catalog: Catalog): Promise<void> {
    const rel = catalog.relationships.get(c.link!.relationship);
    if (!rel) return;
    const sides: [string, string][] = [[rel.from, c.link!.fromId]];
    if (rel.to !== rel.from || c.link!.toId !== c.link!.fromId) sides.push([rel.to, c.link!.toId]);
    for (const [entity, id] of sides) {
      if (!this.wants(catalog, c.message, entity)) continue;
      await sql`WITH w AS (SELECT row_to_json(s.*) AS record, NULL::json AS old,
          ${origin.correlationId}::text AS correlation_id FROM ${table(entity)} s WHERE s.id = ${id})
        ${this.#enqueue(catalog, c.message, entity, origin, c.depth, { link: c.link })}`.execute(trx);
    }
  }

  wantsCustom(catalog: Catalog, name: string, entity: string): boolean {
    return this.#rules(catalog, name, entity).length > 0;
  }

  /** A custom message on a record: the rules listening to it see the record as it is after the message ran. */
  async custom(trx: Db, origin: ChangeOrigin, event: CustomEvent, catalog: Catalog): Promise<void> {
    await sql`WITH w AS (SELECT row_to_json(s.*) AS record, NULL::json AS old,
        ${origin.correlationId}::text AS correlation_id FROM ${table(event.entity)} s WHERE s.id = ${event.id})
      ${this.#enqueue(catalog, event.name, event.entity, origin, event.depth, { input: event.input })}`.execute(trx);
  }

  committed(): void {
    if (this.#wakeOnCommit) this.onQueued();
  }
}
