/**
 * What a read returns, as a type: `select` keeps the fields named (and `id`); `expand` replaces a
 * lookup by the record it references (or null) and adds a to-many relation as an array of
 * records, each with its own select and expand. Sort keys are field names (or `lookup.field`)
 * with an optional `-` for descending and `:nullsfirst` / `:nullslast`.
 */
import type { Filter } from './filter.ts';
import type { FieldTypesWith, XrmFieldType } from './field-types.ts';
import type { Described, FieldOf, FieldTypeOf, LookupsOf, ReadOf, RelationsOf, Simplify, TargetOf } from './schema.ts';

/** Field names to return (`id` always comes back). */
export type Selection<E, N extends keyof E> = readonly FieldOf<E, N>[];

type IsSortable<E, N extends keyof E, K extends string> =
  FieldTypeOf<E, N, K> extends Exclude<XrmFieldType, FieldTypesWith['sortable']>
    ? false
    : unknown extends ReadOf<E, N>[K & keyof ReadOf<E, N>]
      ? false
      : [NonNullable<ReadOf<E, N>[K & keyof ReadOf<E, N>]>] extends [readonly unknown[]]
        ? false
        : true;

/** Fields of `N` a list can be sorted by (json and multiChoice fields cannot). */
export type SortableField<E, N extends keyof E> = {
  [K in FieldOf<E, N>]: IsSortable<E, N, K> extends true ? K : never;
}[FieldOf<E, N>];

type LookupPaths<E, N extends keyof E> =
  Described<E, N> extends true
    ? { [K in keyof LookupsOf<E, N> & string]: `${K}.${SortableField<E, TargetOf<E, N, K>>}` }[keyof LookupsOf<E, N> &
        string]
    : `${FieldOf<E, N>}.${string}`;

/** One sort key: `name`, `-annual_revenue`, `manager.full_name:nullsfirst`. */
export type SortKey<
  E,
  N extends keyof E,
> = `${'' | '-'}${SortableField<E, N> | LookupPaths<E, N>}${'' | ':nullsfirst' | ':nullslast'}`;

/** Sort keys, first one first. */
export type Sort<E, N extends keyof E> = SortKey<E, N> | readonly SortKey<E, N>[];

/** Expanding a lookup: the referenced record, with its own select and expand. */
export interface LookupExpansion<E, T extends keyof E> {
  select?: Selection<E, T>;
  expand?: Expansion<E, T>;
}

/** Expanding a to-many relation: the related records, filtered, sorted and limited. */
export interface ManyExpansion<E, T extends keyof E> extends LookupExpansion<E, T> {
  filter?: Filter<E, T>;
  sort?: Sort<E, T>;
  limit?: number;
  offset?: number;
}

/** An expansion when the map does not describe relations. */
export interface LooseExpansion {
  select?: readonly string[];
  filter?: object;
  sort?: string | readonly string[];
  limit?: number;
  offset?: number;
  expand?: { [name: string]: true | LooseExpansion };
}

/** Lookups and to-many relations to include, each `true` or with options. */
export type Expansion<E, N extends keyof E> =
  Described<E, N> extends true
    ? { [K in keyof LookupsOf<E, N>]?: true | LookupExpansion<E, Extract<LookupsOf<E, N>[K], keyof E>> } & {
        [R in keyof RelationsOf<E, N>]?: true | ManyExpansion<E, Extract<RelationsOf<E, N>[R], keyof E>>;
      }
    : { [name: string]: true | LooseExpansion };

type SelectOf<Spec> = Spec extends { select: infer S } ? S : undefined;
type ExpandOf<Spec> = Spec extends { expand: infer X } ? X : {};
type Picked<R, S> = S extends readonly (infer F)[] ? Pick<R, Extract<F | 'id', keyof R>> : R;
type NullIn<T> = null extends T ? null : never;

type Expanded<E, N extends keyof E, K, Spec> = K extends keyof LookupsOf<E, N>
  ? Row<E, TargetOf<E, N, K>, SelectOf<Spec>, ExpandOf<Spec>> | NullIn<ReadOf<E, N>[K & keyof ReadOf<E, N>]>
  : K extends keyof RelationsOf<E, N>
    ? Row<E, Extract<RelationsOf<E, N>[K], keyof E>, SelectOf<Spec>, ExpandOf<Spec>>[]
    : unknown;

/** A record of `N` as read with selection `S` (undefined: every field) and expansions `X`. */
export type Row<E, N extends keyof E, S = undefined, X = {}> = [keyof X] extends [never]
  ? Simplify<Picked<ReadOf<E, N>, S>>
  : Simplify<Omit<Picked<ReadOf<E, N>, S>, keyof X> & { -readonly [K in keyof X]: Expanded<E, N, K, X[K]> }>;

/** Refuses keys of `X` that `Allowed` does not have (each such key must then be `never`). */
export type OnlyKeys<X, Allowed> = X & { [K in Exclude<keyof X, keyof Allowed>]: never };
