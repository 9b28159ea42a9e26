import { sql, type Kysely } from 'kysely';

/**
 * Identity (issue 8, slice 1): who may present credentials.
 * - `xrm.users`: people who sign in; emails are unique case-insensitively (`lower(email)`), the
 *   password is a self-describing scrypt hash, `credentials_changed_at` invalidates every session
 *   created before it (a password change or a reset).
 * - `xrm.sessions`: one row per sign-in; only the SHA-256 of the bearer token is stored.
 * - `xrm.api_keys`: keys for integrations, owned by a user; only the SHA-256 of the key is stored.
 * Teams and roles come with authorization (a later migration).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE xrm.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    display_name text NOT NULL,
    password_hash text NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    credentials_changed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE UNIQUE INDEX ux__users__email ON xrm.users (lower(email))`.execute(db);

  await sql`CREATE TABLE xrm.sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES xrm.users (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
  )`.execute(db);
  await sql`CREATE INDEX ix__sessions__user ON xrm.sessions (user_id)`.execute(db);

  await sql`CREATE TABLE xrm.api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    user_id uuid REFERENCES xrm.users (id) ON DELETE CASCADE,
    roles jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz
  )`.execute(db);
  await sql`CREATE INDEX ix__api_keys__user ON xrm.api_keys (user_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['api_keys', 'sessions', 'users']) await sql`DROP TABLE ${sql.table(`xrm.${t}`)}`.execute(db);
}
