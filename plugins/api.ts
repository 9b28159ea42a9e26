/**
 * The public plugin API (what `xrm-platform/plugins` exports). A plugin registers steps on the
 * write pipeline — `validate` (before the transaction), `before` (in it, may change the input),
 * `after` (in it, after the write; writes through `ctx.data` join the same transaction), `async`
 * (after commit, from the durable job queue, at least once: key effects on `ctx.eventId`) — and
 * may define custom messages (Dataverse custom APIs), callable over REST, GraphQL and the SDK.
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

/** The stages a step can run in. */
export const STAGES = ['validate', 'before', 'after', 'async'] as const;
export type Stage = (typeof STAGES)[number];

/** The built-in write messages. */
export const MESSAGES = ['create', 'update', 'delete', 'upsert', 'associate', 'disassociate'] as const;
export type BuiltInMessage = (typeof MESSAGES)[number];
/** A built-in message, or the name of a custom message a plugin defined. */
export type MessageName = BuiltInMessage | (string & {});

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

export type RecordData = Record<string, unknown>;

/** What `list` takes: the REST list parameters, the filter as the query engine's JSON filter. */
export interface ListQuery {
  readonly select?: readonly string[];
  readonly filter?: unknown;
  /** `field` or `-field`, comma-separated. */
  readonly sort?: string;
  readonly search?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/**
 * Reads and writes a step makes: through the same doors as REST. In `before`/`after` steps and
 * custom messages they join the operation's transaction (writes one level deeper); in `async`
 * steps they share the job's transaction, which commits with the job's completion.
 */
export interface DataApi {
  get(entity: string, id: string): Promise<RecordData | null>;
  list(entity: string, query?: ListQuery): Promise<{ data: RecordData[]; nextCursor?: string }>;
  create(entity: string, input: RecordData): Promise<RecordData>;
  update(entity: string, id: string, input: RecordData): Promise<RecordData>;
  /** Creates or updates the record with the alternate key's values (`key`: the key's name, if several). */
  upsert(entity: string, input: RecordData, key?: string): Promise<RecordData>;
  delete(entity: string, id: string): Promise<void>;
  associate(relationship: string, fromId: string, toId: string): Promise<void>;
  disassociate(relationship: string, fromId: string, toId: string): Promise<void>;
  /** Runs a custom message; answers its output. */
  execute(message: string, input: RecordData, target?: { entity: string; id: string }): Promise<unknown>;
  /**
   * The same API acting as the system: every record and field, whatever the caller's roles. Steps
   * run as their caller; this is the explicit (and logged) way past that.
   */
  asSystem(): DataApi;
}

export interface StepContext {
  readonly principal: Principal;
  readonly message: MessageName;
  readonly entity: string;
  /** The record's id (update, delete, links, a bound custom message; create once written). */
  readonly id?: string;
  /** The input as sent (values as JSON); `before` steps may change it. */
  readonly input: Record<string, any>;
  /** The record as it was (update, delete), locked for the transaction. */
  readonly preImage?: Readonly<Record<string, unknown>>;
  /** The record as written (create, update; `after` and `async`). */
  readonly postImage?: Readonly<Record<string, unknown>>;
  /** A custom message's output (`after` steps of it). */
  readonly output?: unknown;
  /** Values steps of one operation share (across messages and depth). */
  readonly shared: Map<string, unknown>;
  /** 1 for a client's write, +1 for each write a step makes. */
  readonly depth: number;
  /** This change's stable id: the same on every retry of an `async` step; key external effects on it. */
  readonly eventId: string;
  readonly correlationId: string;
  readonly log: FastifyBaseLogger;
  /** Reads and writes (absent in `validate`). */
  readonly data?: DataApi;
  /** `async` steps: aborted when the step's time budget runs out. */
  readonly signal?: AbortSignal;
  /** Refuses the operation: 422 XRM_ERR_PLUGIN_REJECTED carrying `message` and `path`. */
  reject(message: string, options?: { path?: string }): never;
}

export type StepHandler = (ctx: StepContext) => void | Promise<void>;

/** JSON Schema (draft 2020-12) of a custom message's input or output. */
export type JsonSchema = Record<string, unknown>;

export interface MessageDefinition {
  /** lower snake_case; not a built-in message's name. */
  readonly name: string;
  readonly description?: string;
  /** Bound to an entity: called with `{ target: { entity, id } }` on one of its records. */
  readonly entity?: string;
  readonly input: JsonSchema;
  readonly output: JsonSchema;
}

/** Runs a custom message in the pipeline's transaction; `ctx.id` is the bound record's; answers the output. */
export type MessageHandler = (ctx: StepContext) => unknown | Promise<unknown>;

export interface PluginApi {
  on(filter: StepFilter, handler: StepHandler): void;
  /** A custom message: POST /api/messages/{name}, a GraphQL mutation, an SDK call; other plugins can hook it. */
  defineMessage(definition: MessageDefinition, handler: MessageHandler): void;
}

export interface Plugin {
  readonly name: string;
  readonly version?: string;
  readonly description?: string;
  setup(api: PluginApi): void | Promise<void>;
}

/** Types a plugin object (an identity function). */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}
