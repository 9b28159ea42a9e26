/**
 * The relationship layer's service: a record's timeline, its signals with their parts, the
 * "who should I contact today" list, the refresh that keeps time-dependent signals current, the
 * alert templates (automation rules), and what tracking being switched on or off means for links.
 */
import { randomUUID } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import { type Db, preparedSql } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import { table } from '../../metadata/physical-names.ts';
import type { ChangeWarnings } from '../../metadata/service.ts';
import type { AutomationRuleDef, EntityDef } from '../../metadata/types.ts';
import type { Principal } from '../../plugins/api.ts';
import type { RuleService } from '../automation/rules.ts';
import type { Clock } from '../automation/time.ts';
import type { QueryService } from '../query/query-service.ts';
import type { WriteContext, WritePipeline } from '../records/pipeline.ts';
import type { Runtime } from '../runtime.ts';
import type { Access } from '../security/access.ts';
import { bindSubject } from '../security/subject.ts';
import { ACTIVITY, concerned, insertLinks } from './activities.ts';
import { settingsOf, signalsOf, strengthAt, type Signals, type Strength } from './formula.ts';
import { pgTextArray } from './pg-array.ts';
import { computeSignals, fetchInputs, lockTargets, signalSqlType, storeSignals } from './signals.ts';

const DAY = 86_400_000;
/** An instant as PostgreSQL prints a timestamptz in JSON. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Row = Record<string, unknown>;

export interface IngestResult {
  /** Null: a message stored already that the caller may not read. */
  readonly id: string | null;
  readonly message_id: string;
  readonly created: boolean;
}

/** Activities ordered so that one answering another of the batch comes after it. */
function parentsFirst(records: Row[]): Row[] {
  const byId = new Map(records.map((r) => [r.id as string, r]));
  const depth = new Map<string, number>();
  const depthOf = (r: Row, seen = new Set<string>()): number => {
    const id = r.id as string;
    const known = depth.get(id);
    if (known !== undefined) return known;
    const parent = typeof r.in_reply_to === 'string' ? byId.get(r.in_reply_to) : undefined;
    const d = parent && !seen.has(id) ? depthOf(parent, seen.add(id)) + 1 : 0;
    depth.set(id, d);
    return d;
  };
  return records
    .map((r, i) => ({ r, i, d: depthOf(r) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.r);
}

/**
 * Every record with the same fields (a bulk create writes one statement per set of fields, and a
 * reply's statement must not run before its original's): what one lacks takes the field's default.
 */
function sameShape(records: Row[], entity: EntityDef): Row[] {
  const keys = new Set(records.flatMap((r) => Object.keys(r)));
  const defaults = new Map(entity.fields.filter((f) => f.default !== undefined).map((f) => [f.name, f.default]));
  return records.map((r) => {
    const out: Row = {};
    for (const k of keys) out[k] = k in r ? r[k] : (defaults.get(k) ?? null);
    return out;
  });
}

/** Stored signals older than this are recomputed by the refresh (time moves recency, windows, drops). */
export const REFRESH_AFTER_MS = 3_600_000;
const REFRESH_BATCH = 500;

export interface SignalsAnswer extends Strength {
  readonly entity: string;
  readonly id: string;
  readonly asOf: string;
  readonly formula: string;
  readonly cadenceDays: number;
  readonly weights: Readonly<Record<string, number>>;
  readonly interactionWeights: Readonly<Record<string, number>>;
  /** Every signal field as of `asOf` (what the record's fields hold once refreshed). */
  readonly signals: Signals;
}

export type TodayReasonKind = 'drift' | 'meeting_follow_up' | 'at_risk' | 'stale';

export interface TodayItem {
  readonly entity: string;
  readonly entityDisplayName: string;
  readonly id: string;
  readonly name: string | null;
  readonly priority: number;
  readonly reason: string;
  readonly reasons: readonly { readonly kind: TodayReasonKind; readonly text: string }[];
  readonly signals: Readonly<Record<string, unknown>>;
}

/** An alert an admin switches on per tracked entity: an automation rule made from a template. */
export interface AlertTemplate {
  readonly name: TodayReasonKind | 'stale';
  readonly title: string;
  readonly description: string;
}

export const ALERT_TEMPLATES: readonly AlertTemplate[] = [
  {
    name: 'stale',
    title: 'Stale relationship',
    description: 'No two-way contact in 2 × the cadence: suggests a follow-up task with an email draft',
  },
  {
    name: 'drift',
    title: 'Reply overdue (drift)',
    description:
      'Our email waits longer than max(3 × their median reply time, median + 4 × MAD, 4 h): suggests a nudge',
  },
  {
    name: 'at_risk',
    title: 'Relationship at risk',
    description: 'Strength fell by at least `drop` points (default 20) in 30 days: suggests a check-in call',
  },
  {
    name: 'meeting_follow_up',
    title: 'Meeting without follow-up',
    description: 'A meeting a day ago or more that nothing from our side followed: suggests a follow-up email task',
  },
];

const SIGNAL_SELECT = [
  'last_contact_at',
  'awaiting_reply_since',
  'reply_overdue_at',
  'median_response_minutes',
  'relationship_strength',
  'relationship_health',
  'strength_change_30d',
  'unfollowed_meeting_at',
  'next_meeting_at',
  'interactions_90d',
];

function minutesText(minutes: number): string {
  if (minutes < 90) return `${Math.max(1, Math.round(minutes))} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} days`;
}

const dayText = (iso: string) => iso.slice(0, 10);

export class Relationships {
  readonly #db: Db;
  readonly #runtime: Runtime;
  readonly #query: QueryService;
  readonly #rules: RuleService;
  readonly #clock: Clock;

  readonly #pipeline: WritePipeline;

  constructor(
    db: Db,
    runtime: Runtime,
    query: QueryService,
    pipeline: WritePipeline,
    rules: RuleService,
    clock: Clock,
  ) {
    this.#pipeline = pipeline;
    this.#db = db;
    this.#runtime = runtime;
    this.#query = query;
    this.#rules = rules;
    this.#clock = clock;
  }

  #tracked(name: string): EntityDef {
    const entity = this.#runtime.state.catalog.require(name);
    if (!entity.trackActivities) {
      throw new XrmError('XRM_ERR_ROUTE_NOT_FOUND', `Entity "${name}" does not track activities`);
    }
    return entity;
  }

  /** 404 unless the caller can read the record. */
  async #assertReadable(access: Access, entity: string, id: string, db?: Db): Promise<Record<string, unknown>> {
    const found = await this.#query.read({ access, db }, { kind: 'get', entity, id, query: {} });
    if (!found) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record ${id}`);
    return JSON.parse(found.body) as Record<string, unknown>;
  }

  /** 400 unless the entity tracks activities; 422 unless the record is one the caller may link activities to. */
  async assertLinkable(access: Access, ref: { entity: string; id: string }, path: string): Promise<void> {
    const entity = this.#runtime.state.catalog.entity(ref.entity);
    if (!entity?.trackActivities) {
      const message = entity ? `"${ref.entity}" does not track activities` : `no entity "${ref.entity}"`;
      throw new XrmError('XRM_ERR_RECORD_INVALID', message, { errors: [{ path, message }] });
    }
    const found = await this.#query.read({ access }, { kind: 'get', entity: ref.entity, id: ref.id, query: {} });
    if (!found || access.policy.level(ref.entity, 'appendTo') === 'none') {
      throw new XrmError('XRM_ERR_RECORD_REFERENCE_NOT_FOUND', `No ${ref.entity} record ${ref.id} you may link to`, {
        errors: [{ path, message: 'no record you may link activities to' }],
      });
    }
  }

  /**
   * Activities regarding or involving the record, newest first, keyset paged, as the caller may
   * read them: `{"data":[…],"nextCursor"?}` as JSON text, from ONE statement (the record's links
   * over its timeline index, those activities with the caller's read predicate and field masks,
   * and the record's own visibility: 404 when the caller cannot read it).
   */
  async timeline(
    access: Access,
    entity: string,
    id: string,
    limit: number,
    cursor?: string,
    db: Db = this.#db,
  ): Promise<string> {
    this.#tracked(entity);
    const body = await this.#query.read(
      { access, db: db === this.#db ? undefined : db },
      {
        kind: 'linked',
        entity,
        id,
        target: ACTIVITY,
        query: { sort: '-occurred_at', limit, ...(cursor === undefined ? {} : { cursor }) },
        // the page's links (one more: is there a next page?); the engine checks the cursor itself
        page: { limit: limit + 1, after: cursor === undefined ? undefined : cursorAfter(cursor) },
      },
    );
    if (body === null) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record ${id}`);
    return body;
  }

  /** The record's strength as of now with every part, and every signal. */
  async signals(access: Access, entity: string, id: string): Promise<SignalsAnswer> {
    const def = this.#tracked(entity);
    await this.#assertReadable(access, entity, id);
    const asOf = this.#clock();
    const settings = settingsOf(def.signalSettings);
    const input = (await fetchInputs(this.#db, entity, [id], asOf)).get(id)!;
    const strength = strengthAt(input, settings, asOf.getTime());
    const activityIds = await this.#readable(access, strength.activityIds);
    const w = settings.weights;
    return {
      entity,
      id,
      asOf: asOf.toISOString(),
      formula:
        `round(100 × (${w.recency} × recency + ${w.frequency} × frequency + ` +
        `${w.reciprocity} × reciprocity + ${w.depth} × depth))`,
      cadenceDays: settings.cadenceDays,
      weights: settings.weights,
      interactionWeights: settings.interactionWeights,
      ...strength,
      activityIds,
      signals: signalsOf(input, settings, asOf.getTime()),
    };
  }

  /** The activities of these ids the caller may read (the others still count, unnamed). */
  async #readable(access: Access, ids: readonly string[]): Promise<string[]> {
    if (access.policy.unrestricted || !ids.length) return [...ids];
    const readable = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const page = ids.slice(i, i + 500);
      const body = await this.#query.read(
        { access },
        {
          kind: 'list',
          entity: 'activity',
          query: { filter: JSON.stringify({ id: { in: page } }), select: 'id', limit: page.length },
        },
      );
      for (const row of (JSON.parse(body) as { data: { id: string }[] }).data) readable.add(row.id);
    }
    return ids.filter((id) => readable.has(id));
  }

  /**
   * What to do today for one owner, across every tracked entity the caller can read: replies
   * overdue, meetings without follow-up, strength drops and stale relationships, ranked. ONE
   * statement: for each entity and reason, the owner's most urgent `limit` records (each reason on
   * its own, so none crowds another out), with the caller's read predicates; fields the caller may
   * not read come back empty, and a reason that rests on one is not given.
   */
  async today(access: Access, owner: string, limit: number): Promise<TodayItem[]> {
    const catalog = this.#runtime.state.catalog;
    const now = this.#clock();
    const policy = access.policy.unrestricted ? undefined : access.policy;
    const parts: RawBuilder<unknown>[] = [];
    /** The entities of the statement's parts, by their index `e`, with their cadence. */
    const entities: { entity: EntityDef; cadenceDays: number }[] = [];
    for (const entity of catalog.entities.values()) {
      if (!entity.trackActivities || (policy && policy.level(entity.name, 'read') === 'none')) continue;
      const readable = (field: string) => !policy || policy.readable(catalog, entity.name, field);
      if (!readable('owner_id')) continue;
      const settings = settingsOf(entity.signalSettings);
      const col = (field: string) => sql`t.${sql.id(field)}`;
      // each reason: the field it rests on (most urgent first, ascending) and whether a record meets it
      const reasons: [string, RawBuilder<unknown>][] = [
        ['reply_overdue_at', sql`${col('reply_overdue_at')} <= ${now}`],
        ['unfollowed_meeting_at', sql`${col('unfollowed_meeting_at')} <= ${new Date(now.getTime() - DAY)}`],
        ['strength_change_30d', sql`${col('strength_change_30d')} <= ${-AT_RISK_DROP}`],
        [
          'last_contact_at',
          sql`${col('last_contact_at')} < ${new Date(now.getTime() - 2 * settings.cadenceDays * DAY)}`,
        ],
      ];
      const given = reasons.filter(([field]) => readable(field));
      if (!given.length) continue;
      const visible = policy?.predicate(entity.name, 'read', 't', catalog);
      const signal = (f: string) => (readable(f) ? col(f) : sql`NULL::${sql.raw(signalSqlType(f))}`);
      const name = readable(entity.primaryField) ? sql`${col(entity.primaryField)}::text` : sql`NULL::text`;
      const columns = sql`${entities.length}::int AS e, t.id, ${name} AS name,
          ${sql.join(SIGNAL_SELECT.map((f) => sql`${signal(f)} AS ${sql.id(f)}`))}`;
      for (const [field, hit] of given)
        parts.push(sql`(SELECT ${columns} FROM ${table(entity.name)} t
          WHERE ${col('owner_id')} = ${owner}::uuid AND ${hit}${visible ? sql` AND (${visible})` : sql``}
          ORDER BY ${col(field)}, t.id LIMIT ${limit})`);
      entities.push({ entity, cadenceDays: settings.cadenceDays });
    }
    if (!parts.length) return [];
    // each entity's and reason's most urgent `limit`; one row per record
    const query = preparedSql(sql<{ e: number; r: string }>`SELECT DISTINCT ON (s.e, s.id) s.e,
        json_build_object('id', s.id, 'name', s.name,
          ${sql.join(SIGNAL_SELECT.map((f) => sql`${f}::text, s.${sql.id(f)}`))})::text AS r
      FROM (${sql.join(parts, sql` UNION ALL `)}) s`).compile(this.#db);
    const { rows } = await this.#db.executeQuery<{ e: number; r: string }>(bindSubject(query, access.subject));
    const items: TodayItem[] = [];
    for (const row of rows) {
      const { entity, cadenceDays } = entities[row.e]!;
      const { name, ...record } = JSON.parse(row.r) as Record<string, unknown>;
      record[entity.primaryField] = name;
      const item = todayItem(entity, record, now, cadenceDays);
      if (item) items.push(item);
    }
    items.sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
    return items.slice(0, limit);
  }

  /**
   * Recomputes stored signals older than REFRESH_AFTER_MS (recency decays, windows slide, drops
   * show), in batches of one transaction each; answers how many records it refreshed.
   */
  async refreshDue(): Promise<number> {
    const catalog = this.#runtime.state.catalog;
    const asOf = this.#clock();
    const before = new Date(asOf.getTime() - REFRESH_AFTER_MS).toISOString();
    let total = 0;
    for (const entity of catalog.entities.values()) {
      if (!entity.trackActivities) continue;
      for (;;) {
        const n = await this.#db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ id: string }>`SELECT id::text FROM ${table(entity.name)}
            WHERE signals_updated_at < ${before}::timestamptz ORDER BY id LIMIT ${REFRESH_BATCH}`.execute(trx);
          if (!rows.length) return 0;
          const ids = rows.map((r) => r.id);
          await lockTargets(trx, new Map([[entity.name, new Set(ids)]]));
          await storeSignals(trx, entity.name, await computeSignals(trx, catalog, entity.name, ids, asOf));
          return ids.length;
        });
        total += n;
        if (n < REFRESH_BATCH) break;
      }
    }
    return total;
  }

  /** Recomputes every tracked record's signals (or one entity's) from scratch; answers the count. */
  async recomputeAll(entity?: string): Promise<number> {
    const catalog = this.#runtime.state.catalog;
    const asOf = this.#clock();
    let total = 0;
    for (const def of catalog.entities.values()) {
      if (!def.trackActivities || (entity && def.name !== entity)) continue;
      let lastId = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const ids = await this.#db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ id: string }>`SELECT id::text FROM ${table(def.name)}
            WHERE id > ${lastId}::uuid ORDER BY id LIMIT ${REFRESH_BATCH}`.execute(trx);
          if (!rows.length) return [];
          const list = rows.map((r) => r.id);
          await lockTargets(trx, new Map([[def.name, new Set(list)]]));
          await storeSignals(trx, def.name, await computeSignals(trx, catalog, def.name, list, asOf));
          return list;
        });
        total += ids.length;
        if (ids.length < REFRESH_BATCH) break;
        lastId = ids[ids.length - 1]!;
      }
    }
    return total;
  }

  /**
   * A metadata guard: tracking switched on links the activities that already concern the entity's
   * records and computes their signals; switched off (or the entity dropped) removes its links.
   */
  readonly guardSchemaChange = async (trx: Db, after: Catalog): Promise<ChangeWarnings> => {
    const { rows } = await sql<{ entity: string }>`SELECT entity FROM xrm.tracked_entities`.execute(trx);
    const was = new Set(rows.map((r) => r.entity));
    const now = new Set([...after.entities.values()].filter((e) => e.trackActivities).map((e) => e.name));
    for (const entity of was) {
      if (now.has(entity)) continue;
      await sql`DELETE FROM xrm.activity_links WHERE entity = ${entity}`.execute(trx);
      await sql`DELETE FROM xrm.tracked_entities WHERE entity = ${entity}`.execute(trx);
    }
    for (const entity of now) {
      if (was.has(entity)) continue;
      await sql`INSERT INTO xrm.tracked_entities (entity) VALUES (${entity})`.execute(trx);
      await this.#linkExisting(trx, after, entity);
    }
  };

  /** Links every activity that concerns a newly tracked entity's records, and computes their signals. */
  async #linkExisting(trx: Db, catalog: Catalog, entity: string): Promise<void> {
    const { rows } = await sql<{ id: string; occurred_at: string; regarding: unknown; parties: unknown }>`SELECT
        id::text, occurred_at, regarding, parties FROM ${table('activity')}
      WHERE regarding ->> 'entity' = ${entity} OR parties @> ${JSON.stringify([{ entity }])}::jsonb`.execute(trx);
    if (!rows.length) return;
    const links = [];
    const ids = new Set<string>();
    for (const row of rows) {
      const seen = new Set<string>();
      for (const t of concerned(catalog, row as unknown as Record<string, unknown>)) {
        if (t.entity !== entity || seen.has(t.id)) continue;
        seen.add(t.id);
        ids.add(t.id);
        links.push({ entity, record_id: t.id, activity_id: row.id, role: t.role });
      }
    }
    if (links.length) await insertLinks(trx, links);
    const list = [...ids];
    for (let i = 0; i < list.length; i += REFRESH_BATCH) {
      const batch = list.slice(i, i + REFRESH_BATCH);
      await storeSignals(trx, entity, await computeSignals(trx, catalog, entity, batch, this.#clock()));
    }
  }

  /**
   * Activities from a connector, idempotent by `message_id`: a message already stored (by anyone)
   * is left as it is, the new ones are ONE bulk create through the write pipeline. `in_reply_to`
   * may name the Message-ID it answers — in the batch or stored and readable by the caller — which
   * becomes that activity's id (an unknown one is dropped). Replies are written after what they answer.
   */
  async ingest(ctx: WriteContext, items: readonly unknown[]): Promise<IngestResult[]> {
    const records = items.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw new XrmError('XRM_ERR_RECORD_INVALID', 'Each activity is an object', {
          errors: [{ path: `/activities/${i}`, message: 'must be an object' }],
        });
      }
      const mid = (item as Row).message_id;
      if (typeof mid !== 'string' || !mid || mid.length > 998) {
        throw new XrmError('XRM_ERR_RECORD_INVALID', 'Each ingested activity has a message_id', {
          errors: [{ path: `/activities/${i}/message_id`, message: 'is required (1 to 998 characters)' }],
        });
      }
      return { ...(item as Row) };
    });
    const db = ctx.db ?? this.#db;
    const mids = [...new Set(records.map((r) => r.message_id as string))];
    const replies = records
      .map((r) => r.in_reply_to)
      .filter((v): v is string => typeof v === 'string' && !UUID.test(v));
    // what is stored already (whoever may read it), and what of it the caller may read
    const { rows } = await sql<{ message_id: string }>`SELECT message_id FROM ${table('activity')}
      WHERE message_id = ANY(${pgTextArray(mids)}::text[])`.execute(db);
    const stored = new Set(rows.map((r) => r.message_id));
    const readable = await this.#messageIds(ctx, [...new Set([...mids, ...replies])]);
    const result: IngestResult[] = [];
    const fresh: Row[] = [];
    const known = new Map(readable);
    for (const record of records) {
      const mid = record.message_id as string;
      if (stored.has(mid) || known.has(mid)) {
        result.push({ id: known.get(mid) ?? null, message_id: mid, created: false });
        continue;
      }
      const id = typeof record.id === 'string' ? record.id : randomUUID();
      known.set(mid, id);
      fresh.push({ ...record, id });
      result.push({ id, message_id: mid, created: true });
    }
    for (const record of fresh) {
      const reply = record.in_reply_to;
      if (typeof reply === 'string' && !UUID.test(reply)) {
        const id = known.get(reply);
        if (id) record.in_reply_to = id;
        else delete record.in_reply_to;
      }
    }
    if (fresh.length) {
      await this.#pipeline.bulk(ctx, 'activity', {
        operation: 'create',
        records: sameShape(parentsFirst(fresh), this.#runtime.state.catalog.require('activity')),
      });
    }
    return result;
  }

  /** The ids of the stored activities with these message ids that the caller may read. */
  async #messageIds(ctx: WriteContext, mids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < mids.length; i += 500) {
      const page = mids.slice(i, i + 500);
      const body = await this.#query.read(
        { access: ctx.access, db: ctx.db },
        {
          kind: 'list',
          entity: 'activity',
          query: { filter: JSON.stringify({ message_id: { in: page } }), select: 'id,message_id', limit: page.length },
        },
      );
      for (const row of (JSON.parse(body) as { data: { id: string; message_id: string }[] }).data)
        out.set(row.message_id, row.id);
    }
    return out;
  }

  /** Turns an alert template on for a tracked entity: an automation rule anyone can then see and edit. */
  async enableAlert(
    entity: string,
    template: string,
    options: { drop?: number; cron?: string; timeZone?: string },
    principal: Principal,
  ): Promise<AutomationRuleDef> {
    const def = this.#tracked(entity);
    const known = ALERT_TEMPLATES.find((t) => t.name === template);
    if (!known) {
      throw new XrmError('XRM_ERR_REQUEST_INVALID', `No alert template "${template}"`, {
        errors: [{ path: '/template', message: `must be one of ${ALERT_TEMPLATES.map((t) => t.name).join(', ')}` }],
      });
    }
    const rule = alertRule(def, known, options);
    return this.#rules.create(rule, principal);
  }
}

/** Strength points lost in 30 days that put a relationship at risk (today list; the at-risk alert's default). */
export const AT_RISK_DROP = 20;

function todayItem(
  entity: EntityDef,
  record: Record<string, unknown>,
  now: Date,
  cadenceDays: number,
): TodayItem | undefined {
  const reasons: { kind: TodayReasonKind; text: string; weight: number }[] = [];
  const t = now.getTime();
  const strength = Number(record.relationship_strength ?? 0);
  const at = (k: string) => (typeof record[k] === 'string' ? Date.parse(record[k] as string) : null);
  const overdue = at('reply_overdue_at');
  const awaiting = at('awaiting_reply_since');
  if (overdue !== null && awaiting !== null && overdue <= t) {
    const usual = Number(record.median_response_minutes ?? 0);
    const waited = (t - awaiting) / 60_000;
    reasons.push({
      kind: 'drift',
      text:
        `Usually replies in ${minutesText(usual)}; your email of ` +
        `${dayText(record.awaiting_reply_since as string)} has waited ${minutesText(waited)}`,
      weight: 4 * Math.min(10, waited / Math.max(1, (overdue - awaiting) / 60_000)),
    });
  }
  const meeting = at('unfollowed_meeting_at');
  if (meeting !== null && meeting <= t - DAY) {
    const days = (t - meeting) / DAY;
    reasons.push({
      kind: 'meeting_follow_up',
      text:
        `The meeting of ${dayText(record.unfollowed_meeting_at as string)} has no follow-up yet ` +
        `(${Math.floor(days)} days)`,
      weight: 3 * Math.min(5, days),
    });
  }
  const change = Number(record.strength_change_30d ?? 0);
  if (change <= -AT_RISK_DROP) {
    reasons.push({
      kind: 'at_risk',
      text: `Strength fell ${-change} points in 30 days (${strength - change} → ${strength})`,
      weight: 2 * Math.min(5, -change / 10),
    });
  }
  const last = at('last_contact_at');
  if (last !== null && last < t - 2 * cadenceDays * DAY) {
    const days = Math.floor((t - last) / DAY);
    reasons.push({
      kind: 'stale',
      text: `No two-way contact for ${days} days (cadence ${cadenceDays} days)`,
      weight: Math.min(5, days / (2 * cadenceDays)),
    });
  }
  if (!reasons.length) return undefined;
  const priority = reasons.reduce((sum, r) => sum + r.weight, 0) * (1 + strength / 100);
  const name = record[entity.primaryField];
  return {
    entity: entity.name,
    entityDisplayName: entity.displayName,
    id: record.id as string,
    name: typeof name === 'string' ? name : name == null ? null : String(name),
    priority: Math.round(priority * 100) / 100,
    reason: reasons[0]!.text,
    reasons: reasons.map(({ kind, text }) => ({ kind, text })),
    signals: Object.fromEntries(SIGNAL_SELECT.map((k) => [k, record[k] ?? null])),
  };
}

/** The automation rule of an alert template for one entity. */
function alertRule(
  entity: EntityDef,
  template: AlertTemplate,
  options: { drop?: number; cron?: string; timeZone?: string },
) {
  const cadence = settingsOf(entity.signalSettings).cadenceDays;
  const name = `{{record.${entity.primaryField}}}`;
  const regarding = { entity: entity.name, id: '{{record.id}}' };
  const task = (subject: string, body: string, dueIn = 'P1D') => ({
    type: 'create' as const,
    entity: 'activity',
    values: {
      kind: 'task',
      direction: 'outbound',
      subject,
      body,
      occurred_at: '{{now}}',
      due_at: `{{now + ${dueIn}}}`,
      regarding,
    },
  });
  const draft = (text: string) => `Email draft:\n\nHello,\n\n${text}\n\nBest regards`;
  const base = {
    entity: entity.name,
    trigger: { type: 'schedule', cron: options.cron ?? '0 * * * *', timeZone: options.timeZone ?? 'UTC' },
  };
  switch (template.name) {
    case 'drift':
      return {
        ...base,
        name: `Reply overdue: ${entity.pluralDisplayName}`,
        description: template.description,
        condition: { reply_overdue_at: { olderThan: 'PT0S' } },
        actions: [
          {
            type: 'suggest',
            reason:
              `${name} usually replies in {{record.median_response_minutes}} min; ` +
              'our email of {{record.awaiting_reply_since}} is still waiting',
            actions: [task(`Nudge ${name}`, draft('Just checking whether my last message reached you.'))],
          },
        ],
      };
    case 'at_risk': {
      const drop = options.drop ?? AT_RISK_DROP;
      return {
        ...base,
        name: `Relationship at risk: ${entity.pluralDisplayName}`,
        description: template.description.replace('`drop` points (default 20)', `${drop} points`),
        condition: { strength_change_30d: { lte: -drop } },
        actions: [
          {
            type: 'suggest',
            reason: `Relationship with ${name} lost {{record.strength_change_30d}} points in 30 days`,
            actions: [task(`Check in with ${name}`, 'Call to hear how things are going.')],
          },
        ],
      };
    }
    case 'meeting_follow_up':
      return {
        ...base,
        name: `Meeting without follow-up: ${entity.pluralDisplayName}`,
        description: template.description,
        condition: { unfollowed_meeting_at: { olderThan: 'P1D' } },
        actions: [
          {
            type: 'suggest',
            reason: `The meeting with ${name} on {{record.unfollowed_meeting_at}} has no follow-up yet`,
            actions: [
              task(`Follow up on the meeting with ${name}`, draft('Thank you for the meeting. As promised, …')),
            ],
          },
        ],
      };
    default:
      return {
        ...base,
        name: `Stale relationship: ${entity.pluralDisplayName}`,
        description: template.description,
        condition: { last_contact_at: { olderThan: `P${Math.round(2 * cadence)}D` } },
        actions: [
          {
            type: 'suggest',
            reason: `No two-way contact with ${name} since {{record.last_contact_at}}`,
            actions: [
              task(`Reconnect with ${name}`, draft('It has been a while. How are things on your side?'), 'P2D'),
            ],
          },
        ],
      };
  }
}

/** The [occurred_at, id] of a timeline cursor, when it is one (else the engine refuses it). */
function cursorAfter(cursor: string): [string, string] | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      !Number.isNaN(Date.parse(value[0])) &&
      typeof value[1] === 'string' &&
      UUID.test(value[1])
    )
      return [value[0], value[1]];
  } catch {
    // not a cursor: the engine answers 400
  }
  return undefined;
}

/** The timeline cursor that continues after the activity of this time and id. */
export function timelineCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}
