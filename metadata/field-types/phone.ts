import { sql } from 'kysely';
import { TEXT_OPERATORS, literal, stringSchema, toTextConversions, type FieldType } from '../field-type.ts';

/** Digits, spaces, dashes, dots and parentheses with an optional leading +; "x" for an extension. */
export const PHONE_PATTERN = '^\\+?[0-9][0-9 ().-]{1,38}( ?(x|ext\\.?) ?[0-9]{1,8})?$';

/** A phone number as people write it. */
export const phone: FieldType = Object.freeze({
  name: 'phone',
  description: 'Phone number (varchar(50), digits with an optional +, spaces, dashes, dots, parentheses).',
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
  presentation: { label: 'Phone', shape: 'must be a phone number', width: { fixed: 150 } },
  baseType: 'text',
  columnType: () => sql`varchar(50)`,
  valueSchema: (field) => stringSchema(field, { pattern: PHONE_PATTERN, maxLength: 50 }),
  graphql: 'String',
  filterOperators: TEXT_OPERATORS,
  defaultSql: (value) => literal(value as string),
  conversions: toTextConversions(),
} satisfies FieldType);
