/**
 * The "relationship-demo" starter solution's data: a deterministic generator of a realistic, multi-year
 * relationship history for the activity layer. Pure: no database, no HTTP, no clock. Everything follows
 * from the options (`seed`, `activities`, `now`, `years`), so the same options give the same records and
 * activities, value for value, however often they are generated.
 *
 * The model. Northwind (the internal side: demoUsers, and the employee records on the same domain) works
 * with partners, suppliers and investors (organisations, each with its contacts), sells deals to
 * partners, buys assets from suppliers and runs IoT devices on those assets; assets and devices have
 * telemetry addresses, so they "talk" through maintenance emails and notes. Every partner, supplier,
 * investor, deal, asset, device and employee is the `regarding` of one stream of activities: a timeline
 * planned as segments (a window, an exact activity budget, what may happen in it) whose touches are spread
 * evenly over the working hours (weekdays 08:00–18:00) of the stream's time zone. A touch is an email
 * (with the replies it draws, after the relationship's own log-normal reply delay), a meeting, a call, a
 * note or a task.
 *
 * Patterns. Some organisations follow one of DEMO_PATTERNS (demoPatternOf tells which), realised by their
 * segments: healthy (a steady two-way cadence of 1–2½ weeks, the last contact within a week), stale (the
 * same, then nothing for 31–150 days), drifting (every email answered in ~2 h, then a last outbound email 1–6 days
 * ago that nobody answers), blast (monthly newsletters to 30–60 contacts, never answered), big_meeting
 * (normal traffic plus meetings of 20–50 attendees), no_follow_up (a meeting 2–5 days ago, nothing after
 * it) and declining (a burst of contact 60–90 days ago, one activity in the last 30 days). The contacts of
 * the quiet patterns take part in nothing else (no deal, asset, newsletter or big meeting), so their own
 * signals tell the same story as their organisation's.
 *
 * Scale. demoSizes gives ~10k records for 1M activities (~100 per record). The activity budget is split
 * exactly between the streams (the patterned ones first, by their plans), and the streams are merged by a
 * min-heap on the time of their next activity: state is O(records), activities are made lazily, in
 * occurred_at order.
 */

// ——— the API ———

export interface DemoOptions {
  /** Same seed, same data (default 1). */
  seed?: number;
  /** How many activities to generate in all (1,000 … 1,000,000). */
  activities: number;
  /** The instant the history leads up to: activities happen before it, but for a few upcoming meetings. */
  now: Date;
  /** How many years of history (default 3, at least half a year). */
  years?: number;
}

/** A field as the metadata API takes it: `{ name, type, displayName?, required?, unique?, target?, … }`. */
export type DemoField = Record<string, unknown> & { name: string; type: string };

export interface DemoEntity {
  name: string;
  displayName: string;
  pluralName?: string;
  trackActivities: boolean;
  fields: DemoField[];
}

export interface DemoRecord {
  entity: string;
  /** A uuid. */
  id: string;
  /** Field name → value; a lookup's value is the id of the record it refers to. */
  values: Record<string, unknown>;
}

export type DemoActivityKind = 'email' | 'call' | 'meeting' | 'note' | 'task';
export type DemoDirection = 'inbound' | 'outbound' | 'internal';

export interface DemoParty {
  role: 'from' | 'to' | 'cc' | 'attendee';
  address: string;
  /** The generated record behind the address (none for internal users). */
  entity?: string;
  id?: string;
}

export interface DemoActivity {
  id: string;
  kind: DemoActivityKind;
  direction: DemoDirection;
  subject: string;
  body?: string;
  /** ISO instant, at most `now` but for upcoming meetings (within 30 days after it). */
  occurred_at: string;
  /** Calls and meetings. */
  duration_minutes?: number;
  /** Tasks. */
  due_at?: string;
  completed_at?: string;
  /** Emails: `<seed>-<n>@demo.xrm`, without angle brackets. */
  message_id?: string;
  /** Emails: the id of the activity this one answers. */
  in_reply_to?: string;
  regarding?: { entity: string; id: string };
  parties: DemoParty[];
}

export const DEMO_PATTERNS = [
  'healthy',
  'stale',
  'drifting',
  'blast',
  'big_meeting',
  'no_follow_up',
  'declining',
] as const;
export type DemoPattern = (typeof DEMO_PATTERNS)[number];

/** The domain of the internal side: demoUsers and the employee records (what an import counts as own). */
export const DEMO_INTERNAL_DOMAIN = 'northwind.example';
const TELEMETRY_DOMAIN = 'telemetry.example';

// ——— time ———

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** 1970-01-05T00:00Z, the first Monday of the epoch: working weeks are counted from it. */
const EPOCH_MONDAY = 4 * DAY;
const OPENING = 8 * HOUR;
const WORKDAY = 10 * HOUR;
const WORKWEEK = 5 * WORKDAY;

/** Working time (weekdays 08:00–18:00, local time = UTC + `tz`) elapsed between the epoch Monday and `t`. */
function toWorking(t: number, tz: number): number {
  const rel = t + tz - EPOCH_MONDAY;
  const week = Math.floor(rel / WEEK);
  const inWeek = rel - week * WEEK;
  const day = Math.floor(inWeek / DAY);
  if (day >= 5) return (week + 1) * WORKWEEK;
  return week * WORKWEEK + day * WORKDAY + Math.min(WORKDAY, Math.max(0, inWeek - day * DAY - OPENING));
}

/** The instant at which `w` of working time has elapsed: always within working hours, increasing with `w`. */
function fromWorking(w: number, tz: number): number {
  const week = Math.floor(w / WORKWEEK);
  const inWeek = w - week * WORKWEEK;
  const day = Math.floor(inWeek / WORKDAY);
  return EPOCH_MONDAY + week * WEEK + day * DAY + OPENING + (inWeek - day * WORKDAY) - tz;
}

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** `YYYY-MM-DDT` of the days `iso` has formatted (a few thousand at most: the history's days). */
const isoDates = new Map<number, string>();

/** `t` (whole milliseconds taken) as `Date#toISOString` would write it, five times faster. */
function iso(t: number): string {
  const ms = Math.floor(t);
  const day = Math.floor(ms / DAY);
  let isoDate = isoDates.get(day);
  if (isoDate === undefined) {
    if (isoDates.size > 100_000) isoDates.clear();
    isoDate = new Date(day * DAY).toISOString().slice(0, 11);
    isoDates.set(day, isoDate);
  }
  let rest = ms - day * DAY;
  const h = Math.floor(rest / HOUR);
  rest -= h * HOUR;
  const m = Math.floor(rest / MINUTE);
  rest -= m * MINUTE;
  const sec = Math.floor(rest / 1000);
  return `${isoDate}${PAD2[h]}:${PAD2[m]}:${PAD2[sec]}.${PAD3[rest - sec * 1000]}Z`;
}

// ——— randomness ———

/** murmur3's finaliser over two words: seeds the generators. */
function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((b + 0x632be59b) | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex16 = (x: number): string => HEX[(x >>> 8) & 0xff] + HEX[x & 0xff];
const hex32 = (x: number): string => hex16(x >>> 16) + hex16(x);

/** sfc32 (128 bits of state, passes PractRand), seeded from the demo's seed and a salt per use. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  private spare: number | undefined;

  constructor(seed: number, salt: number) {
    const base = hash32(seed >>> 0, Math.floor(seed / 0x100000000) >>> 0);
    this.a = hash32(base, salt);
    this.b = hash32(base, salt + 1);
    this.c = hash32(base, salt + 2);
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 0x100000000;
  }

  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.next());
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(items.length * this.next())];
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Log-normal with this median and the standard deviation of its logarithm. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Log-uniform in [lo, hi]. */
  logBetween(lo: number, hi: number): number {
    return lo * (hi / lo) ** this.next();
  }

  /** A version-4 uuid. */
  uuid(): string {
    const a = this.u32();
    const b = this.u32();
    const c = this.u32();
    const d = this.u32();
    const version = (b & 0x0fff) | 0x4000;
    const variant = ((c >>> 16) & 0x3fff) | 0x8000;
    return `${hex32(a)}-${hex16(b >>> 16)}-${hex16(version)}-${hex16(variant)}-${hex16(c)}${hex32(d)}`;
  }

  /** `k` distinct items of `pool` (all of them when it has no more). */
  sample<T>(pool: readonly T[], k: number): T[] {
    if (k >= pool.length) return pool.slice();
    if (k <= 4) {
      const few: T[] = [];
      while (few.length < k) {
        const item = pool[Math.floor(pool.length * this.next())];
        if (!few.includes(item)) few.push(item);
      }
      return few;
    }
    if (k * 3 > pool.length) {
      const copy = pool.slice();
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor((copy.length - i) * this.next());
        [copy[i], copy[j]] = [copy[j], copy[i]];
      }
      return copy.slice(0, k);
    }
    const chosen = new Set<number>();
    while (chosen.size < k) chosen.add(Math.floor(pool.length * this.next()));
    return [...chosen].map((i) => pool[i]);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor((i + 1) * this.next());
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

const SALT_WORLD = 0x5eed0001;
const SALT_ACTIVITIES = 0x5eed0002;

// ——— vocabulary ———

const FIRST_NAMES = words(
  'Anna Ben Chloe Daniel Elif Farah Gustav Hana Ivan Julia Kofi Lena Mateo Nora Omar Priya Quinn ' +
    'Rosa Sven Tara Umar Vera Wei Ximena Yusuf Zoe Aiko Bruno Carmen Dmitri Esther Felix Grace Hugo ' +
    'Ines Jonas Kira Liam Maya Nikolai Olivia Pablo Rania Sofia Tomas Ursula Viktor Wanda Yara Zain',
  ' ',
);
const LAST_NAMES = words(
  'Andersen Barros Chen Dubois Eriksen Fischer Garcia Haddad Ivanova Jensen Kowalski Larsen ' +
    'Moreau Nakamura Okafor Petrov Quintero Rossi Schmidt Tanaka Ueda Varga Weber Xu Yilmaz ' +
    'Zimmermann Abbott Bianchi Costa Dalton Evans Ferreira Gupta Horvath Ibrahim Johansson Kim ' +
    'Lopez Mensah Novak Olsen Park Reyes Sato Turner Vogel Walsh Young Zhou Brennan',
  ' ',
);
const ORG_WORDS = words(
  'Brightwater Northgate Bluepeak Cedar Silverline Redwood Ironbridge Harbor Summit Lumen Granite ' +
    'Maple Orion Pioneer Quartz Riverside Sterling Tidewater Vertex Willow Aurora Beacon Copper ' +
    'Delta Evergreen Falcon Golden Highland Juniper Keystone',
  ' ',
);
const ORG_REGIONS = ['North', 'Global', 'United', 'Pacific', 'Atlantic', 'Nordic', 'Alpine', 'Coastal'];

/** Organisation name endings by entity, with the industry each suggests. */
const ORG_ENDINGS: Record<OrgEntity, readonly (readonly [string, string])[]> = {
  partner: [
    ['Logistics', 'logistics'],
    ['Systems', 'software'],
    ['Retail', 'retail'],
    ['Solutions', 'software'],
    ['Networks', 'software'],
    ['Foods', 'retail'],
    ['Health', 'healthcare'],
    ['Media', 'media'],
    ['Energy', 'energy'],
    ['Analytics', 'software'],
    ['Freight', 'logistics'],
    ['Clinics', 'healthcare'],
  ],
  supplier: [
    ['Components', 'manufacturing'],
    ['Manufacturing', 'manufacturing'],
    ['Electronics', 'manufacturing'],
    ['Supply', 'logistics'],
    ['Industrial', 'manufacturing'],
    ['Sensors', 'manufacturing'],
    ['Power', 'energy'],
    ['Parts', 'manufacturing'],
  ],
  investor: [
    ['Capital', 'finance'],
    ['Ventures', 'finance'],
    ['Partners', 'finance'],
    ['Holdings', 'finance'],
    ['Investments', 'finance'],
    ['Growth', 'finance'],
  ],
};

const INDUSTRIES = ['software', 'manufacturing', 'logistics', 'retail', 'finance', 'healthcare', 'energy', 'media'];
const TIERS = ['strategic', 'gold', 'silver', 'bronze'];
const TIER_WEIGHT: Record<string, number> = { strategic: 2, gold: 1.4, silver: 1, bronze: 0.6 };
const DEPARTMENTS = ['sales', 'engineering', 'support', 'finance', 'marketing', 'operations', 'people'];
const DEAL_STAGES = ['prospecting', 'qualification', 'proposal', 'negotiation', 'closed_won', 'closed_lost'];
const ASSET_STATUSES = ['ordered', 'in_service', 'maintenance', 'retired'];
const JOB_TITLES = words(
  'Head of Partnerships|Procurement Manager|CFO|CTO|Operations Director|Account Manager|' +
    'Product Lead|Investment Manager|Sales Engineer|Managing Partner|Logistics Coordinator|' +
    'IT Manager|Supply Chain Analyst|Chief of Staff',
  '|',
);
const DEAL_TOPICS = words(
  'Fleet analytics rollout|Annual licence renewal|Warehouse sensors pilot|Support plan upgrade|' +
    'Data platform migration|Regional expansion|Cold-chain monitoring|Predictive maintenance',
  '|',
);
const ASSET_KINDS = words(
  'Cold-storage unit|Forklift|Conveyor line|HVAC unit|Sensor gateway|Packaging robot|' +
    'Backup generator|Delivery van',
  '|',
);
const DEVICE_KINDS = ['Temperature sensor', 'Vibration sensor', 'GPS tracker', 'Door sensor', 'Power meter'];
const PHONE_PREFIXES = ['+1 415', '+1 212', '+44 20', '+49 30', '+33 1', '+46 8', '+31 20', '+81 3'];
const TIME_ZONES = [0, 1, 1, 2, -5, -8, 9, 5.5].map((h) => h * HOUR);
const TOPICS = words(
  'the Q3 forecast|onboarding|the SLA|the data migration|volume discounts|the pilot|' +
    'the integration timeline|reporting|the new warehouse|payment terms|the security review|' +
    'next year’s budget',
  '|',
);
const MONTHS = words('January February March April May June July August September October November December', ' ');

const USERS: readonly { email: string; displayName: string }[] = [
  'Ada Lindqvist',
  'Bram Okoye',
  'Clara Mendes',
  'Dev Raman',
  'Eva Kowal',
  'Finn Murphy',
  'Greta Sato',
  'Hiro Castell',
].map((displayName) => ({ email: `${localPart(displayName)}@${DEMO_INTERNAL_DOMAIN}`, displayName }));

/** A word list written as one string (`sep` between the words). */
function words(text: string, sep: string): string[] {
  return text.split(sep);
}

/** `Anna Berg` → `anna.berg`. */
function localPart(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z ]/g, '')
    .trim()
    .replace(/ +/g, '.');
}

/** `Brightwater Logistics` → `brightwater-logistics`. */
function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** `closed_won` → `Closed won`. */
function labelOf(value: string): string {
  const words = value.replace(/_/g, ' ');
  return words[0].toUpperCase() + words.slice(1);
}

// ——— entities ———

type OrgEntity = 'partner' | 'supplier' | 'investor';
const ORG_ENTITIES: readonly OrgEntity[] = ['partner', 'supplier', 'investor'];

const nameField = (): DemoField => ({
  name: 'name',
  type: 'text',
  displayName: 'Name',
  required: true,
  searchable: true,
});
const choiceField = (name: string, displayName: string, values: readonly string[]): DemoField => ({
  name,
  type: 'choice',
  displayName,
  options: values.map((value) => ({ value, label: labelOf(value) })),
});
const lookupField = (name: string, displayName: string, target: string): DemoField => ({
  name,
  type: 'lookup',
  displayName,
  target,
  onDelete: 'setNull',
});
const emailField = (displayName: string): DemoField => ({
  name: 'email',
  type: 'email',
  displayName,
  unique: true,
  searchable: true,
});

function orgEntity(name: OrgEntity, displayName: string): DemoEntity {
  return {
    name,
    displayName,
    pluralName: `${name}s`,
    trackActivities: true,
    fields: [
      nameField(),
      { name: 'website', type: 'text', displayName: 'Website' },
      choiceField('industry', 'Industry', INDUSTRIES),
      choiceField('tier', 'Tier', TIERS),
      { name: 'employee_count', type: 'integer', displayName: 'Employees', min: 0 },
    ],
  };
}

/** The demo's entities, in creation order (every lookup's target before it). */
export function demoEntities(): DemoEntity[] {
  return [
    orgEntity('partner', 'Partner'),
    orgEntity('supplier', 'Supplier'),
    orgEntity('investor', 'Investor'),
    {
      name: 'employee',
      displayName: 'Employee',
      pluralName: 'employees',
      trackActivities: true,
      fields: [
        nameField(),
        emailField('Email'),
        { name: 'phone', type: 'phone', displayName: 'Phone' },
        choiceField('department', 'Department', DEPARTMENTS),
      ],
    },
    {
      name: 'contact',
      displayName: 'Contact',
      pluralName: 'contacts',
      trackActivities: true,
      fields: [
        nameField(),
        emailField('Email'),
        { name: 'phone', type: 'phone', displayName: 'Phone' },
        { name: 'job_title', type: 'text', displayName: 'Job title' },
        lookupField('partner', 'Partner', 'partner'),
        lookupField('supplier', 'Supplier', 'supplier'),
      ],
    },
    {
      name: 'deal',
      displayName: 'Deal',
      pluralName: 'deals',
      trackActivities: true,
      fields: [
        nameField(),
        { name: 'amount', type: 'money', displayName: 'Amount', min: 0 },
        choiceField('stage', 'Stage', DEAL_STAGES),
        { name: 'close_date', type: 'date', displayName: 'Close date' },
        lookupField('partner', 'Partner', 'partner'),
      ],
    },
    {
      name: 'asset',
      displayName: 'Asset',
      pluralName: 'assets',
      trackActivities: true,
      fields: [
        nameField(),
        { name: 'serial_number', type: 'text', displayName: 'Serial number', unique: true, searchable: true },
        choiceField('status', 'Status', ASSET_STATUSES),
        lookupField('supplier', 'Supplier', 'supplier'),
        emailField('Telemetry address'),
      ],
    },
    {
      name: 'iot_device',
      displayName: 'IoT device',
      pluralName: 'iot_devices',
      trackActivities: true,
      fields: [
        nameField(),
        { name: 'serial_number', type: 'text', displayName: 'Serial number', unique: true, searchable: true },
        { name: 'firmware', type: 'text', displayName: 'Firmware' },
        lookupField('asset', 'Asset', 'asset'),
        emailField('Telemetry address'),
      ],
    },
  ];
}

/** The internal people (record owners): they send and receive on the internal domain, and are no record. */
export function demoUsers(): { email: string; displayName: string }[] {
  return USERS.map((u) => ({ ...u }));
}

const SIZE_PER_MILLION: Readonly<Record<string, number>> = {
  partner: 1200,
  supplier: 500,
  investor: 120,
  employee: 300,
  contact: 4000,
  deal: 1600,
  asset: 800,
  iot_device: 1500,
};
/** Enough for every pattern (and for 30–60 newsletter recipients) however few the activities. */
const SIZE_MINIMUM: Readonly<Record<string, number>> = {
  partner: 12,
  supplier: 6,
  investor: 4,
  employee: 8,
  contact: 160,
  deal: 10,
  asset: 6,
  iot_device: 8,
};

/** How many records of each entity go with that many activities (~10k records for 1M). */
export function demoSizes(activities: number): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const [entity, perMillion] of Object.entries(SIZE_PER_MILLION)) {
    sizes[entity] = Math.max(SIZE_MINIMUM[entity], Math.round((perMillion * activities) / 1_000_000));
  }
  return sizes;
}

// ——— the world: records and stream plans ———

/** Someone (or something) that can be a party: an internal user has no entity. */
interface Person {
  readonly name: string;
  readonly address: string;
  readonly entity?: string;
  readonly id?: string;
}

interface Org {
  readonly entity: OrgEntity;
  readonly id: string;
  readonly name: string;
  readonly domain: string;
  readonly tier: string;
  pattern?: DemoPattern;
  readonly contacts: Person[];
}

type StreamType = 'org' | 'deal' | 'asset' | 'device' | 'employee';
type TouchKind = 'email' | 'meeting' | 'call' | 'note' | 'task' | 'blast' | 'big_meeting' | 'silent_email';

/** A stretch of a stream's timeline: `budget` activities between `from` and `to`. */
interface Segment {
  readonly from: number;
  readonly to: number;
  readonly budget: number;
  /** Every touch is of this kind. */
  readonly only?: TouchKind;
  /** Emails draw no replies. */
  readonly quiet?: boolean;
}

/** A reply delay: log-normal around `median`, clamped to [min, max]. */
interface Delay {
  readonly median: number;
  readonly sigma: number;
  readonly min: number;
  readonly max: number;
}

/** What a stream is about and how its people behave, before it has a budget. */
interface Draft {
  readonly type: StreamType;
  readonly regarding: { readonly entity: string; readonly id: string };
  /** The regarding record's name, and its organisation's (for subjects). */
  readonly title: string;
  readonly orgName: string;
  readonly pattern?: DemoPattern;
  readonly owner: Person;
  /** The people on the other side (contacts, or the employee). */
  readonly people: readonly Person[];
  /** An asset's or device's telemetry address. */
  readonly machine?: Person;
  readonly tz: number;
  readonly reply: Delay;
  /** How likely the first recipient of an outbound email answers it. */
  readonly replyRate: number;
  /** Share of the emails they start. */
  readonly inboundShare: number;
  /** The default window (unpatterned streams) and whether an upcoming meeting ends it. */
  readonly from: number;
  readonly to: number;
  readonly upcoming: boolean;
  /** Days between touches (patterned streams). */
  readonly cadence: number;
  /** Share of the unpatterned budget; patterned streams ask for `planned` activities instead. */
  readonly weight: number;
  readonly planned: number;
  /** Activities one touch makes on average (replies included): spaces the touches. */
  readonly perTouch: number;
}

/** A draft with its budget laid out in segments (built field by field: `{ ...draft, more }` is slow in V8). */
interface StreamPlan extends Draft {
  readonly index: number;
  readonly segments: readonly Segment[];
}

interface World {
  readonly seed: number;
  readonly now: number;
  readonly span: number;
  readonly users: readonly Person[];
  readonly employees: readonly Person[];
  /** Contacts that may receive newsletters and attend big meetings. */
  readonly shared: readonly Person[];
  readonly records: readonly DemoRecord[];
  readonly streams: readonly StreamPlan[];
  readonly patterns: ReadonlyMap<string, DemoPattern>;
}

interface Resolved {
  readonly seed: number;
  readonly activities: number;
  readonly now: number;
  readonly span: number;
}

function resolve(options: DemoOptions): Resolved {
  const { activities, now } = options;
  const seed = options.seed ?? 1;
  const years = options.years ?? 3;
  if (!Number.isSafeInteger(activities) || activities < 0) {
    throw new RangeError('activities must be a whole number, at least 0');
  }
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) throw new RangeError('now must be a valid Date');
  if (!Number.isFinite(seed)) throw new RangeError('seed must be a finite number');
  if (!(years >= 0.5 && years <= 50)) throw new RangeError('years must be between 0.5 and 50');
  return { seed, activities, now: now.getTime(), span: Math.round(years * 365 * DAY) };
}

/** The last world built: demoRecords, demoActivities and demoPatternOf of the same options share it. */
let cached: { key: string; world: World } | undefined;

function worldOf(options: DemoOptions): World {
  const resolved = resolve(options);
  const key = `${resolved.seed}|${resolved.activities}|${resolved.now}|${resolved.span}`;
  if (cached?.key !== key) cached = { key, world: buildWorld(resolved) };
  return cached.world;
}

/** Patterns whose contacts take part in nothing but their organisation's own stream. */
const ISOLATED: ReadonlySet<DemoPattern | undefined> = new Set<DemoPattern | undefined>([
  'healthy',
  'stale',
  'drifting',
  'no_follow_up',
  'declining',
]);

/** Share of the organisations generated with each pattern (at least two of each). */
const PATTERN_SHARE: Readonly<Record<DemoPattern, number>> = {
  healthy: 0.1,
  stale: 0.06,
  drifting: 0.04,
  blast: 0.025,
  big_meeting: 0.03,
  no_follow_up: 0.04,
  declining: 0.05,
};

/** The fewest activities that still show a pattern. */
const PATTERN_MINIMUM: Readonly<Record<DemoPattern, number>> = {
  healthy: 8,
  stale: 6,
  drifting: 8,
  blast: 3,
  big_meeting: 4,
  no_follow_up: 5,
  declining: 10,
};

/** Patterned streams get at most this share of the activities (their plans shrink to fit). */
const PATTERNED_SHARE = 0.4;

class WorldBuilder {
  readonly rng: Rng;
  readonly records: DemoRecord[] = [];
  readonly addresses = new Set<string>(USERS.map((u) => u.email));
  readonly users: Person[] = USERS.map((u) => ({ name: u.displayName, address: u.email }));
  readonly employees: Person[] = [];
  readonly orgs: Record<OrgEntity, Org[]> = { partner: [], supplier: [], investor: [] };
  readonly drafts: Draft[] = [];
  readonly patterns = new Map<string, DemoPattern>();

  constructor(
    readonly options: Resolved,
    readonly sizes: Record<string, number>,
  ) {
    this.rng = new Rng(options.seed, SALT_WORLD);
  }

  get now(): number {
    return this.options.now;
  }

  add(entity: string, values: Record<string, unknown>): string {
    const id = this.rng.uuid();
    this.records.push({ entity, id, values });
    return id;
  }

  /** A unique address `local@domain` (a digit appended when it is taken). */
  address(local: string, domain: string): string {
    let address = `${local}@${domain}`;
    for (let n = 2; this.addresses.has(address); n++) address = `${local}${n}@${domain}`;
    this.addresses.add(address);
    return address;
  }

  personName(): string {
    return `${this.rng.pick(FIRST_NAMES)} ${this.rng.pick(LAST_NAMES)}`;
  }

  phone(): string {
    return `${this.rng.pick(PHONE_PREFIXES)} ${this.rng.int(200, 999)} ${this.rng.int(1000, 9999)}`;
  }

  /** The UTC day of `t`, as a date field's value. */
  dayOf(t: number): string {
    return iso(t).slice(0, 10);
  }
}

function buildWorld(options: Resolved): World {
  const b = new WorldBuilder(options, demoSizes(options.activities));
  const taken = new Set<string>();
  for (const entity of ORG_ENTITIES) addOrgs(b, entity, taken);
  addEmployees(b);
  assignPatterns(b);
  addContacts(b);
  const deals = addDeals(b);
  const assets = addAssets(b);
  const devices = addDevices(b, assets);
  draftOrgStreams(b);
  b.drafts.push(...deals, ...assets.map((asset) => asset.draft), ...devices);
  draftEmployeeStreams(b);
  const budgets = allocate(options.activities, b.drafts);
  const streams = b.drafts.map((draft, index) => planStream(b, draft, budgets[index], index));
  const shared = ORG_ENTITIES.flatMap((e) => b.orgs[e])
    .filter((org) => !ISOLATED.has(org.pattern))
    .flatMap((org) => org.contacts.filter((c) => c.entity !== undefined));
  return {
    seed: options.seed,
    now: options.now,
    span: options.span,
    users: b.users,
    employees: b.employees,
    shared,
    records: b.records,
    streams,
    patterns: b.patterns,
  };
}

function addOrgs(b: WorldBuilder, entity: OrgEntity, taken: Set<string>): void {
  const rng = b.rng;
  for (let i = 0; i < b.sizes[entity]; i++) {
    const [ending, industry] = rng.pick(ORG_ENDINGS[entity]);
    let name = `${rng.pick(ORG_WORDS)} ${ending}`;
    for (let tries = 0; taken.has(name) && tries < 5; tries++) {
      name = `${rng.pick(ORG_WORDS)} ${rng.pick(ORG_REGIONS)} ${ending}`;
    }
    for (let n = 2; taken.has(name); n++) name = `${name.replace(/ \d+$/, '')} ${n}`;
    taken.add(name);
    const domain = `${slug(name)}.example`;
    const tier = rng.pick(TIERS);
    const id = b.add(entity, {
      name,
      website: `https://www.${domain}`,
      industry: rng.chance(0.85) ? industry : rng.pick(INDUSTRIES),
      tier,
      employee_count: Math.round(rng.logNormal(250, 1.2)) + 5,
    });
    b.orgs[entity].push({ entity, id, name, domain, tier, contacts: [] });
  }
}

function addEmployees(b: WorldBuilder): void {
  for (let i = 0; i < b.sizes.employee; i++) {
    const name = b.personName();
    const email = b.address(localPart(name), DEMO_INTERNAL_DOMAIN);
    const id = b.add('employee', { name, email, phone: b.phone(), department: b.rng.pick(DEPARTMENTS) });
    b.employees.push({ name, address: email, entity: 'employee', id });
  }
}

/**
 * Patterns go to a shuffled selection of the organisations, at least two of each; the first partner and
 * the first supplier never get one (deals and assets need organisations whose contacts are not isolated).
 */
function assignPatterns(b: WorldBuilder): void {
  const all = ORG_ENTITIES.flatMap((e) => b.orgs[e]);
  const candidates = b.rng.shuffle(all.filter((org) => org !== b.orgs.partner[0] && org !== b.orgs.supplier[0]));
  let next = 0;
  for (const pattern of DEMO_PATTERNS) {
    const count = Math.max(2, Math.round(all.length * PATTERN_SHARE[pattern]));
    for (let i = 0; i < count && next < candidates.length; i++, next++) {
      const org = candidates[next];
      org.pattern = pattern;
      b.patterns.set(`${org.entity}:${org.id}`, pattern);
    }
  }
}

/** Every organisation gets a contact, the rest go by weight (isolated ones get fewer). */
function addContacts(b: WorldBuilder): void {
  const orgs = ORG_ENTITIES.flatMap((e) => b.orgs[e]);
  const cumulative: number[] = [];
  let total = 0;
  for (const org of orgs) cumulative.push((total += (ISOLATED.has(org.pattern) ? 0.6 : 1) * TIER_WEIGHT[org.tier]));
  for (let i = 0; i < b.sizes.contact; i++) {
    const org = i < orgs.length ? orgs[i] : orgs[weightedIndex(b.rng, cumulative)];
    const name = b.personName();
    const email = b.address(localPart(name), org.domain);
    const values: Record<string, unknown> = { name, email, phone: b.phone(), job_title: b.rng.pick(JOB_TITLES) };
    if (org.entity === 'partner') values.partner = org.id;
    if (org.entity === 'supplier') values.supplier = org.id;
    const id = b.add('contact', values);
    org.contacts.push({ name, address: email, entity: 'contact', id });
  }
  for (const org of orgs) {
    if (org.contacts.length === 0) org.contacts.push({ name: org.name, address: `info@${org.domain}` });
  }
}

/** An index drawn by weight, given the running sums of the weights. */
function weightedIndex(rng: Rng, cumulative: readonly number[]): number {
  const x = rng.next() * cumulative[cumulative.length - 1];
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const notIsolated = (orgs: readonly Org[]): Org[] => orgs.filter((org) => !ISOLATED.has(org.pattern));

/** Deals with partners whose contacts are not isolated; a closed deal's stream ends at its close. */
function addDeals(b: WorldBuilder): Draft[] {
  const rng = b.rng;
  const partners = notIsolated(b.orgs.partner);
  const drafts: Draft[] = [];
  for (let i = 0; i < b.sizes.deal; i++) {
    const partner = rng.pick(partners);
    const created = b.now - rng.between(14 * DAY, b.options.span * 0.95);
    const closed = created < b.now - 45 * DAY && rng.chance(0.55);
    const close = closed ? Math.min(b.now - DAY, created + rng.between(30, 240) * DAY) : b.now + rng.int(7, 150) * DAY;
    const stage = closed ? (rng.chance(0.6) ? 'closed_won' : 'closed_lost') : rng.pick(DEAL_STAGES.slice(0, 4));
    const name = `${partner.name} – ${rng.pick(DEAL_TOPICS)}`;
    const amount = Math.round(rng.logNormal(40_000, 0.9) / 50) * 50;
    const id = b.add('deal', { name, amount, stage, close_date: b.dayOf(close), partner: partner.id });
    const to = closed ? close : b.now - rng.between(0.3, 6) * DAY;
    drafts.push(
      draft(b, {
        type: 'deal',
        regarding: { entity: 'deal', id },
        title: name,
        orgName: partner.name,
        people: partner.contacts,
        from: created,
        to,
        upcoming: !closed && rng.chance(0.2),
        weight: 0.7,
      }),
    );
  }
  return drafts;
}

interface AssetInfo {
  readonly person: Person;
  readonly since: number;
  readonly draft: Draft;
}

function addAssets(b: WorldBuilder): AssetInfo[] {
  const rng = b.rng;
  const suppliers = notIsolated(b.orgs.supplier);
  const assets: AssetInfo[] = [];
  for (let i = 0; i < b.sizes.asset; i++) {
    const supplier = rng.pick(suppliers);
    const n = String(i + 1).padStart(4, '0');
    const name = `${rng.pick(ASSET_KINDS)} ${n}`;
    const since = b.now - rng.between(30 * DAY, b.options.span);
    const status = rng.pick(ASSET_STATUSES.slice(1).concat('in_service', 'in_service', 'in_service'));
    const email = b.address(`asset-${i + 1}`, TELEMETRY_DOMAIN);
    const serial = `AS-${n}-${hex16(rng.u32()).toUpperCase()}`;
    const values = { name, serial_number: serial, status, supplier: supplier.id, email };
    const id = b.add('asset', values);
    const person: Person = { name, address: email, entity: 'asset', id };
    const retired = status === 'retired';
    const to = retired
      ? Math.max(since + 10 * DAY, b.now - rng.between(30, 200) * DAY)
      : b.now - rng.between(1, 20) * DAY;
    const stream = draft(b, {
      type: 'asset',
      regarding: { entity: 'asset', id },
      title: name,
      orgName: supplier.name,
      people: supplier.contacts,
      machine: person,
      from: since,
      to,
      upcoming: false,
      weight: 0.35,
    });
    assets.push({ person, since, draft: stream });
  }
  return assets;
}

function addDevices(b: WorldBuilder, assets: readonly AssetInfo[]): Draft[] {
  const rng = b.rng;
  const drafts: Draft[] = [];
  for (let i = 0; i < b.sizes.iot_device; i++) {
    const asset = rng.pick(assets);
    const n = String(i + 1).padStart(5, '0');
    const serial = `DV-${n}-${hex16(rng.u32()).toUpperCase()}`;
    const name = `${rng.pick(DEVICE_KINDS)} ${serial.slice(3, 8)}`;
    const email = b.address(`device-${i + 1}`, TELEMETRY_DOMAIN);
    const firmware = `${rng.int(1, 3)}.${rng.int(0, 9)}.${rng.int(0, 20)}`;
    const id = b.add('iot_device', { name, serial_number: serial, firmware, asset: asset.person.id, email });
    const installed = Math.min(b.now - 10 * DAY, asset.since + rng.between(1, 30) * DAY);
    drafts.push(
      draft(b, {
        type: 'device',
        regarding: { entity: 'iot_device', id },
        title: name,
        orgName: asset.person.name,
        people: [],
        machine: { name, address: email, entity: 'iot_device', id },
        from: installed,
        to: b.now - rng.between(0.05, 2) * DAY,
        upcoming: false,
        weight: 0.45,
      }),
    );
  }
  return drafts;
}

function draftOrgStreams(b: WorldBuilder): void {
  const rng = b.rng;
  for (const entity of ORG_ENTITIES) {
    for (const org of b.orgs[entity]) {
      const anchor = org === b.orgs.partner[0];
      const pattern = org.pattern;
      b.drafts.push(
        draft(b, {
          type: 'org',
          regarding: { entity, id: org.id },
          title: org.name,
          orgName: org.name,
          pattern,
          people: org.contacts,
          from: b.now - b.options.span * rng.between(0.3, 0.98),
          to: b.now - rng.between(0.3, 8) * DAY,
          upcoming: anchor || (pattern === undefined && rng.chance(0.15)) || (upcomingFits(pattern) && rng.chance(0.3)),
          weight: TIER_WEIGHT[org.tier],
        }),
      );
    }
  }
}

const upcomingFits = (pattern: DemoPattern | undefined): boolean => pattern === 'healthy' || pattern === 'big_meeting';

function draftEmployeeStreams(b: WorldBuilder): void {
  const rng = b.rng;
  for (const employee of b.employees) {
    b.drafts.push(
      draft(b, {
        type: 'employee',
        regarding: { entity: 'employee', id: employee.id! },
        title: employee.name,
        orgName: 'Northwind',
        people: [employee],
        from: b.now - b.options.span * rng.between(0.2, 1),
        to: b.now - rng.between(0.3, 6) * DAY,
        upcoming: rng.chance(0.15),
        weight: 0.6,
      }),
    );
  }
}

type DraftInput = Pick<Draft, 'type' | 'regarding' | 'title' | 'orgName' | 'people' | 'from' | 'to' | 'upcoming'> &
  Partial<Pick<Draft, 'pattern' | 'machine'>> & { weight: number };

/** A stream's people and habits: owner, time zone, how fast and how often they answer, its plan's size. */
function draft(b: WorldBuilder, input: DraftInput): Draft {
  const rng = b.rng;
  const pattern = input.pattern;
  const habits = habitsOf(rng, input.type, pattern);
  const cadence = cadenceOf(rng, pattern);
  const weight = input.weight * rng.logNormal(1, 0.5);
  const owner = rng.pick(b.users);
  const tz = rng.pick(TIME_ZONES);
  const perTouch = perTouchOf(input.type, pattern, habits.replyRate, habits.inboundShare);
  const planned = pattern ? plannedBudget(rng, pattern, b.options.span, cadence, perTouch) : 0;
  return {
    type: input.type,
    regarding: input.regarding,
    title: input.title,
    orgName: input.orgName,
    pattern,
    owner,
    people: input.people,
    machine: input.machine,
    tz,
    reply: habits.reply,
    replyRate: habits.replyRate,
    inboundShare: habits.inboundShare,
    from: input.from,
    to: input.to,
    upcoming: input.upcoming,
    cadence,
    weight,
    planned,
    perTouch,
  };
}

function habitsOf(
  rng: Rng,
  type: StreamType,
  pattern: DemoPattern | undefined,
): Pick<Draft, 'reply' | 'replyRate' | 'inboundShare'> {
  if (pattern === 'drifting') {
    const reply = { median: rng.between(1.5, 2) * HOUR, sigma: 0.2, min: 40 * MINUTE, max: 4 * HOUR };
    return { reply, replyRate: 1, inboundShare: 0 };
  }
  if (type === 'device') {
    return {
      reply: { median: 25 * MINUTE, sigma: 0.2, min: 20 * MINUTE, max: HOUR },
      replyRate: 0.95,
      inboundShare: 0.5,
    };
  }
  const median = pattern === 'healthy' ? rng.logBetween(40 * MINUTE, 8 * HOUR) : rng.logBetween(30 * MINUTE, 24 * HOUR);
  const reply = { median, sigma: 0.6, min: 20 * MINUTE, max: 2 * DAY };
  const replyRate = pattern === 'healthy' ? rng.between(0.85, 0.97) : rng.between(0.55, 0.92);
  return { reply, replyRate, inboundShare: type === 'employee' ? 0.4 : rng.between(0.2, 0.4) };
}

/** Days between two touches of a patterned stream. */
function cadenceOf(rng: Rng, pattern: DemoPattern | undefined): number {
  switch (pattern) {
    case 'healthy':
      return rng.between(7, 17);
    case 'stale':
      return rng.between(5, 18);
    case 'blast':
      return rng.between(26, 34);
    case 'big_meeting':
      return rng.between(4, 10);
    case 'declining':
      return rng.between(10, 21);
    default:
      return rng.between(5, 14);
  }
}

/** How many activities a pattern's plan asks for before it is fitted to the total. */
function plannedBudget(rng: Rng, pattern: DemoPattern, span: number, cadence: number, perTouch: number): number {
  const touches = (share: number) => (span * share) / (cadence * DAY);
  let planned: number;
  if (pattern === 'blast') planned = touches(rng.between(0.4, 1));
  else if (pattern === 'stale') planned = touches(rng.between(0.2, 0.6)) * perTouch;
  else if (pattern === 'declining') planned = 3 + rng.int(12, 24) + touches(rng.between(0.2, 0.6)) * perTouch;
  else planned = touches(rng.between(0.35, 0.95)) * perTouch + 1;
  return Math.max(PATTERN_MINIMUM[pattern], Math.round(planned));
}

/** The touch kinds of each stream type, with their weights. */
const KIND_WEIGHTS: Readonly<Record<StreamType, readonly (readonly [TouchKind, number])[]>> = {
  org: [
    ['email', 0.31],
    ['meeting', 0.29],
    ['call', 0.22],
    ['note', 0.08],
    ['task', 0.1],
  ],
  deal: [
    ['email', 0.31],
    ['meeting', 0.28],
    ['call', 0.23],
    ['note', 0.07],
    ['task', 0.11],
  ],
  asset: [
    ['email', 0.35],
    ['note', 0.2],
    ['task', 0.15],
    ['call', 0.15],
    ['meeting', 0.15],
  ],
  device: [
    ['email', 0.45],
    ['note', 0.37],
    ['task', 0.18],
  ],
  employee: [
    ['email', 0.25],
    ['meeting', 0.5],
    ['call', 0.1],
    ['note', 0.05],
    ['task', 0.1],
  ],
};

function emailShare(type: StreamType): number {
  return KIND_WEIGHTS[type].find(([kind]) => kind === 'email')?.[1] ?? 0;
}

/** Activities per touch: an email brings its replies (ours to theirs, theirs to ours). */
function perTouchOf(
  type: StreamType,
  pattern: DemoPattern | undefined,
  replyRate: number,
  inboundShare: number,
): number {
  if (pattern === 'blast') return 1;
  const theirs = (1 - inboundShare) * replyRate * 1.15;
  const ours = inboundShare * OUR_REPLY_RATE;
  return 1 + emailShare(type) * (theirs + ours);
}

/**
 * Splits `total` exactly: patterned streams get their plans (shrunk when they would take more than
 * PATTERNED_SHARE), the other streams the rest by weight, the last few activities one each in order.
 */
function allocate(total: number, drafts: readonly Draft[]): number[] {
  let budgets = drafts.map((d) => d.planned);
  const planned = sum(budgets);
  const cap = Math.floor(total * PATTERNED_SHARE);
  if (planned > cap) {
    const f = cap / planned;
    budgets = drafts.map((d) => (d.pattern ? Math.max(PATTERN_MINIMUM[d.pattern], Math.floor(d.planned * f)) : 0));
  }
  let rest = total - sum(budgets);
  for (let i = budgets.length - 1; i >= 0 && rest < 0; i--) {
    const cut = Math.min(budgets[i], -rest);
    budgets[i] -= cut;
    rest += cut;
  }
  const weights = drafts.map((d) => (d.pattern ? 0 : d.weight));
  const totalWeight = sum(weights);
  let given = 0;
  for (let i = 0; i < budgets.length && totalWeight > 0; i++) {
    const share = Math.floor((rest * weights[i]) / totalWeight);
    budgets[i] += share;
    given += share;
  }
  for (let i = 0; given < rest; i = (i + 1) % budgets.length) {
    if (weights[i] > 0 || totalWeight === 0) {
      budgets[i]++;
      given++;
    }
  }
  return budgets;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

function planStream(b: WorldBuilder, d: Draft, budget: number, index: number): StreamPlan {
  const segments = budget > 0 ? segmentsOf(b, d, budget, d.perTouch).filter((s) => s.budget > 0) : [];
  return Object.assign(d, { index, segments });
}

/** The segments realising a stream's pattern (or its plain window), `budget` activities in all. */
function segmentsOf(b: WorldBuilder, d: Draft, budget: number, perTouch: number): Segment[] {
  const { now, span } = b.options;
  const rng = b.rng;
  const earliest = now - span + DAY;
  const segment = (from: number, to: number, n: number, extra?: Partial<Segment>): Segment => ({
    from: Math.max(earliest, Math.min(from, to - DAY)),
    to,
    budget: n,
    ...extra,
  });
  /** Back from `to`, as long as `n` activities take at the stream's cadence. */
  const back = (to: number, n: number) => to - (n / perTouch) * d.cadence * DAY;
  switch (d.pattern) {
    case 'healthy': {
      // the cadence up to 9–12 days ago, then a call in the last week: always a recent contact
      const upcoming = d.upcoming && budget >= 4 ? 1 : 0;
      const main = budget - upcoming - 1;
      const to = now - rng.between(9, 12) * DAY;
      const recent = segment(now - 8 * DAY, now - 2 * DAY, 1, { only: 'call' });
      return withUpcoming(now, [segment(back(to, main), to, main), recent], upcoming);
    }
    case 'big_meeting': {
      const upcoming = d.upcoming && budget >= 3 ? 1 : 0;
      const to = now - rng.between(0.5, 5) * DAY;
      return withUpcoming(now, [segment(back(to, budget - upcoming), to, budget - upcoming)], upcoming);
    }
    case 'stale': {
      const to = now - rng.between(31, 31 + Math.min(120, span / DAY / 4)) * DAY;
      return [segment(back(to, budget), to, budget)];
    }
    case 'drifting': {
      const to = now - rng.between(6.8, 9) * DAY;
      const last = segment(now - 5.8 * DAY, now - 1.2 * DAY, 1, { only: 'silent_email' });
      return [segment(back(to, budget - 1), to, budget - 1), last];
    }
    case 'no_follow_up': {
      const to = now - rng.between(7.9, 11) * DAY;
      const meeting = segment(now - 4.9 * DAY, now - 2.1 * DAY, 1, { only: 'meeting' });
      return [segment(back(to, budget - 1), to, budget - 1), meeting];
    }
    case 'blast': {
      const to = now - rng.between(1, 25) * DAY;
      return [segment(to - budget * d.cadence * DAY, to, budget, { only: 'blast' })];
    }
    case 'declining':
      return decliningSegments(rng, now, budget, segment, back);
    default: {
      const upcoming = d.upcoming && budget >= 3 ? 1 : 0;
      return withUpcoming(now, [segment(d.from, d.to, budget - upcoming)], upcoming);
    }
  }
}

function withUpcoming(now: number, segments: Segment[], upcoming: number): Segment[] {
  if (upcoming) segments.push({ from: now + 2 * HOUR, to: now + 29 * DAY, budget: 1, only: 'meeting' });
  return segments;
}

/** Regular contact, a burst 60–90 days ago, one or two quiet touches after, a single one in the last 30 days. */
function decliningSegments(
  rng: Rng,
  now: number,
  budget: number,
  segment: (from: number, to: number, n: number, extra?: Partial<Segment>) => Segment,
  back: (to: number, n: number) => number,
): Segment[] {
  const last = Math.min(1, budget);
  const tail = Math.min(budget - last, budget >= 14 ? 2 : 1);
  const rest = budget - last - tail;
  const burst = Math.min(rest, Math.max(5, Math.round(rest * 0.4)));
  const history = rest - burst;
  const historyEnd = now - 92 * DAY;
  return [
    segment(back(historyEnd, history), historyEnd, history),
    segment(now - 90 * DAY, now - 61 * DAY, burst),
    segment(now - 58 * DAY, now - 32 * DAY, tail, { quiet: true }),
    segment(now - 28 * DAY, now - 3 * DAY, last, { only: rng.chance(0.5) ? 'silent_email' : 'call' }),
  ];
}

// ——— records ———

/** The demo's records: organisations, employees, contacts, deals, assets, devices (parents first). */
export function* demoRecords(options: DemoOptions): Generator<DemoRecord> {
  const world = worldOf(options);
  for (const record of world.records) yield { entity: record.entity, id: record.id, values: { ...record.values } };
}

/** The pattern a regarding record was generated with, if any. */
export function demoPatternOf(options: DemoOptions, entity: string, id: string): DemoPattern | undefined {
  return worldOf(options).patterns.get(`${entity}:${id}`);
}

// ——— activities ———

/** How likely we answer an email they start, and how fast. */
const OUR_REPLY_RATE = 0.75;
const OUR_REPLY: Delay = { median: 3 * HOUR, sigma: 0.8, min: 10 * MINUTE, max: 2 * DAY };

interface Pending {
  readonly at: number;
  readonly activity: DemoActivity;
}

/** A stream being generated: where it is in its segments, its next touch, the replies it owes. */
class StreamRun {
  segment = -1;
  current: Segment | undefined;
  /** Activities left in the current segment (replies are taken from it when their touch is made). */
  left = 0;
  /** Working time of the last touch, and the end of the segment, in working time. */
  w = 0;
  wEnd = 0;
  last = Number.NEGATIVE_INFINITY;
  next = Number.POSITIVE_INFINITY;
  touches = 0;
  readonly pending: Pending[] = [];
  /** When its next activity happens (Infinity when it is done). */
  key = Number.POSITIVE_INFINITY;

  /** Copied from the plan: read for every touch, they stay in the run's cache line. */
  readonly tz: number;
  readonly perTouch: number;

  constructor(readonly plan: StreamPlan) {
    this.tz = plan.tz;
    this.perTouch = plan.perTouch;
  }

  refreshKey(): void {
    const head = this.pending[0];
    this.key = head !== undefined && head.at <= this.next ? head.at : this.next;
  }
}

interface Context {
  readonly rng: Rng;
  readonly world: World;
  readonly now: number;
  emails: number;
}

/**
 * Min-heap of streams by the time of their next activity, ties by stream number: the keys and stream
 * numbers sit in typed arrays (the million sift-downs of a run stay in cache).
 */
class StreamHeap {
  private readonly keys: Float64Array;
  private readonly streams: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
    this.streams = new Int32Array(capacity);
  }

  /** The number of the stream whose next activity comes first. */
  get top(): number {
    return this.streams[0];
  }

  push(stream: number, key: number): void {
    const { keys, streams } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(key, stream, keys[parent], streams[parent])) break;
      keys[i] = keys[parent];
      streams[i] = streams[parent];
      i = parent;
    }
    keys[i] = key;
    streams[i] = stream;
  }

  /** The top stream's next activity is now at `key` (Infinity: it is done, and leaves). */
  updateTop(key: number): void {
    const { keys, streams } = this;
    let stream = streams[0];
    if (key === Number.POSITIVE_INFINITY) {
      if (--this.size === 0) return;
      key = keys[this.size];
      stream = streams[this.size];
    }
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(keys[r], streams[r], keys[l], streams[l]) ? r : l;
      if (!before(keys[child], streams[child], key, stream)) break;
      keys[i] = keys[child];
      streams[i] = streams[child];
      i = child;
    }
    keys[i] = key;
    streams[i] = stream;
  }
}

function before(key: number, stream: number, otherKey: number, other: number): boolean {
  return key < otherKey || (key === otherKey && stream < other);
}

/**
 * The activities, `options.activities` of them, in occurred_at order (a reply always after what it answers).
 * Lazy: only the streams' state is kept, so a million activities take no more memory than a thousand.
 */
export function* demoActivities(options: DemoOptions): Generator<DemoActivity> {
  const world = worldOf(options);
  const ctx: Context = { rng: new Rng(world.seed, SALT_ACTIVITIES), world, now: world.now, emails: 0 };
  const runs = world.streams.map((plan) => new StreamRun(plan));
  const heap = new StreamHeap(runs.length);
  for (const run of runs) {
    scheduleNext(run, ctx.rng);
    run.refreshKey();
    if (run.key !== Number.POSITIVE_INFINITY) heap.push(run.plan.index, run.key);
  }
  while (heap.size > 0) {
    const run = runs[heap.top];
    const activity = emitNext(run, ctx);
    heap.updateTop(run.key);
    yield activity;
  }
}

/** The stream's next activity: a reply it owes, or its next touch. */
function emitNext(run: StreamRun, ctx: Context): DemoActivity {
  const head = run.pending[0];
  let activity: DemoActivity;
  if (head !== undefined && head.at <= run.next) {
    run.pending.shift();
    activity = head.activity;
  } else {
    activity = makeTouch(run, run.next, ctx);
    run.last = run.next;
    run.touches++;
    scheduleNext(run, ctx.rng);
  }
  run.refreshKey();
  return activity;
}

/**
 * The time of the stream's next touch: the rest of the segment's working time shared out evenly between
 * the touches its budget still allows (±40 %), so the touches keep a steady cadence up to the segment's end.
 */
function scheduleNext(run: StreamRun, rng: Rng): void {
  const tz = run.tz;
  let s = run.current;
  while (run.left <= 0) {
    const segments = run.plan.segments;
    run.segment++;
    if (run.segment >= segments.length) {
      run.current = undefined;
      run.next = Number.POSITIVE_INFINITY;
      return;
    }
    s = run.current = segments[run.segment];
    run.left = s.budget;
    run.w = toWorking(s.from, tz);
    run.wEnd = toWorking(s.to, tz);
  }
  const touchesLeft = s!.only ? run.left : run.left / run.perTouch;
  const share = touchesLeft <= 1 ? rng.between(0.2, 0.95) : Math.min(0.95, rng.between(0.6, 1.4) / touchesLeft);
  run.w += Math.max(0, Math.floor((run.wEnd - run.w) * share));
  run.next = Math.max(run.last, fromWorking(run.w, tz));
}

/** Makes the touch due at `at`, queueing the replies it draws; takes them all from the segment's budget. */
function makeTouch(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const segment = run.current!;
  let kind = segment.only ?? pickKind(run, ctx.rng);
  // the segment's last activity: an email could not be answered, so it is a call (a note for a device)
  if (kind === 'email' && run.left === 1 && !segment.quiet) kind = run.plan.type === 'device' ? 'note' : 'call';
  run.left--;
  switch (kind) {
    case 'email':
      return emailTouch(run, at, ctx, segment.quiet === true);
    case 'silent_email':
      return humanEmail(run, at, ctx, true, true);
    case 'meeting':
      return meeting(run, at, ctx);
    case 'big_meeting':
      return bigMeeting(run, at, ctx);
    case 'call':
      return call(run, at, ctx);
    case 'note':
      return note(run, at, ctx);
    case 'task':
      return task(run, at, ctx);
    case 'blast':
      return blast(run, at, ctx);
  }
}

function pickKind(run: StreamRun, rng: Rng): TouchKind {
  if (run.plan.pattern === 'big_meeting' && run.touches % 8 === 1) return 'big_meeting';
  let x = rng.next();
  const weights = KIND_WEIGHTS[run.plan.type];
  for (const [kind, weight] of weights) {
    x -= weight;
    if (x < 0) return kind;
  }
  return weights[0][0];
}

// ——— building activities ———

function party(role: DemoParty['role'], person: Person): DemoParty {
  if (person.entity === undefined) return { role, address: person.address };
  return { role, address: person.address, entity: person.entity, id: person.id };
}

/** `from` the sender, `to` each recipient. */
function addressed(from: Person, to: readonly Person[]): DemoParty[] {
  const parties = [party('from', from)];
  for (const person of to) parties.push(party('to', person));
  return parties;
}

function regardingOf(run: StreamRun): { entity: string; id: string } {
  return { entity: run.plan.regarding.entity, id: run.plan.regarding.id };
}

interface Draftable {
  kind: DemoActivityKind;
  direction: DemoDirection;
  subject: string;
  body?: string;
  at: number;
  parties: DemoParty[];
  duration?: number;
  due?: number;
  completed?: number;
  inReplyTo?: string;
}

/** The activity, its fields in the order DemoActivity declares them (emails numbered as they are made). */
function activity(run: StreamRun, ctx: Context, a: Draftable): DemoActivity {
  const out = { id: ctx.rng.uuid(), kind: a.kind, direction: a.direction, subject: a.subject } as DemoActivity;
  if (a.body !== undefined) out.body = a.body;
  out.occurred_at = iso(a.at);
  if (a.duration !== undefined) out.duration_minutes = a.duration;
  if (a.due !== undefined) out.due_at = iso(a.due);
  if (a.completed !== undefined) out.completed_at = iso(a.completed);
  if (a.kind === 'email') out.message_id = `${ctx.world.seed}-${++ctx.emails}@demo.xrm`;
  if (a.inReplyTo !== undefined) out.in_reply_to = a.inReplyTo;
  out.regarding = regardingOf(run);
  out.parties = a.parties;
  return out;
}

function delay(rng: Rng, d: Delay): number {
  return Math.round(Math.min(d.max, Math.max(d.min, rng.logNormal(d.median, d.sigma))));
}

/** Whether a reply at `at` fits (the segment's budget allows it, it happens by `now`): then it is counted. */
function replyFits(run: StreamRun, ctx: Context, at: number): boolean {
  if (run.left <= 0 || at > ctx.now) return false;
  run.left--;
  return true;
}

/** `from`'s answer to `original` (to `to`) at `at`, queued when it fits. */
function answer(
  run: StreamRun,
  ctx: Context,
  original: DemoActivity,
  at: number,
  direction: DemoDirection,
  from: Person,
  to: Person,
  body?: string,
): void {
  if (!replyFits(run, ctx, at)) return;
  const reply = activity(run, ctx, {
    kind: 'email',
    direction,
    subject: `Re: ${original.subject}`,
    body: body ?? `${ctx.rng.pick(REPLY_BODIES)} ${firstName(from)}`,
    at,
    parties: [party('from', from), party('to', to)],
    inReplyTo: original.id,
  });
  queueReply(run, at, reply);
}

/** Queues a reply; the stream emits it when its time comes. */
function queueReply(run: StreamRun, at: number, reply: DemoActivity): void {
  const pending = run.pending;
  let i = pending.length;
  pending.push({ at, activity: reply });
  for (; i > 0 && pending[i - 1].at > at; i--) pending[i] = pending[i - 1];
  pending[i] = { at, activity: reply };
}

/** Another internal user than the owner. */
function colleague(run: StreamRun, ctx: Context): Person {
  const users = ctx.world.users;
  const i = users.indexOf(run.plan.owner);
  return users[(i + 1 + Math.floor(ctx.rng.next() * (users.length - 1))) % users.length];
}

function firstName(person: Person): string {
  const space = person.name.indexOf(' ');
  return space < 0 ? person.name : person.name.slice(0, space);
}

function emailTouch(run: StreamRun, at: number, ctx: Context, quiet: boolean): DemoActivity {
  const { type, inboundShare } = run.plan;
  const machine = type === 'device' || (type === 'asset' && ctx.rng.chance(0.5));
  if (machine) return telemetryEmail(run, at, ctx);
  return humanEmail(run, at, ctx, !ctx.rng.chance(inboundShare), quiet);
}

/** An email with the people on the other side: ours to 1–3 of them (they may answer), or theirs to us. */
function humanEmail(run: StreamRun, at: number, ctx: Context, outbound: boolean, quiet: boolean): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const internal = plan.type === 'employee';
  const out: DemoDirection = internal ? 'internal' : 'outbound';
  const inbound: DemoDirection = internal ? 'internal' : 'inbound';
  const owner = plan.owner;
  if (outbound) {
    const count = Math.min(plan.people.length, rng.chance(0.6) ? 1 : rng.chance(0.7) ? 2 : 3);
    const to = rng.sample(plan.people, count);
    const parties = addressed(owner, to);
    if (rng.chance(0.15)) parties.push(party('cc', colleague(run, ctx)));
    const subject = fill(rng.pick(EMAIL_SUBJECTS[plan.type]), plan, rng, to[0]);
    const body = `Hi ${firstName(to[0])}, ${rng.pick(EMAIL_BODIES)} Best, ${firstName(owner)}`;
    const email = activity(run, ctx, { kind: 'email', direction: out, subject, body, at, parties });
    if (quiet) return email;
    to.forEach((person, i) => {
      if (rng.chance(i === 0 ? plan.replyRate : plan.replyRate * 0.2)) {
        answer(run, ctx, email, at + delay(rng, plan.reply), inbound, person, owner);
      }
    });
    return email;
  }
  const from = rng.pick(plan.people);
  const subject = fill(rng.pick(EMAIL_SUBJECTS[plan.type]), plan, rng, from);
  const body = `Hi ${firstName(owner)}, ${rng.pick(EMAIL_BODIES)} ${firstName(from)}`;
  const parties = [party('from', from), party('to', owner)];
  const email = activity(run, ctx, { kind: 'email', direction: inbound, subject, body, at, parties });
  if (!quiet && rng.chance(OUR_REPLY_RATE)) answer(run, ctx, email, at + delay(rng, OUR_REPLY), out, owner, from);
  return email;
}

/** How fast an asset or a device acknowledges a command. */
const MACHINE_ACK: Delay = { median: 25 * MINUTE, sigma: 0.2, min: 20 * MINUTE, max: HOUR };

/** A command to an asset or device (acknowledged within the hour), or an alert from it. */
function telemetryEmail(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const machine = plan.machine!;
  if (rng.chance(0.5)) {
    const subject = rng.pick(COMMANDS)(plan.title);
    const parties = [party('from', plan.owner), party('to', machine)];
    const email = activity(run, ctx, { kind: 'email', direction: 'outbound', subject, at, parties });
    if (rng.chance(0.95)) {
      answer(run, ctx, email, at + delay(rng, MACHINE_ACK), 'inbound', machine, plan.owner, 'ACK: command accepted.');
    }
    return email;
  }
  const subject = rng.pick(ALERTS)(plan.title);
  const parties = [party('from', machine), party('to', plan.owner)];
  return activity(run, ctx, { kind: 'email', direction: 'inbound', subject, body: 'Automated message.', at, parties });
}

const MEETING_MINUTES = [15, 30, 30, 45, 60, 60, 90];

/** 2–6 attendees: the owner, maybe a colleague, and 1–4 of the people on the other side. */
function meeting(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const others = rng.sample(plan.people.length ? plan.people : [plan.machine!], rng.int(1, 4));
  const attendees = [plan.owner];
  if (rng.chance(0.3)) attendees.push(plan.type === 'employee' ? colleague(run, ctx) : pickInternal(run, ctx));
  for (const person of others) if (!attendees.includes(person)) attendees.push(person);
  const internal = plan.type === 'employee';
  const direction: DemoDirection = internal ? 'internal' : rng.chance(0.7) ? 'outbound' : 'inbound';
  const subject = fill(rng.pick(MEETING_SUBJECTS[plan.type]), plan, rng, others[0]);
  return activity(run, ctx, {
    kind: 'meeting',
    direction,
    subject,
    body: `Agenda: ${rng.pick(TOPICS)}, open questions, next steps.`,
    at,
    duration: rng.pick(MEETING_MINUTES),
    parties: attendees.slice(0, 6).map((p) => party('attendee', p)),
  });
}

/** A colleague or an employee, for a meeting with the other side. */
function pickInternal(run: StreamRun, ctx: Context): Person {
  return ctx.rng.chance(0.5) ? colleague(run, ctx) : ctx.rng.pick(ctx.world.employees);
}

/** A summit, an investor day: 20–50 attendees from our side, theirs and the other shared contacts. */
function bigMeeting(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const { users, employees, shared } = ctx.world;
  const size = rng.int(20, 50);
  const seen = new Set<string>();
  const attendees: Person[] = [];
  const add = (people: readonly Person[]) => {
    for (const p of people) {
      if (attendees.length < size && !seen.has(p.address)) {
        seen.add(p.address);
        attendees.push(p);
      }
    }
  };
  add([plan.owner]);
  add(plan.people);
  add(rng.sample(users, rng.int(2, users.length)));
  add(rng.sample(employees, rng.int(2, Math.max(2, Math.floor(size / 4)))));
  add(rng.sample(shared, size));
  const subject = rng.pick(BIG_MEETINGS[plan.regarding.entity] ?? BIG_MEETINGS.partner)(plan.title, at);
  return activity(run, ctx, {
    kind: 'meeting',
    direction: 'outbound',
    subject,
    body: 'Keynote, roadmap, breakout sessions, drinks.',
    at,
    duration: rng.pick([60, 90, 120, 180, 240]),
    parties: attendees.map((p) => party('attendee', p)),
  });
}

/** One counterparty: `to` when we call, `from` when they do (the owner takes the other role). */
function call(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const person = rng.pick(plan.people.length ? plan.people : [plan.machine!]);
  const internal = plan.type === 'employee';
  const outbound = internal || rng.chance(0.65);
  const direction: DemoDirection = internal ? 'internal' : outbound ? 'outbound' : 'inbound';
  const parties = outbound
    ? [party('from', plan.owner), party('to', person)]
    : [party('from', person), party('to', plan.owner)];
  return activity(run, ctx, {
    kind: 'call',
    direction,
    subject: fill(rng.pick(outbound ? CALLS_MADE : CALLS_TAKEN), plan, rng, person),
    at,
    duration: rng.int(5, 60),
    parties,
  });
}

/** An internal note, or a device's (an asset's) telemetry report, or a command logged to it. */
function note(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const machine = plan.machine;
  if (machine && (plan.type === 'device' || rng.chance(0.5))) {
    if (rng.chance(0.75)) {
      const subject = rng.pick(REPORTS)(plan.title);
      return activity(run, ctx, { kind: 'note', direction: 'inbound', subject, at, parties: [party('from', machine)] });
    }
    const subject = rng.pick(COMMANDS)(plan.title);
    const parties = [party('from', plan.owner), party('to', machine)];
    return activity(run, ctx, { kind: 'note', direction: 'outbound', subject, at, parties });
  }
  const person = plan.people.length ? rng.pick(plan.people) : plan.owner;
  const employee = plan.type === 'employee';
  return activity(run, ctx, {
    kind: 'note',
    direction: 'internal',
    subject: fill(rng.pick(employee ? EMPLOYEE_NOTE_SUBJECTS : NOTE_SUBJECTS), plan, rng, person),
    body: fill(rng.pick(employee ? EMPLOYEE_NOTE_BODIES : NOTE_BODIES), plan, rng, person),
    at,
    parties: [party('from', plan.owner)],
  });
}

/** A task for the owner, due in 1–14 days; ~70 % are done (when that is not in the future). */
function task(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const person = plan.people.length ? rng.pick(plan.people) : (plan.machine ?? plan.owner);
  const due = at + rng.int(1, 14) * DAY;
  const done = at + Math.round((due - at) * rng.between(0.05, 1.3));
  return activity(run, ctx, {
    kind: 'task',
    direction: 'internal',
    subject: fill(rng.pick(TASK_SUBJECTS[plan.type]), plan, rng, person),
    at,
    due,
    completed: rng.chance(0.7) && done <= ctx.now ? done : undefined,
    parties: [party('to', plan.owner)],
  });
}

/** A newsletter to 30–60 of the shared contacts; nobody ever answers one. */
function blast(run: StreamRun, at: number, ctx: Context): DemoActivity {
  const { plan } = run;
  const rng = ctx.rng;
  const to = rng.sample(ctx.world.shared, rng.int(30, 60));
  const date = new Date(at);
  const month = `${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
  const subject = `${plan.title} ${NEWSLETTERS[plan.regarding.entity] ?? 'newsletter'} – ${month}`;
  return activity(run, ctx, {
    kind: 'email',
    direction: 'outbound',
    subject,
    body: `News, events and product updates for ${month}. Unsubscribe any time.`,
    at,
    parties: addressed(plan.owner, to),
  });
}

// ——— text ———

type Template = (v: { org: string; title: string; person: string; topic: string; num: number }) => string;

function fill(template: Template, plan: StreamPlan, rng: Rng, person: Person | undefined): string {
  return template({
    org: plan.orgName,
    title: plan.title,
    person: person ? person.name : plan.title,
    topic: rng.pick(TOPICS),
    num: rng.int(1000, 99999),
  });
}

const ORG_EMAILS: readonly Template[] = [
  (v) => `Quarterly review with ${v.org}`,
  (v) => `Pricing update for ${v.org}`,
  () => 'Next steps',
  () => 'Contract renewal',
  (v) => `Invoice ${v.num}`,
  () => 'Roadmap preview',
  (v) => `Follow-up: ${v.topic}`,
  (v) => `Question about ${v.topic}`,
  (v) => `Proposal: ${v.topic}`,
];
const EMAIL_SUBJECTS: Readonly<Record<StreamType, readonly Template[]>> = {
  org: ORG_EMAILS,
  deal: [
    (v) => `${v.title}: proposal`,
    (v) => `${v.title}: pricing`,
    (v) => `${v.title}: next steps`,
    (v) => `Contract draft – ${v.title}`,
    (v) => `Security questionnaire for ${v.title}`,
  ],
  asset: [
    (v) => `${v.title}: service visit`,
    (v) => `Warranty claim ${v.num}`,
    (v) => `Spare parts for ${v.title}`,
    (v) => `${v.title}: maintenance due`,
  ],
  device: ORG_EMAILS,
  employee: [
    (v) => `Quick question about ${v.topic}`,
    () => 'Time-off request',
    (v) => `Draft for ${v.topic}`,
    () => 'Weekly update',
  ],
};
const EMAIL_BODIES = [
  'following up on our conversation – could you share the latest numbers?',
  'attached is the updated proposal; let me know what you think.',
  'does Thursday afternoon work for a short call?',
  'just checking in on the open items from last week.',
  'thanks for your time today. Summary and next steps below.',
];
const REPLY_BODIES = [
  'Thanks, that works for us.',
  'Sounds good – see the attached.',
  'Let me check with the team and come back to you.',
  'Thursday is fine. Talk then,',
  'Got it, thanks!',
];
const MEETING_SUBJECTS: Readonly<Record<StreamType, readonly Template[]>> = {
  org: [
    (v) => `Kick-off with ${v.org}`,
    () => 'Monthly sync',
    () => 'Quarterly business review',
    (v) => `Workshop: ${v.topic}`,
    (v) => `Lunch with ${v.person}`,
  ],
  deal: [(v) => `Demo for ${v.org}`, (v) => `${v.title}: negotiation`, (v) => `${v.title}: technical deep dive`],
  asset: [(v) => `${v.title}: site inspection`, (v) => `Service review with ${v.org}`],
  device: [(v) => `${v.title}: on-site check`],
  employee: [(v) => `1:1 with ${v.person}`, () => 'Performance check-in', () => 'Career conversation'],
};
const CALLS_MADE: readonly Template[] = [
  (v) => `Call with ${v.person}`,
  () => 'Check-in call',
  (v) => `Call about ${v.topic}`,
];
const CALLS_TAKEN: readonly Template[] = [(v) => `Call from ${v.person}`, (v) => `${v.person} called about ${v.topic}`];
const NOTE_SUBJECTS: readonly Template[] = [
  (v) => `Notes: call with ${v.person}`,
  (v) => `Account note: ${v.title}`,
  (v) => `Internal: ${v.topic}`,
];
const NOTE_BODIES: readonly Template[] = [
  (v) => `Discussed ${v.topic}; they want a revised quote.`,
  (v) => `${v.person} is the new decision maker.`,
  (v) => `Risk: budget freeze until ${v.topic} is settled.`,
];
const EMPLOYEE_NOTE_SUBJECTS: readonly Template[] = [(v) => `1:1 notes: ${v.title}`, (v) => `Feedback for ${v.title}`];
const EMPLOYEE_NOTE_BODIES: readonly Template[] = [
  (v) => `Goals for next quarter: ${v.topic}.`,
  (v) => `Wants to take the lead on ${v.topic}.`,
  () => 'Asked for a training budget; follow up with HR.',
];
const TASK_SUBJECTS: Readonly<Record<StreamType, readonly Template[]>> = {
  org: [(v) => `Send proposal to ${v.person}`, () => 'Prepare QBR deck', () => 'Schedule follow-up'],
  deal: [(v) => `${v.title}: update forecast`, (v) => `Send contract to ${v.person}`],
  asset: [(v) => `Schedule maintenance for ${v.title}`, (v) => `Order spare parts for ${v.title}`],
  device: [(v) => `Replace battery of ${v.title}`, (v) => `Recalibrate ${v.title}`],
  employee: [(v) => `Review ${v.person}'s goals`, () => 'Approve expense report'],
};
const COMMANDS: readonly ((title: string) => string)[] = [
  (t) => `Command: reboot ${t}`,
  (t) => `Firmware update scheduled for ${t}`,
  (t) => `Command: send diagnostics (${t})`,
];
const ALERTS: readonly ((title: string) => string)[] = [
  (t) => `Alert: battery low on ${t}`,
  (t) => `Alert: temperature threshold exceeded (${t})`,
  (t) => `Alert: ${t} offline for 15 minutes`,
];
const REPORTS: readonly ((title: string) => string)[] = [
  (t) => `Heartbeat: ${t} OK`,
  (t) => `Maintenance report: ${t}`,
  (t) => `Calibration completed on ${t}`,
];
const BIG_MEETINGS: Readonly<Record<string, readonly ((title: string, at: number) => string)[]>> = {
  partner: [(t, at) => `${t} partner summit ${new Date(at).getUTCFullYear()}`, (t) => `${t} all-hands briefing`],
  supplier: [(t) => `${t} supplier conference`, (t) => `${t} quality day`],
  investor: [(t) => `${t} investor day`, (t) => `${t} annual general meeting`],
};
const NEWSLETTERS: Readonly<Record<string, string>> = {
  partner: 'partner newsletter',
  supplier: 'supplier bulletin',
  investor: 'investor update',
};
