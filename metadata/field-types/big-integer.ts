import { sql } from 'kysely';
import { COMPARISON_OPERATORS, defined, literal, rangeChecks, type FieldType } from '../field-type.ts';
import { numericConversions } from './decimal.ts';

/**
 * 64-bit whole number (bigint). JSON carries it as a number, so the API accepts the range that
 * JavaScript represents exactly (±2^53-1).
 */
export const bigInteger: FieldType = Object.freeze({
  name: 'bigInteger',
  description: 'Whole number, 64-bit (bigint); API values within ±9007199254740991.',
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
  presentation: { label: 'Big integer', shape: 'must be a whole number', width: { fixed: 140 } },
  baseType: 'bigint',
  columnType: () => sql`bigint`,
  checks: (field, column) => rangeChecks(field, column),
  valueSchema: (field) =>
    defined({
      type: 'integer',
      minimum: Math.max(field.min ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
      maximum: Math.min(field.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    }),
  graphql: 'BigInt',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => literal(value as number),
  conversions: numericConversions(19),
} satisfies FieldType);
