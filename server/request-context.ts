/**
 * Who is acting on a request, in one place: the write context handed to the pipeline and the
 * actor written to the metadata ledger both come from here. server/security/principal-hook.ts
 * resolves the presented credentials into `request.principal` and `request.access` before any
 * route runs (a request without credentials never reaches a route that needs them).
 */
import type { FastifyRequest } from 'fastify';
import { type Principal, SYSTEM_PRINCIPAL } from '../plugins/api.ts';
import type { WriteContext } from './records/pipeline.ts';
import type { Access } from './security/access.ts';
import { XrmError } from '../metadata/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who presented valid credentials; null: none presented (server/security/principal-hook.ts). */
    principal: Principal | null;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  return request.principal ?? SYSTEM_PRINCIPAL;
}

/**
 * What the caller may do. Fails closed: a route reached without resolved access (a public route
 * asking, or a request the principal hook did not see as the API's) is refused, never the system.
 */
export function accessOf(request: FastifyRequest): Access {
  if (!request.access) throw new XrmError('XRM_ERR_AUTH_REQUIRED', 'Sign in: this needs credentials');
  return request.access;
}

/** The write context of a request: who, what they may do, its correlation id (the request id) and its log. */
export function writeContext(request: FastifyRequest): WriteContext {
  return { principal: principalOf(request), access: accessOf(request), correlationId: request.id, log: request.log };
}

/** How the ledger and the audit trail name whoever made a change (`system`, `user:<id>`, `apiKey:<id>`). */
export function actorName(principal: Principal): string {
  return principal.kind === 'system' ? 'system' : `${principal.kind}:${principal.id}`;
}

export function actorOf(request: FastifyRequest): string {
  return actorName(principalOf(request));
}
