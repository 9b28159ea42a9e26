/**
 * The records service: one function per message (create, get, list, update, delete, and the
 * navigation reads). REST and GraphQL both call these; the plugin pipeline and permission layer
 * will wrap them here. Records are read as JSON built by PostgreSQL (`to_jsonb(row)`), so both
 * databases return the same shapes (dates as ISO strings, numerics as numbers).
 */
import { sql, type RawBuilder } from 'kysely';
import { nulPaths, toFieldErrors } from '../../metadata/ajv.ts';
import type { Catalog, Navigation } from '../../metadata/catalog.ts';
import { column, table } from '../../metadata/ddl.ts';
import { XrmError } from '../../metadata/errors.ts';
import { FIELD_TYPES } from '../../metadata/field-types/index.ts';
import type { EntityDef } from '../../metadata/types.ts';
import type { Db } from '../database.ts';
import type { ApiState, Runtime } from '../runtime.ts';
import { mapDatabaseError } from './database-errors.ts';

export type RecordJson = Record<string, unknown> & { id: string; version: number };

export interface ListOptions {
  limit?: number;
  offset?: number;
  /** Opaque keyset cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Include `totalCount` (costs a count query). */
  count?: boolean;
  /** Equality filter on lookup columns (navigation reads). */
  where?: Record<string, string>;
}

export interface ListResult {
  data: RecordJson[];
  totalCount?: number;
  nextCursor?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertUuid(id: string, path = '/id'): void {
  if (!UUID.test(id)) {
    throw new XrmError('XRM_ERR_REQUEST_INVALID', `"${id}" is not a record id (a UUID)`, { errors: [{ path, message: 'must be a UUID' }] });
  }
}

function encodeCursor(record: RecordJson): string {
  return Buffer.from(JSON.stringify([record.created_at, record.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && !Number.isNaN(Date.parse(value[0])) &&
      typeof value[1] === 'string' && UUID.test(value[1])
    ) {
      return [value[0], value[1]];
    }
  } catch {
    /* fall through */
  }
  throw new XrmError('XRM_ERR_QUERY_INVALID', 'The cursor is not one this API issued', { errors: [{ path: '/cursor', message: 'is invalid' }] });
}

export class RecordsService {
  readonly #db: Db;
  readonly #runtime: Runtime;
  readonly maxPageSize: number;

  constructor(db: Db, runtime: Runtime, maxPageSize: number) {
    this.#db = db;
    this.#runtime = runtime;
    this.maxPageSize = maxPageSize;
  }

  get #state(): ApiState {
    return this.#runtime.state;
  }

  entity(name: string, catalog: Catalog = this.#state.catalog): EntityDef {
    const entity = catalog.entity(name);
    if (!entity) throw new XrmError('XRM_ERR_METADATA_ENTITY_NOT_FOUND', `Entity "${name}" does not exist`);
    return entity;
  }

  #validate(state: ApiState, entity: EntityDef, variant: 'create' | 'update', input: unknown): Record<string, unknown> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new XrmError('XRM_ERR_RECORD_INVALID', 'A record must be a JSON object', { errors: [{ path: '/', message: 'must be an object' }] });
    }
    const validate = state.validator(entity.name, variant);
    if (!validate(input)) {
      const errors = toFieldErrors(validate.errors);
      throw new XrmError('XRM_ERR_RECORD_INVALID', `The ${entity.name} record is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, { errors });
    }
    const nul = nulPaths(input, '');
    if (nul.length) {
      const errors = nul.map((path) => ({ path, message: 'must not contain NUL characters (PostgreSQL cannot store them)' }));
      throw new XrmError('XRM_ERR_RECORD_INVALID', `The ${entity.name} record is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, { errors });
    }
    return input as Record<string, unknown>;
  }

  #columnsAndValues(entity: EntityDef, input: Record<string, unknown>): { columns: RawBuilder<unknown>[]; values: unknown[] } {
    const columns: RawBuilder<unknown>[] = [];
    const values: unknown[] = [];
    for (const [key, value] of Object.entries(input)) {
      if (key === 'id') {
        columns.push(column('id'));
        values.push(value);
        continue;
      }
      const field = entity.fields.find((f) => f.name === key)!;
      const encode = FIELD_TYPES[field.type].encode;
      columns.push(column(key));
      values.push(value === null || !encode ? value : encode(value));
    }
    return { columns, values };
  }

  async #run<T>(state: ApiState, query: RawBuilder<T>, entity: EntityDef, operation: 'write' | 'delete' = 'write', db: Db = this.#db): Promise<T[]> {
    try {
      return (await query.execute(db)).rows;
    } catch (error) {
      throw mapDatabaseError(error, state.catalog, entity, operation);
    }
  }

  async create(entityName: string, input: unknown): Promise<RecordJson> {
    const state = this.#state;
    const entity = this.entity(entityName, state.catalog);
    const data = this.#validate(state, entity, 'create', input);
    const { columns, values } = this.#columnsAndValues(entity, data);
    const insert = columns.length
      ? sql`INSERT INTO ${table(entity.name)} (${sql.join(columns)}) VALUES (${sql.join(values.map((v) => sql`${v}`))}) RETURNING *`
      : sql`INSERT INTO ${table(entity.name)} DEFAULT VALUES RETURNING *`;
    const rows = await this.#run(state, sql<{ r: RecordJson }>`WITH w AS (${insert}) SELECT row_to_json(w.*) AS r FROM w`, entity);
    return rows[0]!.r;
  }

  async get(entityName: string, id: string): Promise<RecordJson> {
    const state = this.#state;
    const entity = this.entity(entityName, state.catalog);
    assertUuid(id);
    const rows = await this.#run(state, sql<{ r: RecordJson }>`SELECT row_to_json(t.*) AS r FROM ${table(entity.name)} t WHERE t.id = ${id}`, entity);
    if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity.name} record has id ${id}`);
    return rows[0].r;
  }

  /** Records by id, in the order asked, null where missing (for batched navigation). */
  async getMany(entityName: string, ids: readonly string[]): Promise<(RecordJson | null)[]> {
    const state = this.#state;
    const entity = this.entity(entityName, state.catalog);
    const valid = ids.filter((id) => UUID.test(id));
    const rows = valid.length
      ? await this.#run(state, sql<{ r: RecordJson }>`SELECT row_to_json(t.*) AS r FROM ${table(entity.name)} t WHERE t.id = ANY(${valid}::uuid[])`, entity)
      : [];
    const byId = new Map(rows.map((row) => [row.r.id, row.r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async list(entityName: string, options: ListOptions = {}): Promise<ListResult> {
    const state = this.#state;
    const entity = this.entity(entityName, state.catalog);
    const limit = Math.min(options.limit ?? 50, this.maxPageSize);
    const offset = options.offset ?? 0;
    const conditions: RawBuilder<unknown>[] = [];
    for (const [field, value] of Object.entries(options.where ?? {})) conditions.push(sql`t.${column(field)} = ${value}`);
    const filter = conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``;
    const keyset = options.cursor
      ? (() => {
          const [createdAt, id] = decodeCursor(options.cursor);
          return sql`${conditions.length ? sql`AND` : sql`WHERE`} (t.created_at, t.id) > (${createdAt}::timestamptz, ${id}::uuid)`;
        })()
      : sql``;
    const rows = await this.#run(
      state,
      sql<{ r: RecordJson }>`SELECT row_to_json(t.*) AS r FROM ${table(entity.name)} t ${filter} ${keyset}
        ORDER BY t.created_at, t.id LIMIT ${limit + 1} OFFSET ${offset}`,
      entity,
    );
    const data = rows.slice(0, limit).map((row) => row.r);
    const result: ListResult = { data };
    if (options.count) {
      const count = await this.#run(state, sql<{ n: string }>`SELECT count(*)::text AS n FROM ${table(entity.name)} t ${filter}`, entity);
      result.totalCount = Number(count[0]!.n);
    }
    if (rows.length > limit) result.nextCursor = encodeCursor(data[data.length - 1]!);
    return result;
  }

  /** Records on the far side of a one-to-many or many-to-many navigation of one record. */
  async listRelated(entityName: string, id: string, navigation: Navigation, options: ListOptions = {}): Promise<ListResult> {
    if (navigation.kind === 'inverse') {
      return this.list(navigation.source, { ...options, where: { ...options.where, [navigation.field]: id } });
    }
    const state = this.#state;
    const other = this.entity(navigation.other, state.catalog);
    const limit = Math.min(options.limit ?? 50, this.maxPageSize);
    const junction = table(navigation.relationship);
    const rows = await this.#run(
      state,
      sql<{ r: RecordJson }>`SELECT row_to_json(t.*) AS r FROM ${table(other.name)} t
        JOIN ${junction} j ON j.${column(navigation.otherColumn)} = t.id
        WHERE j.${column(navigation.selfColumn)} = ${id}
        ORDER BY t.created_at, t.id LIMIT ${limit} OFFSET ${options.offset ?? 0}`,
      this.entity(entityName, state.catalog),
    );
    const result: ListResult = { data: rows.map((r) => r.r) };
    if (options.count) {
      const count = await this.#run(state, sql<{ n: string }>`SELECT count(*)::text AS n FROM ${junction} j WHERE j.${column(navigation.selfColumn)} = ${id}`, other);
      result.totalCount = Number(count[0]!.n);
    }
    return result;
  }

  async update(entityName: string, id: string, input: unknown): Promise<RecordJson> {
    const state = this.#state;
    const entity = this.entity(entityName, state.catalog);
    assertUuid(id);
    const data = this.#validate(state, entity, 'update', input);
    const { columns, values } = this.#columnsAndValues(entity, data);
    const sets = columns.map((c, i) => sql`${c} = ${values[i]}`);
    sets.push(sql`"updated_at" = now()`, sql`"version" = t."version" + 1`);
    const rows = await this.#run(
      state,
      sql<{ r: RecordJson }>`WITH w AS (UPDATE ${table(entity.name)} t SET ${sql.join(sets)} WHERE t.id = ${id} RETURNING t.*)
        SELECT row_to_json(w.*) AS r FROM w`,
      entity,
    );
    if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity.name} record has id ${id}`);
    return rows[0].r;
  }

  async delete(entityName: string, id: string): Promise<void> {
    const state = this.#state;
    const entity = this.entity(entityName, state.catalog);
    assertUuid(id);
    const rows = await this.#run(state, sql<{ id: string }>`DELETE FROM ${table(entity.name)} WHERE id = ${id} RETURNING id`, entity, 'delete');
    if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity.name} record has id ${id}`);
  }

  /** Links two records through a many-to-many relationship (idempotent). */
  async associate(relationshipName: string, fromId: string, toId: string): Promise<void> {
    const state = this.#state;
    const rel = state.catalog.relationships.get(relationshipName);
    if (!rel) throw new XrmError('XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND', `Relationship "${relationshipName}" does not exist`);
    assertUuid(fromId, '/fromId');
    assertUuid(toId, '/toId');
    await this.#run(
      state,
      sql`INSERT INTO ${table(rel.name)} (from_id, to_id) VALUES (${fromId}, ${toId}) ON CONFLICT DO NOTHING`,
      this.entity(rel.from, state.catalog),
    );
  }

  async disassociate(relationshipName: string, fromId: string, toId: string): Promise<void> {
    const state = this.#state;
    const rel = state.catalog.relationships.get(relationshipName);
    if (!rel) throw new XrmError('XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND', `Relationship "${relationshipName}" does not exist`);
    assertUuid(fromId, '/fromId');
    assertUuid(toId, '/toId');
    await this.#run(state, sql`DELETE FROM ${table(rel.name)} WHERE from_id = ${fromId} AND to_id = ${toId}`, this.entity(rel.from, state.catalog));
  }
}
