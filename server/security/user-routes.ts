/**
 * User administration under /api/users: list, create, read, and change (display name, disabled,
 * password). A disabled user's sessions and keys, and sessions signed in before a password
 * change, are refused on the very next request. Guarded by the `users` privilege once roles land
 * (issue 8's next slice); until then, like every route, open to whoever reaches the port.
 */
import type { FastifyInstance } from 'fastify';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { createdResponse, jsonResponse } from '../openapi/responses.ts';
import { USER_CHANGE, USER_INPUT } from '../openapi/security-schemas.ts';
import { nameParams } from '../rest/route-schemas.ts';
import type { IdentityService, NewUser, UserChange } from './identity.ts';

const tags = ['auth'];

export async function userRoutes(app: FastifyInstance, { identity }: { identity: IdentityService }): Promise<void> {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Every user (never their password hashes)',
        operationId: 'listUsers',
        'x-xrm-operation': { responses: { '200': jsonResponse('The users', 'UserAccountList') }, errors: [] },
      },
    },
    async () => ({ data: await identity.listUsers() }),
  );

  app.post<{ Body: NewUser }>(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a user who signs in with this email and password',
        operationId: 'createUser',
        body: USER_INPUT,
        'x-xrm-operation': {
          body: 'UserInput',
          responses: { '201': createdResponse('The user', 'UserAccount') },
          errors: [...JSON_BODY, 'XRM_ERR_RECORD_DUPLICATE'],
        },
      },
    },
    async (req, reply) => {
      const user = await identity.createUser(req.body);
      req.log.info({ user: user.id }, 'user created');
      return reply
        .code(201)
        .header('location', `/api/users/${user.id}`)
        .send(await identity.account(user.id));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One user',
        operationId: 'getUser',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The user', 'UserAccount') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_USER_NOT_FOUND'],
        },
      },
    },
    async (req) => identity.account(req.params.id),
  );

  app.patch<{ Params: { id: string }; Body: UserChange }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Rename, disable or enable a user, or set their password (effective on the next request)',
        operationId: 'updateUser',
        params: nameParams('id'),
        body: USER_CHANGE,
        'x-xrm-operation': {
          body: 'UserChange',
          responses: { '200': jsonResponse('The user, as it now is', 'UserAccount') },
          errors: [...JSON_BODY, 'XRM_ERR_USER_NOT_FOUND'],
        },
      },
    },
    async (req) => {
      const user = await identity.updateUser(req.params.id, req.body);
      req.log.info({ user: user.id, changed: Object.keys(req.body) }, 'user changed');
      return user;
    },
  );
}
