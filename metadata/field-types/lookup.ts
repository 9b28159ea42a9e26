import { sql } from 'kysely';
import { UUID_PATTERN, type FieldType } from '../field-type.ts';

/**
 * A many-to-one reference to another entity's record (uuid with a real foreign key and the
 * declared delete behaviour). The target sees the inverse one-to-many as a navigation.
 */
export const lookup: FieldType = Object.freeze({
  name: 'lookup',
  description: 'Reference to a record of another (or the same) entity: uuid with a foreign key.',
  options: ['target', 'onDelete', 'inverseName'],
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
  presentation: { label: 'Lookup', shape: 'must be a record id (a UUID)', width: { min: 150 } },
  baseType: 'uuid',
  columnType: () => sql`uuid`,
  valueSchema: () => ({ type: 'string', format: 'uuid', pattern: UUID_PATTERN }),
  graphql: 'ID',
  filterOperators: ['eq', 'ne', 'in', 'nin', 'isNull'],
} satisfies FieldType);
