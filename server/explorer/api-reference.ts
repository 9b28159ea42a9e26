/**
 * The API reference at /docs: Swagger UI (@fastify/swagger-ui, whose package ships the UI's files)
 * rendering /openapi.json. Swagger UI asks for `/docs/json`, which @fastify/swagger-ui would
 * answer with the fixed routes only; it is redirected to /openapi.json, the one document that
 * also describes every entity of the live catalog (server/openapi/routes.ts).
 */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const API_REFERENCE_PATH = '/docs';
const DOCUMENT_PATH = '/openapi.json';

export async function apiReference(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, {
    routePrefix: API_REFERENCE_PATH,
    theme: { title: 'API reference · xrm-platform' },
    uiConfig: { deepLinking: true, docExpansion: 'list', layout: 'BaseLayout', tryItOutEnabled: false },
    uiHooks: {
      onRequest: async (request, reply) => {
        const route = request.routeOptions.url;
        if (route === `${API_REFERENCE_PATH}/json` || route === `${API_REFERENCE_PATH}/yaml`)
          return reply.redirect(DOCUMENT_PATH);
      },
    },
  });
}
