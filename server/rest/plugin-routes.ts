/**
 * The plugins under /api/plugins: which are registered, the steps each put on the write pipeline,
 * and switching one off or on (at once, for every write after).
 */
import type { FastifyInstance } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import { INVALID_REQUEST } from '../openapi/problems.ts';
import { jsonResponse } from '../openapi/responses.ts';
import type { Services } from '../services.ts';
import { nameParams } from './route-schemas.ts';

const tags = ['plugins'];

export async function pluginRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { plugins } = services;

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Registered plugins and the steps each runs on the write pipeline',
        operationId: 'listPlugins',
        'x-xrm-operation': { responses: { '200': jsonResponse('Every registered plugin', 'PluginList') }, errors: [] },
      },
    },
    async () => ({ data: plugins.plugins }),
  );

  for (const action of ['enable', 'disable'] as const) {
    app.post<{ Params: { name: string } }>(
      `/:name/${action}`,
      {
        schema: {
          tags,
          summary:
            action === 'enable' ? 'Turn a plugin back on' : "Turn a plugin's steps off (writes run without them)",
          operationId: `${action}Plugin`,
          params: nameParams('name'),
          'x-xrm-operation': {
            responses: { '200': jsonResponse('The plugin, as it now is', 'Plugin') },
            errors: [...INVALID_REQUEST, 'XRM_ERR_PLUGIN_NOT_FOUND'],
          },
        },
      },
      async (req) => {
        if (!plugins.setEnabled(req.params.name, action === 'enable')) {
          throw new XrmError('XRM_ERR_PLUGIN_NOT_FOUND', `No plugin "${req.params.name}" is registered`);
        }
        req.log.info({ plugin: req.params.name }, `plugin ${action}d`);
        return plugins.plugins.find((p) => p.name === req.params.name);
      },
    );
  }
}
