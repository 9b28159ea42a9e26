import { sql } from 'kysely';
import { TEXT_OPERATORS, literal, type FieldType } from '../field-type.ts';

/** Prefix + zero-padded number from a per-field sequence ("INV-000042"); read-only, unique. */
export const autonumber: FieldType = Object.freeze({
  name: 'autonumber',
  description: 'Read-only number generated on insert: prefix + zero-padded sequence (text, unique).',
  options: ['prefix', 'digits', 'searchable', 'indexed'],
  forced: { required: true, unique: true },
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
    sequence: true,
    temporal: false,
  },
  presentation: { label: 'Autonumber', width: { fixed: 130 } },
  readOnly: true,
  baseType: 'text',
  columnType: () => sql`text`,
  valueSchema: () => ({ type: 'string', readOnly: true }),
  graphql: 'String',
  filterOperators: TEXT_OPERATORS,
  generatedDefault: (field, sequence) =>
    sql`xrm.autonumber(${literal(field.prefix ?? '')}, ${literal(sequence)}::regclass, ${literal(field.digits ?? 6)})`,
} satisfies FieldType);
