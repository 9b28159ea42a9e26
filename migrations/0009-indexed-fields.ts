import { sql, type Kysely } from 'kysely';
import type { Db } from '../metadata/database.ts';
import * as ddl from '../metadata/ddl.ts';
import { constraintNames, physicalName } from '../metadata/physical-names.ts';
import { DATA_SCHEMA } from '../metadata/types.ts';
import * as store from '../metadata/store.ts';

/**
 * `searchable` means full text and `indexed` a B-tree (issue 13); before, `searchable` meant both.
 * - every searchable field keeps its `(value, id)` B-tree as `indexed: true`, except a long text's:
 *   its values can outgrow a B-tree entry (≈ 2.7 kB), so that index goes;
 * - types without full text stop being searchable (choice among them now), and an entity whose
 *   full-text index covered a choice gets it rebuilt without.
 * The type names are written out: what these types were when the migration was written.
 */
const FULL_TEXT = ['text', 'longText', 'email', 'phone', 'url', 'autonumber'];

interface FieldRow {
  entity: string;
  name: string;
  definition: { type: string; searchable?: boolean; indexed?: boolean };
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const trx = db as unknown as Db;
  const { rows } = await sql<FieldRow>`SELECT entity, name, definition FROM xrm.fields
    WHERE definition->>'searchable' = 'true'`.execute(trx);
  const rebuild = new Set<string>();
  for (const { entity, name, definition } of rows) {
    const { type } = definition;
    const next = { ...definition, indexed: type !== 'longText' || definition.indexed === true };
    if (type === 'longText')
      await sql`DROP INDEX IF EXISTS ${sql.id(DATA_SCHEMA, constraintNames.index(entity, name))}`.execute(trx);
    if (!FULL_TEXT.includes(type)) {
      next.searchable = false;
      if (type === 'choice') rebuild.add(entity);
    }
    await sql`UPDATE xrm.fields SET definition = ${JSON.stringify(next)}::jsonb
      WHERE entity = ${entity} AND name = ${name}`.execute(trx);
  }
  if (!rebuild.size) return;
  const catalog = await store.loadCatalog(trx);
  const render: ddl.Render = (f) => (f ? f.compile(trx).sql : '');
  for (const entity of rebuild) {
    await sql`DROP INDEX IF EXISTS ${sql.id(DATA_SCHEMA, physicalName('fts', entity))}`.execute(trx);
    for (const statement of ddl.searchIndex(entity, undefined, catalog.entity(entity), render))
      await statement.execute(trx);
  }
}

/** Back to one flag: an indexed field of a type without full text is searchable again (its index stays). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE xrm.fields SET definition = (definition - 'indexed')
      || CASE WHEN definition->>'indexed' = 'true' THEN '{"searchable": true}'::jsonb ELSE '{}'::jsonb END
    WHERE definition ? 'indexed'`.execute(db);
}
