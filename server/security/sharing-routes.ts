/**
 * Sharing one record (`/api/data/{entity}/{id}/share`, `/shares`) and explaining access to it
 * (`/api/security/explain`), registered under /api.
 */
import type { FastifyInstance } from 'fastify';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { jsonResponse } from '../openapi/responses.ts';
import { SHARE_INPUT } from '../openapi/security-schemas.ts';
import { accessOf, actorOf } from '../request-context.ts';
import { nameParams } from '../rest/route-schemas.ts';
import { XrmError } from '../../metadata/errors.ts';
import type { AccessService } from './access.ts';
import type { SharePrincipal, Sharing } from './sharing.ts';

const tags = ['auth'];
const recordParams = nameParams('entity', 'id');

export async function sharingRoutes(
  app: FastifyInstance,
  { sharing, access }: { sharing: Sharing; access: AccessService },
): Promise<void> {
  app.post<{ Params: { entity: string; id: string }; Body: { principal: SharePrincipal; rights: string[] } }>(
    '/data/:entity/:id/share',
    {
      schema: {
        tags,
        summary: 'Share one record with a user or a team (rights: [] withdraws it); needs the share privilege on it',
        operationId: 'shareRecord',
        params: recordParams,
        body: SHARE_INPUT,
        'x-xrm-operation': {
          body: 'ShareInput',
          responses: { '200': jsonResponse("The record's shares", 'ShareList') },
          errors: [...JSON_BODY, 'XRM_ERR_RECORD_NOT_FOUND', 'XRM_ERR_FORBIDDEN', 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'],
        },
      },
    },
    async (req) => {
      const data = await sharing.share(accessOf(req), req.params.entity, req.params.id, req.body, actorOf(req));
      req.log.info({ entity: req.params.entity, id: req.params.id, principal: req.body.principal }, 'record shared');
      return { data };
    },
  );

  app.get<{ Params: { entity: string; id: string } }>(
    '/data/:entity/:id/shares',
    {
      schema: {
        tags,
        summary: 'Who a record is shared with, and with which rights',
        operationId: 'listShares',
        params: recordParams,
        'x-xrm-operation': {
          responses: { '200': jsonResponse("The record's shares", 'ShareList') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_RECORD_NOT_FOUND', 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'],
        },
      },
    },
    async (req) => ({ data: await sharing.shares(accessOf(req), req.params.entity, req.params.id) }),
  );

  app.get<{ Querystring: { entity: string; id: string; user?: string } }>(
    '/security/explain',
    {
      schema: {
        tags,
        summary:
          'Why you (or, with the users privilege, another user) can or cannot read, change, delete, link, assign ' +
          'and share one record',
        operationId: 'explainAccess',
        querystring: {
          type: 'object',
          properties: {
            entity: { type: 'string', minLength: 1 },
            id: { type: 'string', minLength: 1 },
            user: { type: 'string', format: 'uuid', description: "Explain another user's access (users privilege)" },
          },
          required: ['entity', 'id'],
          additionalProperties: false,
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('Per privilege: allowed or not, and why', 'AccessExplanation') },
          errors: [
            ...INVALID_REQUEST,
            'XRM_ERR_RECORD_NOT_FOUND',
            'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
            'XRM_ERR_FORBIDDEN',
            'XRM_ERR_USER_NOT_FOUND',
          ],
        },
      },
    },
    async (req) => {
      const caller = accessOf(req);
      let who = caller;
      const user = req.query.user;
      if (user !== undefined && user !== who.subject.userId) {
        // Dataverse's "check access": an administrator asks on someone's behalf
        if (!who.policy.allows('users'))
          throw new XrmError('XRM_ERR_FORBIDDEN', "Explaining another user's access needs the users privilege");
        const theirs = await access.forPrincipal({ kind: 'user', id: user }).catch(() => undefined);
        if (!theirs) throw new XrmError('XRM_ERR_USER_NOT_FOUND', `No enabled user has the id ${user}`);
        who = theirs;
      }
      return sharing.explain(who, req.query.entity, req.query.id, caller);
    },
  );
}
