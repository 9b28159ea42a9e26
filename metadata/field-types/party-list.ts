import { sql } from 'kysely';
import { UUID_PATTERN, literal, type FieldType } from '../field-type.ts';
import { MAX_NAME_BYTES, NAME_PATTERN } from '../naming.ts';

/** The roles a party plays in an interaction. */
export const PARTY_ROLES = ['from', 'to', 'cc', 'attendee'] as const;
export type PartyRole = (typeof PARTY_ROLES)[number];

/** Parties one value may list (a large meeting, a mailing). */
export const MAX_PARTIES = 1000;

/**
 * The people and things an interaction involved (Dataverse's PartyList): each an address (an
 * email or a phone number) in a role, and the record it resolved to when one is known,
 * `[{ "role": "to", "address": "ada@example.com", "entity": "contact", "id": "…" }]` (jsonb).
 */
export const partyList: FieldType = Object.freeze({
  name: 'partyList',
  description: 'Parties of an interaction: [{ role, address, name?, entity?, id? }] (jsonb).',
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
  presentation: { label: 'Parties', shape: 'must be a list of { role, address }', width: { min: 240 } },
  baseType: 'jsonb',
  columnType: () => sql`jsonb`,
  checks: (_field, column) => [sql<boolean>`jsonb_typeof(${column}) = 'array'`],
  valueSchema: () => ({
    type: 'array',
    maxItems: MAX_PARTIES,
    items: {
      type: 'object',
      properties: {
        role: { type: 'string', enum: [...PARTY_ROLES] },
        address: { type: 'string', minLength: 1, maxLength: 320 },
        name: { type: 'string', maxLength: 255 },
        entity: { type: 'string', pattern: NAME_PATTERN.source, maxLength: MAX_NAME_BYTES },
        id: { type: 'string', format: 'uuid', pattern: UUID_PATTERN },
      },
      required: ['role'],
      additionalProperties: false,
      // a party is someone: an address, or a record
      anyOf: [{ required: ['address'] }, { required: ['entity', 'id'] }],
      dependentRequired: { entity: ['id'], id: ['entity'] },
    },
  }),
  graphql: 'JSON',
  filterOperators: ['isNull', 'jsonPathEq'],
  encode: (value) => JSON.stringify(value),
  defaultSql: (value) => sql`${literal(JSON.stringify(value))}::jsonb`,
} satisfies FieldType);
