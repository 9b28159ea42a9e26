/**
 * Reads through the query engine: parameters → checked ReadQuery → one SQL statement → the
 * response body as JSON text built by PostgreSQL. Statements of a shape seen before are reused
 * (and prepared on PostgreSQL), so a hot read skips parsing, checking and compiling.
 */
import type { ValidateFunction } from 'ajv';
import type { CompiledQuery } from 'kysely';
import { createAjv, toFieldErrors, unstorable } from '../../metadata/ajv.ts';
import { XrmError } from '../../metadata/errors.ts';
import type { JsonSchema } from '../../metadata/field-type.ts';
import type { Database, Db } from '../database.ts';
import { assertUuid } from '../records/service.ts';
import type { Runtime } from '../runtime.ts';
import { buildAggregateQuery, type AggregateParams } from './aggregate-query.ts';
import type { Projection, ReadQuery } from './ast.ts';
import { compileAggregate } from './compile-aggregate.ts';
import { CompileContext, type QueryHooks } from './compile-context.ts';
import { compileGet, compileList } from './compile-read.ts';
import { describeErrors, queryError, type ParseContext } from './filter-parse.ts';
import { buildReadQuery, checkProjection, type ReadParams } from './read-query.ts';
import { StatementCache, execute, withParameter } from './statement-cache.ts';
import { withFreshSchema } from '../schema-race.ts';

/** A stand-in id compiled into cached get statements, swapped for the real one per request. */
const SENTINEL_ID = '00000000-0000-4000-8000-00000000c0de';

export interface ReadOptions {
  /** Row predicates and field masks (the security layer); such reads are never cached. */
  hooks?: QueryHooks;
  /** Identifies the request's whole shape and values: the same key reuses the compiled statement. */
  cacheKey?: string;
  /** A transaction to read in (a mutation's read-back); a failed statement aborts it, so no retry. */
  db?: Db;
  /** The catalog version a prebuilt query was parsed against (GraphQL): see withFreshSchema. */
  basis?: number;
}

export class QueryService {
  readonly #database: Database;
  readonly #db: Db;
  readonly #runtime: Runtime;
  readonly #maxPageSize: number;
  readonly #ajv = createAjv();
  #checks = new Map<string, ValidateFunction>();
  #checksVersion = -1;

  constructor(database: Database, runtime: Runtime, maxPageSize: number) {
    this.#database = database;
    this.#db = database.db;
    this.#runtime = runtime;
    this.#maxPageSize = maxPageSize;
  }

  get maxPageSize(): number {
    return this.#maxPageSize;
  }

  /** Parsing context for the current catalog; `key` maps client names (GraphQL camelCase). */
  parseContext(key?: ParseContext['key']): ParseContext {
    const catalog = this.#runtime.state.catalog;
    if (catalog.version !== this.#checksVersion) {
      this.#checks = new Map();
      this.#checksVersion = catalog.version;
    }
    return {
      catalog,
      key,
      check: (schema: JsonSchema, value: unknown) => {
        const cacheKey = JSON.stringify(schema);
        let validate = this.#checks.get(cacheKey);
        if (!validate) this.#checks.set(cacheKey, (validate = this.#ajv.compile(schema)));
        if (!validate(value)) return describeErrors(toFieldErrors(validate.errors));
        const text = unstorable(value);
        return text.length ? describeErrors(text) : undefined;
      },
    };
  }

  #entity(name: string): void {
    if (!this.#runtime.state.catalog.entity(name)) throw new XrmError('XRM_ERR_METADATA_ENTITY_NOT_FOUND', `Entity "${name}" does not exist`);
  }

  #cache(options: ReadOptions): StatementCache | undefined {
    return options.cacheKey && !options.hooks ? StatementCache.of(this.#runtime.state) : undefined;
  }

  /**
   * A page of records as JSON text: `{"data":[…],"nextCursor"?,"totalCount"?}` — or null when
   * `params.parent` names a record that does not exist.
   */
  list(entity: string, params: ReadParams | (() => ReadParams), options: ReadOptions = {}): Promise<string | null> {
    return this.#fresh(options, () => {
      this.#entity(entity);
      const hit = this.#cache(options)?.get(options.cacheKey!);
      if (hit) return this.#body(hit, options.db);
      const read = typeof params === 'function' ? params() : params;
      return this.#runList(buildReadQuery(entity, read, this.parseContext(), this.#maxPageSize), options);
    });
  }

  /** Runs a built ReadQuery (GraphQL builds its own from the selection set). */
  async runList(query: Omit<ReadQuery, 'parent'>, options: ReadOptions = {}): Promise<string> {
    checkProjection(query.projection, '/');
    return (await this.#fresh(options, () => this.#runList(query, options)))!;
  }

  /** Runs a read again on a fresh catalog when a schema change raced it (see withFreshSchema). */
  #fresh<T>(options: ReadOptions, attempt: () => Promise<T>): Promise<T> {
    return withFreshSchema(this.#runtime, attempt, { basis: options.basis, retries: options.db ? 0 : undefined });
  }

  async #runList(query: ReadQuery, options: ReadOptions): Promise<string | null> {
    const compiled = compileList(query, new CompileContext(this.#runtime.state.catalog, options.hooks), this.#maxPageSize).compile(this.#db);
    // a cursor differs on every page: only cursor-less shapes are worth keeping
    if (!query.cursor) this.#cache(options)?.set(options.cacheKey!, compiled);
    return this.#body(compiled, options.db, query);
  }

  /** Cached statement of a GraphQL root list (see operations.ts), or undefined. */
  cachedList(cacheKey: string): CompiledQuery | undefined {
    return StatementCache.of(this.#runtime.state).get(cacheKey);
  }

  async runCompiled(query: CompiledQuery, options: ReadOptions = {}): Promise<string> {
    return (await this.#fresh(options, () => this.#body(query, options.db)))!;
  }

  async #body(query: CompiledQuery, db: Db = this.#db, read?: ReadQuery): Promise<string | null> {
    try {
      const rows = await execute<{ body: string | null }>(this.#database, db, query);
      // NULL only for a list whose parent record is missing (ReadQuery.parent)
      return rows[0]!.body;
    } catch (error) {
      // a cursor that decodes but carries values of the wrong type for the sort
      const code = (error as { code?: string }).code;
      if (read?.cursor && code?.startsWith('22')) {
        throw queryError(read.shape === 'rest' ? '/cursor' : read.backward ? '/before' : '/after', 'is not a cursor this API issued for this sort order');
      }
      throw error;
    }
  }

  /** One record as JSON text with its row version, or undefined when it does not exist. */
  get(entity: string, id: string, params: Pick<ReadParams, 'select' | 'expand'> | (() => Pick<ReadParams, 'select' | 'expand'>), options: ReadOptions = {}): Promise<{ body: string; version: number } | undefined> {
    return this.#fresh(options, async () => {
      this.#entity(entity);
      assertUuid(id);
      const cache = this.#cache(options);
      let compiled = cache?.get(options.cacheKey!);
      if (!compiled) {
        const read = typeof params === 'function' ? params() : params;
        const query = buildReadQuery(entity, read, this.parseContext(), this.#maxPageSize);
        compiled = compileGet(entity, query.projection, SENTINEL_ID, new CompileContext(this.#runtime.state.catalog, options.hooks)).compile(this.#db);
        cache?.set(options.cacheKey!, compiled);
      }
      const index = compiled.parameters.indexOf(SENTINEL_ID);
      const rows = await execute<{ body: string; version: number }>(this.#database, options.db ?? this.#db, withParameter(compiled, index, id));
      return rows[0];
    });
  }

  /** One record with a built projection (JSON text and row version), or undefined. */
  runGet(entity: string, projection: Projection, id: string, options: ReadOptions = {}): Promise<{ body: string; version: number } | undefined> {
    checkProjection(projection, '/');
    return this.#fresh(options, async () => {
      this.#entity(entity);
      assertUuid(id);
      const compiled = compileGet(entity, projection, id, new CompileContext(this.#runtime.state.catalog, options.hooks)).compile(this.#db);
      const rows = await execute<{ body: string; version: number }>(this.#database, options.db ?? this.#db, compiled);
      return rows[0];
    });
  }

  /** Aggregates as JSON text: `{"data":[{…group keys…, …aggregates…}]}`. */
  aggregate(entity: string, params: AggregateParams | (() => AggregateParams), options: ReadOptions & { key?: ParseContext['key'] } = {}): Promise<string> {
    return this.#fresh(options, async () => {
      this.#entity(entity);
      const cache = this.#cache(options);
      let compiled = cache?.get(options.cacheKey!);
      if (!compiled) {
        const query = buildAggregateQuery(entity, typeof params === 'function' ? params() : params, this.parseContext(options.key));
        compiled = compileAggregate(query, new CompileContext(this.#runtime.state.catalog, options.hooks)).compile(this.#db);
        cache?.set(options.cacheKey!, compiled);
      }
      return (await this.#body(compiled, options.db))!;
    });
  }
}
