/**
 * Automation rules on both databases, with an injected clock (time moves by assignment, never by
 * sleeping): event rules fire once per committed change and only when `changed` / `changedTo`
 * match; the seeds' stale-deal example end to end (a deal last contacted 12 days ago → one
 * suggestion → approve → a task and an email received by a real SMTP server on loopback → no
 * second suggestion the next day, a new one in the next episode); schedule catch-up after downtime
 * runs once; two instances never both run a tick; a dropped field marks a rule invalid and the
 * drop's answer warns; a dry run writes nothing; a rule that triggers itself stops (rate cap, and
 * the pipeline's depth 8), each with a logged error.
 */
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { definePlugin } from '../plugins/api.ts';
import { buildPlatform, type Platform } from '../server/app.ts';
import { createClient } from '../sdk/index.ts';
import { adminToken, api } from './support/http.ts';
import { until } from './support/tools.ts';
import { describeEachDatabase, testConfig } from './support/platform.ts';
import { expectProblem, expectStatus, modelling } from './support/problems.ts';

interface Mail {
  to: string[];
  text: string;
}
const inbox: Mail[] = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  // a mailbox that does not exist: the server refuses it, every attempt
  onRcptTo(address, _session, callback) {
    if (address.address.startsWith('bounce@'))
      callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
    else callback();
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), text: Buffer.concat(chunks).toString() });
      callback();
    });
  },
});
let smtpPort = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

/** A plugin's custom message on deals, which rules may listen to. */
let qualifyCalls = 0;
const sales = definePlugin({
  name: 'sales',
  version: '1.0.0',
  setup(api) {
    api.defineMessage(
      {
        name: 'qualify',
        entity: 'deal',
        input: { type: 'object', properties: { score: { type: 'integer' } }, additionalProperties: false },
        output: { type: 'object' },
      },
      () => {
        qualifyCalls++;
        return { qualified: true };
      },
    );
  },
});

/** The rule clock: tests set it. */
let now = new Date('2026-03-02T08:00:00.000Z');
const clock = () => now;
const days = (n: number) => n * 86_400_000;

describeEachDatabase(
  'automation rules',
  (platform, kind) => {
    const http = () => api(platform().app);
    const { defineEntity, createRecord } = modelling(http);
    const db = () => platform().services.db;
    const automation = () => platform().services.automation;

    /** Waits until no job is queued, running or failed-and-retrying: every run has happened. */
    const settled = () =>
      until('the job queue to settle', async () => {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.jobs
          WHERE state IN ('queued', 'running', 'failed')`.execute(db());
        return rows[0]!.n === 0 || undefined;
      });
    const count = async (entity: string, filter: object = {}) => {
      const page = expectStatus(
        await http().get(`/api/data/${entity}?filter=${encodeURIComponent(JSON.stringify(filter))}&count=true`),
        200,
      );
      return page.data.length as number;
    };
    const rule = async (body: Record<string, unknown>) =>
      expectStatus(await http().post('/api/automation/rules', body), 201);
    const runs = async (id: string) => expectStatus(await http().get(`/api/automation/rules/${id}/runs`), 200).data;

    beforeAll(async () => {
      await defineEntity('account', [
        { name: 'name', type: 'text', required: true },
        { name: 'email', type: 'email' },
      ]);
      await defineEntity('deal', [
        { name: 'name', type: 'text', required: true },
        {
          name: 'stage',
          type: 'choice',
          options: ['prospecting', 'negotiation', 'won', 'lost'].map((value) => ({ value, label: value })),
        },
        { name: 'amount', type: 'integer' },
        { name: 'priority', type: 'integer' },
        { name: 'last_contact_at', type: 'datetime' },
        { name: 'account', type: 'lookup', target: 'account' },
      ]);
      await defineEntity('task', [
        { name: 'subject', type: 'text', required: true },
        { name: 'regarding', type: 'lookup', target: 'deal' },
        { name: 'due_at', type: 'datetime' },
        { name: 'due_on', type: 'date' },
      ]);
      await defineEntity('counter', [
        { name: 'name', type: 'text' },
        { name: 'n', type: 'integer' },
      ]);
    });

    it('an event rule fires once per committed change, only when changed / changedTo match', async () => {
      const r = await rule({
        name: 'Call when negotiating',
        entity: 'deal',
        trigger: { type: 'event', messages: ['update'], changed: ['stage'] },
        condition: { stage: { changedTo: 'negotiation' } },
        actions: [
          {
            type: 'create',
            entity: 'task',
            values: { subject: 'Call {{record.name}}', regarding: '{{record.id}}', due_at: '{{now + P2D}}' },
          },
        ],
      });
      expect(r).toMatchObject({ version: 1, status: 'active' });
      const deal = await createRecord('deal', { name: 'Acme', stage: 'prospecting' });
      const tasks = () => count('task', { regarding: { eq: deal.id } });
      await http().patch(`/api/data/deal/${deal.id}`, { amount: 100 });
      await settled();
      expect(await tasks()).toBe(0);
      expectStatus(await http().patch(`/api/data/deal/${deal.id}`, { stage: 'negotiation' }), 200);
      await settled();
      expect(await tasks()).toBe(1);
      const task = expectStatus(await http().get(`/api/data/task?filter={"regarding":{"eq":"${deal.id}"}}`), 200)
        .data[0];
      expect(task.subject).toBe('Call Acme');
      expect(new Date(task.due_at).toISOString()).toBe(new Date(now.getTime() + days(2)).toISOString());
      // still negotiating, another field changed: not a change to negotiation
      await http().patch(`/api/data/deal/${deal.id}`, { name: 'Acme Corp', stage: 'negotiation' });
      await settled();
      expect(await tasks()).toBe(1);
      // away and back: a second change to negotiation, a second run
      await http().patch(`/api/data/deal/${deal.id}`, { stage: 'won' });
      await http().patch(`/api/data/deal/${deal.id}`, { stage: 'negotiation' });
      await settled();
      expect(await tasks()).toBe(2);
      // `changed` alone: a run per change of stage, none for other fields
      const changed = await rule({
        name: 'Stage moved',
        entity: 'deal',
        trigger: { type: 'event', messages: ['update'], changed: ['stage'] },
        actions: [{ type: 'notify', to: 'owner', text: 'stage moved' }],
      });
      await http().patch(`/api/data/deal/${deal.id}`, { amount: 5 });
      await http().patch(`/api/data/deal/${deal.id}`, { stage: 'lost' });
      await http().patch(`/api/data/deal/${deal.id}`, { amount: 6, stage: 'lost' });
      await settled();
      expect((await runs(changed.id)).map((x: { outcome: string }) => x.outcome)).toEqual(['succeeded']);
      await http().delete(`/api/automation/rules/${changed.id}`);
      const log = await runs(r.id);
      expect(log.map((x: { outcome: string }) => x.outcome)).toEqual(['succeeded', 'succeeded']);
      expect(log[0]).toMatchObject({ trigger: 'event', recordId: deal.id, error: null });
      expect(log[0].detail.actions[0]).toMatchObject({ type: 'create', entity: 'task' });
      // a bulk write goes through the transactional path: each matching change once
      const bulk = expectStatus(
        await http().post('/api/data/deal/bulk', {
          operation: 'create',
          records: [
            { name: 'B1', stage: 'prospecting' },
            { name: 'B2', stage: 'prospecting' },
          ],
        }),
        200,
      );
      const ids = bulk.data.map((d: { id: string }) => d.id);
      await http().post('/api/data/deal/bulk', {
        operation: 'update',
        records: ids.map((id: string) => ({ id, stage: 'negotiation' })),
      });
      await settled();
      for (const id of ids) expect(await count('task', { regarding: { eq: id } })).toBe(1);
      expectStatus(await http().post(`/api/automation/rules/${r.id}/disable`), 200);
    });

    it("the seeds' stale deal: one suggestion, approve → task and email, none the next day, again later", async () => {
      // each database leg mails its own buyer: the receiver's inbox is shared by both legs
      const acme = await createRecord('account', { name: 'Acme Corp', email: `buyer@acme-${kind}.example.com` });
      const deal = await createRecord('deal', {
        name: 'Acme Corp deal',
        stage: 'negotiation',
        account: acme.id,
        last_contact_at: new Date(now.getTime() - days(12)).toISOString(),
      });
      const fresh = await createRecord('deal', {
        name: 'Fresh deal',
        stage: 'negotiation',
        last_contact_at: new Date(now.getTime() - days(2)).toISOString(),
      });
      const stale = await rule({
        name: 'Follow up stale deals',
        entity: 'deal',
        trigger: { type: 'schedule', cron: '0 9 * * *', timeZone: 'Europe/Berlin' },
        condition: { stage: { eq: 'negotiation' }, last_contact_at: { olderThan: 'P10D' } },
        actions: [
          {
            type: 'suggest',
            reason: '{{record.name}} is stuck. Last contact {{record.last_contact_at}}.',
            actions: [
              {
                type: 'create',
                entity: 'task',
                values: { subject: 'Follow up {{record.name}}', regarding: '{{record.id}}' },
              },
              {
                type: 'email',
                to: '{{record.account.email}}',
                subject: 'Following up on {{record.name}}',
                body: 'Hello {{record.account.name}}, shall we continue?',
              },
            ],
          },
        ],
      });
      const suggestions = async () =>
        expectStatus(await http().get(`/api/suggestions?recordId=${deal.id}&status=all`), 200).data;
      // 08:00 UTC is 09:00 in Berlin: due now (the rule counts from its creation, so move past the next tick)
      now = new Date(now.getTime() + days(1));
      expect(await automation().scheduler.tick()).toEqual([stale.id]);
      await settled();
      const [s] = await suggestions();
      expect(s).toMatchObject({
        status: 'pending',
        entity: 'deal',
        recordId: deal.id,
        record: `/api/data/deal/${deal.id}`,
      });
      expect(s.reason).toMatch(/^Acme Corp deal is stuck\. Last contact /);
      expect(s.actions.map((a: { type: string }) => a.type)).toEqual(['create', 'email']);
      expect(s.actions[1]).toMatchObject({
        to: `buyer@acme-${kind}.example.com`,
        subject: 'Following up on Acme Corp deal',
      });
      expect(expectStatus(await http().get(`/api/suggestions?recordId=${fresh.id}&status=all`), 200).data).toEqual([]);
      // approve: the task is created as the approver, the email goes to the SMTP receiver
      const approved = expectStatus(await http().post(`/api/suggestions/${s.id}/approve`), 200);
      expect(approved.status).toBe('approved');
      expect(await count('task', { regarding: { eq: deal.id } })).toBe(1);
      const mail = await until('the email', () => inbox.find((m) => m.to.includes(`buyer@acme-${kind}.example.com`)));
      expect(mail.text).toContain('Subject: Following up on Acme Corp deal');
      expect(mail.text).toContain('Hello Acme Corp, shall we continue?');
      expectProblem(await http().post(`/api/suggestions/${s.id}/approve`), 409, 'XRM_ERR_SUGGESTION_DECIDED');
      // the next day: still stale, same episode → no second suggestion
      now = new Date(now.getTime() + days(1));
      expect(await automation().scheduler.tick()).toEqual([stale.id]);
      await settled();
      expect(await suggestions()).toHaveLength(1);
      // contacted: the episode ends; stale again later: a new episode, a new suggestion
      await http().patch(`/api/data/deal/${deal.id}`, { last_contact_at: now.toISOString() });
      now = new Date(now.getTime() + days(1));
      await automation().scheduler.tick();
      await settled();
      expect(await suggestions()).toHaveLength(1);
      now = new Date(now.getTime() + days(11));
      await automation().scheduler.tick();
      await settled();
      const all = await suggestions();
      expect(all).toHaveLength(2);
      expect(all[0].status).toBe('pending');
      expectStatus(await http().post(`/api/suggestions/${all[0].id}/dismiss`), 200);
      expect(expectStatus(await http().get(`/api/suggestions?recordId=${deal.id}`), 200).data).toEqual([]);
      expectStatus(await http().post(`/api/automation/rules/${stale.id}/disable`), 200);
    });

    it('catches up after downtime once, not once per missed tick; two instances never both run a tick', async () => {
      const hourly = await rule({
        name: 'Hourly',
        entity: 'counter',
        trigger: { type: 'schedule', cron: '0 * * * *' },
        condition: { n: { gte: 1000 } },
        actions: [{ type: 'update', values: { n: 0 } }],
      });
      const passes = async () =>
        (await runs(hourly.id)).filter(
          (r: { trigger: string; recordId: string | null }) => r.trigger === 'schedule' && !r.recordId,
        ).length;
      // five days down: 120 missed ticks, one pass
      now = new Date(now.getTime() + days(5));
      expect(await automation().scheduler.tick()).toContain(hourly.id);
      expect(await automation().scheduler.tick()).not.toContain(hourly.id);
      await settled();
      expect(await passes()).toBe(1);
      // a second instance on the same database
      const second: Platform = await buildPlatform(
        testConfig(platform().database, {
          jobs: { ...platform().services.jobs.options, concurrency: 0, pollMs: 1000, retentionDays: 7 },
        }),
        { clock, ...(kind === 'pglite' ? { database: platform().services.database } : {}) },
      );
      await second.start();
      try {
        for (let round = 0; round < 5; round++) {
          now = new Date(now.getTime() + 3_600_000);
          const [a, b] = await Promise.all([
            automation().scheduler.tick(),
            second.services.automation.scheduler.tick(),
          ]);
          expect([...a, ...b].filter((id) => id === hourly.id)).toHaveLength(1);
        }
      } finally {
        await second.close();
      }
      await settled();
      expect(await passes()).toBe(6);
      expectStatus(await http().delete(`/api/automation/rules/${hourly.id}`), 204);
    });

    it("a dropped field makes a rule invalid, the drop's answer warns, health lists it", async () => {
      const r = await rule({
        name: 'High priority',
        entity: 'deal',
        trigger: { type: 'event', messages: ['create'] },
        condition: { priority: { gte: 5 } },
        actions: [{ type: 'notify', to: 'owner', text: '{{record.name}} is high priority' }],
      });
      const deal = await createRecord('deal', { name: 'Urgent', priority: 9 });
      await settled();
      const notes = expectStatus(await http().get('/api/notifications'), 200);
      expect(notes.data[0]).toMatchObject({ text: 'Urgent is high priority', recordId: deal.id, read: false });
      expect(notes.unread).toBeGreaterThan(0);
      expectStatus(await http().post(`/api/notifications/${notes.data[0].id}/read`), 200);

      const drop = await http().delete('/api/metadata/entities/deal/fields/priority');
      const answer = expectStatus(drop, 200);
      expect(answer.warnings).toEqual([
        expect.objectContaining({ code: 'XRM_WARN_RULE_INVALID', target: `rule:${r.id}` }),
      ]);
      expect(answer.warnings[0].message).toContain('High priority');
      const after = expectStatus(await http().get(`/api/automation/rules/${r.id}`), 200);
      expect(after.status).toBe('invalid');
      expect(after.statusReason).toContain('priority');
      const health = expectStatus(await http().get('/api/automation/health'), 200);
      expect(health.ok).toBe(false);
      expect(health.invalid.map((x: { id: string }) => x.id)).toContain(r.id);
      // an invalid rule does not fire, and switching it on is refused until it is fixed
      const ran = (await runs(r.id)).length;
      await createRecord('deal', { name: 'Another' });
      await settled();
      expect(await runs(r.id)).toHaveLength(ran);
      expectProblem(await http().post(`/api/automation/rules/${r.id}/enable`), 400, 'XRM_ERR_QUERY_INVALID');
      // fixed: active again; the ledger has every version
      const fixed = expectStatus(
        await http().patch(`/api/automation/rules/${r.id}`, { condition: { amount: { gte: 5 } } }),
        200,
      );
      expect(fixed).toMatchObject({ status: 'active', version: 2 });
      const ledger = expectStatus(await http().get(`/api/metadata/changes?target=rule:${r.id}`), 200);
      expect(ledger.data.map((c: { operation: string }) => c.operation).sort()).toEqual(['rule.create', 'rule.update']);
      await http().delete(`/api/automation/rules/${r.id}`);
    });

    it('a dry run shows what would happen and writes nothing', async () => {
      const deal = await createRecord('deal', { name: 'Dry', stage: 'negotiation' });
      const r = await rule({
        name: 'Close it',
        entity: 'deal',
        trigger: { type: 'manual' },
        condition: { stage: { eq: 'negotiation' } },
        actions: [
          { type: 'update', values: { stage: 'won' } },
          {
            type: 'create',
            entity: 'task',
            values: {
              subject: 'Send contract for {{record.name}}',
              regarding: '{{record.id}}',
              due_on: '{{now + P2D}}',
            },
          },
          { type: 'notify', to: 'owner', text: 'Closed {{record.name}}' },
          { type: 'message', name: 'qualify', input: { score: 1 } },
        ],
      });
      const before = await sql<{ jobs: number; notes: number }>`SELECT (SELECT count(*)::int FROM xrm.jobs) AS jobs,
        (SELECT count(*)::int FROM xrm.notifications) AS notes`.execute(db());
      const calls = qualifyCalls;
      const dry = expectStatus(await http().post(`/api/automation/rules/${r.id}/test`, { id: deal.id }), 200);
      expect(dry).toMatchObject({ matches: true, written: false });
      expect(dry.actions.map((a: { type: string }) => a.type)).toEqual(['update', 'create', 'notify', 'message']);
      expect(dry.actions[1].values).toMatchObject({
        subject: 'Send contract for Dry',
        // an instant for a date field is that day
        due_on: new Date(now.getTime() + days(2)).toISOString().slice(0, 10),
      });
      // a plugin's handler may act outside the database: a dry run does not call it
      expect(dry.actions[3]).toMatchObject({ type: 'message', name: 'qualify', called: false });
      expect(qualifyCalls).toBe(calls);
      const still = expectStatus(await http().get(`/api/data/deal/${deal.id}`), 200);
      expect(still).toMatchObject({ stage: 'negotiation', version: 1 });
      expect(await count('task', { regarding: { eq: deal.id } })).toBe(0);
      const afterDry = await sql<{ jobs: number; notes: number }>`SELECT (SELECT count(*)::int FROM xrm.jobs) AS jobs,
        (SELECT count(*)::int FROM xrm.notifications) AS notes`.execute(db());
      expect(afterDry.rows[0]).toEqual(before.rows[0]);
      // the button: a manual run does it, as the caller
      const run = expectStatus(await http().post(`/api/automation/rules/${r.id}/run`, { id: deal.id }), 200);
      expect(run).toMatchObject({ outcome: 'succeeded', trigger: 'manual', recordId: deal.id });
      expect(qualifyCalls).toBe(calls + 1);
      expect(expectStatus(await http().get(`/api/data/deal/${deal.id}`), 200).stage).toBe('won');
      // a button's cap: maxRunsPerMinute runs a minute per person
      const button = await rule({
        name: 'Ping',
        entity: 'deal',
        trigger: { type: 'manual' },
        actions: [{ type: 'notify', to: 'owner', text: 'ping' }],
        maxRunsPerMinute: 2,
      });
      for (let i = 0; i < 2; i++)
        expectStatus(await http().post(`/api/automation/rules/${button.id}/run`, { id: deal.id }), 200);
      const limited = expectProblem(
        await http().post(`/api/automation/rules/${button.id}/run`, { id: deal.id }),
        429,
        'XRM_ERR_RATE_LIMITED',
      );
      expect(limited.headers['retry-after']).toBe('60');
      await http().delete(`/api/automation/rules/${button.id}`);
      // no longer meets the condition
      expectProblem(
        await http().post(`/api/automation/rules/${r.id}/run`, { id: deal.id }),
        409,
        'XRM_ERR_RULE_NOT_RUNNABLE',
      );
    });

    it('a rule that triggers itself stops: at its rate cap (turned off, logged) and at depth 8', async () => {
      // each run sets n to the record's version, which changes n again: an endless chain but for the stops
      const capped = await rule({
        name: 'Loop with a cap',
        entity: 'counter',
        trigger: { type: 'event', messages: ['update'], changed: ['n'] },
        condition: { name: { eq: 'capped' } },
        actions: [{ type: 'update', values: { n: '{{record.version}}' } }],
        maxRunsPerMinute: 3,
      });
      const c = await createRecord('counter', { name: 'capped', n: 0 });
      await http().patch(`/api/data/counter/${c.id}`, { n: 1 });
      await settled();
      const log = await runs(capped.id);
      const failed = log.filter((x: { outcome: string }) => x.outcome === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0].error).toMatch(/maxRunsPerMinute 3/);
      // the first run followed a person's write; the three after it followed its own: the fourth of those stops
      expect(log.filter((x: { outcome: string }) => x.outcome === 'succeeded')).toHaveLength(4);
      const off = expectStatus(await http().get(`/api/automation/rules/${capped.id}`), 200);
      expect(off.status).toBe('disabled');
      expect(off.statusReason).toMatch(/loop/);
      const health = expectStatus(await http().get('/api/automation/health'), 200);
      expect(health.disabled.map((x: { id: string }) => x.id)).toContain(capped.id);

      const deep = await rule({
        name: 'Loop without a cap',
        entity: 'counter',
        trigger: { type: 'event', messages: ['update'], changed: ['n'] },
        condition: { name: { eq: 'deep' } },
        actions: [{ type: 'update', values: { n: '{{record.version}}' } }],
      });
      const d = await createRecord('counter', { name: 'deep', n: 0 });
      await http().patch(`/api/data/counter/${d.id}`, { n: 1 });
      await settled();
      const chain = await runs(deep.id);
      expect(chain.filter((x: { outcome: string }) => x.outcome === 'succeeded')).toHaveLength(7);
      const stop = chain.filter((x: { outcome: string }) => x.outcome === 'failed');
      expect(stop).toHaveLength(1);
      expect(stop[0].error).toContain('XRM_ERR_PLUGIN_DEPTH_EXCEEDED');
      await http().delete(`/api/automation/rules/${deep.id}`);
    });

    it("people's bulk writes never hit the loop cap; a changedTo rule does not get in a delete's way", async () => {
      const r = await rule({
        name: 'Each new counter',
        entity: 'counter',
        trigger: { type: 'event', messages: ['create', 'update', 'delete'] },
        condition: { name: { changedTo: 'bulk' } },
        actions: [{ type: 'notify', to: 'owner', text: 'new counter' }],
        maxRunsPerMinute: 2,
      });
      const records = Array.from({ length: 12 }, () => ({ name: 'bulk', n: 0 }));
      const bulk = expectStatus(await http().post('/api/data/counter/bulk', { operation: 'create', records }), 200);
      await settled();
      const log = await runs(r.id);
      expect(log.filter((x: { outcome: string }) => x.outcome === 'succeeded')).toHaveLength(12);
      expect(expectStatus(await http().get(`/api/automation/rules/${r.id}`), 200).status).toBe('active');
      expect(expectStatus(await http().delete(`/api/data/counter/${bulk.data[0].id}`), 204));
      await settled();
      expect(await runs(r.id)).toHaveLength(12);
      await http().delete(`/api/automation/rules/${r.id}`);
    });

    it('a delete rule reads the record as it was: its templates still have the values', async () => {
      const r = await rule({
        name: 'Lost a deal',
        entity: 'deal',
        trigger: { type: 'event', messages: ['delete'] },
        condition: { stage: { eq: 'negotiation' } },
        actions: [{ type: 'notify', to: 'owner', text: '{{record.name}} was deleted while in {{record.stage}}' }],
      });
      const doomed = await createRecord('deal', { name: 'Doomed deal', stage: 'negotiation' });
      const kept = await createRecord('deal', { name: 'Won and gone', stage: 'won' });
      for (const d of [doomed, kept]) expectStatus(await http().delete(`/api/data/deal/${d.id}`), 204);
      await settled();
      const texts = expectStatus(await http().get('/api/notifications'), 200).data.map((n: { text: string }) => n.text);
      expect(texts).toContain('Doomed deal was deleted while in negotiation');
      expect(texts.filter((t: string) => t.startsWith('Won and gone'))).toEqual([]);
      expect((await runs(r.id)).map((x: { outcome: string }) => x.outcome)).toEqual(['succeeded']);
      await http().delete(`/api/automation/rules/${r.id}`);
    });

    it("a plugin's custom message on a record is an event rules can listen to", async () => {
      const r = await rule({
        name: 'On qualify',
        entity: 'deal',
        trigger: { type: 'event', messages: ['qualify'] },
        condition: { stage: { eq: 'prospecting' } },
        actions: [{ type: 'notify', to: 'owner', text: '{{record.name}} was qualified' }],
      });
      const deal = await createRecord('deal', { name: 'Qualified deal', stage: 'prospecting' });
      const other = await createRecord('deal', { name: 'Won deal', stage: 'won' });
      for (const id of [deal.id, other.id])
        expectStatus(
          await http().post('/api/messages/qualify', { input: { score: 3 }, target: { entity: 'deal', id } }),
          200,
        );
      await settled();
      const texts = expectStatus(await http().get('/api/notifications'), 200).data.map((n: { text: string }) => n.text);
      expect(texts).toContain('Qualified deal was qualified');
      expect(texts).not.toContain('Won deal was qualified');
      expectProblem(
        await http().post('/api/automation/rules', {
          ...r,
          id: undefined,
          version: undefined,
          status: undefined,
          runAs: undefined,
          entity: 'task',
          condition: undefined,
          actions: [{ type: 'notify', to: 'owner', text: 't' }],
        }),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/trigger/messages/0',
      );
      // the plugin switched off: the rule names a message that no longer exists — invalid, and the switch says so
      const off = expectStatus(await http().post('/api/plugins/sales/disable'), 200);
      expect(off.warnings).toContainEqual(
        expect.objectContaining({ code: 'XRM_WARN_RULE_INVALID', target: `rule:${r.id}` }),
      );
      expect(expectStatus(await http().get(`/api/automation/rules/${r.id}`), 200).status).toBe('invalid');
      expectStatus(await http().post('/api/plugins/sales/enable'), 200);
      expect(expectStatus(await http().post(`/api/automation/rules/${r.id}/enable`), 200).status).toBe('active');
      await http().delete(`/api/automation/rules/${r.id}`);
    });

    it('who may do what: rules need the metadata privilege; manual runs and inboxes are per user', async () => {
      const role = {
        name: 'deal_seller',
        privileges: [
          { entity: 'deal', create: 'all', read: 'own', update: 'own', appendTo: 'own' },
          { entity: 'task', create: 'all', read: 'own', append: 'all' },
        ],
      };
      expectStatus(await http().post('/api/roles', role), 201);
      const user = { email: 'seller@example.com', password: 'seller-password-1' };
      const seller = expectStatus(await http().post('/api/users', { ...user, roles: ['deal_seller'] }), 201);
      const login = expectStatus(await api(platform().app, null).post('/api/auth/login', user), 200);
      const as = api(platform().app, login.token);
      const manual = await rule({
        name: 'Mark won',
        entity: 'deal',
        trigger: { type: 'manual' },
        actions: [
          { type: 'update', values: { stage: 'won' } },
          {
            type: 'create',
            entity: 'task',
            values: { subject: 'Invoice {{record.name}}', regarding: '{{record.id}}' },
          },
          { type: 'suggest', reason: 'Thank {{record.name}}', actions: [{ type: 'notify', to: 'owner', text: 'hi' }] },
        ],
      });
      expectProblem(await as.post('/api/automation/rules', { name: 'x' }), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await as.get('/api/automation/health'), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(await as.get(`/api/automation/rules/${manual.id}/runs`), 403, 'XRM_ERR_FORBIDDEN');
      expectProblem(
        await as.post(`/api/automation/rules/${manual.id}/test`, { id: manual.id }),
        403,
        'XRM_ERR_FORBIDDEN',
      );
      const listed = expectStatus(await as.get('/api/automation/rules?entity=deal'), 200).data;
      expect(listed.map((r: { id: string }) => r.id)).toContain(manual.id);
      expect(listed.every((r: { trigger: { type: string } }) => r.trigger.type === 'manual')).toBe(true);
      expect(listed[0].actions).toBeUndefined();
      // their own deal: the run acts as them (the task is theirs); the admin's deal is out of their reach
      const mine = expectStatus(await as.post('/api/data/deal', { name: 'Seller deal', stage: 'negotiation' }), 201);
      const theirs = await createRecord('deal', { name: 'Admin deal', stage: 'negotiation' });
      const run = expectStatus(await as.post(`/api/automation/rules/${manual.id}/run`, { id: mine.id }), 200);
      expect(run).toMatchObject({ outcome: 'suggested', actor: `user:${seller.id}` });
      const task = expectStatus(await as.get(`/api/data/task?filter={"regarding":{"eq":"${mine.id}"}}`), 200).data[0];
      expect(task).toMatchObject({ subject: 'Invoice Seller deal', owner_id: seller.id });
      expectProblem(
        await as.post(`/api/automation/rules/${manual.id}/run`, { id: theirs.id }),
        404,
        'XRM_ERR_RECORD_NOT_FOUND',
      );
      expect(expectStatus(await http().get(`/api/data/deal/${theirs.id}`), 200).stage).toBe('negotiation');
      // the suggestion went to the record's owner: the seller sees it, the admin's inbox does not hold it
      const own = expectStatus(await as.get('/api/suggestions'), 200).data;
      expect(own).toHaveLength(1);
      expect(
        expectStatus(await http().get('/api/suggestions'), 200).data.map((x: { id: string }) => x.id),
      ).not.toContain(own[0].id);
      expect(
        expectStatus(await http().get('/api/suggestions?all=true'), 200).data.map((x: { id: string }) => x.id),
      ).toContain(own[0].id);
      expectProblem(await as.get('/api/suggestions?all=true'), 403, 'XRM_ERR_FORBIDDEN');
      // an admin-owned suggestion is not the seller's to see or decide
      await http().post(`/api/automation/rules/${manual.id}/run`, { id: theirs.id });
      const adminOwn = expectStatus(await http().get(`/api/suggestions?recordId=${theirs.id}`), 200).data[0];
      expectProblem(await as.get(`/api/suggestions/${adminOwn.id}`), 404, 'XRM_ERR_SUGGESTION_NOT_FOUND');
      expectProblem(await as.post(`/api/suggestions/${adminOwn.id}/approve`), 404, 'XRM_ERR_SUGGESTION_NOT_FOUND');
      expectStatus(await as.post(`/api/suggestions/${own[0].id}/approve`), 200);
      // a button's cap counts per person: the administrator's clicks do not use up the seller's
      const once = await rule({
        name: 'Once a minute',
        entity: 'deal',
        trigger: { type: 'manual' },
        actions: [{ type: 'update', values: { stage: 'won' } }],
        maxRunsPerMinute: 1,
      });
      expectStatus(await http().post(`/api/automation/rules/${once.id}/run`, { id: theirs.id }), 200);
      expectProblem(
        await http().post(`/api/automation/rules/${once.id}/run`, { id: theirs.id }),
        429,
        'XRM_ERR_RATE_LIMITED',
      );
      expectStatus(await as.post(`/api/automation/rules/${once.id}/run`, { id: mine.id }), 200);
      expectProblem(
        await as.post(`/api/automation/rules/${once.id}/run`, { id: mine.id }),
        429,
        'XRM_ERR_RATE_LIMITED',
      );
      await http().delete(`/api/automation/rules/${once.id}`);
      const note = expectStatus(await as.get('/api/notifications'), 200);
      expect(note.data[0]).toMatchObject({ text: 'hi', recordId: mine.id });
      expectProblem(
        await http().post(`/api/notifications/${note.data[0].id}/read`),
        404,
        'XRM_ERR_NOTIFICATION_NOT_FOUND',
      );
      await http().delete(`/api/automation/rules/${manual.id}`);
    });

    it('the SDK runs a manual rule, dry-runs it, and works the inbox', async () => {
      const address = await platform().app.listen({ port: 0, host: '127.0.0.1' });
      const token = await adminToken(platform().app);
      const client = createClient({ baseUrl: address, headers: { authorization: `Bearer ${token}` } });
      const r = await rule({
        name: 'Ask to close',
        entity: 'deal',
        trigger: { type: 'manual' },
        actions: [
          {
            type: 'suggest',
            reason: 'Close {{record.name}}?',
            actions: [{ type: 'update', values: { stage: 'won' } }],
          },
        ],
      });
      const deal = await createRecord('deal', { name: 'SDK deal', stage: 'negotiation' });
      const dry = await client.automation.test(r.id, deal.id);
      expect(dry).toMatchObject({ matches: true, written: false });
      expect((await client.automation.run(r.id, deal.id)).outcome).toBe('suggested');
      const [s] = await client.automation.suggestions({ recordId: deal.id });
      expect(s!.reason).toBe('Close SDK deal?');
      expect((await client.automation.approve(s!.id)).status).toBe('approved');
      expect(expectStatus(await http().get(`/api/data/deal/${deal.id}`), 200).stage).toBe('won');
      await expect(client.automation.approve(s!.id)).rejects.toMatchObject({ code: 'XRM_ERR_SUGGESTION_DECIDED' });
      // a second suggestion, dismissed; the notifications the approval did not make stay as they were
      await client.automation.run(r.id, deal.id);
      const [again] = await client.automation.suggestions({ recordId: deal.id });
      expect((await client.automation.dismiss(again!.id)).status).toBe('dismissed');
      const { unread, data } = await client.automation.notifications({ unread: true });
      if (data[0]) expect((await client.automation.markRead(data[0].id)).read).toBe(true);
      expect((await client.automation.notifications({ unread: true })).unread).toBe(Math.max(0, unread - 1));
      await http().delete(`/api/automation/rules/${r.id}`);
    });

    it('an email that never arrives is a failed run of its rule, in its log and its health', async () => {
      const r = await rule({
        name: 'Mail a bounce',
        entity: 'deal',
        trigger: { type: 'manual' },
        actions: [{ type: 'email', to: 'bounce@example.com', subject: 'Hi {{record.name}}', body: 'Hello' }],
      });
      const deal = await createRecord('deal', { name: 'Bouncy' });
      expect(expectStatus(await http().post(`/api/automation/rules/${r.id}/run`, { id: deal.id }), 200).outcome).toBe(
        'succeeded',
      );
      await settled();
      const failed = (await runs(r.id)).find((x: { trigger: string }) => x.trigger === 'delivery');
      expect(failed).toMatchObject({ outcome: 'failed', recordId: deal.id });
      expect(failed.error).toMatch(/^email to bounce@example\.com failed after 3 attempt\(s\): .*no such mailbox/);
      const health = expectStatus(await http().get('/api/automation/health'), 200);
      expect(health.failing.map((x: { id: string }) => x.id)).toContain(r.id);
      await http().delete(`/api/automation/rules/${r.id}`);
    });

    it('refuses rules that do not check out against the catalog, naming the path', async () => {
      const base = { name: 'x', entity: 'deal', trigger: { type: 'event', messages: ['create'] } };
      const cases: [Record<string, unknown>, number, string, string][] = [
        [{ ...base, actions: [] }, 400, 'XRM_ERR_REQUEST_INVALID', '/actions'],
        [
          { ...base, actions: [{ type: 'update', values: { nope: 1 } }] },
          400,
          'XRM_ERR_REQUEST_INVALID',
          '/actions/0/values/nope',
        ],
        [
          { ...base, actions: [{ type: 'create', entity: 'task', values: { subject: '{{record.nope}}' } }] },
          400,
          'XRM_ERR_REQUEST_INVALID',
          '/actions/0/values/subject',
        ],
        [
          { ...base, condition: { stage: { eq: 'nope' } }, actions: [{ type: 'notify', to: 'owner', text: 't' }] },
          400,
          'XRM_ERR_QUERY_INVALID',
          '/condition/stage/eq',
        ],
        [
          {
            ...base,
            condition: { amount: { olderThan: 'P1D' } },
            actions: [{ type: 'notify', to: 'owner', text: 't' }],
          },
          400,
          'XRM_ERR_QUERY_INVALID',
          '/condition/amount/olderThan',
        ],
        [
          {
            ...base,
            trigger: { type: 'schedule', cron: 'every day' },
            actions: [{ type: 'notify', to: 'owner', text: 't' }],
          },
          400,
          'XRM_ERR_REQUEST_INVALID',
          '/trigger/cron',
        ],
        [
          {
            ...base,
            trigger: { type: 'schedule', cron: '0 9 * * *', timeZone: 'Mars/Olympus' },
            actions: [{ type: 'notify', to: 'owner', text: 't' }],
          },
          400,
          'XRM_ERR_REQUEST_INVALID',
          '/trigger/timeZone',
        ],
        [
          {
            ...base,
            trigger: { type: 'schedule', cron: '0 9 * * *' },
            condition: { stage: { changedTo: 'won' } },
            actions: [{ type: 'notify', to: 'owner', text: 't' }],
          },
          400,
          'XRM_ERR_QUERY_INVALID',
          '/condition/stage/changedTo',
        ],
        [{ ...base, actions: [{ type: 'message', name: 'nope' }] }, 400, 'XRM_ERR_REQUEST_INVALID', '/actions/0/name'],
        [
          { ...base, actions: [{ type: 'webhook', url: 'http://127.0.0.1/hook' }] },
          422,
          'XRM_ERR_WEBHOOK_TARGET_FORBIDDEN',
          '/actions/0/url',
        ],
        [
          {
            ...base,
            actions: [{ type: 'suggest', reason: 'r', actions: [{ type: 'suggest', reason: 'r', actions: [] }] }],
          },
          400,
          'XRM_ERR_REQUEST_INVALID',
          '/actions/0/actions/0/type',
        ],
      ];
      for (const [body, status, code, path] of cases)
        expectProblem(await http().post('/api/automation/rules', body), status, code, path);
      expectProblem(
        await http().get('/api/automation/rules/00000000-0000-4000-8000-000000000000'),
        404,
        'XRM_ERR_RULE_NOT_FOUND',
      );
    });
  },
  {
    build: { clock, plugins: [sales] },
    config: {
      // read when the platform is built, after the SMTP receiver listens
      get smtpUrl() {
        return `smtp://127.0.0.1:${smtpPort}`;
      },
      automationTickMs: 0,
      jobs: { maxAttempts: 3, leaseMs: 5000, backoffMs: 20, pollMs: 50, concurrency: 4, retentionDays: 7 },
    },
  },
);
