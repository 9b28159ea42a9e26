/**
 * The plugin host: runs each plugin's `setup`, keeps the steps it registers (checked: known
 * message and stage names) and the custom messages it defines (input and output schemas compiled
 * with Ajv), and answers which steps listen to a message on an entity. Which plugins an admin
 * turned off is part of the catalog, so every instance agrees and it survives restarts.
 */
import type { ValidateFunction } from 'ajv';
import type { FastifyBaseLogger } from 'fastify';
import { createAjv, toFieldErrors } from '../metadata/ajv.ts';
import { XrmError } from '../metadata/errors.ts';
import {
  MESSAGES,
  STAGES,
  type MessageDefinition,
  type MessageHandler,
  type MessageName,
  type Plugin,
  type Stage,
  type StepFilter,
  type StepHandler,
} from './api.ts';

export interface Step {
  readonly plugin: string;
  /** `plugin#n`: the plugin's n-th step, how a queued async run finds its handler again. */
  readonly key: string;
  readonly filter: StepFilter;
  readonly handler: StepHandler;
  /** Registration order, the tie-breaker of equal ranks. */
  readonly order: number;
}

export interface RegisteredMessage extends MessageDefinition {
  readonly plugin: string;
  readonly handler: MessageHandler;
  readonly checkInput: ValidateFunction;
  readonly checkOutput: ValidateFunction;
}

export interface RegisteredPlugin {
  readonly name: string;
  readonly version?: string;
  readonly description?: string;
  readonly enabled: boolean;
  /** Shipped with the platform (the audit trail, webhooks); cannot be turned off. */
  readonly builtIn: boolean;
  readonly steps: readonly StepFilter[];
  readonly messages: readonly string[];
}

const MESSAGE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

function invalid(plugin: string, message: string): Error {
  return new Error(`plugin "${plugin}": ${message}`);
}

export class PluginHost {
  readonly #steps: Step[] = [];
  readonly #plugins: Omit<RegisteredPlugin, 'enabled'>[] = [];
  readonly #messages = new Map<string, RegisteredMessage>();
  readonly #ajv = createAjv();
  /** The plugins turned off (read from the live catalog). */
  readonly #disabled: () => ReadonlySet<string>;
  #order = 0;

  constructor(disabled: () => ReadonlySet<string> = () => new Set()) {
    this.#disabled = disabled;
  }

  /** Sets a plugin up; one that throws (or registers a bad step) is reported and skipped, nothing of it kept. */
  async register(plugin: Plugin, log: FastifyBaseLogger, options: { builtIn?: boolean } = {}): Promise<boolean> {
    const steps: Step[] = [];
    const messages: RegisteredMessage[] = [];
    let n = 0;
    try {
      if (typeof plugin?.name !== 'string' || !plugin.name || typeof plugin.setup !== 'function')
        throw new Error('a plugin has a name and a setup function');
      if (this.#plugins.some((p) => p.name === plugin.name))
        throw invalid(plugin.name, 'a plugin of this name is already registered');
      await plugin.setup({
        on: (filter, handler) => {
          const known =
            (MESSAGES as readonly string[]).includes(filter.message) ||
            this.#messages.has(filter.message) ||
            messages.some((m) => m.name === filter.message);
          if (!known) {
            throw invalid(
              plugin.name,
              `unknown message "${filter.message}" (${MESSAGES.join(', ')}, or a custom message defined before)`,
            );
          }
          if (!STAGES.includes(filter.stage)) {
            throw invalid(plugin.name, `unknown stage "${filter.stage}" (${STAGES.join(', ')})`);
          }
          if (typeof filter.entity !== 'string' || !filter.entity)
            throw invalid(plugin.name, 'a step names an entity or "*"');
          if (typeof handler !== 'function') throw invalid(plugin.name, 'a step needs a handler function');
          steps.push({ plugin: plugin.name, key: `${plugin.name}#${n++}`, filter, handler, order: this.#order++ });
        },
        defineMessage: (definition, handler) => {
          if (!MESSAGE_NAME.test(definition?.name ?? '') || (MESSAGES as readonly string[]).includes(definition.name))
            throw invalid(plugin.name, `"${definition?.name}" is not a usable message name (lower snake_case)`);
          if (this.#messages.has(definition.name) || messages.some((m) => m.name === definition.name))
            throw invalid(plugin.name, `message "${definition.name}" is already defined`);
          if (typeof handler !== 'function') throw invalid(plugin.name, 'a message needs a handler function');
          messages.push({
            ...definition,
            plugin: plugin.name,
            handler,
            checkInput: this.#ajv.compile(definition.input),
            checkOutput: this.#ajv.compile(definition.output),
          });
        },
      });
    } catch (err) {
      log.error({ err, plugin: plugin?.name, code: 'XRM_ERR_PLUGIN_INVALID' }, 'plugin setup failed; it is skipped');
      return false;
    }
    this.#steps.push(...steps);
    this.#steps.sort((a, b) => (a.filter.rank ?? 0) - (b.filter.rank ?? 0) || a.order - b.order);
    for (const m of messages) this.#messages.set(m.name, m);
    this.#plugins.push({
      name: plugin.name,
      version: plugin.version,
      description: plugin.description,
      builtIn: options.builtIn ?? false,
      steps: steps.map((s) => s.filter),
      messages: messages.map((m) => m.name),
    });
    log.info({ plugin: plugin.name, steps: steps.length, messages: messages.length }, 'plugin registered');
    return true;
  }

  get plugins(): readonly RegisteredPlugin[] {
    const disabled = this.#disabled();
    return this.#plugins.map((p) => ({ ...p, enabled: !disabled.has(p.name) }));
  }

  plugin(name: string): RegisteredPlugin | undefined {
    return this.plugins.find((p) => p.name === name);
  }

  #active(plugin: string): boolean {
    return !this.#disabled().has(plugin);
  }

  /** Whether any step (of `stage`, or of any stage) listens to this message on this entity. */
  listens(message: MessageName, entity: string, stage?: Stage): boolean {
    if (!this.#steps.length) return false;
    const disabled = this.#disabled();
    return this.#steps.some(
      (s) =>
        !disabled.has(s.plugin) &&
        s.filter.message === message &&
        (stage === undefined || s.filter.stage === stage) &&
        (s.filter.entity === '*' || s.filter.entity === entity),
    );
  }

  /** The steps to run, in rank order; `fields` filters by the input's keys. */
  steps(message: MessageName, entity: string, stage: Stage, input: Readonly<Record<string, unknown>>): Step[] {
    if (!this.#steps.length) return [];
    const disabled = this.#disabled();
    return this.#steps.filter(
      (s) =>
        !disabled.has(s.plugin) &&
        s.filter.message === message &&
        s.filter.stage === stage &&
        (s.filter.entity === '*' || s.filter.entity === entity) &&
        (!s.filter.fields || s.filter.fields.some((f) => f in input)),
    );
  }

  /** An async step by key (a queued run), if its plugin is still registered and on. */
  step(key: string): Step | undefined {
    const step = this.#steps.find((s) => s.key === key);
    return step && this.#active(step.plugin) ? step : undefined;
  }

  /** The custom messages of plugins that are on. */
  get messages(): readonly RegisteredMessage[] {
    return [...this.#messages.values()].filter((m) => this.#active(m.plugin));
  }

  /** The custom message, or 404 XRM_ERR_MESSAGE_NOT_FOUND. */
  /** A custom message's definition whether or not its plugin is switched on (checks against another catalog). */
  definition(name: string): RegisteredMessage | undefined {
    return this.#messages.get(name);
  }

  message(name: string): RegisteredMessage {
    const found = this.#messages.get(name);
    if (!found || !this.#active(found.plugin))
      throw new XrmError('XRM_ERR_MESSAGE_NOT_FOUND', `No custom message is named "${name}"`);
    return found;
  }

  /** Checks a call's input (and target) against the message's definition; 400 naming the paths. */
  validateInput(name: string, input: unknown, target?: { entity: string; id: string }): RegisteredMessage {
    const m = this.message(name);
    if (m.entity && target?.entity !== m.entity) {
      throw new XrmError('XRM_ERR_REQUEST_INVALID', `Message "${name}" is bound to a ${m.entity} record`, {
        errors: [{ path: '/target', message: `must be { "entity": "${m.entity}", "id": … }` }],
      });
    }
    if (!m.entity && target) {
      throw new XrmError('XRM_ERR_REQUEST_INVALID', `Message "${name}" is not bound to a record`, {
        errors: [{ path: '/target', message: 'must be absent' }],
      });
    }
    if (!m.checkInput(input)) {
      const errors = toFieldErrors(m.checkInput.errors).map((e) => ({
        ...e,
        path: `/input${e.path === '/' ? '' : e.path}`,
      }));
      throw new XrmError('XRM_ERR_REQUEST_INVALID', `The input of message "${name}" is invalid`, { errors });
    }
    return m;
  }

  /** A handler's output that breaks its own schema is the plugin's bug: a 500, never sent. */
  validateOutput(name: string, output: unknown): void {
    const m = this.message(name);
    if (!m.checkOutput(output)) {
      const detail = toFieldErrors(m.checkOutput.errors)
        .map((e) => `${e.path} ${e.message}`)
        .join('; ');
      throw new Error(`plugin "${m.plugin}": the output of message "${name}" breaks its schema: ${detail}`);
    }
  }
}
