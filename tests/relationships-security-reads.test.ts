/**
 * Two read endpoints of the relationship layer under row security, on both databases, with an
 * injected clock:
 *
 * - `GET /api/relationships/today` (one hand-written statement with the caller's read predicate per
 *   tracked entity): for an owner whose stale records are partly outside her reach — a row rule
 *   (her region only) hides some of her own records, a share opens one of them again, and a tracked
 *   entity her roles do not grant at all holds more — she is told only about the records she may
 *   read, while an administrator asking for the same owner sees every one of them. Records that are
 *   not stale, or belong to someone else, are in neither list.
 * - `GET /api/data/{entity}/{id}/timeline?limit=2`: a reader who may read only her own activities
 *   sees exactly those, newest first, and paging by `nextCursor` reaches every one of them (full
 *   pages, no duplicates) although hidden activities sit between them (and share instants with
 *   them); a reader who may read every activity, and an administrator, page through all of them.
 *   A record the reader cannot read answers 404 exactly as a missing one does.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus, modelling } from './support/problems.ts';

let now = new Date('2026-03-01T12:00:00.000Z');
const clock = () => now;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

interface TodayItem {
  entity: string;
  id: string;
  name: string | null;
  reason: string;
  reasons: { kind: string; text: string }[];
}

interface TimelineItem {
  id: string;
  occurred_at: string;
  subject: string;
}

describeEachDatabase(
  'relationship reads under row security',
  (platform) => {
    const admin = () => api(platform().app);
    const { defineEntity, createRecord } = modelling(admin);
    let alice: ReturnType<typeof api>;
    let bea: ReturnType<typeof api>;
    let aliceId = '';
    let adminId = '';

    /** Signs a new user in; answers her id and an api() acting as her. */
    const person = async (name: string, roles: string[], attributes: Record<string, unknown> = {}) => {
      const email = `${name}@rel-security.example`;
      const password = `${name}-password-long-enough`;
      const user = expectStatus(
        await admin().post('/api/users', { email, password, displayName: name, roles, attributes }),
        201,
      );
      const { token } = expectStatus(await admin().post('/api/auth/login', { email, password }), 200);
      return { id: user.id as string, http: api(platform().app, token) };
    };

    beforeAll(async () => {
      now = new Date('2026-03-01T12:00:00.000Z');
      await defineEntity(
        'client',
        [
          { name: 'name', type: 'text' },
          { name: 'region', type: 'text' },
        ],
        { trackActivities: true },
      );
      // tracked too, but Alice's roles grant nothing on it
      await defineEntity('vendor', [{ name: 'name', type: 'text' }], { trackActivities: true });
      // Alice: her own clients of her region only; her own activities only
      expectStatus(
        await admin().post('/api/roles', {
          name: 'own_region_own_activities',
          privileges: [
            { entity: 'client', create: 'own', read: 'own', update: 'own', appendTo: 'own' },
            { entity: 'activity', create: 'own', read: 'own', update: 'own', append: 'own' },
          ],
          rowRules: [{ entity: 'client', privilege: 'read', filter: { region: { eq: '$user.region' } } }],
        }),
        201,
      );
      // Bea: every client and every activity, yet not an administrator (a restricted policy)
      expectStatus(
        await admin().post('/api/roles', {
          name: 'reads_everything',
          privileges: [
            { entity: 'client', read: 'all' },
            { entity: 'activity', read: 'all' },
          ],
        }),
        201,
      );
      const a = await person('alice', ['own_region_own_activities'], { region: 'emea' });
      aliceId = a.id;
      alice = a.http;
      bea = (await person('bea', ['reads_everything'])).http;
      adminId = expectStatus(await admin().get('/api/auth/me'), 200).user.id;
    });

    it('today: the owner hears only of records she may read; an administrator, of all of them', async () => {
      const contactAt = now.toISOString();
      const client = async (name: string, region: string, owner = aliceId) =>
        (await createRecord('client', { name, region, owner_id: owner })).id as string;
      const records = {
        emea1: await client('Emea One', 'emea'),
        emea2: await client('Emea Two', 'emea'),
        apac: await client('Apac Hidden', 'apac'),
        apacShared: await client('Apac Shared', 'apac'),
        fresh: await client('Emea Fresh', 'emea'),
        notHers: await client('Admin Owned', 'emea', adminId),
      };
      const vendor = (await createRecord('vendor', { name: 'Vendor Hidden', owner_id: aliceId })).id as string;
      // one inbound call each (two-way): the last contact, at the same instant for all of them
      const call = async (entity: string, id: string, at: string) =>
        expectStatus(
          await admin().post('/api/data/activity', {
            kind: 'call',
            direction: 'inbound',
            subject: 'Catch-up',
            occurred_at: at,
            duration_minutes: 15,
            regarding: { entity, id },
          }),
          201,
        );
      for (const id of Object.values(records)) await call('client', id, contactAt);
      await call('vendor', vendor, contactAt);
      // the share opens one of her hidden records to her again
      expectStatus(
        await admin().post(`/api/data/client/${records.apacShared}/share`, {
          principal: { user: aliceId },
          rights: ['read'],
        }),
        200,
      );
      // 30 days on (cadence 14: stale after 28); one record was called again a day ago
      now = new Date(now.getTime() + 30 * DAY);
      await call('client', records.fresh, ago(DAY));
      // what the hourly tick would have done meanwhile
      await platform().services.relationships.refreshDue();

      // what Alice can read of her own clients, checked through the ordinary data API first
      const readable = async (id: string) => (await alice.get(`/api/data/client/${id}`)).status === 200;
      expect(await readable(records.emea1)).toBe(true);
      expect(await readable(records.apacShared)).toBe(true);
      expect(await readable(records.apac)).toBe(false);
      expect(await readable(records.notHers)).toBe(false);

      const today = async (as: ReturnType<typeof api>, owner: string) =>
        expectStatus(await as.get(`/api/relationships/today?owner=${owner}&limit=20`), 200).data as TodayItem[];
      const keys = (items: TodayItem[]) => items.map((i) => `${i.entity}:${i.id}`).sort();
      const expectStale = (items: TodayItem[], names: Record<string, string>) => {
        for (const item of items) {
          expect(item.name, JSON.stringify(item)).toBe(names[item.id]);
          expect(item.reason, JSON.stringify(item)).toBe(item.reasons[0]!.text);
          const stale = item.reasons.find((r) => r.kind === 'stale');
          expect(stale?.text, JSON.stringify(item)).toBe('No two-way contact for 30 days (cadence 14 days)');
        }
      };
      const names: Record<string, string> = {
        [records.emea1]: 'Emea One',
        [records.emea2]: 'Emea Two',
        [records.apac]: 'Apac Hidden',
        [records.apacShared]: 'Apac Shared',
        [vendor]: 'Vendor Hidden',
      };

      // Alice: her readable stale clients, nothing hidden by the row rule, nothing of the vendor entity
      const hers = await today(alice, 'me');
      expect(keys(hers)).toEqual(
        [`client:${records.emea1}`, `client:${records.emea2}`, `client:${records.apacShared}`].sort(),
      );
      expectStale(hers, names);
      expect(JSON.stringify(hers)).not.toContain('Apac Hidden');
      expect(JSON.stringify(hers)).not.toContain('Vendor Hidden');
      // her own id says the same as "me"
      expect(keys(await today(alice, aliceId))).toEqual(keys(hers));
      // another owner's list, as Alice: she may read none of their records
      expect(await today(alice, adminId)).toEqual([]);

      // the administrator, for Alice: every stale record she owns, of every tracked entity
      const all = await today(admin(), aliceId);
      expect(keys(all)).toEqual(
        [
          `client:${records.emea1}`,
          `client:${records.emea2}`,
          `client:${records.apac}`,
          `client:${records.apacShared}`,
          `vendor:${vendor}`,
        ].sort(),
      );
      expectStale(all, names);
      // and for himself: his stale client, none of Alice's
      expect(keys(await today(admin(), 'me'))).toEqual([`client:${records.notHers}`]);
    });

    it('timeline: paging reaches exactly the readable activities, newest first, hidden ones between them', async () => {
      now = new Date('2026-05-01T12:00:00.000Z');
      const record = (await createRecord('client', { name: 'Paged', region: 'emea', owner_id: aliceId })).id as string;
      // newest first: R = Alice's (she reads it), H = the administrator's (hidden from her);
      // 5 h and 8 h are instants shared by two activities (a hidden and a readable one; two readable)
      const plan: { hoursAgo: number; hers: boolean }[] = [
        { hoursAgo: 1, hers: true },
        { hoursAgo: 2, hers: false },
        { hoursAgo: 3, hers: false },
        { hoursAgo: 4, hers: true },
        { hoursAgo: 5, hers: true },
        { hoursAgo: 5, hers: false },
        { hoursAgo: 6, hers: true },
        { hoursAgo: 7, hers: false },
        { hoursAgo: 8, hers: true },
        { hoursAgo: 8, hers: true },
      ];
      const created: (TimelineItem & { hers: boolean })[] = [];
      for (const [i, step] of plan.entries()) {
        const activity = expectStatus(
          await admin().post('/api/data/activity', {
            kind: 'note',
            direction: 'internal',
            subject: `Note ${i} (${step.hers ? 'hers' : 'hidden'})`,
            occurred_at: ago(step.hoursAgo * HOUR),
            regarding: { entity: 'client', id: record },
            ...(step.hers ? { owner_id: aliceId } : {}),
          }),
          201,
        );
        expect(activity.owner_id).toBe(step.hers ? aliceId : adminId);
        created.push({ ...activity, hers: step.hers });
      }
      // the timeline's order: occurred_at descending, then id descending
      const newestFirst = (items: { id: string; occurred_at: string }[]) =>
        [...items]
          .sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at) || (b.id < a.id ? -1 : 1))
          .map((x) => x.id);
      const everyId = newestFirst(created);
      const herIds = newestFirst(created.filter((a) => a.hers));
      expect(herIds).toHaveLength(6);
      expect(everyId).toHaveLength(10);

      /** Every page of the timeline at this limit, following nextCursor until there is none. */
      const pages = async (as: ReturnType<typeof api>, limit: number) => {
        const out: TimelineItem[][] = [];
        let cursor: string | undefined;
        for (let guard = 0; guard < 20; guard++) {
          const url = `/api/data/client/${record}/timeline?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
          const page = expectStatus(await as.get(url), 200) as { data: TimelineItem[]; nextCursor?: string };
          out.push(page.data);
          if (!page.nextCursor) return out;
          cursor = page.nextCursor;
        }
        throw new Error('the timeline never stopped handing out cursors');
      };
      const expectPaged = (got: TimelineItem[][], expected: string[], limit: number) => {
        const ids = got.flat().map((a) => a.id);
        expect(ids).toEqual(expected); // exactly these, newest first, none twice, none missing
        expect(new Set(ids).size).toBe(ids.length);
        // full pages until the last: a hidden activity never shortens a page nor ends the paging early
        expect(got.map((p) => p.length)).toEqual(
          Array.from({ length: Math.ceil(expected.length / limit) }, (_, i) =>
            Math.min(limit, expected.length - i * limit),
          ),
        );
      };

      // Alice reads her own activities only: the hidden ones never show, the readable ones all do
      const hers = await pages(alice, 2);
      expectPaged(hers, herIds, 2);
      for (const activity of hers.flat()) expect(activity.subject).toMatch(/\(hers\)$/);
      // the same at other page sizes
      expectPaged(await pages(alice, 1), herIds, 1);
      expectPaged(await pages(alice, 4), herIds, 4);
      // a reader who may read every activity (a restricted role, though), and the administrator: all ten
      expectPaged(await pages(bea, 2), everyId, 2);
      expectPaged(await pages(admin(), 2), everyId, 2);
      expectPaged(await pages(admin(), 3), everyId, 3);
    });

    it('timeline: a record the reader cannot read answers 404, as a missing one does', async () => {
      const otherRegion = (await createRecord('client', { name: 'Apac Timeline', region: 'apac', owner_id: aliceId }))
        .id as string;
      const notHers = (await createRecord('client', { name: 'Someone Else', region: 'emea' })).id as string;
      for (const id of [otherRegion, notHers]) {
        expectStatus(
          await admin().post('/api/data/activity', {
            kind: 'note',
            direction: 'internal',
            occurred_at: ago(HOUR),
            regarding: { entity: 'client', id },
            owner_id: aliceId,
          }),
          201,
        );
        // the administrator sees its timeline; Alice gets what an unknown id gets, with or without a cursor
        expect((expectStatus(await admin().get(`/api/data/client/${id}/timeline`), 200).data as unknown[]).length).toBe(
          1,
        );
        expectProblem(await alice.get(`/api/data/client/${id}/timeline`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
        expectProblem(await alice.get(`/api/data/client/${id}/timeline?limit=2`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
      }
      expectProblem(await alice.get(`/api/data/client/${randomUUID()}/timeline`), 404, 'XRM_ERR_RECORD_NOT_FOUND');
    });
  },
  { build: { clock } },
);
