import { sql, type Kysely } from 'kysely';
import type { Db } from '../metadata/database.ts';
import * as ddl from '../metadata/ddl.ts';
import { table } from '../metadata/physical-names.ts';
import * as store from '../metadata/store.ts';
import type { EntityDef } from '../metadata/types.ts';

/**
 * The relationship layer, faster upkeep (issue 10):
 * - `xrm.activity_links` carries the facts of its activity the signals read (`kind`, `direction`,
 *   `people`: how many parties, `in_reply_to`), written from the stored activity with each link, so
 *   the signals' statement walks one index per record instead of joining every activity; the
 *   timeline index includes them (index-only scans);
 * - tracked entities' tables leave room on each page (fillfactor 80): the signal UPDATE every
 *   activity write makes stays HOT;
 * - their email and phone fields get the expression indexes party addresses are resolved by
 *   (ddl.ts addressIndexes), instead of a scan of every tracked table per activity write.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE xrm.activity_links
    ADD COLUMN kind text, ADD COLUMN direction text, ADD COLUMN people integer NOT NULL DEFAULT 0,
    ADD COLUMN in_reply_to uuid`.execute(db);
  await sql`UPDATE xrm.activity_links l SET kind = a.kind, direction = a.direction,
      people = COALESCE(jsonb_array_length(a.parties), 0), in_reply_to = a.in_reply_to
    FROM data.activity a WHERE a.id = l.activity_id`.execute(db);
  await sql`DROP INDEX xrm.activity_links_timeline`.execute(db);
  await sql`CREATE INDEX activity_links_timeline
    ON xrm.activity_links (entity, record_id, occurred_at DESC, activity_id DESC)
    INCLUDE (kind, direction, people, in_reply_to)`.execute(db);
  await eachTracked(db, async (entity, def, render) => {
    await sql`ALTER TABLE ${table(entity)} SET (fillfactor = 80)`.execute(db);
    if (def) for (const statement of ddl.addressIndexes(entity, undefined, def, render)) await statement.execute(db);
  });
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await eachTracked(db, async (entity, def, render) => {
    await sql`ALTER TABLE ${table(entity)} RESET (fillfactor)`.execute(db);
    if (def) for (const statement of ddl.addressIndexes(entity, def, undefined, render)) await statement.execute(db);
  });
  await sql`DROP INDEX xrm.activity_links_timeline`.execute(db);
  await sql`CREATE INDEX activity_links_timeline
    ON xrm.activity_links (entity, record_id, occurred_at DESC, activity_id DESC)`.execute(db);
  await sql`ALTER TABLE xrm.activity_links
    DROP COLUMN kind, DROP COLUMN direction, DROP COLUMN people, DROP COLUMN in_reply_to`.execute(db);
}

/** Runs `step` for every tracked entity whose table exists, with its definition (if any). */
async function eachTracked(
  db: Kysely<unknown>,
  step: (entity: string, def: EntityDef | undefined, render: ddl.Render) => Promise<void>,
): Promise<void> {
  const trx = db as unknown as Db;
  const { rows } = await sql<{ entity: string }>`SELECT t.entity FROM xrm.tracked_entities t
    WHERE to_regclass('data.' || quote_ident(t.entity)) IS NOT NULL`.execute(trx);
  const catalog = await store.loadCatalog(trx);
  const render: ddl.Render = (f) => (f ? f.compile(trx).sql : '');
  for (const { entity } of rows) await step(entity, catalog.entity(entity), render);
}
