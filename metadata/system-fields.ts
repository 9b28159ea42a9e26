/**
 * The fields every record has, declared once as ordinary field definitions: the query engine,
 * JSON Schema, GraphQL, OpenAPI and the DDL planner read them like any other field (their type
 * module gives operators, value schema, SQL type and GraphQL scalar). What makes them system
 * fields: the database or the platform sets them (read-only in the API), and each has a column
 * default. `created_by` and `owner_id` become lookups to users when identity lands.
 */
import { sql, type RawBuilder } from 'kysely';
import type { FieldDef } from './types.ts';

export interface SystemFieldDef extends FieldDef {
  readonly system: true;
  /** The column's default in CREATE TABLE, when it has one. */
  readonly columnDefault?: RawBuilder<unknown>;
}

const system = (field: Omit<SystemFieldDef, 'system' | 'unique' | 'searchable'>): SystemFieldDef =>
  Object.freeze({ ...field, system: true, unique: field.name === 'id', searchable: false });

export const SYSTEM_FIELDS: readonly SystemFieldDef[] = Object.freeze([
  system({
    name: 'id',
    type: 'uuid',
    displayName: 'Id',
    description: 'Record id',
    required: true,
    columnDefault: sql`gen_random_uuid()`,
  }),
  system({
    name: 'created_at',
    type: 'datetime',
    displayName: 'Created at',
    description: 'When the record was created',
    required: true,
    columnDefault: sql`now()`,
  }),
  system({
    name: 'updated_at',
    type: 'datetime',
    displayName: 'Updated at',
    description: 'When the record was last changed',
    required: true,
    columnDefault: sql`now()`,
  }),
  system({
    name: 'created_by',
    type: 'uuid',
    displayName: 'Created by',
    description: 'Who created the record',
    required: false,
  }),
  system({ name: 'owner_id', type: 'uuid', displayName: 'Owner', description: 'Who owns the record', required: false }),
  system({
    name: 'version',
    type: 'integer',
    displayName: 'Row version',
    description: 'Row version, incremented by every update',
    required: true,
    columnDefault: sql`1`,
  }),
]);

const BY_NAME = new Map(SYSTEM_FIELDS.map((f) => [f.name, f]));

/** The system field of this name, or undefined. */
export function systemField(name: string): SystemFieldDef | undefined {
  return BY_NAME.get(name);
}

/** A system field the engine itself refers to (id, created_at). */
export function requireSystemField(name: string): SystemFieldDef {
  const field = BY_NAME.get(name);
  if (!field) throw new Error(`no system field ${name}`);
  return field;
}

/** System column names, in table order. */
export const SYSTEM_COLUMNS: readonly string[] = Object.freeze(SYSTEM_FIELDS.map((f) => f.name));
