/**
 * Read queries → ONE SQL statement whose single text column is the whole response body, built
 * by PostgreSQL (row_to_json / json_agg) and passed through untouched. Expansions are correlated
 * subqueries per parent (a lookup: one object; a to-many: its own filter, sort and limit).
 * Paging is keyset on the sort keys + id, with an opaque cursor; or limit/offset.
 */
import { sql, type RawBuilder } from 'kysely';
import { table } from '../../metadata/ddl.ts';
import { SYSTEM_COLUMNS, type EntityDef } from '../../metadata/types.ts';
import type { ColumnRef, Expansion, ReadQuery, SortItem } from './ast.ts';
import { columnSql, param, type CompileContext } from './compile-context.ts';
import { compileFilter } from './compile-filter.ts';
import { queryError } from './filter-parse.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const DEFAULT_EXPAND_LIMIT = 50;

const CREATED_AT: ColumnRef = { name: 'created_at', system: 'datetime' };

/** The default order: oldest first. */
export function defaultSort(): SortItem[] {
  return [{ via: [], column: CREATED_AT, descending: false, nulls: 'last' }];
}

/** The value a sort item orders by, for a row under `alias` (lookups as scalar subqueries). */
function sortValue(item: SortItem, alias: string, ctx: CompileContext): RawBuilder<unknown> {
  let expr: RawBuilder<unknown> = columnSql(alias, item.via[0]?.name ?? item.column.name);
  if (!item.via.length) return expr;
  // a.b.c: (SELECT t2.c FROM target2 t2 WHERE t2.id = (SELECT t1.b FROM target1 t1 WHERE t1.id = alias.a))
  for (let i = 0; i < item.via.length; i++) {
    const lookup = item.via[i]!;
    const a = ctx.alias();
    const next = item.via[i + 1]?.name ?? item.column.name;
    expr = sql`(SELECT ${columnSql(a, next)} FROM ${table(lookup.target!)} ${sql.id(a)} WHERE ${columnSql(a, 'id')} = ${expr})`;
  }
  return expr;
}

function orderBy(items: readonly SortItem[], values: readonly RawBuilder<unknown>[], idExpr: RawBuilder<unknown>): RawBuilder<unknown> {
  const parts = items.map((item, i) => sql`${values[i]!} ${sql.raw(item.descending ? 'DESC' : 'ASC')} NULLS ${sql.raw(item.nulls === 'first' ? 'FIRST' : 'LAST')}`);
  parts.push(sql`${idExpr} ASC`);
  return sql.join(parts);
}

/** Columns of `entity` a projection includes. */
function projectedColumns(entity: EntityDef, select: readonly string[] | undefined, ctx: CompileContext): string[] {
  const fields = entity.fields.filter((f) => ctx.readable(entity.name, f.name)).map((f) => f.name);
  if (!select) return [...SYSTEM_COLUMNS, ...fields];
  const wanted = new Set(select);
  wanted.add('id');
  return [...SYSTEM_COLUMNS, ...fields].filter((c) => wanted.has(c));
}

/**
 * `(SELECT row_to_json(r) FROM (SELECT a.col, …, <expansion> AS name) r)`: one record as JSON,
 * for the row under `alias`.
 */
export function recordJson(entity: EntityDef, alias: string, query: { select?: readonly string[]; expand?: readonly Expansion[] }, ctx: CompileContext): RawBuilder<unknown> {
  const columns = projectedColumns(entity, query.select, ctx).map((c) => columnSql(alias, c));
  for (const expansion of query.expand ?? []) {
    columns.push(sql`${expansionJson(expansion, alias, ctx)} AS ${sql.id(expansion.name)}`);
  }
  return sql`(SELECT row_to_json(r) FROM (SELECT ${sql.join(columns)}) r)`;
}

function expansionJson(expansion: Expansion, parentAlias: string, ctx: CompileContext): RawBuilder<unknown> {
  const target = ctx.catalog.entity(expansion.relation.target)!;
  const a = ctx.alias();
  const record = recordJson(target, a, expansion.query, ctx);
  if (expansion.relation.kind === 'lookup') {
    const where = ctx.withPredicate(target.name, a, sql<boolean>`${columnSql(a, 'id')} = ${columnSql(parentAlias, expansion.relation.field.name)}`);
    return sql`(SELECT ${record} FROM ${table(target.name)} ${sql.id(a)} WHERE ${where!})`;
  }
  const nav = expansion.relation.navigation;
  const q = expansion.query;
  const conditions: RawBuilder<boolean>[] = [];
  if (q.filter) conditions.push(compileFilter(q.filter, target.name, a, ctx));
  const predicate = ctx.withPredicate(target.name, a);
  if (predicate) conditions.push(predicate);
  const sort = q.sort?.length ? q.sort : defaultSort();
  const order = orderBy(sort, sort.map((s) => sortValue(s, a, ctx)), columnSql(a, 'id'));
  const extra = conditions.length ? sql`AND ${sql.join(conditions.map((c) => sql`(${c})`), sql` AND `)}` : sql``;
  const limit = q.limit ?? DEFAULT_EXPAND_LIMIT;
  const offset = q.offset ?? 0;
  const from =
    nav.kind === 'inverse'
      ? sql`FROM ${table(target.name)} ${sql.id(a)} WHERE ${columnSql(a, nav.field)} = ${columnSql(parentAlias, 'id')}`
      : sql`FROM ${table(nav.relationship)} ${sql.id(`${a}j`)} JOIN ${table(target.name)} ${sql.id(a)} ON ${columnSql(a, 'id')} = ${columnSql(`${a}j`, nav.otherColumn)}
            WHERE ${columnSql(`${a}j`, nav.selfColumn)} = ${columnSql(parentAlias, 'id')}`;
  return sql`(SELECT COALESCE(json_agg(x.j ORDER BY x.n), '[]'::json) FROM (
      SELECT ${record} AS j, row_number() OVER (ORDER BY ${order}) AS n ${from} ${extra} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}) x)`;
}

// ---------------------------------------------------------------------------------------------
// cursors

/** Decodes a cursor issued for this sort: the sort values of the last row, then its id. */
function decodeCursor(cursor: string, sort: readonly SortItem[]): unknown[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (!Array.isArray(values) || values.length !== sort.length + 1 || typeof values[values.length - 1] !== 'string') {
    throw queryError('/cursor', 'is not a cursor this API issued for this sort order');
  }
  return values;
}

function keysetCondition(sort: readonly SortItem[], values: readonly RawBuilder<unknown>[], idExpr: RawBuilder<unknown>, cursor: unknown[]): RawBuilder<boolean> {
  const alternatives: RawBuilder<boolean>[] = [];
  const columns: ColumnRef[] = [...sort.map((s) => s.column), { name: 'id', system: 'uuid' }];
  const exprs = [...values, idExpr];
  for (let i = 0; i < columns.length; i++) {
    const parts: RawBuilder<boolean>[] = [];
    for (let j = 0; j < i; j++) parts.push(sql<boolean>`${exprs[j]!} IS NOT DISTINCT FROM ${param(cursor[j], columns[j]!)}`);
    const v = cursor[i];
    if (i === sort.length) {
      parts.push(sql<boolean>`${idExpr} > ${param(v, columns[i]!)}`);
    } else {
      const item = sort[i]!;
      const cmp = item.descending ? sql.raw('<') : sql.raw('>');
      if (v === null) {
        if (item.nulls === 'last') continue; // nothing sorts after NULL at this key
        parts.push(sql<boolean>`${exprs[i]!} IS NOT NULL`);
      } else if (item.nulls === 'last') {
        parts.push(sql<boolean>`(${exprs[i]!} ${cmp} ${param(v, columns[i]!)} OR ${exprs[i]!} IS NULL)`);
      } else {
        parts.push(sql<boolean>`${exprs[i]!} ${cmp} ${param(v, columns[i]!)}`);
      }
    }
    alternatives.push(sql<boolean>`(${sql.join(parts, sql` AND `)})`);
  }
  return alternatives.length ? sql<boolean>`(${sql.join(alternatives, sql` OR `)})` : sql<boolean>`false`;
}

// ---------------------------------------------------------------------------------------------
// statements

/**
 * A page of records: `{"data":[…],"nextCursor":"…","totalCount":n}` as one text column `body`.
 */
export function compileList(query: ReadQuery, ctx: CompileContext, maxPageSize: number): RawBuilder<{ body: string }> {
  const entity = ctx.catalog.entity(query.entity)!;
  const t = ctx.alias();
  const sort = query.sort?.length ? query.sort : defaultSort();
  const limit = Math.min(query.limit ?? DEFAULT_PAGE_SIZE, maxPageSize);
  const sortValues = sort.map((s) => sortValue(s, t, ctx));
  const conditions: RawBuilder<boolean>[] = [];
  if (query.filter) conditions.push(compileFilter(query.filter, entity.name, t, ctx));
  const predicate = ctx.withPredicate(entity.name, t);
  if (predicate) conditions.push(predicate);
  const filterOnly = conditions.length ? sql`WHERE ${sql.join(conditions.map((c) => sql`(${c})`), sql` AND `)}` : sql``;
  const pageConditions = [...conditions];
  if (query.cursor) pageConditions.push(keysetCondition(sort, sortValues, columnSql(t, 'id'), decodeCursor(query.cursor, sort)));
  const where = pageConditions.length ? sql`WHERE ${sql.join(pageConditions.map((c) => sql`(${c})`), sql` AND `)}` : sql``;
  const keys = sortValues.map((v, i) => sql`${v} AS ${sql.id(`__k${i}`)}`);
  const p = ctx.alias();
  const pageOrder = orderBy(sort, sort.map((_, i) => columnSql(p, `__k${i}`)), columnSql(p, 'id'));
  const cursorArray = sql`json_build_array(${sql.join([...sort.map((_, i) => columnSql(p, `__k${i}`)), columnSql(p, 'id')])})`;
  const record = recordJson(entity, p, query, ctx);

  let count: RawBuilder<unknown> = sql`''`;
  if (query.count) {
    const exact = sql`(SELECT count(*) FROM ${table(entity.name)} ${sql.id(t)} ${filterOnly})`;
    const total =
      query.count === 'estimated' && !conditions.length
        ? sql`(SELECT CASE WHEN c.reltuples < 0 THEN ${exact} ELSE c.reltuples::bigint END FROM pg_class c WHERE c.oid = ${`data.${entity.name}`}::regclass)`
        : exact;
    count = sql`',"totalCount":' || ${total}::text`;
  }

  return sql<{ body: string }>`WITH base AS (
      SELECT ${sql.id(t)}.*, ${sql.join(keys)} FROM ${table(entity.name)} ${sql.id(t)} ${where}
      ORDER BY ${orderBy(sort, sortValues, columnSql(t, 'id'))} LIMIT ${limit + 1} OFFSET ${query.offset ?? 0}
    ), page AS (
      SELECT ${sql.id(p)}.*, row_number() OVER (ORDER BY ${pageOrder}) AS __n FROM base ${sql.id(p)}
    )
    SELECT '{"data":' || COALESCE((SELECT json_agg(${record} ORDER BY ${sql.id(p)}.__n) FROM page ${sql.id(p)} WHERE ${sql.id(p)}.__n <= ${limit}), '[]'::json)::text
      || COALESCE((SELECT ',"nextCursor":"' || translate(encode(convert_to(${cursorArray}::text, 'UTF8'), 'base64'), E'+/=\\n', '-_') || '"'
           FROM page ${sql.id(p)} WHERE ${sql.id(p)}.__n = ${limit} AND EXISTS (SELECT 1 FROM page q WHERE q.__n > ${limit})), '')
      || ${count}
      || '}' AS body`;
}

/** One record by id as JSON text (`body` is NULL when there is no such record). */
export function compileGet(query: ReadQuery, id: string, ctx: CompileContext): RawBuilder<{ body: string | null }> {
  const entity = ctx.catalog.entity(query.entity)!;
  const t = ctx.alias();
  const where = ctx.withPredicate(entity.name, t, sql<boolean>`${columnSql(t, 'id')} = ${id}::uuid`)!;
  return sql<{ body: string | null }>`SELECT ${recordJson(entity, t, query, ctx)}::text AS body FROM ${table(entity.name)} ${sql.id(t)} WHERE ${where}`;
}
