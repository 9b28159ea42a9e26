/**
 * The write pipeline: ONE door, `execute(ctx, messages)`, for every write — REST, GraphQL, bulk and
 * the writes plugins make. Each message passes the stages of the steps that listen to it:
 * `validate` (before the transaction), then in one transaction `before` (may change the input),
 * the write (update and delete lock and see the pre-image; create and update return the
 * post-image), `after` (writes through `ctx.data` join the transaction). Anything that throws
 * rolls everything back. With no step listening, the write goes straight to the records service
 * (its set-based and single-statement fast paths).
 */
import { type RawBuilder, sql } from 'kysely';
import { XrmError } from '../../metadata/errors.ts';
import type { Db } from '../../metadata/database.ts';
import { column, table } from '../../metadata/physical-names.ts';
import type { DataApi, MessageName, Principal, Stage, StepContext } from '../../plugins/api.ts';
import type { PluginHost } from '../../plugins/host.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { Runtime } from '../runtime.ts';
import type { BulkRequest, RecordJson, RecordsService } from './service.ts';
import { assertUuid } from '../record-id.ts';

/** A write chain deeper than this (steps writing, whose steps write…) stops, nothing written. */
export const MAX_DEPTH = 8;

export interface WriteContext {
  readonly principal: Principal;
  readonly correlationId: string;
  readonly log: FastifyBaseLogger;
  /** 1 for a client's write (the default). */
  readonly depth?: number;
  readonly shared?: Map<string, unknown>;
  /** The caller's transaction (a GraphQL mutation operation, a step's writes); else execute opens one. */
  readonly db?: Db;
}

export type WriteMessage =
  | { readonly message: 'create'; readonly entity: string; readonly input: unknown }
  | {
      readonly message: 'update';
      readonly entity: string;
      readonly id: string;
      readonly input: unknown;
      readonly expectedVersion?: number;
    }
  | { readonly message: 'delete'; readonly entity: string; readonly id: string; readonly expectedVersion?: number }
  | { readonly message: 'upsert'; readonly entity: string; readonly key?: string; readonly input: unknown }
  | {
      readonly message: 'associate' | 'disassociate';
      readonly relationship: string;
      readonly fromId: string;
      readonly toId: string;
    };

export interface WriteOutcome {
  /** The record as written (create, update, upsert). */
  readonly record?: RecordJson;
  /** Upsert: whether it created. */
  readonly created?: boolean;
}

type Row = Record<string, unknown>;

const isObject = (value: unknown): value is Row => typeof value === 'object' && value !== null && !Array.isArray(value);

export class WritePipeline {
  readonly #db: Db;
  readonly #records: RecordsService;
  readonly #host: PluginHost;
  readonly #runtime: Runtime;
  readonly #timeoutMs: number;

  constructor(db: Db, records: RecordsService, host: PluginHost, runtime: Runtime, timeoutMs: number) {
    this.#db = db;
    this.#records = records;
    this.#host = host;
    this.#runtime = runtime;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs the messages all-or-nothing and answers one outcome per message. */
  async execute(ctx: WriteContext, messages: readonly WriteMessage[]): Promise<WriteOutcome[]> {
    if (!messages.some((m) => this.#listened(m))) return this.#direct(ctx, messages);
    const depth = ctx.depth ?? 1;
    if (depth > MAX_DEPTH) {
      throw new XrmError(
        'XRM_ERR_PLUGIN_DEPTH_EXCEEDED',
        `Writes made by plugin steps nest deeper than ${MAX_DEPTH} levels`,
      );
    }
    const shared = ctx.shared ?? new Map<string, unknown>();
    const full = { ...ctx, depth, shared };
    for (const message of messages) {
      const target = this.#target(message);
      await this.#stage(full, 'validate', target.message, target.entity, { input: target.input, id: target.id });
    }
    const run = async (trx: Db) => {
      const outcomes: WriteOutcome[] = [];
      for (const message of messages) outcomes.push(await this.#one({ ...full, db: trx }, message));
      return outcomes;
    };
    return ctx.db ? run(ctx.db) : this.#db.transaction().execute(run);
  }

  /** Up to 1,000 writes of one entity; set-based when no step listens, item by item through the stages otherwise. */
  async bulk(ctx: WriteContext, entity: string, request: BulkRequest): Promise<string> {
    const message: MessageName = request.operation === 'upsert' ? 'create' : request.operation;
    const listened =
      this.#host.listens(message, entity) || (request.operation === 'upsert' && this.#host.listens('update', entity));
    if (!listened || !Array.isArray(request.records)) return this.#records.bulk(entity, request);
    const messages: WriteMessage[] = request.records.map((item) => {
      const r = isObject(item) ? item : {};
      const { id, version, ...changes } = r;
      const expectedVersion = typeof version === 'number' ? version : undefined;
      if (request.operation === 'create') return { message: 'create', entity, input: item };
      if (request.operation === 'upsert') return { message: 'upsert', entity, key: request.key, input: item };
      if (request.operation === 'update')
        return { message: 'update', entity, id: id as string, input: changes, expectedVersion };
      return { message: 'delete', entity, id: id as string, expectedVersion };
    });
    const outcomes = await this.execute(ctx, messages);
    const data = outcomes.map((o, i) => o.record ?? { id: (request.records[i] as Row).id });
    return JSON.stringify({ data });
  }

  #listened(message: WriteMessage): boolean {
    const target = this.#target(message);
    return (
      this.#host.listens(target.message, target.entity) ||
      (message.message === 'upsert' && this.#host.listens('update', target.entity))
    );
  }

  /**
   * The entity and message steps see: a link, the relationship's `from` entity; an upsert, its
   * create side until it is resolved.
   */
  #target(message: WriteMessage): { message: MessageName; entity: string; input: Row; id?: string } {
    switch (message.message) {
      case 'associate':
      case 'disassociate': {
        const rel = this.#runtime.state.catalog.relationships.get(message.relationship);
        const input = { relationship: message.relationship, fromId: message.fromId, toId: message.toId };
        return { message: message.message, entity: rel?.from ?? '', input, id: message.fromId };
      }
      case 'delete':
        return { message: 'delete', entity: message.entity, input: {}, id: message.id };
      case 'update':
        return {
          message: 'update',
          entity: message.entity,
          input: isObject(message.input) ? message.input : {},
          id: message.id,
        };
      default:
        return { message: 'create', entity: message.entity, input: isObject(message.input) ? message.input : {} };
    }
  }

  /** No step listens: the records service's own paths (one statement, or one transaction for several). */
  async #direct(ctx: WriteContext, messages: readonly WriteMessage[]): Promise<WriteOutcome[]> {
    if (messages.length === 1) return [await this.#write(ctx.db, messages[0]!)];
    const run = async (trx: Db) => {
      const outcomes: WriteOutcome[] = [];
      for (const message of messages) outcomes.push(await this.#write(trx, message));
      return outcomes;
    };
    return ctx.db ? run(ctx.db) : this.#db.transaction().execute(run);
  }

  async #write(db: Db | undefined, m: WriteMessage): Promise<WriteOutcome> {
    const records = this.#records;
    switch (m.message) {
      case 'create':
        return { record: await records.create(m.entity, m.input, db) };
      case 'update':
        return { record: await records.update(m.entity, m.id, m.input, { expectedVersion: m.expectedVersion }, db) };
      case 'delete':
        await records.delete(m.entity, m.id, { expectedVersion: m.expectedVersion }, db);
        return {};
      case 'upsert':
        return records.upsert(m.entity, m.key, m.input, db);
      case 'associate':
        await records.associate(m.relationship, m.fromId, m.toId, db);
        return {};
      case 'disassociate':
        await records.disassociate(m.relationship, m.fromId, m.toId, db);
        return {};
    }
  }

  /** One message through before → write → after, inside the transaction `ctx.db`. */
  async #one(
    ctx: WriteContext & { depth: number; shared: Map<string, unknown>; db: Db },
    m: WriteMessage,
  ): Promise<WriteOutcome> {
    if (m.message === 'upsert') return this.#upsert(ctx, m);
    const target = this.#target(m);
    const input = { ...target.input };
    const preImage =
      m.message === 'update' || m.message === 'delete' ? await this.#lock(ctx.db, m.entity, m.id) : undefined;
    await this.#stage(ctx, 'before', target.message, target.entity, { input, id: target.id, preImage });
    const written = { ...m, ...(m.message === 'create' || m.message === 'update' ? { input } : {}) } as WriteMessage;
    const outcome = await this.#write(ctx.db, written);
    const postImage = outcome.record;
    const id = target.id ?? postImage?.id;
    await this.#stage(ctx, 'after', target.message, target.entity, { input, id, preImage, postImage });
    return outcome;
  }

  /** An upsert resolves to create or update (the record with the key's values, locked) before any step runs. */
  async #upsert(
    ctx: WriteContext & { depth: number; shared: Map<string, unknown>; db: Db },
    m: Extract<WriteMessage, { message: 'upsert' }>,
  ) {
    const key = this.#records.alternateKey(this.#runtime.state.catalog.require(m.entity), m.key);
    const input = isObject(m.input) ? m.input : undefined;
    if (!input || key.fields.some((f) => input[f] === undefined || input[f] === null)) {
      // let the records service refuse it with its own problem
      return this.#write(ctx.db, m);
    }
    const where = key.fields.map((f) => sql`${column(f)} = ${input[f]}`);
    const { rows } = await sql<{
      id: string;
    }>`SELECT id FROM ${table(m.entity)} WHERE ${sql.join(where, sql` AND `)} FOR UPDATE`.execute(ctx.db);
    if (!rows[0]) return { ...(await this.#one(ctx, { message: 'create', entity: m.entity, input })), created: true };
    return {
      ...(await this.#one(ctx, { message: 'update', entity: m.entity, id: rows[0].id, input })),
      created: false,
    };
  }

  /** The record as it is, locked FOR UPDATE for the rest of the transaction; 404 when there is none. */
  async #lock(db: Db, entity: string, id: string): Promise<Row> {
    this.#runtime.state.catalog.require(entity);
    assertUuid(id);
    const statement: RawBuilder<{ r: Row }> =
      sql`SELECT row_to_json(t.*) AS r FROM ${table(entity)} t WHERE t.id = ${id} FOR UPDATE`;
    const { rows } = await statement.execute(db);
    if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record has id ${id}`);
    return rows[0].r;
  }

  async #stage(
    ctx: WriteContext & { depth: number; shared: Map<string, unknown> },
    stage: Stage,
    message: MessageName,
    entity: string,
    state: { input: Row; id?: string; preImage?: Row; postImage?: Row },
  ): Promise<void> {
    for (const step of this.#host.steps(message, entity, stage, state.input)) {
      const log = ctx.log.child({ plugin: step.plugin, stage, message, entity });
      const stepCtx: StepContext = {
        principal: ctx.principal,
        message,
        entity,
        id: state.id,
        input: state.input,
        preImage: state.preImage,
        postImage: state.postImage,
        shared: ctx.shared,
        depth: ctx.depth,
        correlationId: ctx.correlationId,
        log,
        data: stage === 'validate' ? undefined : this.#dataApi(ctx),
        reject: (text, options = {}) => {
          const path = options.path ?? '/';
          throw new XrmError('XRM_ERR_PLUGIN_REJECTED', text, {
            errors: [{ path, message: text }],
            extensions: { plugin: step.plugin },
          });
        },
      };
      await this.#withBudget(
        step.plugin,
        Promise.resolve().then(() => step.handler(stepCtx)),
      );
    }
  }

  /** Writes a step makes: the same pipeline, the same transaction, one level deeper. */
  #dataApi(ctx: WriteContext & { depth: number; shared: Map<string, unknown> }): DataApi {
    const child = { ...ctx, depth: ctx.depth + 1 };
    const one = async (m: WriteMessage) => (await this.execute(child, [m]))[0]!;
    return {
      create: async (entity, input) => (await one({ message: 'create', entity, input })).record!,
      update: async (entity, id, input) => (await one({ message: 'update', entity, id, input })).record!,
      delete: async (entity, id) => {
        await one({ message: 'delete', entity, id });
      },
    };
  }

  /** A step that does not settle within the budget aborts the operation. */
  async #withBudget(plugin: string, work: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        // not the client's doing: a 500 with an error id, the step named in the log
        () => reject(new Error(`a step of plugin "${plugin}" took longer than ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
