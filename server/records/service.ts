/**
 * The records service: one function per write message — create, update, upsert, delete, bulk,
 * associate, disassociate. REST and GraphQL both call these (reads go through the query engine),
 * so the plugin pipeline and the permission layer wrap them here. Every input is validated with
 * the entity's JSON Schema; database refusals become coded problems naming the field.
 */
import { randomUUID } from 'node:crypto';
import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import { toFieldErrors, unstorable } from '../../metadata/ajv.ts';
import { column, table } from '../../metadata/physical-names.ts';
import { XrmError, type FieldError } from '../../metadata/errors.ts';
import type { AlternateKeyDef, EntityDef } from '../../metadata/types.ts';
import type { Database, Db } from '../../metadata/database.ts';
import { execute } from '../query/statement-cache.ts';
import type { ApiState, Runtime } from '../runtime.ts';
import { assertUuid } from '../record-id.ts';
import { withFreshSchema } from '../schema-race.ts';
import { mapDatabaseError } from './database-errors.ts';
import type { Access } from '../security/access.ts';
import { bindSubject, type Subject } from '../security/subject.ts';
import { accessDenied, WriteAccess } from './write-access.ts';
import { CreateBatches, refusedStatement } from './create-batches.ts';
import {
  CreateTemplates,
  createStatement,
  encodeValue,
  type PendingCreate,
  type RecordJson,
} from './create-statements.ts';

export type { RecordJson } from './create-statements.ts';
type Row = Record<string, unknown>;

/** An update's outcome: the record as written, and as it was. */
export interface Updated {
  readonly record: RecordJson;
  readonly old: Row;
}

/** Called inside a bulk create's transaction with the records as written (the audit trail, the outbox). */
export type BulkJournal = (trx: Db, created: readonly RecordJson[]) => Promise<void>;

export interface WriteOptions {
  /** Optimistic concurrency: the version the client last read (REST If-Match, GraphQL expectedVersion). */
  expectedVersion?: number;
  /**
   * Data-modifying CTEs (`x0 AS (…), x1 AS (…)`) that join the write's SAME statement, reading
   * `w(record json, old json, correlation_id text)`: the audit row and the automation jobs of a
   * write no step observes, in one round trip.
   */
  also?: RawBuilder<unknown>;
  /** `w.correlation_id` for `also`: the operation's correlation id. */
  correlationId?: string;
  /** Who writes: the policy's predicates and checks join the statement (write-access.ts). Absent: the system. */
  access?: Access;
}

export type BulkOperation = 'create' | 'update' | 'upsert' | 'delete';

/**
 * Statements of one create shape running at once before further creates of it queue and then
 * share a statement (create-batches.ts). Measured with wrk (8 connections, two cores): see
 * docs/benchmarks.md, "Concurrent creates share a statement".
 */
const CREATES_IN_FLIGHT = 2;

/** Parameters a shared create statement's rows may take at most (the protocol's limit is 65,535). */
const MAX_BATCH_PARAMETERS = 30_000;

export interface BulkRequest {
  operation: BulkOperation;
  /** Alternate key name (upsert). */
  key?: string;
  records: unknown[];
}

export const MAX_BULK = 1000;

function invalidRecord(entity: string, errors: FieldError[]): XrmError {
  return new XrmError(
    'XRM_ERR_RECORD_INVALID',
    `The ${entity} record is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    { errors },
  );
}

/** Prefixes the field paths of a coded error (bulk items: `/records/3`). */
export function withPrefix(error: unknown, prefix: string): unknown {
  if (!(error instanceof XrmError)) return error;
  const errors = (error.errors?.length ? error.errors : [{ path: '/', message: error.message }]).map((e) => ({
    path: prefix + (e.path === '/' ? '' : e.path),
    message: e.message,
  }));
  return new XrmError(error.code, `${prefix}: ${error.message}`, {
    errors,
    extensions: error.extensions,
    cause: error,
  });
}

/** Subjects as lane-key text, each written once: an access and its subject are kept per credential. */
const subjectTexts = new WeakMap<Subject, string>();

function subjectText(subject: Subject | undefined): string {
  if (!subject) return 'null';
  let text = subjectTexts.get(subject);
  if (text === undefined) subjectTexts.set(subject, (text = JSON.stringify(subject)));
  return text;
}

export class RecordsService {
  readonly #database: Database;
  readonly #db: Db;
  readonly #runtime: Runtime;

  readonly #creates: CreateBatches;
  readonly #batchRows: number;

  constructor(database: Database, runtime: Runtime, options: { createBatchRows?: number } = {}) {
    this.#database = database;
    this.#db = database.db;
    this.#runtime = runtime;
    this.#batchRows = options.createBatchRows ?? 64;
    this.#creates = new CreateBatches({ inFlight: CREATES_IN_FLIGHT, maxRows: this.#batchRows });
  }

  /** How many creates went in shared statements so far (create-batches.ts). */
  get batchedCreates(): { statements: number; rows: number; replayed: number; queued: number } {
    return this.#creates.batched;
  }

  get #state(): ApiState {
    return this.#runtime.state;
  }

  #validate(state: ApiState, entity: EntityDef, variant: 'create' | 'update', input: unknown): Record<string, unknown> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw invalidRecord(entity.name, [{ path: '/', message: 'must be an object' }]);
    }
    const validate = state.validator(entity.name, variant);
    if (!validate(input)) throw invalidRecord(entity.name, toFieldErrors(validate.errors));
    const text = unstorable(input);
    if (text.length) throw invalidRecord(entity.name, text);
    return input as Record<string, unknown>;
  }

  /**
   * Runs a statement with the writer's values bound into its policy predicates (subject.ts); a
   * write on its own (no caller's transaction) goes as a named prepared statement on PostgreSQL,
   * so a shape — an audited or rule-observed write included — is planned once per connection.
   */
  async #run<T>(
    state: ApiState,
    query: RawBuilder<T> | CompiledQuery<T>,
    entity: EntityDef,
    operation: 'write' | 'delete' = 'write',
    db: Db = this.#db,
    access?: Access,
    more: {
      /** Errors to rethrow as they are, not mapped to a problem. */
      unmapped?: (error: unknown) => boolean;
      /** The values written, to name the one a refusal is about when the database does not. */
      values?: Record<string, unknown>;
    } = {},
  ): Promise<T[]> {
    try {
      // a RawBuilder is compiled and bound here; a create template comes compiled and bound
      const compiled = 'compile' in query ? bindSubject(query.compile(db), access?.subject) : query;
      return await execute<T>(this.#database, db, compiled, `v${state.catalog.version}`);
    } catch (error) {
      if (more.unmapped?.(error)) throw error;
      throw accessDenied(error, entity) ?? mapDatabaseError(error, state.catalog, entity, operation, more.values);
    }
  }

  /** The policy on this write, when a principal other than the system writes. */
  #writeAccess(state: ApiState, entity: EntityDef, options: WriteOptions): WriteAccess | undefined {
    return options.access ? new WriteAccess(options.access, state.catalog, entity) : undefined;
  }

  create(entityName: string, input: unknown, db: Db = this.#db, options: WriteOptions = {}): Promise<RecordJson> {
    return this.#fresh(db, () => this.#create(entityName, input, db, options));
  }

  async #create(entityName: string, input: unknown, db: Db, options: WriteOptions = {}): Promise<RecordJson> {
    const state = this.#state;
    const entity = state.catalog.require(entityName);
    const access = this.#writeAccess(state, entity, options);
    if (access && !access.access.policy.unrestricted) access.assertCreate();
    let data = this.#validate(state, entity, 'create', input);
    access?.assertFields(data);
    if (access) data = access.stampCreate(data);
    // the post-image's check aborts the statement when the record falls outside the policy
    const check = access?.postCheck('a', data, true);
    const where = check ? sql`WHERE ${check}` : sql``;
    const row: PendingCreate = { data, correlationId: options.correlationId };
    // alone: inside a caller's transaction, with sharing turned off (no lane to key), or with so many
    // fields that a full shared statement would pass PostgreSQL's limit of 65,535 parameters
    const alone = db !== this.#db || this.#batchRows === 1;
    if (alone || (Object.keys(data).length + 1) * this.#batchRows > MAX_BATCH_PARAMETERS) {
      const statement = createStatement(entity, [row], where, options.also);
      return (await this.#run(state, statement, entity, 'write', db, options.access, { values: data }))[0]!.r;
    }
    // creates of the same statement text and writer may share one statement (create-batches.ts), and
    // run the lane's statement compiled once per row count (create-statements.ts)
    const tail = sql`${options.also ?? sql``} ${where}`.compile(db);
    const lane = [
      entity.name,
      state.catalog.version,
      Object.keys(data).sort().join(','),
      tail.sql,
      JSON.stringify(tail.parameters),
      subjectText(options.access?.subject),
    ].join('\u0000');
    const templates = state.derived('createTemplates', () => new CreateTemplates());
    const statement = (rows: readonly PendingCreate[]) =>
      templates.query(lane, entity, rows, where, options.also, db, options.access?.subject);
    return this.#creates.run(lane, row, {
      one: async (item) => {
        const written = await this.#run(state, statement([item]), entity, 'write', db, options.access, {
          values: item.data,
        });
        return written[0]!.r;
      },
      many: async (rows) => {
        const named = rows.map((r) => (r.data.id == null ? { ...r, data: { ...r.data, id: randomUUID() } } : r));
        // a refusal comes back as the database's error (each create then goes again alone); anything
        // else (a lost connection, a timeout) as the problem every create of the statement answers
        const written = await this.#run(state, statement(named), entity, 'write', db, options.access, {
          unmapped: refusedStatement,
        });
        const byId = new Map(written.map(({ r }) => [String(r.id).toLowerCase(), r]));
        return named.map((r) => byId.get(String(r.data.id).toLowerCase())!);
      },
    });
  }

  /**
   * Runs a write again on a fresh catalog when a schema change raced it (withFreshSchema); not
   * inside a caller's transaction, which the failed statement has aborted.
   */
  #fresh<T>(db: Db, attempt: () => Promise<T>): Promise<T> {
    return withFreshSchema(this.#runtime, attempt, { retries: db === this.#db ? undefined : 0 });
  }

  /**
   * Tells "no such record" (404) from "it changed since you read it" (412) after a write hit no
   * row — and, for a restricted writer, from "you may read it but not change it" (403). A record
   * the writer cannot read is a 404 whatever else holds: no 403 or 412 tells it exists.
   */
  async #missing(
    state: ApiState,
    entity: EntityDef,
    id: string,
    options: WriteOptions,
    db: Db,
    privilege: 'update' | 'delete',
    data?: Record<string, unknown>,
  ): Promise<never> {
    const access = this.#writeAccess(state, entity, options);
    if (access && !access.access.policy.unrestricted) {
      const readable = access.predicate('read', 't') ?? sql<boolean>`true`;
      const allowed = access.guard(privilege, 't', data) ?? sql<boolean>`true`;
      const rows = await this.#run(
        state,
        sql<{ readable: boolean; allowed: boolean }>`SELECT ${readable} AS readable, ${allowed} AS allowed
          FROM ${table(entity.name)} t WHERE t.id = ${id}`,
        entity,
        'write',
        db,
        options.access,
      );
      if (!rows[0]?.readable) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity.name} record has id ${id}`);
      if (!rows[0].allowed)
        throw new XrmError(
          'XRM_ERR_FORBIDDEN',
          `Your roles do not allow you to ${privilege} this ${entity.name} record`,
        );
    }
    if (options.expectedVersion !== undefined) {
      const rows = await this.#run(
        state,
        sql<{ version: number }>`SELECT version FROM ${table(entity.name)} WHERE id = ${id}`,
        entity,
        'write',
        db,
      );
      if (rows[0]) {
        throw new XrmError(
          'XRM_ERR_RECORD_VERSION_MISMATCH',
          `The ${entity.name} record ${id} is at version ${rows[0].version}, not ${options.expectedVersion}`,
          {
            extensions: { currentVersion: rows[0].version },
          },
        );
      }
    }
    throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity.name} record has id ${id}`);
  }

  #versionCondition(options: WriteOptions): RawBuilder<unknown> {
    return options.expectedVersion === undefined ? sql`` : sql`AND t."version" = ${options.expectedVersion}`;
  }

  /** Updates the record; answers it as written and as it was (the row locked for the statement). */
  update(
    entityName: string,
    id: string,
    input: unknown,
    options: WriteOptions = {},
    db: Db = this.#db,
  ): Promise<Updated> {
    return this.#fresh(db, () => this.#update(entityName, id, input, options, db));
  }

  async #update(entityName: string, id: string, input: unknown, options: WriteOptions, db: Db): Promise<Updated> {
    const state = this.#state;
    const entity = state.catalog.require(entityName);
    assertUuid(id);
    const data = this.#validate(state, entity, 'update', input);
    const access = this.#writeAccess(state, entity, options);
    access?.assertFields(data);
    const sets = Object.keys(data)
      .sort()
      .map((k) => sql`${column(k)} = ${encodeValue(entity, k, data[k])}`);
    sets.push(sql`"updated_at" = now()`, sql`"version" = t."version" + 1`);
    const version = this.#versionCondition(options);
    // the pre-image comes from the same statement: the row locked (if the policy reaches it), then updated
    const guard = access?.guard('update', 'o', data);
    const reach = guard ? sql`AND ${guard}` : sql``;
    const old = sql`(SELECT o.* FROM ${table(entity.name)} o WHERE o.id = ${id} ${reach} FOR UPDATE) o`;
    const check = access?.postCheck('t', data, false);
    const checked = check ? sql`, ${check} AS allowed` : sql``;
    const update = sql`UPDATE ${table(entity.name)} t SET ${sql.join(sets)} FROM ${old}
        WHERE t.id = o.id ${version} RETURNING row_to_json(t.*) AS record, row_to_json(o.*) AS old ${checked}
        ${options.also ? sql`, ${options.correlationId ?? null}::text AS correlation_id` : sql``}`;
    const statement = options.also
      ? sql<Updated>`WITH w AS (${update}), ${options.also} SELECT record, old FROM w`
      : sql<Updated>`${update}`;
    const rows = await this.#run(state, statement, entity, 'write', db, options.access, { values: data });
    if (!rows[0]) return this.#missing(state, entity, id, options, db, 'update', data);
    return { record: rows[0].record, old: rows[0].old };
  }

  /** Deletes the record; answers it as it was. */
  delete(entityName: string, id: string, options: WriteOptions = {}, db: Db = this.#db): Promise<Row> {
    return this.#fresh(db, () => this.#delete(entityName, id, options, db));
  }

  async #delete(entityName: string, id: string, options: WriteOptions, db: Db): Promise<Row> {
    const state = this.#state;
    const entity = state.catalog.require(entityName);
    assertUuid(id);
    const version = this.#versionCondition(options);
    const guard = this.#writeAccess(state, entity, options)?.guard('delete', 't');
    const reach = guard ? sql`AND ${guard}` : sql``;
    const remove = sql`DELETE FROM ${table(entity.name)} t WHERE t.id = ${id} ${version} ${reach}
      RETURNING NULL::json AS record, row_to_json(t.*) AS old
      ${options.also ? sql`, ${options.correlationId ?? null}::text AS correlation_id` : sql``}`;
    const statement = options.also
      ? sql<{ old: Row }>`WITH w AS (${remove}), ${options.also} SELECT old FROM w`
      : sql<{ old: Row }>`${remove}`;
    const rows = await this.#run(state, statement, entity, 'delete', db, options.access);
    if (!rows[0]) return this.#missing(state, entity, id, options, db, 'delete');
    return rows[0].old;
  }

  /** The alternate key an upsert names (or the entity's only one); a 400 naming `/key` otherwise. */
  alternateKey(entity: EntityDef, keyName: string | undefined): AlternateKeyDef {
    const keys = entity.alternateKeys ?? [];
    const key = keyName === undefined && keys.length === 1 ? keys[0] : keys.find((k) => k.name === keyName);
    if (!key) {
      const known = keys.map((k) => k.name).join(', ') || 'none declared';
      throw new XrmError(
        'XRM_ERR_REQUEST_INVALID',
        `Upserting "${entity.name}" needs one of its alternate keys (${known})`,
        { errors: [{ path: '/key', message: 'names no alternate key' }] },
      );
    }
    return key;
  }

  /**
   * Creates the record, or updates the one whose alternate-key fields have the same values.
   * The record is validated as a whole (as for create); `created` tells which happened.
   */
  upsert(
    entityName: string,
    keyName: string | undefined,
    input: unknown,
    db: Db = this.#db,
    access?: Access,
  ): Promise<{ record: RecordJson; created: boolean }> {
    return this.#fresh(db, () => this.#upsert(entityName, keyName, input, db, access));
  }

  async #upsert(
    entityName: string,
    keyName: string | undefined,
    input: unknown,
    db: Db,
    access?: Access,
  ): Promise<{ record: RecordJson; created: boolean }> {
    const state = this.#state;
    const entity = state.catalog.require(entityName);
    const key = this.alternateKey(entity, keyName);
    const given = this.#validate(state, entity, 'create', input);
    const policy = this.#writeAccess(state, entity, { access });
    policy?.assertFields(given);
    const data = policy ? policy.stampCreate(given) : given;
    const missing = key.fields.filter((f) => data[f] === undefined || data[f] === null);
    if (missing.length)
      throw invalidRecord(
        entity.name,
        missing.map((f) => ({ path: `/${f}`, message: `is required: part of the alternate key "${key.name}"` })),
      );
    // an update keeps the record's creator, and its owner unless the client named one
    const updates = Object.keys(given).filter((k) => !key.fields.includes(k) && k !== 'id');
    const sets = [
      ...updates.map((k) => sql`${column(k)} = excluded.${column(k)}`),
      sql`"updated_at" = now()`,
      sql`"version" = t."version" + 1`,
    ];
    const keyColumns = sql.join(key.fields.map(column));
    const guard = policy?.guard('update', 't', given);
    const reach = guard ? sql`WHERE ${guard}` : sql``;
    const insert = sql`INSERT INTO ${table(entity.name)} AS t (${sql.join(Object.keys(data).map(column))})
      VALUES (${sql.join(Object.keys(data).map((k) => sql`${encodeValue(entity, k, data[k])}`))})
      ON CONFLICT (${keyColumns}) DO UPDATE SET ${sql.join(sets)} ${reach} RETURNING t.*, (t.xmax = 0) AS __created`;
    const check = policy?.postCheck('a', given, sql<boolean>`a.__created`);
    const rows = await this.#run(
      state,
      sql<{ r: RecordJson & { __created?: boolean } }>`WITH w AS (${insert})
        SELECT row_to_json(a.*) AS r FROM w a ${check ? sql`WHERE ${check}` : sql``}`,
      entity,
      'write',
      db,
      access,
      { values: data },
    );
    // the key matched a record the policy does not let this writer update
    if (!rows[0])
      throw new XrmError(
        'XRM_ERR_FORBIDDEN',
        `Your roles do not allow you to update the ${entity.name} record with these "${key.name}" values`,
      );
    const { __created, ...record } = rows[0].r;
    return { record: record as RecordJson, created: __created === true };
  }

  /**
   * Up to 1,000 creates, updates, upserts or deletes in ONE all-or-nothing transaction. Every
   * item is validated first (all problems reported, paths `/records/<i>/…`); a database refusal
   * names the item that caused it. Creates go in one statement per shape of record.
   */
  bulk(entityName: string, request: BulkRequest, journal?: BulkJournal, access?: Access): Promise<string> {
    return this.#fresh(this.#db, () => this.#bulk(entityName, request, journal, access));
  }

  /**
   * Checks a bulk request before anything is written: its size, its key, and every item against
   * the entity's schema — all items' problems reported at once (`/records/<i>/…`).
   */
  checkBulk(entityName: string, request: BulkRequest): EntityDef {
    const state = this.#state;
    const entity = state.catalog.require(entityName);
    const { operation, records } = request;
    if (!Array.isArray(records) || records.length === 0 || records.length > MAX_BULK) {
      throw new XrmError('XRM_ERR_REQUEST_INVALID', `records must be an array of 1 to ${MAX_BULK} items`, {
        errors: [{ path: '/records', message: `must hold 1 to ${MAX_BULK} items` }],
      });
    }
    if (operation === 'upsert') this.alternateKey(entity, request.key);
    // validate everything first, reporting every item's problems at once
    const errors: FieldError[] = [];
    records.forEach((item, i) => {
      try {
        if (operation === 'update' || operation === 'delete') {
          const { id, version, ...changes } = (typeof item === 'object' && item !== null ? item : {}) as Record<
            string,
            unknown
          >;
          assertUuid(id, '/id');
          if (version !== undefined && !Number.isInteger(version))
            throw invalidRecord(entity.name, [{ path: '/version', message: 'must be an integer' }]);
          if (operation === 'update') this.#validate(state, entity, 'update', changes);
        } else {
          this.#validate(state, entity, 'create', item);
        }
      } catch (error) {
        const prefixed = withPrefix(error, `/records/${i}`);
        if (!(prefixed instanceof XrmError)) throw error;
        errors.push(...(prefixed.errors ?? []));
      }
    });
    if (errors.length) throw invalidRecord(entity.name, errors);
    return entity;
  }

  async #bulk(entityName: string, request: BulkRequest, journal?: BulkJournal, access?: Access): Promise<string> {
    const state = this.#state;
    const entity = this.checkBulk(entityName, request);
    const { operation, records } = request;

    const item = (i: number) => records[i] as Record<string, unknown>;
    const one = async (trx: Db, i: number): Promise<unknown> => {
      const r = item(i);
      const options: WriteOptions =
        r.version === undefined ? { access } : { expectedVersion: r.version as number, access };
      // the private steps: a schema race fails the whole transaction, which bulk() runs again
      if (operation === 'create') return this.#create(entity.name, r, trx, options);
      if (operation === 'upsert') return (await this.#upsert(entity.name, request.key, r, trx, access)).record;
      const { id, version: _v, ...changes } = r;
      if (operation === 'update') return (await this.#update(entity.name, id as string, changes, options, trx)).record;
      await this.#delete(entity.name, id as string, options, trx);
      return { id };
    };

    const restricted = access && !access.policy.unrestricted;
    if (operation === 'create' && !restricted) {
      // stamped with their creator and owner, then inserted set-based
      const stamp = access && this.#writeAccess(state, entity, { access });
      const rows = records.map((r) => (stamp ? stamp.stampCreate(r as Record<string, unknown>) : r));
      try {
        return await this.#db.transaction().execute(async (trx) => {
          const body = await this.#createMany(entity, rows as Record<string, unknown>[], trx);
          if (journal) await journal(trx, (JSON.parse(body) as { data: RecordJson[] }).data);
          return body;
        });
      } catch (error) {
        if (!(mapDatabaseError(error, state.catalog, entity, 'write') instanceof XrmError)) throw error;
      }
      // the set-based insert was refused (and rolled back): replay the items to name the culprit
      throw await this.#locate(records.length, one);
    }
    return this.#db.transaction().execute(async (trx) => {
      const data: unknown[] = [];
      for (let i = 0; i < records.length; i++) {
        try {
          data.push(await one(trx, i));
        } catch (error) {
          throw withPrefix(error, `/records/${i}`);
        }
      }
      // a restricted writer's creates, item by item: journaled like the set-based ones
      if (journal && operation === 'create') await journal(trx, data as RecordJson[]);
      return JSON.stringify({ data });
    });
  }

  /**
   * Inserts records with one INSERT … SELECT FROM json_populate_recordset per set of keys, and
   * answers `{"data":[…]}` as compact JSON text built by PostgreSQL, in request order.
   */
  async #createMany(entity: EntityDef, records: Record<string, unknown>[], trx: Db): Promise<string> {
    const groups = new Map<string, number[]>();
    records.forEach((r, i) => {
      const shape = Object.keys(r).sort().join(',');
      const list = groups.get(shape);
      if (list) list.push(i);
      else groups.set(shape, [i]);
    });
    const parts: { indexes: number[]; json: string }[] = [];
    for (const [shape, indexes] of groups) {
      const cols = shape ? shape.split(',') : [];
      // json_populate_recordset types every value by the table's own columns
      const recordsJson = JSON.stringify(indexes.map((i) => records[i]));
      const recordset = sql`json_populate_recordset(NULL::${table(entity.name)}, ${recordsJson}::json)`;
      const source = cols.length
        ? sql`SELECT ${sql.join(cols.map((c) => sql`p.${column(c)}`))} FROM ${recordset} p`
        : undefined;
      const insert = source
        ? sql`INSERT INTO ${table(entity.name)} (${sql.join(cols.map(column))}) ${source} RETURNING *`
        : sql`INSERT INTO ${table(entity.name)} SELECT FROM generate_series(1, ${indexes.length}) RETURNING *`;
      const written = sql`COALESCE(array_to_json(array_agg(row_to_json(w.*))), '[]'::json)::text`;
      const { rows } = await sql<{ r: string }>`WITH w AS (${insert}) SELECT ${written} AS r FROM w`.execute(trx);
      parts.push({ indexes, json: rows[0]!.r });
    }
    if (parts.length === 1) return `{"data":${parts[0]!.json}}`;
    const data: unknown[] = new Array(records.length);
    for (const part of parts)
      (JSON.parse(part.json) as unknown[]).forEach((record, k) => (data[part.indexes[k]!] = record));
    return JSON.stringify({ data });
  }

  /** Finds the first item a database refuses, replaying them one by one in a throwaway transaction. */
  async #locate(count: number, one: (trx: Db, i: number) => Promise<unknown>): Promise<unknown> {
    let found: unknown;
    await this.#db
      .transaction()
      .execute(async (trx) => {
        for (let i = 0; i < count; i++) {
          try {
            await one(trx, i);
          } catch (error) {
            found = withPrefix(error, `/records/${i}`);
            break;
          }
        }
        throw new Error('rollback');
      })
      .catch(() => undefined);
    return found ?? new XrmError('XRM_ERR_RECORD_INVALID', 'The bulk request was refused by the database');
  }

  #relationship(state: ApiState, name: string) {
    const rel = state.catalog.relationships.get(name);
    if (!rel) throw new XrmError('XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND', `Relationship "${name}" does not exist`);
    return rel;
  }

  /**
   * Links two records through a many-to-many relationship (idempotent). A restricted writer needs
   * append on the `from` record and appendTo on the `to` record; one they lack is answered like a
   * missing record (422), so a link tells nothing about records they cannot see.
   */
  associate(
    relationshipName: string,
    fromId: string,
    toId: string,
    db: Db = this.#db,
    access?: Access,
  ): Promise<boolean> {
    return this.#link(
      relationshipName,
      fromId,
      toId,
      db,
      access,
      (rel) =>
        sql`INSERT INTO ${table(rel)} (from_id, to_id) VALUES (${fromId}, ${toId}) ON CONFLICT DO NOTHING RETURNING 1`,
    );
  }

  /** Unlinks two records; answers whether a link was there (nothing changes, nothing is journaled, when not). */
  disassociate(
    relationshipName: string,
    fromId: string,
    toId: string,
    db: Db = this.#db,
    access?: Access,
  ): Promise<boolean> {
    return this.#link(
      relationshipName,
      fromId,
      toId,
      db,
      access,
      (rel) => sql`DELETE FROM ${table(rel)} WHERE from_id = ${fromId} AND to_id = ${toId} RETURNING 1`,
    );
  }

  /**
   * Runs a link statement; answers whether it changed a row. A restricted writer's right to link
   * is checked first, in its own statement, whether or not the link exists (so neither answer
   * tells anything about records they cannot see).
   */
  #link(
    relationshipName: string,
    fromId: string,
    toId: string,
    db: Db,
    access: Access | undefined,
    statement: (rel: string) => RawBuilder<unknown>,
  ): Promise<boolean> {
    return this.#fresh(db, async () => {
      const state = this.#state;
      const rel = this.#relationship(state, relationshipName);
      assertUuid(fromId, '/fromId');
      assertUuid(toId, '/toId');
      const from = state.catalog.require(rel.from);
      if (access && !access.policy.unrestricted) {
        const end = (entity: string, id: string, privilege: 'append' | 'appendTo', path: string) => {
          const reach = access.policy.predicate(entity, privilege, 'e', state.catalog) ?? sql<boolean>`true`;
          const exists = sql<boolean>`EXISTS (SELECT 1 FROM ${table(entity)} e WHERE e.id = ${id}::uuid AND ${reach})`;
          return sql<boolean>`(CASE WHEN ${exists} THEN true ELSE xrm.access_denied(${`ref:${path}`}) END)`;
        };
        const fromOk = end(rel.from, fromId, 'append', 'fromId');
        await this.#run(
          state,
          sql`SELECT ${fromOk} AND ${end(rel.to, toId, 'appendTo', 'toId')}`,
          from,
          'write',
          db,
          access,
        );
      }
      return (await this.#run(state, statement(rel.name), from, 'write', db)).length > 0;
    });
  }
}
