/**
 * Plugins from outside the code: every module (.js, .mjs) in `XRM_PLUGINS_DIR` and every npm
 * package named in `XRM_PLUGINS`, each exporting a plugin object as its default export
 * (`definePlugin`). One that cannot be loaded is reported and skipped: the server starts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import type { Plugin } from '../plugins/api.ts';
import type { Config } from './config.ts';

function isPlugin(value: unknown): value is Plugin {
  const plugin = value as Partial<Plugin> | null;
  return (
    typeof plugin === 'object' &&
    plugin !== null &&
    typeof plugin.name === 'string' &&
    typeof plugin.setup === 'function'
  );
}

function modulesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.(m?js)$/.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return []; // no folder: no plugins from it
  }
}

export async function loadPlugins(
  config: Pick<Config, 'pluginsDir' | 'pluginPackages'>,
  log: FastifyBaseLogger,
): Promise<Plugin[]> {
  const sources = [...modulesIn(config.pluginsDir).map((f) => pathToFileURL(f).href), ...config.pluginPackages];
  const plugins: Plugin[] = [];
  for (const source of sources) {
    try {
      const module = (await import(source)) as { default?: unknown };
      if (!isPlugin(module.default)) throw new Error('its default export is not a plugin ({ name, setup })');
      plugins.push(module.default);
    } catch (err) {
      log.error({ err, source }, 'plugin could not be loaded; it is skipped');
    }
  }
  return plugins;
}
