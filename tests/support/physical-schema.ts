/**
 * Reads the physical schema of entity tables (schema `data`) from information_schema and
 * pg_catalog, for asserting the DDL a definition produced and that a refused change left
 * everything exactly as it was. Works the same on PostgreSQL and PGlite.
 */
import { sql } from 'kysely';
import { constraintNames } from '../../metadata/physical-names.ts';
import type { Db } from '../../metadata/database.ts';

export interface ColumnInfo {
  name: string;
  position: number;
  /** information_schema data_type: "character varying", "numeric", "ARRAY", "jsonb", ... */
  dataType: string;
  /** the underlying type name: "varchar", "numeric", "_text", "timestamptz", ... */
  udtName: string;
  maxLength: number | null;
  precision: number | null;
  scale: number | null;
  nullable: boolean;
  default: string | null;
}

export interface ConstraintInfo {
  name: string;
  /** c = check, u = unique, f = foreign key, p = primary key (NOT NULL rows of PostgreSQL 18 are left out) */
  type: 'c' | 'u' | 'f' | 'p';
  definition: string;
}

export interface IndexInfo {
  name: string;
  definition: string;
}

export async function columns(db: Db, table: string): Promise<Record<string, ColumnInfo>> {
  const query = sql<ColumnInfo>`SELECT column_name::text AS name, ordinal_position::int AS position,
      data_type::text AS "dataType", udt_name::text AS "udtName",
      character_maximum_length::int AS "maxLength", numeric_precision::int AS precision, numeric_scale::int AS scale,
      (is_nullable::text = 'YES') AS nullable, column_default::text AS default
    FROM information_schema.columns WHERE table_schema = 'data' AND table_name = ${table} ORDER BY ordinal_position`;
  const { rows } = await query.execute(db);
  return Object.fromEntries(rows.map((r) => [r.name, r]));
}

export async function column(db: Db, table: string, name: string): Promise<ColumnInfo | undefined> {
  return (await columns(db, table))[name];
}

export async function constraints(db: Db, table: string): Promise<ConstraintInfo[]> {
  const query = sql<ConstraintInfo>`SELECT c.conname::text AS name, c.contype::text AS type,
      pg_get_constraintdef(c.oid) AS definition
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'data' AND t.relname = ${table} AND c.contype IN ('c', 'u', 'f', 'p') ORDER BY c.conname`;
  const { rows } = await query.execute(db);
  return rows;
}

export async function indexes(db: Db, table: string): Promise<IndexInfo[]> {
  const { rows } = await sql<IndexInfo>`SELECT indexname::text AS name, indexdef AS definition
    FROM pg_indexes WHERE schemaname = 'data' AND tablename = ${table} ORDER BY indexname`.execute(db);
  return rows;
}

export async function tableExists(db: Db, table: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.tables
    WHERE table_schema = 'data' AND table_name = ${table}`.execute(db);
  return rows[0]!.n === 1;
}

export async function sequences(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT sequence_name::text AS name FROM information_schema.sequences
    WHERE sequence_schema = 'data' ORDER BY sequence_name`.execute(db);
  return rows.map((r) => r.name);
}

/** The definition of a field's CHECK constraint (named as the DDL planner names it), or undefined. */
export async function checkOf(db: Db, table: string, field: string): Promise<string | undefined> {
  const name = constraintNames.check(table, field);
  return (await constraints(db, table)).find((c) => c.type === 'c' && c.name === name)?.definition;
}

/** The definition of a lookup's foreign key, or undefined. */
export async function foreignKeyOf(db: Db, table: string, field: string): Promise<string | undefined> {
  const name = constraintNames.foreignKey(table, field);
  return (await constraints(db, table)).find((c) => c.type === 'f' && c.name === name)?.definition;
}

/** Indexes whose key is exactly this one column. */
export async function indexesOn(db: Db, table: string, field: string): Promise<IndexInfo[]> {
  return (await indexes(db, table)).filter((i) => new RegExp(`\\("?${field}"?(, id)?\\)$`).test(i.definition));
}

export interface PhysicalSnapshot {
  tables: string[];
  columns: unknown[];
  constraints: unknown[];
  indexes: unknown[];
  sequences: string[];
}

/**
 * Every table, column, constraint (including NOT NULL rows where the server keeps them), index and
 * sequence of schema `data`.
 */
export async function physicalSnapshot(db: Db): Promise<PhysicalSnapshot> {
  const tables = await sql<{ name: string }>`SELECT table_name::text AS name FROM information_schema.tables
    WHERE table_schema = 'data' ORDER BY table_name`.execute(db);
  const cols =
    await sql`SELECT table_name::text AS t, column_name::text AS c, ordinal_position::int AS p, data_type::text AS dt,
      udt_name::text AS udt, character_maximum_length::int AS len,
      numeric_precision::int AS prec, numeric_scale::int AS scale,
      is_nullable::text AS nullable, column_default::text AS def
    FROM information_schema.columns WHERE table_schema = 'data' ORDER BY table_name, ordinal_position`.execute(db);
  const cons = await sql`SELECT t.relname::text AS t, c.conname::text AS name, c.contype::text AS type,
      pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'data' ORDER BY t.relname, c.conname, c.contype`.execute(db);
  const idx = await sql`SELECT tablename::text AS t, indexname::text AS name, indexdef AS def FROM pg_indexes
    WHERE schemaname = 'data' ORDER BY tablename, indexname`.execute(db);
  return {
    tables: tables.rows.map((r) => r.name),
    columns: cols.rows,
    constraints: cons.rows,
    indexes: idx.rows,
    sequences: await sequences(db),
  };
}

/** Runs a statement directly against the database and returns its SQLSTATE (undefined on success). */
export async function sqlState(db: Db, statement: ReturnType<typeof sql>): Promise<string | undefined> {
  try {
    await statement.execute(db);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? 'unknown';
  }
}
