import { sql, type Kysely } from 'kysely';
import { AUDIT_DIFF_V1 } from './0003-jobs-audit-webhooks.ts';

/**
 * `xrm.audit_diff` as one set-based query per case (created, deleted, changed): the same answer
 * as 0003's loop — `[{ field, old?, new? }]` in column order, the platform's own columns left out,
 * a created or deleted record's null fields left out, an update's unchanged ones left out — but
 * each JSON image is walked once (`json_each`) instead of parsed again for every key. On a create
 * of 13 columns it costs about half (28 against 56 µs), on an update about 40 %. Still plpgsql:
 * the query's plan is cached per session, where a SQL function with an aggregate is planned on
 * every call.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION xrm.audit_diff(old json, new json) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
      IF old IS NULL THEN
        RETURN (SELECT COALESCE(jsonb_agg(jsonb_build_object('field', n.key, 'new', n.value::jsonb) ORDER BY n.i), '[]')
          FROM json_each(new) WITH ORDINALITY AS n(key, value, i)
          WHERE n.key NOT IN ('id', 'created_at', 'updated_at', 'version') AND json_typeof(n.value) <> 'null');
      ELSIF new IS NULL THEN
        RETURN (SELECT COALESCE(jsonb_agg(jsonb_build_object('field', o.key, 'old', o.value::jsonb) ORDER BY o.i), '[]')
          FROM json_each(old) WITH ORDINALITY AS o(key, value, i)
          WHERE o.key NOT IN ('id', 'created_at', 'updated_at', 'version') AND json_typeof(o.value) <> 'null');
      END IF;
      RETURN (SELECT COALESCE(jsonb_agg(jsonb_build_object('field', o.key, 'old', o.value::jsonb,
            'new', COALESCE(n.value::jsonb, 'null')) ORDER BY o.i), '[]')
        FROM json_each(old) WITH ORDINALITY AS o(key, value, i) LEFT JOIN json_each(new) AS n ON n.key = o.key
        WHERE o.key NOT IN ('id', 'created_at', 'updated_at', 'version')
          AND o.value::jsonb IS DISTINCT FROM COALESCE(n.value::jsonb, 'null'));
    END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(AUDIT_DIFF_V1.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION')).execute(db);
}
