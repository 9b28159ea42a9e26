/**
 * The plugin host: runs each plugin's `setup`, keeps the steps it registers (checked: known
 * message and stage names), and answers which steps listen to a message on an entity.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  MESSAGES,
  STAGES,
  type MessageName,
  type Plugin,
  type Stage,
  type StepFilter,
  type StepHandler,
} from './api.ts';

export interface Step {
  readonly plugin: string;
  readonly filter: StepFilter;
  readonly handler: StepHandler;
  /** Registration order, the tie-breaker of equal ranks. */
  readonly order: number;
}

export interface RegisteredPlugin {
  readonly name: string;
  readonly version?: string;
  readonly enabled: boolean;
  readonly steps: readonly StepFilter[];
}

function invalidStep(plugin: string, message: string): Error {
  return new Error(`plugin "${plugin}": ${message}`);
}

export class PluginHost {
  readonly #steps: Step[] = [];
  readonly #plugins: RegisteredPlugin[] = [];
  readonly #disabled = new Set<string>();
  #order = 0;

  /** Sets a plugin up; one that throws (or registers a bad step) is reported and skipped, nothing of it kept. */
  async register(plugin: Plugin, log: FastifyBaseLogger): Promise<boolean> {
    const steps: Step[] = [];
    try {
      await plugin.setup({
        on: (filter, handler) => {
          if (!MESSAGES.includes(filter.message)) {
            throw invalidStep(plugin.name, `unknown message "${filter.message}" (${MESSAGES.join(', ')})`);
          }
          if (!STAGES.includes(filter.stage)) {
            throw invalidStep(plugin.name, `unknown stage "${filter.stage}" (${STAGES.join(', ')})`);
          }
          if (typeof filter.entity !== 'string' || !filter.entity)
            throw invalidStep(plugin.name, 'a step names an entity or "*"');
          if (typeof handler !== 'function') throw invalidStep(plugin.name, 'a step needs a handler function');
          steps.push({ plugin: plugin.name, filter, handler, order: this.#order++ });
        },
      });
    } catch (err) {
      log.error({ err, plugin: plugin.name }, 'plugin setup failed; the plugin is skipped');
      return false;
    }
    this.#steps.push(...steps);
    this.#steps.sort((a, b) => (a.filter.rank ?? 0) - (b.filter.rank ?? 0) || a.order - b.order);
    this.#plugins.push({
      name: plugin.name,
      version: plugin.version,
      enabled: true,
      steps: steps.map((s) => s.filter),
    });
    log.info({ plugin: plugin.name, steps: steps.length }, 'plugin registered');
    return true;
  }

  get plugins(): readonly RegisteredPlugin[] {
    return this.#plugins.map((p) => ({ ...p, enabled: !this.#disabled.has(p.name) }));
  }

  /** Turns a plugin's steps off or on (at once, for every write after); false when there is no such plugin. */
  setEnabled(name: string, enabled: boolean): boolean {
    if (!this.#plugins.some((p) => p.name === name)) return false;
    if (enabled) this.#disabled.delete(name);
    else this.#disabled.add(name);
    return true;
  }

  #active(step: Step): boolean {
    return !this.#disabled.has(step.plugin);
  }

  /** Whether any step, of any stage, listens to this message on this entity. */
  listens(message: MessageName, entity: string): boolean {
    return this.#steps.some(
      (s) => this.#active(s) && s.filter.message === message && (s.filter.entity === '*' || s.filter.entity === entity),
    );
  }

  /** The steps to run, in rank order; `fields` filters by the input's keys. */
  steps(message: MessageName, entity: string, stage: Stage, input: Readonly<Record<string, unknown>>): Step[] {
    return this.#steps.filter(
      (s) =>
        this.#active(s) &&
        s.filter.message === message &&
        s.filter.stage === stage &&
        (s.filter.entity === '*' || s.filter.entity === entity) &&
        (!s.filter.fields || s.filter.fields.some((f) => f in input)),
    );
  }
}
