/**
 * Keeping signals current: the activities that concern a tracked record are fetched in ONE
 * statement per entity (signals.ts), turned into signals by the formula (formula.ts), and written
 * back in one UPDATE — inside the transaction of the activity write that changed them, after taking
 * a transaction-scoped advisory lock per record (in one order, so two writers never deadlock). The
 * lock makes concurrent activity writes on one record take turns, and each recomputes from a fresh
 * snapshot that holds the other's committed activity: the stored state always equals a full
 * recompute.
 */
import { sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import { table } from '../../metadata/physical-names.ts';
import { SIGNAL_FIELDS } from '../../metadata/signal-fields.ts';
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

/** Records whose signals a write changes, by entity. */
export type Targets = Map<string, Set<string>>;

export function addTarget(targets: Targets, entity: string, id: string): void {
  let ids = targets.get(entity);
  if (!ids) targets.set(entity, (ids = new Set()));
  ids.add(id);
}

interface FetchedRow {
  record_id: string;
  recent: {
    id: string;
    kind: ActivityFact['kind'];
    direction: ActivityFact['direction'];
    at: string;
    people: number;
    answered: string | null;
  }[];
  two_way: string | null;
  inbound: string | null;
  outbound: string | null;
  replies: number[] | null;
}

const ms = (text: string | null) => (text === null ? null : Date.parse(text));

/** What the formula reads for each record of `entity` in `ids`, as of `asOf` (ONE statement). */
export async function fetchInputs(
  db: Db,
  entity: string,
  ids: readonly string[],
  asOf: Date,
): Promise<Map<string, SignalInput>> {
  const from = new Date(asOf.getTime() - HISTORY_DAYS * 86_400_000);
  const activity = table('activity');
  // an outbound email is answered when an inbound activity replies to it
  const answered = sql`(SELECT min(r.occurred_at) FROM ${activity} r
      WHERE r.in_reply_to = a.id AND r.direction = 'inbound' AND r.occurred_at <= ${asOf})`;
  const twoWay = sql`(a.kind IN ('call', 'meeting') OR (a.kind = 'email' AND a.direction = 'inbound')
      OR (a.kind = 'email' AND a.direction = 'outbound' AND EXISTS (SELECT 1 FROM ${activity} r
        WHERE r.in_reply_to = a.id AND r.direction = 'inbound' AND r.occurred_at <= ${asOf})))`;
  const linked = sql`xrm.activity_links l JOIN ${activity} a ON a.id = l.activity_id
      WHERE l.entity = ${entity} AND l.record_id = t.id`;
  const directed = sql`a.kind IN ('email', 'call', 'meeting')`;
  const { rows } = await sql<FetchedRow>`SELECT t.id AS record_id,
    (SELECT COALESCE(json_agg(json_build_object('id', a.id, 'kind', a.kind, 'direction', a.direction,
        'at', a.occurred_at, 'people', jsonb_array_length(a.parties),
        'answered', CASE WHEN a.kind = 'email' AND a.direction = 'outbound' THEN ${answered} END)
        ORDER BY l.occurred_at, l.activity_id), '[]')
      FROM ${linked} AND l.occurred_at > ${from}) AS recent,
    (SELECT l.occurred_at FROM ${linked} AND l.occurred_at <= ${from} AND ${twoWay}
      ORDER BY l.occurred_at DESC LIMIT 1) AS two_way,
    (SELECT l.occurred_at FROM ${linked} AND l.occurred_at <= ${from} AND ${directed} AND a.direction = 'inbound'
      ORDER BY l.occurred_at DESC LIMIT 1) AS inbound,
    (SELECT l.occurred_at FROM ${linked} AND l.occurred_at <= ${from} AND ${directed} AND a.direction = 'outbound'
      ORDER BY l.occurred_at DESC LIMIT 1) AS outbound,
    (SELECT array_agg(m) FROM (SELECT extract(epoch FROM a.occurred_at - o.occurred_at) / 60 AS m
      FROM xrm.activity_links l JOIN ${activity} a ON a.id = l.activity_id
        JOIN ${activity} o ON o.id = a.in_reply_to AND o.direction = 'outbound' AND o.occurred_at <= a.occurred_at
      WHERE l.entity = ${entity} AND l.record_id = t.id AND l.occurred_at <= ${asOf}
        AND a.kind = 'email' AND a.direction = 'inbound'
      ORDER BY l.occurred_at DESC LIMIT ${REPLY_HISTORY}) s) AS replies
    FROM unnest(${`{${ids.join(',')}}`}::uuid[]) AS t(id)`.execute(db);
  const inputs = new Map<string, SignalInput>();
  for (const row of rows) {
    inputs.set(row.record_id, {
      recent: row.recent.map((a) => ({
        id: a.id,
        kind: a.kind,
        direction: a.direction,
        occurredAt: Date.parse(a.at),
        people: a.people ?? 0,
        answeredAt: ms(a.answered),
      })),
      earlier: { twoWay: ms(row.two_way), inbound: ms(row.inbound), outbound: ms(row.outbound) },
      replyMinutes: (row.replies ?? []).map(Number),
    });
  }
  return inputs;
}

/** Takes the signal locks of these records, in one order (waits for writers holding them). */
export async function lockTargets(db: Db, targets: Targets): Promise<void> {
  const keys: string[] = [];
  for (const [entity, ids] of targets) for (const id of ids) keys.push(`${entity}:${id}`);
  if (!keys.length) return;
  keys.sort();
  await sql`SELECT count(pg_advisory_xact_lock(${SIGNAL_LOCK_SPACE}, hashtext(k)))
    FROM unnest(${`{${keys.map((k) => `"${k}"`).join(',')}}`}::text[]) AS x(k)`.execute(db);
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
  if (!signals.size) return;
  const rows = [...signals].map(([id, s]) => ({ id, ...s }));
  const columns = SIGNAL_FIELDS.map((f) => f.name);
  const types: Record<string, string> = { datetime: 'timestamptz', integer: 'integer', choice: 'text' };
  const recordset = sql.join(
    [sql`id uuid`, ...SIGNAL_FIELDS.map((f) => sql`${sql.id(f.name)} ${sql.raw(types[f.type]!)}`)],
    sql`, `,
  );
  const assignments = sql.join(
    columns.map((c) => sql`${sql.id(c)} = x.${sql.id(c)}`),
    sql`, `,
  );
  await sql`UPDATE ${table(entity)} AS t SET ${assignments}
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(${recordset})
    WHERE t.id = x.id`.execute(db);
}

/** Recomputes and stores the signals of the targets as of `asOf`, under their locks. */
export async function refreshTargets(db: Db, catalog: Catalog, targets: Targets, asOf: Date): Promise<void> {
  await lockTargets(db, targets);
  for (const [entity, ids] of targets) {
    if (!catalog.entity(entity)?.trackActivities) continue;
    await storeSignals(db, entity, await computeSignals(db, catalog, entity, [...ids], asOf));
  }
}
