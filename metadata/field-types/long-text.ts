import { sql } from 'kysely';
import {
  TEXT_OPERATORS,
  lengthChecks,
  literal,
  stringSchema,
  toTextConversions,
  type FieldType,
} from '../field-type.ts';

/** Multi-line text of any length (`text`); maxLength, when set, is enforced by a CHECK. */
export const longText: FieldType = Object.freeze({
  name: 'longText',
  description: 'Multi-line text of any length (text).',
  options: ['searchable', 'default', 'minLength', 'maxLength', 'pattern'],
  capabilities: {
    primary: false,
    key: false,
    fullText: true,
    sortable: true,
    indexable: false,
    ordered: true,
    groupable: true,
    numeric: false,
    list: false,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'Long text', width: { min: 200 } },
  baseType: 'text',
  columnType: () => sql`text`,
  checks: (field, column) => [
    ...lengthChecks(field, column),
    ...(field.maxLength !== undefined ? [sql<boolean>`char_length(${column}) <= ${literal(field.maxLength)}`] : []),
  ],
  valueSchema: (field) => stringSchema(field),
  graphql: 'String',
  filterOperators: TEXT_OPERATORS,
  defaultSql: (value) => literal(value as string),
  conversions: toTextConversions(),
} satisfies FieldType);
