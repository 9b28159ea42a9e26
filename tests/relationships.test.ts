/**
 * The relationship layer on both databases, with an injected clock: golden crafted histories whose
 * expected signals are worked out here by hand from the README's formula (not by calling the
 * platform's formula module): one-way mail scores 0, a 1:1 meeting outweighs a 50-person one,
 * "usually 2 h, now 5 days" fires after 6 h and once, stale after 2 × cadence, factors recompute to
 * every score, concurrent activity writes leave exactly what a full recompute gives, parties resolve
 * across entities, ingestion is idempotent by message id, the timeline pages newest first, and the
 * signal fields are ordinary read-only fields.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { api } from './support/http.ts';
import { activities } from './support/activities.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus, modelling } from './support/problems.ts';
import { until } from './support/tools.ts';

let now = new Date('2026-06-01T12:00:00.000Z');
const clock = () => now;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

const W = { recency: 0.35, frequency: 0.25, reciprocity: 0.2, depth: 0.2 };
/** The README's formula, written out here on purpose (an independent check of the platform's). */
const score = (f: { recency: number; frequency: number; reciprocity: number; depth: number }, w = W) =>
  Math.round(
    100 * (w.recency * f.recency + w.frequency * f.frequency + w.reciprocity * f.reciprocity + w.depth * f.depth),
  );

describeEachDatabase(
  'relationship layer',
  (platform, kind) => {
    const http = () => api(platform().app);
    const { defineEntity, createRecord } = modelling(http);
    const db = () => platform().services.db;
    const rel = () => platform().services.relationships;
    const me = 'me@northwind.example';

    const { log, signals, record } = activities(http);
    const contact = async (name: string, extra: Record<string, unknown> = {}) =>
      (await createRecord('contact', { name, email: `${name.toLowerCase()}@acme.example`, ...extra })).id as string;
    const email = (id: string, direction: 'inbound' | 'outbound', at: string, extra: Record<string, unknown> = {}) =>
      log({
        kind: 'email',
        direction,
        subject: 'Hello',
        occurred_at: at,
        parties:
          direction === 'outbound'
            ? [
                { role: 'from', address: me },
                { role: 'to', entity: 'contact', id },
              ]
            : [
                { role: 'from', entity: 'contact', id },
                { role: 'to', address: me },
              ],
        ...extra,
      });

    beforeAll(async () => {
      now = new Date('2026-06-01T12:00:00.000Z');
      await defineEntity('partner', [{ name: 'name', type: 'text' }], { trackActivities: true });
      await defineEntity(
        'contact',
        [
          { name: 'name', type: 'text' },
          { name: 'email', type: 'email' },
          { name: 'phone', type: 'phone' },
        ],
        { trackActivities: true },
      );
      await defineEntity(
        'employee',
        [
          { name: 'name', type: 'text' },
          { name: 'work_phone', type: 'phone' },
        ],
        { trackActivities: true },
      );
      await defineEntity('iot_device', [
        { name: 'name', type: 'text' },
        { name: 'address', type: 'email' },
      ]);
      expectStatus(await http().patch('/api/metadata/entities/iot_device', { trackActivities: true }), 200);
    });

    it('a tracked entity has the signal fields, read-only in every API, ordinary in reads', async () => {
      const entity = expectStatus(await http().get('/api/metadata/entities/contact'), 200);
      const names = (entity.fields as { name: string; maintainedBy?: string }[])
        .filter((f) => f.maintainedBy === 'relationships')
        .map((f) => f.name);
      for (const n of [
        'last_contact_at',
        'last_inbound_at',
        'last_outbound_at',
        'interactions_30d',
        'interactions_90d',
        'median_response_minutes',
        'awaiting_reply_since',
        'relationship_strength',
        'relationship_health',
        'next_meeting_at',
      ])
        expect(names).toContain(n);
      const id = await contact('Readonly');
      const fresh = await record('contact', id);
      expect(fresh).toMatchObject({ relationship_strength: 0, relationship_health: 'none', last_contact_at: null });
      expectProblem(
        await http().post('/api/data/contact', { name: 'x', relationship_strength: 90 }),
        400,
        'XRM_ERR_RECORD_INVALID',
      );
      expectProblem(
        await http().patch(`/api/data/contact/${id}`, { last_contact_at: ago(0) }),
        400,
        'XRM_ERR_RECORD_INVALID',
      );
      expectProblem(
        await http().patch('/api/metadata/entities/contact/fields/relationship_strength', { displayName: 'S' }),
        422,
        'XRM_ERR_METADATA_CHANGE_REFUSED',
      );
      // filter, sort and GraphQL, like any field
      const page = expectStatus(
        await http().get(
          `/api/data/contact?filter=${encodeURIComponent('{"relationship_strength":{"gte":0}}')}` +
            '&sort=-relationship_strength',
        ),
        200,
      );
      expect(page.data.length).toBeGreaterThan(0);
      const gql = expectStatus(
        await http().post('/graphql', {
          query: '{ contacts(first: 1) { edges { node { relationshipStrength relationshipHealth } } } }',
        }),
        200,
      );
      expect(gql.errors, JSON.stringify(gql.errors)).toBeUndefined();
      // the activity entity cannot be deleted, nor its built-in fields dropped
      expectProblem(await http().delete('/api/metadata/entities/activity'), 422, 'XRM_ERR_METADATA_CHANGE_REFUSED');
      expectProblem(
        await http().delete('/api/metadata/entities/activity/fields/kind'),
        422,
        'XRM_ERR_METADATA_CHANGE_REFUSED',
      );
      // an activity regarding a record of an entity that does not track activities is refused
      await defineEntity('plain', [{ name: 'name', type: 'text' }]);
      const plain = (await createRecord('plain', { name: 'p' })).id;
      expectProblem(
        await http().post('/api/data/activity', {
          kind: 'note',
          occurred_at: ago(0),
          regarding: { entity: 'plain', id: plain },
        }),
        400,
        'XRM_ERR_RECORD_INVALID',
        '/regarding/entity',
      );
    });

    it('one-way mail scores exactly 0; one-to-one mail awaits a reply, a mailing does not', async () => {
      const ann = await contact('Ann');
      const crowd = await Promise.all(Array.from({ length: 39 }, (_, i) => contact(`Crowd${i}`)));
      for (let d = 10; d >= 1; d--) {
        await log({
          kind: 'email',
          direction: 'outbound',
          subject: `Newsletter ${d}`,
          occurred_at: ago(d * DAY),
          parties: [
            { role: 'from', address: me },
            ...[ann, ...crowd].map((id) => ({ role: 'to', entity: 'contact', id })),
          ],
        });
      }
      const s = await signals('contact', ann);
      expect(s.score).toBe(0);
      expect(s.factors).toEqual({ recency: 0, frequency: 0, reciprocity: 0, depth: 0 });
      const stored = await record('contact', ann);
      expect(stored).toMatchObject({
        relationship_strength: 0,
        relationship_health: 'none',
        last_contact_at: null,
        awaiting_reply_since: null,
        interactions_90d: 0,
      });
      expect(stored.last_outbound_at).toBe(ago(DAY));
      // one-to-one emails nobody answers: still 0, and we await a reply since the first
      const bob = await contact('Bob');
      await email(bob, 'outbound', ago(3 * DAY));
      await email(bob, 'outbound', ago(2 * DAY));
      expect((await signals('contact', bob)).score).toBe(0);
      expect(await record('contact', bob)).toMatchObject({
        relationship_strength: 0,
        awaiting_reply_since: ago(3 * DAY),
      });
    });

    it('a steady two-way history scores what the formula gives, and the factors recompute to the score', async () => {
      const cleo = await contact('Cleo');
      // every 10 days for 80 days: our email, answered 2 h later
      for (let d = 80; d >= 0; d -= 10) {
        const out = await email(cleo, 'outbound', ago(d * DAY + 2 * HOUR));
        await email(cleo, 'inbound', ago(d * DAY), { in_reply_to: out.id, subject: 'Re: Hello' });
      }
      const s = await signals('contact', cleo);
      // 9 answered outbound + 9 inbound = 18 two-way in 90 days; last two-way: the reply just now
      const expected = {
        recency: 1,
        frequency: Math.min(1, 18 / (90 / 14)),
        reciprocity: 1,
        depth: Math.min(1, (18 * 0.3) / 3),
      };
      expect(s.factors.recency).toBeCloseTo(expected.recency, 12);
      expect(s.factors.frequency).toBeCloseTo(expected.frequency, 12);
      expect(s.factors.reciprocity).toBeCloseTo(expected.reciprocity, 12);
      expect(s.factors.depth).toBeCloseTo(expected.depth, 12);
      expect(s.score).toBe(score(expected));
      expect(s.score).toBe(100);
      expect(s.health).toBe('very_strong');
      // the parts recompute to the score exactly, from what the answer itself carries
      expect(Math.round(100 * Object.keys(W).reduce((sum, k) => sum + s.weights[k] * s.factors[k], 0))).toBe(s.score);
      expect(s.activityIds.length).toBe(18);
      const stored = await record('contact', cleo);
      expect(stored).toMatchObject({
        relationship_strength: 100,
        interactions_30d: 6,
        interactions_90d: 18,
        median_response_minutes: 120,
        awaiting_reply_since: null,
        last_contact_at: ago(0),
      });
    });

    it('a 50-person meeting counts less than a 1:1, and recency halves every cadence', async () => {
      const dana = await contact('Dana');
      const eve = await contact('Eve');
      const others = await Promise.all(Array.from({ length: 48 }, (_, i) => contact(`Guest${i}`)));
      await log({
        kind: 'meeting',
        direction: 'outbound',
        subject: '1:1',
        occurred_at: ago(14 * DAY),
        duration_minutes: 30,
        parties: [
          { role: 'from', address: me },
          { role: 'attendee', entity: 'contact', id: dana },
        ],
      });
      await log({
        kind: 'meeting',
        direction: 'outbound',
        subject: 'All hands',
        occurred_at: ago(14 * DAY),
        duration_minutes: 60,
        parties: [
          { role: 'from', address: me },
          ...[eve, ...others].map((id) => ({ role: 'attendee', entity: 'contact', id })),
        ],
      });
      const one = await signals('contact', dana);
      const many = await signals('contact', eve);
      // recency: 14 days at cadence 14 → one half-life; frequency 1 / (90/14); outbound only → reciprocity 0
      const base = { recency: 0.5, frequency: 14 / 90, reciprocity: 0 };
      expect(one.factors.recency).toBeCloseTo(0.5, 12);
      expect(one.factors.depth).toBeCloseTo(1 / 3, 12); // 1 ÷ √(2 − 1) ÷ 3
      expect(many.factors.depth).toBeCloseTo(1 / Math.sqrt(49) / 3, 12); // 50 people
      expect(one.score).toBe(score({ ...base, depth: 1 / 3 }));
      expect(many.score).toBe(score({ ...base, depth: 1 / 21 }));
      expect(one.score).toBeGreaterThan(many.score);
    });

    it('drift: "usually 2 h, now 5 days" is overdue after 6 h, suggested once per episode', async () => {
      now = new Date('2026-06-10T09:00:00.000Z');
      const finn = await contact('Finn');
      for (let d = 30; d >= 10; d -= 5) {
        const out = await email(finn, 'outbound', ago(d * DAY));
        await email(finn, 'inbound', new Date(now.getTime() - d * DAY + 2 * HOUR).toISOString(), {
          in_reply_to: out.id,
        });
      }
      const sentAt = now.toISOString();
      await email(finn, 'outbound', sentAt);
      const stored = await record('contact', finn);
      expect(stored.median_response_minutes).toBe(120);
      expect(stored.awaiting_reply_since).toBe(sentAt);
      expect(stored.reply_overdue_at).toBe(new Date(Date.parse(sentAt) + 6 * HOUR).toISOString());
      const alert = expectStatus(
        await http().post('/api/relationships/alerts', { entity: 'contact', template: 'drift' }),
        201,
      );
      const suggestionsFor = async () => {
        const all = expectStatus(await http().get('/api/suggestions?all=true'), 200).data as {
          ruleId?: string;
          rule?: { id: string };
          recordId?: string;
          record?: { id: string };
        }[];
        return all.filter((x) => JSON.stringify(x).includes(alert.id) && JSON.stringify(x).includes(finn));
      };
      const tick = async (at: number) => {
        now = new Date(Date.parse(sentAt) + at);
        await platform().services.automation.scheduler.tick();
        await settled();
      };
      await tick(5 * HOUR);
      expect(await suggestionsFor()).toHaveLength(0);
      await tick(6 * HOUR + 60_000);
      expect(await suggestionsFor()).toHaveLength(1);
      await tick(7 * HOUR + 120_000);
      await tick(5 * DAY);
      expect(await suggestionsFor()).toHaveLength(1);
      // the reply ends the episode; the next unanswered email starts a new one
      await email(finn, 'inbound', now.toISOString(), { subject: 'Re: sorry' });
      expect((await record('contact', finn)).reply_overdue_at).toBeNull();
      await tick(5 * DAY + 2 * HOUR);
      const second = now.toISOString();
      await email(finn, 'outbound', second);
      await tick(5 * DAY + 9 * HOUR);
      expect(await suggestionsFor()).toHaveLength(2);
      expectStatus(await http().post(`/api/automation/rules/${alert.id}/disable`), 200);
    });

    const settled = () =>
      until('the job queue to settle', async () => {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.jobs
          WHERE state IN ('queued', 'running', 'failed')`.execute(db());
        return rows[0]!.n === 0 || undefined;
      });

    it('stale after 2 × cadence: not at 27 days, at 29; the today list says why', async () => {
      now = new Date('2026-07-01T12:00:00.000Z');
      const partner = (await createRecord('partner', { name: 'Globex' })).id as string;
      await log({
        kind: 'call',
        direction: 'inbound',
        subject: 'Catch-up',
        occurred_at: ago(27 * DAY),
        duration_minutes: 20,
        regarding: { entity: 'partner', id: partner },
      });
      const alert = expectStatus(
        await http().post('/api/relationships/alerts', { entity: 'partner', template: 'stale' }),
        201,
      );
      expect(alert.condition).toEqual({ last_contact_at: { olderThan: 'P28D' } });
      await platform().services.automation.scheduler.tick();
      await settled();
      const mine = async () =>
        (expectStatus(await http().get('/api/suggestions?all=true'), 200).data as unknown[]).filter((x) =>
          JSON.stringify(x).includes(partner),
        );
      expect(await mine()).toHaveLength(0);
      now = new Date(now.getTime() + 2 * DAY);
      await platform().services.automation.scheduler.tick();
      await settled();
      expect(await mine()).toHaveLength(1);
      const today = expectStatus(await http().get('/api/relationships/today?owner=me&limit=200'), 200);
      const item = (today.data as { id: string; reason: string; reasons: { kind: string }[] }[]).find(
        (x) => x.id === partner,
      );
      expect(item?.reasons.map((r) => r.kind)).toContain('stale');
      expect(item?.reason).toMatch(/No two-way contact for 29 days \(cadence 14 days\)/);
      expectStatus(await http().post(`/api/automation/rules/${alert.id}/disable`), 200);
    });

    it('at risk: a strength fall of 20 points in 30 days is suggested; a meeting without follow-up too', async () => {
      now = new Date('2026-07-20T12:00:00.000Z');
      const olga = await contact('Olga');
      // twelve calls from 60 to 35 days ago, then silence
      for (let i = 0; i < 12; i++) {
        await log({
          kind: 'call',
          direction: i % 2 ? 'inbound' : 'outbound',
          occurred_at: ago((60 - (i * 25) / 11) * DAY),
          duration_minutes: 10,
          parties: [{ role: 'to', entity: 'contact', id: olga }],
        });
      }
      // worked out by hand: frequency, reciprocity and depth are full then and now; recency fell
      const then = score({ recency: 2 ** (-5 / 14), frequency: 1, reciprocity: 1, depth: 1 });
      const today = score({ recency: 2 ** (-35 / 14), frequency: 1, reciprocity: 1, depth: 1 });
      const stored = await record('contact', olga);
      expect(stored.relationship_strength).toBe(today);
      expect(stored.strength_change_30d).toBe(today - then);
      expect(today - then).toBeLessThanOrEqual(-20);
      const pia = await contact('Pia');
      await log({
        kind: 'meeting',
        direction: 'outbound',
        subject: 'Workshop',
        occurred_at: ago(2 * DAY),
        parties: [
          { role: 'from', address: me },
          { role: 'attendee', entity: 'contact', id: pia },
        ],
      });
      expect((await record('contact', pia)).unfollowed_meeting_at).toBe(ago(2 * DAY));
      const atRisk = expectStatus(
        await http().post('/api/relationships/alerts', { entity: 'contact', template: 'at_risk' }),
        201,
      );
      const followUp = expectStatus(
        await http().post('/api/relationships/alerts', { entity: 'contact', template: 'meeting_follow_up' }),
        201,
      );
      expect(atRisk.condition).toEqual({ strength_change_30d: { lte: -20 } });
      // the rules look hourly, from when they were made
      now = new Date(now.getTime() + 2 * HOUR);
      await platform().services.automation.scheduler.tick();
      await settled();
      const all = expectStatus(await http().get('/api/suggestions?all=true'), 200).data as unknown[];
      const of = (rule: string, id: string) =>
        all.filter((x) => JSON.stringify(x).includes(rule) && JSON.stringify(x).includes(id));
      expect(of(atRisk.id, olga)).toHaveLength(1);
      expect(of(followUp.id, pia)).toHaveLength(1);
      expect(of(followUp.id, olga)).toHaveLength(0);
      // a follow-up email ends the meeting's episode
      await email(pia, 'outbound', ago(DAY));
      expect((await record('contact', pia)).unfollowed_meeting_at).toBeNull();
      for (const rule of [atRisk, followUp])
        expectStatus(await http().post(`/api/automation/rules/${rule.id}/disable`), 200);
    });

    it('parties resolve across entities by email and phone; the timeline pages newest first', async () => {
      now = new Date('2026-08-01T12:00:00.000Z');
      const gus = await contact('Gus', { phone: '+1 555 0100' });
      const emp = (await createRecord('employee', { name: 'Hana', work_phone: '+44 20 7946 0958' })).id as string;
      const dev = (await createRecord('iot_device', { name: 'Sensor 7', address: 'device-7@telemetry.example' }))
        .id as string;
      const partner = (await createRecord('partner', { name: 'Initech' })).id as string;
      const a = await log({
        kind: 'meeting',
        direction: 'outbound',
        subject: 'Site visit',
        occurred_at: ago(DAY),
        regarding: { entity: 'partner', id: partner },
        parties: [
          { role: 'from', address: me },
          { role: 'attendee', address: 'GUS@acme.example' },
          { role: 'attendee', address: '+44 (20) 7946-0958' },
          { role: 'attendee', address: 'device-7@telemetry.example' },
          { role: 'attendee', address: 'stranger@nowhere.example' },
        ],
      });
      expect(a.parties).toEqual([
        { role: 'from', address: me },
        { role: 'attendee', address: 'GUS@acme.example', entity: 'contact', id: gus },
        { role: 'attendee', address: '+44 (20) 7946-0958', entity: 'employee', id: emp },
        { role: 'attendee', address: 'device-7@telemetry.example', entity: 'iot_device', id: dev },
        { role: 'attendee', address: 'stranger@nowhere.example' },
      ]);
      for (const [entity, id] of [
        ['contact', gus],
        ['employee', emp],
        ['iot_device', dev],
        ['partner', partner],
      ] as const) {
        expect((await record(entity, id)).last_contact_at, entity).toBe(ago(DAY));
      }
      for (let i = 2; i <= 7; i++)
        await log({
          kind: 'note',
          subject: `Note ${i}`,
          occurred_at: ago(i * DAY),
          regarding: { entity: 'partner', id: partner },
        });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = expectStatus(
          await http().get(`/api/data/partner/${partner}/timeline?limit=3${cursor ? `&cursor=${cursor}` : ''}`),
          200,
        );
        seen.push(...(page.data as { subject: string }[]).map((x) => x.subject));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['Site visit', 'Note 2', 'Note 3', 'Note 4', 'Note 5', 'Note 6', 'Note 7']);
      // the same in GraphQL: a timeline connection on the partner type, paged by its cursors
      const gqlSeen: string[] = [];
      let after: string | null = null;
      for (;;) {
        interface TimelineReply {
          errors?: unknown;
          data: {
            partner: {
              timeline: {
                nodes: { subject: string }[];
                pageInfo: { hasNextPage: boolean; endCursor: string | null };
              };
            };
          };
        }
        const reply: TimelineReply = expectStatus(
          await http().post('/graphql', {
            query:
              'query($id: ID!, $after: String) { partner(id: $id) { timeline(first: 3, after: $after) { ' +
              'nodes { subject kind occurredAt } pageInfo { hasNextPage endCursor } } } }',
            variables: { id: partner, after },
          }),
          200,
        );
        expect(reply.errors, JSON.stringify(reply.errors)).toBeUndefined();
        const tl = reply.data.partner.timeline;
        gqlSeen.push(...tl.nodes.map((n) => n.subject));
        if (!tl.pageInfo.hasNextPage) break;
        after = tl.pageInfo.endCursor;
      }
      expect(gqlSeen).toEqual(seen);
      expectProblem(
        await http().get(`/api/data/partner/${partner}/timeline?cursor=nope`),
        400,
        'XRM_ERR_QUERY_INVALID',
        '/cursor',
      );
      expectProblem(await http().get(`/api/data/plain/${partner}/signals`), 404, 'XRM_ERR_ROUTE_NOT_FOUND');
    });

    it('ingestion is idempotent by message id and threads replies by Message-ID', async () => {
      now = new Date('2026-09-01T12:00:00.000Z');
      const ivy = await contact('Ivy');
      const batch = [
        {
          message_id: 'm1@acme',
          kind: 'email',
          direction: 'outbound',
          occurred_at: ago(5 * HOUR),
          subject: 'Offer',
          parties: [{ role: 'to', address: 'ivy@acme.example' }],
        },
        {
          message_id: 'm2@acme',
          in_reply_to: 'm1@acme',
          kind: 'email',
          direction: 'inbound',
          occurred_at: ago(4 * HOUR),
          subject: 'Re: Offer',
          parties: [{ role: 'from', address: 'ivy@acme.example' }],
        },
      ];
      const first = expectStatus(await http().post('/api/activities/ingest', { activities: batch }), 200);
      expect(first.data.map((x: { created: boolean }) => x.created)).toEqual([true, true]);
      const again = expectStatus(await http().post('/api/activities/ingest', { activities: batch }), 200);
      expect(again.data.map((x: { created: boolean }) => x.created)).toEqual([false, false]);
      expect(again.data.map((x: { id: string }) => x.id)).toEqual(first.data.map((x: { id: string }) => x.id));
      const reply = await record('activity', first.data[1].id);
      expect(reply.in_reply_to).toBe(first.data[0].id);
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM data.activity WHERE message_id LIKE 'm_@acme'`.execute(db());
      expect(rows[0]!.n).toBe(2);
      const s = await record('contact', ivy);
      expect(s).toMatchObject({ interactions_90d: 2, median_response_minutes: 60 });
    });

    it('imports CSV and mbox files as jobs that report progress; importing again adds nothing', async () => {
      now = new Date('2026-09-15T12:00:00.000Z');
      const nia = await contact('Nia');
      const csv = [
        'kind,direction,subject,occurred_at,from,to',
        `email,,Offer,${ago(3 * DAY)},${me},nia@acme.example`,
        `email,,"Re: Offer, thanks",${ago(3 * DAY - HOUR)},nia@acme.example,${me}`,
        `call,outbound,Follow-up call,${ago(2 * DAY)},${me},NIA@acme.example`,
        'note,,Broken,2026-13-40,,',
      ].join('\r\n');
      const runImport = async (body: string, format: string) => {
        const started = expectStatus(
          await http().post(`/api/activities/import?format=${format}&own=${me}`, body, {
            'content-type': format === 'csv' ? 'text/csv' : 'application/mbox',
          }),
          202,
        );
        expect(started.job.format).toBe(format);
        expect(JSON.stringify(started)).not.toContain('imports/');
        return until('the import job to finish', async () => {
          const job = expectStatus(await http().get(`/api/activities/import/${started.job.id}`), 200);
          return job.state === 'succeeded' || job.state === 'dead' ? job : undefined;
        });
      };
      const job = await runImport(csv, 'csv');
      expect(job.state, JSON.stringify(job)).toBe('succeeded');
      expect(job.progress).toMatchObject({ imported: 3, problems: 1, done: true, bytes: Buffer.byteLength(csv) });
      expect(job.progress.problemSamples[0]).toMatch(/^#4: /);
      const linked = async () =>
        (
          await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.activity_links
          WHERE entity = 'contact' AND record_id = ${nia}::uuid`.execute(db())
        ).rows[0]!.n;
      expect(await linked()).toBe(3);
      const signalsOfNia = await record('contact', nia);
      // the CSV does not thread the reply: our offer stays one-way; their reply and the call are two-way
      expect(signalsOfNia, JSON.stringify(signalsOfNia)).toMatchObject({
        interactions_90d: 2,
        last_contact_at: ago(2 * DAY),
        last_inbound_at: ago(3 * DAY - HOUR),
      });
      expect((await runImport(csv, 'csv')).progress).toMatchObject({ imported: 3, done: true });
      expect(await linked()).toBe(3);
      // an mbox thread: the reply's In-Reply-To becomes in_reply_to, so their reply time is known
      const mbox = [
        'From me@northwind.example Mon Sep 14 09:00:00 2026',
        `From: Me <${me}>`,
        'To: Nia <nia@acme.example>',
        'Subject: Contract',
        'Message-ID: <contract-1@northwind.example>',
        `Date: ${new Date(now.getTime() - DAY).toUTCString()}`,
        '',
        'Here it is.',
        '',
        'From nia@acme.example Mon Sep 14 10:00:00 2026',
        'From: Nia <nia@acme.example>',
        `To: ${me}`,
        'Subject: Re: Contract',
        'Message-ID: <contract-2@acme.example>',
        'In-Reply-To: <contract-1@northwind.example>',
        `Date: ${new Date(now.getTime() - DAY + 30 * 60_000).toUTCString()}`,
        '',
        'Signed.',
        '',
      ].join('\n');
      expect((await runImport(mbox, 'mbox')).progress).toMatchObject({ imported: 2, problems: 0, done: true });
      const { rows } = await sql<{
        reply: string;
        original: string;
      }>`SELECT r.in_reply_to::text AS reply, o.id::text AS original
        FROM data.activity r JOIN data.activity o ON o.message_id = 'contract-1@northwind.example'
        WHERE r.message_id = 'contract-2@acme.example'`.execute(db());
      expect(rows[0]!.reply).toBe(rows[0]!.original);
      expect(await linked()).toBe(5);
      // a row the activity refuses is a problem of its own; the rest of its batch is imported
      const odd = [
        'kind,direction,subject,occurred_at,duration_minutes,to',
        `call,outbound,Fine,${ago(HOUR)},10,nia@acme.example`,
        `call,outbound,Endless,${ago(HOUR)},3000000000,nia@acme.example`,
      ].join('\n');
      const oddJob = await runImport(odd, 'csv');
      expect(oddJob.state).toBe('succeeded');
      expect(oddJob.progress).toMatchObject({ imported: 1, problems: 1, done: true });
      expect(oddJob.progress.problemSamples[0]).toMatch(/^#2: \/duration_minutes /);
      expectProblem(
        await http().post('/api/activities/import', 'x', { 'content-type': 'application/octet-stream' }),
        400,
        'XRM_ERR_REQUEST_INVALID',
        '/format',
      );
    });

    it('concurrent activity writes leave exactly what a full recompute gives (0 mismatches)', async () => {
      now = new Date('2026-10-01T12:00:00.000Z');
      const ids = await Promise.all(['Jo', 'Kai', 'Lu'].map((n) => contact(n)));
      const writes = Array.from({ length: 36 }, (_, i) => {
        const id = ids[i % 3]!;
        const kinds = ['email', 'call', 'meeting'] as const;
        return http().post('/api/data/activity', {
          kind: kinds[i % 3],
          direction: i % 2 ? 'inbound' : 'outbound',
          occurred_at: ago((i % 40) * DAY + i * 60_000),
          parties: [
            { role: 'to', entity: 'contact', id },
            { role: 'cc', entity: 'contact', id: ids[(i + 1) % 3] },
          ],
        });
      });
      for (const reply of await Promise.all(writes)) expectStatus(reply, 201);
      const columns = sql.raw(
        'last_contact_at, last_inbound_at, last_outbound_at, interactions_30d, interactions_90d, ' +
          'median_response_minutes, awaiting_reply_since, relationship_strength, relationship_health, ' +
          'strength_change_30d',
      );
      const snapshot = async () =>
        (
          await sql<Record<string, unknown>>`SELECT id, ${columns} FROM data.contact
            WHERE id = ANY(${`{${ids.join(',')}}`}::uuid[]) ORDER BY id`.execute(db())
        ).rows;
      const incremental = await snapshot();
      expect(await rel().recomputeAll('contact')).toBeGreaterThan(0);
      const full = await snapshot();
      const mismatches = full.filter((row, i) => JSON.stringify(row) !== JSON.stringify(incremental[i]));
      expect(mismatches).toEqual([]);
      expect(incremental.find((r) => r.id === ids[0])!.relationship_strength).toBeGreaterThan(0);
    });

    it('time moves the stored signals: the refresh recomputes what is older than an hour', async () => {
      now = new Date('2026-11-01T12:00:00.000Z');
      const max = await contact('Max');
      await log({
        kind: 'call',
        direction: 'inbound',
        occurred_at: ago(0),
        duration_minutes: 5,
        parties: [{ role: 'from', entity: 'contact', id: max }],
      });
      const before = await record('contact', max);
      now = new Date(now.getTime() + 14 * DAY);
      expect(await rel().refreshDue()).toBeGreaterThan(0);
      const after = await record('contact', max);
      expect(after.relationship_strength).toBeLessThan(before.relationship_strength);
      expect(after.signals_updated_at).toBe(now.toISOString());
      const live = await signals('contact', max);
      expect(live.score).toBe(after.relationship_strength);
      expect(live.factors.recency).toBeCloseTo(0.5, 12);
    });

    it('every score of the suite recomputes from its factors, and equals the stored field once refreshed', async () => {
      now = new Date('2026-12-01T12:00:00.000Z');
      await rel().refreshDue();
      let checked = 0;
      for (const entity of ['contact', 'partner', 'employee', 'iot_device']) {
        const page = expectStatus(
          await http().get(`/api/data/${entity}?limit=1000&select=id,relationship_strength`),
          200,
        );
        for (const r of page.data as { id: string; relationship_strength: number }[]) {
          const s = await signals(entity, r.id);
          const recomputed = Math.round(100 * Object.keys(W).reduce((sum, k) => sum + s.weights[k] * s.factors[k], 0));
          expect(recomputed, `${entity} ${r.id}`).toBe(s.score);
          expect(s.score, `${entity} ${r.id}`).toBe(r.relationship_strength);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(100);
    });

    it(`[${kind}] per-entity cadence and weights are used and checked`, async () => {
      expectProblem(
        await http().patch('/api/metadata/entities/partner', {
          signalSettings: { weights: { recency: 0.5, frequency: 0.5, reciprocity: 0.5, depth: 0 } },
        }),
        400,
        'XRM_ERR_METADATA_INVALID',
        '/signalSettings/weights',
      );
      const weights = { recency: 1, frequency: 0, reciprocity: 0, depth: 0 };
      expectStatus(
        await http().patch('/api/metadata/entities/partner', { signalSettings: { cadenceDays: 7, weights } }),
        200,
      );
      const p = (await createRecord('partner', { name: 'Umbrella' })).id as string;
      await log({
        kind: 'call',
        direction: 'outbound',
        occurred_at: ago(7 * DAY),
        regarding: { entity: 'partner', id: p },
      });
      const s = await signals('partner', p);
      expect(s.cadenceDays).toBe(7);
      expect(s.factors.recency).toBeCloseTo(0.5, 12);
      expect(s.score).toBe(50);
      expectStatus(await http().patch('/api/metadata/entities/partner', { signalSettings: null }), 200);
    });
  },
  { build: { clock } },
);

describeEachDatabase('relationship layer under row security', (platform) => {
  const admin = () => api(platform().app);
  let alice: ReturnType<typeof api>;
  let mine = '';
  let hidden = '';
  beforeAll(async () => {
    expectStatus(
      await admin().post('/api/metadata/entities', {
        name: 'client',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'email', type: 'email' },
          { name: 'private_email', type: 'email', secured: true },
        ],
        trackActivities: true,
      }),
      201,
    );
    expectStatus(
      await admin().post('/api/roles', {
        name: 'client_own',
        privileges: [
          { entity: 'client', create: 'own', read: 'own', update: 'own', appendTo: 'own' },
          { entity: 'activity', create: 'own', read: 'own', update: 'own', append: 'own' },
        ],
      }),
      201,
    );
    const email = 'alice@rel.example';
    const password = 'alice-password-long-enough';
    const user = expectStatus(
      await admin().post('/api/users', { email, password, displayName: 'Alice', roles: ['client_own'] }),
      201,
    );
    const { token } = expectStatus(await admin().post('/api/auth/login', { email, password }), 200);
    alice = api(platform().app, token);
    // hers, with an address in a field her roles keep secret from her
    mine = expectStatus(
      await admin().post('/api/data/client', { name: 'Mine', private_email: 'me@mine.example', owner_id: user.id }),
      201,
    ).id;
    hidden = expectStatus(
      await admin().post('/api/data/client', { name: 'Hidden', email: 'ceo@secret.example' }),
      201,
    ).id;
  });

  it('links activities only to records the writer may read and append to, resolving only those', async () => {
    const at = new Date().toISOString();
    // regarding or naming a hidden record answers as a missing one would
    for (const body of [
      { regarding: { entity: 'client', id: hidden } },
      { parties: [{ role: 'to', entity: 'client', id: hidden }] },
      { parties: [{ role: 'to', entity: 'client', id: '00000000-0000-4000-8000-000000000000' }] },
    ]) {
      const reply = await alice.post('/api/data/activity', {
        kind: 'call',
        direction: 'outbound',
        occurred_at: at,
        ...body,
      });
      expectProblem(reply, 422, 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND');
    }
    expect((await admin().get(`/api/data/client/${hidden}`)).body.relationship_strength).toBe(0);
    // an address resolves neither to a hidden record nor through a secured field the writer cannot read
    const created = expectStatus(
      await alice.post('/api/data/activity', {
        kind: 'call',
        direction: 'outbound',
        occurred_at: at,
        regarding: { entity: 'client', id: mine.toUpperCase() },
        parties: [
          { role: 'to', address: 'CEO@secret.example' },
          { role: 'cc', address: 'me@mine.example' },
        ],
      }),
      201,
    );
    expect(created.regarding).toEqual({ entity: 'client', id: mine });
    expect(created.parties).toEqual([
      { role: 'to', address: 'CEO@secret.example' },
      { role: 'cc', address: 'me@mine.example' },
    ]);
    // the admin's own activity on her record counts, but its id is not shown to her
    const theirs = expectStatus(
      await admin().post('/api/data/activity', {
        kind: 'meeting',
        direction: 'outbound',
        occurred_at: at,
        regarding: { entity: 'client', id: mine },
      }),
      201,
    );
    const s = expectStatus(await alice.get(`/api/data/client/${mine}/signals`), 200);
    expect(s.inputs.twoWay90d).toBe(2);
    expect(s.activityIds).toEqual([created.id]);
    expect(s.activityIds).not.toContain(theirs.id);
    expectProblem(await alice.get(`/api/data/client/${hidden}/signals`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    expectProblem(await alice.get(`/api/data/client/${hidden}/timeline`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    expectProblem(
      await alice.post('/api/relationships/alerts', { entity: 'client', template: 'stale' }),
      403,
      'XRM_ERR_FORBIDDEN',
    );
  });

  it('a mutation selecting the timeline reads in its own transaction', async () => {
    const reply = expectStatus(
      await admin().post('/graphql', {
        query:
          'mutation { createClient(input: { name: "Fresh" }) { id ' +
          'timeline { nodes { id } pageInfo { hasNextPage } } } }',
      }),
      200,
    );
    expect(reply.errors, JSON.stringify(reply.errors)).toBeUndefined();
    expect(reply.data.createClient.timeline.nodes).toEqual([]);
  });

  it('an answer updates the records of the email it answers; bad references are 4xx, never 500', async () => {
    const ann = expectStatus(await admin().post('/api/data/client', { name: 'Ann', email: 'ann@co.example' }), 201).id;
    const co = expectStatus(await admin().post('/api/data/client', { name: 'Co' }), 201).id;
    const at = Date.now();
    const sent = expectStatus(
      await admin().post('/api/data/activity', {
        kind: 'email',
        direction: 'outbound',
        occurred_at: new Date(at - 3_600_000).toISOString(),
        regarding: { entity: 'client', id: co },
        parties: [{ role: 'to', address: 'ann@co.example' }],
      }),
      201,
    );
    expect((await admin().get(`/api/data/client/${co}`)).body.awaiting_reply_since).not.toBeNull();
    expectStatus(
      await admin().post('/api/data/activity', {
        kind: 'email',
        direction: 'inbound',
        occurred_at: new Date(at).toISOString(),
        in_reply_to: sent.id,
        parties: [{ role: 'from', address: 'ann@co.example' }],
      }),
      201,
    );
    const company = (await admin().get(`/api/data/client/${co}`)).body;
    expect(company.awaiting_reply_since).toBeNull();
    expect(company.interactions_30d).toBe(1);
    expect((await admin().get(`/api/data/client/${ann}`)).body.median_response_minutes).toBe(60);
    for (const regarding of [
      { entity: 'client', id: 'not-a-uuid' },
      { entity: 'client', id: '"}' },
    ]) {
      const reply = await admin().post('/api/data/activity', {
        kind: 'note',
        occurred_at: new Date().toISOString(),
        regarding,
      });
      expect(reply.status, reply.text).toBe(400);
    }
    for (const cursor of [
      Buffer.from('["1","x"]').toString('base64url'),
      Buffer.from(`["+275760-09-13T00:00:00Z","${'-'.repeat(36)}"]`).toString('base64url'),
      Buffer.from(`["not a time","${randomUUID()}"]`).toString('base64url'),
    ])
      expectProblem(
        await admin().get(`/api/data/client/${co}/timeline?cursor=${cursor}`),
        400,
        'XRM_ERR_QUERY_INVALID',
        '/cursor',
      );
    expectProblem(
      await admin().post('/api/activities/import?format=csv', { not: 'a file' }),
      415,
      'XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
    );
    expectProblem(
      await admin().post(`/api/activities/import?format=csv&regarding=plain:${co}`, 'a,b', {
        'content-type': 'text/csv',
      }),
      400,
      'XRM_ERR_RECORD_INVALID',
      '/regarding',
    );
  });
});

describeEachDatabase(
  'relationship layer, metadata only (XRM_ACTIVITY_BODIES=off)',
  (platform) => {
    const http = () => api(platform().app);
    it('stores no body for any activity, however it comes in', async () => {
      expectStatus(
        await http().post('/api/metadata/entities', {
          name: 'lead',
          fields: [
            { name: 'name', type: 'text' },
            { name: 'email', type: 'email' },
          ],
          trackActivities: true,
        }),
        201,
      );
      const created = expectStatus(
        await http().post('/api/data/activity', {
          kind: 'email',
          direction: 'inbound',
          occurred_at: new Date().toISOString(),
          body: 'secret',
          parties: [{ role: 'from', address: 'x@y.example' }],
        }),
        201,
      );
      expect(created.body).toBeNull();
      expectStatus(
        await http().post('/api/activities/ingest', {
          activities: Array.from({ length: 5 }, (_, i) => ({
            message_id: `b${i}`,
            kind: 'email',
            direction: 'inbound',
            occurred_at: new Date().toISOString(),
            body: `secret ${i}`,
          })),
        }),
        200,
      );
      const { rows } = await sql<{ n: number; bodies: number }>`SELECT count(*)::int AS n, count(body)::int AS bodies
        FROM data.activity`.execute(platform().services.db);
      expect(rows[0]).toEqual({ n: 6, bodies: 0 });
    });
  },
  { config: { activityBodies: false } },
);
