import { SYSTEM_COLUMNS } from './system-fields.ts';

/**
 * PostgreSQL's reserved keywords (catcode R) and the type/function-name keywords (catcode T),
 * as `pg_get_keywords()` lists them on PostgreSQL 15. Names are always quoted in SQL anyway;
 * refusing these keeps hand-written SQL against our tables painless.
 */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'all',
  'analyse',
  'analyze',
  'and',
  'any',
  'array',
  'as',
  'asc',
  'asymmetric',
  'authorization',
  'binary',
  'both',
  'case',
  'cast',
  'check',
  'collate',
  'collation',
  'column',
  'concurrently',
  'constraint',
  'create',
  'cross',
  'current_catalog',
  'current_date',
  'current_role',
  'current_schema',
  'current_time',
  'current_timestamp',
  'current_user',
  'default',
  'deferrable',
  'desc',
  'distinct',
  'do',
  'else',
  'end',
  'except',
  'false',
  'fetch',
  'for',
  'foreign',
  'freeze',
  'from',
  'full',
  'grant',
  'group',
  'having',
  'ilike',
  'in',
  'initially',
  'inner',
  'intersect',
  'into',
  'is',
  'isnull',
  'join',
  'lateral',
  'leading',
  'left',
  'like',
  'limit',
  'localtime',
  'localtimestamp',
  'natural',
  'not',
  'notnull',
  'null',
  'offset',
  'on',
  'only',
  'or',
  'order',
  'outer',
  'overlaps',
  'placing',
  'primary',
  'references',
  'returning',
  'right',
  'select',
  'session_user',
  'similar',
  'some',
  'symmetric',
  'table',
  'tablesample',
  'then',
  'to',
  'trailing',
  'true',
  'union',
  'unique',
  'user',
  'using',
  'variadic',
  'verbose',
  'when',
  'where',
  'window',
  'with',
]);

export const NAME_PATTERN = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
export const MAX_NAME_BYTES = 63;

/** Returns why `name` is not a valid logical name, or undefined when it is. */
export function nameProblem(
  name: unknown,
  what: 'entity' | 'field' | 'relationship' | 'choice set' | 'index',
): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return `${what} name is required`;
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    return `${what} name "${name}" is longer than ${MAX_NAME_BYTES} bytes`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `${what} name "${name}" must be lower snake_case: a letter, then letters, digits and single underscores`;
  }
  if (RESERVED_WORDS.has(name)) return `${what} name "${name}" is a PostgreSQL reserved word`;
  if (what === 'field' && SYSTEM_COLUMNS.includes(name)) {
    return `field name "${name}" is a system column`;
  }
  if (name.startsWith('xrm_') || name.startsWith('pg_'))
    return `${what} name "${name}" uses a reserved prefix (xrm_, pg_)`;
  return undefined;
}
