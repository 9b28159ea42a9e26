import { sql } from 'kysely';
import { UUID_PATTERN, literal, type FieldType } from '../field-type.ts';

/** A UUID value that is not a reference (external ids, correlation ids). */
export const uuid: FieldType = Object.freeze({
  name: 'uuid',
  description: 'UUID value (uuid).',
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
    temporal: false,
  },
  presentation: { label: 'UUID', shape: 'must be a UUID', width: { fixed: 310 } },
  baseType: 'uuid',
  columnType: () => sql`uuid`,
  valueSchema: () => ({ type: 'string', format: 'uuid', pattern: UUID_PATTERN }),
  graphql: 'ID',
  filterOperators: ['eq', 'ne', 'in', 'nin', 'isNull'],
  defaultSql: (value) => sql`${literal(value as string)}::uuid`,
  conversions: {
    text: {
      using: (column) => sql`${column}::text`,
      refuse: (_f, to) => ((to.maxLength ?? 255) < 36 ? 'text needs maxLength >= 36' : undefined),
    },
    longText: { using: (column) => sql`${column}::text` },
  },
} satisfies FieldType);
