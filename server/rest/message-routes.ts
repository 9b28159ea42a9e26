/**
 * Custom messages under /api/messages (Dataverse custom APIs): the list of what plugins define,
 * and `POST /api/messages/{name}` running one through the write pipeline — input and output
 * checked against the message's schemas, bound messages on `{ "target": { "entity", "id" } }`.
 */
import type { FastifyInstance } from 'fastify';
import { JSON_BODY } from '../openapi/problems.ts';
import { jsonResponse } from '../openapi/responses.ts';
import { writeContext } from '../request-context.ts';
import type { Services } from '../services.ts';
import { nameParams } from './route-schemas.ts';

const tags = ['messages'];

export async function messageRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { plugins, pipeline } = services;

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'The custom messages enabled plugins define, with their input and output schemas',
        operationId: 'listMessages',
        'x-xrm-operation': {
          responses: { '200': jsonResponse('Every custom message', 'CustomMessageList') },
          errors: [],
        },
      },
    },
    async () => ({
      data: plugins.messages.map(({ name, plugin, description, entity, input, output }) => ({
        name,
        plugin,
        ...(description ? { description } : {}),
        ...(entity ? { entity } : {}),
        input,
        output,
      })),
    }),
  );

  app.post<{ Params: { name: string }; Body: { input?: unknown; target?: { entity: string; id: string } } }>(
    '/:name',
    {
      schema: {
        tags,
        summary: 'Run a custom message in one transaction; other plugins may hook it like any message',
        operationId: 'executeMessage',
        params: nameParams('name'),
        body: {
          type: 'object',
          properties: {
            input: {},
            target: {
              type: 'object',
              properties: { entity: { type: 'string', maxLength: 63 }, id: { type: 'string', maxLength: 64 } },
              required: ['entity', 'id'],
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
        'x-xrm-operation': {
          body: 'MessageCall',
          responses: { '200': jsonResponse("The handler's output", 'MessageResult') },
          errors: [
            ...JSON_BODY,
            'XRM_ERR_MESSAGE_NOT_FOUND',
            'XRM_ERR_RECORD_NOT_FOUND',
            'XRM_ERR_PLUGIN_REJECTED',
            'XRM_ERR_PLUGIN_DEPTH_EXCEEDED',
          ],
        },
      },
    },
    async (req) => {
      const [outcome] = await pipeline.execute(writeContext(req), [
        { message: 'custom', name: req.params.name, input: req.body.input ?? {}, target: req.body.target },
      ]);
      return { output: outcome!.output ?? null };
    },
  );
}
