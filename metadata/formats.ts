/**
 * The date and date-time formats as PostgreSQL accepts them, declared once: Ajv validates record
 * values and filter operands with them, and the GraphQL Date/DateTime scalars parse with them, so
 * a value that passes validation is a value the database takes (RFC 3339 alone allows a year 0000
 * and offsets up to ±23:59; PostgreSQL refuses both).
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDay(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS[month - 1]!);
}

/** `YYYY-MM-DD`, year 0001 to 9999, a real calendar day. */
export function isDate(value: string): boolean {
  const m = DATE.exec(value);
  return !!m && validDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** RFC 3339 date-time with `Z` or an offset within ±15:59 (PostgreSQL's limit), year 0001 or later. */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m || !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  // second 60: a leap second, which PostgreSQL accepts
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) return false;
  return m[7] === undefined || (Number(m[7]) <= 15 && Number(m[8]) <= 59);
}

/**
 * Why PostgreSQL cannot store this text, or undefined: text and jsonb refuse U+0000, and UTF-8
 * cannot encode a lone UTF-16 surrogate (node-postgres would silently turn it into U+FFFD).
 */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL characters (PostgreSQL cannot store them)';
  if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed())
    return 'must not contain a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}
