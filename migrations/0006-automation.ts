import { sql, type Kysely } from 'kysely';

/**
 * Automation rules (issue 9):
 * - `xrm.automation_rules`: the definitions (they join the catalog; changes are in the ledger),
 *   their status (`active | disabled | invalid`, set by the platform when a schema change breaks
 *   one), and `scheduled_through`: the last schedule tick claimed, so one instance runs a tick once.
 * - `xrm.automation_runs`: one row per run (trigger, record, outcome, duration, error, what it did).
 * - `xrm.automation_state`: the records a schedule rule has acted on in their current condition
 *   episode; a record leaves when it stops matching, and acts again when it matches again.
 * - `xrm.suggestions`: actions proposed to a record's owner, run when they approve.
 * - `xrm.notifications`: in-app notifications to users.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE xrm.automation_rules (
    id uuid PRIMARY KEY,
    definition jsonb NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'invalid')),
    status_reason text,
    scheduled_through timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);

  await sql`CREATE TABLE xrm.automation_runs (
    id bigserial PRIMARY KEY,
    rule_id uuid NOT NULL,
    rule_version integer NOT NULL,
    trigger text NOT NULL,
    entity text,
    record_id uuid,
    outcome text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'skipped', 'suggested')),
    duration_ms integer NOT NULL,
    error text,
    detail jsonb,
    job_id bigint,
    actor text,
    depth integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX ix__automation_runs__rule ON xrm.automation_runs (rule_id, id DESC)`.execute(db);
  // the per-rule rate cap counts a rule's recent runs
  await sql`CREATE INDEX ix__automation_runs__recent ON xrm.automation_runs (rule_id, created_at)`.execute(db);

  await sql`CREATE TABLE xrm.automation_state (
    rule_id uuid NOT NULL REFERENCES xrm.automation_rules (id) ON DELETE CASCADE,
    record_id uuid NOT NULL,
    since timestamptz NOT NULL,
    PRIMARY KEY (rule_id, record_id)
  )`.execute(db);

  await sql`CREATE TABLE xrm.suggestions (
    id uuid PRIMARY KEY,
    rule_id uuid,
    rule_name text NOT NULL,
    entity text NOT NULL,
    record_id uuid NOT NULL,
    owner_id uuid REFERENCES xrm.users (id) ON DELETE CASCADE,
    reason text NOT NULL,
    actions jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'dismissed', 'failed')),
    decided_by text,
    decided_at timestamptz,
    result jsonb,
    error text,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX ix__suggestions__owner ON xrm.suggestions (owner_id, status, created_at DESC)`.execute(db);

  await sql`CREATE TABLE xrm.notifications (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES xrm.users (id) ON DELETE CASCADE,
    text text NOT NULL,
    entity text,
    record_id uuid,
    rule_id uuid,
    read_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX ix__notifications__user ON xrm.notifications (user_id, id DESC)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['notifications', 'suggestions', 'automation_state', 'automation_runs', 'automation_rules'])
    await sql`DROP TABLE IF EXISTS ${sql.raw(`xrm.${t}`)}`.execute(db);
}
