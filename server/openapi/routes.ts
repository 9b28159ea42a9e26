/**
 * GET /openapi.json: the OpenAPI 3.1 document of the live catalog. @fastify/swagger documents
 * the fixed routes once (it caches its result, and that object is never modified here); the
 * complete document and its JSON text are derived per schema version, so a metadata change is
 * reflected on the next request and nothing is rebuilt otherwise.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { accessOf } from '../request-context.ts';
import { catalogView, hiddenKey } from '../security/catalog-view.ts';
import { buildDocument } from './document.ts';
import { jsonResponse } from './responses.ts';
import type { OpenApiDocument } from './types.ts';

export async function openapiRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  let routesDocument: OpenApiDocument | undefined;
  // called on the first request, when every route is registered
  const fixedRoutes = (): OpenApiDocument => (routesDocument ??= app.swagger() as unknown as OpenApiDocument);

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['system'],
        summary: "OpenAPI 3.1 document of the metadata API and of every entity's data API",
        operationId: 'getOpenApiDocument',
        'x-xrm-operation': {
          responses: {
            '200': jsonResponse('This OpenAPI 3.1 document, for the current schema version', { type: 'object' }),
          },
          errors: ['XRM_ERR_AUTH_REQUIRED'],
        },
      },
    },
    async (req, reply) => {
      // custom messages come from plugins registered at start: part of the key, like the catalog
      // version; so is the set of secured fields the caller's roles hide (the document is built
      // from their view of the catalog, so those fields are not in it)
      const messages = services.plugins.messages;
      const state = services.runtime.state;
      const access = accessOf(req);
      const hidden = hiddenKey(access, state.catalog);
      const key = `openapi.json:${messages.map((m) => m.name).join(',')}:${hidden}`;
      const json = state.derived(key, () =>
        JSON.stringify(buildDocument(fixedRoutes(), catalogView(state, access), messages)),
      );
      return reply.type('application/json; charset=utf-8').send(json);
    },
  );
}
