/**
 * Filter AST → one SQL boolean expression over a table alias. Lookups and to-many relations
 * become EXISTS subqueries (any depth); NOT and `every` treat unknown (NULL) as not matching.
 */
import { FIELD_TYPES } from '../../metadata/field-types/index.ts';
import { sql, type RawBuilder } from 'kysely';
import { table } from '../../metadata/physical-names.ts';
import { XrmError } from '../../metadata/errors.ts';
import { searchDocument, searchQueryText } from '../../metadata/search.ts';
import type { FilterNode } from './ast.ts';
import { columnSql, param, type CompileContext } from './compile-context.ts';
import { SubjectVariable } from '../security/subject.ts';

function likePattern(value: string, op: string): string {
  const escaped = value.replace(/[\\%_]/g, (c) => `\\${c}`);
  if (op.endsWith('ontains')) return `%${escaped}%`;
  if (op.endsWith('tartsWith')) return `${escaped}%`;
  return `%${escaped}`;
}

export function compileFilter(
  node: FilterNode,
  entity: string,
  alias: string,
  ctx: CompileContext,
): RawBuilder<boolean> {
  switch (node.kind) {
    case 'and':
    case 'or': {
      if (!node.items.length) return node.kind === 'and' ? sql<boolean>`true` : sql<boolean>`false`;
      const parts = node.items.map((item) => sql`(${compileFilter(item, entity, alias, ctx)})`);
      return sql<boolean>`${sql.join(parts, node.kind === 'and' ? sql` AND ` : sql` OR `)}`;
    }
    case 'not':
      return sql<boolean>`NOT COALESCE((${compileFilter(node.item, entity, alias, ctx)}), false)`;
    case 'search': {
      const def = ctx.catalog.entity(entity)!;
      const doc = searchDocument(def, alias);
      const query = searchQueryText(node.text);
      if (!doc)
        throw new XrmError('XRM_ERR_QUERY_INVALID', `"${entity}" has no searchable text fields`, {
          errors: [{ path: '/search', message: 'no searchable fields' }],
        });
      return query ? sql<boolean>`${doc} @@ to_tsquery('simple'::regconfig, ${query})` : sql<boolean>`true`;
    }
    case 'lookup': {
      const a = ctx.alias();
      const inner = ctx.withPredicate(node.target, a, compileFilter(node.filter, node.target, a, ctx))!;
      const joined = sql`${columnSql(a, 'id')} = ${columnSql(alias, node.field.name)}`;
      return sql<boolean>`EXISTS (SELECT 1 FROM ${table(node.target)} ${sql.id(a)} WHERE ${joined} AND ${inner})`;
    }
    case 'related': {
      const nav = node.navigation;
      const a = ctx.alias();
      const target = nav.kind === 'inverse' ? nav.source : nav.other;
      let condition = compileFilter(node.filter, target, a, ctx);
      if (node.quantifier === 'every') condition = sql<boolean>`NOT COALESCE((${condition}), false)`;
      const inner = ctx.withPredicate(target, a, condition)!;
      const rows = sql`${table(target)} ${sql.id(a)}`;
      const id = columnSql(a, 'id');
      const parentId = columnSql(alias, 'id');
      const j = `${a}j`;
      const from =
        nav.kind === 'inverse'
          ? sql`FROM ${rows} WHERE ${columnSql(a, nav.field)} = ${parentId}`
          : sql`FROM ${table(nav.relationship)} ${sql.id(j)} JOIN ${rows} ON ${id} = ${columnSql(j, nav.otherColumn)}
              WHERE ${columnSql(j, nav.selfColumn)} = ${parentId}`;
      const exists = sql<boolean>`EXISTS (SELECT 1 ${from} AND ${inner})`;
      return node.quantifier === 'some' ? exists : sql<boolean>`NOT ${exists}`;
    }
    case 'relatedTo': {
      const nav = node.navigation;
      if (nav.kind === 'inverse') return sql<boolean>`${columnSql(alias, nav.field)} = ${node.id}::uuid`;
      const j = `${ctx.alias()}j`;
      const linked = sql`${columnSql(j, nav.otherColumn)} = ${columnSql(alias, 'id')}`;
      return sql<boolean>`EXISTS (SELECT 1 FROM ${table(nav.relationship)} ${sql.id(j)}
        WHERE ${columnSql(j, nav.selfColumn)} = ${node.id}::uuid AND ${linked})`;
    }
    case 'linkedTo': {
      // the record's links first (its timeline index), then those activities
      const mine = sql<boolean>`l.entity = ${node.entity} AND l.record_id = ${node.id}::uuid`;
      const page = node.page && !ctx.withPredicate(entity, alias) ? node.page : undefined;
      const id = columnSql(alias, 'id');
      if (!page) return sql<boolean>`${id} IN (SELECT l.activity_id FROM xrm.activity_links l WHERE ${mine})`;
      const after = page.after
        ? sql<boolean>` AND (l.occurred_at, l.activity_id) < (${page.after[0]}::timestamptz, ${page.after[1]}::uuid)`
        : sql``;
      return sql<boolean>`${id} IN (SELECT l.activity_id FROM xrm.activity_links l
        WHERE ${mine}${after} ORDER BY l.occurred_at DESC, l.activity_id DESC LIMIT ${page.limit})`;
    }
    case 'compare':
      return compileComparison(node, alias);
  }
}

function compileComparison(node: Extract<FilterNode, { kind: 'compare' }>, alias: string): RawBuilder<boolean> {
  const condition = comparison(node, alias);
  // a row rule's variable the user lacks (NULL) must match nothing: `ne`/`nin` would match everything
  if (node.value instanceof SubjectVariable && (node.op === 'ne' || node.op === 'nin'))
    return sql<boolean>`(${param(node.value, node.column, node.op === 'nin')} IS NOT NULL AND ${condition})`;
  return condition;
}

function comparison(node: Extract<FilterNode, { kind: 'compare' }>, alias: string): RawBuilder<boolean> {
  const col = columnSql(alias, node.column.name);
  const v = node.value;
  const isArrayColumn = !!node.column.field && FIELD_TYPES[node.column.field.type].capabilities.list;
  switch (node.op) {
    case 'eq':
      return isArrayColumn
        ? sql<boolean>`(${col} @> ${param(v, node.column)} AND ${col} <@ ${param(v, node.column)})`
        : sql<boolean>`${col} = ${param(v, node.column)}`;
    case 'ne':
      return sql<boolean>`${col} IS DISTINCT FROM ${param(v, node.column)}`;
    case 'gt':
      return sql<boolean>`${col} > ${param(v, node.column)}`;
    case 'gte':
      return sql<boolean>`${col} >= ${param(v, node.column)}`;
    case 'lt':
      return sql<boolean>`${col} < ${param(v, node.column)}`;
    case 'lte':
      return sql<boolean>`${col} <= ${param(v, node.column)}`;
    case 'in':
      return sql<boolean>`${col} = ANY(${param(v, node.column, true)})`;
    case 'nin':
      return sql<boolean>`(${col} IS NULL OR ${col} <> ALL(${param(v, node.column, true)}))`;
    case 'between': {
      const [from, to] = v as [unknown, unknown];
      return sql<boolean>`${col} BETWEEN ${param(from, node.column)} AND ${param(to, node.column)}`;
    }
    case 'isNull':
      return v ? sql<boolean>`${col} IS NULL` : sql<boolean>`${col} IS NOT NULL`;
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return sql<boolean>`${col}::text LIKE ${likePattern(v as string, node.op)}`;
    case 'icontains':
    case 'istartsWith':
    case 'iendsWith':
      return sql<boolean>`${col}::text ILIKE ${likePattern(v as string, node.op)}`;
    case 'containsAny':
      return sql<boolean>`${col} && ${param(v, node.column)}`;
    case 'containsAll':
      return sql<boolean>`${col} @> ${param(v, node.column)}`;
    case 'jsonPathEq':
      return sql<boolean>`${col} #> ${node.jsonPath!}::text[] = ${JSON.stringify(v)}::jsonb`;
  }
}
