import { sql } from 'kysely';
import { COMPARISON_OPERATORS, literal, type FieldType } from '../field-type.ts';

/** A calendar date without time or zone, ISO 8601 `YYYY-MM-DD`. */
export const date: FieldType = Object.freeze({
  name: 'date',
  description: 'Calendar date, YYYY-MM-DD (date).',
  options: ['unique', 'searchable', 'indexed', 'default'],
  capabilities: {
    primary: false,
    key: true,
    fullText: false,
    sortable: true,
    indexable: true,
    ordered: true,
    groupable: true,
    numeric: false,
    list: false,
    sequence: false,
    temporal: true,
  },
  presentation: { label: 'Date', shape: 'must be a date', width: { fixed: 140 } },
  baseType: 'date',
  columnType: () => sql`date`,
  valueSchema: () => ({ type: 'string', format: 'date' }),
  graphql: 'Date',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => sql`${literal(value as string)}::date`,
  conversions: {
    datetime: { using: (column) => sql`(${column}::timestamp AT TIME ZONE 'UTC')` },
  },
} satisfies FieldType);
