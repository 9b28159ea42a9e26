import { sql, type Kysely } from 'kysely';

/**
 * The platform's own tables, in schema `xrm`. Entity tables live in schema `data` and are
 * created at runtime from metadata; their DDL is recorded in `xrm.schema_changes`, not here.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS data`.execute(db);

  await sql`CREATE TABLE xrm.schema_state (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
  )`.execute(db);
  await sql`INSERT INTO xrm.schema_state (id, version) VALUES (1, 0)`.execute(db);

  await sql`CREATE TABLE xrm.entities (
    name text PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  await sql`CREATE TABLE xrm.fields (
    entity text NOT NULL REFERENCES xrm.entities (name) ON DELETE CASCADE,
    name text NOT NULL,
    position integer NOT NULL,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entity, name)
  )`.execute(db);

  await sql`CREATE TABLE xrm.relationships (
    name text PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  await sql`CREATE TABLE xrm.choice_sets (
    name text PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  await sql`CREATE TABLE xrm.schema_changes (
    id bigserial PRIMARY KEY,
    version bigint NOT NULL,
    actor text NOT NULL,
    operation text NOT NULL,
    target text NOT NULL,
    before jsonb,
    after jsonb,
    statements jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  // prefix || zero-padded sequence value, never truncated when the number outgrows the padding
  await sql`CREATE FUNCTION xrm.autonumber(prefix text, seq regclass, digits integer) RETURNS text
    LANGUAGE sql VOLATILE AS $$
      SELECT prefix || lpad(n::text, greatest(digits, length(n::text)), '0') FROM (SELECT nextval(seq) AS n) s
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION xrm.autonumber(text, regclass, integer)`.execute(db);
  for (const t of ['schema_changes', 'choice_sets', 'relationships', 'fields', 'entities', 'schema_state']) {
    await sql`DROP TABLE ${sql.table(`xrm.${t}`)}`.execute(db);
  }
}
