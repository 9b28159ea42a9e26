/**
 * Ways into the API for a person with a browser: `/` leads to the admin UI, `/graphiql` is
 * GraphiQL on /graphql, `/docs` the API reference (Swagger UI) of /openapi.json. Every page and
 * asset is served from this server (the GraphiQL bundle from the admin UI's build, Swagger UI's
 * files from @fastify/swagger-ui's package): nothing is fetched from a CDN. None of these routes
 * is part of the OpenAPI document.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import { ADMIN_DIST } from '../admin/plugin.ts';
import { sendProblem } from '../error-handler.ts';
import { apiReference } from './api-reference.ts';

export const GRAPHIQL_PATH = '/graphiql';

export interface ExplorerPluginOptions {
  /** The admin UI build holding graphiql/index.html (default admin-ui/dist). */
  adminRoot?: string;
}

const hidden = { schema: { hide: true } };

export async function explorerPlugin(app: FastifyInstance, options: ExplorerPluginOptions = {}): Promise<void> {
  const page = join(options.adminRoot ?? ADMIN_DIST, 'graphiql', 'index.html');

  app.get('/', hidden, async (_request, reply) => reply.redirect('/admin'));

  // read on each request: a rebuild of the admin UI (new asset hashes) is served without a restart
  app.get(GRAPHIQL_PATH, hidden, async (request, reply) => {
    const html = await readFile(page, 'utf8').catch(() => undefined);
    if (html === undefined) {
      const problem = new XrmError(
        'XRM_ERR_SERVICE_UNAVAILABLE',
        'GraphiQL is not built: run `npm run build:admin` (npm install also builds it)',
      );
      return sendProblem(reply, problem, request.url);
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });

  await app.register(apiReference);
}
