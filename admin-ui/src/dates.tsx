/**
 * Dates and datetimes as the user's locale writes them, the same on every page (grids, record
 * pages, related lists, history): a date as the locale's date, a datetime as the same date plus
 * the time in the browser's time zone. The ISO value stays available as the tooltip.
 */

// a date has no time zone: it is formatted in UTC so that 2024-03-01 never shows as Feb 29
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export type TemporalKind = 'date' | 'datetime';

export interface FormattedTemporal {
  /** What to show: the locale's date (and time). */
  text: string;
  /** The value as the API sent it (ISO 8601), for `title` and `<time dateTime>`. */
  iso: string;
}

/** A date ("2024-03-01") or datetime (RFC 3339) value formatted for display; raw text when it does not parse. */
export function formatTemporal(kind: TemporalKind, value: unknown): FormattedTemporal | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const iso = String(value);
  if (kind === 'date') {
    if (!DATE.test(iso)) return { text: iso, iso };
    const d = new Date(`${iso}T00:00:00Z`);
    return { text: Number.isNaN(d.getTime()) ? iso : dateFormat.format(d), iso };
  }
  const d = new Date(iso);
  return { text: Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d), iso };
}

/** A date or datetime as a `<time>` element whose tooltip is the ISO value. */
export function Temporal({ kind, value }: { kind: TemporalKind; value: unknown }) {
  const formatted = formatTemporal(kind, value);
  if (!formatted) return null;
  return (
    <time dateTime={formatted.iso} title={formatted.iso}>
      {formatted.text}
    </time>
  );
}
