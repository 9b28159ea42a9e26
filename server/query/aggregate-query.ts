/**
 * Aggregate parameters → a checked AggregateQuery.
 *
 *   aggregate=count,countDistinct(account),sum(amount),avg(amount),min(closed_on),max(amount)
 *   groupBy=status,account.industry,year(created_at),month(closed_on)
 */
import { MAX_GROUPS } from './compile-aggregate.ts';
import { checkLimit } from './read-query.ts';
import { FIELD_TYPES } from '../../metadata/field-types/index.ts';
import type { AggregateFunction, AggregateItem, AggregateQuery, DatePart, FilterNode, GroupItem } from './ast.ts';
import { isNumeric } from './compile-context.ts';
import {
  checkReadable,
  parseFilter,
  queryError,
  resolveColumn,
  resolvePath,
  searchNode,
  type ParseContext,
} from './filter-parse.ts';

export interface AggregateParams {
  aggregate?: string[];
  groupBy?: string[];
  filter?: unknown;
  search?: string;
  limit?: number;
}

const FUNCTIONS: readonly AggregateFunction[] = ['count', 'countDistinct', 'sum', 'avg', 'min', 'max'];

export function buildAggregateQuery(entityName: string, params: AggregateParams, ctx: ParseContext): AggregateQuery {
  const entity = ctx.catalog.entity(entityName)!;
  const aliases = new Set<string>();
  const unique = (alias: string, at: string) => {
    if (aliases.has(alias)) throw queryError(at, `"${alias}" appears twice`);
    aliases.add(alias);
    return alias;
  };
  const groupBy: GroupItem[] = (params.groupBy ?? []).map((raw, i) => {
    const at = `/groupBy/${i}`;
    const m = /^(?:(year|month|day|week)\(([A-Za-z0-9_.]+)\)|([A-Za-z0-9_.]+))$/.exec(raw.trim());
    if (!m) throw queryError(at, `"${raw}" is not a group: field, lookup.field or year|month|day|week(field)`);
    const path = m[2] ?? m[3]!;
    const { via, column } = resolvePath(entity, path, ctx, at);
    const datePart = m[1] as DatePart | undefined;
    if (datePart) {
      const type = column.field.type;
      if (!FIELD_TYPES[type].capabilities.temporal)
        throw queryError(at, `${datePart}() needs a date or datetime field, "${path}" is ${type}`);
    } else if (!FIELD_TYPES[column.field.type].capabilities.groupable) {
      throw queryError(at, `cannot group by a ${column.field.type} field`);
    }
    return {
      via,
      column,
      datePart,
      alias: unique(datePart ? `${datePart}_${path.replace(/\./g, '_')}` : path.replace(/\./g, '_'), at),
    };
  });
  const aggregates: AggregateItem[] = (params.aggregate?.length ? params.aggregate : ['count']).map((raw, i) => {
    const at = `/aggregate/${i}`;
    const m = /^([A-Za-z]+)(?:\(([A-Za-z0-9_]+)\))?$/.exec(raw.trim());
    const fn = m?.[1] as AggregateFunction | undefined;
    if (!m || !fn || !FUNCTIONS.includes(fn))
      throw queryError(at, `"${raw}" is not an aggregate: ${FUNCTIONS.join(', ')} — e.g. sum(amount)`);
    if (!m[2]) {
      if (fn !== 'count') throw queryError(at, `${fn} needs a field: ${fn}(field)`);
      return { fn, alias: unique('count', at) };
    }
    const column = resolveColumn(entity, ctx.key ? ctx.key(entity, m[2]) : m[2]);
    if (!column) throw queryError(at, `"${entity.name}" has no field "${m[2]}"`);
    checkReadable(ctx, entity.name, column, at);
    if ((fn === 'sum' || fn === 'avg') && !isNumeric(column.field))
      throw queryError(at, `${fn} needs a number field, "${m[2]}" is ${column.field.type}`);
    if ((fn === 'min' || fn === 'max') && !FIELD_TYPES[column.field.type].capabilities.ordered)
      throw queryError(at, `${fn} does not apply to ${column.field.type} fields`);
    return { fn, column, alias: unique(`${fn}_${column.name}`, at) };
  });
  let filter: FilterNode | undefined =
    params.filter === undefined ? undefined : parseFilter(entity.name, params.filter, ctx, '/filter');
  if (params.search) {
    const search = searchNode(params.search, '/search', { entity, ctx });
    filter = filter ? { kind: 'and', items: [filter, search] } : search;
  }
  return { entity: entity.name, filter, groupBy, aggregates, limit: checkLimit(params.limit, MAX_GROUPS, '/limit') };
}
