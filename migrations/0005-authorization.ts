import { sql, type Kysely } from 'kysely';

/** The built-in role every privilege is granted to; it cannot be changed or deleted. */
export const SYSTEM_ADMINISTRATOR = 'system_administrator';

/**
 * Authorization (issue 8, slice 2): who may do what.
 * - `xrm.roles`: security roles; `definition` holds the privileges per entity (levels none, own,
 *   team, all), row rules, field permissions and the metadata/users/plugins switches. The
 *   built-in System Administrator role is created here and can never be changed or deleted.
 * - `xrm.teams`, `xrm.team_members`: users grouped; a record may be owned by a team.
 * - `xrm.user_roles`, `xrm.team_roles`: roles held directly or through a team (the union applies).
 * - `xrm.users.attributes`: what row rules read as `$user.<attribute>` (region, cost centre…).
 * - `xrm.api_keys.roles`: role ids a key is restricted to; NULL acts with its user's roles.
 * - `xrm.shares`: access to one record granted to a user or a team (Dataverse's sharing).
 * - `xrm.access_denied(text)`: raises SQLSTATE XR403 so a write statement whose post-image breaks a
 *   rule is refused by the statement itself (nothing written, no second round trip).
 * Users who existed before this migration become System Administrators (an upgrade locks nobody out).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE xrm.users ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'`.execute(db);
  await sql`ALTER TABLE xrm.api_keys ALTER COLUMN roles DROP NOT NULL, ALTER COLUMN roles SET DEFAULT NULL`.execute(db);
  await sql`UPDATE xrm.api_keys SET roles = NULL WHERE roles = '[]'::jsonb`.execute(db);

  await sql`CREATE TABLE xrm.roles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE,
    description text,
    built_in boolean NOT NULL DEFAULT false,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`INSERT INTO xrm.roles (name, description, built_in, definition)
    VALUES (${SYSTEM_ADMINISTRATOR}, 'Every privilege on every entity, field and API', true,
      '{"privileges":[],"rowRules":[],"fieldPermissions":[],"metadata":true,"users":true,"plugins":true}')`.execute(db);

  await sql`CREATE TABLE xrm.teams (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE TABLE xrm.team_members (
    team_id uuid NOT NULL REFERENCES xrm.teams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES xrm.users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
  )`.execute(db);
  await sql`CREATE INDEX ix__team_members__user ON xrm.team_members (user_id)`.execute(db);
  await sql`CREATE TABLE xrm.user_roles (
    user_id uuid NOT NULL REFERENCES xrm.users (id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES xrm.roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
  )`.execute(db);
  await sql`CREATE TABLE xrm.team_roles (
    team_id uuid NOT NULL REFERENCES xrm.teams (id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES xrm.roles (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, role_id)
  )`.execute(db);
  await sql`INSERT INTO xrm.user_roles (user_id, role_id)
    SELECT u.id, r.id FROM xrm.users u CROSS JOIN xrm.roles r WHERE r.name = ${SYSTEM_ADMINISTRATOR}`.execute(db);

  await sql`CREATE TABLE xrm.shares (
    entity text NOT NULL,
    record_id uuid NOT NULL,
    principal_id uuid NOT NULL,
    principal_kind text NOT NULL CHECK (principal_kind IN ('user', 'team')),
    rights text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    PRIMARY KEY (entity, record_id, principal_id)
  )`.execute(db);
  await sql`CREATE INDEX ix__shares__principal ON xrm.shares (principal_id, entity)`.execute(db);

  await sql`CREATE FUNCTION xrm.access_denied(message text) RETURNS boolean LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '%', message USING ERRCODE = 'XR403';
    END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION xrm.access_denied(text)`.execute(db);
  for (const t of ['shares', 'team_roles', 'user_roles', 'team_members', 'teams', 'roles'])
    await sql`DROP TABLE ${sql.table(`xrm.${t}`)}`.execute(db);
  await sql`UPDATE xrm.api_keys SET roles = '[]'::jsonb WHERE roles IS NULL`.execute(db);
  await sql`ALTER TABLE xrm.api_keys ALTER COLUMN roles SET DEFAULT '[]', ALTER COLUMN roles SET NOT NULL`.execute(db);
  await sql`ALTER TABLE xrm.users DROP COLUMN attributes`.execute(db);
}
