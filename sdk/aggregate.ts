/**
 * Aggregates (`GET /api/data/{entity}/aggregate`), typed: `sum(f)` and `avg(f)` take number
 * fields, date parts take date fields, and each result row has one typed member per aggregate
 * (`count`, `sum_annual_revenue`, …) and per group (`region`, `manager_full_name`,
 * `year_hired_on`).
 */
import type { FieldTypesWith } from './field-types.ts';
import type { Filter } from './filter.ts';
import type { QueryParams } from './query.ts';
import type { Described, FieldOf, FieldTypeOf, LookupsOf, ReadOf, Simplify, TargetOf, XrmFieldType } from './schema.ts';

type NumberType = FieldTypesWith['numeric'];
type DateType = FieldTypesWith['temporal'];
type ValueOf<E, N extends keyof E, K extends string> = ReadOf<E, N>[K & keyof ReadOf<E, N>];

/** Fields whose type is `T` (from the map), or whose value type is `V` when the map does not say. */
type FieldsOfType<E, N extends keyof E, T extends XrmFieldType, V> = {
  [K in FieldOf<E, N>]: FieldTypeOf<E, N, K> extends XrmFieldType
    ? FieldTypeOf<E, N, K> extends T
      ? K
      : never
    : unknown extends ValueOf<E, N, K>
      ? never
      : [NonNullable<ValueOf<E, N, K>>] extends [V]
        ? K
        : never;
}[FieldOf<E, N>];

type NumberField<E, N extends keyof E> = FieldsOfType<E, N, NumberType, number>;
type DateField<E, N extends keyof E> = FieldsOfType<E, N, DateType, string>;
type OrderedField<E, N extends keyof E> = FieldsOfType<E, N, FieldTypesWith['ordered'], string | number>;
type GroupField<E, N extends keyof E> = FieldsOfType<
  E,
  N,
  FieldTypesWith['groupable'],
  string | number | boolean | readonly unknown[]
>;

type DatePart = 'year' | 'month' | 'day' | 'week';

/** `count`, `countDistinct(field)`, `sum(number)`, `avg(number)`, `min(field)`, `max(field)`. */
export type AggregateSpec<E, N extends keyof E> =
  | 'count'
  | `countDistinct(${FieldOf<E, N>})`
  | `${'sum' | 'avg'}(${NumberField<E, N>})`
  | `${'min' | 'max'}(${OrderedField<E, N>})`;

type LookupGroups<E, N extends keyof E> =
  Described<E, N> extends true
    ? { [K in keyof LookupsOf<E, N> & string]: `${K}.${GroupField<E, TargetOf<E, N, K>>}` }[keyof LookupsOf<E, N> &
        string]
    : `${FieldOf<E, N>}.${string}`;

/** A group: `field`, `lookup.field`, or `year|month|day|week(dateField)`. */
export type GroupKey<E, N extends keyof E> = GroupField<E, N> | LookupGroups<E, N> | `${DatePart}(${DateField<E, N>})`;

export interface AggregateOptions<E, N extends keyof E, A, G> {
  /** What to compute (default: `['count']`). */
  aggregate?: A;
  /** Groups; none: one row over every matching record. */
  groupBy?: G;
  filter?: Filter<E, N>;
  search?: string;
  /** Most groups returned (default 10,000). */
  limit?: number;
}

type Underscored<S extends string> = S extends `${infer A}.${infer B}` ? `${A}_${Underscored<B>}` : S;

type AggregateAlias<A> = A extends 'count' ? 'count' : A extends `${infer F}(${infer X})` ? `${F}_${X}` : never;
type AggregateValue<E, N extends keyof E, A> = A extends 'count' | `countDistinct(${string})`
  ? number
  : A extends `${'sum' | 'avg'}(${string})`
    ? number | null
    : A extends `${string}(${infer X extends string})`
      ? ValueOf<E, N, X> | null
      : unknown;

type GroupAlias<G> = G extends `${infer P}(${infer X})`
  ? `${P}_${Underscored<X>}`
  : G extends string
    ? Underscored<G>
    : never;
type GroupValue<E, N extends keyof E, G> = G extends `${string}(${string})`
  ? number | null
  : G extends `${infer L}.${infer F}`
    ? L extends keyof LookupsOf<E, N>
      ? ValueOf<E, TargetOf<E, N, L>, F> | null
      : unknown
    : G extends string
      ? ValueOf<E, N, G>
      : unknown;

type Items<T> = T extends readonly (infer I)[] ? I : never;

/** One result row: a member per aggregate and per group. */
export type AggregateRow<E, N extends keyof E, A, G> = Simplify<
  { [K in Items<A> as AggregateAlias<K>]: AggregateValue<E, N, K> } & {
    [K in Items<G> as GroupAlias<K>]: GroupValue<E, N, K>;
  }
>;

/** The query parameters of an aggregate request. */
export function aggregateParams(options: {
  aggregate?: readonly string[];
  groupBy?: readonly string[];
  filter?: object;
  search?: string;
  limit?: number;
}): QueryParams {
  const params: QueryParams = [];
  if (options.aggregate?.length) params.push(['aggregate', options.aggregate.join(',')]);
  if (options.groupBy?.length) params.push(['groupBy', options.groupBy.join(',')]);
  if (options.filter !== undefined) params.push(['filter', JSON.stringify(options.filter)]);
  if (options.search) params.push(['search', options.search]);
  if (options.limit !== undefined) params.push(['limit', String(options.limit)]);
  return params;
}
