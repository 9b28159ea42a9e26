import { sql, type Kysely } from 'kysely';

/**
 * The audit trail stays append-only, but for retention (server/retention.ts): a DELETE of an entry
 * older than `xrm.audit_cutoff`, a setting the pruning transaction sets for itself, goes through.
 * Every other UPDATE, DELETE and TRUNCATE is refused as before. (Unset, or reset to '' at the end
 * of a transaction that set it, the cutoff is NULL: nothing is older.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION xrm.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' THEN
        IF OLD.created_at < NULLIF(current_setting('xrm.audit_cutoff', true), '')::timestamptz THEN
          RETURN OLD;
        END IF;
      END IF;
      RAISE EXCEPTION 'xrm.audit is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
}

/** Append-only without exception again. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION xrm.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'xrm.audit is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
}
