import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * Renames the platform's own objects in schema `data` from the 0.1 naming (`ix_deal_stage`: parts
 * joined by one underscore, so entity `ix_deal_stage` or entity `deal_stage` + field `x` could
 * collide with them) to the naming of metadata/physical-names.ts `physicalName` (`ix__deal__stage`),
 * and gives primary keys explicit names (`pk__deal`; PostgreSQL's default `deal_pkey` could be an
 * entity's name). Both namings are frozen here, as a migration must be.
 */

function named(separator: string, kind: string, parts: string[]): string {
  const full = [kind, ...parts].join(separator);
  if (Buffer.byteLength(full) <= 63) return full;
  const hash = createHash('sha1').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, 63 - 9)}_${hash}`;
}

const legacy = (kind: string, ...parts: string[]) => named('_', kind, parts);
const current = (kind: string, ...parts: string[]) => named('__', kind, parts);

interface Row {
  name: string;
  definition: { alternateKeys?: { name: string }[]; type?: string };
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const entities = (await sql<Row>`SELECT name, definition FROM xrm.entities`.execute(db)).rows;
  const fields = (await sql<Row & { entity: string }>`SELECT entity, name, definition FROM xrm.fields`.execute(db))
    .rows;
  const relationships = (await sql<Row>`SELECT name, definition FROM xrm.relationships`.execute(db)).rows;

  const renameIndex = (from: string, to: string) =>
    sql`ALTER INDEX IF EXISTS ${sql.id('data', from)} RENAME TO ${sql.id(to)}`.execute(db);
  const renameSequence = (from: string, to: string) =>
    sql`ALTER SEQUENCE IF EXISTS ${sql.id('data', from)} RENAME TO ${sql.id(to)}`.execute(db);
  const renameConstraint = async (table: string, from: string | undefined, to: string) => {
    const found = await sql<{ conname: string }>`
      SELECT conname FROM pg_constraint
      WHERE conrelid = to_regclass(${`data.${JSON.stringify(table)}`}) AND conname = ${from ?? ''}`.execute(db);
    if (found.rows.length)
      await sql`ALTER TABLE ${sql.id('data', table)} RENAME CONSTRAINT ${sql.id(from!)} TO ${sql.id(to)}`.execute(db);
  };
  const renamePrimaryKey = async (table: string) => {
    const regclass = `data.${JSON.stringify(table)}`;
    const found = await sql<{ conname: string }>`
      SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(${regclass}) AND contype = 'p'`.execute(db);
    const name = found.rows[0]?.conname;
    if (name && name !== current('pk', table)) await renameConstraint(table, name, current('pk', table));
  };

  for (const { name, definition } of entities) {
    await renamePrimaryKey(name);
    await renameIndex(legacy('ix', name, 'created_at'), current('ix', name, 'created_at'));
    await renameIndex(legacy('fts', name), current('fts', name));
    for (const key of definition.alternateKeys ?? [])
      await renameIndex(legacy('ak', name, key.name), current('ak', name, key.name));
  }
  for (const { entity, name } of fields) {
    await renameIndex(legacy('uq', entity, name), current('uq', entity, name));
    await renameIndex(legacy('ix', entity, name), current('ix', entity, name));
    await renameSequence(legacy('seq', entity, name), current('seq', entity, name));
    await renameConstraint(entity, legacy('chk', entity, name), current('chk', entity, name));
    await renameConstraint(entity, legacy('fk', entity, name), current('fk', entity, name));
  }
  for (const { name } of relationships) {
    await renamePrimaryKey(name);
    await renameIndex(legacy('ix', name, 'to_id'), current('ix', name, 'to_id'));
  }
}

export async function down(): Promise<void> {
  throw new Error('0002-physical-names cannot be undone: the 0.1 names could collide');
}
