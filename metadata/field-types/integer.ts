import { sql } from 'kysely';
import { COMPARISON_OPERATORS, defined, literal, rangeChecks, type FieldType } from '../field-type.ts';
import { numericConversions } from './decimal.ts';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** 32-bit whole number. */
export const integer: FieldType = Object.freeze({
  name: 'integer',
  description: 'Whole number, 32-bit (integer).',
  options: ['unique', 'searchable', 'indexed', 'default', 'min', 'max'],
  capabilities: {
    primary: false,
    key: true,
    fullText: false,
    sortable: true,
    indexable: true,
    ordered: true,
    groupable: true,
    numeric: true,
    list: false,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'Integer', shape: 'must be a whole number', width: { fixed: 110 } },
  baseType: 'integer',
  columnType: () => sql`integer`,
  checks: (field, column) => rangeChecks(field, column),
  valueSchema: (field) =>
    defined({
      type: 'integer',
      minimum: Math.max(field.min ?? INT32_MIN, INT32_MIN),
      maximum: Math.min(field.max ?? INT32_MAX, INT32_MAX),
    }),
  graphql: 'Int',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => literal(value as number),
  conversions: {
    bigInteger: {},
    ...numericConversions(10),
  },
} satisfies FieldType);
