import { sql, type Kysely } from 'kysely';

/**
 * The tables behind the write pipeline's after-commit work:
 * - `xrm.jobs`: the durable queue (async plugin steps, webhook deliveries), written in the same
 *   transaction as the change it follows; workers claim rows with FOR UPDATE SKIP LOCKED and hold
 *   them by a lease, so a killed worker's job runs again once the lease expires.
 * - `xrm.audit`: the append-only audit trail; a trigger refuses UPDATE, DELETE and TRUNCATE.
 * - `xrm.webhooks` and `xrm.webhook_deliveries`: subscriptions (their definitions join the catalog,
 *   the signing secrets stay here) and one row per delivery attempt.
 * - `xrm.plugin_state`: plugins an admin disabled (part of the catalog, so every instance agrees).
 */
/**
 * What changed between two images of a record, as first written: a loop that looks each key up in
 * both JSON texts (quadratic in the number of columns). 0011 replaces it; its `down` restores this.
 */
export const AUDIT_DIFF_V1 = `CREATE FUNCTION xrm.audit_diff(old json, new json)
    RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
      result jsonb := '[]'::jsonb;
      k text;
      o jsonb;
      n jsonb;
    BEGIN
      FOR k IN SELECT key FROM json_each(COALESCE(old, new)) LOOP
        CONTINUE WHEN k IN ('id', 'created_at', 'updated_at', 'version');
        o := COALESCE((old -> k)::jsonb, 'null');
        n := COALESCE((new -> k)::jsonb, 'null');
        CONTINUE WHEN o = n;
        IF old IS NULL THEN
          result := result || jsonb_build_array(jsonb_build_object('field', k, 'new', n));
        ELSIF new IS NULL THEN
          result := result || jsonb_build_array(jsonb_build_object('field', k, 'old', o));
        ELSE
          result := result || jsonb_build_array(jsonb_build_object('field', k, 'old', o, 'new', n));
        END IF;
      END LOOP;
      RETURN result;
    END $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE xrm.jobs (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    target text NOT NULL,
    event_id uuid NOT NULL,
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'failed', 'succeeded', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    run_at timestamptz NOT NULL DEFAULT now(),
    locked_by text,
    locked_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
  )`.execute(db);
  // what a worker claims: waiting jobs due now, and running ones whose lease ran out
  await sql`CREATE INDEX ix__jobs__due ON xrm.jobs (run_at, id) WHERE state IN ('queued', 'failed')`.execute(db);
  await sql`CREATE INDEX ix__jobs__lease ON xrm.jobs (locked_until) WHERE state = 'running'`.execute(db);
  await sql`CREATE INDEX ix__jobs__state ON xrm.jobs (state, id)`.execute(db);

  await sql`CREATE TABLE xrm.audit (
    id bigserial PRIMARY KEY,
    entity text NOT NULL,
    record_id uuid NOT NULL,
    message text NOT NULL,
    actor text NOT NULL,
    correlation_id text NOT NULL,
    depth integer NOT NULL DEFAULT 1,
    changes jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX ix__audit__record ON xrm.audit (entity, record_id, id DESC)`.execute(db);
  // what changed between two images of a record (rows of one table), field by field in column
  // order: [{ field, old?, new? }], the columns the platform maintains itself left out. plpgsql, not
  // a SQL function: its plans are cached per session (a SQL function with an aggregate is planned
  // on every call, 6x slower on a single create)
  await sql.raw(AUDIT_DIFF_V1).execute(db);
  await sql`CREATE FUNCTION xrm.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'xrm.audit is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON xrm.audit
    FOR EACH ROW EXECUTE FUNCTION xrm.audit_append_only()`.execute(db);
  await sql`CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON xrm.audit
    FOR EACH STATEMENT EXECUTE FUNCTION xrm.audit_append_only()`.execute(db);

  await sql`CREATE TABLE xrm.webhooks (
    id uuid PRIMARY KEY,
    definition jsonb NOT NULL,
    secret text NOT NULL,
    previous_secret text,
    previous_secret_expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE TABLE xrm.webhook_deliveries (
    id bigserial PRIMARY KEY,
    webhook_id uuid NOT NULL,
    job_id bigint,
    message_id text NOT NULL,
    event_type text NOT NULL,
    attempt integer NOT NULL,
    status integer,
    error text,
    duration_ms integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX ix__webhook_deliveries__webhook ON xrm.webhook_deliveries (webhook_id, id DESC)`.execute(db);

  await sql`CREATE TABLE xrm.plugin_state (
    name text PRIMARY KEY,
    enabled boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['plugin_state', 'webhook_deliveries', 'webhooks', 'audit', 'jobs']) {
    await sql`DROP TABLE ${sql.table(`xrm.${t}`)}`.execute(db);
  }
  await sql`DROP FUNCTION xrm.audit_append_only()`.execute(db);
  await sql`DROP FUNCTION xrm.audit_diff(json, json)`.execute(db);
}
