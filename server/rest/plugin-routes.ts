/**
 * The plugins under /api/plugins: which are registered, the steps each put on the write pipeline,
 * and switching one off or on (at once, for every write after).
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { ChangeWarning } from '../../metadata/service.ts';
import { actorOf } from '../request-context.ts';
import { XrmError } from '../../metadata/errors.ts';
import { INVALID_REQUEST } from '../openapi/problems.ts';
import { jsonResponse } from '../openapi/responses.ts';
import type { Services } from '../services.ts';
import { nameParams } from './route-schemas.ts';

const tags = ['plugins'];

export async function pluginRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { plugins, metadata } = services;

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
            errors: [...INVALID_REQUEST, 'XRM_ERR_PLUGIN_NOT_FOUND', 'XRM_ERR_PLUGIN_BUILT_IN'],
          },
        },
      },
      async (req) => {
        const name = req.params.name;
        const plugin = plugins.plugin(name);
        if (!plugin) throw new XrmError('XRM_ERR_PLUGIN_NOT_FOUND', `No plugin "${name}" is registered`);
        if (plugin.builtIn)
          throw new XrmError('XRM_ERR_PLUGIN_BUILT_IN', `Plugin "${name}" is built in and cannot be turned off`);
        const enabled = action === 'enable';
        const warnings: ChangeWarning[] = [];
        if (plugin.enabled !== enabled) {
          // kept in the catalog: every instance follows, and it survives restarts
          await metadata.configure({ actor: actorOf(req), warnings }, async () => ({
            operation: `plugin.${action}`,
            target: `plugin:${name}`,
            before: { enabled: plugin.enabled },
            after: { enabled },
            result: undefined,
            write: async (trx) => {
              await sql`INSERT INTO xrm.plugin_state (name, enabled) VALUES (${name}, ${enabled})
                ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, updated_at = now()`.execute(trx);
            },
          }));
          req.log.info({ plugin: name }, `plugin ${action}d`);
        }
        // turning a plugin off makes the automation rules that use its messages invalid: said here
        return warnings.length ? { ...plugins.plugin(name), warnings } : plugins.plugin(name);
      },
    );
  }
}
