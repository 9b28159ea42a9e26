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
import { type Db, preparedSql } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import { table } from '../../metadata/physical-names.ts';
import { addressKey, addressKeySql } from '../../metadata/signal-fields.ts';
import type { Change, ChangeConsumer, ChangeMessage, Row } from '../records/changes.ts';
import type { InputPreparer } from '../records/pipeline.ts';
import type { Runtime } from '../runtime.ts';
import type { Clock } from '../automation/time.ts';
import { hiddenFields } from '../records/write-access.ts';
import type { Access } from '../security/access.ts';
import { bindSubject } from '../security/subject.ts';
import { pgTextArray } from './pg-array.ts';
import { addTarget, type LinkRow, linkInsert, lockActivities, refreshTargets, type Targets } from './signals.ts';

export const ACTIVITY = 'activity';

export interface Party {
  readonly role: string;
  readonly address?: string;
  readonly name?: string;
  readonly entity?: string;
  readonly id?: string;
}

const isObject = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The tracked records an activity image concerns: its regarding and every party with a record. */
export function concerned(catalog: Catalog, image: Row | undefined): { entity: string; id: string; role: string }[] {
  if (!image) return [];
  const out: { entity: string; id: string; role: string }[] = [];
  const tracked = (e: unknown) => typeof e === 'string' && catalog.entity(e)?.trackActivities === true;
  const regarding = image.regarding;
  if (isObject(regarding) && tracked(regarding.entity) && typeof regarding.id === 'string')
    out.push({ entity: regarding.entity as string, id: regarding.id.toLowerCase(), role: 'regarding' });
  if (Array.isArray(image.parties)) {
    for (const p of image.parties as Party[]) {
      if (isObject(p) && tracked(p.entity) && typeof p.id === 'string')
        out.push({ entity: p.entity!, id: p.id.toLowerCase(), role: p.role });
    }
  }
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A record an activity names, and where in the request it does. */
interface Reference {
  readonly entity: string;
  readonly id: string;
  readonly input: number;
  readonly path: string;
}

/** The records of `alias` the caller may read and append activities to (undefined: the system, all). */
function appendable(access: Access | undefined, catalog: Catalog, entity: string, alias: string) {
  if (!access || access.policy.unrestricted) return undefined;
  const read = access.policy.predicate(entity, 'read', alias, catalog) ?? sql<boolean>`TRUE`;
  const append = access.policy.predicate(entity, 'appendTo', alias, catalog) ?? sql<boolean>`TRUE`;
  return sql<boolean>`(${read}) AND (${append})`;
}

export class ActivityPreparer implements InputPreparer {
  readonly entity = ACTIVITY;
  readonly #runtime: Runtime;
  readonly #bodies: boolean;

  constructor(runtime: Runtime, bodies: boolean) {
    this.#runtime = runtime;
    this.#bodies = bodies;
  }

  async prepare(
    db: Db,
    inputs: readonly Row[],
    _update: boolean,
    path: (i: number) => string,
    access?: Access,
  ): Promise<Row[]> {
    const catalog = this.#runtime.state.catalog;
    const out = inputs.map((input) => {
      const copy = { ...input };
      if (!this.#bodies && 'body' in copy) copy.body = null;
      // ids compared (and locked) as PostgreSQL prints them: lower case
      if (isObject(copy.regarding) && typeof copy.regarding.id === 'string')
        copy.regarding = { ...copy.regarding, id: copy.regarding.id.toLowerCase() };
      if (Array.isArray(copy.parties))
        copy.parties = (copy.parties as unknown[]).map((p) =>
          isObject(p) && typeof p.id === 'string' ? { ...p, id: p.id.toLowerCase() } : p,
        );
      return copy;
    });
    await this.#checkReferences(db, catalog, out, path, access);
    await this.#resolveParties(db, catalog, out, access);
    return out;
  }

  /**
   * `regarding` names a record of an entity that tracks activities, and every record named (there
   * or as a party) exists and is one the writer may read and append to — else it is refused as a
   * missing record would be, so a hidden record's existence does not show.
   */
  async #checkReferences(
    db: Db,
    catalog: Catalog,
    inputs: Row[],
    path: (i: number) => string,
    access: Access | undefined,
  ): Promise<void> {
    const refs: Reference[] = [];
    inputs.forEach((input, i) => {
      const r = input.regarding;
      if (isObject(r) && typeof r.entity === 'string' && typeof r.id === 'string' && UUID.test(r.id)) {
        const entity = catalog.entity(r.entity);
        if (!entity?.trackActivities) {
          const message = entity ? `"${r.entity}" does not track activities` : `no entity "${r.entity}"`;
          throw new XrmError('XRM_ERR_RECORD_INVALID', `The activity is invalid: /regarding/entity ${message}`, {
            errors: [{ path: `${path(i)}/regarding/entity`, message }],
          });
        }
        refs.push({ entity: r.entity, id: r.id, input: i, path: `${path(i)}/regarding` });
      }
      if (!Array.isArray(input.parties)) return;
      (input.parties as unknown[]).forEach((p, k) => {
        if (!isObject(p) || typeof p.entity !== 'string' || typeof p.id !== 'string' || !UUID.test(p.id)) return;
        if (!catalog.entity(p.entity)) {
          const message = `no entity "${p.entity}"`;
          throw new XrmError('XRM_ERR_RECORD_INVALID', `The activity is invalid: /parties/${k}/entity ${message}`, {
            errors: [{ path: `${path(i)}/parties/${k}/entity`, message }],
          });
        }
        refs.push({ entity: p.entity, id: p.id, input: i, path: `${path(i)}/parties/${k}` });
      });
    });
    const byEntity = new Map<string, Reference[]>();
    for (const ref of refs) byEntity.set(ref.entity, [...(byEntity.get(ref.entity) ?? []), ref]);
    for (const [entity, list] of byEntity) {
      const ids = [...new Set(list.map((r) => r.id))];
      const allowed = appendable(access, catalog, entity, 't') ?? sql<boolean>`TRUE`;
      const query = sql<{ id: string }>`SELECT t.id::text AS id FROM ${table(entity)} t
        WHERE t.id = ANY(${`{${ids.join(',')}}`}::uuid[]) AND ${allowed}`;
      const { rows } = await db.executeQuery<{ id: string }>(bindSubject(query.compile(db), access?.subject));
      const found = new Set(rows.map((r) => r.id));
      const missing = list.find((r) => !found.has(r.id));
      if (missing) {
        throw new XrmError('XRM_ERR_RECORD_REFERENCE_NOT_FOUND', `No ${entity} record ${missing.id} you may link to`, {
          errors: [{ path: `${missing.path}/id`, message: `no ${entity} record with this id that you may link to` }],
        });
      }
    }
  }

  /** Parties with an address and no record get the first tracked record whose email or phone it is. */
  async #resolveParties(db: Db, catalog: Catalog, inputs: Row[], access: Access | undefined): Promise<void> {
    const keys = new Set<string>();
    for (const input of inputs) {
      if (!Array.isArray(input.parties)) continue;
      for (const p of input.parties as Party[]) {
        if (isObject(p) && p.entity === undefined && typeof p.address === 'string') keys.add(addressKey(p.address));
      }
    }
    if (!keys.size) return;
    const found = await resolveAddresses(db, catalog, [...keys], access);
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
 * the tracked entities): the first entity in catalog order, then the oldest record — among the
 * records the writer may read and append to, by the fields they may read.
 */
export async function resolveAddresses(
  db: Db,
  catalog: Catalog,
  keys: readonly string[],
  access?: Access,
): Promise<Map<string, { entity: string; id: string }>> {
  const parts = [];
  let rank = 0;
  for (const entity of catalog.entities.values()) {
    if (!entity.trackActivities) continue;
    const hidden = access ? new Set(hiddenFields(access, catalog, entity.name)) : new Set<string>();
    const allowed = appendable(access, catalog, entity.name, 't') ?? sql<boolean>`TRUE`;
    for (const field of entity.fields) {
      // the expression of the field's address index (ddl.ts addressIndexes)
      const key = addressKeySql(field, sql`t.${sql.id(field.name)}`);
      if (!key || hidden.has(field.name)) continue;
      parts.push(sql`SELECT ${key} AS key, ${entity.name}::text AS entity, t.id::text AS id,
        ${rank++}::int AS rank, t.created_at FROM ${table(entity.name)} t
        WHERE ${key} = ANY((SELECT keys FROM k)::text[]) AND ${allowed}`);
    }
  }
  if (!parts.length) return new Map();
  // each part walks its field's address index for the keys
  const query = preparedSql(sql<{ key: string; entity: string; id: string }>`WITH k AS (
      SELECT ${pgTextArray(keys)}::text[] AS keys)
    SELECT DISTINCT ON (key) key, entity, id FROM (${sql.join(parts, sql` UNION ALL `)}) m
    ORDER BY key, rank, created_at, id`);
  const { rows } = await db.executeQuery<{ key: string; entity: string; id: string }>(
    bindSubject(query.compile(db), access?.subject),
  );
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
    const relinked = new Set<string>();
    /** Each activity's last image in this write (several changes of one activity: the last counts). */
    const last = new Map<string, Row | undefined>();
    const originals = new Set<string>();
    const gone: { entity: string; id: string }[] = [];
    for (const change of changes) {
      if (change.entity !== ACTIVITY) {
        if (change.message === 'delete') gone.push({ entity: change.entity, id: change.id });
        continue;
      }
      if (change.message !== 'create') relinked.add(change.id);
      for (const image of [change.before, change.after]) {
        for (const t of concerned(catalog, image)) addTarget(targets, t.entity, t.id);
        // a reply answers an email: the records of that email change too (it is now answered)
        if (typeof image?.in_reply_to === 'string') originals.add(image.in_reply_to);
      }
      if (change.message === 'create' && last.has(change.id)) relinked.add(change.id);
      last.set(change.id, change.after);
    }
    const links: LinkRow[] = [];
    for (const [id, after] of last) {
      const seen = new Set<string>();
      for (const t of concerned(catalog, after)) {
        const key = `${t.entity}:${t.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        links.push({ entity: t.entity, record_id: t.id, activity_id: id, role: t.role });
      }
    }
    if (relinked.size) {
      await sql`DELETE FROM xrm.activity_links
        WHERE activity_id = ANY(${`{${[...relinked].join(',')}}`}::uuid[])`.execute(trx);
    }
    // the records of the emails these answer (now answered), and of the replies to the activities
    // changed here (how long each took to answer changes with the original's time and direction),
    // read under those activities' answer locks: a concurrent answer or edit is seen, or waits
    if (originals.size || relinked.size) {
      await lockActivities(trx, [...originals, ...relinked]);
      const { rows } = await sql<{ entity: string; record_id: string }>`SELECT entity, record_id::text
          FROM xrm.activity_links WHERE activity_id = ANY(${pgTextArray([...originals])}::uuid[])
        UNION SELECT l.entity, l.record_id::text FROM ${table(ACTIVITY)} r
          JOIN xrm.activity_links l ON l.activity_id = r.id
        WHERE r.in_reply_to = ANY(${pgTextArray([...relinked])}::uuid[])`.execute(trx);
      for (const r of rows) addTarget(targets, r.entity, r.record_id);
    }
    for (const g of gone) {
      await sql`DELETE FROM xrm.activity_links WHERE entity = ${g.entity} AND record_id = ${g.id}::uuid`.execute(trx);
      targets.get(g.entity)?.delete(g.id);
    }
    // the new links go in with the locks
    await refreshTargets(trx, catalog, targets, this.#clock(), links);
  }
}

/** Appends link rows (one prepared statement; see linkInsert). */
export async function insertLinks(db: Db, links: readonly LinkRow[]): Promise<void> {
  await preparedSql(linkInsert(links)).execute(db);
}
