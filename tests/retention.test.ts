/**
 * Retention (server/retention.ts), on both databases: the audit trail is kept for ever unless
 * XRM_AUDIT_RETENTION_DAYS says otherwise, and then only its older entries go; webhook deliveries,
 * automation runs and ended sessions go after XRM_LOG_RETENTION_DAYS, succeeded jobs after
 * XRM_JOB_RETENTION_DAYS; the audit table stays append-only for everything else; and the worker
 * prunes when it starts. Old rows are written with old timestamps straight into the tables.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlatform } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { Retention } from '../server/retention.ts';
import type { Db } from '../metadata/database.ts';
import { api } from './support/http.ts';
import {
  DATABASES,
  createTestDatabase,
  describeEachDatabase,
  testConfig,
  type TestDatabase,
} from './support/platform.ts';
import { expectStatus } from './support/problems.ts';

const RECORD = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

/** `n` audit entries of `days` ago, as the trail writes them. */
const oldAudit = (db: Db, n: number, days: number) =>
  sql`INSERT INTO xrm.audit (entity, record_id, message, actor, correlation_id, changes, created_at)
    SELECT 'rt_thing', ${RECORD}::uuid, 'update', 'user:someone', 'c-' || g, '[]'::jsonb,
      now() - make_interval(days => ${days})
    FROM generate_series(1, ${n}) g`.execute(db);

const count = async (db: Db, table: string, where = sql`true`): Promise<number> => {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(`xrm.${table}`)}
    WHERE ${where}`.execute(db);
  return rows[0]!.n;
};

const auditByAge = async (db: Db) => {
  const { rows } = await sql<{ old: number; recent: number }>`SELECT
      count(*) FILTER (WHERE created_at < now() - interval '30 days')::int AS old,
      count(*) FILTER (WHERE created_at >= now() - interval '30 days')::int AS recent
    FROM xrm.audit WHERE entity = 'rt_thing'`.execute(db);
  return rows[0]!;
};

describeEachDatabase('retention, by default', (get) => {
  it('keeps the audit trail for ever, and logs and succeeded jobs for their periods', () => {
    const policy = get().services.retention.policy;
    expect(policy).toEqual({ jobsDays: 7, logDays: 30, auditDays: 0 });
  });

  it('deletes no audit entry, however old', async () => {
    const { db, retention } = get().services;
    await oldAudit(db, 3, 4000);
    const pruned = await retention.prune();
    expect(pruned.audit).toBe(0);
    expect(await auditByAge(db)).toEqual({ old: 3, recent: 0 });
  });
});

describeEachDatabase(
  'retention',
  (get) => {
    const db = () => get().services.db;

    beforeAll(async () => {
      expectStatus(
        await api(get().app).post('/api/metadata/entities', {
          name: 'rt_thing',
          fields: [{ name: 'title', type: 'text' }],
        }),
        201,
      );
    });

    it('deletes audit entries older than XRM_AUDIT_RETENTION_DAYS, in batches, and keeps the newer', async () => {
      // 12,000 entries of 40 days ago (more than two batches), 5 of 20 days ago, then the trail's own
      await oldAudit(db(), 12_000, 40);
      await oldAudit(db(), 5, 20);
      const record = expectStatus(await api(get().app).post('/api/data/rt_thing', { title: 'kept' }), 201);
      expect(await auditByAge(db())).toEqual({ old: 12_000, recent: 6 });
      // a pass stopped before its first batch (its worker stopping) deletes nothing
      expect((await get().services.retention.prune(AbortSignal.abort())).audit).toBe(0);
      expect(await auditByAge(db())).toEqual({ old: 12_000, recent: 6 });

      const pruned = await get().services.retention.prune();
      expect(pruned.audit).toBe(12_000);
      expect(await auditByAge(db())).toEqual({ old: 0, recent: 6 });
      // the record's own history is whole
      const history = expectStatus(await api(get().app).get(`/api/data/rt_thing/${record.id}/history`), 200);
      expect(history.data.map((e: { message: string }) => e.message)).toEqual(['create']);
      // a second pass finds nothing
      expect((await get().services.retention.prune()).audit).toBe(0);
    });

    it('keeps the audit table append-only for everything else, old entries included', async () => {
      await oldAudit(db(), 1, 40);
      const refused = async (statement: (trx: Db) => Promise<unknown>) => {
        const error = await db()
          .transaction()
          .execute(statement)
          .then(
            () => undefined,
            (e: unknown) => e as { message?: string },
          );
        expect(error?.message).toMatch(/append-only/);
      };
      // no cutoff set: an old entry cannot be deleted
      await refused((trx) => sql`DELETE FROM xrm.audit WHERE entity = 'rt_thing'`.execute(trx));
      // a cutoff reaches only older entries: the batch holding a newer one fails whole
      await refused(async (trx) => {
        await sql`SELECT set_config('xrm.audit_cutoff', (now() - interval '30 days')::text, true)`.execute(trx);
        await sql`DELETE FROM xrm.audit WHERE entity = 'rt_thing'`.execute(trx);
      });
      // nor updated, nor truncated, with a cutoff or not
      await refused(async (trx) => {
        await sql`SELECT set_config('xrm.audit_cutoff', now()::text, true)`.execute(trx);
        await sql`UPDATE xrm.audit SET actor = 'someone else'`.execute(trx);
      });
      await refused((trx) => sql`TRUNCATE xrm.audit`.execute(trx));
      expect(await auditByAge(db())).toEqual({ old: 1, recent: 6 });
      // the setting lasted only its transaction: outside one, the old entry is refused again
      await refused((trx) => sql`DELETE FROM xrm.audit WHERE created_at < now() - interval '30 days'`.execute(trx));
      expect(await auditByAge(db())).toEqual({ old: 1, recent: 6 });
    });

    it('deletes webhook deliveries, automation runs and ended sessions older than XRM_LOG_RETENTION_DAYS', async () => {
      const { rows } = await sql<{ id: string }>`SELECT id::text AS id FROM xrm.users LIMIT 1`.execute(db());
      const user = rows[0]!.id;
      for (const days of [40, 20]) {
        const at = sql`now() - make_interval(days => ${days})`;
        await sql`INSERT INTO xrm.webhook_deliveries (webhook_id, message_id, event_type, attempt, status,
            duration_ms, created_at)
          SELECT gen_random_uuid(), 'm-' || g, 'rt_thing.created', 1, 200, 3, ${at}
          FROM generate_series(1, 3) g`.execute(db());
        await sql`INSERT INTO xrm.automation_runs (rule_id, rule_version, trigger, outcome, duration_ms, created_at)
          SELECT gen_random_uuid(), 1, 'event', 'succeeded', 2, ${at} FROM generate_series(1, 3) g`.execute(db());
        // one session expired then, one signed out then, one still running that began then
        await sql`INSERT INTO xrm.sessions (user_id, token_hash, created_at, expires_at, revoked_at) VALUES
          (${user}::uuid, ${`expired-${days}`}, ${at}, ${at}, NULL),
          (${user}::uuid, ${`revoked-${days}`}, ${at}, now() + interval '1 day', ${at}),
          (${user}::uuid, ${`running-${days}`}, ${at}, now() + interval '1 day', NULL)`.execute(db());
      }
      const before = {
        deliveries: await count(db(), 'webhook_deliveries'),
        runs: await count(db(), 'automation_runs'),
        sessions: await count(db(), 'sessions'),
      };

      const pruned = await get().services.retention.prune();
      expect(pruned).toMatchObject({ webhookDeliveries: 3, automationRuns: 3, sessions: 2 });
      expect(await count(db(), 'webhook_deliveries')).toBe(before.deliveries - 3);
      expect(await count(db(), 'automation_runs')).toBe(before.runs - 3);
      expect(await count(db(), 'sessions')).toBe(before.sessions - 2);
      const { rows: left } = await sql<{ token_hash: string }>`SELECT token_hash FROM xrm.sessions
        WHERE token_hash LIKE '%-40' OR token_hash LIKE '%-20' ORDER BY token_hash`.execute(db());
      expect(left.map((r) => r.token_hash)).toEqual(['expired-20', 'revoked-20', 'running-20', 'running-40']);
      const { rows: young } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.webhook_deliveries
        WHERE created_at < now() - interval '30 days'`.execute(db());
      expect(young[0]!.n).toBe(0);
    });

    it('deletes succeeded jobs finished before XRM_JOB_RETENTION_DAYS; failed and dead ones stay', async () => {
      await sql`INSERT INTO xrm.jobs (kind, target, event_id, payload, state, attempts, max_attempts, finished_at)
        SELECT 'webhook', 'rt', gen_random_uuid(), '{}'::jsonb, s, 1, 3, now() - interval '10 days'
        FROM unnest(ARRAY['succeeded', 'succeeded', 'dead']) s`.execute(db());
      await sql`INSERT INTO xrm.jobs (kind, target, event_id, payload, state, attempts, max_attempts, finished_at)
        VALUES ('webhook', 'rt', gen_random_uuid(), '{}'::jsonb, 'succeeded', 1, 3, now() - interval '2 days')`.execute(
        db(),
      );
      const pruned = await get().services.retention.prune();
      expect(pruned.jobs).toBe(2);
      const { rows } = await sql<{ state: string }>`SELECT state FROM xrm.jobs WHERE target = 'rt'
        ORDER BY state`.execute(db());
      expect(rows.map((r) => r.state)).toEqual(['dead', 'succeeded']);
      // XRM_JOB_RETENTION_DAYS=0 keeps none (as it always did), where 0 keeps logs and the audit for ever
      const none = new Retention(db(), get().services.jobs, { jobsDays: 0, logDays: 0, auditDays: 0 });
      await oldAudit(db(), 1, 400);
      const logs = await count(db(), 'webhook_deliveries');
      expect(await none.prune()).toMatchObject({ jobs: 1, webhookDeliveries: 0, audit: 0 });
      expect(await count(db(), 'jobs', sql`target = 'rt'`)).toBe(1);
      expect(await count(db(), 'webhook_deliveries')).toBe(logs);
      expect((await auditByAge(db())).old).toBeGreaterThan(0);
    });
  },
  { config: { auditRetentionDays: 30, logRetentionDays: 30, jobs: { ...loadConfig({}).jobs, retentionDays: 7 } } },
);

for (const kind of DATABASES) {
  describe(`retention when the worker starts [${kind}]`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(kind, { persistent: true });
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('prunes at start what the periods leave out, on an instance that runs the job worker', async () => {
      const config = (audit: number) => testConfig(database, { auditRetentionDays: audit });
      // a first start keeps everything (no audit retention): old entries written meanwhile stay
      const first = await buildPlatform(config(0));
      await first.start();
      try {
        await oldAudit(first.services.db, 4, 90);
        expect(await auditByAge(first.services.db)).toEqual({ old: 4, recent: 0 });
      } finally {
        await first.close();
      }
      // restarted with a 60-day retention, its worker prunes them as it starts
      const second = await buildPlatform(config(60));
      await second.start();
      try {
        const deadline = Date.now() + 10_000;
        while ((await auditByAge(second.services.db)).old > 0 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await auditByAge(second.services.db)).toEqual({ old: 0, recent: 0 });
      } finally {
        await second.close();
      }
    });
  });
}

describe('retention settings', () => {
  it('reads XRM_AUDIT_RETENTION_DAYS and XRM_LOG_RETENTION_DAYS as whole days, 0 keeping for ever', () => {
    expect(loadConfig({}).auditRetentionDays).toBe(0);
    expect(loadConfig({}).logRetentionDays).toBe(30);
    const set = loadConfig({ XRM_AUDIT_RETENTION_DAYS: '365', XRM_LOG_RETENTION_DAYS: '0' });
    expect([set.auditRetentionDays, set.logRetentionDays]).toEqual([365, 0]);
    expect(() => loadConfig({ XRM_AUDIT_RETENTION_DAYS: '90d' })).toThrow(/XRM_AUDIT_RETENTION_DAYS/);
    expect(() => loadConfig({ XRM_LOG_RETENTION_DAYS: '-1' })).toThrow(/XRM_LOG_RETENTION_DAYS/);
  });
});
