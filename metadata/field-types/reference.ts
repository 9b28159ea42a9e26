import { sql } from 'kysely';
import { UUID_PATTERN, literal, type FieldType } from '../field-type.ts';
import { MAX_NAME_BYTES, NAME_PATTERN } from '../naming.ts';

/**
 * A polymorphic reference: one record of any entity, `{ "entity": "deal", "id": "…" }` (Dataverse's
 * Regarding, Directus's many-to-any). Stored as jsonb, so no foreign key holds it: what may be
 * referenced is the owner's rule (an activity's `regarding` must name a record of a tracked entity).
 */
export const reference: FieldType = Object.freeze({
  name: 'reference',
  description: 'A record of any entity: { entity, id } (jsonb).',
  options: [],
  capabilities: {
    primary: false,
    key: false,
    fullText: false,
    sortable: false,
    indexable: false,
    ordered: false,
    groupable: false,
    numeric: false,
    list: false,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'Reference', shape: 'must be { entity, id }', width: { min: 200 } },
  baseType: 'jsonb',
  columnType: () => sql`jsonb`,
  checks: (_field, column) => [sql<boolean>`jsonb_typeof(${column}) = 'object'`],
  valueSchema: () => ({
    type: 'object',
    properties: {
      entity: { type: 'string', pattern: NAME_PATTERN.source, maxLength: MAX_NAME_BYTES },
      id: { type: 'string', format: 'uuid', pattern: UUID_PATTERN },
    },
    required: ['entity', 'id'],
    additionalProperties: false,
  }),
  graphql: 'JSON',
  filterOperators: ['eq', 'ne', 'in', 'nin', 'isNull', 'jsonPathEq'],
  encode: (value) => JSON.stringify(value),
  defaultSql: (value) => sql`${literal(JSON.stringify(value))}::jsonb`,
} satisfies FieldType);
