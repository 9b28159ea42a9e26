/**
 * The one door for reads: `read(ctx, request)`. A request is what a client sent (REST parameters
 * as strings) or what GraphQL built from its selection set; it becomes a checked ReadQuery, then
 * ONE SQL statement whose single column is the response body, built by PostgreSQL. Statements of
 * a shape seen before are reused (and prepared on PostgreSQL): a hot read skips parsing,
 * checking and compiling. The cache keys are made here, from the request; callers make none.
 */
import type { ValidateFunction } from 'ajv';
import { type CompiledQuery, sql } from 'kysely';
import { table } from '../../metadata/physical-names.ts';
import { compileFilter } from './compile-filter.ts';
import { createAjv, toFieldErrors, unstorable } from '../../metadata/ajv.ts';
import type { Catalog, Navigation } from '../../metadata/catalog.ts';
import type { JsonSchema } from '../../metadata/field-type.ts';
import type { Database, Db } from '../../metadata/database.ts';
import { assertUuid } from '../record-id.ts';
import type { Runtime } from '../runtime.ts';
import { withFreshSchema } from '../schema-race.ts';
import { buildAggregateQuery, type AggregateParams } from './aggregate-query.ts';
import type { Projection, ReadQuery } from './ast.ts';
import { compileAggregate } from './compile-aggregate.ts';
import { CompileContext, type QueryHooks } from './compile-context.ts';
import { compileGet, compileList } from './compile-read.ts';
import { describeErrors, parseFilter, queryError, type ParseContext } from './filter-parse.ts';
import { buildReadQuery, checkProjection } from './read-query.ts';
import { parseRestAggregate, parseRestQuery, type RestAggregateQuery, type RestQuery } from './rest-params.ts';
import { StatementCache, execute, withParameter } from './statement-cache.ts';
import type { Access } from '../security/access.ts';
import { bindSubject } from '../security/subject.ts';

/** Who reads, and how. */
export interface ReadContext {
  /**
   * Who reads: the policy's read predicates and field masks go inside the statement, which is
   * cached by shape + policy (its user's values bound when it runs). Absent: the system.
   */
  readonly access?: Access;
  /** A transaction to read in (a mutation's read-back); a failed statement aborts it, so no retry. */
  readonly db?: Db;
  /** The catalog version a built request was parsed against (GraphQL): see withFreshSchema. */
  readonly basis?: number;
}

/**
 * A request built by the caller: `shape` is the same object for the same query text (a parsed
 * GraphQL node), `values` its arguments.
 */
interface Built<T> {
  readonly shape: object;
  readonly values: unknown;
  build(parse: ParseContext): T;
}

export type ReadRequest =
  /** A page of records of an entity, from REST parameters. */
  | { readonly kind: 'list'; readonly entity: string; readonly query: RestQuery }
  /** A page of the records related to one record; null when that record does not exist. */
  | {
      readonly kind: 'related';
      readonly entity: string;
      readonly id: string;
      readonly navigation: Navigation;
      readonly query: RestQuery;
    }
  /**
   * A page of the activities (`target`) linked to one tracked record, newest first: its timeline;
   * null when that record does not exist or is hidden from the caller.
   */
  | {
      readonly kind: 'linked';
      readonly entity: string;
      readonly id: string;
      readonly target: string;
      readonly query: RestQuery;
      /** The links a page can come from (see the `linkedTo` filter node). */
      readonly page?: { readonly limit: number; readonly after?: readonly [string, string] };
    }
  /** One record with REST select/expand. */
  | {
      readonly kind: 'get';
      readonly entity: string;
      readonly id: string;
      readonly query: Pick<RestQuery, 'select' | 'expand'>;
    }
  /** Aggregates from REST parameters. */
  | { readonly kind: 'aggregate'; readonly entity: string; readonly query: RestAggregateQuery }
  /** A page built by the caller (a GraphQL connection). */
  | ({ readonly kind: 'page' } & Built<Omit<ReadQuery, 'parent'>>)
  /** One record with a projection built by the caller (a GraphQL object). */
  | ({ readonly kind: 'record'; readonly entity: string; readonly id: string } & Built<Projection>)
  /** Aggregates with parameters in the caller's names (`key` maps them: GraphQL camelCase). */
  | {
      readonly kind: 'aggregates';
      readonly entity: string;
      readonly params: AggregateParams;
      readonly key?: (catalog: Catalog) => ParseContext['key'];
    };

/** One record as JSON text with its row version. */
export interface Found {
  readonly body: string;
  readonly version: number;
}

export type ReadResult<R extends ReadRequest> = R['kind'] extends 'get' | 'record'
  ? Found | undefined
  : R['kind'] extends 'related' | 'linked'
    ? string | null
    : string;

const shapeIds = new WeakMap<object, number>();
let nextShapeId = 0;

function shapeId(shape: object): number {
  let id = shapeIds.get(shape);
  if (id === undefined) shapeIds.set(shape, (id = nextShapeId++));
  return id;
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

  /**
   * Parsing context for the current catalog; `key` maps client names (GraphQL camelCase); with
   * `access`, naming a secured field the caller may not read is a 403.
   */
  parseContext(key?: ParseContext['key'], access?: Access): ParseContext {
    const catalog = this.#runtime.state.catalog;
    if (catalog.version !== this.#checksVersion) {
      this.#checks = new Map();
      this.#checksVersion = catalog.version;
    }
    const policy = access?.policy;
    return {
      catalog,
      key,
      readable: policy && !policy.unrestricted ? (entity, field) => policy.field(entity, field).read : undefined,
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

  /** Checks a JSON filter on an entity (400 naming the paths under `path`); answers it parsed. */
  checkFilter(entity: string, filter: unknown, path = '/filter'): void {
    parseFilter(entity, filter, this.parseContext(), path);
  }

  /**
   * Whether a record image (a row as JSON, pre- or post-image) meets a JSON filter — compiled by
   * the same compiler as every read and tested by PostgreSQL on the image as a row of the
   * entity's table, in the caller's transaction (webhook filters).
   */
  async matches(db: Db, entity: string, filter: unknown, image: Record<string, unknown>): Promise<boolean> {
    const node = parseFilter(entity, filter, this.parseContext());
    const where = compileFilter(node, entity, 't0', new CompileContext(this.#runtime.state.catalog));
    const row = sql`json_populate_record(NULL::${table(entity)}, ${JSON.stringify(image)}::json)`;
    const { rows } = await sql<{ ok: boolean }>`SELECT EXISTS (SELECT 1 FROM ${row} t0 WHERE ${where}) AS ok`.execute(
      db,
    );
    return rows[0]?.ok === true;
  }

  /**
   * Reads: the response body as JSON text (`{"data":[…],"nextCursor"?,"totalCount"?}` for pages,
   * `{"data":[…]}` for aggregates), one record with its version, or nothing. Run again on a fresh
   * catalog when a schema change raced it (withFreshSchema).
   */
  read<R extends ReadRequest>(ctx: ReadContext, request: R): Promise<ReadResult<R>> {
    return withFreshSchema(this.#runtime, () => this.#read(ctx, request) as Promise<ReadResult<R>>, {
      basis: ctx.basis,
      retries: ctx.db ? 0 : undefined,
    });
  }

  async #read(ctx: ReadContext, request: ReadRequest): Promise<string | null | Found | undefined> {
    const catalog = this.#runtime.state.catalog;
    const parse = (key?: ParseContext['key']) => this.parseContext(key, ctx.access);
    switch (request.kind) {
      case 'list': {
        catalog.require(request.entity);
        return this.#page(ctx, `list:${request.entity}:${JSON.stringify(request.query)}`, () =>
          buildReadQuery(request.entity, parseRestQuery(request.query), parse(), this.#maxPageSize),
        );
      }
      case 'related': {
        catalog.require(request.entity);
        assertUuid(request.id);
        const { navigation: nav, id } = request;
        const target = nav.kind === 'inverse' ? nav.source : nav.other;
        // one statement: the page, or no body when the parent record does not exist
        const read = {
          ...parseRestQuery(request.query),
          scope: { kind: 'relatedTo', navigation: nav, id } as const,
          parent: { entity: request.entity, id },
        };
        return this.#page(ctx, undefined, () => buildReadQuery(target, read, parse(), this.#maxPageSize));
      }
      case 'linked': {
        catalog.require(request.entity);
        catalog.require(request.target);
        assertUuid(request.id);
        const { entity, id } = request;
        const read = {
          ...parseRestQuery(request.query),
          scope: { kind: 'linkedTo', entity, id, page: request.page } as const,
          parent: { entity, id },
        };
        return this.#page(ctx, undefined, () => buildReadQuery(request.target, read, parse(), this.#maxPageSize));
      }
      case 'page':
        return this.#page(ctx, `page:${shapeId(request.shape)}:${JSON.stringify(request.values)}`, () => {
          const query = request.build(parse());
          checkProjection(query.projection, '/');
          return query;
        });
      case 'get':
        catalog.require(request.entity);
        return this.#record(
          ctx,
          request.id,
          `get:${request.entity}:${JSON.stringify(request.query)}`,
          () => {
            const { select, expand } = parseRestQuery(request.query);
            return buildReadQuery(request.entity, { select, expand }, parse(), this.#maxPageSize).projection;
          },
          request.entity,
        );
      case 'record':
        catalog.require(request.entity);
        return this.#record(
          ctx,
          request.id,
          `record:${shapeId(request.shape)}:${JSON.stringify(request.values)}`,
          () => {
            const projection = request.build(parse());
            checkProjection(projection, '/');
            return projection;
          },
          request.entity,
        );
      case 'aggregate':
      case 'aggregates': {
        catalog.require(request.entity);
        const key =
          request.kind === 'aggregate' ? `aggregate:${request.entity}:${JSON.stringify(request.query)}` : undefined;
        return this.#statement(ctx, key, () => {
          const params = request.kind === 'aggregate' ? parseRestAggregate(request.query) : request.params;
          const parsing = parse(request.kind === 'aggregates' ? request.key?.(catalog) : undefined);
          return compileAggregate(
            buildAggregateQuery(request.entity, params, parsing),
            this.#compileContext(ctx),
          ).compile(this.#db);
        }).then(({ compiled }) => this.#body(ctx, compiled)) as Promise<string>;
      }
    }
  }

  #compileContext(ctx: ReadContext): CompileContext {
    return new CompileContext(this.#runtime.state.catalog, this.#hooks(ctx));
  }

  /** The read predicates and field masks of the caller's policy (none for the system). */
  #hooks(ctx: ReadContext): QueryHooks | undefined {
    const policy = ctx.access?.policy;
    if (!policy || policy.unrestricted) return undefined;
    const catalog = this.#runtime.state.catalog;
    return {
      rowPredicate: (entity, alias) => policy.predicate(entity, 'read', alias, catalog),
      fieldReadable: (entity, field) => policy.readable(catalog, entity, field),
    };
  }

  /** A statement with the caller's values bound (policy predicates hold SubjectParameters). */
  #bind(ctx: ReadContext, query: CompiledQuery): CompiledQuery {
    return bindSubject(query, ctx.access?.subject);
  }

  /** A compiled statement from the cache of this catalog version, or compiled now (and kept when `keep`). */
  async #statement(
    ctx: ReadContext,
    key: string | undefined,
    compile: () => CompiledQuery,
    keep?: (q: CompiledQuery) => boolean,
  ) {
    const cache = key ? StatementCache.of(this.#runtime.state) : undefined;
    // by shape + policy: every user of the same roles shares the statement
    if (key) key = `${ctx.access?.policy.key ?? '*'}|${key}`;
    const hit = cache?.get(key!);
    if (hit) return { compiled: hit, hit: true };
    const compiled = compile();
    if (cache && (keep?.(compiled) ?? true)) cache.set(key!, compiled);
    return { compiled, hit: false };
  }

  async #page(ctx: ReadContext, key: string | undefined, build: () => ReadQuery): Promise<string | null> {
    let read: ReadQuery | undefined;
    const { compiled } = await this.#statement(
      ctx,
      key,
      () => {
        read = build();
        return compileList(read, this.#compileContext(ctx), this.#maxPageSize).compile(this.#db);
      },
      // a cursor differs on every page: only cursor-less shapes are worth keeping
      () => !read?.cursor,
    );
    return this.#body(ctx, compiled, read);
  }

  /** One record: the statement takes the id as its first parameter, so a cached shape serves any id. */
  async #record(
    ctx: ReadContext,
    id: string,
    key: string,
    projection: () => Projection,
    entity: string,
  ): Promise<Found | undefined> {
    assertUuid(id);
    const { compiled } = await this.#statement(ctx, key, () =>
      compileGet(entity, projection(), id, this.#compileContext(ctx)).compile(this.#db),
    );
    const rows = await execute<Found>(
      this.#database,
      ctx.db ?? this.#db,
      this.#bind(ctx, withParameter(compiled, 0, id)),
    );
    return rows[0];
  }

  async #body(ctx: ReadContext, query: CompiledQuery, read?: ReadQuery): Promise<string | null> {
    try {
      const rows = await execute<{ body: string | null }>(this.#database, ctx.db ?? this.#db, this.#bind(ctx, query));
      // NULL only for a list whose parent record is missing (ReadQuery.parent)
      return rows[0]!.body;
    } catch (error) {
      // a cursor that decodes but carries values of the wrong type for the sort
      const code = (error as { code?: string }).code;
      if (read?.cursor && code?.startsWith('22')) {
        throw queryError(
          read.shape === 'rest' ? '/cursor' : read.backward ? '/before' : '/after',
          'is not a cursor this API issued for this sort order',
        );
      }
      throw error;
    }
  }
}
