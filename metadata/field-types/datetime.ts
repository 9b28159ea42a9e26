import { sql } from 'kysely';
import { COMPARISON_OPERATORS, literal, type FieldType } from '../field-type.ts';

/** An instant, RFC 3339 with a zone offset; stored as timestamptz and returned in UTC. */
export const datetime: FieldType = Object.freeze({
  name: 'datetime',
  description: 'Date and time with zone (timestamptz), RFC 3339; returned in UTC.',
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
  presentation: { label: 'Date and time', shape: 'must be a date and time', width: { fixed: 190 } },
  baseType: 'timestamptz',
  columnType: () => sql`timestamptz`,
  valueSchema: () => ({ type: 'string', format: 'date-time' }),
  graphql: 'DateTime',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => sql`${literal(value as string)}::timestamptz`,
} satisfies FieldType);
