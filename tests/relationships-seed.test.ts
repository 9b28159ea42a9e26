/**
 * `xrm seed relationship-demo`, run as a user runs it (the real `xrm` launcher, a real socket, the
 * test administrator's token in XRM_TOKEN): the starter solution's entities with tracking on, its
 * records and activities, signals computed, the today list filled with the demo's patterns; and a
 * second run adds nothing.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { demoEntities } from '../sdk/cli/relationship-demo.ts';
import { adminToken, api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';
import { listen, xrmWith } from './support/tools.ts';

describeEachDatabase('xrm seed relationship-demo', (get) => {
  let url = '';
  let token = '';
  beforeAll(async () => {
    url = await listen(get().app);
    token = (await adminToken(get().app)) ?? '';
  });

  it('loads the starter solution once, with signals and a today list to show', async () => {
    const first = await xrmWith(
      { XRM_TOKEN: token },
      'seed',
      'relationship-demo',
      '--activities',
      '2000',
      '--url',
      url,
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Seeded relationship-demo: 2000 activities in [\d.]+ s\n$/);
    const http = api(get().app);
    const entities = expectStatus(await http.get('/api/metadata/entities'), 200).data as {
      name: string;
      trackActivities?: boolean;
    }[];
    for (const e of demoEntities())
      expect(entities.find((x) => x.name === e.name)?.trackActivities ?? false, e.name).toBe(e.trackActivities);
    const db = get().services.db;
    const { rows } = await sql<{ n: number; linked: number }>`SELECT
        (SELECT count(*)::int FROM data.activity) AS n,
        (SELECT count(DISTINCT activity_id)::int FROM xrm.activity_links) AS linked`.execute(db);
    expect(rows[0]).toEqual({ n: 2000, linked: 2000 });
    const strong = expectStatus(
      await http.get(`/api/data/partner?filter=${encodeURIComponent('{"relationship_strength":{"gt":0}}')}&count=true`),
      200,
    );
    expect(strong.totalCount).toBeGreaterThan(0);
    const today = expectStatus(await http.get('/api/relationships/today?owner=me&limit=50'), 200);
    const kinds = new Set(
      (today.data as { reasons: { kind: string }[] }[]).flatMap((x) => x.reasons.map((r) => r.kind)),
    );
    expect([...kinds]).toEqual(expect.arrayContaining(['drift', 'stale']));

    const again = await xrmWith(
      { XRM_TOKEN: token },
      'seed',
      'relationship-demo',
      '--activities',
      '2000',
      '--url',
      url,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^relationship-demo was already seeded/);
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM data.activity`.execute(db);
    expect(after.rows[0]!.n).toBe(2000);
  });
});
