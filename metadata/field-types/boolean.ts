import { sql } from 'kysely';
import { literal, type FieldType } from '../field-type.ts';

/** Yes / no. */
export const boolean: FieldType = Object.freeze({
  name: 'boolean',
  description: 'Yes or no (boolean).',
  options: ['default', 'searchable', 'indexed'],
  capabilities: {
    primary: false,
    key: false,
    fullText: false,
    sortable: true,
    indexable: true,
    ordered: false,
    groupable: true,
    numeric: false,
    list: false,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'Yes/No', shape: 'must be yes or no', width: { fixed: 90 } },
  baseType: 'boolean',
  columnType: () => sql`boolean`,
  valueSchema: () => ({ type: 'boolean' }),
  graphql: 'Boolean',
  filterOperators: ['eq', 'ne', 'isNull'],
  defaultSql: (value) => literal(value as boolean),
} satisfies FieldType);
