/**
 * Typed JSON filters: keys are the entity's fields (and, with an `xrm codegen` schema, its
 * lookups' target fields and its to-many relations); each field takes the operators its field
 * type supports on the server (metadata/field-types/*.ts `filterOperators`), with operands of the
 * field's value type. A wrong field name or a wrong operand type does not compile.
 *
 *   { tier: { in: ['gold', 'silver'] }, annual_revenue: { gte: 1000 },
 *     manager: { full_name: { startsWith: 'Ada' } }, reports: { some: { hired_on: { gte: '2024-01-01' } } },
 *     or: [{ rating: { gte: 4 } }, { not: { name: { icontains: 'test' } } }] }
 */
import type { OperatorsByFieldType } from './field-types.ts';
import type { FieldOf, FieldTypeOf, ReadOf, RelationsOf, TargetOf, XrmFieldType } from './schema.ts';

// the operators each field type supports, generated from the server's field-type modules
export type { OperatorsByFieldType } from './field-types.ts';

/** What each operator takes, for a field whose (non-null) value type is `V`. */
export interface Operands<V> {
  eq: V;
  ne: V;
  gt: V;
  gte: V;
  lt: V;
  lte: V;
  in: readonly V[];
  nin: readonly V[];
  isNull: boolean;
  between: readonly [V, V];
  contains: string;
  startsWith: string;
  endsWith: string;
  icontains: string;
  istartsWith: string;
  iendsWith: string;
  /** multiChoice: the field holds at least one of these. */
  containsAny: V;
  /** multiChoice: the field holds all of these. */
  containsAll: V;
  /** json: the value at `path` inside the field equals `value`. */
  jsonPathEq: { path: readonly string[]; value: unknown };
}

export type FilterOperator = keyof Operands<unknown>;

/** Conditions on one field: operators with their operands, all of which must hold. */
export type Condition<V, O extends FilterOperator> = { [K in O]?: Operands<V>[K] };

/** Equality at a path inside a JSON field: `{ telemetry: { temperature: { eq: 21.5 } } }`. */
export interface JsonPathFilter {
  [key: string]: JsonPathFilter | { eq: unknown };
}

/**
 * Operators from the value type alone, when the map does not give field types: those of the
 * field type such values most likely have (a string literal union is a choice).
 */
type InferredOperators<V> = unknown extends V
  ? OperatorsByFieldType['json']
  : [NonNullable<V>] extends [readonly unknown[]]
    ? OperatorsByFieldType['multiChoice']
    : [NonNullable<V>] extends [boolean]
      ? OperatorsByFieldType['boolean']
      : [NonNullable<V>] extends [number]
        ? OperatorsByFieldType['decimal']
        : [NonNullable<V>] extends [string]
          ? string extends NonNullable<V>
            ? OperatorsByFieldType['text']
            : OperatorsByFieldType['choice']
          : never;

/** The operators a field of entity `N` supports. */
export type OperatorsOf<E, N extends keyof E, K extends string> =
  FieldTypeOf<E, N, K> extends infer T extends XrmFieldType
    ? OperatorsByFieldType[T]
    : InferredOperators<ReadOf<E, N>[K & keyof ReadOf<E, N>]>;

type IsJson<E, N extends keyof E, K extends string> =
  FieldTypeOf<E, N, K> extends 'json' ? true : unknown extends ReadOf<E, N>[K & keyof ReadOf<E, N>] ? true : false;

/** What a field's key takes: conditions; for a lookup, a filter on its target; for JSON, paths. */
export type FieldFilter<E, N extends keyof E, K extends string> =
  | Condition<NonNullable<ReadOf<E, N>[K & keyof ReadOf<E, N>]>, OperatorsOf<E, N, K>>
  | ([TargetOf<E, N, K>] extends [never] ? never : Filter<E, TargetOf<E, N, K>>)
  | (IsJson<E, N, K> extends true ? JsonPathFilter : never);

/** A to-many relation: some, every or none of the related records match. */
export interface RelationFilter<E, T extends keyof E> {
  some?: Filter<E, T>;
  every?: Filter<E, T>;
  none?: Filter<E, T>;
}

/** A filter on records of entity `N` of map `E` (any keys when its records are untyped). */
export type Filter<E, N extends keyof E> = string extends FieldOf<E, N> ? LooseFilter : TypedFilter<E, N>;

/** A filter on records the client has no types for. */
export interface LooseFilter {
  and?: readonly LooseFilter[];
  or?: readonly LooseFilter[];
  not?: LooseFilter;
  [field: string]: unknown;
}

type TypedFilter<E, N extends keyof E> = { [K in FieldOf<E, N>]?: FieldFilter<E, N, K> } & {
  [R in keyof RelationsOf<E, N>]?: RelationFilter<E, Extract<RelationsOf<E, N>[R], keyof E>>;
} & {
  /** All of these. */
  and?: readonly Filter<E, N>[];
  /** Any of these. */
  or?: readonly Filter<E, N>[];
  /** Not this. */
  not?: Filter<E, N>;
};
