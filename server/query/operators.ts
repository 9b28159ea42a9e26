/** What each filter operator takes as its operand — one table for the parsers and the GraphQL inputs. */
import type { FilterOperator } from '../../metadata/field-type.ts';

export type OperandKind =
  /** true or false */
  | 'flag'
  /** a list of field values */
  | 'list'
  /** [from, to] */
  | 'pair'
  /** a text pattern */
  | 'text'
  /** a list of option values, compared as a set */
  | 'set'
  /** { path, value } inside a JSON field */
  | 'jsonPath'
  /** one field value */
  | 'value';

export const OPERAND: Readonly<Record<FilterOperator, OperandKind>> = {
  eq: 'value',
  ne: 'value',
  gt: 'value',
  gte: 'value',
  lt: 'value',
  lte: 'value',
  in: 'list',
  nin: 'list',
  between: 'pair',
  isNull: 'flag',
  contains: 'text',
  startsWith: 'text',
  endsWith: 'text',
  icontains: 'text',
  istartsWith: 'text',
  iendsWith: 'text',
  containsAny: 'set',
  containsAll: 'set',
  jsonPathEq: 'jsonPath',
};
