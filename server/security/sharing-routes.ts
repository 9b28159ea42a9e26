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
import type { SharePrincipal, Sharing } from './sharing.ts';

const tags = ['auth'];
const recordParams = nameParams('entity', 'id');

export async function sharingRoutes(app: FastifyInstance, { sharing }: { sharing: Sharing }): Promise<void> {
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

  app.get<{ Querystring: { entity: string; id: string } }>(
    '/security/explain',
    {
      schema: {
        tags,
        summary: 'Why you can or cannot read, change, delete, link, assign and share one record',
        operationId: 'explainAccess',
        querystring: {
          type: 'object',
          properties: { entity: { type: 'string', minLength: 1 }, id: { type: 'string', minLength: 1 } },
          required: ['entity', 'id'],
          additionalProperties: false,
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('Per privilege: allowed or not, and why', 'AccessExplanation') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_RECORD_NOT_FOUND', 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'],
        },
      },
    },
    async (req) => sharing.explain(accessOf(req), req.query.entity, req.query.id),
  );
}
