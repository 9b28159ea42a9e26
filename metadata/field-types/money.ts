import { sql } from 'kysely';
import { COMPARISON_OPERATORS, literal, rangeChecks, type FieldType } from '../field-type.ts';
import { numericConversions, numericSchema } from './decimal.ts';

/** An amount of money, numeric(19, 4) — the precision Dataverse and SQL Server use for money. */
export const money: FieldType = Object.freeze({
  name: 'money',
  description: 'Amount of money, numeric(19,4).',
  options: ['searchable', 'default', 'min', 'max'],
  baseType: 'numeric',
  columnType: () => sql`numeric(19, 4)`,
  checks: (field, column) => rangeChecks(field, column),
  valueSchema: (field) => numericSchema(field),
  graphql: 'Float',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => literal(value as number),
  conversions: numericConversions(15, 4),
} satisfies FieldType);
