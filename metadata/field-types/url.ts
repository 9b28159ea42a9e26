import { sql } from 'kysely';
import { TEXT_OPERATORS, literal, stringSchema, toTextConversions, type FieldType } from '../field-type.ts';

/** An absolute http(s) URL. */
export const url: FieldType = Object.freeze({
  name: 'url',
  description: 'Absolute http or https URL (varchar(2048)).',
  options: ['unique', 'searchable', 'indexed', 'default'],
  capabilities: {
    primary: true,
    key: true,
    fullText: true,
    sortable: true,
    indexable: true,
    ordered: true,
    groupable: true,
    numeric: false,
    list: false,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'URL', shape: 'must be an http(s) URL', width: { min: 160 } },
  baseType: 'text',
  columnType: () => sql`varchar(2048)`,
  valueSchema: (field) => stringSchema(field, { format: 'uri', pattern: '^[hH][tT][tT][pP][sS]?://', maxLength: 2048 }),
  graphql: 'String',
  filterOperators: TEXT_OPERATORS,
  defaultSql: (value) => literal(value as string),
  conversions: toTextConversions(),
} satisfies FieldType);
