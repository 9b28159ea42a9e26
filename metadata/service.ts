/**
 * The metadata service: every schema change runs in ONE transaction — advisory lock, fresh
 * catalog, checks against existing rows, DDL, metadata rows, ledger entry, version bump, NOTIFY.
 * PostgreSQL DDL is transactional, so a refused or failed change leaves tables and metadata
 * exactly as they were.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database.ts';
import { Catalog } from './catalog.ts';
import * as ddl from './ddl.ts';
import { column, constraintNames, table } from './physical-names.ts';
import {
  defaultInverseName,
  memberClash,
  normalizeAlternateKey,
  normalizeChoiceSet,
  normalizeEntity,
  normalizeEntityPatch,
  normalizeField,
  normalizeIndex,
  normalizeRelationship,
  indexFieldProblem,
  declaredTwin,
  MAX_ENTITY_FIELDS,
  SECURED_PRIMARY,
} from './definitions.ts';
import { XrmError } from './errors.ts';
import { FIELD_TYPES, FIELD_TYPE_NAMES } from './field-types/index.ts';
import { isMaintained, SIGNAL_FIELDS } from './signal-fields.ts';
import * as store from './store.ts';
import type { AlternateKeyDef, ChoiceSetDef, EntityDef, FieldDef, IndexDef, RelationshipDef } from './types.ts';

/** Key of the transaction-scoped advisory lock that serializes schema changes across instances. */
export const SCHEMA_LOCK_KEY = 0x78726d; // "xrm"

export interface ChangeContext {
  /** Who made the change (a user id or name; "system" until authentication exists). */
  actor?: string;
  /** Filled with what the change breaks without being refused (automation rules it made invalid). */
  warnings?: ChangeWarning[];
}

/** Something a committed change broke that the caller should hear of (the answer carries it). */
export interface ChangeWarning {
  readonly code: string;
  readonly message: string;
  /** What it concerns, e.g. `rule:<id>`. */
  readonly target: string;
}

interface Planned<T> {
  operation: string;
  target: string;
  before?: unknown;
  after?: unknown;
  statements: RawBuilder<unknown>[];
  /** DDL already run outside the change (an index job's CONCURRENTLY build): recorded, not run. */
  ran?: readonly string[];
  /** The entity before and after, when the change may alter its full-text index. */
  search?: { entity: string; before?: EntityDef; after?: EntityDef };
  write(trx: Db): Promise<void>;
  result: T;
}

/**
 * Checks (and follows up on) a change inside its transaction, given the catalog as it will be:
 * throwing refuses the change, which then leaves everything as it was; warnings it answers reach
 * the caller with the change's answer.
 */
export type ChangeGuard = (trx: Db, after: Catalog) => Promise<ChangeWarnings>;

/** What a guard answers: warnings, or nothing (void: a guard that only refuses). */
// biome-ignore lint/suspicious/noConfusingVoidType: a guard that only refuses returns nothing
export type ChangeWarnings = readonly ChangeWarning[] | void;

/**
 * Builds of indexes over large tables (PostgreSQL): from `concurrentRows` estimated rows
 * (pg_class.reltuples) a declared index is committed `building` and built CONCURRENTLY by a job,
 * queued in the change's own transaction, so writes go on while the table is read.
 */
export interface IndexBuilds {
  readonly concurrentRows: number;
  /** Queues the build of `index` in the change's transaction; answers the job's id. */
  queue(trx: Db, entity: string, index: IndexDef): Promise<string>;
}

export interface MetadataOptions {
  /** Absent (PGlite, or no job queue): every index is built in its change's transaction. */
  readonly indexBuilds?: IndexBuilds;
  /**
   * How long a change waits for a table's lock before it is refused (XRM_ERR_METADATA_BUSY);
   * 0 or absent: as long as it takes.
   */
  readonly lockTimeoutMs?: number;
}

/** A declared index as created: with the id of the job building it when it is `building`. */
export interface IndexCreated {
  readonly index: IndexDef;
  readonly job?: string;
}

/** Thrown inside a change to roll it back without an answer for the client (nothing to record). */
class NothingToChange extends Error {}

export class MetadataService {
  readonly #db: Db;
  readonly #onChanged: (version: number) => Promise<void>;
  readonly #guards: ChangeGuard[] = [];
  readonly #options: MetadataOptions;

  constructor(db: Db, onChanged: (version: number) => Promise<void>, options: MetadataOptions = {}) {
    this.#db = db;
    this.#onChanged = onChanged;
    this.#options = options;
  }

  /** Adds a check every change passes before it commits (security roles that name what it removes). */
  addGuard(guard: ChangeGuard): void {
    this.#guards.push(guard);
  }

  /** Runs one schema change; the plan sees the catalog as it is under the lock. */
  async #change<T>(ctx: ChangeContext, plan: (catalog: Catalog, trx: Db) => Promise<Planned<T>>): Promise<T> {
    const { result, version, warnings } = await this.#db.transaction().execute(async (trx) => {
      // no statement_timeout (XRM_STATEMENT_TIMEOUT_MS) for a schema change: DDL on a big table (a new
      // required column, a unique index, a type change) may rewrite or scan it for minutes, and it
      // waits here for another instance's change; cut off, such a change could never be made
      await sql`SET LOCAL statement_timeout = 0`.execute(trx);
      await sql`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK_KEY})`.execute(trx);
      // past the schema lock, a lock_timeout: DDL waiting for a table that a long transaction or an
      // index build holds would queue every read and write of that table behind it until it ends
      const lockTimeout = Math.trunc(this.#options.lockTimeoutMs ?? 0);
      if (lockTimeout > 0) await sql`SELECT set_config('lock_timeout', ${`${lockTimeout}ms`}, true)`.execute(trx);
      const catalog = await store.loadCatalog(trx);
      const planned = await plan(catalog, trx);
      const render = (f: RawBuilder<unknown> | undefined) => (f ? f.compile(trx).sql : '');
      if (planned.search) {
        const { entity, before, after } = planned.search;
        planned.statements.push(
          ...ddl.searchIndex(entity, before, after, render),
          ...ddl.addressIndexes(entity, before, after, render),
        );
      }
      const statements: string[] = [...(planned.ran ?? [])];
      for (const statement of planned.statements) {
        const compiled = statement.compile(trx);
        if (compiled.parameters.length) throw new Error(`DDL must not carry bind parameters: ${compiled.sql}`);
        statements.push(compiled.sql);
        try {
          await trx.executeQuery(compiled);
        } catch (error) {
          throw ddlError(error, planned.target, catalog, lockTimeout);
        }
      }
      await planned.write(trx);
      const warnings: ChangeWarning[] = [];
      if (this.#guards.length) {
        const after = await store.loadCatalog(trx);
        for (const guard of this.#guards) warnings.push(...((await guard(trx, after)) ?? []));
      }
      const version = await store.recordChange(trx, {
        actor: ctx.actor ?? 'system',
        operation: planned.operation,
        target: planned.target,
        before: planned.before,
        after: planned.after,
        statements,
      });
      return { result: planned.result, version, warnings };
    });
    ctx.warnings?.push(...warnings);
    await this.#onChanged(version);
    return result;
  }

  /**
   * A change of configuration the catalog carries without DDL (webhook subscriptions, plugin
   * switches): the same lock, ledger entry, version bump and notice as a schema change, so every
   * instance follows it.
   */
  configure<T>(
    ctx: ChangeContext,
    plan: (catalog: Catalog, trx: Db) => Promise<Omit<Planned<T>, 'statements' | 'search'>>,
  ): Promise<T> {
    return this.#change(ctx, async (catalog, trx) => ({ ...(await plan(catalog, trx)), statements: [] }));
  }

  createEntity(input: unknown, ctx: ChangeContext = {}): Promise<EntityDef> {
    return this.#change(ctx, async (catalog) => {
      let entity = normalizeEntity(input, catalog);
      entity = { ...entity, fields: withInverseNames(entity, entity.fields, catalog) };
      const next = withEntity(catalog, entity);
      return {
        operation: 'entity.create',
        target: entity.name,
        after: entity,
        statements: ddl.createEntityTable(next.require(entity.name), next),
        search: { entity: entity.name, after: entity },
        write: (trx) => store.insertEntity(trx, entity),
        result: entity,
      };
    });
  }

  updateEntity(name: string, patch: unknown, ctx: ChangeContext = {}): Promise<EntityDef> {
    return this.#change(ctx, async (catalog) => {
      const before = catalog.require(name);
      const after = normalizeEntityPatch(patch, before);
      const next = withEntity(catalog, after);
      // tracking switched on adds the signal columns, switched off drops them
      const statements: RawBuilder<unknown>[] = [];
      if (!before.trackActivities && after.trackActivities) {
        for (const f of SIGNAL_FIELDS) statements.push(...ddl.addField(name, f, next));
        statements.push(ddl.trackingStorage(name, true));
      }
      if (before.trackActivities && !after.trackActivities) {
        for (const f of SIGNAL_FIELDS) statements.push(...ddl.dropField(name, f));
        statements.push(ddl.trackingStorage(name, false));
      }
      return {
        operation: 'entity.update',
        target: name,
        search: { entity: name, before, after },
        before: withoutFields(before),
        after: withoutFields(after),
        statements,
        write: (trx) => store.updateEntityRow(trx, after),
        result: after,
      };
    });
  }

  deleteEntity(name: string, ctx: ChangeContext = {}): Promise<void> {
    return this.#change(ctx, async (catalog, trx) => {
      const entity = catalog.require(name);
      if (entity.builtIn) throw refused(`"${name}" is built into the platform and cannot be deleted`, '/');
      const incoming = catalog.incomingLookups(name);
      if (incoming.length) {
        const list = incoming.map((i) => `${i.entity}.${i.field.name}`).join(', ');
        throw new XrmError(
          'XRM_ERR_METADATA_IN_USE',
          `Entity "${name}" cannot be deleted while lookups point at it: ${list}`,
          {
            extensions: { references: incoming.map((i) => ({ entity: i.entity, field: i.field.name })) },
          },
        );
      }
      const rels = [...catalog.relationships.values()].filter((r) => r.from === name || r.to === name);
      if (rels.length) {
        throw new XrmError(
          'XRM_ERR_METADATA_IN_USE',
          `Entity "${name}" cannot be deleted while many-to-many relationships use it: ` +
            rels.map((r) => r.name).join(', '),
          {
            extensions: { references: rels.map((r) => ({ relationship: r.name })) },
          },
        );
      }
      // DROP TABLE would wait for a build of minutes; cancelled, its job finds the entity gone
      for (const index of entity.indexes ?? [])
        if (index.status === 'building') await cancelIndexBuild(trx, name, index);
      return {
        operation: 'entity.delete',
        target: name,
        before: entity,
        statements: ddl.dropEntityTable(entity),
        write: (trx) => store.deleteEntityRow(trx, name),
        result: undefined,
      };
    });
  }

  addField(entityName: string, input: unknown, ctx: ChangeContext = {}): Promise<FieldDef> {
    return this.#change(ctx, async (catalog, trx) => {
      const entity = catalog.require(entityName);
      if (entity.fields.length >= MAX_ENTITY_FIELDS) {
        throw new XrmError('XRM_ERR_METADATA_CHANGE_REFUSED', `An entity has at most ${MAX_ENTITY_FIELDS} fields`, {
          errors: [{ path: '/', message: 'one field too many' }],
        });
      }
      let field = normalizeField(input, entity, catalog, '');
      const clash = memberClash(field.name, field.type === 'lookup', [
        ...entity.fields,
        ...catalog.navigations(entityName),
      ]);
      if (clash)
        throw new XrmError('XRM_ERR_METADATA_NAME_TAKEN', clash, { errors: [{ path: '/name', message: clash }] });
      field = withInverseNames(entity, [field], catalog)[0]!;
      if (field.required && field.default === undefined && !FIELD_TYPES[field.type].generatedDefault) {
        const rows = await countRows(trx, sql`SELECT count(*) FROM ${table(entityName)}`);
        if (rows > 0) {
          throw conflict(
            'A required field needs a default while the entity has records: ' +
              `${rows} existing record(s) would have no value`,
            rows,
            '/required',
          );
        }
      }
      if (field.unique && field.default !== undefined) {
        const rows = await countRows(trx, sql`SELECT count(*) FROM ${table(entityName)}`);
        if (rows > 1)
          throw conflict(
            `A unique field with a default would give ${rows} existing records the same value`,
            rows,
            '/unique',
          );
      }
      const after = { ...entity, fields: [...entity.fields, field] };
      return {
        operation: 'field.create',
        target: `${entityName}.${field.name}`,
        after: field,
        statements: ddl.addField(entityName, field, withEntity(catalog, after)),
        search: { entity: entityName, before: entity, after },
        write: (t) => store.insertField(t, entityName, field),
        result: field,
      };
    });
  }

  updateField(entityName: string, fieldName: string, patch: unknown, ctx: ChangeContext = {}): Promise<FieldDef> {
    return this.#change(ctx, async (catalog, trx) => {
      const entity = catalog.require(entityName);
      const before = requireField(entity, fieldName);
      refuseMaintained(before);
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw new XrmError('XRM_ERR_METADATA_INVALID', 'The field change must be a JSON object', {
          errors: [{ path: '/', message: 'must be an object' }],
        });
      }
      const p = patch as Record<string, unknown>;
      if (before.builtIn) {
        const other = Object.keys(p).find((k) => !['displayName', 'description', 'name'].includes(k));
        if (other) throw refused(`"${fieldName}" is built into the platform: only its labels can change`, `/${other}`);
      }
      if (p.name !== undefined && p.name !== fieldName) {
        throw refused(
          'Fields cannot be renamed; the name is the stable API and column name (change displayName instead)',
          '/name',
        );
      }
      const merged: Record<string, unknown> = { ...before };
      for (const [k, v] of Object.entries(p)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      // stored options the (new) type does not take are dropped: the normalized flags every field
      // carries (unique/searchable false, autonumber's forced unique) and, on a type change, the
      // old type's options; only what the client sent is validated against the type
      const typeName = (FIELD_TYPE_NAMES as readonly unknown[]).includes(p.type)
        ? (p.type as FieldDef['type'])
        : before.type;
      const allowed = new Set<string>([
        'name',
        'type',
        'displayName',
        'description',
        'required',
        'secured',
        ...FIELD_TYPES[typeName].options,
      ]);
      for (const k of Object.keys(merged)) if (!allowed.has(k) && !(k in p)) delete merged[k];
      const after = normalizeField(merged, entity, catalog, '');
      if (after.secured && entity.primaryField === fieldName) throw refused(SECURED_PRIMARY, '/secured');
      // a retyped column keeps its indexes (ALTER COLUMN TYPE rebuilds them), if a B-tree still orders it
      const index = entity.indexes?.find((i) => i.fields.includes(fieldName));
      const unindexable = index && indexFieldProblem(after);
      if (unindexable) throw refused(`"${fieldName}" is part of the index "${index.name}": ${unindexable}`, '/type');
      const twin = declaredTwin(entity, before, after);
      if (twin) {
        throw refused(
          `"${fieldName}" has the declared index "${twin.index.name}" on it alone, the index ${twin.path.slice(1)} ` +
            `would make: delete that index first`,
          twin.path,
        );
      }
      const afterCatalog = withEntity(catalog, {
        ...entity,
        fields: entity.fields.map((f) => (f.name === fieldName ? after : f)),
      });
      await assertFieldChangeAllowed(trx, catalog, afterCatalog, entityName, before, after);
      return {
        operation: 'field.update',
        target: `${entityName}.${fieldName}`,
        before,
        after,
        statements: ddl.alterField(
          entityName,
          before,
          after,
          { before: catalog, after: afterCatalog },
          (f) => (f ? f.compile(trx).sql : ''),
          entity.alternateKeys,
        ),
        search: { entity: entityName, before: entity, after: afterCatalog.entity(entityName) },
        write: (t) => store.updateFieldRow(t, entityName, after),
        result: after,
      };
    });
  }

  dropField(entityName: string, fieldName: string, ctx: ChangeContext = {}): Promise<void> {
    return this.#change(ctx, async (catalog) => {
      const entity = catalog.require(entityName);
      const field = requireField(entity, fieldName);
      refuseMaintained(field);
      if (field.builtIn) throw refused(`"${fieldName}" is built into the platform and cannot be dropped`, '/');
      if (entity.primaryField === fieldName) {
        throw refused(
          `"${fieldName}" is the primary field of "${entityName}"; choose another primary field first`,
          '/',
        );
      }
      const key = entity.alternateKeys?.find((k) => k.fields.includes(fieldName));
      if (key) throw refused(`"${fieldName}" is part of the alternate key "${key.name}"; drop the key first`, '/');
      const index = entity.indexes?.find((i) => i.fields.includes(fieldName));
      if (index) throw refused(`"${fieldName}" is part of the index "${index.name}"; drop the index first`, '/');
      return {
        operation: 'field.delete',
        target: `${entityName}.${fieldName}`,
        before: field,
        statements: ddl.dropField(entityName, field),
        search: {
          entity: entityName,
          before: entity,
          after: { ...entity, fields: entity.fields.filter((f) => f.name !== fieldName) },
        },
        write: (t) => store.deleteFieldRow(t, entityName, fieldName),
        result: undefined,
      };
    });
  }

  /**
   * Declares an alternate key (fields unique together); refused while existing records share values.
   * A key over a unique field, or over the fields of another key, shares that unique index (ddl.ts).
   */
  addAlternateKey(entityName: string, input: unknown, ctx: ChangeContext = {}): Promise<AlternateKeyDef> {
    return this.#change(ctx, async (catalog, trx) => {
      const entity = catalog.require(entityName);
      const key = normalizeAlternateKey(input, entity);
      await refuseSharedValues(trx, entityName, key.fields);
      const after = { ...entity, alternateKeys: [...(entity.alternateKeys ?? []), key] };
      return {
        operation: 'key.create',
        target: `${entityName}.${key.name}`,
        after: key,
        statements: ddl.createAlternateKey(entity, key),
        write: (t) => store.updateEntityRow(t, after),
        result: key,
      };
    });
  }

  dropAlternateKey(entityName: string, keyName: string, ctx: ChangeContext = {}): Promise<void> {
    return this.#change(ctx, async (catalog) => {
      const entity = catalog.require(entityName);
      const key = entity.alternateKeys?.find((k) => k.name === keyName);
      if (!key)
        throw new XrmError(
          'XRM_ERR_METADATA_KEY_NOT_FOUND',
          `Entity "${entityName}" has no alternate key "${keyName}"`,
        );
      const after = { ...entity, alternateKeys: entity.alternateKeys!.filter((k) => k.name !== keyName) };
      return {
        operation: 'key.delete',
        target: `${entityName}.${keyName}`,
        before: key,
        statements: ddl.dropAlternateKey(entity, key),
        write: (t) => store.updateEntityRow(t, after),
        result: undefined,
      };
    });
  }

  /**
   * Declares a B-tree index. A small table's (and every one on PGlite) is built in the change:
   * `active`, or refused like an alternate key while records share the values of a unique one. A
   * large table's is committed `building` with a job that builds it CONCURRENTLY (IndexBuilds);
   * the job ends it `active` or `failed` (finishIndexBuild).
   */
  addIndex(entityName: string, input: unknown, ctx: ChangeContext = {}): Promise<IndexCreated> {
    return this.#change(ctx, async (catalog, trx) => {
      const entity = catalog.require(entityName);
      let index = normalizeIndex(input, entity);
      const builds = this.#options.indexBuilds;
      const byJob = builds !== undefined && (await estimatedRows(trx, entityName)) >= builds.concurrentRows;
      // a job's build finds duplicates itself (and fails): counting them here would scan the large table
      if (index.unique && !byJob) await refuseSharedValues(trx, entityName, index.fields);
      if (byJob) index = Object.freeze({ ...index, status: 'building' as const });
      const after = { ...entity, indexes: [...(entity.indexes ?? []), index] };
      const result: { index: IndexDef; job?: string } = { index };
      return {
        operation: 'index.create',
        target: `${entityName}.${index.name}`,
        after: index,
        statements: byJob ? [] : [ddl.createEntityIndex(entityName, index)],
        write: async (t) => {
          await store.updateEntityRow(t, after);
          if (byJob) result.job = await builds.queue(t, entityName, index);
        },
        result,
      };
    });
  }

  /** Drops a declared index; one being built has its build cancelled first (the job then finds it gone). */
  dropIndex(entityName: string, indexName: string, ctx: ChangeContext = {}): Promise<void> {
    return this.#change(ctx, async (catalog, trx) => {
      const entity = catalog.require(entityName);
      const index = requireIndex(entity, indexName);
      if (index.status === 'building') await cancelIndexBuild(trx, entityName, index);
      const after = { ...entity, indexes: entity.indexes!.filter((i) => i.name !== indexName) };
      return {
        operation: 'index.delete',
        target: `${entityName}.${indexName}`,
        before: index,
        statements: [ddl.dropEntityIndex(entityName, index)],
        write: (t) => store.updateEntityRow(t, after),
        result: undefined,
      };
    });
  }

  /**
   * Ends the build of an index by its job: `active`, or `failed` with why (the job has dropped what
   * the failed build left). False, recording nothing, when the index is gone or no longer building.
   */
  async finishIndexBuild(
    entityName: string,
    indexName: string,
    outcome: { error?: string; ran?: readonly string[] },
    ctx: ChangeContext = {},
  ): Promise<boolean> {
    try {
      await this.#change(ctx, async (catalog) => {
        const entity = catalog.entity(entityName);
        const before = entity?.indexes?.find((i) => i.name === indexName);
        if (!entity || before?.status !== 'building') throw new NothingToChange();
        const { error: _e, ...rest } = before;
        const index: IndexDef = Object.freeze(
          outcome.error === undefined
            ? { ...rest, status: 'active' }
            : { ...rest, status: 'failed', error: outcome.error },
        );
        const after = { ...entity, indexes: entity.indexes!.map((i) => (i.name === indexName ? index : i)) };
        return {
          operation: outcome.error === undefined ? 'index.activate' : 'index.fail',
          target: `${entityName}.${indexName}`,
          before,
          after: index,
          statements: [],
          ran: outcome.ran,
          write: (t) => store.updateEntityRow(t, after),
          result: undefined,
        };
      });
      return true;
    } catch (error) {
      if (error instanceof NothingToChange) return false;
      throw error;
    }
  }

  createRelationship(input: unknown, ctx: ChangeContext = {}): Promise<RelationshipDef> {
    return this.#change(ctx, async (catalog) => {
      const rel = normalizeRelationship(input, catalog);
      return {
        operation: 'relationship.create',
        target: rel.name,
        after: rel,
        statements: ddl.createJunctionTable(rel),
        write: (t) => store.insertRelationship(t, rel),
        result: rel,
      };
    });
  }

  deleteRelationship(name: string, ctx: ChangeContext = {}): Promise<void> {
    return this.#change(ctx, async (catalog) => {
      const rel = catalog.relationships.get(name);
      if (!rel) throw new XrmError('XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND', `Relationship "${name}" does not exist`);
      return {
        operation: 'relationship.delete',
        target: name,
        before: rel,
        statements: ddl.dropJunctionTable(rel),
        write: (t) => store.deleteRelationshipRow(t, name),
        result: undefined,
      };
    });
  }

  createChoiceSet(input: unknown, ctx: ChangeContext = {}): Promise<ChoiceSetDef> {
    return this.#change(ctx, async (catalog) => {
      const set = normalizeChoiceSet(input);
      if (catalog.choiceSets.has(set.name)) {
        throw new XrmError('XRM_ERR_METADATA_NAME_TAKEN', `Choice set "${set.name}" already exists`, {
          errors: [{ path: '/name', message: 'is taken' }],
        });
      }
      return {
        operation: 'choiceSet.create',
        target: `choiceSet:${set.name}`,
        after: set,
        statements: [],
        write: (t) => store.upsertChoiceSet(t, set),
        result: set,
      };
    });
  }

  /** Relabels, adds or (when no record uses them) removes options; every field using the set follows. */
  updateChoiceSet(name: string, input: unknown, ctx: ChangeContext = {}): Promise<ChoiceSetDef> {
    return this.#change(ctx, async (catalog, trx) => {
      const before = catalog.choiceSets.get(name);
      if (!before) throw new XrmError('XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND', `Choice set "${name}" does not exist`);
      const after = normalizeChoiceSet({ ...before, ...(input as object), name });
      const next = new Catalog({
        ...catalog.toJSON(),
        choiceSets: [...[...catalog.choiceSets.values()].filter((c) => c.name !== name), after],
      });
      const values = new Set(after.options.map((o) => o.value));
      const render = (f: RawBuilder<unknown> | undefined) => (f ? f.compile(trx).sql : '');
      // only fields whose CHECK changes (option values, not labels) are re-checked: that scans their table
      const users = catalog
        .choiceSetUsers(name)
        .filter(
          ({ field }) => render(ddl.checkExpression(field, catalog)) !== render(ddl.checkExpression(field, next)),
        );
      for (const { entity, field } of users) {
        const defaults =
          field.default === undefined ? [] : Array.isArray(field.default) ? field.default : [field.default];
        const gone = defaults.filter((d) => !values.has(d as string));
        if (gone.length) {
          throw refused(
            `Option(s) ${gone.map((g) => JSON.stringify(g)).join(', ')} of choice set "${name}" ` +
              `are the default of "${entity.name}.${field.name}"; change that default first`,
            '/options',
          );
        }
        const check = ddl.checkExpression(field, next);
        if (check) await assertNoViolations(trx, entity.name, field, check, `options of choice set "${name}"`);
      }
      return {
        operation: 'choiceSet.update',
        target: `choiceSet:${name}`,
        before,
        after,
        statements: ddl.recheckFields(users, next),
        write: (t) => store.upsertChoiceSet(t, after),
        result: after,
      };
    });
  }

  deleteChoiceSet(name: string, ctx: ChangeContext = {}): Promise<void> {
    return this.#change(ctx, async (catalog) => {
      const set = catalog.choiceSets.get(name);
      if (!set) throw new XrmError('XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND', `Choice set "${name}" does not exist`);
      const users = catalog.choiceSetUsers(name);
      if (users.length) {
        throw new XrmError(
          'XRM_ERR_METADATA_IN_USE',
          `Choice set "${name}" is used by ${users.map((u) => `${u.entity.name}.${u.field.name}`).join(', ')}`,
        );
      }
      return {
        operation: 'choiceSet.delete',
        target: `choiceSet:${name}`,
        before: set,
        statements: [],
        write: (t) => store.deleteChoiceSetRow(t, name),
        result: undefined,
      };
    });
  }
}

function requireField(entity: EntityDef, name: string): FieldDef {
  const field = entity.fields.find((f) => f.name === name);
  if (!field) throw new XrmError('XRM_ERR_METADATA_FIELD_NOT_FOUND', `Entity "${entity.name}" has no field "${name}"`);
  return field;
}

/** Signal fields come and go with `trackActivities`; no field change applies to them. */
function refuseMaintained(field: FieldDef): void {
  if (!isMaintained(field)) return;
  throw refused(
    `"${field.name}" is a relationship signal the platform keeps current; switch trackActivities off to remove it`,
    '/',
  );
}

function withoutFields(entity: EntityDef): Omit<EntityDef, 'fields'> {
  const { fields: _f, ...rest } = entity;
  return rest;
}

/** The catalog with `entity` added or replaced (for deriving DDL that looks up choice sets etc.). */
function withEntity(catalog: Catalog, entity: EntityDef): Catalog {
  const data = catalog.toJSON();
  return new Catalog({ ...data, entities: [...data.entities.filter((e) => e.name !== entity.name), entity] });
}

/** Gives each lookup its inverse navigation name on the target, refusing clashes. */
function withInverseNames(
  entity: { name: string; pluralName: string },
  fields: readonly FieldDef[],
  catalog: Catalog,
): FieldDef[] {
  const takenOn = new Map<string, Set<string>>();
  const taken = (target: string) => {
    let set = takenOn.get(target);
    if (!set) {
      set = catalog.memberNames(target);
      if (target === entity.name) for (const f of fields) set.add(f.name);
      takenOn.set(target, set);
    }
    return set;
  };
  return fields.map((field, i) => {
    if (field.type !== 'lookup') return field;
    const names = taken(field.target!);
    if (field.inverseName !== undefined && names.has(field.inverseName)) {
      throw new XrmError(
        'XRM_ERR_METADATA_NAME_TAKEN',
        `inverse name "${field.inverseName}" is already used on entity "${field.target}"`,
        {
          errors: [{ path: fields.length > 1 ? `/fields/${i}/inverseName` : '/inverseName', message: 'is taken' }],
        },
      );
    }
    const inverseName = field.inverseName ?? defaultInverseName(entity, field, names);
    names.add(inverseName);
    return Object.freeze({ ...field, inverseName });
  });
}

function requireIndex(entity: EntityDef, name: string): IndexDef {
  const index = entity.indexes?.find((i) => i.name === name);
  if (!index) throw new XrmError('XRM_ERR_METADATA_INDEX_NOT_FOUND', `Entity "${entity.name}" has no index "${name}"`);
  return index;
}

/** The planner's estimate of a table's rows (0 for a table never analyzed): no scan. */
async function estimatedRows(trx: Db, entity: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT c.reltuples::float8 AS n FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'data' AND c.relname = ${entity}`.execute(trx);
  return Math.max(0, Number(rows[0]?.n ?? 0));
}

/** Cancels a CREATE INDEX CONCURRENTLY of this index running on any backend (its job finds it gone). */
async function cancelIndexBuild(trx: Db, entity: string, index: IndexDef): Promise<void> {
  const name = `data."${constraintNames.entityIndex(entity, index.name)}"`;
  await sql`SELECT pg_cancel_backend(pid) FROM pg_stat_progress_create_index
    WHERE index_relid = to_regclass(${name})`.execute(trx);
}

/** Refuses a unique index (or key) over `fields` while records share values of them all (with the count). */
async function refuseSharedValues(trx: Db, entity: string, fields: readonly string[]): Promise<void> {
  const cols = fields.map((f) => column(f));
  const rows = await countRows(
    trx,
    sql`SELECT count(*) FROM (SELECT 1 FROM ${table(entity)}
    WHERE ${sql.join(
      cols.map((c) => sql`${c} IS NOT NULL`),
      sql` AND `,
    )}
    GROUP BY ${sql.join(cols)} HAVING count(*) > 1) d`,
  );
  if (rows > 0)
    throw conflict(
      `${rows} value combination(s) of ${fields.join(', ')} appear on more than one "${entity}" record`,
      rows,
      '/fields',
    );
}

async function countRows(trx: Db, query: RawBuilder<unknown>): Promise<number> {
  const { rows } = await sql<{ count: string | number }>`SELECT (${query})::text AS count`.execute(trx);
  return Number(rows[0]?.count ?? 0);
}

function conflict(detail: string, rows: number, path: string): XrmError {
  return new XrmError('XRM_ERR_METADATA_DATA_CONFLICT', detail, {
    errors: [{ path, message: detail }],
    extensions: { offendingRows: rows },
  });
}

function refused(detail: string, path: string): XrmError {
  return new XrmError('XRM_ERR_METADATA_CHANGE_REFUSED', detail, { errors: [{ path, message: detail }] });
}

async function assertNoViolations(
  trx: Db,
  entity: string,
  field: FieldDef,
  condition: RawBuilder<boolean>,
  what: string,
): Promise<void> {
  const rows = await countRows(
    trx,
    sql`SELECT count(*) FROM ${table(entity)} WHERE ${column(field.name)} IS NOT NULL AND NOT (${condition})`,
  );
  if (rows > 0)
    throw conflict(
      `${rows} existing record(s) of "${entity}" have a "${field.name}" value outside the new ${what}`,
      rows,
      `/${field.name}`,
    );
}

/** Refuses a field change that is not lossless, or that existing rows would violate (with their count). */
async function assertFieldChangeAllowed(
  trx: Db,
  catalog: Catalog,
  next: Catalog,
  entity: string,
  before: FieldDef,
  after: FieldDef,
): Promise<void> {
  const col = column(before.name);
  const render = (f: RawBuilder<unknown>) => f.compile(trx).sql;
  if (before.type === 'lookup' && after.type === 'lookup' && before.target !== after.target) {
    throw refused("A lookup's target cannot change; add a new lookup instead", '/target');
  }
  if ((before.choiceSet ?? null) !== (after.choiceSet ?? null) && after.type === before.type) {
    throw refused('A field cannot switch between inline options and a choice set', '/choiceSet');
  }
  const typeChanged =
    render(FIELD_TYPES[before.type].columnType(before)) !== render(FIELD_TYPES[after.type].columnType(after));
  // the stored values as the new column will hold them, for checking the new rules against
  let converted: RawBuilder<unknown> = col;
  if (before.type !== after.type || typeChanged) {
    const conversion = FIELD_TYPES[before.type].conversions?.[after.type];
    if (!conversion) {
      throw refused(
        `Cannot change "${before.name}" from ${before.type} to ${after.type}: ` +
          'not every stored value converts losslessly',
        '/type',
      );
    }
    const why = conversion.refuse?.(before, after);
    if (why)
      throw refused(
        `Cannot change "${before.name}" from ${describeType(before)} to ${describeType(after)}: ${why}`,
        '/type',
      );
    if (conversion.lossyRows) {
      const lossy = conversion.lossyRows(col, before, after);
      const rows = await countRows(
        trx,
        sql`SELECT count(*) FROM ${table(entity)} WHERE ${col} IS NOT NULL AND (${lossy})`,
      );
      if (rows > 0) {
        throw conflict(
          `${rows} existing record(s) of "${entity}" have a "${before.name}" value ` +
            `that would not survive the change to ${describeType(after)}`,
          rows,
          '/type',
        );
      }
    }
    if (typeChanged)
      converted = sql`(${conversion.using?.(col, before, after) ?? col})::${FIELD_TYPES[after.type].columnType(after)}`;
  }
  if (after.required && !before.required) {
    const rows = await countRows(trx, sql`SELECT count(*) FROM ${table(entity)} WHERE ${col} IS NULL`);
    if (rows > 0)
      throw conflict(
        `${rows} existing record(s) of "${entity}" have no "${before.name}" value; fill them before making it required`,
        rows,
        '/required',
      );
  }
  if (after.unique && !before.unique) {
    const rows = await countRows(
      trx,
      sql`SELECT count(*) FROM ${table(entity)} t WHERE ${col} IS NOT NULL AND EXISTS (
      SELECT 1 FROM ${table(entity)} o WHERE o.${col} = t.${col} AND o.id <> t.id)`,
    );
    if (rows > 0)
      throw conflict(
        `${rows} existing record(s) of "${entity}" share a "${before.name}" value with another record`,
        rows,
        '/unique',
      );
  }
  // new rules (or the same rules over converted values) must hold for every stored value; the
  // count is taken here, before any DDL, so the client learns how many records are in the way
  const checkAfter = ddl.checkExpression(after, next);
  const checkBefore = ddl.checkExpression(before, catalog);
  if (checkAfter && (converted !== col || !checkBefore || render(checkAfter) !== render(checkBefore))) {
    await assertNoViolations(trx, entity, before, ddl.checkExpression(after, next, converted)!, 'rules');
  }
}

function describeType(field: FieldDef): string {
  return FIELD_TYPES[field.type].label?.(field) ?? field.type;
}

/** Existing data in the way; 54000: a value too large for the index being built. */
const DATA_CONFLICT_CODES = new Set(['23505', '23502', '23514', '23503', '22001', '22003', '54000']);

/** duplicate_table, duplicate_object: a name already taken in schema data (e.g. a table made by hand). */
const NAME_TAKEN_CODES = new Set(['42P07', '42710']);

/**
 * The problem of a change whose DDL waited past the lock timeout (55P03 lock_not_available) for a
 * table that a long transaction or an index being built CONCURRENTLY (which holds its table for
 * the whole build) held; the detail names such builds of the entity, from the catalog under the lock.
 */
function busy(error: unknown, target: string, catalog: Catalog, lockTimeoutMs: number): XrmError {
  const entity = target.split('.')[0]!;
  const building = (catalog.entity(entity)?.indexes ?? []).filter((i) => i.status === 'building');
  const names = building.map((i) => `"${i.name}"`).join(', ');
  const held = building.length
    ? `${building.length > 1 ? `indexes ${names} of "${entity}" are` : `index ${names} of "${entity}" is`} being ` +
      `built (GET /api/metadata/entities/${entity}/indexes shows ${building.length > 1 ? 'their' : 'its'} progress)`
    : 'another transaction holds it (a long write, import or report)';
  return new XrmError(
    'XRM_ERR_METADATA_BUSY',
    `The change waited ${lockTimeoutMs ? `${lockTimeoutMs} ms ` : ''}for a table it alters and was not made: ` +
      `${held}. Nothing changed; try again when that ends`,
    { cause: error },
  );
}

/** Maps a database error raised by DDL: existing data in the way is the client's to fix. */
function ddlError(error: unknown, target: string, catalog: Catalog, lockTimeoutMs: number): unknown {
  const code = (error as { code?: string }).code;
  if (code === '55P03') return busy(error, target, catalog, lockTimeoutMs);
  if (code && DATA_CONFLICT_CODES.has(code)) {
    return new XrmError(
      'XRM_ERR_METADATA_DATA_CONFLICT',
      `Existing records conflict with the change: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (code === '54011') {
    return new XrmError(
      'XRM_ERR_METADATA_CHANGE_REFUSED',
      "The table has reached PostgreSQL's limit of 1,600 columns " +
        '(dropped fields count until the table is rewritten, e.g. by VACUUM FULL)',
      { cause: error },
    );
  }
  if (code && NAME_TAKEN_CODES.has(code)) {
    // PostgreSQL's message names the object: relation "x" already exists
    const taken = /"([^"]+)"/.exec((error as Error).message)?.[1];
    return new XrmError(
      'XRM_ERR_METADATA_NAME_TAKEN',
      `The database already has an object of this name, not made by the platform: ${(error as Error).message}`,
      {
        cause: error,
        errors: [{ path: taken === target ? '/name' : '/', message: `"${taken ?? target}" is taken in the database` }],
      },
    );
  }
  return error;
}
