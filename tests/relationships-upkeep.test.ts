/**
 * Signal upkeep over the facts the activity links carry (migration 0008: `kind`, `direction`,
 * `people`, `in_reply_to` on each row of `xrm.activity_links`), on both databases with an injected
 * clock:
 * - migration 0008 on a database whose links were made before it (0008 undone: no facts columns,
 *   tracked tables without a fillfactor) fills every link's facts from its activity, sets
 *   fillfactor 80 on the tracked entities' tables (not on the others), and changes no signal: the
 *   signals answers, the stored fields and a full recompute read as they did before;
 * - editing the time of an email refreshes the records its replies concern, even when the email
 *   itself does not concern them (their reply time to our email changed): the stored median reply
 *   time moves to what the README's formula gives, with no write to those records;
 * - an activity's edits (kind, direction, parties, what it answers) carry over to its link rows'
 *   facts (records it no longer concerns lose their link, new ones get one with the facts), and
 *   the records' signals are what the formula gives and what a full recompute stores.
 * Expected values are worked out here by hand from the README's formula (not by calling the
 * platform's formula module).
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { migrateToLatest } from '../metadata/database.ts';
import * as activityLinkFacts from '../migrations/0008-activity-link-facts.ts';
import * as indexedFields from '../migrations/0009-indexed-fields.ts';
import * as securityNotices from '../migrations/0010-security-notices.ts';
import * as auditDiffSetBased from '../migrations/0011-audit-diff-set-based.ts';
import * as fullTextDirect from '../migrations/0012-full-text-direct.ts';
import * as auditRetention from '../migrations/0013-audit-retention.ts';
import { api } from './support/http.ts';
import { activities } from './support/activities.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus, modelling } from './support/problems.ts';

let now = new Date('2026-06-01T12:00:00.000Z');
const clock = () => now;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

const W = { recency: 0.35, frequency: 0.25, reciprocity: 0.2, depth: 0.2 };
/** The README's formula, written out here on purpose (an independent check of the platform's). */
const score = (f: { recency: number; frequency: number; reciprocity: number; depth: number }) =>
  Math.round(
    100 * (W.recency * f.recency + W.frequency * f.frequency + W.reciprocity * f.reciprocity + W.depth * f.depth),
  );

/** The stored signal fields compared with a full recompute (signals_updated_at aside: it is when). */
const SIGNAL_COLUMNS = [
  'last_contact_at',
  'last_inbound_at',
  'last_outbound_at',
  'interactions_30d',
  'interactions_90d',
  'median_response_minutes',
  'awaiting_reply_since',
  'reply_overdue_at',
  'relationship_strength',
  'relationship_health',
  'strength_change_30d',
  'next_meeting_at',
  'unfollowed_meeting_at',
];

describeEachDatabase(
  'relationship signal upkeep over link facts',
  (platform) => {
    const http = () => api(platform().app);
    const { defineEntity, createRecord } = modelling(http);
    const db = () => platform().services.db;
    const rel = () => platform().services.relationships;
    const me = 'me@northwind.example';

    const { log, signals, record } = activities(http);
    const edit = async (id: string, changes: Record<string, unknown>) =>
      expectStatus(await http().patch(`/api/data/activity/${id}`, changes), 200);
    const contact = async (name: string) =>
      (await createRecord('contact', { name, email: `${name.toLowerCase()}@acme.example` })).id as string;
    const to = (id: string, role = 'to') => ({ role, entity: 'contact', id });

    /**
     * The stored signal fields of the records of these entities (of those ids only, when given: the
     * other tests' records were stored at their own instants), by entity then id (SQL, no API).
     */
    const stored = async (entities: readonly string[], ids?: readonly string[]) => {
      const out: Record<string, unknown>[] = [];
      for (const entity of entities) {
        const { rows } = await sql<Record<string, unknown>>`SELECT ${entity}::text AS entity, id::text AS id,
            ${sql.join(SIGNAL_COLUMNS.map((c) => sql.ref(c)))}
          FROM ${sql.table(`data.${entity}`)} ORDER BY id`.execute(db());
        out.push(...rows.filter((r) => !ids || ids.includes(r.id as string)));
      }
      return JSON.parse(JSON.stringify(out)) as Record<string, unknown>[];
    };
    /** The stored signals of these records, then what a full recompute stores: they must be equal. */
    const expectRecomputeUnchanged = async (entities: readonly string[], ids?: readonly string[]) => {
      const incremental = await stored(entities, ids);
      for (const entity of entities) expect(await rel().recomputeAll(entity)).toBeGreaterThan(0);
      const full = await stored(entities, ids);
      const mismatches = full.filter((row, i) => JSON.stringify(row) !== JSON.stringify(incremental[i]));
      expect(mismatches, 'records whose stored signals differ from a full recompute').toEqual([]);
      expect(full.length).toBe(ids ? ids.length : incremental.length);
      return full;
    };
    /** Link rows whose facts differ from their activity's, and links without an activity (none expected). */
    const factMismatches = async () =>
      (
        await sql<Record<string, unknown>>`SELECT l.entity, l.record_id::text AS record_id,
            l.activity_id::text AS activity_id, l.kind, l.direction, l.people, l.in_reply_to::text AS in_reply_to,
            a.kind AS a_kind, a.direction AS a_direction, jsonb_array_length(a.parties) AS a_people,
            a.in_reply_to::text AS a_in_reply_to
          FROM xrm.activity_links l LEFT JOIN data.activity a ON a.id = l.activity_id
          WHERE a.id IS NULL
            OR (l.kind, l.direction, l.people, l.in_reply_to, l.occurred_at) IS DISTINCT FROM
              (a.kind, a.direction, jsonb_array_length(a.parties), a.in_reply_to, a.occurred_at)`.execute(db())
      ).rows;
    /** The link rows of one activity with their facts, by entity and record. */
    const linksOf = async (activity: string) =>
      (
        await sql<{
          entity: string;
          record_id: string;
          kind: string;
          direction: string;
          people: number;
          in_reply_to: string | null;
        }>`SELECT entity, record_id::text AS record_id, kind, direction, people, in_reply_to::text AS in_reply_to
          FROM xrm.activity_links WHERE activity_id = ${activity}::uuid ORDER BY entity, record_id`.execute(db())
      ).rows;
    const reloptions = async (entity: string) =>
      (
        await sql<{ options: string[] | null }>`SELECT c.reloptions AS options FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'data' AND c.relname = ${entity}`.execute(
          db(),
        )
      ).rows[0]?.options ?? null;
    const factColumns = async () =>
      (
        await sql<{ column: string }>`SELECT column_name::text AS column FROM information_schema.columns
          WHERE table_schema = 'xrm' AND table_name = 'activity_links'
            AND column_name IN ('kind', 'direction', 'people', 'in_reply_to') ORDER BY column_name`.execute(db())
      ).rows.map((r) => r.column);

    beforeAll(async () => {
      now = new Date('2026-06-01T12:00:00.000Z');
      await defineEntity(
        'contact',
        [
          { name: 'name', type: 'text' },
          { name: 'email', type: 'email' },
        ],
        { trackActivities: true },
      );
      await defineEntity('account', [{ name: 'name', type: 'text' }], { trackActivities: true });
      await defineEntity('memo', [{ name: 'name', type: 'text' }]);
    });

    /** The address indexes (ddl.ts addressIndexes) in schema data. */
    const addressIndexes = async () =>
      (
        await sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes
          WHERE schemaname = 'data' AND indexname LIKE 'ixa\\_\\_%' ORDER BY 1`.execute(db())
      ).rows.map((r) => r.name);

    it('migration 0008 fills the facts of links made before it, and the signals read the same', async () => {
      now = new Date('2026-06-01T12:00:00.000Z');
      const ann = await contact('Ann');
      const ben = await contact('Ben');
      const cy = await contact('Cy');
      const acme = (await createRecord('account', { name: 'Acme' })).id as string;
      await createRecord('memo', { name: 'not tracked' });
      const outbound = (at: string, id: string, extra: Record<string, unknown> = {}) =>
        log({
          kind: 'email',
          direction: 'outbound',
          occurred_at: at,
          parties: [{ role: 'from', address: me }, to(id)],
          ...extra,
        });
      // replies from their address (resolved to the contact), in reply to our emails
      const reply = (at: string, name: string, original: string, extra: Record<string, unknown> = {}) =>
        log({
          kind: 'email',
          direction: 'inbound',
          occurred_at: at,
          in_reply_to: original,
          parties: [
            { role: 'from', address: `${name}@acme.example` },
            { role: 'to', address: me },
          ],
          ...extra,
        });
      const e1 = await outbound(ago(10 * DAY), ann, { regarding: { entity: 'account', id: acme } });
      await reply(ago(10 * DAY - 3 * HOUR), 'ann', e1.id);
      const e2 = await outbound(ago(8 * DAY), ben);
      await reply(ago(8 * DAY - HOUR), 'ben', e2.id);
      const e3 = await outbound(ago(5 * DAY), ben);
      await reply(ago(5 * DAY - 5 * HOUR), 'ben', e3.id, { regarding: { entity: 'account', id: acme } });
      await log({
        kind: 'note',
        subject: 'Pricing',
        occurred_at: ago(6 * DAY),
        regarding: { entity: 'account', id: acme },
      });
      await log({
        kind: 'call',
        direction: 'inbound',
        occurred_at: ago(4 * DAY),
        duration_minutes: 15,
        regarding: { entity: 'account', id: acme },
        parties: [{ role: 'from', entity: 'contact', id: cy }],
      });
      // a mailing: 3 contacts and 10 outside addresses (13 parties and us)
      await log({
        kind: 'email',
        direction: 'outbound',
        subject: 'Newsletter',
        occurred_at: ago(3 * DAY),
        parties: [
          { role: 'from', address: me },
          ...[ann, ben, cy].map((id) => to(id)),
          ...Array.from({ length: 10 }, (_, i) => ({ role: 'to', address: `reader${i}@outside.example` })),
        ],
      });
      const meeting = await log({
        kind: 'meeting',
        direction: 'outbound',
        subject: 'Kick-off',
        occurred_at: ago(2 * DAY),
        duration_minutes: 60,
        regarding: { entity: 'account', id: acme },
        parties: [{ role: 'from', address: me }, ...[ann, ben, cy].map((id) => to(id, 'attendee'))],
      });
      await outbound(ago(DAY), cy);
      await log({
        kind: 'meeting',
        direction: 'outbound',
        subject: 'Review',
        occurred_at: new Date(now.getTime() + 2 * DAY).toISOString(),
        parties: [{ role: 'from', address: me }, to(ann, 'attendee')],
      });

      // a few values by hand: their reply times, the wait, the 4-person meeting's depth
      expect(await record('contact', ben)).toMatchObject({ median_response_minutes: 180 }); // median(60, 300)
      expect(await record('contact', ann)).toMatchObject({
        median_response_minutes: 180,
        next_meeting_at: new Date(now.getTime() + 2 * DAY).toISOString(),
      });
      expect(await record('contact', cy)).toMatchObject({
        awaiting_reply_since: ago(DAY),
        median_response_minutes: null,
      });
      expect(await linksOf(meeting.id)).toEqual(
        [{ entity: 'account', record_id: acme }, ...[ann, ben, cy].map((id) => ({ entity: 'contact', record_id: id }))]
          .sort((a, b) => `${a.entity}:${a.record_id}`.localeCompare(`${b.entity}:${b.record_id}`))
          .map((l) => ({ ...l, kind: 'meeting', direction: 'outbound', people: 4, in_reply_to: null })),
      );
      // Cy: the call, the meeting (1 ÷ √3) — two-way; our mailing and last email are one-way
      const cySignals = await signals('contact', cy);
      expect(cySignals.factors.depth).toBeCloseTo((0.7 + 1 / Math.sqrt(3)) / 3, 12);
      expect(cySignals.score).toBe(
        score({
          recency: 2 ** (-2 / 14),
          frequency: 2 / (90 / 14),
          reciprocity: 1 / 3, // in: the call; out: the meeting, the mailing, our email
          depth: (0.7 + 1 / Math.sqrt(3)) / 3,
        }),
      );

      const records: [string, string][] = [
        ['contact', ann],
        ['contact', ben],
        ['contact', cy],
        ['account', acme],
      ];
      const answers = async () => Promise.all(records.map(([entity, id]) => signals(entity, id)));
      const linkRows = async () =>
        (
          await sql`SELECT entity, record_id::text AS record_id, activity_id::text AS activity_id, role,
              occurred_at, kind, direction, people, in_reply_to::text AS in_reply_to
            FROM xrm.activity_links ORDER BY entity, record_id, activity_id`.execute(db())
        ).rows;
      const answersBefore = await answers();
      const storedBefore = await stored(['contact', 'account']);
      const linksBefore = await linkRows();
      expect(linksBefore.length).toBe(20);
      expect(await factMismatches()).toEqual([]);
      for (const entity of ['contact', 'account']) expect(await reloptions(entity)).toContain('fillfactor=80');
      expect(await reloptions('memo')).toBeNull();
      expect(await addressIndexes()).toEqual(['ixa__contact__email']);

      // as the database was before 0008: links without facts, tracked tables filled to the brim (and
      // the migrations after it undone first: kysely applies migrations in order only)
      await auditRetention.down(db());
      await fullTextDirect.down(db());
      await auditDiffSetBased.down(db());
      await securityNotices.down(db());
      await indexedFields.down(db());
      await activityLinkFacts.down(db());
      await sql`DELETE FROM xrm.kysely_migration WHERE name >= '0008-activity-link-facts'`.execute(db());
      for (const entity of ['contact', 'account'])
        await sql`ALTER TABLE ${sql.table(`data.${entity}`)} RESET (fillfactor)`.execute(db());
      expect(await factColumns()).toEqual([]);
      for (const entity of ['contact', 'account']) expect(await reloptions(entity)).toBeNull();
      expect(await addressIndexes()).toEqual([]);

      await migrateToLatest(db());
      expect(await factColumns()).toEqual(['direction', 'in_reply_to', 'kind', 'people']);
      expect(
        (await sql`SELECT name FROM xrm.kysely_migration WHERE name = '0008-activity-link-facts'`.execute(db())).rows,
      ).toHaveLength(1);
      // every link's facts are its activity's, in SQL
      expect(await factMismatches()).toEqual([]);
      const { rows: facts } = await sql<{ n: number; people: number; replies: number }>`SELECT count(*)::int AS n,
          sum(people)::int AS people, count(in_reply_to)::int AS replies FROM xrm.activity_links`.execute(db());
      // 20 links, 80 parties over them (the mailing's 14 thrice, the meeting's 4 four times, …); the
      // replies' links: Ann's, Ben's two, and Acme's of Ben's second
      expect(facts[0]).toEqual({ n: 20, people: 80, replies: 4 });
      expect(await linkRows()).toEqual(linksBefore);
      for (const entity of ['contact', 'account']) expect(await reloptions(entity)).toContain('fillfactor=80');
      expect(await reloptions('memo')).toBeNull();
      // the tracked contact's email is resolved by its index again
      expect(await addressIndexes()).toEqual(['ixa__contact__email']);
      // the signals read the same: the answers, the stored fields, and a full recompute
      expect(await answers()).toEqual(answersBefore);
      expect(await stored(['contact', 'account'])).toEqual(storedBefore);
      expect(await expectRecomputeUnchanged(['contact', 'account'])).toEqual(storedBefore);
      expect(await answers()).toEqual(answersBefore);
      // and activity writes link with facts again
      const later = await outbound(ago(HOUR), ann);
      expect(await linksOf(later.id)).toEqual([
        { entity: 'contact', record_id: ann, kind: 'email', direction: 'outbound', people: 2, in_reply_to: null },
      ]);
    });

    it('editing the time of an email refreshes the records of its replies', async () => {
      now = new Date('2026-07-01T12:00:00.000Z');
      const hooli = (await createRecord('account', { name: 'Hooli' })).id as string;
      const gavin = await contact('Gavin');
      // our emails regard the account (to an address no record holds); the replies come from Gavin
      const sent = (at: string, subject: string) =>
        log({
          kind: 'email',
          direction: 'outbound',
          subject,
          occurred_at: at,
          regarding: { entity: 'account', id: hooli },
          parties: [
            { role: 'from', address: me },
            { role: 'to', address: 'press@hooli.example' },
          ],
        });
      const answer = (at: string, original: string) =>
        log({
          kind: 'email',
          direction: 'inbound',
          subject: 'Re:',
          occurred_at: at,
          in_reply_to: original,
          regarding: { entity: 'contact', id: gavin },
          parties: [
            { role: 'from', address: 'gavin@acme.example' },
            { role: 'to', address: me },
          ],
        });
      const e1 = await sent(ago(3 * DAY), 'Offer');
      const r1 = await answer(ago(3 * DAY - HOUR), e1.id);
      const e2 = await sent(ago(2 * DAY), 'Terms');
      const r2 = await answer(ago(2 * DAY - 2 * HOUR), e2.id);
      // the emails concern the account only, the replies Gavin only
      for (const e of [e1, e2]) expect((await linksOf(e.id)).map((l) => l.record_id)).toEqual([hooli]);
      for (const r of [r1, r2]) expect((await linksOf(r.id)).map((l) => l.record_id)).toEqual([gavin]);
      const before = await record('contact', gavin);
      expect(before.median_response_minutes).toBe(90); // median(60, 120)
      expect(await signals('contact', gavin)).toMatchObject({ signals: { median_response_minutes: 90 } });

      // the first email was sent 3 h earlier: answered after 4 h → median(240, 120) = 180
      now = new Date(now.getTime() + MINUTE);
      const t0 = Date.parse(e1.occurred_at);
      await edit(e1.id, { occurred_at: new Date(t0 - 3 * HOUR).toISOString() });
      const first = await record('contact', gavin);
      expect(first.median_response_minutes).toBe(180);
      expect(first.signals_updated_at).toBe(now.toISOString());
      // no write to Gavin's record: only its signals moved
      expect(first.version).toBe(before.version);
      expect(first.updated_at).toBe(before.updated_at);
      expect((await signals('contact', gavin)).signals.median_response_minutes).toBe(180);

      // the second was sent 1 h later: answered after 1 h → median(240, 60) = 150
      now = new Date(now.getTime() + MINUTE);
      await edit(e2.id, { occurred_at: new Date(Date.parse(e2.occurred_at) + HOUR).toISOString() });
      const second = await record('contact', gavin);
      expect(second.median_response_minutes).toBe(150);
      expect(second.signals_updated_at).toBe(now.toISOString());
      expect(second.version).toBe(before.version);
      // the account's emails are answered still: two two-way interactions, the latest the second email
      expect(await record('account', hooli)).toMatchObject({
        interactions_90d: 2,
        last_contact_at: new Date(Date.parse(e2.occurred_at) + HOUR).toISOString(),
        awaiting_reply_since: null,
      });
      const full = await expectRecomputeUnchanged(['contact', 'account'], [gavin, hooli]);
      expect(full.find((r) => r.id === gavin)).toMatchObject({ median_response_minutes: 150 });
    });

    it("link facts follow an activity's edits", async () => {
      now = new Date('2026-08-01T12:00:00.000Z');
      const dee = await contact('Dee');
      const eli = await contact('Eli');
      const facts = (kind: string, direction: string, people: number, inReplyTo: string | null = null) => ({
        kind,
        direction,
        people,
        in_reply_to: inReplyTo,
      });
      const check = async (
        activity: string,
        expected: { record: string; facts: ReturnType<typeof facts> }[],
      ): Promise<void> => {
        expect(await linksOf(activity)).toEqual(
          expected
            .map((x) => ({ entity: 'contact', record_id: x.record, ...x.facts }))
            .sort((a, b) => a.record_id.localeCompare(b.record_id)),
        );
        expect(await factMismatches()).toEqual([]);
        await expectRecomputeUnchanged(['contact'], [dee, eli]);
      };
      const twoDays = 2 ** (-2 / 14);

      // our email to Dee: one-way, awaited
      const x = await log({
        kind: 'email',
        direction: 'outbound',
        occurred_at: ago(2 * DAY),
        parties: [{ role: 'from', address: me }, to(dee)],
      });
      await check(x.id, [{ record: dee, facts: facts('email', 'outbound', 2) }]);
      expect(await record('contact', dee)).toMatchObject({
        relationship_strength: 0,
        last_contact_at: null,
        last_outbound_at: ago(2 * DAY),
        awaiting_reply_since: ago(2 * DAY),
      });

      // it was a call: two-way, outbound only, depth 0.7
      await edit(x.id, { kind: 'call' });
      await check(x.id, [{ record: dee, facts: facts('call', 'outbound', 2) }]);
      expect(await record('contact', dee)).toMatchObject({
        relationship_strength: score({ recency: twoDays, frequency: 14 / 90, reciprocity: 0, depth: 0.7 / 3 }),
        last_contact_at: ago(2 * DAY),
        awaiting_reply_since: null,
        interactions_90d: 1,
      });

      // they called: inbound; with our email of yesterday (unanswered) reciprocity is 1
      await edit(x.id, { direction: 'inbound' });
      await check(x.id, [{ record: dee, facts: facts('call', 'inbound', 2) }]);
      expect(await record('contact', dee)).toMatchObject({ last_inbound_at: ago(2 * DAY), last_outbound_at: null });
      const y = await log({
        kind: 'email',
        direction: 'outbound',
        occurred_at: ago(DAY),
        parties: [{ role: 'from', address: me }, to(dee)],
      });
      await check(x.id, [{ record: dee, facts: facts('call', 'inbound', 2) }]);
      expect(await record('contact', dee)).toMatchObject({
        relationship_strength: score({ recency: twoDays, frequency: 14 / 90, reciprocity: 1, depth: 0.7 / 3 }),
        awaiting_reply_since: ago(DAY),
        last_outbound_at: ago(DAY),
      });

      // a meeting of 5 (us, Dee, Eli, two guests): weight 1 ÷ √4; Eli is linked, with the facts
      await edit(x.id, {
        kind: 'meeting',
        parties: [
          { role: 'from', address: me },
          to(dee, 'attendee'),
          to(eli, 'attendee'),
          { role: 'attendee', address: 'guest1@outside.example' },
          { role: 'attendee', address: 'guest2@outside.example' },
        ],
      });
      await check(x.id, [
        { record: dee, facts: facts('meeting', 'inbound', 5) },
        { record: eli, facts: facts('meeting', 'inbound', 5) },
      ]);
      expect(await record('contact', dee)).toMatchObject({
        relationship_strength: score({ recency: twoDays, frequency: 14 / 90, reciprocity: 1, depth: 0.5 / 3 }),
        unfollowed_meeting_at: null, // our email of yesterday followed it
      });
      expect(await record('contact', eli)).toMatchObject({
        relationship_strength: score({ recency: twoDays, frequency: 14 / 90, reciprocity: 0, depth: 0.5 / 3 }),
        last_contact_at: ago(2 * DAY),
        unfollowed_meeting_at: ago(2 * DAY),
      });
      expect((await signals('contact', eli)).factors.depth).toBeCloseTo(1 / Math.sqrt(4) / 3, 12);

      // our mailing after all: Dee and 11 outside addresses (12 parties); Eli is no longer concerned
      await edit(x.id, {
        kind: 'email',
        direction: 'outbound',
        parties: [
          { role: 'from', address: me },
          to(dee),
          ...Array.from({ length: 10 }, (_, i) => ({ role: 'to', address: `reader${i}@outside.example` })),
        ],
      });
      await check(x.id, [{ record: dee, facts: facts('email', 'outbound', 12) }]);
      expect(await record('contact', eli)).toMatchObject({
        relationship_strength: 0,
        relationship_health: 'none',
        last_contact_at: null,
        interactions_90d: 0,
        unfollowed_meeting_at: null,
      });
      // two unanswered emails: strength 0; a mailing awaits nothing, so the wait starts with yesterday's
      expect(await record('contact', dee)).toMatchObject({
        relationship_strength: 0,
        last_contact_at: null,
        last_inbound_at: null,
        awaiting_reply_since: ago(DAY),
      });

      // their email of 12 h ago, first on its own, then as the answer to yesterday's
      const z = await log({
        kind: 'email',
        direction: 'inbound',
        occurred_at: ago(12 * HOUR),
        parties: [
          { role: 'from', entity: 'contact', id: dee },
          { role: 'to', address: me },
        ],
      });
      await check(z.id, [{ record: dee, facts: facts('email', 'inbound', 2) }]);
      expect(await record('contact', dee)).toMatchObject({
        relationship_strength: score({
          recency: 2 ** (-0.5 / 14),
          frequency: 14 / 90,
          reciprocity: 1 / 2,
          depth: 0.3 / 3,
        }),
        awaiting_reply_since: null,
        median_response_minutes: null,
      });
      await edit(z.id, { in_reply_to: y.id });
      await check(z.id, [{ record: dee, facts: facts('email', 'inbound', 2, y.id) }]);
      // yesterday's email is answered (two-way): 2 two-way, in 1 : out 2, depth 0.3 + 0.3; 12 h to answer
      expect(await record('contact', dee)).toMatchObject({
        relationship_strength: score({
          recency: 2 ** (-0.5 / 14),
          frequency: 28 / 90,
          reciprocity: 1 / 2,
          depth: 0.6 / 3,
        }),
        last_contact_at: ago(12 * HOUR),
        interactions_90d: 2,
        median_response_minutes: 720,
        awaiting_reply_since: null,
      });
      const live = await signals('contact', dee);
      expect(live.factors.frequency).toBeCloseTo(28 / 90, 12);
      expect(live.factors.reciprocity).toBeCloseTo(0.5, 12);
      expect(live.factors.depth).toBeCloseTo(0.2, 12);
      expect(live.score).toBe((await record('contact', dee)).relationship_strength);
    });
  },
  { build: { clock } },
);
