/**
 * Who a request is, resolved once before any route runs: the presented credential (bearer token,
 * API key or the admin UI's session cookie) is checked against the database — or, on PostgreSQL,
 * taken from what an earlier request found while no security notice has come since (access.ts) —
 * and becomes `request.principal` and `request.access`. A request to
 * the API or GraphQL without credentials is a 401 — while no user exists, too (the setup link
 * the server printed creates the first administrator). The platform's own APIs need their
 * privilege (API_GUARDS): the metadata API's changes `metadata`; users, teams and roles `users`;
 * plugins, jobs and webhooks `plugins`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import type { AccessService, Access } from './access.ts';
import type { IdentityService } from './identity.ts';
import type { ApiPrivilege } from './policy.ts';
import { presentedCredential } from './tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the caller may do; null before resolution and on public routes. */
    access: Access | null;
  }
}

/** Routes anyone may call: signing in (over a stale cookie too), signing out, first-run setup. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/api/auth/login', '/api/auth/logout', '/api/auth/setup']);

/** Which privilege a platform API needs; `writes`: only for requests that change something. */
export const API_GUARDS: readonly { prefix: string; privilege: ApiPrivilege; writes?: boolean }[] = [
  // the ledger records every definition, secured fields included: for whoever may change the model
  { prefix: '/api/metadata/changes', privilege: 'metadata' },
  { prefix: '/api/metadata/', privilege: 'metadata', writes: true },
  { prefix: '/api/users', privilege: 'users' },
  { prefix: '/api/teams', privilege: 'users' },
  { prefix: '/api/roles', privilege: 'users' },
  { prefix: '/api/plugins', privilege: 'plugins' },
  { prefix: '/api/jobs', privilege: 'plugins' },
  { prefix: '/api/webhooks', privilege: 'plugins' },
];

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The path a request is routed by: its route's pattern, or — no route matched — its path decoded
 * the way the router decodes it. Never the raw URL: `/%61pi/users` is routed as `/api/users`.
 */
function routedPath(request: FastifyRequest): string {
  const pattern = request.routeOptions.url;
  if (pattern) return pattern;
  const raw = request.url.split('?', 1)[0]!;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Whether a path is the API's, GraphQL's or the OpenAPI document's (credentials needed). */
function isProtected(path: string): boolean {
  return path.startsWith('/api/') || path.startsWith('/graphql') || path.startsWith('/openapi.json');
}

function guard(request: FastifyRequest, access: Access, path: string): void {
  for (const g of API_GUARDS) {
    if (!path.startsWith(g.prefix) || (g.writes && READS.has(request.method))) continue;
    if (!access.policy.allows(g.privilege))
      throw new XrmError('XRM_ERR_FORBIDDEN', `Your roles do not grant the ${g.privilege} privilege`);
  }
}

export function installPrincipalResolution(
  app: FastifyInstance,
  identity: IdentityService,
  accessService: AccessService,
): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('access', null);
  app.addHook('onRequest', async (request, reply) => {
    if (reply.sent) return;
    // the API, GraphQL and the OpenAPI document (each principal's own); the admin UI's files,
    // the API reference page and /health are served to anyone
    const path = routedPath(request);
    if (!isProtected(path)) return;
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return;
    const credential = presentedCredential(request);
    if (credential === undefined) {
      const detail = (await identity.setupRequired())
        ? 'No user exists yet: open the setup link the server printed at start (/admin/setup?token=…)'
        : 'Sign in: send Authorization: Bearer <session token or API key> (POST /api/auth/login answers a token)';
      throw new XrmError('XRM_ERR_AUTH_REQUIRED', detail);
    }
    // an invalid, expired or revoked credential is a 401, never a fall back to anything
    const access = await accessService.authenticate(credential);
    request.principal = access.principal;
    request.access = access;
    guard(request, request.access, path);
  });
}
