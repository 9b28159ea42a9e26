/**
 * ISO 8601 durations (`P12D`, `PT4H`, `P1W`, `P1M2DT3H`) as rules write them, applied to an
 * instant: calendar parts (years, months, days, weeks) in UTC calendar arithmetic, time parts in
 * exact milliseconds.
 */
const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly ms: number;
}

/** The duration, or undefined when `text` is not an ISO 8601 duration this module reads. */
export function parseDuration(text: unknown): Duration | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  return {
    years: n(1),
    months: n(2),
    days: n(3) * 7 + n(4),
    ms: ((n(5) * 60 + n(6)) * 60 + n(7)) * 1000,
  };
}

/** `at` moved by `sign` × `d`. */
export function shift(at: Date, d: Duration, sign: 1 | -1): Date {
  const out = new Date(at.getTime());
  if (d.years || d.months) out.setUTCMonth(out.getUTCMonth() + sign * (d.years * 12 + d.months));
  if (d.days) out.setUTCDate(out.getUTCDate() + sign * d.days);
  return new Date(out.getTime() + sign * d.ms);
}

/** The clock rules read `now` from (tests inject one; the platform's is the system clock). */
export type Clock = () => Date;

export const SYSTEM_CLOCK: Clock = () => new Date();

/** The calendar day of `at` in `timeZone`, as YYYY-MM-DD. */
export function dayIn(at: Date, timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The time zone a rule's days are counted in: its schedule's, else UTC. */
export function zoneOf(trigger: { readonly type: string; readonly timeZone?: string }): string {
  return trigger.type === 'schedule' && trigger.timeZone ? trigger.timeZone : 'UTC';
}
