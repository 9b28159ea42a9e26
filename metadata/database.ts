/**
 * One code path, two databases: kysely over a `pg` Pool when DATABASE_URL is set, otherwise over
 * embedded PGlite with its data in a local folder. Migrations of the system tables run here.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Kysely, PGliteDialect, PostgresDialect, sql, type LogEvent, type RawBuilder } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import pg from 'pg';
import { migrations } from '../migrations/index.ts';
import { PGLITE_SHARED_BUFFERS, readTemplate, unpackTemplate } from './pglite-template.ts';

export type Db = Kysely<any>;

export interface Database {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  /** The pg pool (PostgreSQL only), for prepared statements. */
  readonly pool?: pg.Pool;
  /**
   * A connection of its own, outside the pool (PostgreSQL only): for LISTEN, so the connection
   * that waits for notices never takes one of the requests' connections.
   */
  connectListener?(): Promise<pg.Client>;
  /** Observer of statements sent outside kysely (prepared statements on the pool). */
  readonly onQuery?: (sql: string, parameters: readonly unknown[]) => void;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A pooled connection failed (PostgreSQL), idle or checked out; the pool replaces it. */
  onConnectionError?: (error: Error) => void;
  /** Called with every statement kysely sends (tests count statements per request). */
  onQuery?: (sql: string, parameters: readonly unknown[]) => void;
}

/** Where the data lives: PostgreSQL when `databaseUrl` is set, else PGlite in `dataDir` (`memory://` for tests). */
export interface DatabaseLocation {
  readonly databaseUrl?: string;
  readonly dataDir: string;
  /**
   * statement_timeout of every pooled PostgreSQL connection (XRM_STATEMENT_TIMEOUT_MS); 0 or unset
   * is none. Migrations and schema changes lift it for themselves. PGlite accepts the setting but
   * never enforces it (no timer interrupt in its single-threaded WASM build: a one-second
   * pg_sleep under a 200 ms limit completes), so it is not set there.
   */
  readonly statementTimeoutMs?: number;
  /**
   * Connections of the PostgreSQL pool that serves requests (XRM_DATABASE_POOL_SIZE, default 10);
   * the LISTEN connection and an index build's connection come on top.
   */
  readonly databasePoolSize?: number;
  /**
   * How V8 compiles PGlite's WebAssembly (XRM_PGLITE_COMPILER): `baseline` (Liftoff only) keeps
   * the server about 65 MB smaller (PGlite alone: 35 MB) and opens faster, as fast on the small
   * statements of requests;
   * `optimizing` also tiers hot functions up (TurboFan), about 1.4 x faster on long scans and
   * aggregates. The setting is the process's: the last PGlite opened decides.
   */
  readonly pgliteCompiler?: 'baseline' | 'optimizing';
}

/**
 * A statement whose text starts with this comment runs as a named prepared statement on
 * PostgreSQL, on the pool or inside a transaction alike: parsed and planned once per connection
 * (the name is a hash of the text). PGlite runs it as any statement. Mark hot statements of a
 * fixed shape whose parameter types never change (see `preparedSql`).
 */
export const PREPARED_MARK = '/*xrm:prepared*/';

/** `query` run as a named prepared statement on PostgreSQL (PREPARED_MARK). */
export function preparedSql<T>(query: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(PREPARED_MARK)} ${query}`;
}

const names = new Map<string, string>();

/** The prepared statement name of a statement text (stable within and across processes). */
export function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `xrm_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    if (names.size > 10_000) names.clear();
    names.set(text, name);
  }
  return name;
}

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/** Every statement this client runs whose text starts with PREPARED_MARK runs named (prepared). */
function prepareMarked(client: pg.PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  (client as unknown as { query: QueryFn }).query = (config, values, callback) =>
    typeof config === 'string' && config.startsWith(PREPARED_MARK)
      ? query({ name: statementName(config), text: config, values }, callback)
      : query(config, values, callback);
}

/**
 * A new PGlite folder starts from the build's pre-initialised database (pglite-template.ts), if
 * any: made and unpacked before PGlite opens it (an in-memory database gets it through PGlite).
 * Begins the unpack (or joins the one under way) and answers its promise; undefined when there is
 * nothing to unpack (PostgreSQL, memory, a folder holding a database). `npm start` calls it first
 * thing (boot.ts), so the files are written while the server's modules load.
 */
export function prepareDataDir(config: DatabaseLocation): Promise<boolean> | undefined {
  if (config.databaseUrl || config.dataDir.startsWith('memory://')) return undefined;
  mkdirSync(config.dataDir, { recursive: true });
  if (existsSync(join(config.dataDir, 'PG_VERSION'))) return undefined;
  const unpack = unpackTemplate(config.dataDir);
  unpack.catch(() => undefined); // reported where it is awaited
  return unpack;
}

export function openDatabase(config: DatabaseLocation, options: DatabaseOptions = {}): Database {
  const log = options.onQuery
    ? (event: LogEvent) => options.onQuery!(event.query.sql, event.query.parameters)
    : undefined;
  if (config.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.databasePoolSize ?? 10,
      // a connection is replaced after this many checkouts: the named statements it prepared (one set per
      // schema version: server/query/statement-cache.ts) go with it, so they cannot pile up for ever
      maxUses: 50_000,
      // results in UTC whatever the server's zone; names the app in pg_stat_activity
      options: '-c TimeZone=UTC',
      application_name: 'xrm-platform',
      // a database that cannot be reached fails the request (503) instead of queueing it forever
      connectionTimeoutMillis: 5000,
      // sent at connect: a runaway statement is cancelled (SQLSTATE 57014, answered 504) and frees its connection
      ...(config.statementTimeoutMs ? { statement_timeout: config.statementTimeoutMs } : {}),
    });
    // A connection lost to a terminated backend, a failover or a restart emits 'error' on its
    // client. pg-pool listens only while the client is idle; a checked-out client (a kysely
    // transaction, a LISTEN connection) would throw it as an uncaught exception and take the
    // process down. Every client gets a listener for its whole life; the query in flight fails
    // on its own (answered 503) and the pool drops the broken client when it is released.
    const onError = options.onConnectionError ?? (() => undefined);
    pool.on('connect', (client) => {
      client.on('error', onError);
      prepareMarked(client);
    });
    pool.on('error', () => undefined); // the idle case: already reported by the client's listener
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }), log });
    const connectListener = async () => {
      const client = new pg.Client({
        connectionString: config.databaseUrl,
        options: '-c TimeZone=UTC',
        application_name: 'xrm-platform listener',
        connectionTimeoutMillis: 5000,
      });
      try {
        await client.connect();
      } catch (error) {
        client.removeAllListeners();
        throw error;
      }
      return client;
    };
    return { db, kind: 'postgres', pool, connectListener, onQuery: options.onQuery, close: () => db.destroy() };
  }
  const memory = config.dataDir.startsWith('memory://');
  // awaited when the database is first used; a failure then fails that use, not the process now
  const unpacked = prepareDataDir(config);
  const db = new Kysely<any>({
    log,
    dialect: new PGliteDialect({
      pglite: async () => {
        setFlagsFromString(config.pgliteCompiler === 'optimizing' ? '--no-liftoff-only' : '--liftoff-only');
        // loaded only when used: a PostgreSQL deployment never pays for the WASM build
        const { PGlite } = await import('@electric-sql/pglite');
        // an embedded, single-user database: a smaller buffer cache than PostgreSQL's 128 MB default
        // (the data folder's pages stay in the OS cache anyway); see README "Performance"
        await unpacked;
        const loadDataDir = memory ? readTemplate() : undefined;
        const pglite = await PGlite.create(config.dataDir, {
          startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
          ...(loadDataDir ? { loadDataDir } : {}),
        });
        await pglite.query(`SET TimeZone = 'UTC'`);
        return pglite;
      },
    }),
  });
  return { db, kind: 'pglite', close: () => db.destroy() };
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Applies pending system-table migrations; kysely creates schema xrm and locks, so concurrent starts
 * are safe. They run on one connection without statement_timeout: rewriting a big system table
 * (the audit trail, the job queue) or waiting for another instance's migrations may well take
 * longer than a request may, and a cancelled migration would keep the platform from starting.
 */
export async function migrateToLatest(db: Db): Promise<void> {
  const { error, results } = await db.connection().execute(async (connection) => {
    await sql`SET statement_timeout = 0`.execute(connection);
    try {
      return await new Migrator({ db: connection, provider, migrationTableSchema: 'xrm' }).migrateToLatest();
    } finally {
      // back to the pool's setting (sent at connect) before the connection serves requests
      await sql`RESET statement_timeout`.execute(connection);
    }
  });
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String((error as Error).message ?? error)}`, {
      cause: error,
    });
  }
}
