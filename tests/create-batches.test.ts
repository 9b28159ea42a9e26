/**
 * Concurrent creates share a statement (server/records/create-batches.ts): each request still gets
 * its own record, its own audit row with its own correlation id, and its own answer when the
 * database refuses one of them (a duplicate among many), exactly as if each had gone alone.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../plugins/api.ts';
import { refusedStatement } from '../server/records/create-batches.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';
import { until } from './support/tools.ts';
import { everyValue, everyValueType } from './support/value-types.ts';

describeEachDatabase('concurrent creates share a statement', (get, kind) => {
  const http = () => api(get().app);
  const db = () => get().services.db;
  const batched = () => get().services.records.batchedCreates;

  /**
   * Sends the creates; on PostgreSQL while another transaction holds the table locked, so the first
   * two statements wait at the lock and every later create queues behind them; the lock goes once
   * all of them queue (then they share one statement, whatever the timing). PGlite has one
   * connection: its creates queue as they come.
   */
  const concurrently = async <T>(send: () => Promise<T>[], table = 'cb_item'): Promise<T[]> => {
    if (kind !== 'postgres') return Promise.all(send());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = db()
      .transaction()
      .execute(async (trx) => {
        await sql`LOCK TABLE ${sql.table(`data.${table}`)} IN EXCLUSIVE MODE`.execute(trx);
        locked();
        await held;
      });
    await isLocked;
    const sent = send();
    const replies = Promise.all(sent);
    try {
      await until('two creates waiting at the lock', async () => {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ${`%${table}%`}`.execute(db());
        return rows[0]!.n >= 2;
      });
      // the rest pass sign-in and validation, and queue behind the two
      await until('the other creates to queue', () => batched().queued === sent.length - 2);
    } finally {
      release();
    }
    await holder;
    return replies;
  };

  const audit = async (prefix: string) => {
    const { rows } = await sql<{ record_id: string; correlation_id: string; changes: Record<string, unknown> }>`
      SELECT a.record_id::text, a.correlation_id, a.changes FROM xrm.audit a
      WHERE a.entity = 'cb_item' AND a.message = 'create' AND a.changes ->> 'title' LIKE ${`${prefix}%`}`.execute(db());
    return rows;
  };

  beforeAll(async () => {
    expectStatus(
      await http().post('/api/metadata/entities', {
        name: 'cb_item',
        primaryField: 'title',
        fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'code', type: 'text', unique: true },
          { name: 'amount', type: 'integer' },
        ],
      }),
      201,
    );
    expectStatus(
      await http().post('/api/metadata/entities', { name: 'cb_every', fields: everyValueType('cb_item') }),
      201,
    );
  });

  it('answers each request with its own record and audits each with its own row', async () => {
    const before = batched();
    const inputs = Array.from({ length: 48 }, (_, i) => ({ title: `many ${i}`, code: `m-${i}`, amount: i }));
    const replies = await concurrently(() => inputs.map((input) => http().post('/api/data/cb_item', input)));
    const records = replies.map((reply) => expectStatus(reply, 201));
    records.forEach((record, i) => expect(record).toMatchObject(inputs[i]!));
    expect(new Set(records.map((r) => r.id)).size).toBe(48);
    // the point of it, on PostgreSQL: the 46 that queued behind the lock went in one statement
    if (kind === 'postgres')
      expect(batched()).toMatchObject({ statements: before.statements + 1, rows: before.rows + 46 });

    const stored = await sql<{ id: string; title: string; amount: number }>`SELECT id::text, title, amount
      FROM data.cb_item WHERE title LIKE 'many %'`.execute(db());
    expect(stored.rows.length).toBe(48);
    for (const row of stored.rows) expect(row.title).toBe(`many ${row.amount}`);
    const rows = await audit('many ');
    expect(rows.length).toBe(48);
    const byId = new Map(records.map((r) => [r.id as string, r]));
    for (const row of rows) expect(row.changes.title).toBe(byId.get(row.record_id)?.title);
    expect(new Set(rows.map((r) => r.correlation_id)).size).toBe(48);
  });

  it('keeps each write’s correlation id on its own audit row and its own rule run', async () => {
    const rule = expectStatus(
      await http().post('/api/automation/rules', {
        name: 'Follow every numbered item',
        entity: 'cb_item',
        trigger: { type: 'event', messages: ['create'] },
        condition: { amount: { gte: 0 } },
        actions: [{ type: 'create', entity: 'cb_item', values: { title: 'follow-up {{record.title}}' } }],
      }),
      201,
    );
    const before = batched();
    const { pipeline } = get().services;
    const log = get().app.log;
    const outcomes = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        pipeline.execute({ principal: SYSTEM_PRINCIPAL, correlationId: `corr-${i}`, log }, [
          { message: 'create', entity: 'cb_item', input: { title: `corr ${i}`, amount: i } },
        ]),
      ),
    );
    expect(batched().statements).toBeGreaterThan(before.statements);
    const idOf = new Map(outcomes.map((o, i) => [o[0]!.record!.id as string, i]));
    const rows = await audit('corr ');
    expect(rows.length).toBe(32);
    for (const row of rows) {
      const i = idOf.get(row.record_id);
      expect(row.correlation_id).toBe(`corr-${i}`);
      expect(row.changes.title).toBe(`corr ${i}`);
    }
    // the rule's run of each create carries that create's correlation id
    const jobs = await sql<{ id: string; correlation: string }>`SELECT payload ->> 'id' AS id,
        payload ->> 'correlationId' AS correlation FROM xrm.jobs
      WHERE kind = 'automation' AND target = ${rule.id} AND payload ->> 'correlationId' LIKE 'corr-%'`.execute(db());
    expect(jobs.rows.length).toBe(32);
    for (const job of jobs.rows) expect(job.correlation).toBe(`corr-${idOf.get(job.id)}`);
    // the runs' own creates are done before the next test locks the table
    await until('the rule’s runs', async () => {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.jobs
        WHERE target = ${rule.id} AND state IN ('queued', 'running', 'failed')`.execute(db());
      return rows[0]!.n === 0;
    });
    expectStatus(await http().delete(`/api/automation/rules/${rule.id}`), 204);
  });

  it('gives the one refused create its own problem and writes the others', async () => {
    const before = batched();
    const inputs = Array.from({ length: 40 }, (_, i) => ({ title: `dup ${i}`, code: i === 31 ? 'd-20' : `d-${i}` }));
    const replies = await concurrently(() => inputs.map((input) => http().post('/api/data/cb_item', input)));
    const statuses = replies.map((r) => r.status);
    // exactly one of the two creates with code d-20 is refused, whichever reached the database second
    expect(statuses.filter((s) => s === 409).length).toBe(1);
    expect(statuses.filter((s) => s === 201).length).toBe(39);
    const refused = replies.find((r) => r.status === 409)!;
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect([20, 31]).toContain(inputs.findIndex((_, i) => replies[i] === refused));
    // on PostgreSQL both queued behind the lock: their shared statement was refused and replayed one by one
    if (kind === 'postgres') expect(batched().replayed).toBe(before.replayed + 1);

    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM data.cb_item WHERE title LIKE 'dup %'`.execute(db());
    expect(rows[0]!.n).toBe(39);
    expect((await audit('dup ')).length).toBe(39);
  });

  it('writes each create of a lane with its own values, of every type (its statement compiled once)', async () => {
    const parent = expectStatus(await http().post('/api/data/cb_item', { title: 'parent of every' }), 201);
    const other = expectStatus(await http().post('/api/data/cb_item', { title: 'other parent' }), 201);
    const first = everyValue(parent.id, 'every 0');
    // the same fields (one lane), every value different; then every value but the title null
    const second = {
      title: 'every 1',
      body: 'Other\ntext "quoted"',
      email: 'b@example.com',
      website: 'https://example.org/y?z=1',
      amount: -0.5,
      ratio: 3.25,
      share: 99.5,
      count: -3,
      big: -42,
      flag: false,
      day: '1999-12-31',
      at: '2001-01-01T00:00:00.000Z',
      stage: 'new',
      tags: [],
      payload: ['a', { b: null }],
      ref: '00000000-0000-4000-8000-000000000001',
      parent: other.id,
    };
    const third = Object.fromEntries(Object.keys(first).map((k) => [k, k === 'title' ? 'every 2' : null]));
    const inputs = [first, second, third];
    const check = async (records: Record<string, unknown>[], sent: Record<string, unknown>[]) => {
      expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
      for (const [i, record] of records.entries()) {
        const { at, ...plain } = sent[i]!;
        expect(record, String(sent[i]!.title)).toMatchObject(plain);
        expect(record.at === null ? null : Date.parse(String(record.at))).toBe(
          at === null ? null : Date.parse(String(at)),
        );
        // stored as answered
        expect(expectStatus(await http().get(`/api/data/cb_every/${record.id}`), 200)).toEqual(record);
      }
    };
    // one after another: each alone, with the lane's statement
    const alone: Record<string, unknown>[] = [];
    for (const input of inputs) alone.push(expectStatus(await http().post('/api/data/cb_every', input), 201));
    await check(alone, inputs);
    // at once: on PostgreSQL the last four share the lane's four-row statement
    const before = batched();
    const many = [...inputs, ...inputs].map((input, i) => ({ ...input, title: `every at once ${i}` }));
    const replies = await concurrently(() => many.map((input) => http().post('/api/data/cb_every', input)), 'cb_every');
    await check(
      replies.map((reply) => expectStatus(reply, 201)),
      many,
    );
    if (kind === 'postgres')
      expect(batched()).toMatchObject({ statements: before.statements + 1, rows: before.rows + 4 });
  });

  it('replays only what the database refused as a whole', () => {
    expect(refusedStatement({ code: '23505', severity: 'ERROR' })).toBe(true);
    expect(refusedStatement({ code: '42703', severity: 'ERROR' })).toBe(true);
    // a terminated backend (FATAL) may have committed: its creates are not replayed
    expect(refusedStatement({ code: '57P01', severity: 'FATAL' })).toBe(false);
    // a timeout or a cancel: alone, each would wait as long again
    expect(refusedStatement({ code: '57014', severity: 'ERROR' })).toBe(false);
    expect(refusedStatement({ code: '53300', severity: 'ERROR' })).toBe(false);
    expect(refusedStatement(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});

describeEachDatabase(
  'creates too wide to share a statement',
  (get) => {
    const batched = () => get().services.records.batchedCreates;
    const fields = Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, type: 'text' }));

    beforeAll(async () => {
      expectStatus(await api(get().app).post('/api/metadata/entities', { name: 'cb_wide', fields }), 201);
    });

    /** 32 creates at once through the pipeline, each with `width` of the 30 fields set. */
    const createMany = (width: number) => {
      const { pipeline } = get().services;
      const log = get().app.log;
      return Promise.all(
        Array.from({ length: 32 }, (_, i) => {
          const input = Object.fromEntries(fields.slice(0, width).map((f) => [f.name, `${f.name}-${i}`]));
          return pipeline.execute({ principal: SYSTEM_PRINCIPAL, correlationId: `wide-${i}`, log }, [
            { message: 'create', entity: 'cb_wide', input },
          ]);
        }),
      );
    };

    it('go alone when a full shared statement would pass the parameter limit', async () => {
      // 1,000 rows of 31 parameters (30 fields and the id) would be 31,000: each create goes alone
      const before = batched();
      const outcomes = await createMany(30);
      outcomes.forEach((o, i) => expect(o[0]!.record).toMatchObject({ f0: `f0-${i}`, f29: `f29-${i}` }));
      expect(batched().statements).toBe(before.statements);
      // the same creates with two fields set share statements
      await createMany(2);
      expect(batched().statements).toBeGreaterThan(before.statements);
    });
  },
  { config: { createBatchRows: 1000 } },
);
