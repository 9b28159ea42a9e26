import { sql } from 'kysely';
import { TEXT_OPERATORS, literal, stringSchema, toTextConversions, type FieldType } from '../field-type.ts';

/** An e-mail address (RFC 5321 limits it to 320 characters). */
export const email: FieldType = Object.freeze({
  name: 'email',
  description: 'E-mail address (varchar(320), format email).',
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
  presentation: { label: 'Email', shape: 'must be an email address', width: { min: 160 } },
  baseType: 'text',
  columnType: () => sql`varchar(320)`,
  valueSchema: (field) => stringSchema(field, { format: 'email', maxLength: 320 }),
  graphql: 'String',
  filterOperators: TEXT_OPERATORS,
  defaultSql: (value) => literal(value as string),
  conversions: toTextConversions(),
} satisfies FieldType);
