/**
 * The public plugin API (what `xrm-platform/plugins` exports): a plugin registers steps on the
 * write pipeline — `validate` (before the transaction), `before` (in it, may change the input),
 * `after` (in it, after the write; writes through `ctx.data` join the same transaction).
 *
 * @example
 * export default definePlugin({
 *   name: 'phone-normalizer',
 *   version: '1.0.0',
 *   setup(api) {
 *     api.on({ message: 'create', entity: 'partner', stage: 'before', rank: 10 }, (ctx) => {
 *       if (typeof ctx.input.phone === 'string') ctx.input.phone = ctx.input.phone.replace(/[^+\d]/g, '');
 *     });
 *   },
 * });
 */
import type { FastifyBaseLogger } from 'fastify';

/** The stages a step can run in. (`async`, durable after commit, comes with the job queue.) */
export const STAGES = ['validate', 'before', 'after'] as const;
export type Stage = (typeof STAGES)[number];

/** The write messages. */
export const MESSAGES = ['create', 'update', 'delete', 'upsert', 'associate', 'disassociate'] as const;
export type MessageName = (typeof MESSAGES)[number];

/** Who acts: the system until identity lands (issue 8); every context carries one. */
export interface Principal {
  readonly kind: 'system' | 'user' | 'apiKey';
  readonly id: string;
}

export const SYSTEM_PRINCIPAL: Principal = Object.freeze({ kind: 'system', id: 'system' });

/** When a step runs: a message on an entity (`*` for all), in a stage; `fields`: only when one is in the input. */
export interface StepFilter {
  readonly message: MessageName;
  readonly entity: string;
  readonly stage: Stage;
  /** Lower runs first (default 0); ties keep registration order. */
  readonly rank?: number;
  readonly fields?: readonly string[];
}

/** Writes a step makes: through the same pipeline, in the same transaction, one level deeper. */
export interface DataApi {
  create(entity: string, input: Record<string, unknown>): Promise<Record<string, unknown>>;
  update(entity: string, id: string, input: Record<string, unknown>): Promise<Record<string, unknown>>;
  delete(entity: string, id: string): Promise<void>;
}

export interface StepContext {
  readonly principal: Principal;
  readonly message: MessageName;
  readonly entity: string;
  /** The record's id (update, delete; create and upsert once written). */
  readonly id?: string;
  /** The input as sent; `before` steps may change it. */
  readonly input: Record<string, unknown>;
  /** The record as it was (update, delete), locked for the transaction. */
  readonly preImage?: Readonly<Record<string, unknown>>;
  /** The record as written (create, update; `after` only). */
  readonly postImage?: Readonly<Record<string, unknown>>;
  /** Values steps of one operation share (across messages and depth). */
  readonly shared: Map<string, unknown>;
  /** 1 for a client's write, +1 for each write a step makes. */
  readonly depth: number;
  readonly correlationId: string;
  readonly log: FastifyBaseLogger;
  /** Writes in the same transaction (`before`/`after`); absent in `validate`. */
  readonly data?: DataApi;
  /** Refuses the operation: 422 XRM_ERR_PLUGIN_REJECTED carrying `message` and `path`. */
  reject(message: string, options?: { path?: string }): never;
}

export type StepHandler = (ctx: StepContext) => void | Promise<void>;

export interface PluginApi {
  on(filter: StepFilter, handler: StepHandler): void;
}

export interface Plugin {
  readonly name: string;
  readonly version?: string;
  setup(api: PluginApi): void | Promise<void>;
}

/** Types a plugin object (an identity function). */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}
