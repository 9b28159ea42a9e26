import { sql, type Kysely } from 'kysely';
import { DATA_SCHEMA } from '../metadata/types.ts';

/**
 * Full-text indexes write their words at once (`fastupdate = off`), as metadata/ddl.ts now makes
 * them: with PostgreSQL's pending list, the create that found it full merged it while its request
 * waited (215–360 ms), and every search scanned it. Each existing GIN index of the data schema
 * (only the entities' full-text indexes are GIN) is switched, and its pending list merged now,
 * once, rather than by the next unlucky create.
 */
async function fullTextIndexes(db: Kysely<unknown>): Promise<{ oid: number; name: string }[]> {
  const { rows } = await sql<{ oid: number; name: string }>`SELECT c.oid::int AS oid, c.relname::text AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
    WHERE n.nspname = ${DATA_SCHEMA} AND c.relkind = 'i' AND a.amname = 'gin' ORDER BY c.relname`.execute(db);
  return rows;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const { oid, name } of await fullTextIndexes(db)) {
    await sql`ALTER INDEX ${sql.id(DATA_SCHEMA, name)} SET (fastupdate = off)`.execute(db);
    await sql`SELECT gin_clean_pending_list(${oid}::oid::regclass)`.execute(db);
  }
}

/** PostgreSQL's default again: writes go through the pending list. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const { name } of await fullTextIndexes(db))
    await sql`ALTER INDEX ${sql.id(DATA_SCHEMA, name)} RESET (fastupdate)`.execute(db);
}
