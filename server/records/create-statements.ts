/**
 * The statement of a create: the INSERT of one record (the table's own id default) or of several
 * sharing one statement (create-batches.ts: ids given, so each answer finds its request), with the
 * audit and rule statements (`also`) reading each row's correlation id from `w`.
 *
 * The creates of one lane (entity, catalog version, fields sent, writer, `also` and policy check:
 * the records service's lane key) differ only in their values, so their statement is compiled once
 * per row count and kept as a template: its text and where each parameter comes from (a row's
 * field, the ids, the correlation ids, or a value the whole lane shares, the writer's bound in). A
 * create then only fills in its values: no statement built, compiled or bound per request.
 */
import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import { FIELD_TYPES } from '../../metadata/field-types/index.ts';
import { column, table } from '../../metadata/physical-names.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { bindSubject, type Subject } from '../security/subject.ts';

export type RecordJson = Record<string, unknown> & { id: string; version: number };

/** A create on its way to the database, alone or sharing a statement (create-batches.ts). */
export interface PendingCreate {
  readonly data: Record<string, unknown>;
  readonly correlationId?: string;
}

/** How a field's values go into its column; none: as given (system fields such as id and owner_id). */
function encoderOf(entity: EntityDef, key: string): ((value: unknown) => unknown) | undefined {
  const field = entity.fields.find((f) => f.name === key);
  return field && FIELD_TYPES[field.type].encode;
}

/** A field's value as its column takes it. */
export function encodeValue(entity: EntityDef, key: string, value: unknown): unknown {
  const encode = value === null ? undefined : encoderOf(entity, key);
  return encode ? encode(value) : value;
}

/** Where a statement's values come from: this request's rows, or a template's markers. */
interface Values {
  value(row: number, key: string): unknown;
  readonly ids: unknown;
  readonly correlations: unknown;
}

/** The columns a create statement writes: the fields sent, and `id` when several rows share it. */
function columnsOf(data: Record<string, unknown>, count: number): string[] {
  const keys = Object.keys(data).sort();
  if (count > 1 && !keys.includes('id')) keys.unshift('id');
  return keys;
}

function statement(
  entity: EntityDef,
  keys: readonly string[],
  count: number,
  where: RawBuilder<unknown>,
  also: RawBuilder<unknown> | undefined,
  values: Values,
): RawBuilder<{ r: RecordJson }> {
  const rows = Array.from({ length: count }, (_, i) => sql`(${sql.join(keys.map((k) => sql`${values.value(i, k)}`))})`);
  const insert = keys.length
    ? sql`INSERT INTO ${table(entity.name)} (${sql.join(keys.map(column))}) VALUES ${sql.join(rows)} RETURNING *`
    : sql`INSERT INTO ${table(entity.name)} DEFAULT VALUES RETURNING *`;
  if (!also) return sql<{ r: RecordJson }>`WITH w AS (${insert}) SELECT row_to_json(a.*) AS r FROM w a ${where}`;
  if (count === 1) {
    return sql<{ r: RecordJson }>`WITH i AS (${insert}), w AS (SELECT row_to_json(a.*) AS record, NULL::json AS old,
        ${values.correlations}::text AS correlation_id FROM i a ${where}),
      ${also} SELECT w.record AS r FROM w`;
  }
  return sql<{ r: RecordJson }>`WITH i AS (${insert}),
      c AS (SELECT * FROM unnest(${values.ids}::uuid[], ${values.correlations}::text[]) AS c(id, correlation_id)),
      w AS (SELECT row_to_json(a.*) AS record, NULL::json AS old, c.correlation_id
        FROM i a JOIN c ON c.id = a.id ${where}),
      ${also} SELECT w.record AS r FROM w`;
}

/** The statement for these rows, built from their values (a create going alone, outside any lane). */
export function createStatement(
  entity: EntityDef,
  rows: readonly PendingCreate[],
  where: RawBuilder<unknown>,
  also: RawBuilder<unknown> | undefined,
): RawBuilder<{ r: RecordJson }> {
  return statement(entity, columnsOf(rows[0]!.data, rows.length), rows.length, where, also, {
    value: (i, k) => encodeValue(entity, k, rows[i]!.data[k]),
    // one row: its correlation id alone; several: the arrays the c CTE unnests
    ids: rows.map((r) => String(r.data.id)),
    correlations: rows.length === 1 ? (rows[0]!.correlationId ?? null) : rows.map((r) => r.correlationId ?? null),
  });
}

/** Where a template's parameter comes from. */
type Slot =
  | { readonly kind: 'field'; readonly row: number; readonly key: string; readonly encode?: (v: unknown) => unknown }
  | { readonly kind: 'ids' | 'correlations' }
  | { readonly kind: 'lane'; readonly value: unknown };

/** A parameter position while a template is compiled. */
class Marker {
  constructor(readonly slot: Slot) {}
}

interface Template {
  readonly sql: string;
  readonly slots: readonly Slot[];
}

/** Templates one catalog version keeps at most (one per lane and row count); past it they start over. */
const MAX_TEMPLATES = 500;

/** The compiled create statements of one catalog version (held by the ApiState, dropped with it). */
export class CreateTemplates {
  /** Per lane, its templates by row count (the lane's key is hashed once per create, not rebuilt per count). */
  readonly #lanes = new Map<string, Map<number, Template>>();
  #count = 0;

  /**
   * The lane's statement for these rows, compiled on first use: `where` and `also` are those of
   * the lane (the lane key holds their text and parameters), `subject` the writer (the key holds it).
   */
  query(
    lane: string,
    entity: EntityDef,
    rows: readonly PendingCreate[],
    where: RawBuilder<unknown>,
    also: RawBuilder<unknown> | undefined,
    db: Db,
    subject: Subject | undefined,
  ): CompiledQuery<{ r: RecordJson }> {
    let byCount = this.#lanes.get(lane);
    let template = byCount?.get(rows.length);
    if (!template) {
      template = compileTemplate(entity, columnsOf(rows[0]!.data, rows.length), rows.length, where, also, db, subject);
      if (this.#count >= MAX_TEMPLATES) {
        this.#lanes.clear();
        this.#count = 0;
        byCount = undefined;
      }
      if (!byCount) this.#lanes.set(lane, (byCount = new Map()));
      byCount.set(rows.length, template);
      this.#count++;
    }
    return fill(template, rows);
  }
}

function compileTemplate(
  entity: EntityDef,
  keys: readonly string[],
  count: number,
  where: RawBuilder<unknown>,
  also: RawBuilder<unknown> | undefined,
  db: Db,
  subject: Subject | undefined,
): Template {
  const field = (row: number, key: string) => new Marker({ kind: 'field', row, key, encode: encoderOf(entity, key) });
  const values: Values = {
    value: field,
    ids: new Marker({ kind: 'ids' }),
    correlations: new Marker({ kind: 'correlations' }),
  };
  // the writer's values bound in once: the lane is one writer's
  const compiled = bindSubject(statement(entity, keys, count, where, also, values).compile(db), subject);
  const slots = compiled.parameters.map((p): Slot => (p instanceof Marker ? p.slot : { kind: 'lane', value: p }));
  return { sql: compiled.sql, slots };
}

function fill(template: Template, rows: readonly PendingCreate[]): CompiledQuery<{ r: RecordJson }> {
  const parameters = template.slots.map((slot) => {
    switch (slot.kind) {
      case 'field': {
        const value = rows[slot.row]!.data[slot.key];
        return value === null || !slot.encode ? value : slot.encode(value);
      }
      case 'ids':
        return rows.map((r) => String(r.data.id));
      case 'correlations':
        return rows.length === 1 ? (rows[0]!.correlationId ?? null) : rows.map((r) => r.correlationId ?? null);
      default:
        return slot.value;
    }
  });
  return CompiledQuery.raw(template.sql, parameters) as CompiledQuery<{ r: RecordJson }>;
}
