import { sql } from 'kysely';
import {
  TEXT_OPERATORS,
  lengthChecks,
  literal,
  stringSchema,
  toTextConversions,
  type FieldType,
} from '../field-type.ts';

export const DEFAULT_TEXT_MAX_LENGTH = 255;
export const MAX_TEXT_MAX_LENGTH = 10_485_760;

/** Single-line text, `varchar(maxLength)` (default 255). */
export const text: FieldType = Object.freeze({
  name: 'text',
  description: 'Single line of text (varchar, maxLength default 255).',
  options: ['unique', 'searchable', 'indexed', 'default', 'minLength', 'maxLength', 'pattern'],
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
  presentation: { label: 'Text', width: { min: 140 } },
  label: (field) => `text(${field.maxLength ?? 255})`,
  baseType: 'text',
  columnType: (field) => sql`varchar(${sql.raw(String(field.maxLength ?? DEFAULT_TEXT_MAX_LENGTH))})`,
  checks: (field, column) => lengthChecks(field, column),
  valueSchema: (field) => stringSchema(field, { maxLength: DEFAULT_TEXT_MAX_LENGTH }),
  graphql: 'String',
  filterOperators: TEXT_OPERATORS,
  defaultSql: (value) => literal(value as string),
  conversions: toTextConversions(),
} satisfies FieldType);
