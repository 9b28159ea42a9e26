/** Small shared pieces of route schemas (validated by Fastify, documented by @fastify/swagger). */
import { LIMITS } from '../limits.ts';
import { MAX_BULK } from '../records/service.ts';

/**
 * A JSON object body that the service validates itself, against the body's own schema
 * (metadata/definition-schemas.ts, an entity's JSON Schema): its problems then carry the
 * service's codes and paths into the body. The route's `x-xrm-operation` names that schema for
 * the OpenAPI document.
 */
export const bodySchema = { type: 'object' } as const;

/** POST /api/data/{entity}/bulk: validated by the route, published as the `BulkRequest` component. */
export const BULK_REQUEST = {
  type: 'object',
  properties: {
    operation: { type: 'string', enum: ['create', 'update', 'upsert', 'delete'] },
    key: { type: 'string', description: 'Alternate key name (upsert)' },
    records: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BULK,
      items: { type: 'object', additionalProperties: true },
      description: 'update/delete items carry id (and optionally version)',
    },
  },
  required: ['operation', 'records'],
  additionalProperties: false,
} as const;

/** POST /api/data/{entity}/{id}/{relationship}: the record to link (its id is checked as a UUID by the service). */
export const RECORD_REFERENCE = {
  type: 'object',
  description: 'The id of the record to link',
  properties: { id: { type: 'string', description: 'A record id (UUID)' } },
  required: ['id'],
  additionalProperties: false,
} as const;

export function nameParams(...names: string[]) {
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, { type: 'string', maxLength: 200 }])),
    required: names,
  } as const;
}

/** Keyset paging of an append-only log (history, jobs, deliveries): newest first, `cursor` = the last id seen. */
export function cursorQuery(extra: Record<string, unknown> = {}) {
  return {
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50, description: 'Page size' },
      cursor: { type: 'string', pattern: '^[0-9]{1,18}$', description: "The previous page's nextCursor" },
      ...extra,
    },
    additionalProperties: false,
  } as const;
}

export function pageQuery(extra: Record<string, unknown> = {}) {
  return {
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'Page size (default 50)' },
      offset: { type: 'integer', minimum: 0, maximum: LIMITS.offset, description: 'Records to skip' },
      ...extra,
    },
  } as const;
}

export const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
        required: ['path', 'message'],
      },
    },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
} as const;
