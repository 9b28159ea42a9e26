/**
 * Compiled statements reused across requests of the same shape, and run as named prepared
 * statements on PostgreSQL so the server parses and plans each shape once per connection.
 * The cache lives on the ApiState, so a metadata change drops it whole.
 */
import { CompiledQuery } from 'kysely';
import { type Database, type Db, statementName } from '../../metadata/database.ts';
import type { ApiState } from '../runtime.ts';

const MAX_ENTRIES = 2000;

export class StatementCache {
  readonly #entries = new Map<string, CompiledQuery>();

  get(key: string): CompiledQuery | undefined {
    const hit = this.#entries.get(key);
    if (hit) {
      // least recently used goes first
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, query: CompiledQuery): void {
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, query);
  }

  static of(state: ApiState): StatementCache {
    return state.derived('statements', () => new StatementCache());
  }
}

/**
 * Runs a compiled statement: named and prepared when it goes straight to the PostgreSQL pool,
 * through kysely otherwise (PGlite, or inside a transaction). `salt` goes into the name: a write's
 * schema version, since a prepared statement keeps the parameter types it was prepared with and
 * the same INSERT text after a column's type changed must not reuse them.
 */
export async function execute<R>(database: Database, db: Db, query: CompiledQuery, salt = ''): Promise<R[]> {
  if (database.pool && db === database.db) {
    database.onQuery?.(query.sql, query.parameters);
    const result = await database.pool.query({
      name: statementName(salt ? `${salt}\u0000${query.sql}` : query.sql),
      text: query.sql,
      values: query.parameters as unknown[],
    });
    return result.rows as R[];
  }
  return (await db.executeQuery<R>(query)).rows;
}

/** The same statement with one parameter replaced (a cached shape, this request's value). */
export function withParameter(query: CompiledQuery, index: number, value: unknown): CompiledQuery {
  const parameters = [...query.parameters];
  parameters[index] = value;
  return CompiledQuery.raw(query.sql, parameters);
}
