/**
 * The one query AST shared by REST, GraphQL and the SDK. Parsers (REST query strings, GraphQL
 * arguments, JSON filters) produce it, already checked against the catalog; the compiler turns
 * it into one SQL statement.
 */
import type { Navigation } from '../../metadata/catalog.ts';
import type { FilterOperator } from '../../metadata/field-type.ts';
import type { FieldDef } from '../../metadata/types.ts';

export type FilterNode =
  | { readonly kind: 'and'; readonly items: readonly FilterNode[] }
  | { readonly kind: 'or'; readonly items: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly item: FilterNode }
  /** A comparison on a column of the current entity (system columns included). */
  | {
      readonly kind: 'compare';
      readonly column: ColumnRef;
      readonly op: FilterOperator;
      readonly value: unknown;
      readonly jsonPath?: readonly string[];
    }
  /** Across a lookup: the referenced record satisfies `filter`. */
  | { readonly kind: 'lookup'; readonly field: FieldDef; readonly target: string; readonly filter: FilterNode }
  /** Over a to-many navigation: some / every / none of the related records satisfy `filter`. */
  | {
      readonly kind: 'related';
      readonly navigation: Navigation;
      readonly quantifier: 'some' | 'every' | 'none';
      readonly filter: FilterNode;
    }
  /** Records on the far side of `navigation` from the record `id` (related lists). */
  | { readonly kind: 'relatedTo'; readonly navigation: Navigation; readonly id: string }
  /**
   * Activities linked to the tracked record `entity`/`id` (its timeline: xrm.activity_links).
   * `page`: only the newest `limit` links after `after` ([occurred_at, activity id]) can match —
   * a timeline page walks that many index entries instead of every link — applied when the
   * reader may read every activity (with a row predicate, hidden ones would shorten the page).
   */
  | {
      readonly kind: 'linkedTo';
      readonly entity: string;
      readonly id: string;
      readonly page?: { readonly limit: number; readonly after?: readonly [string, string] };
    }
  /** Full-text search over the entity's searchable fields. */
  | { readonly kind: 'search'; readonly text: string };

/** A column of an entity, by name, with its field definition. */
export interface ColumnRef {
  readonly name: string;
  /** The field: one of the entity's, or a system field (metadata/system-fields.ts). */
  readonly field: FieldDef;
}

export interface SortItem {
  /** Lookup fields traversed before the column (e.g. ['account'] for account.name). */
  readonly via: readonly FieldDef[];
  readonly column: ColumnRef;
  readonly descending: boolean;
  readonly nulls: 'first' | 'last';
}

/**
 * What each record of a result carries, by JSON key. REST builds it from select/expand (keys are
 * field names), GraphQL from the selection set (keys are response names, camelCase or aliases).
 */
export interface Projection {
  readonly items: readonly ProjectionItem[];
}

export type ProjectionItem =
  | { readonly kind: 'column'; readonly key: string; readonly column: string }
  /** The keyset cursor of this row under the sort in effect (GraphQL edges). */
  | { readonly kind: 'cursor'; readonly key: string }
  /** The record a lookup references, or null. */
  | {
      readonly kind: 'lookup';
      readonly key: string;
      readonly field: FieldDef;
      readonly target: string;
      readonly projection: Projection;
    }
  /** Records of a to-many navigation, paged per parent. */
  | {
      readonly kind: 'many';
      readonly key: string;
      readonly navigation: Navigation;
      readonly target: string;
      readonly page: PageSpec;
      readonly projection: Projection;
      /** 'array': the records; 'connection': { nodes, hasNextPage, hasPreviousPage, totalCount? } */
      readonly shape: 'array' | 'connection';
    };

/** Which records of a list, in which order. */
export interface PageSpec {
  readonly filter?: FilterNode;
  readonly sort?: readonly SortItem[];
  readonly limit?: number;
  readonly offset?: number;
  /** 'exact' counts; 'estimated' reads the planner's estimate (cheap on huge tables). */
  readonly count?: 'exact' | 'estimated';
}

export interface ReadQuery extends PageSpec {
  readonly entity: string;
  readonly projection: Projection;
  /** Keyset: continue after (or, backward, before) this cursor. */
  readonly cursor?: string;
  /** Page backward from `cursor` (GraphQL last/before). */
  readonly backward?: boolean;
  /**
   * 'rest': { data, nextCursor?, totalCount? }; 'connection': { nodes, hasNextPage, hasPreviousPage,
   * totalCount? }; 'nodes': the records only, [ … ] (a GraphQL answer of `{ nodes { … } }`).
   */
  readonly shape: 'rest' | 'connection' | 'nodes';
  /** Answer no body (NULL) unless this record exists and is visible (related lists: 404 in the same statement). */
  readonly parent?: { readonly entity: string; readonly id: string };
}

export type AggregateFunction = 'count' | 'countDistinct' | 'sum' | 'avg' | 'min' | 'max';
export type DatePart = 'year' | 'month' | 'day' | 'week';

export interface AggregateItem {
  readonly fn: AggregateFunction;
  /** undefined only for count(*) */
  readonly column?: ColumnRef;
  readonly alias: string;
}

export interface GroupItem {
  readonly via: readonly FieldDef[];
  readonly column: ColumnRef;
  readonly datePart?: DatePart;
  readonly alias: string;
}

export interface AggregateQuery {
  readonly entity: string;
  readonly filter?: FilterNode;
  readonly groupBy: readonly GroupItem[];
  readonly aggregates: readonly AggregateItem[];
  readonly limit?: number;
}
