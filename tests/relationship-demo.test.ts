import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../metadata/catalog.ts';
import { normalizeEntity } from '../metadata/definitions.ts';
import {
  DEMO_INTERNAL_DOMAIN,
  DEMO_PATTERNS,
  type DemoActivity,
  type DemoOptions,
  type DemoPattern,
  type DemoRecord,
  demoActivities,
  demoEntities,
  demoPatternOf,
  demoRecords,
  demoSizes,
  demoUsers,
} from '../sdk/cli/relationship-demo.ts';

const NOW = new Date('2025-06-15T12:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function take<T>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (out.length === n) break;
    out.push(item);
  }
  return out;
}

const at = (a: DemoActivity): number => Date.parse(a.occurred_at);
const ago = (a: DemoActivity): number => NOW.getTime() - at(a);
const isUser = (address: string): boolean => demoUsers().some((u) => u.email === address);
const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

interface Generated {
  options: DemoOptions;
  records: DemoRecord[];
  activities: DemoActivity[];
  byId: Map<string, DemoActivity>;
  /** The activities regarding each record, in order. */
  regarding: Map<string, DemoActivity[]>;
  /** The records generated with each pattern. */
  patterned: Map<DemoPattern, DemoRecord[]>;
}

const generated = new Map<string, Generated>();

/** Everything generated for these options (computed once per file). */
function generate(options: DemoOptions): Generated {
  const key = JSON.stringify(options);
  const known = generated.get(key);
  if (known) return known;
  const records = [...demoRecords(options)];
  const activities = [...demoActivities(options)];
  const regarding = new Map<string, DemoActivity[]>();
  for (const a of activities) {
    const id = a.regarding?.id ?? '';
    const list = regarding.get(id);
    if (list) list.push(a);
    else regarding.set(id, [a]);
  }
  const patterned = new Map<DemoPattern, DemoRecord[]>(DEMO_PATTERNS.map((p) => [p, []]));
  for (const r of records) {
    const pattern = demoPatternOf(options, r.entity, r.id);
    if (pattern) patterned.get(pattern)!.push(r);
  }
  const byId = new Map(activities.map((a) => [a.id, a]));
  const result = { options, records, activities, byId, regarding, patterned };
  generated.set(key, result);
  return result;
}

const TEN_K: DemoOptions = { activities: 10_000, now: NOW, seed: 7 };

afterAll(() => generated.clear());

// first, on a heap nothing else has filled yet
describe('relationship demo: scale', () => {
  it('generates 1M activities lazily, in bounded memory and time', () => {
    const options: DemoOptions = { activities: 1_000_000, now: NOW, seed: 1 };
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const started = performance.now();
    let count = 0;
    let previous = '';
    let ordered = true;
    for (const a of demoActivities(options)) {
      if (a.occurred_at < previous) ordered = false;
      previous = a.occurred_at;
      if (++count % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    const seconds = (performance.now() - started) / 1000;
    const growth = (Math.max(peak, process.memoryUsage().heapUsed) - before) / 2 ** 20;
    expect(count).toBe(1_000_000);
    expect(ordered).toBe(true);
    expect(seconds).toBeLessThan(20);
    expect(growth).toBeLessThan(150);
    // a few of every pattern per 1,000 records at full size too
    const records = [...demoRecords(options)];
    for (const pattern of DEMO_PATTERNS) {
      const n = records.filter((r) => demoPatternOf(options, r.entity, r.id) === pattern).length;
      expect(n / (records.length / 1_000), pattern).toBeGreaterThanOrEqual(3);
    }
  }, 60_000);
});

describe('relationship demo: model', () => {
  it('defines entities the metadata API accepts, lookup targets first, each named by a text `name`', () => {
    let catalog = Catalog.empty();
    for (const entity of demoEntities()) {
      expect(entity.trackActivities).toBe(true);
      expect(entity.fields[0]).toMatchObject({ name: 'name', type: 'text' });
      const def = normalizeEntity(entity, catalog);
      catalog = new Catalog({
        version: catalog.version + 1,
        entities: [...catalog.entities.values(), def],
        relationships: [],
        choiceSets: [],
      });
    }
    expect([...catalog.entities.keys()]).toEqual([
      'partner',
      'supplier',
      'investor',
      'employee',
      'contact',
      'deal',
      'asset',
      'iot_device',
    ]);
  });

  it('has 5–10 internal users on the domain the employees share', () => {
    const users = demoUsers();
    expect(users.length).toBeGreaterThanOrEqual(5);
    expect(users.length).toBeLessThanOrEqual(10);
    expect(new Set(users.map((u) => u.email)).size).toBe(users.length);
    for (const u of users) expect(u.email.endsWith(`@${DEMO_INTERNAL_DOMAIN}`)).toBe(true);
    const employees = generate(TEN_K).records.filter((r) => r.entity === 'employee');
    for (const e of employees) expect(String(e.values.email).endsWith(`@${DEMO_INTERNAL_DOMAIN}`)).toBe(true);
    expect(employees.some((e) => isUser(String(e.values.email)))).toBe(false);
  });

  it('sizes the data at ~100 activities per record, with enough records for every pattern when small', () => {
    const million = Object.values(demoSizes(1_000_000)).reduce((s, n) => s + n, 0);
    expect(million).toBeGreaterThan(9_000);
    expect(million).toBeLessThan(11_000);
    const small = demoSizes(1_000);
    expect(small.partner + small.supplier + small.investor).toBeGreaterThanOrEqual(2 * DEMO_PATTERNS.length + 2);
    const { records } = generate({ activities: 1_000, now: NOW });
    for (const [entity, n] of Object.entries(small)) {
      expect(records.filter((r) => r.entity === entity)).toHaveLength(n);
    }
  });

  it('generates records parents first, with unique, real-looking emails and serial numbers', () => {
    const { records } = generate(TEN_K);
    const seen = new Map<string, string>();
    const lookups: Record<string, Record<string, string>> = {
      contact: { partner: 'partner', supplier: 'supplier' },
      deal: { partner: 'partner' },
      asset: { supplier: 'supplier' },
      iot_device: { asset: 'asset' },
    };
    const emails = new Set<string>();
    const serials = new Set<string>();
    for (const r of records) {
      expect(r.id).toMatch(UUID);
      for (const [field, target] of Object.entries(lookups[r.entity] ?? {})) {
        const value = r.values[field];
        if (value !== undefined) expect(seen.get(String(value))).toBe(target);
      }
      if (r.values.email !== undefined) emails.add(String(r.values.email));
      if (r.values.serial_number !== undefined) serials.add(String(r.values.serial_number));
      seen.set(r.id, r.entity);
    }
    const people = records.filter((r) => r.entity === 'contact' || r.entity === 'employee');
    for (const p of people) expect(p.values.email).toMatch(/^[a-z]+\.[a-z]+\d*@[a-z0-9-]+\.example$/);
    const machines = records.filter((r) => r.entity === 'asset' || r.entity === 'iot_device');
    for (const m of machines) expect(m.values.email).toMatch(/^(asset|device)-\d+@telemetry\.example$/);
    expect(emails.size).toBe(people.length + machines.length);
    expect(serials.size).toBe(machines.length);
    expect(records.filter((r) => r.entity === 'deal').every((d) => d.values.partner !== undefined)).toBe(true);
  });
});

describe('relationship demo: determinism', () => {
  it('gives identical records and activities for the same options, different ones for another seed', () => {
    const options: DemoOptions = { activities: 20_000, now: NOW, seed: 42 };
    const first = JSON.stringify([take(demoRecords(options), 2_000), take(demoActivities(options), 2_000)]);
    // another world in between: nothing may carry over from one run to the next
    take(demoActivities({ activities: 5_000, now: NOW, seed: 43 }), 100);
    const again = JSON.stringify([take(demoRecords(options), 2_000), take(demoActivities(options), 2_000)]);
    expect(again).toBe(first);
    const other = { ...options, seed: 43 };
    expect(JSON.stringify(take(demoRecords(other), 2_000))).not.toBe(JSON.stringify(take(demoRecords(options), 2_000)));
    expect(JSON.stringify(take(demoActivities(other), 2_000))).not.toBe(
      JSON.stringify(take(demoActivities(options), 2_000)),
    );
  });
});

describe('relationship demo: integrity', () => {
  it.each([1_000, 1_234, 10_000, 25_001])('yields exactly %i activities', (n) => {
    let count = 0;
    for (const _ of demoActivities({ activities: n, now: NOW, seed: n })) count++;
    expect(count).toBe(n);
  });

  it('orders activities by time, replies after what they answer, parties and regarding on generated records', () => {
    const { records, activities } = generate(TEN_K);
    const entityOf = new Map(records.map((r) => [r.id, r.entity]));
    const seen = new Map<string, DemoActivity>();
    const ids = new Set(records.map((r) => r.id));
    const messageIds = new Set<string>();
    let previous = '';
    for (const a of activities) {
      expect(a.id).toMatch(UUID);
      expect(a.occurred_at >= previous).toBe(true);
      previous = a.occurred_at;
      expect(new Date(a.occurred_at).toISOString()).toBe(a.occurred_at);
      if (a.in_reply_to !== undefined) {
        const original = seen.get(a.in_reply_to);
        expect(original?.kind).toBe('email');
        expect(at(a)).toBeGreaterThan(at(original!));
        expect(a.subject).toBe(`Re: ${original!.subject}`);
        expect(a.regarding).toEqual(original!.regarding);
      }
      expect(a.regarding && entityOf.get(a.regarding.id)).toBe(a.regarding?.entity);
      expect(a.parties.length).toBeGreaterThan(0);
      for (const p of a.parties) {
        if (p.id !== undefined) expect(entityOf.get(p.id)).toBe(p.entity);
        else expect(isUser(p.address) || p.address.startsWith('info@')).toBe(true);
        expect(p.address).toBe(p.address.toLowerCase());
      }
      if (a.kind === 'email') {
        expect(a.message_id).toMatch(/^7-\d+@demo\.xrm$/);
        messageIds.add(a.message_id!);
      } else {
        expect(a.message_id).toBeUndefined();
      }
      ids.add(a.id);
      seen.set(a.id, a);
    }
    expect(ids.size).toBe(records.length + activities.length);
    expect(messageIds.size).toBe(activities.filter((a) => a.kind === 'email').length);
  });

  it('keeps everything up to now but for a few meetings in the next 30 days', () => {
    const { activities } = generate(TEN_K);
    const future = activities.filter((a) => ago(a) < 0);
    expect(future.length).toBeGreaterThan(0);
    expect(future.length).toBeLessThan(activities.length / 100);
    for (const a of future) {
      expect(a.kind).toBe('meeting');
      expect(-ago(a)).toBeLessThanOrEqual(30 * DAY);
    }
    expect(activities[0].occurred_at >= new Date(NOW.getTime() - 3 * 366 * DAY).toISOString()).toBe(true);
  });

  it('mixes kinds roughly 45 / 20 / 15 / 10 / 10', () => {
    const counts = new Map<string, number>();
    for (const a of demoActivities({ activities: 100_000, now: NOW, seed: 3 })) {
      counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
    }
    const share = (kind: string) => (counts.get(kind) ?? 0) / 100_000;
    expect(share('email')).toBeCloseTo(0.45, 1);
    expect(share('meeting')).toBeCloseTo(0.2, 1);
    expect(share('call')).toBeCloseTo(0.15, 1);
    expect(share('note')).toBeCloseTo(0.1, 1);
    expect(share('task')).toBeCloseTo(0.1, 1);
  });

  it('shapes calls, meetings, tasks and emails as the activity layer expects', () => {
    const { activities } = generate(TEN_K);
    const tasks = activities.filter((a) => a.kind === 'task');
    for (const a of activities) {
      const external = a.parties.filter((p) => !isUser(p.address));
      if (a.kind === 'call') {
        expect(a.duration_minutes).toBeGreaterThanOrEqual(5);
        expect(a.duration_minutes).toBeLessThanOrEqual(60);
        expect(external).toHaveLength(1);
        expect(external[0].role).toBe(a.direction === 'inbound' ? 'from' : 'to');
      }
      if (a.kind === 'meeting') {
        expect(a.duration_minutes).toBeGreaterThan(0);
        expect(a.parties.every((p) => p.role === 'attendee')).toBe(true);
        expect(a.parties.length).toBeGreaterThanOrEqual(2);
        expect(a.parties.length <= 6 || (a.parties.length >= 20 && a.parties.length <= 50)).toBe(true);
        expect(new Set(a.parties.map((p) => p.address)).size).toBe(a.parties.length);
      }
      if (a.kind === 'task') {
        expect(Date.parse(a.due_at!)).toBeGreaterThan(at(a));
        if (a.completed_at) expect(Date.parse(a.completed_at)).toBeLessThanOrEqual(NOW.getTime());
      }
      if (a.kind === 'email' && a.direction === 'outbound') expect(a.parties[0]).toMatchObject({ role: 'from' });
      if (a.in_reply_to === undefined && a.kind === 'email' && a.direction === 'outbound') {
        expect(isUser(a.parties[0].address)).toBe(true);
      }
    }
    const completed = tasks.filter((a) => a.completed_at !== undefined).length / tasks.length;
    expect(completed).toBeGreaterThan(0.55);
    expect(completed).toBeLessThan(0.8);
  });
});

/** Every pattern, as the signals should see it, for a few seeds. */
describe.each([7, 8, 9])('relationship demo: patterns (seed %i, 10k activities)', (seed) => {
  const options: DemoOptions = { activities: 10_000, now: NOW, seed };
  const of = (pattern: DemoPattern) => {
    const g = generate(options);
    const records = g.patterned.get(pattern)!;
    return records.map((r) => ({ record: r, acts: g.regarding.get(r.id) ?? [] }));
  };
  const past = (acts: DemoActivity[]) => acts.filter((a) => ago(a) >= 0);

  it('has at least two organisations of every pattern', () => {
    for (const pattern of DEMO_PATTERNS) {
      const records = generate(options).patterned.get(pattern)!;
      expect(records.length, pattern).toBeGreaterThanOrEqual(2);
      for (const r of records) expect(['partner', 'supplier', 'investor']).toContain(r.entity);
    }
  });

  it('healthy: a steady two-way cadence of 1–3 weeks up to recently', () => {
    for (const { acts } of of('healthy')) {
      expect(acts.some((a) => a.direction === 'inbound')).toBe(true);
      expect(acts.some((a) => a.direction === 'outbound')).toBe(true);
      expect(ago(past(acts).at(-1)!)).toBeLessThan(35 * DAY);
      const touches = past(acts).filter((a) => a.in_reply_to === undefined);
      const gaps = touches.slice(1).map((a, i) => at(a) - at(touches[i]));
      expect(median(gaps)).toBeGreaterThan(3 * DAY);
      expect(median(gaps)).toBeLessThan(25 * DAY);
    }
  });

  it('stale: active for a while, then nothing for more than 28 days', () => {
    for (const { acts } of of('stale')) {
      expect(acts.length).toBeGreaterThanOrEqual(3);
      for (const a of acts) expect(ago(a)).toBeGreaterThan(28 * DAY);
    }
  });

  it('drifting: answered within ~2 h until the last outbound email, 1–6 days ago, which is not', () => {
    const { byId } = generate(options);
    for (const { acts } of of('drifting')) {
      const last = acts.at(-1)!;
      expect(last).toMatchObject({ kind: 'email', direction: 'outbound' });
      expect(ago(last)).toBeGreaterThan(DAY);
      expect(ago(last)).toBeLessThan(6 * DAY);
      expect(acts.some((a) => a.in_reply_to === last.id)).toBe(false);
      const replies = acts.filter((a) => a.in_reply_to !== undefined && a.direction === 'inbound');
      expect(replies.length).toBeGreaterThanOrEqual(2);
      const delays = replies.map((r) => at(r) - at(byId.get(r.in_reply_to!)!));
      expect(median(delays)).toBeGreaterThan(HOUR);
      expect(median(delays)).toBeLessThan(3.5 * HOUR);
      expect(Math.max(...delays)).toBeLessThanOrEqual(4 * HOUR);
      const earlier = acts.filter((a) => a.kind === 'email' && a.direction === 'outbound' && a !== last);
      for (const e of earlier) expect(acts.some((a) => a.in_reply_to === e.id)).toBe(true);
    }
  });

  it('blast: newsletters to 30–60 contacts, never answered', () => {
    const { activities } = generate(options);
    const answered = new Set(activities.map((a) => a.in_reply_to));
    for (const { acts } of of('blast')) {
      expect(acts.length).toBeGreaterThanOrEqual(3);
      for (const a of acts) {
        expect(a).toMatchObject({ kind: 'email', direction: 'outbound' });
        const to = a.parties.filter((p) => p.role === 'to');
        expect(to.length).toBeGreaterThanOrEqual(30);
        expect(to.length).toBeLessThanOrEqual(60);
        expect(to.every((p) => p.entity === 'contact')).toBe(true);
        expect(answered.has(a.id)).toBe(false);
      }
    }
  });

  it('big_meeting: meetings of 20–50 attendees', () => {
    for (const { acts } of of('big_meeting')) {
      const big = acts.filter((a) => a.kind === 'meeting' && a.parties.length >= 20);
      expect(big.length).toBeGreaterThan(0);
      for (const m of big) expect(m.parties.length).toBeLessThanOrEqual(50);
    }
  });

  it('no_follow_up: a meeting 2–5 days ago, nothing from our side after it', () => {
    for (const { acts } of of('no_follow_up')) {
      const meeting = acts.at(-1)!;
      expect(meeting.kind).toBe('meeting');
      expect(ago(meeting)).toBeGreaterThan(2 * DAY);
      expect(ago(meeting)).toBeLessThan(5 * DAY);
      expect(acts.filter((a) => at(a) > at(meeting) && a.direction === 'outbound')).toEqual([]);
    }
  });

  it('declining: frequent contact 60–90 days ago, little in the last 30', () => {
    for (const { acts } of of('declining')) {
      const between = (from: number, to: number) => acts.filter((a) => ago(a) >= from * DAY && ago(a) < to * DAY);
      const burst = between(60, 90).length;
      const recent = between(0, 30).length;
      expect(burst).toBeGreaterThanOrEqual(5);
      expect(recent).toBeLessThanOrEqual(1);
      expect(burst).toBeGreaterThan(3 * recent);
    }
  });

  it('keeps the contacts of quiet patterns out of everything else', () => {
    const g = generate(options);
    const quiet = new Set<string>();
    for (const pattern of ['healthy', 'stale', 'drifting', 'no_follow_up', 'declining'] as const) {
      for (const org of g.patterned.get(pattern)!) {
        for (const c of g.records) if (c.values.partner === org.id || c.values.supplier === org.id) quiet.add(c.id);
      }
    }
    for (const a of g.activities) {
      const org = a.regarding!.id;
      for (const p of a.parties) {
        if (p.id === undefined || !quiet.has(p.id)) continue;
        const contact = g.records.find((r) => r.id === p.id)!;
        expect([contact.values.partner, contact.values.supplier]).toContain(org);
      }
    }
  });
});
