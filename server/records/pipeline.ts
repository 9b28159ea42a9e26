/**
 * The write pipeline: ONE door, `execute(ctx, messages)`, for every write — REST, GraphQL, bulk,
 * custom messages and the writes plugins make. Each message passes the stages of the steps that
 * listen to it: `validate` (before the transaction), then in one transaction `before` (may change
 * the input), the write (update and delete lock and see the pre-image; create and update return
 * the post-image), `after` (writes through `ctx.data` join the transaction). A delete first runs
 * its cascades (and set-nulls) as messages of their own when anything observes them. Every change
 * is handed to the change consumers (audit trail, outbox) in the same transaction; after commit
 * the job worker runs `async` steps and webhook deliveries. Anything that throws rolls everything
 * back. With nothing listening, a write goes straight to the records service's fast paths.
 */
import { randomUUID } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import { XrmError } from '../../metadata/errors.ts';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import type { AlternateKeyDef } from '../../metadata/types.ts';
import { column, table } from '../../metadata/physical-names.ts';
import type { DataApi, ListQuery, MessageName, Principal, Stage, StepContext } from '../../plugins/api.ts';
import type { PluginHost } from '../../plugins/host.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { QueryService } from '../query/query-service.ts';
import type { RestQuery } from '../query/rest-params.ts';
import type { Runtime } from '../runtime.ts';
import {
  CHANGE_MESSAGES,
  type Change,
  type ChangeConsumer,
  type ChangeMessage,
  newChange,
  type Row,
} from './changes.ts';
import { type BulkRequest, type RecordJson, type RecordsService, withPrefix } from './service.ts';
import { assertUuid } from '../record-id.ts';
import type { Access } from '../security/access.ts';
import { bindSubject } from '../security/subject.ts';

/** The advisory-lock space (first key of the two-key form) of upserts' alternate-key values. */
const UPSERT_LOCK_SPACE = 0x7570; // "up"

/** A write chain deeper than this (steps writing, whose steps write…) stops, nothing written. */
export const MAX_DEPTH = 8;

export interface WriteContext {
  readonly principal: Principal;
  /** What the principal may do; absent: the system (start-up work, `ctx.asSystem()`). */
  readonly access?: Access;
  readonly correlationId: string;
  readonly log: FastifyBaseLogger;
  /** 1 for a client's write (the default). */
  readonly depth?: number;
  readonly shared?: Map<string, unknown>;
  /** The caller's transaction (a GraphQL mutation operation, a step's writes); else execute opens one. */
  readonly db?: Db;
  /** The operation's changes so far: nested writes (a step's `ctx.data`) add to their caller's. */
  readonly journal?: Change[];
  /** With `db`: runs work once the caller's transaction committed (GraphQL); else it runs after execute. */
  readonly afterCommit?: (work: () => void) => void;
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
    }
  | {
      /** A plugin's custom message (api.defineMessage). */
      readonly message: 'custom';
      readonly name: string;
      readonly input: unknown;
      readonly target?: { readonly entity: string; readonly id: string };
    };

export interface WriteOutcome {
  /** The record as written (create, update, upsert). */
  readonly record?: RecordJson;
  /** Upsert: whether it created. */
  readonly created?: boolean;
  /** A custom message's output. */
  readonly output?: unknown;
  /** A link that was already there, or an unlink of none: nothing changed, nothing is journaled. */
  readonly unchanged?: boolean;
}

/**
 * Rewrites the inputs of one entity's creates and updates (upserts count as creates) before the
 * pipeline validates them: what a built-in feature derives from what the client sent (an activity's
 * parties resolved to records). Throwing refuses the request; `path(i)` prefixes input i's problems.
 */
export interface InputPreparer {
  readonly entity: string;
  /** `access`: the writer's (undefined: the system). */
  prepare(
    db: Db,
    inputs: readonly Row[],
    update: boolean,
    path: (i: number) => string,
    access?: Access,
  ): Promise<Row[]>;
}

/** An operation in progress: its transaction and its journal. */
interface Frame extends WriteContext {
  readonly depth: number;
  readonly shared: Map<string, unknown>;
  readonly db: Db;
  readonly journal: Change[];
}

/** A lookup that a delete of its target cascades through (or sets null). */
interface Cascade {
  readonly entity: string;
  readonly field: string;
  readonly action: 'cascade' | 'setNull';
}

const unchangedUnless = (changed: boolean): WriteOutcome => (changed ? {} : { unchanged: true });

const isObject = (value: unknown): value is Row => typeof value === 'object' && value !== null && !Array.isArray(value);

export class WritePipeline {
  readonly #db: Db;
  readonly #records: RecordsService;
  readonly #host: PluginHost;
  readonly #runtime: Runtime;
  readonly #timeoutMs: number;
  readonly #consumers: ChangeConsumer[] = [];
  readonly #preparers = new Map<string, InputPreparer>();
  readonly #cascades = new WeakMap<Catalog, Map<string, Cascade[]>>();
  #query?: QueryService;

  constructor(db: Db, records: RecordsService, host: PluginHost, runtime: Runtime, timeoutMs: number) {
    this.#db = db;
    this.#records = records;
    this.#host = host;
    this.#runtime = runtime;
    this.#timeoutMs = timeoutMs;
  }

  /** The door for the reads steps make (`ctx.data.get/list`). */
  connect(query: QueryService): void {
    this.#query = query;
  }

  /** Consumers see every change of the messages they want, in the write's transaction. */
  addConsumer(consumer: ChangeConsumer): void {
    this.#consumers.push(consumer);
  }

  /** A preparer rewrites the inputs of its entity's creates and updates before anything else sees them. */
  addPreparer(preparer: InputPreparer): void {
    this.#preparers.set(preparer.entity, preparer);
  }

  /** The messages with their inputs prepared (one call per entity and kind of write). */
  async #prepare(
    db: Db,
    messages: readonly WriteMessage[],
    items: boolean,
    access: Access | undefined,
  ): Promise<readonly WriteMessage[]> {
    if (!this.#preparers.size) return messages;
    const out = [...messages];
    const groups = new Map<string, number[]>();
    for (const [i, m] of messages.entries()) {
      if (m.message !== 'create' && m.message !== 'update' && m.message !== 'upsert') continue;
      if (!this.#preparers.has(m.entity) || !isObject(m.input)) continue;
      const key = `${m.entity}\u0000${m.message === 'update'}`;
      const list = groups.get(key) ?? [];
      list.push(i);
      groups.set(key, list);
    }
    for (const indexes of groups.values()) {
      const first = messages[indexes[0]!] as { entity: string; message: string };
      const inputs = indexes.map((i) => (messages[i] as { input: Row }).input);
      const prepared = await this.#preparers
        .get(first.entity)!
        .prepare(db, inputs, first.message === 'update', (k) => (items ? `/records/${indexes[k]}` : ''), access);
      indexes.forEach((i, k) => {
        out[i] = { ...(messages[i] as Extract<WriteMessage, { input: unknown }>), input: prepared[k] } as WriteMessage;
      });
    }
    return out;
  }

  /**
   * Runs the messages all-or-nothing and answers one outcome per message. `items`: the messages
   * are a bulk request's items, and a problem names its item (`/records/<i>/…`).
   */
  async execute(ctx: WriteContext, messages: readonly WriteMessage[], items = false): Promise<WriteOutcome[]> {
    return this.#execute(ctx, await this.#prepare(ctx.db ?? this.#db, messages, items, ctx.access), items);
  }

  async #execute(ctx: WriteContext, messages: readonly WriteMessage[], items: boolean): Promise<WriteOutcome[]> {
    const depth = ctx.depth ?? 1;
    if (depth > MAX_DEPTH) {
      throw new XrmError(
        'XRM_ERR_PLUGIN_DEPTH_EXCEEDED',
        `Writes made by plugin steps nest deeper than ${MAX_DEPTH} levels`,
      );
    }
    const catalog = this.#runtime.state.catalog;
    if (!ctx.journal && !messages.some((m) => this.#observed(catalog, m))) return this.#direct(ctx, messages);
    if (!ctx.journal && messages.length === 1) {
      // one write only the audit trail and event rules observe: their rows go in the write's own statement
      const inline = this.#inline(catalog, messages[0]!, ctx);
      if (inline) {
        const inlined = { also: inline.also, correlationId: ctx.correlationId };
        const outcome = (await this.#write(ctx.db, messages[0]!, inlined, ctx.access)).outcome;
        this.#afterCommit(ctx, inline.consumers);
        return [outcome];
      }
    }
    const shared = ctx.shared ?? new Map<string, unknown>();
    const base = { ...ctx, depth, shared };
    const item = async <T>(i: number, work: () => Promise<T>): Promise<T> => {
      if (!items) return work();
      try {
        return await work();
      } catch (error) {
        throw withPrefix(error, `/records/${i}`);
      }
    };
    for (const [i, message] of messages.entries()) {
      if (message.message === 'custom') {
        const definition = this.#host.validateInput(message.name, message.input, message.target);
        const entity = message.target?.entity ?? definition.entity ?? '*';
        const state = { input: message.input as Row, id: message.target?.id, eventId: '' };
        await this.#stage(base, 'validate', message.name, entity, state);
        continue;
      }
      const target =
        message.message === 'upsert' && this.#validatesUpsert(message.entity)
          ? await this.#upsertTarget(message, ctx.access)
          : this.#target(message as Exclude<WriteMessage, { message: 'custom' }>);
      const state = { input: target.input, id: target.id, eventId: '' };
      await item(i, () => this.#stage(base, 'validate', target.message, target.entity, state));
    }
    const outer = !ctx.journal;
    const run = async (trx: Db) => {
      const frame: Frame = { ...base, db: trx, journal: ctx.journal ?? [] };
      const outcomes: WriteOutcome[] = [];
      for (const [i, message] of messages.entries()) outcomes.push(await item(i, () => this.#one(frame, message)));
      if (outer && frame.journal.length) await this.#record(frame, catalog);
      return outcomes;
    };
    const outcomes = ctx.db ? await run(ctx.db) : await this.#db.transaction().execute(run);
    if (outer) this.#afterCommit(ctx);
    return outcomes;
  }

  /** Up to 1,000 writes of one entity; set-based when no step listens, item by item through the stages otherwise. */
  async bulk(ctx: WriteContext, entity: string, request: BulkRequest): Promise<string> {
    const catalog = this.#runtime.state.catalog;
    const preparer = this.#preparers.get(entity);
    if (preparer && Array.isArray(request.records) && request.records.every(isObject)) {
      const records = await preparer.prepare(
        ctx.db ?? this.#db,
        request.records as Row[],
        request.operation === 'update',
        (i) => `/records/${i}`,
        ctx.access,
      );
      request = { ...request, records };
    }
    const message: MessageName = request.operation === 'upsert' ? 'create' : request.operation;
    const stepped =
      this.#host.listens(message, entity) || (request.operation === 'upsert' && this.#host.listens('update', entity));
    if (!Array.isArray(request.records)) return this.#records.bulk(entity, request, undefined, ctx.access);
    const observed = stepped || this.#observed(catalog, this.#asMessage(entity, request, request.records[0]));
    if (!observed) return this.#records.bulk(entity, request, undefined, ctx.access);
    if (!stepped && request.operation === 'create') {
      // observed but no per-record step: the set-based insert, its changes journaled in its transaction
      const body = await this.#records.bulk(
        entity,
        request,
        async (trx, created) => {
          const journal = created.map((after) =>
            newChange({ message: 'create', entity, id: after.id, input: after, after, depth: ctx.depth ?? 1 }),
          );
          await this.#record({ ...ctx, depth: ctx.depth ?? 1, shared: new Map(), db: trx, journal }, catalog);
        },
        ctx.access,
      );
      this.#afterCommit(ctx);
      return body;
    }
    // no per-record step can change the items: check them all first, as the set-based path does
    if (!stepped) this.#records.checkBulk(entity, request);
    const messages = request.records.map((item) => this.#asMessage(entity, request, item));
    const outcomes = await this.#execute(ctx, messages, true);
    const data = outcomes.map((o, i) => o.record ?? { id: (request.records[i] as Row).id });
    return JSON.stringify({ data });
  }

  #asMessage(entity: string, request: BulkRequest, item: unknown): WriteMessage {
    const r = isObject(item) ? item : {};
    const { id, version, ...changes } = r;
    const expectedVersion = typeof version === 'number' ? version : undefined;
    if (request.operation === 'create') return { message: 'create', entity, input: item };
    if (request.operation === 'upsert') return { message: 'upsert', entity, key: request.key, input: item };
    if (request.operation === 'update')
      return { message: 'update', entity, id: id as string, input: changes, expectedVersion };
    return { message: 'delete', entity, id: id as string, expectedVersion };
  }

  /** Whether a step or a consumer observes this message (a delete: or its cascades). */
  #observed(catalog: Catalog, m: WriteMessage): boolean {
    if (m.message === 'custom') return true;
    const target = this.#target(m);
    if (this.#watched(catalog, target.message, target.entity)) return true;
    if (m.message === 'upsert') return this.#watched(catalog, 'update', m.entity);
    if (m.message === 'associate' || m.message === 'disassociate') {
      const rel = catalog.relationships.get(m.relationship);
      return rel ? this.#watched(catalog, m.message, rel.to) : false;
    }
    if (m.message === 'delete')
      return this.#linksWatched(catalog, m.entity).length > 0 || this.#cascadeObserved(catalog, m.entity);
    return false;
  }

  /** The many-to-many relationships of `entity` whose unlinking something observes. */
  #linksWatched(catalog: Catalog, entity: string) {
    return [...catalog.relationships.values()].filter(
      (rel) =>
        (rel.from === entity || rel.to === entity) &&
        (this.#watched(catalog, 'disassociate', rel.from) || this.#watched(catalog, 'disassociate', rel.to)),
    );
  }

  #watched(catalog: Catalog, message: MessageName, entity: string): boolean {
    if (this.#host.listens(message, entity)) return true;
    if (message === 'upsert' || !(CHANGE_MESSAGES as readonly string[]).includes(message)) return false;
    return this.#consumers.some((c) => c.wants(catalog, message as ChangeMessage, entity));
  }

  #cascadeWatched(catalog: Catalog, c: Cascade, seen = new Set<string>()): boolean {
    if (c.action === 'setNull') return this.#watched(catalog, 'update', c.entity);
    if (this.#watched(catalog, 'delete', c.entity)) return true;
    if (seen.has(c.entity)) return false;
    seen.add(c.entity);
    return this.#cascadesOf(catalog, c.entity).some((next) => this.#cascadeWatched(catalog, next, seen));
  }

  /** The lookups pointing at `entity` that a delete cascades through or sets null. */
  #cascadesOf(catalog: Catalog, entity: string): Cascade[] {
    let byTarget = this.#cascades.get(catalog);
    if (!byTarget) {
      byTarget = new Map();
      for (const e of catalog.entities.values()) {
        for (const f of e.fields) {
          if (f.type !== 'lookup' || !f.target || (f.onDelete !== 'cascade' && f.onDelete !== 'setNull')) continue;
          const list = byTarget.get(f.target) ?? [];
          list.push({ entity: e.name, field: f.name, action: f.onDelete });
          byTarget.set(f.target, list);
        }
      }
      this.#cascades.set(catalog, byTarget);
    }
    return byTarget.get(entity) ?? [];
  }

  /**
   * The entity and message steps see: a link, the relationship's `from` entity; an upsert, its
   * create side until it is resolved.
   */
  #target(message: Exclude<WriteMessage, { message: 'custom' }>): {
    message: MessageName;
    entity: string;
    input: Row;
    id?: string;
  } {
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

  /**
   * The one-statement path of a single create, update or delete: when no step listens and every
   * consumer that wants it can record it inside the write's statement (the audit trail, event rules).
   */
  #inline(
    catalog: Catalog,
    m: WriteMessage,
    ctx: WriteContext,
  ): { also: RawBuilder<unknown>; consumers: ChangeConsumer[] } | undefined {
    if (m.message !== 'create' && m.message !== 'update' && m.message !== 'delete') return undefined;
    if (this.#host.listens(m.message, m.entity)) return undefined;
    if (
      m.message === 'delete' &&
      (this.#linksWatched(catalog, m.entity).length || this.#cascadeObserved(catalog, m.entity))
    )
      return undefined;
    const wanting = this.#consumers.filter((c) => c.wants(catalog, m.message as ChangeMessage, m.entity));
    if (!wanting.length || wanting.some((c) => !c.inline)) return undefined;
    const origin = { principal: ctx.principal, correlationId: ctx.correlationId };
    const statements = wanting.map((c, i) => {
      const statement = c.inline!(m.message as ChangeMessage, m.entity, origin, ctx.depth ?? 1, catalog);
      return sql`${sql.id(`x${i}`)} AS (${statement})`;
    });
    return { also: sql.join(statements, sql`, `), consumers: wanting };
  }

  #cascadeObserved(catalog: Catalog, entity: string): boolean {
    return this.#cascadesOf(catalog, entity).some((c) => this.#cascadeWatched(catalog, c));
  }

  /** Nothing observes: the records service's own paths (one statement, or one transaction for several). */
  async #direct(ctx: WriteContext, messages: readonly WriteMessage[]): Promise<WriteOutcome[]> {
    if (messages.length === 1) return [(await this.#write(ctx.db, messages[0]!, undefined, ctx.access)).outcome];
    const run = async (trx: Db) => {
      const outcomes: WriteOutcome[] = [];
      for (const message of messages) outcomes.push((await this.#write(trx, message, undefined, ctx.access)).outcome);
      return outcomes;
    };
    return ctx.db ? run(ctx.db) : this.#db.transaction().execute(run);
  }

  async #write(
    db: Db | undefined,
    m: WriteMessage,
    inline?: { also: RawBuilder<unknown>; correlationId: string },
    access?: Access,
  ): Promise<{ outcome: WriteOutcome; old?: Row }> {
    const records = this.#records;
    switch (m.message) {
      case 'create':
        return { outcome: { record: await records.create(m.entity, m.input, db, { ...inline, access }) } };
      case 'update': {
        const options = { expectedVersion: m.expectedVersion, ...inline, access };
        const { record, old } = await records.update(m.entity, m.id, m.input, options, db);
        return { outcome: { record }, old };
      }
      case 'delete':
        return {
          outcome: {},
          old: await records.delete(m.entity, m.id, { expectedVersion: m.expectedVersion, ...inline, access }, db),
        };
      case 'upsert':
        return { outcome: await records.upsert(m.entity, m.key, m.input, db, access) };
      case 'associate':
        return { outcome: unchangedUnless(await records.associate(m.relationship, m.fromId, m.toId, db, access)) };
      case 'disassociate':
        return {
          outcome: unchangedUnless(await records.disassociate(m.relationship, m.fromId, m.toId, db, access)),
        };
      case 'custom':
        throw new Error('custom messages run in a frame');
    }
  }

  /** One message through before → write → after, inside the frame's transaction. */
  async #one(frame: Frame, m: WriteMessage, cascade = false): Promise<WriteOutcome> {
    if (m.message === 'upsert') return this.#upsert(frame, m);
    if (m.message === 'custom') return this.#custom(frame, m);
    const target = this.#target(m) as { message: ChangeMessage; entity: string; input: Row; id?: string };
    const input = { ...target.input };
    const eventId = randomUUID();
    const stepped =
      this.#host.steps(target.message, target.entity, 'before', input).length > 0 ||
      this.#host.steps(target.message, target.entity, 'after', input).length > 0;
    const preImage =
      stepped && (m.message === 'update' || m.message === 'delete')
        ? await this.#lock(frame.db, m.entity, m.id, cascade ? undefined : frame.access)
        : undefined;
    const state = { input, id: target.id, preImage, eventId };
    await this.#stage(frame, 'before', target.message, target.entity, state);
    if (m.message === 'delete') await this.#cascade(frame, m.entity, m.id);
    const written = { ...m, ...(m.message === 'create' || m.message === 'update' ? { input } : {}) } as WriteMessage;
    // cascades run as the system: the database would cascade them whoever deletes the parent
    const { outcome, old } = await this.#write(frame.db, written, undefined, cascade ? undefined : frame.access);
    // a link already there, an unlink of none: no change to journal or to run `after` steps on
    if (outcome.unchanged) return outcome;
    const postImage = outcome.record;
    const id = target.id ?? postImage!.id;
    const before = preImage ?? old;
    frame.journal.push({
      eventId,
      message: target.message,
      entity: target.entity,
      id,
      input,
      ...(before ? { before } : {}),
      ...(postImage ? { after: postImage } : {}),
      ...(m.message === 'associate' || m.message === 'disassociate'
        ? { link: { relationship: m.relationship, fromId: m.fromId, toId: m.toId } }
        : {}),
      depth: frame.depth,
      ...(cascade ? { cascade } : {}),
    });
    await this.#stage(frame, 'after', target.message, target.entity, { ...state, id, preImage: before, postImage });
    return outcome;
  }

  /**
   * Runs a delete's cascades as messages: records whose lookup cascades are deleted, those whose
   * lookup sets null are updated — through the stages, so the audit trail, webhooks and plugins
   * see them. Only where something observes them; the foreign key does the rest.
   */
  async #cascade(frame: Frame, entity: string, id: string): Promise<void> {
    const catalog = this.#runtime.state.catalog;
    // its many-to-many links go with it: each one a disassociate message, when something observes them
    for (const rel of this.#linksWatched(catalog, entity)) {
      const side = rel.from === entity ? sql`from_id` : sql`to_id`;
      const { rows } = await sql<{ fromId: string; toId: string }>`SELECT from_id AS "fromId", to_id AS "toId"
        FROM ${table(rel.name)} WHERE ${side} = ${id} ORDER BY from_id, to_id FOR UPDATE`.execute(frame.db);
      for (const link of rows)
        await this.#one(frame, { message: 'disassociate', relationship: rel.name, ...link }, true);
    }
    for (const c of this.#cascadesOf(catalog, entity)) {
      if (!this.#cascadeWatched(catalog, c)) continue;
      const { rows } = await sql<{ id: string }>`SELECT id FROM ${table(c.entity)}
        WHERE ${column(c.field)} = ${id} ORDER BY id FOR UPDATE`.execute(frame.db);
      for (const row of rows) {
        if (c.action === 'cascade') await this.#one(frame, { message: 'delete', entity: c.entity, id: row.id }, true);
        else
          await this.#one(frame, { message: 'update', entity: c.entity, id: row.id, input: { [c.field]: null } }, true);
      }
    }
  }

  /**
   * What an upsert's `validate` steps see, before the transaction: `update` of the record the key
   * finds now, else `create` (the transaction resolves it again, under a lock, for the later stages).
   */
  async #upsertTarget(m: Extract<WriteMessage, { message: 'upsert' }>, access?: Access) {
    const input = isObject(m.input) ? m.input : {};
    const found = this.#keyOf(m);
    if (found) {
      // a record the writer cannot read is never shown to a step (the write itself refuses it)
      const reach = access?.policy.predicate(m.entity, 'read', 't', this.#runtime.state.catalog);
      const statement = sql<{ id: string }>`SELECT t.id FROM ${table(m.entity)} t WHERE ${found.where}
        ${reach ? sql`AND ${reach}` : sql``}`;
      const { rows } = await this.#db.executeQuery<{ id: string }>(
        bindSubject(statement.compile(this.#db), access?.subject),
      );
      if (rows[0]) return { message: 'update' as const, entity: m.entity, input, id: rows[0].id };
    }
    return { message: 'create' as const, entity: m.entity, input };
  }

  #validatesUpsert(entity: string): boolean {
    return this.#host.listens('create', entity, 'validate') || this.#host.listens('update', entity, 'validate');
  }

  /**
   * An upsert's alternate key with all its values present in the input: the WHERE finding its
   * record and the text naming the key's values; undefined when the write itself must refuse it
   * (no such entity or key, a key value missing), with its own problem.
   */
  #keyOf(m: Extract<WriteMessage, { message: 'upsert' }>): { where: RawBuilder<unknown>; text: string } | undefined {
    const entity = this.#runtime.state.catalog.entity(m.entity);
    const input = isObject(m.input) ? m.input : undefined;
    if (!entity || !input) return undefined;
    let key: AlternateKeyDef;
    try {
      key = this.#records.alternateKey(entity, m.key);
    } catch {
      return undefined;
    }
    const values = key.fields.map((f) => input[f]);
    if (values.some((v) => v === undefined || v === null)) return undefined;
    const where = sql.join(
      key.fields.map((f, i) => sql`${column(f)} = ${values[i]}`),
      sql` AND `,
    );
    return { where, text: JSON.stringify([m.entity, ...values]) };
  }

  /** An upsert resolves to create or update (the record with the key's values, locked) before any step runs. */
  async #upsert(frame: Frame, m: Extract<WriteMessage, { message: 'upsert' }>): Promise<WriteOutcome> {
    const found = this.#keyOf(m);
    // let the records service refuse it with its own problem
    if (!found) return (await this.#write(frame.db, m, undefined, frame.access)).outcome;
    const input = m.input as Row;
    // concurrent upserts of one key wait for each other here, so the second sees the first's record
    // and updates it (no row to lock yet when both would create: FOR UPDATE alone cannot do it)
    await sql`SELECT pg_advisory_xact_lock(${UPSERT_LOCK_SPACE}, hashtext(${found.text}))`.execute(frame.db);
    const { rows } = await sql<{ id: string }>`SELECT id FROM ${table(m.entity)} WHERE ${found.where}
      FOR UPDATE`.execute(frame.db);
    if (!rows[0]) return { ...(await this.#one(frame, { message: 'create', entity: m.entity, input })), created: true };
    try {
      return {
        ...(await this.#one(frame, { message: 'update', entity: m.entity, id: rows[0].id, input })),
        created: false,
      };
    } catch (error) {
      // a record the writer cannot see holds the key: refuse without naming it
      if (error instanceof XrmError && error.code === 'XRM_ERR_RECORD_NOT_FOUND')
        throw new XrmError(
          'XRM_ERR_FORBIDDEN',
          `Your roles do not allow you to update the ${m.entity} record with these key values`,
        );
      throw error;
    }
  }

  /** A custom message: its handler runs in the frame; steps registered on its name see it like any message. */
  async #custom(frame: Frame, m: Extract<WriteMessage, { message: 'custom' }>): Promise<WriteOutcome> {
    const definition = this.#host.message(m.name);
    if (m.target) await this.#lock(frame.db, m.target.entity, m.target.id, frame.access);
    const input = { ...(m.input as Row) };
    const entity = m.target?.entity ?? definition.entity ?? '*';
    const state = { input, id: m.target?.id, eventId: randomUUID() };
    const message = m.name;
    await this.#stage(frame, 'before', message, entity, state);
    const output = await this.#withBudget(definition.plugin, async () =>
      definition.handler(this.#stepContext(frame, definition.plugin, 'before', message, entity, state)),
    );
    this.#host.validateOutput(m.name, output);
    await this.#stage(frame, 'after', message, entity, { ...state, output });
    if (m.target) {
      // a custom message on a record is an event of that record (automation rules listen to it)
      const catalog = this.#runtime.state.catalog;
      const origin = { principal: frame.principal, correlationId: frame.correlationId };
      const event = { name: m.name, entity: m.target.entity, id: m.target.id, input, depth: frame.depth };
      for (const consumer of this.#consumers)
        if (consumer.wantsCustom?.(catalog, m.name, m.target.entity))
          await consumer.custom!(frame.db, origin, event, catalog);
    }
    return { output };
  }

  /**
   * The record as it is, locked FOR UPDATE for the rest of the transaction; 404 when there is
   * none or the writer cannot read it (steps never see a record their caller could not).
   */
  async #lock(db: Db, entity: string, id: string, access?: Access): Promise<Row> {
    const catalog = this.#runtime.state.catalog;
    catalog.require(entity);
    assertUuid(id);
    const reach = access?.policy.predicate(entity, 'read', 't', catalog);
    const statement: RawBuilder<{ r: Row }> = sql`SELECT row_to_json(t.*) AS r FROM ${table(entity)} t
      WHERE t.id = ${id} ${reach ? sql`AND ${reach}` : sql``} FOR UPDATE`;
    const { rows } = await db.executeQuery<{ r: Row }>(bindSubject(statement.compile(db), access?.subject));
    if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record has id ${id}`);
    return rows[0].r;
  }

  /** Hands the operation's changes to the consumers that want them, in its transaction. */
  async #record(frame: Frame, catalog: Catalog): Promise<void> {
    const origin = { principal: frame.principal, correlationId: frame.correlationId };
    for (const consumer of this.#consumers) {
      const wanted = frame.journal.filter(
        (c) =>
          consumer.wants(catalog, c.message, c.entity) ||
          (c.link !== undefined &&
            consumer.wants(catalog, c.message, catalog.relationships.get(c.link.relationship)?.to ?? c.entity)),
      );
      if (wanted.length) await consumer.record(frame.db, origin, wanted, catalog);
    }
  }

  #afterCommit(ctx: WriteContext, consumers: readonly ChangeConsumer[] = this.#consumers): void {
    const wake = () => {
      for (const consumer of consumers) consumer.committed?.();
    };
    if (ctx.db) ctx.afterCommit?.(wake);
    else wake();
  }

  async #stage(
    frame: WriteContext & { depth: number; shared: Map<string, unknown>; db?: Db; journal?: Change[] },
    stage: Stage,
    message: MessageName,
    entity: string,
    state: { input: Row; id?: string; preImage?: Row; postImage?: Row; eventId: string; output?: unknown },
  ): Promise<void> {
    for (const step of this.#host.steps(message, entity, stage, state.input)) {
      const stepCtx = this.#stepContext(frame, step.plugin, stage, message, entity, state);
      await this.#withBudget(step.plugin, async () => step.handler(stepCtx));
    }
  }

  #stepContext(
    frame: WriteContext & { depth: number; shared: Map<string, unknown>; db?: Db; journal?: Change[] },
    plugin: string,
    stage: Stage,
    message: MessageName,
    entity: string,
    state: { input: Row; id?: string; preImage?: Row; postImage?: Row; eventId: string; output?: unknown },
  ): StepContext {
    return {
      principal: frame.principal,
      message,
      entity,
      id: state.id,
      input: state.input,
      preImage: state.preImage,
      postImage: state.postImage,
      output: state.output,
      shared: frame.shared,
      depth: frame.depth,
      eventId: state.eventId,
      correlationId: frame.correlationId,
      log: frame.log.child({ plugin, stage, message, entity }),
      data: stage === 'validate' || !frame.db ? undefined : this.dataApi({ ...frame, db: frame.db }),
      reject: (text, options = {}) => {
        const path = options.path ?? '/';
        throw new XrmError('XRM_ERR_PLUGIN_REJECTED', text, {
          errors: [{ path, message: text }],
          extensions: { plugin },
        });
      },
    };
  }

  /**
   * The data API steps (and async handlers, and custom messages) get: reads and writes through the
   * same doors as REST, in the caller's transaction, writes one level deeper.
   */
  dataApi(ctx: WriteContext & { depth?: number; db: Db }): DataApi {
    const child: WriteContext = { ...ctx, depth: (ctx.depth ?? 1) + 1 };
    const one = async (m: WriteMessage) => (await this.execute(child, [m]))[0]!;
    const query = () => this.#query!;
    const restQuery = (q: ListQuery = {}): RestQuery => ({
      ...(q.select ? { select: q.select.join(',') } : {}),
      ...(q.filter ? { filter: JSON.stringify(q.filter) } : {}),
      ...(q.sort ? { sort: q.sort } : {}),
      ...(q.search ? { search: q.search } : {}),
      ...(q.limit ? { limit: q.limit } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return {
      get: async (entity, id) => {
        const found = await query().read({ db: ctx.db, access: ctx.access }, { kind: 'get', entity, id, query: {} });
        return found ? (JSON.parse(found.body) as Row) : null;
      },
      list: async (entity, q) => {
        const text = await query().read(
          { db: ctx.db, access: ctx.access },
          { kind: 'list', entity, query: restQuery(q) },
        );
        return JSON.parse(text as string) as { data: Row[]; nextCursor?: string };
      },
      create: async (entity, input) => (await one({ message: 'create', entity, input })).record!,
      update: async (entity, id, input) => (await one({ message: 'update', entity, id, input })).record!,
      upsert: async (entity, input, key) => (await one({ message: 'upsert', entity, key, input })).record!,
      delete: async (entity, id) => {
        await one({ message: 'delete', entity, id });
      },
      associate: async (relationship, fromId, toId) => {
        await one({ message: 'associate', relationship, fromId, toId });
      },
      disassociate: async (relationship, fromId, toId) => {
        await one({ message: 'disassociate', relationship, fromId, toId });
      },
      execute: async (name, input, target) => (await one({ message: 'custom', name, input, target })).output,
      asSystem: () => {
        // an explicit elevation: the same transaction, every record reachable; logged, audited as the caller
        ctx.log.info(
          { principal: ctx.principal, correlationId: ctx.correlationId },
          'plugin data access elevated to system',
        );
        return this.dataApi({ ...ctx, access: undefined });
      },
    };
  }

  /** A step that does not settle within the budget aborts the operation. */
  async #withBudget<T>(plugin: string, work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        // not the client's doing: a 500 with an error id, the step named in the log
        () => reject(new Error(`a step of plugin "${plugin}" took longer than ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(work), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
