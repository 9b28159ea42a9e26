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
  'percent',
  'boolean',
  'date',
  'datetime',
  'choice',
  'multiChoice',
  'lookup',
  'reference',
  'partyList',
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
  percent: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  boolean: 'eq' | 'ne' | 'isNull';
  date: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  datetime: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between';
  choice: 'eq' | 'ne' | 'in' | 'nin' | 'isNull';
  multiChoice: 'containsAny' | 'containsAll' | 'eq' | 'isNull';
  lookup: 'eq' | 'ne' | 'in' | 'nin' | 'isNull';
  reference: 'eq' | 'ne' | 'in' | 'nin' | 'isNull' | 'jsonPathEq';
  partyList: 'isNull' | 'jsonPathEq';
  json: 'isNull' | 'jsonPathEq';
  uuid: 'eq' | 'ne' | 'in' | 'nin' | 'isNull';
  autonumber:
    | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between' | 'contains'
    | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith';
}

/** The field types that have each capability (their modules' `capabilities`). */
export interface FieldTypesWith {
  primary: 'text' | 'email' | 'phone' | 'url' | 'autonumber';
  key:
    | 'text' | 'email' | 'phone' | 'url' | 'integer' | 'bigInteger' | 'decimal' | 'date' | 'datetime'
    | 'choice' | 'lookup' | 'uuid' | 'autonumber';
  fullText: 'text' | 'longText' | 'email' | 'phone' | 'url' | 'autonumber';
  sortable:
    | 'text' | 'longText' | 'email' | 'phone' | 'url' | 'integer' | 'bigInteger' | 'decimal' | 'money'
    | 'percent' | 'boolean' | 'date' | 'datetime' | 'choice' | 'lookup' | 'uuid' | 'autonumber';
  indexable:
    | 'text' | 'email' | 'phone' | 'url' | 'integer' | 'bigInteger' | 'decimal' | 'money' | 'percent'
    | 'boolean' | 'date' | 'datetime' | 'choice' | 'multiChoice' | 'lookup' | 'uuid' | 'autonumber';
  ordered:
    | 'text' | 'longText' | 'email' | 'phone' | 'url' | 'integer' | 'bigInteger' | 'decimal' | 'money'
    | 'percent' | 'date' | 'datetime' | 'choice' | 'lookup' | 'uuid' | 'autonumber';
  groupable:
    | 'text' | 'longText' | 'email' | 'phone' | 'url' | 'integer' | 'bigInteger' | 'decimal' | 'money'
    | 'percent' | 'boolean' | 'date' | 'datetime' | 'choice' | 'multiChoice' | 'lookup' | 'uuid'
    | 'autonumber';
  numeric: 'integer' | 'bigInteger' | 'decimal' | 'money' | 'percent';
  list: 'multiChoice';
  sequence: 'autonumber';
  temporal: 'date' | 'datetime';
}

/** The system fields every record has, and their field types (metadata/system-fields.ts). */
export interface SystemFieldTypes {
  id: 'uuid';
  created_at: 'datetime';
  updated_at: 'datetime';
  created_by: 'uuid';
  owner_id: 'uuid';
  version: 'integer';
}
