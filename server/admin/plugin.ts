/**
 * The admin web UI under /admin: the Vite build of admin-ui/ (admin-ui/dist, produced by
 * `npm install` through the `prepare` script, or by `npm run build:admin`), served by
 * @fastify/static. Paths without a file extension are the app's own client-side routes and get
 * index.html (SPA fallback); a missing asset is a 404 problem. Without a build, every /admin path
 * answers a 503 problem saying how to build it. Register with `{ prefix: '/admin' }`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import { sendProblem } from '../error-handler.ts';

/**
 * Where `npm run build:admin` writes the app: admin-ui/dist in the project folder (the nearest
 * folder with a package.json), whether the server runs from server/ (tsx) or from the compiled
 * dist/server/.
 */
export const ADMIN_DIST = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return fileURLToPath(new URL('../../admin-ui/dist/', import.meta.url));
    dir = parent;
  }
  return join(dir, 'admin-ui', 'dist');
})();

export interface AdminPluginOptions {
  /** The built app (default admin-ui/dist). */
  root?: string;
}

/** Hidden from the OpenAPI document: these are not API routes. */
const hidden = { schema: { hide: true } };

export async function adminPlugin(app: FastifyInstance, options: AdminPluginOptions): Promise<void> {
  const root = options.root ?? ADMIN_DIST;

  if (!existsSync(join(root, 'index.html'))) {
    const notBuilt = async (request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(
        reply,
        new XrmError(
          'XRM_ERR_SERVICE_UNAVAILABLE',
          'The admin UI is not built: run `npm run build:admin` (npm install also builds it), then restart the server',
        ),
        request.url,
      );
    app.get('/', hidden, notBuilt);
    app.get('/*', hidden, notBuilt);
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: false,
    redirect: false,
    wildcard: true,
    schemaHide: true,
    cacheControl: false,
    setHeaders(res, path) {
      // file names under assets/ carry a content hash: cache them for good; everything else is revalidated
      const immutable = /^[/\\]?assets[/\\]/.test(path.slice(root.length));
      res.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  const sendIndex = (reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html');

  app.get('/', hidden, async (_request, reply) => sendIndex(reply));

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const last = path.slice(path.lastIndexOf('/') + 1);
    if ((request.method === 'GET' || request.method === 'HEAD') && !last.includes('.')) return sendIndex(reply);
    return sendProblem(
      reply,
      new XrmError('XRM_ERR_ROUTE_NOT_FOUND', `No route ${request.method} ${path}`),
      request.url,
    );
  });
}
