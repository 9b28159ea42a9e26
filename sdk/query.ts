/**
 * List and get options, and their REST query string: `select=a,b`, `expand=manager(select=…),
 * reports(filter=…;sort=…;limit=…)`, `filter=<JSON>`, `search`, `sort=-a,b`, `limit`, `offset`,
 * `cursor`, `count` (server/query/rest-params.ts).
 */
import type { Filter } from './filter.ts';
import type { Expansion, LooseExpansion, OnlyKeys, Sort } from './rows.ts';

/** Query parameters in order, as name/value pairs. */
export type QueryParams = [name: string, value: string][];

export interface GetOptions<E, N extends keyof E, S, X> {
  /** Fields to return (`id` always comes back); the result type keeps only these. */
  select?: S;
  /** Lookups and to-many relations to include. */
  expand?: OnlyKeys<X, Expansion<E, N>>;
}

export interface ListOptions<E, N extends keyof E, S, X> extends GetOptions<E, N, S, X> {
  /** Only records matching this filter. */
  filter?: Filter<E, N>;
  /** Full-text search over the searchable text fields (prefix match per word). */
  search?: string;
  /** Sort keys, first one first (default: oldest first). */
  sort?: Sort<E, N>;
  /** Page size (default 50). */
  limit?: number;
  /** Records to skip (or use `cursor`). */
  offset?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Include `totalCount` (`estimated`: the planner's estimate when unfiltered). */
  count?: boolean | 'exact' | 'estimated';
}

/** One page of records. */
export interface ListResult<T> {
  data: T[];
  /** Present when there is another page: pass it as `cursor`. */
  nextCursor?: string;
  /** Present when `count` was asked for. */
  totalCount?: number;
}

/** List options as the runtime sees them, types erased. */
export interface LooseListOptions {
  select?: readonly string[] | undefined;
  expand?: object | undefined;
  filter?: object | undefined;
  search?: string | undefined;
  sort?: string | readonly string[] | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
  cursor?: string | undefined;
  count?: boolean | 'exact' | 'estimated' | undefined;
}

const list = (value: string | readonly string[]): string => (typeof value === 'string' ? value : value.join(','));

/**
 * A JSON filter inside an expansion: the expansion syntax splits on `;`, `,` and parentheses and
 * toggles on `'`, so those characters (which JSON only has inside strings) go as \u escapes.
 */
function nestedJson(value: unknown): string {
  return JSON.stringify(value).replace(/['();]/g, (c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The `expand` parameter: `name`, or `name(select=…;filter=…;sort=…;limit=…;offset=…;expand=…)`. */
export function expandParam(expand: object): string {
  return Object.entries(expand as { [name: string]: true | LooseExpansion | undefined })
    .filter(([, spec]) => spec !== undefined)
    .map(([name, spec]) => {
      if (spec === true || spec === undefined) return name;
      const options: string[] = [];
      if (spec.select) options.push(`select=${list(spec.select)}`);
      if (spec.filter !== undefined) options.push(`filter=${nestedJson(spec.filter)}`);
      if (spec.sort) options.push(`sort=${list(spec.sort)}`);
      if (spec.limit !== undefined) options.push(`limit=${spec.limit}`);
      if (spec.offset !== undefined) options.push(`offset=${spec.offset}`);
      if (spec.expand) {
        const nested = expandParam(spec.expand);
        if (nested) options.push(`expand=${nested}`);
      }
      return options.length ? `${name}(${options.join(';')})` : name;
    })
    .join(',');
}

/** The query parameters of a list (or get) request. */
export function listParams(options: LooseListOptions): QueryParams {
  const params: QueryParams = [];
  if (options.select) params.push(['select', list(options.select)]);
  if (options.expand) {
    const expand = expandParam(options.expand);
    if (expand) params.push(['expand', expand]);
  }
  if (options.filter !== undefined) params.push(['filter', JSON.stringify(options.filter)]);
  if (options.search) params.push(['search', options.search]);
  if (options.sort?.length) params.push(['sort', list(options.sort)]);
  if (options.limit !== undefined) params.push(['limit', String(options.limit)]);
  if (options.offset !== undefined) params.push(['offset', String(options.offset)]);
  if (options.cursor) params.push(['cursor', options.cursor]);
  if (options.count) params.push(['count', options.count === true ? 'true' : options.count]);
  return params;
}
