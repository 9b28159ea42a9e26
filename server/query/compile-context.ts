/**
 * State shared while compiling one query: the catalog, fresh table aliases, and the hooks the
 * security layer injects (row predicates and field masks applied inside the SQL).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import { table } from '../../metadata/physical-names.ts';
import { FIELD_TYPES } from '../../metadata/field-types/index.ts';
import type { FieldDef } from '../../metadata/types.ts';
import type { ColumnRef } from './ast.ts';
import { SubjectParameter, SubjectVariable } from '../security/subject.ts';

export interface QueryHooks {
  /** An extra condition every row of `entity` (under `alias`) must meet, or undefined. */
  rowPredicate?(entity: string, alias: string): RawBuilder<boolean> | undefined;
  /** Whether `field` of `entity` may be read; masked fields are left out of results. */
  fieldReadable?(entity: string, field: string): boolean;
}

export class CompileContext {
  readonly catalog: Catalog;
  readonly hooks: QueryHooks;
  readonly #prefix: string;
  #aliases = 0;

  /** `prefix`: of the fresh aliases, so a condition compiled apart (a row rule) never shadows the query's. */
  constructor(catalog: Catalog, hooks: QueryHooks = {}, prefix = 't') {
    this.catalog = catalog;
    this.hooks = hooks;
    this.#prefix = prefix;
  }

  alias(): string {
    return `${this.#prefix}${this.#aliases++}`;
  }

  readable(entity: string, field: string): boolean {
    return this.hooks.fieldReadable?.(entity, field) ?? true;
  }

  /** `condition AND <row predicate of entity>` (or just one of them). */
  withPredicate(entity: string, alias: string, condition?: RawBuilder<boolean>): RawBuilder<boolean> | undefined {
    const predicate = this.hooks.rowPredicate?.(entity, alias);
    if (predicate && condition) return sql<boolean>`(${condition}) AND (${predicate})`;
    return predicate ?? condition;
  }
}

export function castOf(column: ColumnRef): string {
  return FIELD_TYPES[column.field.type].baseType;
}

/** A parameter cast to the column's base type. */
export function param(value: unknown, column: ColumnRef, array = false): RawBuilder<unknown> {
  const cast = castOf(column);
  if (value instanceof SubjectVariable) {
    // a row rule's principal variable: bound to this request's value when the statement runs
    const type = array && !cast.endsWith('[]') ? `${cast}[]` : cast;
    return sql`${new SubjectParameter(value.name, type)}::${sql.raw(type)}`;
  }
  const encoded = cast === 'jsonb' ? JSON.stringify(value) : value;
  return sql`${encoded}::${sql.raw(array && !cast.endsWith('[]') ? `${cast}[]` : cast)}`;
}

/** Types whose values can be aggregated with sum/avg. */
export function isNumeric(field: FieldDef): boolean {
  return FIELD_TYPES[field.type].capabilities.numeric;
}

export function columnSql(alias: string, name: string): RawBuilder<unknown> {
  return sql.ref(`${alias}.${name}`);
}

/**
 * The value at `via… → column` for the row under `alias`: the column itself, or through lookups
 * as nested scalar subqueries (NULL where a referenced record is missing or hidden by a row
 * predicate). Sort keys and group keys both use it.
 */
export function pathValue(
  via: readonly FieldDef[],
  column: ColumnRef,
  alias: string,
  ctx: CompileContext,
): RawBuilder<unknown> {
  let expr: RawBuilder<unknown> = columnSql(alias, via[0]?.name ?? column.name);
  for (let i = 0; i < via.length; i++) {
    const a = ctx.alias();
    const target = via[i]!.target!;
    const next = via[i + 1]?.name ?? column.name;
    const where = ctx.withPredicate(target, a, sql<boolean>`${columnSql(a, 'id')} = ${expr}`)!;
    expr = sql`(SELECT ${columnSql(a, next)} FROM ${table(target)} ${sql.id(a)} WHERE ${where})`;
  }
  return expr;
}
