/**
 * Physical names: the tables, columns, constraints, indexes and sequences the platform makes in
 * schema `data`, named here and nowhere else (the DDL planner, the records service, the query
 * compiler and error mapping all ask this module).
 */
import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { DATA_SCHEMA } from './types.ts';

/**
 * A PostgreSQL identifier for a constraint, index or sequence: `ix__deal__created_at`. Parts are
 * joined by a double underscore, which no logical name can hold (naming.ts), so a platform object
 * never takes the name of an entity's table, and entity `a_b` + field `c` never meets entity `a` +
 * field `b_c`. Past 63 bytes: truncated, with a short hash so it stays unique.
 */
export function physicalName(kind: string, ...parts: string[]): string {
  const full = [kind, ...parts].join('__');
  if (Buffer.byteLength(full) <= 63) return full;
  const hash = createHash('sha1').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, 63 - 9)}_${hash}`;
}

export const table = (name: string): RawBuilder<unknown> => sql.id(DATA_SCHEMA, name);
export const column = (name: string): RawBuilder<unknown> => sql.id(name);

export const constraintNames = {
  check: (entity: string, field: string) => physicalName('chk', entity, field),
  unique: (entity: string, field: string) => physicalName('uq', entity, field),
  index: (entity: string, field: string) => physicalName('ix', entity, field),
  foreignKey: (entity: string, field: string) => physicalName('fk', entity, field),
  sequence: (entity: string, field: string) => physicalName('seq', entity, field),
  alternateKey: (entity: string, key: string) => physicalName('ak', entity, key),
  /** An index declared through the metadata API (`indexes` of the entity). */
  entityIndex: (entity: string, index: string) => physicalName('ixm', entity, index),
  primaryKey: (table: string) => physicalName('pk', table),
};
