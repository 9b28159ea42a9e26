/**
 * What a route documents beyond what @fastify/swagger reads from its schema: the component
 * schema of its JSON body, its success responses and the problems it can answer with. Each route
 * carries it in its own schema, next to its `operationId`:
 *
 *   schema: {
 *     summary: 'Create an entity with its fields', operationId: 'createEntity', body: bodySchema,
 *     'x-xrm-operation': {
 *       body: 'EntityInput', responses: { '201': createdResponse('The entity', 'Entity') }, errors: [...],
 *     },
 *   }
 *
 * @fastify/swagger copies `x-` keys into the operation; the document builder (document.ts) turns
 * this one into the operation's request body and responses, and drops it. A route's Fastify
 * `body` stays `{ type: 'object' }` where the service validates the body itself (the metadata
 * API): its problems name paths into the body with the service's own codes.
 */
import type { ErrorCode } from '../../metadata/errors.ts';
import type { ResponseObject } from './types.ts';

export const OPERATION_DOC = 'x-xrm-operation';

export interface OperationDoc {
  /** Component schema of the JSON request body. */
  readonly body?: string;
  /** A body sent as is, not JSON (a file): its media types. */
  readonly rawBody?: { readonly mediaTypes: readonly string[]; readonly description: string };
  /** Success responses (and any answered in a format of the route's own, e.g. GraphQL's 400). */
  readonly responses?: Readonly<Record<string, ResponseObject>>;
  /** Problems the route answers with, besides those of every route (problems.ts `ALWAYS`). */
  readonly errors: readonly ErrorCode[];
}

declare module 'fastify' {
  interface FastifySchema {
    /** The route's OpenAPI operation beyond its schema (server/openapi/operation-doc.ts). */
    'x-xrm-operation'?: OperationDoc;
  }
}

/** The documentation an operation carries, if any. */
export function operationDoc(operation: Record<string, unknown>): OperationDoc | undefined {
  return operation[OPERATION_DOC] as OperationDoc | undefined;
}

/** An id for a route that declares none: `getApiMetadataThings`. */
export function fallbackOperationId(method: string, path: string): string {
  const words = `${method} ${path}`
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}
