/**
 * The live API state of one server instance: the catalog it serves and everything derived from
 * it (validators, GraphQL schema, OpenAPI document), swapped as one unit when the schema version
 * changes. Changes made elsewhere arrive over LISTEN/NOTIFY, with a periodic version check as a
 * safety net for a missed notice.
 */
import type { ValidateFunction } from 'ajv';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { createAjv } from '../metadata/ajv.ts';
import { Catalog } from '../metadata/catalog.ts';
import { entitySchema, type SchemaVariant } from '../metadata/json-schema.ts';
import { loadCatalog, readSchemaVersion } from '../metadata/store.ts';
import type { Database } from '../metadata/database.ts';

/** Everything derived from one catalog version; built lazily, dropped whole on the next version. */
export class ApiState {
  readonly catalog: Catalog;
  readonly #ajv = createAjv();
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #derived = new Map<string, unknown>();

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  get version(): number {
    return this.catalog.version;
  }

  /** The compiled validator of an entity's create or update schema, cached for this version. */
  validator(entity: string, variant: SchemaVariant): ValidateFunction {
    const key = `${entity}:${variant}`;
    let validate = this.#validators.get(key);
    if (!validate) {
      const def = this.catalog.entity(entity);
      if (!def) throw new Error(`unknown entity ${entity}`);
      const { $id: _id, ...schema } = entitySchema(def, this.catalog, variant);
      validate = this.#ajv.compile(schema);
      this.#validators.set(key, validate);
    }
    return validate;
  }

  /** A value derived from this catalog version (OpenAPI document, GraphQL schema), built once. */
  derived<T>(key: string, build: (catalog: Catalog) => T): T {
    if (!this.#derived.has(key)) this.#derived.set(key, build(this.catalog));
    return this.#derived.get(key) as T;
  }
}

export type StateListener = (state: ApiState) => void | Promise<void>;

export class Runtime {
  #state: ApiState = new ApiState(Catalog.empty());
  readonly #database: Database;
  readonly #log: Logger;
  readonly #listeners: StateListener[] = [];
  #reloading: Promise<void> = Promise.resolve();
  #poll?: NodeJS.Timeout;
  #closed = false;

  constructor(database: Database, log: Logger) {
    this.#database = database;
    this.#log = log;
  }

  get state(): ApiState {
    return this.#state;
  }

  onChange(listener: StateListener): void {
    this.#listeners.push(listener);
  }

  readonly #jobListeners: (() => void)[] = [];

  /** Called when any instance queued jobs (PostgreSQL's `xrm_jobs` notice, delivered at commit). */
  onJobsQueued(listener: () => void): void {
    this.#jobListeners.push(listener);
  }

  /** Loads the catalog if the stored version moved past ours (or `force`); serialized. */
  reload(options: { force?: boolean; atLeast?: number } = {}): Promise<void> {
    const run = this.#reloading.then(async () => {
      if (this.#closed) return;
      if (!options.force && options.atLeast !== undefined && this.#state.version >= options.atLeast) return;
      const catalog = await loadCatalog(this.#database.db);
      if (!options.force && catalog.version === this.#state.version) return;
      const next = new ApiState(catalog);
      for (const listener of this.#listeners) await listener(next);
      this.#state = next;
      this.#log.info({ schemaVersion: catalog.version, entities: catalog.entities.size }, 'schema loaded');
    });
    this.#reloading = run.catch((error: unknown) => {
      this.#log.error({ err: error }, 'schema reload failed');
    });
    return run;
  }

  /**
   * Follows schema changes made by other instances (PostgreSQL): LISTEN/NOTIFY on a connection of
   * its own, outside the pool. While that connection is down (it is being re-established), the
   * stored version is checked every `pollMs` instead; while it holds, nothing is polled (a notice
   * is never lost on a live connection, and the reconnect reloads what it may have missed).
   */
  async watch(pollMs: number): Promise<void> {
    if (!this.#database.connectListener) return; // PGlite is embedded: one process, it reloads after its own changes
    await this.#listen();
    if (pollMs > 0) {
      this.#poll = setInterval(() => {
        if (this.#listening) return;
        readSchemaVersion(this.#database.db)
          .then((version) => (version !== this.#state.version ? this.reload() : undefined))
          .catch((error: unknown) => this.#log.warn({ err: error }, 'schema version check failed'));
      }, pollMs);
      this.#poll.unref();
    }
  }

  /** Reloads if another instance moved the stored version on; true when the catalog changed. */
  async refresh(): Promise<boolean> {
    const before = this.#state.version;
    await this.reload();
    return this.#state.version !== before;
  }

  /**
   * A dedicated connection LISTENing for schema versions. When it drops (a terminated backend, a
   * failover), one reconnect loop re-establishes it, then reloads to catch what was missed.
   */
  async #listen(): Promise<void> {
    const client = await this.#database.connectListener!();
    let lost = false;
    const drop = (): boolean => {
      if (lost) return false;
      lost = true;
      this.#listening = false;
      // notices may be missed from here on: what was kept on their word goes, and job workers look for
      // work now and then poll until notices are heard again
      for (const listener of this.#securityListeners) listener();
      for (const listener of this.#jobListeners) listener();
      client.removeAllListeners('notification');
      // ended, it emits nothing more; a late error must not go unheard (an uncaught 'error' kills the process)
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
      return true;
    };
    const onLost = (error?: Error) => {
      if (!drop() || this.#closed) return;
      this.#log.warn({ err: error }, 'schema listener connection lost; reconnecting');
      this.#reconnect(250);
    };
    client.on('notification', (msg) => {
      if (msg.channel === 'xrm_jobs') {
        for (const listener of this.#jobListeners) listener();
        return;
      }
      if (msg.channel === 'xrm_security') {
        for (const listener of this.#securityListeners) listener();
        return;
      }
      const version = Number(msg.payload);
      // failures are logged by reload(); the version poll or the next notice catches up
      this.reload({ atLeast: Number.isFinite(version) ? version : undefined }).catch(() => undefined);
    });
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.query('LISTEN xrm_schema');
      await client.query('LISTEN xrm_jobs');
      await client.query('LISTEN xrm_security');
    } catch (error) {
      onLost(error as Error);
      throw error;
    }
    this.#listening = !lost;
    this.#dropListener = drop;
  }

  #dropListener?: () => boolean;
  readonly #securityListeners: (() => void)[] = [];

  /**
   * Called on every `xrm_security` notice (a change to sessions, users, keys, roles or teams,
   * migration 0010) and when the LISTEN connection drops, after which notices may be missed.
   */
  onSecurityChange(listener: () => void): void {
    this.#securityListeners.push(listener);
  }

  /** Whether notices (schema, queued jobs, security) are heard right now (PostgreSQL, LISTEN connection up). */
  get noticesHeard(): boolean {
    return this.#listening;
  }
  /** The LISTEN connection holds (no version poll needed). */
  #listening = false;
  #reconnecting = false;

  /** One loop at a time: retries the LISTEN connection with backoff until it holds. */
  #reconnect(delayMs: number): void {
    if (this.#reconnecting || this.#closed) return;
    this.#reconnecting = true;
    const attempt = (delay: number) => {
      const timer = setTimeout(() => {
        if (this.#closed) return;
        this.#listen()
          .then(() => {
            this.#reconnecting = false;
            this.#log.info('schema listener re-established');
            // jobs queued while it was down were only polled for: look now
            for (const listener of this.#jobListeners) listener();
            return this.reload().catch(() => undefined);
          })
          .catch((err: unknown) => {
            this.#log.warn({ err }, 'schema listener reconnect failed; retrying');
            attempt(Math.min(delay * 2, 5000));
          });
      }, delay);
      timer.unref();
    };
    attempt(delayMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    await this.#reloading;
    this.#dropListener?.();
  }
}
