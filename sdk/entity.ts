/**
 * The client of one entity: `client.entity('partner')`. Every method is one request to
 * /api/data/{entity}…; types come from the entity map, so fields, filters, sorts, expansions and
 * record bodies are checked by the compiler.
 */
import {
  aggregateParams,
  type AggregateOptions,
  type AggregateRow,
  type AggregateSpec,
  type GroupKey,
} from './aggregate.ts';
import type { Transport } from './http.ts';
import { listParams, type GetOptions, type ListOptions, type ListResult, type LooseListOptions } from './query.ts';
import type { Expansion, Row, Selection } from './rows.ts';
import type { AnyEntities, CreateOf, Described, KeyOf, ManyToManyOf, ReadOf, RelationsOf, UpdateOf } from './schema.ts';

/** Optimistic concurrency: only if the record is still at this version (`record.version`, or an ETag). */
export interface WriteOptions {
  ifMatch?: number | string;
}

export type BulkOperation = 'create' | 'update' | 'upsert' | 'delete';

/** One item of a bulk request: a record to create or upsert, changes with the id, or an id to delete. */
export type BulkItem<E, N extends keyof E, Op extends BulkOperation> = Op extends 'create' | 'upsert'
  ? CreateOf<E, N>
  : Op extends 'update'
    ? UpdateOf<E, N> & { id: string; version?: number }
    : { id: string; version?: number };

/** What a bulk request returns per item: the record written, or the id deleted. */
export type BulkResult<E, N extends keyof E, Op extends BulkOperation> = Op extends 'delete'
  ? { id: string }
  : ReadOf<E, N>;

/** An upsert's outcome: the record, and whether it was created (else updated). */
export interface UpsertResult<T> {
  record: T;
  created: boolean;
}

/** Names of the to-many relations of `N` (any string when the map does not describe them). */
export type RelationName<E, N extends keyof E> =
  Described<E, N> extends true ? keyof RelationsOf<E, N> & string : string;
/** The map the related records are typed by. */
export type RelatedMap<E, N extends keyof E> = Described<E, N> extends true ? E : AnyEntities;
/** The entity on the far side of relation `R`. */
export type RelatedEntity<E, N extends keyof E, R> = Extract<
  Described<E, N> extends true ? RelationsOf<E, N>[R & keyof RelationsOf<E, N>] : string,
  keyof RelatedMap<E, N>
>;

export interface EntityClient<E, N extends keyof E> {
  /** The entity's logical name. */
  readonly name: N;

  /**
   * One page of records: filter, search, sort, select, expand, cursor or offset paging.
   *
   * @example
   * const page = await client.entity('partner').list({
   *   select: ['name', 'tier', 'annual_revenue'],
   *   filter: { tier: { in: ['gold'] }, annual_revenue: { gte: 1000 } },
   *   sort: ['-annual_revenue', 'name'],
   *   limit: 20,
   *   count: true,
   * });
   * const names: string[] = page.data.map((p) => p.name);
   * const next: string | undefined = page.nextCursor;
   */
  list<const S extends Selection<E, N> | undefined = undefined, const X extends Expansion<E, N> = {}>(
    options?: ListOptions<E, N, S, X>,
  ): Promise<ListResult<Row<E, N, S, X>>>;

  /**
   * Every matching record, page after page (following `nextCursor`).
   *
   * @example
   * for await (const supplier of client.entity('supplier').iterate({ filter: { rating: { gte: 4 } }, limit: 100 })) {
   *   const code: string = supplier.code;
   * }
   */
  iterate<const S extends Selection<E, N> | undefined = undefined, const X extends Expansion<E, N> = {}>(
    options?: Omit<ListOptions<E, N, S, X>, 'cursor' | 'offset'>,
  ): AsyncIterable<Row<E, N, S, X>>;

  /**
   * One record by id; an XrmApiError with code XRM_ERR_RECORD_NOT_FOUND when there is none.
   *
   * @example
   * const employee = await client.entity('employee').get('11111111-1111-4111-8111-111111111111', {
   *   select: ['full_name'],
   *   expand: { manager: { select: ['full_name'] }, reports: { select: ['full_name'], limit: 5 } },
   * });
   * const managerName: string | undefined = employee.manager?.full_name;
   * const reportNames: string[] = employee.reports.map((r) => r.full_name);
   */
  get<const S extends Selection<E, N> | undefined = undefined, const X extends Expansion<E, N> = {}>(
    id: string,
    options?: GetOptions<E, N, S, X>,
  ): Promise<Row<E, N, S, X>>;

  /**
   * Creates a record; the stored record comes back (ids, defaults and autonumbers filled in).
   *
   * @example
   * const partner = await client.entity('partner').create({ name: 'Contoso', tier: 'gold', annual_revenue: 1200.5 });
   * const version: number = partner.version;
   */
  create(record: CreateOf<E, N>): Promise<ReadOf<E, N>>;

  /**
   * Changes the fields given. With `ifMatch` (a version or an ETag) only if the record was not
   * changed since: else an XrmApiError with code XRM_ERR_RECORD_VERSION_MISMATCH (412).
   *
   * @example
   * const partners = client.entity('partner');
   * const read = await partners.get('7c9e6679-7425-40de-944b-e07fc1f90ae7');
   * await partners.update(read.id, { tier: 'silver', website: null }, { ifMatch: read.version });
   */
  update(id: string, changes: UpdateOf<E, N>, options?: WriteOptions): Promise<ReadOf<E, N>>;

  /** Deletes a record (with `ifMatch`, only if it is still at that version). */
  delete(id: string, options?: WriteOptions): Promise<void>;

  /**
   * Creates the record, or updates the one with the same values of alternate key `key`
   * (declared with POST /api/metadata/entities/{name}/keys); `created` tells which happened.
   *
   * @example
   * const { record, created } = await client.entity('partner').upsert('partner_email', {
   *   name: 'Acme Corporation',
   *   email: 'hello@acme.example',
   * });
   * const id: string = record.id;
   */
  upsert(key: KeyOf<E, N>, record: CreateOf<E, N>): Promise<UpsertResult<ReadOf<E, N>>>;

  /**
   * Up to 1,000 creates, updates (with `id`), upserts or deletes (`{ id }`) in one all-or-nothing
   * request; a refusal names the item (`/records/<i>/<field>`).
   *
   * @example
   * const created = await client.entity('supplier').bulk('create', [{ name: 'A', rating: 3 }, { name: 'B' }]);
   * await client.entity('supplier').bulk('delete', created.map((s) => ({ id: s.id })));
   */
  bulk<Op extends BulkOperation>(
    operation: Op,
    records: readonly BulkItem<E, N, Op>[],
    options?: { key?: KeyOf<E, N> },
  ): Promise<BulkResult<E, N, Op>[]>;

  /**
   * Counts, sums, averages, minimums and maximums, grouped by fields, lookup fields or date parts.
   *
   * @example
   * const rows = await client.entity('partner').aggregate({
   *   aggregate: ['count', 'sum(annual_revenue)'],
   *   groupBy: ['region', 'year(partner_since)'],
   *   filter: { tier: { eq: 'gold' } },
   * });
   * const total: number | null = rows[0]!.sum_annual_revenue;
   * const year: number | null = rows[0]!.year_partner_since;
   */
  aggregate<
    const A extends readonly AggregateSpec<E, N>[] = readonly ['count'],
    const G extends readonly GroupKey<E, N>[] = readonly [],
  >(options?: AggregateOptions<E, N, A, G>): Promise<AggregateRow<E, N, A, G>[]>;

  /**
   * Records on the far side of a to-many relation of one record (every list option applies).
   *
   * @example
   * const reports = await client
   *   .entity('employee')
   *   .related('11111111-1111-4111-8111-111111111111', 'reports', { sort: ['full_name'] });
   * const names: string[] = reports.data.map((e) => e.full_name);
   */
  related<
    R extends RelationName<E, N>,
    const S extends Selection<RelatedMap<E, N>, RelatedEntity<E, N, R>> | undefined = undefined,
    const X extends Expansion<RelatedMap<E, N>, RelatedEntity<E, N, R>> = {},
  >(
    id: string,
    relation: R,
    options?: ListOptions<RelatedMap<E, N>, RelatedEntity<E, N, R>, S, X>,
  ): Promise<ListResult<Row<RelatedMap<E, N>, RelatedEntity<E, N, R>, S, X>>>;

  /** Links two records through a many-to-many relation. */
  associate(id: string, relation: ManyToManyOf<E, N>, otherId: string): Promise<void>;

  /** Unlinks two records of a many-to-many relation. */
  disassociate(id: string, relation: ManyToManyOf<E, N>, otherId: string): Promise<void>;

  /**
   * A record's audit history, newest first (`nextCursor` pages on); kept after a delete.
   *
   * @example
   * const { data } = await client.entity('partner').history('7c9e6679-7425-40de-944b-e07fc1f90ae7');
   * for (const entry of data) console.log(entry.message, entry.actor, entry.changes);
   */
  history(id: string, options?: { limit?: number; cursor?: string }): Promise<HistoryPage>;
}

/** One audited write of a record: who, when, which message, each field old → new. */
export interface HistoryEntry {
  readonly id: string;
  readonly message: 'create' | 'update' | 'delete' | 'associate' | 'disassociate';
  readonly actor: string;
  readonly correlationId: string;
  readonly depth: number;
  readonly at: string;
  readonly changes: readonly { readonly field: string; readonly old?: unknown; readonly new?: unknown }[];
}

export interface HistoryPage {
  readonly data: HistoryEntry[];
  readonly nextCursor?: string;
}

const segment = encodeURIComponent;

function ifMatch(options: WriteOptions | undefined): { [name: string]: string } | undefined {
  if (options?.ifMatch === undefined) return undefined;
  return { 'if-match': typeof options.ifMatch === 'number' ? `"${options.ifMatch}"` : options.ifMatch };
}

/** The untyped implementation behind EntityClient. */
export function entityClient<E, N extends keyof E & string>(transport: Transport, name: N): EntityClient<E, N> {
  const base = `/api/data/${segment(name)}`;
  const one = (id: string) => `${base}/${segment(id)}`;
  const list = async (path: string, options: LooseListOptions = {}) =>
    (await transport.request<ListResult<never>>({ method: 'GET', path, query: listParams(options) })).body;
  const client = {
    name,
    list: (options?: LooseListOptions) => list(base, options),
    async *iterate(options: LooseListOptions = {}) {
      let cursor: string | undefined;
      do {
        const page = await list(base, { ...options, cursor });
        yield* page.data;
        cursor = page.nextCursor;
      } while (cursor);
    },
    async get(id: string, options: LooseListOptions = {}) {
      const { select, expand } = options;
      return (await transport.request({ method: 'GET', path: one(id), query: listParams({ select, expand }) })).body;
    },
    async create(record: object) {
      return (await transport.request({ method: 'POST', path: base, body: record })).body;
    },
    async history(id: string, options: { limit?: number; cursor?: string } = {}) {
      const query: [string, string][] = [];
      if (options.limit !== undefined) query.push(['limit', String(options.limit)]);
      if (options.cursor !== undefined) query.push(['cursor', options.cursor]);
      return (await transport.request<HistoryPage>({ method: 'GET', path: `${one(id)}/history`, query })).body;
    },
    async update(id: string, changes: object, options?: WriteOptions) {
      return (await transport.request({ method: 'PATCH', path: one(id), body: changes, headers: ifMatch(options) }))
        .body;
    },
    async delete(id: string, options?: WriteOptions) {
      await transport.request({ method: 'DELETE', path: one(id), headers: ifMatch(options) });
    },
    async upsert(key: string, record: object) {
      const response = await transport.request({
        method: 'POST',
        path: `${base}/upsert`,
        query: [['key', key]],
        body: record,
      });
      return { record: response.body, created: response.status === 201 };
    },
    async bulk(operation: BulkOperation, records: readonly object[], options: { key?: string } = {}) {
      const body = { operation, ...(options.key === undefined ? {} : { key: options.key }), records };
      return (await transport.request<{ data: unknown[] }>({ method: 'POST', path: `${base}/bulk`, body })).body.data;
    },
    async aggregate(options: Parameters<typeof aggregateParams>[0] = {}) {
      return (
        await transport.request<{ data: unknown[] }>({
          method: 'GET',
          path: `${base}/aggregate`,
          query: aggregateParams(options),
        })
      ).body.data;
    },
    related: (id: string, relation: string, options?: LooseListOptions) =>
      list(`${one(id)}/${segment(relation)}`, options),
    async associate(id: string, relation: string, otherId: string) {
      await transport.request({ method: 'POST', path: `${one(id)}/${segment(relation)}`, body: { id: otherId } });
    },
    async disassociate(id: string, relation: string, otherId: string) {
      await transport.request({ method: 'DELETE', path: `${one(id)}/${segment(relation)}/${segment(otherId)}` });
    },
  };
  return client as unknown as EntityClient<E, N>;
}
