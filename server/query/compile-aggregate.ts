/** Aggregate queries → one SQL statement returning `{"data":[…]}` as text. */
import { sql, type RawBuilder } from 'kysely';
import { table } from '../../metadata/physical-names.ts';
import type { AggregateQuery, GroupItem } from './ast.ts';
import { columnSql, pathValue, type CompileContext } from './compile-context.ts';
import { compileFilter } from './compile-filter.ts';
import { jsonArray } from './compile-read.ts';

/** The most groups one aggregate answers (limit= goes from 1 to this). */
export const MAX_GROUPS = 10_000;

function groupExpr(item: GroupItem, alias: string, ctx: CompileContext): RawBuilder<unknown> {
  const expr = pathValue(item.via, item.column, alias, ctx);
  if (!item.datePart) return expr;
  // week is the ISO week number; every part is an integer, evaluated in UTC
  return sql`extract(${sql.raw(item.datePart)} from ${expr})::integer`;
}

export function compileAggregate(query: AggregateQuery, ctx: CompileContext): RawBuilder<{ body: string }> {
  const t = ctx.alias();
  const groups = query.groupBy.map((g) => ({ alias: g.alias, expr: groupExpr(g, t, ctx) }));
  const aggregates = query.aggregates.map((a) => {
    const col = a.column ? columnSql(t, a.column.name) : undefined;
    switch (a.fn) {
      case 'count':
        return { alias: a.alias, expr: col ? sql`count(${col})` : sql`count(*)` };
      case 'countDistinct':
        return { alias: a.alias, expr: sql`count(DISTINCT ${col!})` };
      default:
        return { alias: a.alias, expr: sql`${sql.raw(a.fn)}(${col!})` };
    }
  });
  const where = ctx.withPredicate(
    query.entity,
    t,
    query.filter ? compileFilter(query.filter, query.entity, t, ctx) : undefined,
  );
  const columns = [...groups, ...aggregates].map((c) => sql`${c.expr} AS ${sql.id(c.alias)}`);
  const groupBy = groups.length ? sql`GROUP BY ${sql.join(groups.map((_, i) => sql.raw(String(i + 1))))}` : sql``;
  const orderBy = groups.length
    ? sql`ORDER BY ${sql.join(groups.map((_, i) => sql.raw(`${i + 1} NULLS LAST`)))}`
    : sql``;
  return sql<{
    body: string;
  }>`SELECT '{"data":' || COALESCE(${jsonArray(sql`g.*`)}, '[]'::json)::text || '}' AS body FROM (
      SELECT ${sql.join(columns)} FROM ${table(query.entity)} ${sql.id(t)} ${where ? sql`WHERE ${where}` : sql``}
      ${groupBy} ${orderBy} LIMIT ${Math.min(query.limit ?? MAX_GROUPS, MAX_GROUPS)}
    ) g`;
}
