/**
 * Error responses: every operation documents the problems it can answer with, grouped by status,
 * as RFC 9457 `application/problem+json` bodies of the shared `Problem` schema. Statuses and
 * titles come from the coded table in metadata/errors.ts, so the document follows it.
 */
import { ERROR_CODES, type ErrorCode } from '../../metadata/errors.ts';
import { PROBLEM_SCHEMA } from '../rest/route-schemas.ts';
import { schemaRef, type JsonSchema, type ResponseObject } from './types.ts';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
export const PROBLEM_SCHEMA_NAME = 'Problem';

/** The `Problem` component: the route schema, with the code listed and extensions allowed. */
export function problemSchema(): JsonSchema {
  return {
    ...structuredClone(PROBLEM_SCHEMA),
    properties: {
      ...structuredClone(PROBLEM_SCHEMA.properties),
      code: { type: 'string', enum: Object.keys(ERROR_CODES), description: 'Stable error code' },
      errors: {
        ...structuredClone(PROBLEM_SCHEMA.properties.errors),
        description: 'Field errors, each with a path into the request',
      },
    },
    additionalProperties: true,
  };
}

/** Problems any operation may answer with (the document adds them to every operation). */
export const ALWAYS: readonly ErrorCode[] = ['XRM_ERR_INTERNAL', 'XRM_ERR_SERVICE_UNAVAILABLE'];

/**
 * Problems any API operation (/api/…, /graphql) may answer with: those, a missing or refused
 * credential, too many requests, and a statement past statement_timeout.
 */
export const API_ALWAYS: readonly ErrorCode[] = [
  ...ALWAYS,
  'XRM_ERR_AUTH_REQUIRED',
  'XRM_ERR_RATE_LIMITED',
  'XRM_ERR_QUERY_TIMEOUT',
];

export function alwaysFor(path: string): readonly ErrorCode[] {
  return path.startsWith('/api/') || path === '/graphql' ? API_ALWAYS : ALWAYS;
}

/** Problems of an operation whose path or query parameters are validated. */
export const INVALID_REQUEST: readonly ErrorCode[] = ['XRM_ERR_REQUEST_INVALID'];

/** Problems of an operation that reads a JSON body. */
export const JSON_BODY: readonly ErrorCode[] = [
  'XRM_ERR_REQUEST_INVALID',
  'XRM_ERR_REQUEST_MALFORMED_JSON',
  'XRM_ERR_REQUEST_TOO_LARGE',
  'XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
];

/** One response per status, naming each code that answers with it. */
export function problemResponses(...codeLists: (readonly ErrorCode[])[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, Set<ErrorCode>>();
  for (const code of codeLists.flat()) {
    const status = ERROR_CODES[code].status;
    if (!byStatus.has(status)) byStatus.set(status, new Set());
    byStatus.get(status)!.add(code);
  }
  const responses: Record<string, ResponseObject> = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const codes = [...byStatus.get(status)!].sort();
    responses[String(status)] = {
      description: codes.map((c) => `${ERROR_CODES[c].title} (${c})`).join('; '),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: schemaRef(PROBLEM_SCHEMA_NAME) } },
    };
  }
  return responses;
}
