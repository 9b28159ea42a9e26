/**
 * System-table migrations on a database made by an earlier version. 0002 renames the platform's
 * own indexes, constraints and sequences from the 0.1 naming (`ix_partner_name`, `partner_pkey`)
 * to `ix__partner__name` / `pk__partner`: a database laid out the old way must end up exactly as
 * a new one, and keep taking schema changes that drop those objects by name. The later migrations
 * (0003 jobs/audit/webhooks, 0004 identity, 0005 authorization, ...) are undone too, and rebuild the
 * system tables exactly as a new database has them; 0012 gives full-text indexes `fastupdate = off`
 * again and merges the pending list that creates left meanwhile.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as jobsAuditWebhooks from '../migrations/0003-jobs-audit-webhooks.ts';
import * as identity from '../migrations/0004-identity.ts';
import * as authorization from '../migrations/0005-authorization.ts';
import * as automation from '../migrations/0006-automation.ts';
import * as relationships from '../migrations/0007-relationships.ts';
import * as activityLinkFacts from '../migrations/0008-activity-link-facts.ts';
import * as indexedFields from '../migrations/0009-indexed-fields.ts';
import * as securityNotices from '../migrations/0010-security-notices.ts';
import * as auditDiffSetBased from '../migrations/0011-audit-diff-set-based.ts';
import * as fullTextDirect from '../migrations/0012-full-text-direct.ts';
import * as auditRetention from '../migrations/0013-audit-retention.ts';
import { buildPlatform, type Platform } from '../server/app.ts';
import { createFixtureModel } from './fixtures/model.ts';
import { api } from './support/http.ts';
import { physicalSnapshot, type PhysicalSnapshot } from './support/physical-schema.ts';
import { DATABASES, createTestDatabase, testConfig, type TestDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';

/** The 0.1 name of an object named by physicalName today (the fixture's names are short: no hashes). */
function legacyName(name: string): string {
  const [kind, ...parts] = name.split('__');
  return kind === 'pk' ? `${parts.join('_')}_pkey` : [kind, ...parts].join('_');
}

/** Lays the database out as 0.1 did: old object names, and migration 0002 not yet applied. */
async function downgradeTo01(platform: Platform): Promise<number> {
  const db = platform.services.db;
  const objects = await sql<{ kind: string; name: string; table: string }>`
    SELECT 'constraint' AS kind, c.conname::text AS name, t.relname::text AS table
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'data' AND c.conname LIKE '%\\_\\_%'
    UNION ALL
    SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'index' END, c.relname::text, ''
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'data' AND c.relkind IN ('i', 'S') AND c.relname LIKE '%\\_\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid AND k.contype = 'p')`.execute(db);
  for (const o of objects.rows) {
    const old = sql.id(legacyName(o.name));
    if (o.kind === 'constraint')
      await sql`ALTER TABLE ${sql.id('data', o.table)} RENAME CONSTRAINT ${sql.id(o.name)} TO ${old}`.execute(db);
    else if (o.kind === 'sequence') await sql`ALTER SEQUENCE ${sql.id('data', o.name)} RENAME TO ${old}`.execute(db);
    else await sql`ALTER INDEX ${sql.id('data', o.name)} RENAME TO ${old}`.execute(db);
  }
  // 0.1 had neither 0002 nor anything after it (undone newest first: 0005 and 0006 reference 0004's users,
  // 0007 adds to 0003's jobs, 0008 to 0007's links)
  await auditRetention.down(db);
  await fullTextDirect.down(db);
  await auditDiffSetBased.down(db);
  await securityNotices.down(db);
  await indexedFields.down(db);
  await activityLinkFacts.down(db);
  await relationships.down(db);
  await automation.down(db);
  await authorization.down(db);
  await identity.down(db);
  await jobsAuditWebhooks.down(db);
  const later = [
    '0002-physical-names',
    '0003-jobs-audit-webhooks',
    '0004-identity',
    '0005-authorization',
    '0006-automation',
    '0007-relationships',
    '0008-activity-link-facts',
    '0009-indexed-fields',
    '0010-security-notices',
    '0011-audit-diff-set-based',
    '0012-full-text-direct',
    '0013-audit-retention',
  ];
  await sql`DELETE FROM xrm.kysely_migration WHERE name = ANY(${later})`.execute(db);
  return objects.rows.length;
}

/** The platform's own tables (schema `xrm`): every column with its type, nullability and default. */
async function systemTables(platform: Platform): Promise<unknown[]> {
  const { rows } = await sql`SELECT table_name::text AS table, column_name::text AS column, data_type::text AS type,
      is_nullable::text AS nullable, column_default::text AS "default"
    FROM information_schema.columns WHERE table_schema = 'xrm' ORDER BY table_name, ordinal_position`.execute(
    platform.services.db,
  );
  return rows;
}

for (const kind of DATABASES) {
  describe(`migration 0002-physical-names [${kind}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(kind, { persistent: true });
    });
    afterAll(async () => {
      await database?.drop();
    });

    const started = async (): Promise<Platform> => {
      const platform = await buildPlatform(testConfig(database));
      await platform.start();
      return platform;
    };

    it('renames a 0.1 layout to exactly what a new database has, and schema changes keep working', async () => {
      let expected: PhysicalSnapshot;
      let expectedSystem: unknown[];
      let renamed: number;
      const first = await started();
      try {
        await createFixtureModel(api(first.app).post);
        expectStatus(
          await api(first.app).post('/api/metadata/entities/asset/keys', {
            name: 'serial',
            fields: ['serial_number', 'name'],
          }),
          201,
        );
        expected = await physicalSnapshot(first.services.db);
        expectedSystem = await systemTables(first);
        renamed = await downgradeTo01(first);
        // with 0012 undone, full-text indexes are PostgreSQL's default again: creates leave a pending list
        await sql`INSERT INTO data.partner (name) SELECT 'Pending ' || g FROM generate_series(1, 20) g`.execute(
          first.services.db,
        );
        expect(await physicalSnapshot(first.services.db)).not.toEqual(expected);
        // the tables of 0003, 0004 and 0005 are gone: a 0.1 database had none of them
        const tables = new Set((await systemTables(first)).map((c) => (c as { table: string }).table));
        for (const table of ['jobs', 'audit', 'users', 'api_keys', 'roles', 'teams', 'user_roles', 'shares'])
          expect(tables.has(table), table).toBe(false);
      } finally {
        await first.close();
      }
      expect(renamed).toBeGreaterThan(10);

      const second = await started();
      try {
        expect(await physicalSnapshot(second.services.db)).toEqual(expected);
        // and the later migrations rebuilt the system tables as a new database has them
        expect(await systemTables(second)).toEqual(expectedSystem);
        // 0012 merged the pending list it found: nothing is left for a create to merge
        const pending = await sql<{ pages: string }>`SELECT gin_clean_pending_list('data.fts__partner'::regclass)
          AS pages`.execute(second.services.db);
        expect(Number(pending.rows[0]!.pages)).toBe(0);
        // changes that drop indexes, constraints, sequences and keys by their (new) names
        const http = api(second.app);
        expectStatus(await http.delete('/api/metadata/entities/asset/keys/serial'), 204);
        expectStatus(await http.delete('/api/metadata/relationships/supplier_assets'), 204);
        expectStatus(await http.delete('/api/metadata/entities/partner/fields/email'), 204);
        expectStatus(await http.delete('/api/metadata/entities/supplier/fields/code'), 204);
        expectStatus(await http.delete('/api/metadata/entities/employee/fields/manager'), 204);
        for (const name of ['iot_device', 'asset', 'supplier', 'partner', 'employee']) {
          expectStatus(await http.delete(`/api/metadata/entities/${name}`), 204);
        }
        // only the built-in activity entity's table is left, with nothing of the others
        const left = await physicalSnapshot(second.services.db);
        expect(left.tables).toEqual(['activity']);
        for (const rows of [left.columns, left.constraints, left.indexes])
          expect(new Set((rows as { t: string }[]).map((r) => r.t))).toEqual(new Set(['activity']));
        expect(left.sequences).toEqual([]);
      } finally {
        await second.close();
      }
    });
  });
}
