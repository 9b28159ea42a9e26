import { sql, type Kysely } from 'kysely';
import { DATA_SCHEMA } from '../metadata/types.ts';

/** The data schema's GIN indexes (the entities' full-text indexes are its only ones). */
const FULL_TEXT_INDEXES = sql`FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
  WHERE n.nspname = ${DATA_SCHEMA} AND c.relkind = 'i' AND a.amname = 'gin'`;

async function fullTextIndexes(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT c.relname::text AS name ${FULL_TEXT_INDEXES}`.execute(db);
  return rows.map((r) => r.name);
}

/**
 * Full-text indexes write their words at once (`fastupdate = off`), as metadata/ddl.ts now makes
 * them: with PostgreSQL's pending list, the create that found it full merged it while its request
 * waited (215–349 ms), and every search scanned it. Each existing one is switched, and its pending
 * list merged now, once, rather than by the next unlucky create.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const name of await fullTextIndexes(db))
    await sql`ALTER INDEX ${sql.id(DATA_SCHEMA, name)} SET (fastupdate = off)`.execute(db);
  await sql`SELECT gin_clean_pending_list(c.oid::regclass) ${FULL_TEXT_INDEXES}`.execute(db);
}

/** PostgreSQL's default again: writes go through the pending list. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of await fullTextIndexes(db))
    await sql`ALTER INDEX ${sql.id(DATA_SCHEMA, name)} RESET (fastupdate)`.execute(db);
}
