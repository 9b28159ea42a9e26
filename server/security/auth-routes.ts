/**
 * Sign-in under /api/auth (login, logout, who am I) and API keys under /api/api-keys (create,
 * list, revoke). Keys belong to the signed-in user who creates them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import { API_KEY_INPUT, LOGIN_INPUT, SETUP_INPUT } from '../openapi/security-schemas.ts';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { createdResponse, jsonResponse, noContent } from '../openapi/responses.ts';
import { accessOf, principalOf } from '../request-context.ts';
import type { Services } from '../services.ts';
import { API_PRIVILEGES, PRIVILEGES, type AccessLevel, type Privilege } from './policy.ts';
import { nameParams } from '../rest/route-schemas.ts';
import type { IdentityService } from './identity.ts';
import { clearSessionCookie, presentedCredential, setSessionCookie } from './tokens.ts';

const tags = ['auth'];

interface Options {
  identity: IdentityService;
  services?: Services;
}

/** The signed-in user of a request (a session, not an API key), or 401. */
function signedInUser(request: FastifyRequest): string {
  const principal = principalOf(request);
  if (principal.kind !== 'user') throw new XrmError('XRM_ERR_AUTH_REQUIRED', 'Sign in as a user to manage API keys');
  return principal.id;
}

export async function authRoutes(app: FastifyInstance, { identity, services }: Options): Promise<void> {
  app.get(
    '/setup',
    {
      schema: {
        tags,
        summary: 'Whether first-run setup is pending (no user exists yet)',
        operationId: 'getSetup',
        'x-xrm-operation': { responses: { '200': jsonResponse('Whether setup is pending', 'SetupState') }, errors: [] },
      },
    },
    async () => ({ required: await identity.setupRequired() }),
  );

  app.post<{ Body: { token: string; email: string; password: string; displayName?: string } }>(
    '/setup',
    {
      schema: {
        tags,
        summary: 'First run: create the first administrator with the token of the printed setup link, signed in',
        operationId: 'setup',
        body: SETUP_INPUT,
        'x-xrm-operation': {
          body: 'SetupInput',
          responses: { '200': jsonResponse('The session of the new administrator', 'LoginResult') },
          errors: [...JSON_BODY, 'XRM_ERR_AUTH_REQUIRED', 'XRM_ERR_SETUP_DONE'],
        },
      },
    },
    async (req, reply) => {
      const result = await identity.setup(req.body);
      req.log.warn({ user: result.user.id }, 'setup done: first administrator created');
      setSessionCookie(req, reply, result.token, identity.sessionTtlSeconds);
      return result;
    },
  );

  app.post<{ Body: { email: string; password: string } }>(
    '/login',
    {
      schema: {
        tags,
        summary: 'Sign in: answers a bearer token and sets the httpOnly xrm_session cookie for the admin UI',
        operationId: 'login',
        body: LOGIN_INPUT,
        'x-xrm-operation': {
          body: 'LoginInput',
          responses: { '200': jsonResponse('The session token, when it expires, and the user', 'LoginResult') },
          errors: [...JSON_BODY, 'XRM_ERR_AUTH_INVALID_CREDENTIALS'],
        },
      },
    },
    async (req, reply) => {
      try {
        const result = await identity.login(req.body.email, req.body.password);
        req.log.info({ user: result.user.id }, 'signed in');
        setSessionCookie(req, reply, result.token, identity.sessionTtlSeconds);
        return result;
      } catch (err) {
        if (err instanceof XrmError && err.code === 'XRM_ERR_AUTH_INVALID_CREDENTIALS') req.log.info('sign-in refused');
        throw err;
      }
    },
  );

  app.post(
    '/logout',
    {
      schema: {
        tags,
        summary: 'Sign out: revokes the session of the presented token (bearer or cookie) and clears the cookie',
        operationId: 'logout',
        'x-xrm-operation': { responses: { '204': noContent('Signed out') }, errors: [] },
      },
    },
    async (req, reply) => {
      const token = presentedCredential(req);
      if (token) await identity.logout(token);
      clearSessionCookie(req, reply);
      return reply.code(204).send();
    },
  );

  app.get(
    '/me',
    {
      schema: {
        tags,
        summary: 'Who the presented credentials are: the user (an API key: its owner) and the principal',
        operationId: 'getMe',
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The caller', 'Me') },
          errors: ['XRM_ERR_AUTH_REQUIRED'],
        },
      },
    },
    async (req) => {
      const principal = principalOf(req);
      if (principal.kind === 'system') throw new XrmError('XRM_ERR_AUTH_REQUIRED', 'No credentials were presented');
      const user = await identity.userOf(principal);
      const { policy, subject } = accessOf(req);
      const catalog = services!.runtime.state.catalog;
      const entities: Record<string, Record<Privilege, AccessLevel>> = {};
      const fields: Record<string, Record<string, { read: boolean; update: boolean }>> = {};
      for (const entity of catalog.entities.values()) {
        entities[entity.name] = Object.fromEntries(PRIVILEGES.map((p) => [p, policy.level(entity.name, p)])) as Record<
          Privilege,
          AccessLevel
        >;
        for (const field of entity.fields) {
          if (!field.secured) continue;
          // a field hidden from the caller is not named to them either (as in their schemas)
          const permission = policy.field(entity.name, field);
          if (permission.read || policy.allows('metadata')) (fields[entity.name] ??= {})[field.name] = permission;
        }
      }
      const teams = await services!.directory.teamNames(subject.teams);
      return {
        user: user ?? null,
        principal: { kind: principal.kind, id: principal.id },
        roles: policy.roles.map((r) => r.name).sort(),
        teams,
        privileges: {
          ...Object.fromEntries(API_PRIVILEGES.map((p) => [p, policy.allows(p)])),
          entities,
        },
        fields,
      };
    },
  );
}

export async function apiKeyRoutes(app: FastifyInstance, { identity }: Options): Promise<void> {
  app.post<{ Body: { name: string; expiresAt?: string; roles?: string[] } }>(
    '/',
    {
      schema: {
        tags,
        summary: 'Create an API key for the signed-in user; answers the key (xrm_…) this once',
        operationId: 'createApiKey',
        body: API_KEY_INPUT,
        'x-xrm-operation': {
          body: 'ApiKeyInput',
          responses: { '201': createdResponse('The key, shown this once', 'ApiKeyCreated') },
          errors: [...JSON_BODY, 'XRM_ERR_AUTH_REQUIRED'],
        },
      },
    },
    async (req, reply) => {
      const created = await identity.createApiKey(signedInUser(req), req.body);
      req.log.info({ apiKey: created.id }, 'API key created');
      return reply.code(201).header('location', `/api/api-keys/${created.id}`).send(created);
    },
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: "The signed-in user's API keys, newest first (never the keys themselves)",
        operationId: 'listApiKeys',
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The keys', 'ApiKeyList') },
          errors: ['XRM_ERR_AUTH_REQUIRED'],
        },
      },
    },
    async (req) => ({ data: await identity.listApiKeys(signedInUser(req)) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Revoke an API key; it stops working on the next request',
        operationId: 'revokeApiKey',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '204': noContent('Revoked') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_AUTH_REQUIRED', 'XRM_ERR_API_KEY_NOT_FOUND'],
        },
      },
    },
    async (req, reply) => {
      await identity.revokeApiKey(signedInUser(req), req.params.id);
      req.log.info({ apiKey: req.params.id }, 'API key revoked');
      return reply.code(204).send();
    },
  );
}
