/**
 * Webhook subscriptions under /api/webhooks (Standard Webhooks): create (answers the signing
 * secret once), list, read, change, delete, rotate the secret, the delivery log, a test delivery.
 */
import type { FastifyInstance } from 'fastify';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { createdResponse, jsonResponse, noContent } from '../openapi/responses.ts';
import { actorOf } from '../request-context.ts';
import type { Services } from '../services.ts';
import type { WebhookInput } from '../webhooks/service.ts';
import { bodySchema, cursorQuery, nameParams } from './route-schemas.ts';

const tags = ['webhooks'];
const NOT_FOUND = [...INVALID_REQUEST, 'XRM_ERR_WEBHOOK_NOT_FOUND'] as const;
const DEFINITION = [
  ...JSON_BODY,
  'XRM_ERR_WEBHOOK_TARGET_FORBIDDEN',
  'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
  'XRM_ERR_QUERY_INVALID',
] as const;

export async function webhookRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { webhooks } = services;

  app.post<{ Body: WebhookInput }>(
    '/',
    {
      schema: {
        tags,
        summary: 'Subscribe a receiver to changes; answers the signing secret (whsec_…) this once',
        operationId: 'createWebhook',
        body: bodySchema,
        'x-xrm-operation': {
          body: 'WebhookInput',
          responses: { '201': createdResponse('The subscription and its secret', 'WebhookCreated') },
          errors: [...DEFINITION],
        },
      },
    },
    async (req, reply) => {
      const created = await webhooks.create(req.body, actorOf(req));
      req.log.info({ webhook: created.id, url: created.url }, 'webhook created');
      return reply.code(201).header('location', `/api/webhooks/${created.id}`).send(created);
    },
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Every webhook subscription (secrets are never listed)',
        operationId: 'listWebhooks',
        'x-xrm-operation': { responses: { '200': jsonResponse('The subscriptions', 'WebhookList') }, errors: [] },
      },
    },
    async () => ({ data: webhooks.list() }),
  );

  app.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One webhook subscription',
        operationId: 'getWebhook',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The subscription', 'Webhook') },
          errors: [...NOT_FOUND],
        },
      },
    },
    async (req) => webhooks.get(req.params.id),
  );

  app.patch<{ Params: { id: string }; Body: WebhookInput }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change a subscription (url, entity, messages, filter, description, enabled)',
        operationId: 'updateWebhook',
        params: nameParams('id'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'WebhookChange',
          responses: { '200': jsonResponse('The subscription, as it now is', 'Webhook') },
          errors: [...NOT_FOUND, ...DEFINITION],
        },
      },
    },
    async (req) => webhooks.update(req.params.id, req.body, actorOf(req)),
  );

  app.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a subscription (its delivery log is kept)',
        operationId: 'deleteWebhook',
        params: nameParams('id'),
        'x-xrm-operation': { responses: { '204': noContent('Deleted') }, errors: [...NOT_FOUND] },
      },
    },
    async (req, reply) => {
      await webhooks.delete(req.params.id, actorOf(req));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Body: { graceSeconds?: number } | undefined }>(
    '/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'A new signing secret; the old one keeps signing beside it for graceSeconds (default 24 h)',
        operationId: 'rotateWebhookSecret',
        params: nameParams('id'),
        body: {
          type: ['object', 'null'],
          properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 604800 } },
          additionalProperties: false,
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The new secret (shown this once)', 'WebhookSecret') },
          errors: [...NOT_FOUND, ...JSON_BODY],
        },
      },
    },
    async (req) => webhooks.rotateSecret(req.params.id, req.body?.graceSeconds ?? 86_400, actorOf(req)),
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'Delivery attempts, newest first: status code, attempt, duration',
        operationId: 'listWebhookDeliveries',
        params: nameParams('id'),
        querystring: cursorQuery(),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('A page of attempts', 'WebhookDeliveryPage') },
          errors: [...NOT_FOUND],
        },
      },
    },
    async (req) => webhooks.deliveries(req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );

  app.post<{ Params: { id: string } }>(
    '/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a signed webhook.test event now; answers how the receiver took it',
        operationId: 'testWebhook',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The attempt (also in the delivery log)', 'WebhookDelivery') },
          errors: [...NOT_FOUND],
        },
      },
    },
    async (req) => webhooks.test(req.params.id),
  );
}
