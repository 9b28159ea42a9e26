import { sql, type Kysely } from 'kysely';
import { Catalog } from '../metadata/catalog.ts';
import type { Db } from '../metadata/database.ts';
import * as ddl from '../metadata/ddl.ts';
import { normalizeEntity } from '../metadata/definitions.ts';
import * as store from '../metadata/store.ts';
import type { EntityDef } from '../metadata/types.ts';

/** The activity entity as the platform creates it (its fields are `builtIn`: labels may change, nothing else). */
export const ACTIVITY_DEFINITION = {
  name: 'activity',
  pluralName: 'activities',
  displayName: 'Activity',
  pluralDisplayName: 'Activities',
  description:
    'An interaction (email, call, meeting) or a note or task, regarding a record and involving parties; ' +
    'activities count toward the relationship signals of the records they concern',
  primaryField: 'subject',
  fields: [
    { name: 'subject', type: 'text', displayName: 'Subject', maxLength: 998, searchable: true },
    {
      name: 'kind',
      type: 'choice',
      displayName: 'Kind',
      required: true,
      options: [
        { value: 'email', label: 'Email' },
        { value: 'call', label: 'Call' },
        { value: 'meeting', label: 'Meeting' },
        { value: 'note', label: 'Note' },
        { value: 'task', label: 'Task' },
      ],
    },
    {
      name: 'direction',
      type: 'choice',
      displayName: 'Direction',
      required: true,
      default: 'internal',
      options: [
        { value: 'inbound', label: 'Inbound' },
        { value: 'outbound', label: 'Outbound' },
        { value: 'internal', label: 'Internal' },
      ],
    },
    { name: 'occurred_at', type: 'datetime', displayName: 'Occurred at', required: true },
    { name: 'duration_minutes', type: 'integer', displayName: 'Duration (minutes)', min: 0 },
    { name: 'body', type: 'longText', displayName: 'Body' },
    { name: 'due_at', type: 'datetime', displayName: 'Due at' },
    { name: 'completed_at', type: 'datetime', displayName: 'Completed at' },
    {
      name: 'in_reply_to',
      type: 'lookup',
      displayName: 'In reply to',
      target: 'activity',
      onDelete: 'setNull',
      inverseName: 'replies',
    },
    {
      name: 'message_id',
      type: 'text',
      displayName: 'Message id',
      description: "The source's id (an email's Message-ID, a calendar UID): ingestion is idempotent by it",
      maxLength: 998,
      unique: true,
    },
    {
      name: 'regarding',
      type: 'reference',
      displayName: 'Regarding',
      description: 'The record the activity is about: { entity, id } of an entity that tracks activities',
    },
    {
      name: 'parties',
      type: 'partyList',
      displayName: 'Parties',
      description: 'Who took part: [{ role, address, entity?, id? }]; addresses resolve to tracked records',
      default: [],
    },
  ],
};

/**
 * The relationship layer (issue 10):
 * - the built-in `activity` entity, created through the metadata layer's own DDL and rows, so it is
 *   an entity like any other (listed, extensible, in the ledger) that cannot be deleted;
 * - `xrm.activity_links`: one row per (tracked record, activity) that concerns it, as regarding or
 *   as a party, with the activity's time: the timeline's index and the signals' input;
 * - `xrm.tracked_entities`: the entities whose links are kept (what tracking last switched on);
 * - `xrm.jobs.progress`: how far a long job (an import) got.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const trx = db as unknown as Db;
  const catalog = await store.loadCatalog(trx);
  if (catalog.entities.has('activity') || [...catalog.entities.values()].some((e) => e.pluralName === 'activities')) {
    throw new Error(
      'an entity named "activity" (or "activities") exists; the relationship layer needs that name for its ' +
        "built-in activity entity: move that entity's data to another entity and delete it, then start again",
    );
  }
  const normalized = normalizeEntity(ACTIVITY_DEFINITION, catalog);
  const activity: EntityDef = Object.freeze({
    ...normalized,
    builtIn: true,
    fields: normalized.fields.map((f) => Object.freeze({ ...f, builtIn: true })),
    alternateKeys: [{ name: 'message_id', displayName: 'Message id', fields: ['message_id'] }],
  });
  const next = new Catalog({ ...catalog.toJSON(), entities: [...catalog.toJSON().entities, activity] });
  const render = (f: Parameters<ddl.Render>[0]) => (f ? f.compile(trx).sql : '');
  const statements = [
    ...ddl.createEntityTable(activity, next),
    ...ddl.searchIndex('activity', undefined, activity, render),
    ...ddl.createAlternateKey({ ...activity, alternateKeys: [] }, activity.alternateKeys![0]!),
  ];
  for (const statement of statements) await trx.executeQuery(statement.compile(trx));
  await store.insertEntity(trx, activity);
  await store.recordChange(trx, {
    actor: 'system',
    operation: 'entity.create',
    target: 'activity',
    before: undefined,
    after: activity,
    statements: statements.map((s) => s.compile(trx).sql),
  });

  await sql`CREATE TABLE xrm.activity_links (
    entity text NOT NULL,
    record_id uuid NOT NULL,
    activity_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    role text NOT NULL,
    PRIMARY KEY (entity, record_id, activity_id)
  )`.execute(db);
  await sql`CREATE INDEX activity_links_timeline
    ON xrm.activity_links (entity, record_id, occurred_at DESC, activity_id DESC)`.execute(db);
  await sql`CREATE INDEX activity_links_activity ON xrm.activity_links (activity_id)`.execute(db);
  await sql`CREATE TABLE xrm.tracked_entities (entity text PRIMARY KEY)`.execute(db);
  await sql`ALTER TABLE xrm.jobs ADD COLUMN progress jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE xrm.jobs DROP COLUMN progress`.execute(db);
  await sql`DROP TABLE xrm.tracked_entities`.execute(db);
  await sql`DROP TABLE xrm.activity_links`.execute(db);
  await sql`DROP TABLE data.activity`.execute(db);
  await sql`DELETE FROM xrm.fields WHERE entity = 'activity'`.execute(db);
  await sql`DELETE FROM xrm.entities WHERE name = 'activity'`.execute(db);
}
