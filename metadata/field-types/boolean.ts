import { sql } from 'kysely';
import { literal, type FieldType } from '../field-type.ts';

/** Yes / no. */
export const boolean: FieldType = Object.freeze({
  name: 'boolean',
  description: 'Yes or no (boolean).',
  options: ['default', 'searchable'],
  baseType: 'boolean',
  columnType: () => sql`boolean`,
  valueSchema: () => ({ type: 'boolean' }),
  graphql: 'Boolean',
  filterOperators: ['eq', 'ne', 'isNull'],
  defaultSql: (value) => literal(value as boolean),
} satisfies FieldType);
