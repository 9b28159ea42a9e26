/**
 * The DDL planner: from (catalog, requested change) to the ordered statements that make the
 * physical schema match. Pure functions: nothing here touches the database. Identifiers go
 * through `sql.id` (always quoted) and values through `sql.lit` (quotes doubled); DDL takes no
 * bind parameters, and the service asserts none slipped in.
 */
import { sql, type RawBuilder } from 'kysely';
import type { TypeContext } from './field-type.ts';
import { FIELD_TYPES } from './field-types/index.ts';
import { column, constraintNames, physicalName, table } from './physical-names.ts';
import { SYSTEM_FIELDS, type SystemFieldDef } from './system-fields.ts';
import { searchDocument, searchFields } from './search.ts';
import { addressKeySql } from './signal-fields.ts';
import {
  DATA_SCHEMA,
  type AlternateKeyDef,
  type EntityDef,
  type FieldDef,
  type IndexDef,
  type OnDelete,
  type RelationshipDef,
} from './types.ts';

export type Statement = RawBuilder<unknown>;

const ON_DELETE_SQL: Record<OnDelete, string> = { restrict: 'RESTRICT', setNull: 'SET NULL', cascade: 'CASCADE' };

/**
 * The combined CHECK expression of a field, or undefined when it has none. `value` replaces the
 * column (to test the rules against values being converted to the field's new type).
 */
export function checkExpression(
  field: FieldDef,
  ctx: TypeContext,
  value: RawBuilder<unknown> = column(field.name),
): RawBuilder<boolean> | undefined {
  const checks = FIELD_TYPES[field.type].checks?.(field, value, ctx) ?? [];
  if (!checks.length) return undefined;
  return sql<boolean>`${sql.join(
    checks.map((c) => sql`(${c})`),
    sql` AND `,
  )}`;
}

function defaultExpression(entity: string, field: FieldDef): RawBuilder<unknown> | undefined {
  const type = FIELD_TYPES[field.type];
  if (type.generatedDefault) {
    return type.generatedDefault(field, `${DATA_SCHEMA}.${constraintNames.sequence(entity, field.name)}`);
  }
  if (field.default !== undefined && type.defaultSql) return type.defaultSql(field.default, field);
  return undefined;
}

export function createEntityTable(entity: EntityDef, ctx: TypeContext): Statement[] {
  const createdAtIndex = sql.id(physicalName('ix', entity.name, 'created_at'));
  const statements: Statement[] = [
    sql`CREATE TABLE ${table(entity.name)} (
${sql.join(SYSTEM_FIELDS.map(systemColumn), sql`,\n`)},
  CONSTRAINT ${sql.id(constraintNames.primaryKey(entity.name))} PRIMARY KEY ("id")
)`,
    sql`CREATE INDEX ${createdAtIndex} ON ${table(entity.name)} ("created_at", "id")`,
  ];
  for (const field of entity.fields) statements.push(...addField(entity.name, field, ctx));
  if (entity.trackActivities) statements.push(trackingStorage(entity.name, true));
  return statements;
}

/**
 * The table storage of an entity that tracks activities: every activity write rewrites its
 * records' signal columns, none of them indexed, so room left on each page (fillfactor) keeps
 * those updates HOT — no new index entries, no page splits — as tracking asks.
 */
export function trackingStorage(entity: string, tracked: boolean): Statement {
  return tracked
    ? sql`ALTER TABLE ${table(entity)} SET (fillfactor = ${sql.lit(TRACKED_FILLFACTOR)})`
    : sql`ALTER TABLE ${table(entity)} RESET (fillfactor)`;
}

/** The fillfactor of tracked entities' tables (percent of each page filled by inserts). */
export const TRACKED_FILLFACTOR = 80;

/** A system field's column in CREATE TABLE: `  "version" integer NOT NULL DEFAULT 1`. */
function systemColumn(field: SystemFieldDef): Statement {
  const notNull = field.required ? sql` NOT NULL` : sql``;
  const byDefault = field.columnDefault ? sql` DEFAULT ${field.columnDefault}` : sql``;
  return sql`  ${column(field.name)} ${FIELD_TYPES[field.type].columnType(field)}${notNull}${byDefault}`;
}

export function dropEntityTable(entity: EntityDef): Statement[] {
  const statements: Statement[] = [sql`DROP TABLE ${table(entity.name)}`];
  for (const f of entity.fields)
    if (FIELD_TYPES[f.type].capabilities.sequence) statements.push(dropSequence(entity.name, f.name));
  return statements;
}

function dropSequence(entity: string, field: string): Statement {
  return sql`DROP SEQUENCE IF EXISTS ${sql.id(DATA_SCHEMA, constraintNames.sequence(entity, field))}`;
}

export function addField(entity: string, field: FieldDef, ctx: TypeContext): Statement[] {
  const type = FIELD_TYPES[field.type];
  const statements: Statement[] = [];
  if (FIELD_TYPES[field.type].capabilities.sequence) {
    statements.push(sql`CREATE SEQUENCE ${sql.id(DATA_SCHEMA, constraintNames.sequence(entity, field.name))}`);
  }
  const def = defaultExpression(entity, field);
  const byDefault = def ? sql` DEFAULT ${def}` : sql``;
  const notNull = field.required ? sql` NOT NULL` : sql``;
  statements.push(
    sql`ALTER TABLE ${table(entity)} ADD COLUMN ${column(field.name)} ${type.columnType(field)}${byDefault}${notNull}`,
  );
  statements.push(...fieldObjects(entity, field, ctx));
  return statements;
}

/** A plain B-tree index on indexed fields and lookups, unless the unique index already serves. */
function needsIndex(field: FieldDef): boolean {
  return (field.indexed === true || field.type === 'lookup') && !field.unique;
}

/** The columns of the plain index a field keeps (needsIndex): `(value, id)`, a lookup's `(value)`. */
function fieldIndexColumns(field: FieldDef): string[] {
  // (value, id): equality, ranges and keyset pages sorted by the field (id breaks ties) use it
  return field.type === 'lookup' ? [field.name] : [field.name, 'id'];
}

/** The B-tree indexes a field keeps of its own, by columns: its unique one, and its plain one. */
export function fieldIndexes(field: FieldDef): { columns: string[]; unique: boolean }[] {
  const own: { columns: string[]; unique: boolean }[] = [];
  if (field.unique) own.push({ columns: [field.name], unique: true });
  if (needsIndex(field)) own.push({ columns: fieldIndexColumns(field), unique: false });
  return own;
}

/**
 * Every index over the entity's table that holds field values, by physical name, with the fields
 * whose values its entries hold: what a write whose value is too large for an index entry
 * (SQLSTATE 54000) is told about (records/database-errors.ts).
 */
export function indexedFields(entity: EntityDef): { name: string; fields: string[] }[] {
  const out: { name: string; fields: string[] }[] = [];
  for (const field of entity.fields) {
    if (field.unique) out.push({ name: constraintNames.unique(entity.name, field.name), fields: [field.name] });
    if (needsIndex(field)) out.push({ name: constraintNames.index(entity.name, field.name), fields: [field.name] });
  }
  for (const key of entity.alternateKeys ?? [])
    out.push({ name: constraintNames.alternateKey(entity.name, key.name), fields: [...key.fields] });
  for (const index of entity.indexes ?? [])
    out.push({ name: constraintNames.entityIndex(entity.name, index.name), fields: [...index.fields] });
  if (entity.trackActivities)
    for (const field of entity.fields)
      if (addressKeySql(field, column(field.name)))
        out.push({ name: physicalName('ixa', entity.name, field.name), fields: [field.name] });
  const words = searchFields(entity);
  if (words.length) out.push({ name: physicalName('fts', entity.name), fields: words.map((f) => f.name) });
  return out;
}

/** Constraints and indexes that belong to one field (everything but the column itself). */
function fieldObjects(
  entity: string,
  field: FieldDef,
  ctx: TypeContext,
  only?: Set<'check' | 'unique' | 'index' | 'fk'>,
): Statement[] {
  const statements: Statement[] = [];
  const want = (k: 'check' | 'unique' | 'index' | 'fk') => !only || only.has(k);
  const check = checkExpression(field, ctx);
  if (check && want('check')) {
    const name = sql.id(constraintNames.check(entity, field.name));
    statements.push(sql`ALTER TABLE ${table(entity)} ADD CONSTRAINT ${name} CHECK (${check})`);
  }
  if (field.unique && want('unique')) {
    const name = sql.id(constraintNames.unique(entity, field.name));
    statements.push(sql`CREATE UNIQUE INDEX ${name} ON ${table(entity)} (${column(field.name)})`);
  }
  if (needsIndex(field) && want('index')) {
    const columns = sql.join(fieldIndexColumns(field).map(column));
    statements.push(
      sql`CREATE INDEX ${sql.id(constraintNames.index(entity, field.name))} ON ${table(entity)} (${columns})`,
    );
  }
  if (field.type === 'lookup' && want('fk')) statements.push(foreignKey(entity, field));
  return statements;
}

function foreignKey(entity: string, field: FieldDef): Statement {
  const name = sql.id(constraintNames.foreignKey(entity, field.name));
  const onDelete = sql.raw(ON_DELETE_SQL[field.onDelete ?? 'restrict']);
  const references = sql`REFERENCES ${table(field.target!)} ("id") ON DELETE ${onDelete}`;
  return sql`ALTER TABLE ${table(entity)} ADD CONSTRAINT ${name} FOREIGN KEY (${column(field.name)}) ${references}`;
}

export function dropField(entity: string, field: FieldDef): Statement[] {
  const statements: Statement[] = [sql`ALTER TABLE ${table(entity)} DROP COLUMN ${column(field.name)}`];
  if (FIELD_TYPES[field.type].capabilities.sequence) statements.push(dropSequence(entity, field.name));
  return statements;
}

/** The SQL text of a fragment, for comparing two definitions' derived DDL. */
export type Render = (fragment: RawBuilder<unknown> | undefined) => string;

/**
 * Statements turning `before` into `after` (same name). The caller has already decided the change
 * is allowed and that existing rows satisfy it; here each aspect that differs is altered.
 */
export function alterField(
  entity: string,
  before: FieldDef,
  after: FieldDef,
  ctx: { before: TypeContext; after: TypeContext },
  render: Render,
  keys: readonly AlternateKeyDef[] = [],
): Statement[] {
  const t = table(entity);
  const col = column(after.name);
  const statements: Statement[] = [];
  const typeBefore = render(FIELD_TYPES[before.type].columnType(before));
  const typeAfter = render(FIELD_TYPES[after.type].columnType(after));
  const checkBefore = render(checkExpression(before, ctx.before));
  const checkAfter = render(checkExpression(after, ctx.after));
  const defaultBefore = render(defaultExpression(entity, before));
  const defaultAfter = render(defaultExpression(entity, after));
  const typeChanged = typeBefore !== typeAfter;

  if (checkBefore && (checkBefore !== checkAfter || typeChanged)) {
    statements.push(sql`ALTER TABLE ${t} DROP CONSTRAINT ${sql.id(constraintNames.check(entity, before.name))}`);
  }
  if (defaultBefore && (defaultBefore !== defaultAfter || typeChanged)) {
    statements.push(sql`ALTER TABLE ${t} ALTER COLUMN ${col} DROP DEFAULT`);
  }
  if (typeChanged) {
    const conversion = FIELD_TYPES[before.type].conversions?.[after.type];
    const using = conversion?.using?.(col, before, after) ?? col;
    statements.push(
      sql`ALTER TABLE ${t} ALTER COLUMN ${col} TYPE ${FIELD_TYPES[after.type].columnType(after)} USING ${using}`,
    );
  }
  if (defaultAfter && (defaultBefore !== defaultAfter || typeChanged)) {
    statements.push(sql`ALTER TABLE ${t} ALTER COLUMN ${col} SET DEFAULT ${defaultExpression(entity, after)!}`);
  }
  if (checkAfter && (checkBefore !== checkAfter || typeChanged)) {
    statements.push(...fieldObjects(entity, after, ctx.after, new Set(['check'])));
  }
  if (before.required !== after.required) {
    statements.push(
      sql`ALTER TABLE ${t} ALTER COLUMN ${col} ${after.required ? sql`SET NOT NULL` : sql`DROP NOT NULL`}`,
    );
  }
  if (before.unique !== after.unique) {
    // a single-field alternate key on the field keeps (or hands over) the one unique index
    const keyed = (field: FieldDef): Keyed => ({ name: entity, fields: [field], alternateKeys: keys });
    statements.push(...uniqueIndexChange(keyed(before), keyed(after), [after.name]));
  }
  const indexed = needsIndex;
  if (indexed(before) !== indexed(after)) {
    statements.push(
      indexed(after)
        ? fieldObjects(entity, after, ctx.after, new Set(['index']))[0]!
        : sql`DROP INDEX ${sql.id(DATA_SCHEMA, constraintNames.index(entity, after.name))}`,
    );
  }
  if (before.type === 'lookup' && after.type === 'lookup' && before.onDelete !== after.onDelete) {
    statements.push(sql`ALTER TABLE ${t} DROP CONSTRAINT ${sql.id(constraintNames.foreignKey(entity, after.name))}`);
    statements.push(foreignKey(entity, after));
  }
  return statements;
}

/** Statements re-creating the CHECK of every field that uses a choice set whose options changed. */
export function recheckFields(users: readonly { entity: EntityDef; field: FieldDef }[], ctx: TypeContext): Statement[] {
  const statements: Statement[] = [];
  for (const { entity, field } of users) {
    statements.push(
      sql`ALTER TABLE ${table(entity.name)} DROP CONSTRAINT ${sql.id(constraintNames.check(entity.name, field.name))}`,
    );
    statements.push(...fieldObjects(entity.name, field, ctx, new Set(['check'])));
  }
  return statements;
}

export function createJunctionTable(rel: RelationshipDef): Statement[] {
  return [
    sql`CREATE TABLE ${table(rel.name)} (
  "from_id" uuid NOT NULL REFERENCES ${table(rel.from)} ("id") ON DELETE CASCADE,
  "to_id" uuid NOT NULL REFERENCES ${table(rel.to)} ("id") ON DELETE CASCADE,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ${sql.id(constraintNames.primaryKey(rel.name))} PRIMARY KEY ("from_id", "to_id")
)`,
    sql`CREATE INDEX ${sql.id(physicalName('ix', rel.name, 'to_id'))} ON ${table(rel.name)} ("to_id")`,
  ];
}

export function dropJunctionTable(rel: RelationshipDef): Statement[] {
  return [sql`DROP TABLE ${table(rel.name)}`];
}

/**
 * The entity's full-text index: a GIN index over the same to_tsvector expression search queries
 * use, re-created whenever the set of searchable text fields changes.
 *
 * `fastupdate = off`: each write puts its words in the index at once. With PostgreSQL's default,
 * writes append to a pending list that every search scans in full, and the write that finds it
 * past `gin_pending_list_limit` (4 MB) merges it into the index while its request waits: under a
 * steady stream of creates, one create in every ~50,000 took 215–349 ms (docs/benchmarks.md,
 * "R4's tail: the full-text index's pending list"); creates a second did not change.
 */
export function searchIndex(
  entity: string,
  before: EntityDef | undefined,
  after: EntityDef | undefined,
  render: Render,
): Statement[] {
  const was = before && searchDocument(before);
  const now = after && searchDocument(after);
  if (render(was) === render(now)) return [];
  const statements: Statement[] = [];
  if (was) statements.push(sql`DROP INDEX IF EXISTS ${sql.id(DATA_SCHEMA, physicalName('fts', entity))}`);
  const name = sql.id(physicalName('fts', entity));
  if (now) statements.push(sql`CREATE INDEX ${name} ON ${table(entity)} USING gin (${now}) WITH (fastupdate = off)`);
  return statements;
}

/** The address indexes an entity has: by index name, its expression (tracked entities' email and phone fields). */
function addressIndexesOf(entity: EntityDef | undefined): Map<string, RawBuilder<unknown>> {
  const out = new Map<string, RawBuilder<unknown>>();
  if (!entity?.trackActivities) return out;
  for (const field of entity.fields) {
    const key = addressKeySql(field, column(field.name));
    if (key) out.set(physicalName('ixa', entity.name, field.name), key);
  }
  return out;
}

/**
 * The expression indexes that resolve activity party addresses to a tracked entity's records
 * (`lower(email)`, a phone's digits: signal-fields.ts addressKey), made and dropped as tracking,
 * fields and their types change. Their columns are never signals, so signal updates stay HOT.
 */
export function addressIndexes(
  entity: string,
  before: EntityDef | undefined,
  after: EntityDef | undefined,
  render: Render,
): Statement[] {
  const was = addressIndexesOf(before);
  const now = addressIndexesOf(after);
  const statements: Statement[] = [];
  for (const [name, key] of was)
    if (!now.has(name) || render(now.get(name)) !== render(key))
      statements.push(sql`DROP INDEX IF EXISTS ${sql.id(DATA_SCHEMA, name)}`);
  for (const [name, key] of now)
    if (!was.has(name) || render(was.get(name)) !== render(key))
      statements.push(sql`CREATE INDEX ${sql.id(name)} ON ${table(entity)} (${key})`);
  return statements;
}

type Keyed = Pick<EntityDef, 'name' | 'fields' | 'alternateKeys'>;

/**
 * The name of THE unique index over exactly `columns` (in any order), or undefined when none is
 * due: a unique field's own for its column, else the first alternate key's over the same fields. A
 * single-field key on a unique field, or a second key over the same fields, shares that index.
 */
function uniqueIndexName(entity: Keyed, columns: readonly string[]): string | undefined {
  if (columns.length === 1 && entity.fields.some((f) => f.name === columns[0] && f.unique)) {
    return constraintNames.unique(entity.name, columns[0]!);
  }
  const key = entity.alternateKeys?.find(
    (k) => k.fields.length === columns.length && k.fields.every((f) => columns.includes(f)),
  );
  return key && constraintNames.alternateKey(entity.name, key.name);
}

/** Creates, drops or renames the unique index over `columns` as its owner changes: never a second one. */
function uniqueIndexChange(before: Keyed, after: Keyed, columns: readonly string[]): Statement[] {
  const from = uniqueIndexName(before, columns);
  const to = uniqueIndexName(after, columns);
  if (from === to) return [];
  if (!from)
    return [sql`CREATE UNIQUE INDEX ${sql.id(to!)} ON ${table(after.name)} (${sql.join(columns.map(column))})`];
  if (!to) return [sql`DROP INDEX ${sql.id(DATA_SCHEMA, from)}`];
  // IF EXISTS: a duplicate index of that name made before keys shared indexes
  return [
    sql`DROP INDEX IF EXISTS ${sql.id(DATA_SCHEMA, to)}`,
    sql`ALTER INDEX ${sql.id(DATA_SCHEMA, from)} RENAME TO ${sql.id(to)}`,
  ];
}

export function createAlternateKey(entity: EntityDef, key: AlternateKeyDef): Statement[] {
  return uniqueIndexChange(entity, { ...entity, alternateKeys: [...(entity.alternateKeys ?? []), key] }, key.fields);
}

export function dropAlternateKey(entity: EntityDef, key: AlternateKeyDef): Statement[] {
  const after = { ...entity, alternateKeys: entity.alternateKeys?.filter((k) => k.name !== key.name) };
  const own = constraintNames.alternateKey(entity.name, key.name);
  const statements = uniqueIndexChange(entity, after, key.fields);
  // a key sharing another's index: drop the duplicate an older version may have made for it
  if (uniqueIndexName(entity, key.fields) !== own)
    statements.push(sql`DROP INDEX IF EXISTS ${sql.id(DATA_SCHEMA, own)}`);
  return statements;
}

/**
 * The columns of a declared index: its fields in order, then `id` unless it is unique or has it.
 * List reads always sort by `id` last (in the direction of the last key), so a keyset page sorted
 * by the fields is read from the index alone, forwards or backwards.
 */
export function entityIndexColumns(index: Pick<IndexDef, 'fields' | 'unique'>): string[] {
  return index.unique || index.fields.includes('id') ? [...index.fields] : [...index.fields, 'id'];
}

/**
 * CREATE INDEX of a declared index; `concurrently` (outside any transaction, by the index job):
 * CONCURRENTLY IF NOT EXISTS, so writes go on while a large table is read.
 */
export function createEntityIndex(entity: string, index: IndexDef, concurrently = false): Statement {
  const unique = index.unique ? sql`UNIQUE ` : sql``;
  const how = concurrently ? sql`CONCURRENTLY IF NOT EXISTS ` : sql``;
  const name = sql.id(constraintNames.entityIndex(entity, index.name));
  const columns = sql.join(entityIndexColumns(index).map(column));
  return sql`CREATE ${unique}INDEX ${how}${name} ON ${table(entity)} (${columns})`;
}

/** DROP INDEX of a declared index (IF EXISTS: a failed build left none). */
export function dropEntityIndex(entity: string, index: Pick<IndexDef, 'name'>, concurrently = false): Statement {
  const how = concurrently ? sql`CONCURRENTLY ` : sql``;
  return sql`DROP INDEX ${how}IF EXISTS ${sql.id(DATA_SCHEMA, constraintNames.entityIndex(entity, index.name))}`;
}
