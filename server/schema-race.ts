/**
 * A request compiles its SQL from the catalog the instance holds. When a schema change (made here
 * or by another instance) commits between compiling and running, PostgreSQL answers "column does
 * not exist" for a field that is gone. That is a race, not a bug: reload the catalog and run the
 * request again from its parameters, so it is checked against the schema as it now is (a request
 * that names the dropped field then gets the same 400 it would get a moment later).
 */
import { XrmError } from '../metadata/errors.ts';
import type { Runtime } from './runtime.ts';

const STALE_SQLSTATES = new Set([
  '42703', // undefined_column
  '42P01', // undefined_table
  '42704', // undefined_object
  '0A000', // cached plan must not change result type (a prepared statement over a changed table)
  '42804', // datatype_mismatch (a write prepared for a column's old type: named per schema version, see execute)
  '42883', // undefined_function (an operator of a column's old type)
]);

function isStaleSchemaError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE_SQLSTATES.has(code);
}

export interface FreshSchemaOptions {
  /**
   * The catalog version the request was parsed against, when it cannot be parsed again (a
   * GraphQL operation validated against that version's schema): a race is then answered 409.
   */
  readonly basis?: number;
  /** Attempts after the first (default 2; 0 inside a transaction, which a failure aborts). */
  readonly retries?: number;
}

/**
 * Runs `attempt`, which must read `runtime.state` afresh each time. An error naming a missing
 * column or table, raised while the stored schema moved past the attempt's catalog, reloads the
 * catalog and runs it again; when it cannot, the client gets 409 XRM_ERR_QUERY_SCHEMA_CHANGED.
 * The same error with the catalog up to date is a bug and propagates untouched.
 */
export async function withFreshSchema<T>(
  runtime: Runtime,
  attempt: () => Promise<T>,
  options: FreshSchemaOptions = {},
): Promise<T> {
  const retries = options.basis === undefined ? (options.retries ?? 2) : 0;
  for (let tries = 0; ; tries++) {
    const version = options.basis ?? runtime.state.version;
    try {
      return await attempt();
    } catch (error) {
      if (!isStaleSchemaError(error)) throw error;
      await runtime.reload().catch(() => undefined);
      if (runtime.state.version === version) throw error;
      if (tries >= retries) {
        throw new XrmError(
          'XRM_ERR_QUERY_SCHEMA_CHANGED',
          'The schema changed while this request ran and it names something that no longer exists; ' +
            'read the schema again and retry',
          { cause: error, extensions: { schemaVersion: runtime.state.version } },
        );
      }
    }
  }
}
