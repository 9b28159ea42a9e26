/**
 * Builds a checked ReadQuery from request parameters in neutral form (REST and GraphQL both
 * produce `ReadParams`): selections, expansions, filters, search, sort and paging, each checked
 * against the catalog with errors naming the parameter path.
 */
import { FIELD_TYPES } from '../../metadata/field-types/index.ts';
import { LIMITS } from '../limits.ts';
import { SYSTEM_COLUMNS } from '../../metadata/system-fields.ts';
import type { EntityDef } from '../../metadata/types.ts';
import type { FilterNode, Projection, ProjectionItem, ReadQuery, SortItem } from './ast.ts';
import {
  checkReadable,
  parseFilter,
  queryError,
  resolveColumn,
  resolvePath,
  searchNode,
  type ParseContext,
} from './filter-parse.ts';

export interface ExpandParams {
  name: string;
  select?: string[];
  filter?: unknown;
  sort?: string[];
  limit?: number;
  offset?: number;
  expand?: ExpandParams[];
}

export interface ReadParams {
  select?: string[];
  expand?: ExpandParams[];
  /** JSON filter form (see filter-parse.ts). */
  filter?: unknown;
  search?: string;
  /** `[-]path[:nullsfirst|:nullslast]`, e.g. `-rating`, `account.name:nullsfirst`. */
  sort?: string[];
  limit?: number;
  offset?: number;
  cursor?: string;
  count?: 'exact' | 'estimated';
  /** A condition the caller imposes (e.g. "related to record X"), ANDed with the filter. */
  scope?: FilterNode;
  /** A record that must exist for the list to be answered (the parent of a related list). */
  parent?: { entity: string; id: string };
}

const MAX_EXPAND_DEPTH = LIMITS.expandDepth;

export function buildReadQuery(
  entityName: string,
  params: ReadParams,
  ctx: ParseContext,
  maxPageSize: number,
): ReadQuery {
  const entity = requireEntity(entityName, ctx);
  const filter = combine(
    combine(
      params.filter === undefined ? undefined : parseFilter(entity.name, params.filter, ctx, '/filter'),
      params.scope,
    ),
    params.search ? searchNode(params.search, '/search', { entity, ctx }) : undefined,
  );
  if (params.cursor && params.offset) throw queryError('/offset', 'use either cursor or offset, not both');
  const projection = restProjection(entity, params.select, params.expand, ctx, '', 0, maxPageSize);
  checkProjection(projection, params.expand ? '/expand' : '/select');
  return {
    entity: entity.name,
    projection,
    filter,
    sort: params.sort?.map((s, i) => parseSort(entity, s, ctx, `/sort/${i}`)),
    limit: checkLimit(params.limit, maxPageSize, '/limit'),
    offset: checkOffset(params.offset, '/offset'),
    cursor: params.cursor,
    count: params.count,
    shape: 'rest',
    parent: params.parent,
  };
}

/** The projection of REST's select + expand: system columns and fields by name, then expansions. */
function restProjection(
  entity: EntityDef,
  select: readonly string[] | undefined,
  expand: readonly ExpandParams[] | undefined,
  ctx: ParseContext,
  path: string,
  depth: number,
  maxPageSize: number,
): Projection {
  const columns = [...SYSTEM_COLUMNS, ...entity.fields.map((f) => f.name)];
  const wanted = select ? new Set(['id', ...checkSelect(entity, select, ctx, `${path}/select`)]) : undefined;
  // refused before anything is built: 2,000 expansions must cost a length check, not 2,000 projections
  if ((expand?.length ?? 0) > LIMITS.expansions)
    throw queryError(`${path}/expand`, `a query has at most ${LIMITS.expansions} expansions`);
  const expansions = (expand ?? []).map((e, i) =>
    buildExpansion(entity, e, ctx, `${path}/expand/${i}`, depth + 1, maxPageSize),
  );
  // an expanded lookup replaces its id column under the same key
  const expanded = new Set(expansions.map((e) => e.key));
  const items: ProjectionItem[] = columns
    .filter((c) => (!wanted || wanted.has(c)) && !expanded.has(c))
    .map((c) => ({ kind: 'column', key: c, column: c }));
  return { items: [...items, ...expansions] };
}

function requireEntity(name: string, ctx: ParseContext): EntityDef {
  const entity = ctx.catalog.entity(name);
  if (!entity) throw queryError('/', `unknown entity "${name}"`);
  return entity;
}

function combine(a: FilterNode | undefined, b: FilterNode | undefined): FilterNode | undefined {
  if (a && b) return { kind: 'and', items: [a, b] };
  return a ?? b;
}

/**
 * limit= of a list, an expansion or an aggregate: an integer from 1 to `max`. Every wrong value (0,
 * too large, not a number: see limitParam) gets this one problem, 400 XRM_ERR_QUERY_INVALID at `path`.
 */
export function checkLimit(limit: number | undefined, max: number, path: string): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw queryError(path, `must be an integer from 1 to ${max}`);
  return limit;
}

/** offset=: a non-negative 32-bit integer (PostgreSQL takes bigint; a client gets a clear 400 instead). */
export function checkOffset(offset: number | undefined, path: string): number | undefined {
  if (offset === undefined) return undefined;
  if (!Number.isInteger(offset) || offset < 0 || offset > LIMITS.offset)
    throw queryError(path, `must be an integer from 0 to ${LIMITS.offset}`);
  return offset;
}

/**
 * The bounds of a whole projection tree, REST's or GraphQL's: output columns per record (PostgreSQL
 * refuses a target list past 1,664 entries), expansions in all, and one item per key.
 */
export function checkProjection(projection: Projection, path: string): void {
  let expansions = 0;
  const visit = (p: Projection) => {
    if (p.items.length > LIMITS.recordColumns)
      throw queryError(path, `a record has at most ${LIMITS.recordColumns} output columns`);
    const keys = new Set<string>();
    for (const item of p.items) {
      if (keys.has(item.key)) throw queryError(path, `"${item.key}" is selected or expanded twice`);
      keys.add(item.key);
      if (item.kind !== 'lookup' && item.kind !== 'many') continue;
      if (++expansions > LIMITS.expansions)
        throw queryError(path, `a query has at most ${LIMITS.expansions} expansions`);
      visit(item.projection);
    }
  };
  visit(projection);
}

function checkSelect(entity: EntityDef, select: readonly string[], ctx: ParseContext, path: string): string[] {
  if (select.length > LIMITS.recordColumns) throw queryError(path, `names at most ${LIMITS.recordColumns} fields`);
  return select.map((raw, i) => {
    const name = ctx.key ? ctx.key(entity, raw) : raw;
    const column = resolveColumn(entity, name);
    if (!column) throw queryError(`${path}/${i}`, `"${entity.name}" has no field "${raw}"`);
    checkReadable(ctx, entity.name, column, `${path}/${i}`);
    return name;
  });
}

/** A REST sort item, `[-]path[:nullsfirst|:nullslast]`. */
export function parseSort(entity: EntityDef, raw: string, ctx: ParseContext, path: string): SortItem {
  const m = /^(-)?([A-Za-z0-9_.]+)(?::(nullsfirst|nullslast))?$/i.exec(raw.trim());
  if (!m) throw queryError(path, `"${raw}" is not a sort item: [-]field[.field…][:nullsfirst|:nullslast]`);
  const nulls = m[3] ? (m[3].toLowerCase() === 'nullsfirst' ? 'first' : 'last') : undefined;
  return sortItem(entity, { path: m[2]!.split('.'), descending: m[1] === '-', nulls }, ctx, path);
}

/**
 * A sort key given as parts (GraphQL orderBy), checked: a sortable field along lookups. Nulls
 * come first when descending unless told.
 */
export function sortItem(
  entity: EntityDef,
  key: { path: readonly string[]; descending: boolean; nulls?: 'first' | 'last' },
  ctx: ParseContext,
  at: string,
): SortItem {
  const { via, column } = resolvePath(entity, key.path.join('.'), ctx, at);
  if (column.field && !FIELD_TYPES[column.field.type].capabilities.sortable)
    throw queryError(at, `cannot sort by ${column.field.type} field "${column.name}"`);
  return { via, column, descending: key.descending, nulls: key.nulls ?? (key.descending ? 'first' : 'last') };
}

function buildExpansion(
  entity: EntityDef,
  params: ExpandParams,
  ctx: ParseContext,
  path: string,
  depth: number,
  maxPageSize: number,
): ProjectionItem {
  if (depth > MAX_EXPAND_DEPTH) throw queryError(path, `expansions nest at most ${MAX_EXPAND_DEPTH} levels`);
  const name = ctx.key ? ctx.key(entity, params.name) : params.name;
  const lookup = entity.fields.find((f) => f.name === name && f.type === 'lookup');
  const navigation = ctx.catalog.navigations(entity.name).find((n) => n.name === name);
  if (!lookup && !navigation)
    throw queryError(`${path}/name`, `"${entity.name}" has no lookup or relationship "${params.name}"`);
  if (lookup) checkReadable(ctx, entity.name, { name, field: lookup }, `${path}/name`);
  const targetName = lookup ? lookup.target! : navigation!.kind === 'inverse' ? navigation!.source : navigation!.other;
  const target = ctx.catalog.entity(targetName)!;
  const projection = restProjection(target, params.select, params.expand, ctx, path, depth, maxPageSize);
  if (lookup) {
    if (params.filter !== undefined || params.sort || params.limit !== undefined || params.offset !== undefined) {
      throw queryError(
        path,
        `"${params.name}" is a lookup (one record): filter, sort, limit and offset apply to to-many relationships only`,
      );
    }
    return { kind: 'lookup', key: name, field: lookup, target: targetName, projection };
  }
  return {
    kind: 'many',
    key: name,
    navigation: navigation!,
    target: targetName,
    shape: 'array',
    projection,
    page: {
      filter: params.filter === undefined ? undefined : parseFilter(targetName, params.filter, ctx, `${path}/filter`),
      sort: params.sort?.map((s, i) => parseSort(target, s, ctx, `${path}/sort/${i}`)),
      limit: checkLimit(params.limit, maxPageSize, `${path}/limit`),
      offset: checkOffset(params.offset, `${path}/offset`),
    },
  };
}
