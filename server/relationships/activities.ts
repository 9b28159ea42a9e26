/**
 * Activities in the write pipeline:
 * - `ActivityPreparer` (before a create or update is validated): drops bodies in metadata-only
 *   mode, checks that `regarding` names an existing record of a tracked entity, and resolves each
 *   party without a record to one by its address (an email or phone field of a tracked entity).
 * - `ActivityLinks` (a change consumer, in the write's transaction): keeps `xrm.activity_links`
 *   (one row per tracked record an activity concerns) and recomputes the signals of every record
 *   a change touched, before and after, under their locks (signals.ts).
 */
import { sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import { table } from '../../metadata/physical-names.ts';
import type { Change, ChangeConsumer, ChangeMessage, Row } from '../records/changes.ts';
import type { InputPreparer } from '../records/pipeline.ts';
import type { Runtime } from '../runtime.ts';
import type { Clock } from '../automation/time.ts';
import { addTarget, refreshTargets, type Targets } from './signals.ts';

export const ACTIVITY = 'activity';

export interface Party {
  readonly role: string;
  readonly address?: string;
  readonly name?: string;
  readonly entity?: string;
  readonly id?: string;
}

const isObject = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A phone number's digits (how phone addresses are compared); an email is compared lower-cased. */
export function addressKey(address: string): string {
  if (address.includes('@')) return address.trim().toLowerCase();
  const digits = address.replace(/\D/g, '');
  return digits.length >= 6 ? `tel:${digits}` : address.trim().toLowerCase();
}

/** The tracked records an activity image concerns: its regarding and every party with a record. */
export function concerned(catalog: Catalog, image: Row | undefined): { entity: string; id: string; role: string }[] {
  if (!image) return [];
  const out: { entity: string; id: string; role: string }[] = [];
  const tracked = (e: unknown) => typeof e === 'string' && catalog.entity(e)?.trackActivities === true;
  const regarding = image.regarding;
  if (isObject(regarding) && tracked(regarding.entity) && typeof regarding.id === 'string')
    out.push({ entity: regarding.entity as string, id: regarding.id, role: 'regarding' });
  if (Array.isArray(image.parties)) {
    for (const p of image.parties as Party[]) {
      if (isObject(p) && tracked(p.entity) && typeof p.id === 'string')
        out.push({ entity: p.entity!, id: p.id, role: p.role });
    }
  }
  return out;
}

export class ActivityPreparer implements InputPreparer {
  readonly entity = ACTIVITY;
  readonly #runtime: Runtime;
  readonly #bodies: boolean;

  constructor(runtime: Runtime, bodies: boolean) {
    this.#runtime = runtime;
    this.#bodies = bodies;
  }

  async prepare(db: Db, inputs: readonly Row[], _update: boolean, path: (i: number) => string): Promise<Row[]> {
    const catalog = this.#runtime.state.catalog;
    const out = inputs.map((input) => {
      const copy = { ...input };
      if (!this.#bodies && 'body' in copy) copy.body = null;
      return copy;
    });
    await this.#checkRegarding(db, catalog, out, path);
    await this.#resolveParties(db, catalog, out);
    return out;
  }

  /** `regarding`: a record of an entity that tracks activities, which exists. */
  async #checkRegarding(db: Db, catalog: Catalog, inputs: Row[], path: (i: number) => string): Promise<void> {
    const wanted = new Map<string, Map<string, number>>();
    inputs.forEach((input, i) => {
      const r = input.regarding;
      if (!isObject(r) || typeof r.entity !== 'string' || typeof r.id !== 'string') return; // the schema reports it
      const entity = catalog.entity(r.entity);
      if (!entity?.trackActivities) {
        const message = entity ? `"${r.entity}" does not track activities` : `no entity "${r.entity}"`;
        throw new XrmError('XRM_ERR_RECORD_INVALID', `The activity is invalid: /regarding/entity ${message}`, {
          errors: [{ path: `${path(i)}/regarding/entity`, message }],
        });
      }
      let ids = wanted.get(r.entity);
      if (!ids) wanted.set(r.entity, (ids = new Map()));
      ids.set(r.id.toLowerCase(), i);
    });
    for (const [entity, ids] of wanted) {
      const { rows } = await sql<{ id: string }>`SELECT id::text FROM ${table(entity)}
        WHERE id = ANY(${`{${[...ids.keys()].join(',')}}`}::uuid[])`.execute(db);
      const found = new Set(rows.map((r) => r.id));
      for (const [id, i] of ids) {
        if (found.has(id)) continue;
        throw new XrmError('XRM_ERR_RECORD_REFERENCE_NOT_FOUND', `No ${entity} record ${id} (regarding)`, {
          errors: [{ path: `${path(i)}/regarding/id`, message: `no ${entity} record has this id` }],
        });
      }
    }
  }

  /** Parties with an address and no record get the first tracked record whose email or phone it is. */
  async #resolveParties(db: Db, catalog: Catalog, inputs: Row[]): Promise<void> {
    const keys = new Set<string>();
    for (const input of inputs) {
      if (!Array.isArray(input.parties)) continue;
      for (const p of input.parties as Party[]) {
        if (isObject(p) && p.entity === undefined && typeof p.address === 'string') keys.add(addressKey(p.address));
      }
    }
    if (!keys.size) return;
    const found = await resolveAddresses(db, catalog, [...keys]);
    if (!found.size) return;
    for (const input of inputs) {
      if (!Array.isArray(input.parties)) continue;
      input.parties = (input.parties as Party[]).map((p) => {
        if (!isObject(p) || p.entity !== undefined || typeof p.address !== 'string') return p;
        const record = found.get(addressKey(p.address));
        return record ? { ...p, entity: record.entity, id: record.id } : p;
      });
    }
  }
}

/**
 * The tracked record each address belongs to (ONE statement over every email and phone field of
 * the tracked entities): the first entity in catalog order, then the oldest record.
 */
export async function resolveAddresses(
  db: Db,
  catalog: Catalog,
  keys: readonly string[],
): Promise<Map<string, { entity: string; id: string }>> {
  const parts = [];
  let rank = 0;
  for (const entity of catalog.entities.values()) {
    if (!entity.trackActivities) continue;
    for (const field of entity.fields) {
      if (field.type !== 'email' && field.type !== 'phone') continue;
      const col = sql.id(field.name);
      const key = field.type === 'email' ? sql`lower(${col})` : sql`'tel:' || regexp_replace(${col}, '\\D', '', 'g')`;
      parts.push(sql`SELECT ${key} AS key, ${entity.name}::text AS entity, id::text AS id,
        ${rank++}::int AS rank, created_at FROM ${table(entity.name)} WHERE ${key} = ANY(k.keys)`);
    }
  }
  if (!parts.length) return new Map();
  const { rows } = await sql<{ key: string; entity: string; id: string }>`SELECT DISTINCT ON (key) key, entity, id
    FROM (SELECT ${JSON.stringify(keys)}::jsonb AS j) j0,
      LATERAL (SELECT array_agg(x) AS keys FROM jsonb_array_elements_text(j0.j) x) k,
      LATERAL (${sql.join(parts, sql` UNION ALL `)}) m
    ORDER BY key, rank, created_at, id`.execute(db);
  return new Map(rows.map((r) => [r.key, { entity: r.entity, id: r.id }]));
}

/** Keeps the links and the signals of the records activities concern, in the write's transaction. */
export class ActivityLinks implements ChangeConsumer {
  readonly name = 'relationships';
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  wants(catalog: Catalog, message: ChangeMessage, entity: string): boolean {
    if (entity === ACTIVITY) return message === 'create' || message === 'update' || message === 'delete';
    return message === 'delete' && catalog.entity(entity)?.trackActivities === true;
  }

  async record(trx: Db, _origin: unknown, changes: readonly Change[], catalog: Catalog): Promise<void> {
    const targets: Targets = new Map();
    const relinked: string[] = [];
    const links: { entity: string; record_id: string; activity_id: string; occurred_at: unknown; role: string }[] = [];
    const gone: { entity: string; id: string }[] = [];
    for (const change of changes) {
      if (change.entity !== ACTIVITY) {
        if (change.message === 'delete') gone.push({ entity: change.entity, id: change.id });
        continue;
      }
      if (change.message !== 'create') relinked.push(change.id);
      for (const t of concerned(catalog, change.before)) addTarget(targets, t.entity, t.id);
      const seen = new Set<string>();
      for (const t of concerned(catalog, change.after)) {
        addTarget(targets, t.entity, t.id);
        const key = `${t.entity}:${t.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        links.push({
          entity: t.entity,
          record_id: t.id,
          activity_id: change.id,
          occurred_at: change.after!.occurred_at,
          role: t.role,
        });
      }
    }
    if (relinked.length) {
      await sql`DELETE FROM xrm.activity_links
        WHERE activity_id = ANY(${`{${relinked.join(',')}}`}::uuid[])`.execute(trx);
    }
    if (links.length) await insertLinks(trx, links);
    for (const g of gone) {
      await sql`DELETE FROM xrm.activity_links WHERE entity = ${g.entity} AND record_id = ${g.id}::uuid`.execute(trx);
      targets.get(g.entity)?.delete(g.id);
    }
    await refreshTargets(trx, catalog, targets, this.#clock());
  }
}

/** Appends link rows (one statement). */
export async function insertLinks(
  db: Db,
  links: readonly { entity: string; record_id: string; activity_id: string; occurred_at: unknown; role: string }[],
): Promise<void> {
  await sql`INSERT INTO xrm.activity_links (entity, record_id, activity_id, occurred_at, role)
    SELECT entity, record_id, activity_id, occurred_at, role FROM json_to_recordset(${JSON.stringify(links)}::json)
      AS x(entity text, record_id uuid, activity_id uuid, occurred_at timestamptz, role text)
    ON CONFLICT DO NOTHING`.execute(db);
}
