import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';

/** Placeholder replaced by the OpenAPI document builder. */
export async function openapiRoutes(app: FastifyInstance, _opts: { services: Services }): Promise<void> {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
