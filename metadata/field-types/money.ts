import { sql } from 'kysely';
import { COMPARISON_OPERATORS, literal, rangeChecks, type FieldType } from '../field-type.ts';
import { numericConversions, numericSchema } from './decimal.ts';

/** An amount of money, numeric(19, 4) — the precision Dataverse and SQL Server use for money. */
export const money: FieldType = Object.freeze({
  name: 'money',
  description: 'Amount of money, numeric(19,4).',
  options: ['searchable', 'indexed', 'default', 'min', 'max'],
  capabilities: {
    primary: false,
    key: false,
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
  presentation: { label: 'Money', shape: 'must be an amount', width: { fixed: 130 } },
  baseType: 'numeric',
  // 1250000.5, as a write answers it, not numeric(19,4)'s 1250000.5000
  output: (column) => sql`trim_scale(${column})`,
  columnType: () => sql`numeric(19, 4)`,
  checks: (field, column) => rangeChecks(field, column),
  valueSchema: (field) => numericSchema(field),
  graphql: 'Float',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => literal(value as number),
  conversions: numericConversions(15, 4),
} satisfies FieldType);
