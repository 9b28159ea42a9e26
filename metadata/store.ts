/**
 * The metadata store: reads and writes definitions in the `xrm` system tables. Only the metadata
 * service writes; the runtime reads here to build its catalog.
 */
import { sql } from 'kysely';
import type { Db } from './database.ts';
import { Catalog } from './catalog.ts';
import { isMaintained } from './signal-fields.ts';
import type { AutomationRuleDef, ChoiceSetDef, EntityDef, FieldDef, RelationshipDef, WebhookDef } from './types.ts';

export async function readSchemaVersion(db: Db): Promise<number> {
  const { rows } = await sql<{ version: string | number }>`SELECT version FROM xrm.schema_state WHERE id = 1`.execute(
    db,
  );
  return Number(rows[0]?.version ?? 0);
}

/**
 * The whole catalog in ONE statement, so it is one snapshot: separate queries on separate pooled
 * connections could straddle a schema change's commit and pair the new version with the old
 * entities (a catalog that claims a version it does not hold, seen under schema churn).
 */
export async function loadCatalog(db: Db): Promise<Catalog> {
  const { rows } = await sql<{
    version: string | number | null;
    entities: { name: string; definition: Omit<EntityDef, 'fields'> }[];
    fields: { entity: string; definition: FieldDef }[];
    relationships: { definition: RelationshipDef }[];
    choiceSets: { definition: ChoiceSetDef }[];
    webhooks: WebhookDef[];
    rules: AutomationRuleDef[];
    disabledPlugins: string[];
  }>`SELECT
    (SELECT version FROM xrm.schema_state WHERE id = 1) AS version,
    (SELECT COALESCE(json_agg(json_build_object('name', name, 'definition', definition)
      ORDER BY created_at, name), '[]') FROM xrm.entities) AS entities,
    (SELECT COALESCE(json_agg(json_build_object('entity', entity, 'definition', definition)
      ORDER BY entity, position), '[]') FROM xrm.fields) AS fields,
    (SELECT COALESCE(json_agg(json_build_object('definition', definition) ORDER BY created_at, name), '[]')
      FROM xrm.relationships) AS relationships,
    (SELECT COALESCE(json_agg(json_build_object('definition', definition) ORDER BY name), '[]')
      FROM xrm.choice_sets) AS "choiceSets",
    (SELECT COALESCE(json_agg(definition || jsonb_build_object('id', id) ORDER BY created_at, id), '[]')
      FROM xrm.webhooks) AS webhooks,
    (SELECT COALESCE(json_agg(definition || jsonb_strip_nulls(jsonb_build_object('id', id, 'status', status,
        'statusReason', status_reason)) ORDER BY created_at, id), '[]')
      FROM xrm.automation_rules) AS rules,
    (SELECT COALESCE(json_agg(name ORDER BY name), '[]') FROM xrm.plugin_state WHERE NOT enabled)
      AS "disabledPlugins"`.execute(db);
  const { version, entities, fields, relationships, choiceSets, webhooks, rules, disabledPlugins } = rows[0]!;
  const byEntity = new Map<string, FieldDef[]>();
  for (const f of fields) {
    let list = byEntity.get(f.entity);
    if (!list) byEntity.set(f.entity, (list = []));
    list.push(Object.freeze(f.definition));
  }
  return new Catalog({
    version: Number(version ?? 0),
    entities: entities.map((e) =>
      Object.freeze({ ...e.definition, fields: Object.freeze(byEntity.get(e.name) ?? []) }),
    ),
    relationships: relationships.map((r) => Object.freeze(r.definition)),
    choiceSets: choiceSets.map((c) => Object.freeze(c.definition)),
    webhooks: webhooks.map((w) => Object.freeze(w)),
    rules: rules.map((r) => Object.freeze(r)),
    disabledPlugins,
  });
}

const json = (value: unknown) => JSON.stringify(value);

function entityRow(entity: EntityDef): string {
  const { fields: _fields, ...rest } = entity;
  return json(rest);
}

export async function insertEntity(db: Db, entity: EntityDef): Promise<void> {
  await sql`INSERT INTO xrm.entities (name, definition) VALUES (${entity.name}, ${entityRow(entity)}::jsonb)`.execute(
    db,
  );
  let position = 0;
  // the signal fields of a tracked entity come with tracking (signal-fields.ts), not from rows
  for (const field of entity.fields.filter((f) => !isMaintained(f)))
    await insertField(db, entity.name, field, position++);
}

export async function updateEntityRow(db: Db, entity: EntityDef): Promise<void> {
  const changes = sql`definition = ${entityRow(entity)}::jsonb, updated_at = now()`;
  await sql`UPDATE xrm.entities SET ${changes} WHERE name = ${entity.name}`.execute(db);
}

export async function deleteEntityRow(db: Db, name: string): Promise<void> {
  await sql`DELETE FROM xrm.entities WHERE name = ${name}`.execute(db);
}

export async function insertField(db: Db, entity: string, field: FieldDef, position?: number): Promise<void> {
  const nextPosition = sql`(SELECT COALESCE(max(position) + 1, 0) FROM xrm.fields WHERE entity = ${entity})`;
  await sql`INSERT INTO xrm.fields (entity, name, position, definition)
    VALUES (${entity}, ${field.name},
      COALESCE(${position ?? null}::integer, ${nextPosition}),
      ${json(field)}::jsonb)`.execute(db);
}

export async function updateFieldRow(db: Db, entity: string, field: FieldDef): Promise<void> {
  await sql`UPDATE xrm.fields SET definition = ${json(field)}::jsonb, updated_at = now()
    WHERE entity = ${entity} AND name = ${field.name}`.execute(db);
}

export async function deleteFieldRow(db: Db, entity: string, name: string): Promise<void> {
  await sql`DELETE FROM xrm.fields WHERE entity = ${entity} AND name = ${name}`.execute(db);
}

export async function insertRelationship(db: Db, rel: RelationshipDef): Promise<void> {
  await sql`INSERT INTO xrm.relationships (name, definition) VALUES (${rel.name}, ${json(rel)}::jsonb)`.execute(db);
}

export async function deleteRelationshipRow(db: Db, name: string): Promise<void> {
  await sql`DELETE FROM xrm.relationships WHERE name = ${name}`.execute(db);
}

export async function upsertChoiceSet(db: Db, set: ChoiceSetDef): Promise<void> {
  await sql`INSERT INTO xrm.choice_sets (name, definition) VALUES (${set.name}, ${json(set)}::jsonb)
    ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = now()`.execute(db);
}

export async function deleteChoiceSetRow(db: Db, name: string): Promise<void> {
  await sql`DELETE FROM xrm.choice_sets WHERE name = ${name}`.execute(db);
}

export interface SchemaChange {
  id: number;
  version: number;
  actor: string;
  operation: string;
  target: string;
  before: unknown;
  after: unknown;
  statements: string[];
  createdAt: string;
}

/** Bumps the schema version, appends the ledger entry and announces the new version. */
export async function recordChange(
  db: Db,
  change: { actor: string; operation: string; target: string; before: unknown; after: unknown; statements: string[] },
): Promise<number> {
  const { rows } = await sql<{
    version: string;
  }>`UPDATE xrm.schema_state SET version = version + 1 WHERE id = 1 RETURNING version::text`.execute(db);
  const version = Number(rows[0]!.version);
  await sql`INSERT INTO xrm.schema_changes (version, actor, operation, target, before, after, statements)
    VALUES (${version}, ${change.actor}, ${change.operation}, ${change.target},
      ${change.before === undefined ? null : json(change.before)}::jsonb,
      ${change.after === undefined ? null : json(change.after)}::jsonb,
      ${json(change.statements)}::jsonb)`.execute(db);
  await sql`SELECT pg_notify('xrm_schema', ${String(version)})`.execute(db);
  return version;
}

export async function listChanges(
  db: Db,
  options: { limit: number; offset: number; target?: string },
): Promise<{ data: SchemaChange[]; totalCount: number }> {
  // an entity's own entries and its fields' ("entity.field"); starts_with, as LIKE would read "_" as a wildcard
  const where = options.target
    ? sql`WHERE target = ${options.target} OR starts_with(target, ${options.target + '.'})`
    : sql``;
  const { rows } = await sql<{ r: SchemaChange }>`SELECT jsonb_build_object(
      'id', id, 'version', version, 'actor', actor, 'operation', operation, 'target', target,
      'before', before, 'after', after, 'statements', statements, 'createdAt', created_at) AS r
    FROM xrm.schema_changes ${where} ORDER BY id DESC LIMIT ${options.limit} OFFSET ${options.offset}`.execute(db);
  const count = await sql<{ n: string }>`SELECT count(*)::text AS n FROM xrm.schema_changes ${where}`.execute(db);
  return { data: rows.map((r) => r.r), totalCount: Number(count.rows[0]!.n) };
}
