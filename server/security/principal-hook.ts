/**
 * Resolves who a request is once, before any route runs, and decorates the request with it
 * (`request.principal`, read by request-context.ts principalOf). The credential is checked
 * against the database on every request, never cached.
 */
import type { FastifyInstance } from 'fastify';
import type { IdentityService } from './identity.ts';
import { presentedCredential } from './tokens.ts';

/** Routes that answer whatever credential comes along: signing in over a stale cookie, signing out. */
const LENIENT = new Set(['/api/auth/login', '/api/auth/logout']);

export function installPrincipalResolution(app: FastifyInstance, identity: IdentityService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    if (reply.sent) return;
    // the API and GraphQL; the admin UI's files and /health are served to anyone
    const url = request.url;
    if (!url.startsWith('/api/') && !url.startsWith('/graphql')) return;
    const credential = presentedCredential(request);
    // No credentials: the system principal for now. Enforcement (the next slice of issue 8)
    // answers 401 XRM_ERR_AUTH_REQUIRED here instead.
    if (credential === undefined) return;
    if (LENIENT.has(request.routeOptions.url ?? '')) return;
    // an invalid, expired or revoked credential is a 401, never a fall back to the system principal
    request.principal = await identity.resolve(credential);
  });
}
