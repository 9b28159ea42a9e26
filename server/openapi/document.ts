/**
 * The OpenAPI 3.1 document of one catalog version: what @fastify/swagger generated for the
 * fixed routes, completed from what each route documents (operation-doc.ts: request body,
 * success and problem responses), with the generic data routes replaced by concrete per-entity
 * paths and schemas.
 */
import type { Catalog } from '../../metadata/catalog.ts';
import { dataPaths, dataTemplates, isGenericDataPath } from './data-paths.ts';
import { entityComponents, entitySchemaNames } from './entity-schemas.ts';
import { metadataComponents } from './metadata-schemas.ts';
import { jsonResponse } from './responses.ts';
import { pipelineComponents } from './pipeline-schemas.ts';
import { securityComponents } from './security-schemas.ts';
import { automationComponents } from './automation-schemas.ts';
import { relationshipComponents } from './relationship-schemas.ts';
import { fallbackOperationId, OPERATION_DOC, operationDoc, type OperationDoc } from './operation-doc.ts';
import { alwaysFor, INVALID_REQUEST, PROBLEM_SCHEMA_NAME, problemResponses, problemSchema } from './problems.ts';
import {
  HTTP_METHODS,
  schemaRef,
  type JsonSchema,
  type OpenApiDocument,
  type OperationObject,
  type PathItemObject,
} from './types.ts';

/** Schema objects are the OpenAPI 3.1 dialect of JSON Schema 2020-12 (which allows `x-` keywords). */
export const OAS_DIALECT = 'https://spec.openapis.org/oas/3.1/dialect/base';

/**
 * What a route that documents nothing still gets: an id, a placeholder success and the problems
 * any input may cause.
 */
function undocumented(op: OperationObject): OperationDoc {
  return {
    responses: { '200': { description: 'Success' } },
    errors: op.parameters?.length || op.requestBody ? INVALID_REQUEST : [],
  };
}

function completeStatic(path: string, item: PathItemObject): PathItemObject {
  const result: PathItemObject = { ...item };
  for (const method of HTTP_METHODS) {
    const op = item[method];
    if (!op) continue;
    const doc = operationDoc(op) ?? undocumented(op);
    // operationId first, then what @fastify/swagger generated, less the documentation it carried
    const { [OPERATION_DOC]: _doc, ...generated } = op;
    const next: OperationObject = { operationId: op.operationId ?? fallbackOperationId(method, path), ...generated };
    if (doc.body)
      next.requestBody = { required: true, content: { 'application/json': { schema: schemaRef(doc.body) } } };
    if (doc.rawBody) {
      const schema = { type: 'string', format: 'binary' };
      next.requestBody = {
        required: true,
        description: doc.rawBody.description,
        content: Object.fromEntries(doc.rawBody.mediaTypes.map((m) => [m, { schema }])),
      };
    }
    // a documented response wins over a problem of the same status (health's 503, GraphQL's 400)
    const responses = { ...problemResponses(doc.errors, alwaysFor(path)), ...doc.responses };
    next.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    result[method] = next;
  }
  return result;
}

/** Makes operation ids unique: the first keeps its id, later ones get a numeric suffix. */
function uniqueOperationIds(paths: Record<string, PathItemObject>): void {
  const seen = new Set<string>();
  for (const item of Object.values(paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op?.operationId) continue;
      let id = op.operationId;
      for (let n = 2; seen.has(id); n++) id = `${op.operationId}${n}`;
      op.operationId = id;
      seen.add(id);
    }
  }
}

/**
 * Builds the document from the fixed routes' document (not modified) and a catalog. Static
 * operations keep their place; the concrete data paths take the place of the generic ones.
 */
/** A custom message as the document shows it (plugins/host.ts RegisteredMessage, trimmed). */
export interface DocumentedMessage {
  readonly name: string;
  readonly plugin: string;
  readonly description?: string;
  readonly entity?: string;
  readonly input: JsonSchema;
  readonly output: JsonSchema;
}

/** One concrete operation per custom message, with its own input and output schemas. */
function messagePaths(generic: PathItemObject, messages: readonly DocumentedMessage[]): Record<string, PathItemObject> {
  const paths: Record<string, PathItemObject> = {};
  for (const m of messages) {
    const target = {
      type: 'object',
      properties: { entity: { const: m.entity }, id: { type: 'string', format: 'uuid' } },
      required: ['entity', 'id'],
      additionalProperties: false,
    };
    const body = {
      type: 'object',
      properties: { input: m.input, ...(m.entity ? { target } : {}) },
      required: m.entity ? ['input', 'target'] : ['input'],
      additionalProperties: false,
    };
    const { parameters: _p, requestBody: _b, responses, ...rest } = generic.post!;
    paths[`/api/messages/${m.name}`] = {
      post: {
        ...rest,
        operationId: `execute${m.name.replace(/(^|_)([a-z0-9])/g, (_s, _u, c: string) => c.toUpperCase())}`,
        summary: m.description ?? `Run the custom message ${m.name} (plugin ${m.plugin})`,
        description: `Defined by plugin \`${m.plugin}\`${m.entity ? `; runs on one ${m.entity} record (target)` : ''}.`,
        requestBody: { required: true, content: { 'application/json': { schema: body } } },
        responses: {
          ...responses,
          '200': jsonResponse('The output', {
            type: 'object',
            properties: { output: m.output },
            required: ['output'],
          }),
        },
      },
    };
  }
  return paths;
}

/** How a request presents its credentials (server/security/tokens.ts). */
const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'A session token (POST /api/auth/login) or an API key (POST /api/api-keys)',
  },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'xrm_session',
    description: "The admin UI's httpOnly, SameSite=Strict session cookie, set by sign-in",
  },
};

/** Operations anyone may call: health, signing in and out, first-run setup. */
function isPublicPath(path: string): boolean {
  return path === '/health' || path === '/api/auth/login' || path === '/api/auth/logout' || path === '/api/auth/setup';
}

export function buildDocument(
  base: OpenApiDocument,
  catalog: Catalog,
  messages: readonly DocumentedMessage[] = [],
): OpenApiDocument {
  const doc = structuredClone(base);
  const templates = dataTemplates(doc.paths);
  const platform: Record<string, JsonSchema> = {
    [PROBLEM_SCHEMA_NAME]: problemSchema(),
    ...metadataComponents(),
    ...pipelineComponents(),
    ...securityComponents(),
    ...automationComponents(),
    ...relationshipComponents(),
    ...doc.components.schemas,
  };
  const names = entitySchemaNames(catalog, Object.keys(platform));

  const paths: Record<string, PathItemObject> = {};
  let dataInserted = false;
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!isGenericDataPath(path)) {
      paths[path] = completeStatic(path, item);
      if (path === '/api/messages/{name}') Object.assign(paths, messagePaths(paths[path]!, messages));
    } else if (!dataInserted) {
      Object.assign(paths, dataPaths(catalog, names, templates));
      dataInserted = true;
    }
  }
  uniqueOperationIds(paths);
  // every operation needs credentials but the few anyone may call
  for (const [path, item] of Object.entries(paths)) {
    if (!isPublicPath(path)) continue;
    for (const operation of Object.values(item) as { security?: unknown }[]) operation.security = [];
  }

  return {
    ...doc,
    info: { ...doc.info, 'x-xrm-schema-version': catalog.version },
    jsonSchemaDialect: OAS_DIALECT,
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      ...doc.components,
      securitySchemes: SECURITY_SCHEMES,
      schemas: { ...platform, ...entityComponents(catalog, names) },
    },
  };
}
