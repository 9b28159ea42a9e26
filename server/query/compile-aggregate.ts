/** Aggregate queries → one SQL statement returning `{"data":[…]}` as text. */
import { sql, type RawBuilder } from 'kysely';
import { table } from '../../metadata/ddl.ts';
import type { AggregateQuery, GroupItem } from './ast.ts';
import { columnSql, type CompileContext } from './compile-context.ts';
import { compileFilter } from './compile-filter.ts';

const MAX_GROUPS = 10_000;

function groupExpr(item: GroupItem, alias: string, ctx: CompileContext): RawBuilder<unknown> {
  let expr: RawBuilder<unknown> = columnSql(alias, item.via[0]?.name ?? item.column.name);
  for (let i = 0; i < item.via.length; i++) {
    const a = ctx.alias();
    const next = item.via[i + 1]?.name ?? item.column.name;
    expr = sql`(SELECT ${columnSql(a, next)} FROM ${table(item.via[i]!.target!)} ${sql.id(a)} WHERE ${columnSql(a, 'id')} = ${expr})`;
  }
  if (!item.datePart) return expr;
  // week: ISO week number; all date parts as integers; evaluated in UTC
  const part = item.datePart === 'week' ? 'week' : item.datePart;
  return sql`extract(${sql.raw(part)} from ${expr})::integer`;
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
  const where = ctx.withPredicate(query.entity, t, query.filter ? compileFilter(query.filter, query.entity, t, ctx) : undefined);
  const columns = [...groups, ...aggregates].map((c) => sql`${c.expr} AS ${sql.id(c.alias)}`);
  const groupBy = groups.length ? sql`GROUP BY ${sql.join(groups.map((_, i) => sql.raw(String(i + 1))))}` : sql``;
  const orderBy = groups.length ? sql`ORDER BY ${sql.join(groups.map((_, i) => sql.raw(`${i + 1} NULLS LAST`)))}` : sql``;
  return sql<{ body: string }>`SELECT '{"data":' || COALESCE(json_agg(g.*), '[]'::json)::text || '}' AS body FROM (
      SELECT ${sql.join(columns)} FROM ${table(query.entity)} ${sql.id(t)} ${where ? sql`WHERE ${where}` : sql``}
      ${groupBy} ${orderBy} LIMIT ${Math.min(query.limit ?? MAX_GROUPS, MAX_GROUPS)}
    ) g`;
}
