import { sql } from 'kysely';
import { literal, type FieldType } from '../field-type.ts';

/** Any JSON document (jsonb): telemetry, settings, payloads. */
export const json: FieldType = Object.freeze({
  name: 'json',
  description: 'Any JSON value (jsonb).',
  options: ['default'],
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
  presentation: { label: 'JSON', shape: 'must be JSON', width: { min: 200 } },
  baseType: 'jsonb',
  columnType: () => sql`jsonb`,
  valueSchema: () => ({}),
  graphql: 'JSON',
  filterOperators: ['isNull', 'jsonPathEq'],
  encode: (value) => JSON.stringify(value),
  defaultSql: (value) => sql`${literal(JSON.stringify(value))}::jsonb`,
} satisfies FieldType);
