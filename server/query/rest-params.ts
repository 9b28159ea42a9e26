/**
 * REST query-string syntax → ReadParams.
 *
 *   ?select=name,email
 *   &filter=status eq 'online' and asset.assigned_to.full_name startsWith 'Ada'   (or a JSON filter)
 *   &search=ada love
 *   &sort=-rating:nullslast,account.name
 *   &expand=manager(select=full_name),reports(filter=hired_on gte '2024-01-01';sort=-hired_on;limit=5;expand=manager)
 *   &limit=50&cursor=…   or   &limit=50&offset=100
 *   &count=true | exact | estimated
 */
import { LIMITS, jsonDepth } from '../limits.ts';
import { parseFilterExpression } from './expression-parse.ts';
import { queryError } from './filter-parse.ts';
import type { AggregateParams } from './aggregate-query.ts';
import type { ExpandParams, ReadParams } from './read-query.ts';

export interface RestQuery {
  select?: string;
  expand?: string;
  filter?: string;
  search?: string;
  sort?: string;
  limit?: number | string;
  offset?: number | string;
  cursor?: string;
  count?: boolean | string;
}

/** Splits on `separator` outside parentheses and single-quoted strings. */
export function splitTopLevel(source: string, separator: string, path: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (!quoted && c === '"') {
      // a JSON string (a JSON filter inside an expansion): opaque up to its closing quote
      for (i++; i < source.length && source[i] !== '"'; i++) if (source[i] === '\\') i++;
      if (i >= source.length) throw queryError(path, 'unterminated JSON string');
      continue;
    }
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') {
      depth--;
      if (depth < 0) throw queryError(path, `unbalanced ")" at character ${i + 1}`);
    } else if (!quoted && depth === 0 && c === separator) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0 || quoted) throw queryError(path, 'unbalanced parentheses or quotes');
  parts.push(source.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function integer(value: number | string | undefined, path: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw queryError(path, 'must be a non-negative integer');
  return n;
}

/**
 * A limit as the client wrote it, for checkLimit (read-query.ts), which refuses everything but an
 * integer in range with one message: anything but digits becomes NaN here, not a problem of its own.
 */
export function limitParam(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value;
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
}

/** A filter parameter: JSON when it starts with `{`, otherwise the expression language. */
export function parseFilterParam(value: string, path: string): unknown {
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw queryError(path, 'is not valid JSON');
    }
    if (jsonDepth(parsed) > LIMITS.jsonDepth) throw queryError(path, `nests deeper than ${LIMITS.jsonDepth} levels`);
    return parsed;
  }
  try {
    return parseFilterExpression(trimmed);
  } catch (error) {
    if (path !== '/filter' && error instanceof Error) throw queryError(path, error.message.replace(/^\/filter: /, ''));
    throw error;
  }
}

function parseExpand(source: string, path: string): ExpandParams[] {
  return splitTopLevel(source, ',', path).map((item, i) => {
    const p = `${path}/${i}`;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?$/s.exec(item);
    if (!m) throw queryError(p, `"${item}" is not an expansion: name or name(option=value;…)`);
    const expansion: ExpandParams = { name: m[1]! };
    for (const option of m[2] ? splitTopLevel(m[2], ';', p) : []) {
      const eq = option.indexOf('=');
      if (eq < 0) throw queryError(p, `"${option}" must be key=value`);
      const key = option.slice(0, eq).trim();
      const value = option.slice(eq + 1).trim();
      switch (key) {
        case 'select':
          expansion.select = list(value);
          break;
        case 'filter':
          expansion.filter = parseFilterParam(value, `${p}/filter`);
          break;
        case 'sort':
          expansion.sort = list(value);
          break;
        case 'limit':
          expansion.limit = limitParam(value);
          break;
        case 'offset':
          expansion.offset = integer(value, `${p}/offset`);
          break;
        case 'expand':
          expansion.expand = parseExpand(value, `${p}/expand`);
          break;
        default:
          throw queryError(`${p}/${key}`, 'unknown expansion option (select, filter, sort, limit, offset, expand)');
      }
    }
    return expansion;
  });
}

function parseCount(value: boolean | string | undefined): ReadParams['count'] {
  if (value === undefined || value === false || value === 'false') return undefined;
  if (value === true || value === 'true' || value === 'exact') return 'exact';
  if (value === 'estimated') return 'estimated';
  throw queryError('/count', 'must be true, false, exact or estimated');
}

/** The aggregate route's query string. */
export interface RestAggregateQuery {
  aggregate?: string;
  groupBy?: string;
  filter?: string;
  search?: string;
  limit?: number | string;
}

export function parseRestAggregate(query: RestAggregateQuery): AggregateParams {
  return {
    aggregate: list(query.aggregate),
    groupBy: list(query.groupBy),
    filter: query.filter ? parseFilterParam(query.filter, '/filter') : undefined,
    search: query.search || undefined,
    limit: limitParam(query.limit),
  };
}

export function parseRestQuery(query: RestQuery): ReadParams {
  return {
    select: list(query.select),
    expand: query.expand ? parseExpand(query.expand, '/expand') : undefined,
    filter: query.filter ? parseFilterParam(query.filter, '/filter') : undefined,
    search: query.search || undefined,
    sort: list(query.sort),
    limit: limitParam(query.limit),
    offset: integer(query.offset, '/offset'),
    cursor: query.cursor || undefined,
    count: parseCount(query.count),
  };
}
