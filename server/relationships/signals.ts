/**
 * Keeping signals current: the activities that concern a tracked record are fetched in ONE
 * statement per entity (signals.ts), turned into signals by the formula (formula.ts), and written
 * back in one UPDATE — inside the transaction of the activity write that changed them, after taking
 * a transaction-scoped advisory lock per record (in one order, so two writers never deadlock). The
 * lock makes concurrent activity writes on one record take turns, and each recomputes from a fresh
 * snapshot that holds the other's committed activity: the stored state always equals a full
 * recompute.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import { type Db, preparedSql } from '../../metadata/database.ts';
import { table } from '../../metadata/physical-names.ts';
import { SIGNAL_FIELDS } from '../../metadata/signal-fields.ts';
import { pgTextArray } from './pg-array.ts';
import {
  type ActivityFact,
  HISTORY_DAYS,
  REPLY_HISTORY,
  type SignalInput,
  type Signals,
  settingsOf,
  signalsOf,
} from './formula.ts';

/** Advisory-lock space (first key of the two-key form) of tracked records' signals. */
const SIGNAL_LOCK_SPACE = 0x7369; // "si"
/** Advisory-lock space of activities whose answers are in play (see lockActivities). */
const ANSWER_LOCK_SPACE = 0x616e; // "an"

/** Records whose signals a write changes, by entity. */
export type Targets = Map<string, Set<string>>;

export function addTarget(targets: Targets, entity: string, id: string): void {
  let ids = targets.get(entity);
  if (!ids) targets.set(entity, (ids = new Set()));
  ids.add(id);
}

interface FetchedRow {
  entity: string;
  record_id: string;
  /** The links within HISTORY_DAYS (and any later), oldest first, column by column. */
  ids: string[] | null;
  kinds: ActivityFact['kind'][] | null;
  directions: ActivityFact['direction'][] | null;
  ats: Date[] | null;
  people: number[] | null;
  answered: (Date | null)[] | null;
  two_way: Date | null;
  inbound: Date | null;
  outbound: Date | null;
  replies: number[] | null;
}

const ms = (value: Date | string | null) =>
  value === null ? null : value instanceof Date ? value.getTime() : Date.parse(value);

/**
 * The statement that reads what the formula needs for a set of records of any entities: one
 * prepared statement (its text never changes; the records and the instant are parameters). It
 * walks the timeline index of each record — the links carry their activity's kind, direction,
 * party count and what it answers — and looks up activities only to find who answered an email
 * and when the email an answer answers was sent.
 */
function fetchStatement(entities: readonly string[], ids: readonly string[], asOf: Date) {
  const from = new Date(asOf.getTime() - HISTORY_DAYS * 86_400_000);
  const activity = table('activity');
  const mine = sql`l.entity = t.entity AND l.record_id = t.id`;
  // an outbound email is answered when an inbound activity replies to it (after it, by asOf)
  const answers = sql`FROM ${activity} r WHERE r.in_reply_to = l.activity_id AND r.direction = 'inbound'
      AND r.occurred_at >= l.occurred_at AND r.occurred_at <= ${asOf}`;
  const answered = sql`(SELECT min(r.occurred_at) ${answers})`;
  const twoWay = sql`(l.kind IN ('call', 'meeting') OR (l.kind = 'email' AND l.direction = 'inbound')
      OR (l.kind = 'email' AND l.direction = 'outbound' AND EXISTS (SELECT 1 ${answers})))`;
  const earlier = (condition: RawBuilder<unknown>) => sql`(SELECT l.occurred_at FROM xrm.activity_links l
      WHERE ${mine} AND l.occurred_at <= ${from} AND ${condition} ORDER BY l.occurred_at DESC LIMIT 1)`;
  const directed = sql`l.kind IN ('email', 'call', 'meeting')`;
  const order = sql`ORDER BY l.occurred_at, l.activity_id`;
  return preparedSql(sql<FetchedRow>`SELECT t.entity, t.id::text AS record_id, r.*,
      ${earlier(twoWay)} AS two_way,
      ${earlier(sql`${directed} AND l.direction = 'inbound'`)} AS inbound,
      ${earlier(sql`${directed} AND l.direction = 'outbound'`)} AS outbound,
      (SELECT array_agg(m) FROM (SELECT extract(epoch FROM l.occurred_at - o.occurred_at)::float8 / 60 AS m
        FROM xrm.activity_links l
          JOIN ${activity} o ON o.id = l.in_reply_to AND o.kind = 'email' AND o.direction = 'outbound'
            AND o.occurred_at <= l.occurred_at
        WHERE ${mine} AND l.occurred_at <= ${asOf} AND l.kind = 'email' AND l.direction = 'inbound'
          AND l.in_reply_to IS NOT NULL
        ORDER BY l.occurred_at DESC LIMIT ${REPLY_HISTORY}) s) AS replies
    FROM unnest(${pgTextArray(entities)}::text[], ${pgTextArray(ids)}::uuid[]) AS t(entity, id),
      LATERAL (SELECT array_agg(l.activity_id::text ${order}) AS ids, array_agg(l.kind ${order}) AS kinds,
          array_agg(l.direction ${order}) AS directions, array_agg(l.occurred_at ${order}) AS ats,
          array_agg(l.people ${order}) AS people,
          array_agg(CASE WHEN l.kind = 'email' AND l.direction = 'outbound' THEN ${answered} END ${order})
            AS answered
        FROM xrm.activity_links l WHERE ${mine} AND l.occurred_at > ${from}) r`);
}

function inputOf(row: FetchedRow): SignalInput {
  const recent: ActivityFact[] = (row.ids ?? []).map((id, i) => ({
    id,
    kind: row.kinds![i]!,
    direction: row.directions![i]!,
    occurredAt: ms(row.ats![i]!)!,
    people: row.people![i] ?? 0,
    answeredAt: ms(row.answered![i] ?? null),
  }));
  return {
    recent,
    earlier: { twoWay: ms(row.two_way), inbound: ms(row.inbound), outbound: ms(row.outbound) },
    replyMinutes: (row.replies ?? []).map(Number),
  };
}

/** What the formula reads for each target record, by entity then id, as of `asOf` (ONE statement). */
export async function fetchTargets(
  db: Db,
  targets: Targets,
  asOf: Date,
): Promise<Map<string, Map<string, SignalInput>>> {
  const entities: string[] = [];
  const ids: string[] = [];
  for (const [entity, set] of targets)
    for (const id of set) {
      entities.push(entity);
      ids.push(id);
    }
  const out = new Map<string, Map<string, SignalInput>>();
  if (!ids.length) return out;
  const { rows } = await fetchStatement(entities, ids, asOf).execute(db);
  for (const row of rows) {
    let inputs = out.get(row.entity);
    if (!inputs) out.set(row.entity, (inputs = new Map()));
    inputs.set(row.record_id, inputOf(row));
  }
  return out;
}

/** What the formula reads for each record of `entity` in `ids`, as of `asOf` (ONE statement). */
export async function fetchInputs(
  db: Db,
  entity: string,
  ids: readonly string[],
  asOf: Date,
): Promise<Map<string, SignalInput>> {
  return (await fetchTargets(db, new Map([[entity, new Set(ids)]]), asOf)).get(entity) ?? new Map();
}

/** Takes the signal locks of these records, in one order (waits for writers holding them). */
export async function lockTargets(db: Db, targets: Targets, links: readonly LinkRow[] = []): Promise<void> {
  const keys: string[] = [];
  for (const [entity, ids] of targets) for (const id of ids) keys.push(`${entity}:${id}`);
  if (!keys.length) {
    if (links.length) await linkInsert(links).execute(db);
    return;
  }
  keys.sort();
  // The upkeep's statements are prepared and their plans never depend on the values (index walks
  // per record): generic plans for the rest of this transaction save re-planning each write. Only
  // named (prepared) statements heed the setting; this transaction's others are unnamed.
  const lock = sql`count(pg_advisory_xact_lock(${SIGNAL_LOCK_SPACE}, hashtext(k))),
      set_config('plan_cache_mode', 'force_generic_plan', true)
    FROM unnest(${pgTextArray(keys)}::text[]) AS x(k)`;
  // new links go in the same statement (one round trip less per activity write)
  await preparedSql(
    links.length
      ? sql`WITH ins AS (${linkInsert(links)} RETURNING 1) SELECT (SELECT count(*) FROM ins), ${lock}`
      : sql`SELECT ${lock}`,
  ).execute(db);
}

/**
 * Takes the answer locks of these activities (in one order): a write that changes an email, or
 * answers one, holds its lock while it finds the records of the email's replies or of the email
 * itself, so an edit of an email and a new answer to it take turns and each sees the other. Every
 * writer takes these before any record's signal lock (lockTargets): one global order, no deadlock.
 */
export async function lockActivities(db: Db, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const sorted = [...new Set(ids)].sort();
  await preparedSql(sql`SELECT count(pg_advisory_xact_lock(${ANSWER_LOCK_SPACE}, hashtext(k)))
    FROM unnest(${pgTextArray(sorted)}::text[]) AS x(k)`).execute(db);
}

/** A link of an activity to a record it concerns (`role`: regarding, or the party's role). */
export interface LinkRow {
  readonly entity: string;
  readonly record_id: string;
  readonly activity_id: string;
  readonly role: string;
}

/**
 * The statement appending link rows, each with the facts of its activity the signals read (kind,
 * direction, how many parties, what it answers), taken from the stored activity.
 */
export function linkInsert(links: readonly LinkRow[]): RawBuilder<unknown> {
  return sql`INSERT INTO xrm.activity_links
      (entity, record_id, activity_id, occurred_at, role, kind, direction, people, in_reply_to)
    SELECT x.entity, x.record_id, x.activity_id, a.occurred_at, x.role, a.kind, a.direction,
      COALESCE(jsonb_array_length(a.parties), 0), a.in_reply_to
    FROM json_to_recordset(${JSON.stringify(links)}::json)
        AS x(entity text, record_id uuid, activity_id uuid, role text)
      JOIN ${table('activity')} a ON a.id = x.activity_id
    ON CONFLICT DO NOTHING`;
}

/** The signals of these records as of `asOf`, computed from their activities (no write). */
export async function computeSignals(
  db: Db,
  catalog: Catalog,
  entity: string,
  ids: readonly string[],
  asOf: Date,
): Promise<Map<string, Signals>> {
  const settings = settingsOf(catalog.entity(entity)?.signalSettings);
  const inputs = await fetchInputs(db, entity, ids, asOf);
  const out = new Map<string, Signals>();
  for (const [id, input] of inputs) out.set(id, signalsOf(input, settings, asOf.getTime()));
  return out;
}

/** Writes these signals to the records (one UPDATE). */
export async function storeSignals(db: Db, entity: string, signals: ReadonlyMap<string, Signals>): Promise<void> {
  await storeAll(db, new Map([[entity, signals]]));
}

const SIGNAL_TYPES: Record<string, string> = { datetime: 'timestamptz', integer: 'integer', choice: 'text' };

/** The SQL type of a signal column. */
export function signalSqlType(name: string): string {
  const field = SIGNAL_FIELDS.find((f) => f.name === name);
  if (!field) throw new Error(`no signal field "${name}"`);
  return SIGNAL_TYPES[field.type]!;
}

/** Writes the signals of records of several entities (ONE statement: an UPDATE per entity, as CTEs). */
export async function storeAll(db: Db, byEntity: ReadonlyMap<string, ReadonlyMap<string, Signals>>): Promise<void> {
  const recordset = sql.join(
    [sql`id uuid`, ...SIGNAL_FIELDS.map((f) => sql`${sql.id(f.name)} ${sql.raw(SIGNAL_TYPES[f.type]!)}`)],
    sql`, `,
  );
  const assignments = sql.join(
    SIGNAL_FIELDS.map((f) => sql`${sql.id(f.name)} = x.${sql.id(f.name)}`),
    sql`, `,
  );
  const updates = [...byEntity]
    .filter(([, signals]) => signals.size)
    .map(([entity, signals]) => {
      const rows = [...signals].map(([id, s]) => ({ id, ...s }));
      // the ids again as an array: the (generic) plan then finds the rows by the primary key
      return sql`UPDATE ${table(entity)} AS t SET ${assignments}
        FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(${recordset})
        WHERE t.id = x.id AND t.id = ANY(${pgTextArray([...signals.keys()])}::uuid[])`;
    });
  if (!updates.length) return;
  if (updates.length === 1) {
    await preparedSql(updates[0]!).execute(db);
    return;
  }
  const ctes = updates.map((u, i) => sql`${sql.id(`u${i}`)} AS (${u})`);
  await preparedSql(sql`WITH ${sql.join(ctes, sql`, `)} SELECT 1`).execute(db);
}

/**
 * Recomputes and stores the signals of the targets as of `asOf`, under their locks; `links` (new
 * link rows) are written first, in the locking statement.
 */
export async function refreshTargets(
  db: Db,
  catalog: Catalog,
  targets: Targets,
  asOf: Date,
  links: readonly LinkRow[] = [],
): Promise<void> {
  const tracked: Targets = new Map([...targets].filter(([entity]) => catalog.entity(entity)?.trackActivities));
  await lockTargets(db, tracked, links);
  if (!tracked.size) return;
  const inputs = await fetchTargets(db, tracked, asOf);
  const signals = new Map<string, Map<string, Signals>>();
  for (const [entity, byId] of inputs) {
    const settings = settingsOf(catalog.entity(entity)?.signalSettings);
    signals.set(entity, new Map([...byId].map(([id, input]) => [id, signalsOf(input, settings, asOf.getTime())])));
  }
  await storeAll(db, signals);
}
