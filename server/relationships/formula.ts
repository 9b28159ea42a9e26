/**
 * The relationship formula, in the open: every signal of a tracked record is a pure function of
 * the activities that concern it and of the instant it is computed for. The database only fetches
 * those activities (signals.ts); this module is the one place that turns them into signals, for the
 * stored fields, for `GET …/signals` with its parts, for the 30-day comparison and for the full
 * recompute — so they cannot disagree.
 *
 * - A **two-way interaction** is an inbound email, an outbound email they answered, or a call or
 *   a meeting (both sides present, whatever its direction). One-way mail is never one.
 * - cadence c (days, per entity, default 14);
 *   recency R = 2^(−days since the last two-way interaction / c), 0 without one;
 *   frequency F = min(1, two-way interactions in 90 days ÷ (90 / c));
 *   reciprocity Q = min(in, out) ÷ max(in, out) over 90 days (emails, calls, meetings with a direction);
 *   depth D = min(1, Σ weight ÷ 3) over the two-way interactions of 90 days, meeting 1 ÷ √(people − 1),
 *   call 0.7, email 0.3.
 * - strength = round(100 × (0.35 R + 0.25 F + 0.20 Q + 0.20 D)), in bands (HEALTH_BANDS).
 *
 * Departures from the suggested model, and why: a meeting's weight is divided by √(people − 1)
 * rather than √people, so a 1:1 meeting counts fully (1.0, more than a call) while a 50-person
 * meeting counts 1/7; a mailing (more than MAILING_PEOPLE people) awaits no reply, and a meeting
 * that large expects no follow-up from us to each of them; drift needs a
 * habit (at least MIN_REPLIES replies) before an unanswered email can be overdue.
 */
import type { HealthBand } from '../../metadata/signal-fields.ts';
import type { SignalSettings } from '../../metadata/types.ts';

export const DEFAULT_SETTINGS = Object.freeze({
  cadenceDays: 14,
  weights: Object.freeze({ recency: 0.35, frequency: 0.25, reciprocity: 0.2, depth: 0.2 }),
  interactionWeights: Object.freeze({ meeting: 1, call: 0.7, email: 0.3 }),
});

export type Settings = {
  readonly cadenceDays: number;
  readonly weights: Readonly<{ recency: number; frequency: number; reciprocity: number; depth: number }>;
  readonly interactionWeights: Readonly<{ meeting: number; call: number; email: number }>;
};

export function settingsOf(settings: SignalSettings | undefined): Settings {
  return { ...DEFAULT_SETTINGS, ...settings };
}

const DAY = 86_400_000;
const MINUTE = 60_000;
/** The window of frequency, reciprocity and depth. */
export const WINDOW_DAYS = 90;
/** How far back activities are fetched: the 90-day window as it was 30 days ago. */
export const HISTORY_DAYS = WINDOW_DAYS + 30;
/** Depth that counts as full (Σ weights). */
const FULL_DEPTH = 3;
/** More people than this on an email: a mailing, which awaits no reply. */
export const MAILING_PEOPLE = 10;
/** Replies a median needs before a reply can be overdue. */
export const MIN_REPLIES = 3;
/** Replies the median reply time is taken over. */
export const REPLY_HISTORY = 20;
/** The shortest overdue time (drift never fires sooner). */
const MIN_OVERDUE_MINUTES = 240;

/** One activity concerning the record, as signals.ts fetches it. */
export interface ActivityFact {
  readonly id: string;
  readonly kind: 'email' | 'call' | 'meeting' | 'note' | 'task';
  readonly direction: 'inbound' | 'outbound' | 'internal';
  readonly occurredAt: number;
  /** Parties listed on it. */
  readonly people: number;
  /** An outbound email: when their first reply came (ms), else null. */
  readonly answeredAt: number | null;
}

/** What the formula reads for one record. */
export interface SignalInput {
  /** Activities from HISTORY_DAYS before `asOf` on (future meetings included), oldest first. */
  readonly recent: readonly ActivityFact[];
  /** Before that window: the latest two-way interaction, inbound and outbound one (ms). */
  readonly earlier: {
    readonly twoWay: number | null;
    readonly inbound: number | null;
    readonly outbound: number | null;
  };
  /** Their reply times to our emails (minutes), the latest REPLY_HISTORY, as of `asOf`. */
  readonly replyMinutes: readonly number[];
}

export interface Factors {
  readonly recency: number;
  readonly frequency: number;
  readonly reciprocity: number;
  readonly depth: number;
}

/** The strength with every part that makes it. */
export interface Strength {
  readonly score: number;
  readonly health: HealthBand;
  readonly factors: Factors;
  /** 100 × weight × factor: what each factor adds to the score before rounding. */
  readonly contributions: Factors;
  readonly inputs: {
    readonly daysSinceLastTwoWay: number | null;
    readonly twoWay90d: number;
    readonly inbound90d: number;
    readonly outbound90d: number;
    readonly depthSum: number;
  };
  /** The activities that count: the two-way interactions and directed messages of the window, and the last contact. */
  readonly activityIds: readonly string[];
}

/** The stored signals of one record (field name → value). */
export interface Signals {
  readonly last_contact_at: string | null;
  readonly last_inbound_at: string | null;
  readonly last_outbound_at: string | null;
  readonly interactions_30d: number;
  readonly interactions_90d: number;
  readonly median_response_minutes: number | null;
  readonly awaiting_reply_since: string | null;
  readonly reply_overdue_at: string | null;
  readonly relationship_strength: number;
  readonly relationship_health: HealthBand;
  readonly strength_change_30d: number;
  readonly next_meeting_at: string | null;
  readonly unfollowed_meeting_at: string | null;
  readonly signals_updated_at: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const latest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** Whether the activity is a two-way interaction as of `t`. */
export function isTwoWay(a: ActivityFact, t: number): boolean {
  if (a.kind === 'call' || a.kind === 'meeting') return true;
  if (a.kind !== 'email') return false;
  if (a.direction === 'inbound') return true;
  return a.direction === 'outbound' && a.answeredAt !== null && a.answeredAt <= t;
}

const directed = (a: ActivityFact) =>
  (a.kind === 'email' || a.kind === 'call' || a.kind === 'meeting') &&
  (a.direction === 'inbound' || a.direction === 'outbound');

export function healthOf(score: number): HealthBand {
  if (score >= 80) return 'very_strong';
  if (score >= 60) return 'strong';
  if (score >= 40) return 'moderate';
  if (score >= 20) return 'weak';
  if (score > 0) return 'very_weak';
  return 'none';
}

/** What one two-way interaction adds to depth. */
export function depthWeight(a: ActivityFact, s: Settings): number {
  if (a.kind === 'meeting') return s.interactionWeights.meeting / Math.sqrt(Math.max(1, a.people - 1));
  if (a.kind === 'call') return s.interactionWeights.call;
  return s.interactionWeights.email;
}

/** The strength as of `t` (≤ the fetch's asOf and ≥ asOf − 30 days). */
export function strengthAt(input: SignalInput, s: Settings, t: number): Strength {
  const from = t - WINDOW_DAYS * DAY;
  let lastTwoWay = input.earlier.twoWay;
  let lastTwoWayId: string | undefined;
  let twoWay = 0;
  let inbound = 0;
  let outbound = 0;
  let depthSum = 0;
  const ids = new Set<string>();
  for (const a of input.recent) {
    if (a.occurredAt > t) break;
    const two = isTwoWay(a, t);
    if (two && (lastTwoWay === null || a.occurredAt >= lastTwoWay)) {
      lastTwoWay = a.occurredAt;
      lastTwoWayId = a.id;
    }
    if (a.occurredAt <= from) continue;
    if (two) {
      twoWay++;
      depthSum += depthWeight(a, s);
      ids.add(a.id);
    }
    if (directed(a)) {
      if (a.direction === 'inbound') inbound++;
      else outbound++;
      ids.add(a.id);
    }
  }
  if (lastTwoWayId) ids.add(lastTwoWayId);
  const c = s.cadenceDays;
  const days = lastTwoWay === null ? null : Math.max(0, t - lastTwoWay) / DAY;
  const factors: Factors = {
    recency: days === null ? 0 : 2 ** (-days / c),
    frequency: Math.min(1, twoWay / (WINDOW_DAYS / c)),
    reciprocity: Math.max(inbound, outbound) === 0 ? 0 : Math.min(inbound, outbound) / Math.max(inbound, outbound),
    depth: Math.min(1, depthSum / FULL_DEPTH),
  };
  const w = s.weights;
  const contributions: Factors = {
    recency: 100 * w.recency * factors.recency,
    frequency: 100 * w.frequency * factors.frequency,
    reciprocity: 100 * w.reciprocity * factors.reciprocity,
    depth: 100 * w.depth * factors.depth,
  };
  const score = scoreOf(factors, w);
  return {
    score,
    health: healthOf(score),
    factors,
    contributions,
    inputs: { daysSinceLastTwoWay: days, twoWay90d: twoWay, inbound90d: inbound, outbound90d: outbound, depthSum },
    activityIds: [...ids],
  };
}

/** round(100 × Σ weight × factor): how a client recomputes the score from the parts it is given. */
export function scoreOf(f: Factors, w: Settings['weights']): number {
  return Math.round(
    100 * (w.recency * f.recency + w.frequency * f.frequency + w.reciprocity * f.reciprocity + w.depth * f.depth),
  );
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Their usual reply time and its spread (median absolute deviation), in minutes. */
export function replyHabit(replyMinutes: readonly number[]): { median: number; mad: number } | undefined {
  if (replyMinutes.length === 0) return undefined;
  const m = median(replyMinutes);
  return { median: m, mad: median(replyMinutes.map((x) => Math.abs(x - m))) };
}

/** How long an email may wait for their reply before it is overdue: max(3 m, m + 4 MAD, 4 h). */
export function overdueMinutes(habit: { median: number; mad: number }): number {
  return Math.max(3 * habit.median, habit.median + 4 * habit.mad, MIN_OVERDUE_MINUTES);
}

/** Every stored signal as of `asOf`. */
export function signalsOf(input: SignalInput, s: Settings, asOf: number): Signals {
  const now = strengthAt(input, s, asOf);
  const before = strengthAt(input, s, asOf - 30 * DAY);
  let lastInbound = input.earlier.inbound;
  let lastOutbound = input.earlier.outbound;
  let lastTwoWay = input.earlier.twoWay;
  let in30 = 0;
  let in90 = 0;
  let nextMeeting: number | null = null;
  let lastMeeting: number | null = null;
  let lastFollowUp: number | null = null;
  let lastInboundEmail: number | null = null;
  const unanswered: ActivityFact[] = [];
  for (const a of input.recent) {
    if (a.occurredAt > asOf) {
      if (a.kind === 'meeting' && nextMeeting === null) nextMeeting = a.occurredAt;
      continue;
    }
    const two = isTwoWay(a, asOf);
    if (two) {
      lastTwoWay = latest(lastTwoWay, a.occurredAt);
      if (a.occurredAt > asOf - 30 * DAY) in30++;
      if (a.occurredAt > asOf - WINDOW_DAYS * DAY) in90++;
    }
    if (directed(a) && a.direction === 'inbound') lastInbound = latest(lastInbound, a.occurredAt);
    if (directed(a) && a.direction === 'outbound') lastOutbound = latest(lastOutbound, a.occurredAt);
    if (a.kind === 'meeting' && a.people <= MAILING_PEOPLE) lastMeeting = a.occurredAt;
    if (a.kind === 'task' || (a.direction === 'outbound' && a.kind !== 'meeting'))
      lastFollowUp = latest(lastFollowUp, a.occurredAt);
    if (a.kind === 'email' && a.direction === 'inbound') lastInboundEmail = a.occurredAt;
    if (a.kind === 'email' && a.direction === 'outbound' && a.people <= MAILING_PEOPLE) unanswered.push(a);
  }
  // our oldest email they have not answered since they last wrote
  const awaiting =
    unanswered.find(
      (a) =>
        (lastInboundEmail === null || a.occurredAt > lastInboundEmail) &&
        !(a.answeredAt !== null && a.answeredAt <= asOf),
    )?.occurredAt ?? null;
  const habit = input.replyMinutes.length >= MIN_REPLIES ? replyHabit(input.replyMinutes) : undefined;
  const anyHabit = replyHabit(input.replyMinutes);
  const overdue = awaiting !== null && habit ? awaiting + overdueMinutes(habit) * MINUTE : null;
  const unfollowed = lastMeeting !== null && (lastFollowUp === null || lastFollowUp < lastMeeting) ? lastMeeting : null;
  return {
    last_contact_at: iso(lastTwoWay),
    last_inbound_at: iso(lastInbound),
    last_outbound_at: iso(lastOutbound),
    interactions_30d: in30,
    interactions_90d: in90,
    median_response_minutes: anyHabit ? Math.round(anyHabit.median) : null,
    awaiting_reply_since: iso(awaiting),
    reply_overdue_at: iso(overdue),
    relationship_strength: now.score,
    relationship_health: now.health,
    strength_change_30d: now.score - before.score,
    next_meeting_at: iso(nextMeeting),
    unfollowed_meeting_at: iso(unfollowed),
    signals_updated_at: new Date(asOf).toISOString(),
  };
}
