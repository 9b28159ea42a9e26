/**
 * Reads through the query engine: parameters → checked ReadQuery → one SQL statement → the
 * response body as JSON text built by PostgreSQL.
 */
import type { ValidateFunction } from 'ajv';
import { createAjv, toFieldErrors } from '../../metadata/ajv.ts';
import { XrmError } from '../../metadata/errors.ts';
import type { JsonSchema } from '../../metadata/field-type.ts';
import type { Db } from '../database.ts';
import type { Runtime } from '../runtime.ts';
import { assertUuid } from '../records/service.ts';
import type { AggregateQuery, Projection, ReadQuery } from './ast.ts';
import { compileAggregate } from './compile-aggregate.ts';
import { CompileContext, type QueryHooks } from './compile-context.ts';
import { compileGet, compileList } from './compile-read.ts';
import { describeErrors, queryError, type ParseContext } from './filter-parse.ts';
import { buildAggregateQuery, type AggregateParams } from './aggregate-query.ts';
import { buildReadQuery, type ReadParams } from './read-query.ts';

export class QueryService {
  readonly #db: Db;
  readonly #runtime: Runtime;
  readonly #maxPageSize: number;
  readonly #ajv = createAjv();
  #checks = new Map<string, ValidateFunction>();
  #checksVersion = -1;

  constructor(db: Db, runtime: Runtime, maxPageSize: number) {
    this.#db = db;
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
        return validate(value) ? undefined : describeErrors(toFieldErrors(validate.errors));
      },
    };
  }

  #entity(name: string) {
    if (!this.#runtime.state.catalog.entity(name)) throw new XrmError('XRM_ERR_METADATA_ENTITY_NOT_FOUND', `Entity "${name}" does not exist`);
  }

  /** A page of records as JSON text: `{"data":[…],"nextCursor"?,"totalCount"?}`. */
  async list(entity: string, params: ReadParams, hooks?: QueryHooks, db: Db = this.#db): Promise<string> {
    this.#entity(entity);
    return this.runList(buildReadQuery(entity, params, this.parseContext(), this.#maxPageSize), hooks, db);
  }

  /** Runs a built ReadQuery (GraphQL builds its own from the selection set). */
  async runList(query: ReadQuery, hooks?: QueryHooks, db: Db = this.#db): Promise<string> {
    const statement = compileList(query, new CompileContext(this.#runtime.state.catalog, hooks), this.#maxPageSize);
    try {
      const { rows } = await statement.execute(db);
      return rows[0]!.body;
    } catch (error) {
      // a cursor that decodes but carries values of the wrong type for the sort
      const code = (error as { code?: string }).code;
      if (query.cursor && code?.startsWith('22')) {
        throw queryError(query.shape === 'rest' ? '/cursor' : query.backward ? '/before' : '/after', 'is not a cursor this API issued for this sort order');
      }
      throw error;
    }
  }

  /** One record with a built projection (JSON text and row version), or undefined. */
  async runGet(entity: string, projection: Projection, id: string, hooks?: QueryHooks, db: Db = this.#db): Promise<{ body: string; version: number } | undefined> {
    this.#entity(entity);
    assertUuid(id);
    const { rows } = await compileGet(entity, projection, id, new CompileContext(this.#runtime.state.catalog, hooks)).execute(db);
    return rows[0];
  }

  /** One record as JSON text with its row version, or undefined when it does not exist. */
  async get(entity: string, id: string, params: Pick<ReadParams, 'select' | 'expand'>, hooks?: QueryHooks, db: Db = this.#db): Promise<{ body: string; version: number } | undefined> {
    this.#entity(entity);
    const query = buildReadQuery(entity, params, this.parseContext(), this.#maxPageSize);
    return this.runGet(entity, query.projection, id, hooks, db);
  }

  /** Aggregates as JSON text: `{"data":[{…group keys…, …aggregates…}]}`. */
  async aggregate(entity: string, params: AggregateParams, hooks?: QueryHooks, key?: ParseContext['key'], db: Db = this.#db): Promise<string> {
    this.#entity(entity);
    const ctx = this.parseContext(key);
    const query: AggregateQuery = buildAggregateQuery(entity, params, ctx);
    const { rows } = await compileAggregate(query, new CompileContext(ctx.catalog, hooks)).execute(db);
    return rows[0]!.body;
  }
}
