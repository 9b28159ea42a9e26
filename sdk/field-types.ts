/**
 * The platform's field types and the filter operators each supports, generated from the
 * field-type registry (metadata/field-types/).
 * Do not edit: `npx vitest run tests/generated.test.ts -u` regenerates it, and
 * tests/generated.test.ts checks it for drift.
 */

/** Every field type, in the registry's order. */
export const XRM_FIELD_TYPES = [
  'text',
  'longText',
  'email',
  'phone',
  'url',
  'integer',
  'bigInteger',
  'decimal',
  'money',
  'boolean',
  'date',
  'datetime',
  'choice',
  'multiChoice',
  'lookup',
  'json',
  'uuid',
  'autonumber',
] as const;

/** A field type of the platform. */
export type XrmFieldType = (typeof XRM_FIELD_TYPES)[number];

/** The filter operators each field type supports (its module's `filterOperators`). */
export interface OperatorsByFieldType {
  text:
    | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between' | 'contains'
    | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith';
  longText:
    | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between' | 'contains'
    | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith';
  email:
    | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between' | 'contains'
    | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith';
  phone:
    | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between' | 'contains'
    | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith';
  url:
    | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between' | 'contains'
    | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith';
  integer: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  bigInteger: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  decimal: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  money: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  boolean: 'eq' | 'ne' | 'isNull';
  date: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  datetime: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  choice: 'eq' | 'ne' | 'in' | 'nin' | 'isNull';
  multiChoice: 'containsAny' | 'containsAll' | 'eq' | 'isNull';
  lookup: 'eq' | 'ne' | 'in' | 'nin' | 'isNull';
  json: 'isNull' | 'jsonPathEq';
  uuid: 'eq' | 'ne' | 'in' | 'nin' | 'isNull';
  autonumber:
    | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between' | 'contains'
    | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith';
}
