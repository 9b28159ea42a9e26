/**
 * What a request may do: the principal, the subject its predicates bind (subject.ts) and the
 * policy of the roles it holds (policy.ts), resolved in ONE statement from the database — a role,
 * team or attribute change takes effect on the very next request. Policies are kept per (catalog
 * version, roles and their versions), so the rules of a role compile once.
 *
 * On PostgreSQL a presented credential's access is then kept in memory, for at most a minute and
 * never past the credential's expiry, but only while the instance hears `xrm_security` notices
 * (every change to sessions, users, keys, roles and teams sends one: migration 0010): each notice,
 * and losing the LISTEN connection, forgets all of it. So the next request after a sign-out,
 * a revocation or a role change, on any instance, is checked against the database again.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Database, Db } from '../../metadata/database.ts';
import { execute } from '../query/statement-cache.ts';
import { XrmError } from '../../metadata/errors.ts';
import { SYSTEM_PRINCIPAL, type Principal } from '../../plugins/api.ts';
import type { QueryService } from '../query/query-service.ts';
import { parseFilter } from '../query/filter-parse.ts';
import type { Runtime } from '../runtime.ts';
import { type HeldRole, Policy, type RuleParser } from './policy.ts';
import { type Subject, SYSTEM_SUBJECT } from './subject.ts';
import { type CredentialRow, credentialCheck, principalCheck, touchKey } from './identity.ts';
import { tokenHash } from './tokens.ts';

export interface Access {
  readonly principal: Principal;
  readonly subject: Subject;
  readonly policy: Policy;
}

/** The system: everything, nothing compiled in (start-up work, `ctx.asSystem()`). */
export const SYSTEM_ACCESS: Access = Object.freeze({
  principal: SYSTEM_PRINCIPAL,
  subject: SYSTEM_SUBJECT,
  policy: Policy.UNRESTRICTED,
});

/**
 * No access at all: no role, every predicate false (a GraphQL context built for a request refused
 * before its credentials were checked, which never runs a resolver).
 */
export const NO_ACCESS: Access = Object.freeze({
  principal: SYSTEM_PRINCIPAL,
  subject: SYSTEM_SUBJECT,
  policy: new Policy([]),
});

const MAX_POLICIES = 500;
/** Credentials whose access is kept at once (beyond: all forgotten, then kept again). */
const MAX_KEPT = 10_000;
/** The longest a kept access is trusted: an API key's last use is written about this often. */
const KEPT_MS = 60_000;

interface Kept {
  readonly access: Access;
  readonly until: number;
  /** The catalog version its policy was compiled for. */
  readonly version: number;
}

/**
 * Makes each named method of `service` forget every kept access once it has run, won or failed:
 * a change to who may do what made on this instance counts from its very next request (other
 * instances hear of it through migration 0010's notice).
 */
export function forgetAfter<T extends object>(
  service: T,
  methods: readonly (keyof T & string)[],
  access: AccessService,
): void {
  const target = service as Record<string, unknown>;
  for (const name of methods) {
    const method = target[name] as (...args: unknown[]) => Promise<unknown>;
    target[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(service, args);
      } finally {
        access.forget();
      }
    };
  }
}

interface SubjectRow extends CredentialRow {
  email: string | null;
  attributes: Record<string, unknown> | null;
  teams: string[];
  teammates: string[];
  /** `id@version` of each role held. */
  roles: string[];
}

export class AccessService {
  readonly #db: Db;
  readonly #runtime: Runtime;
  readonly #query: QueryService;
  readonly #policies = new Map<string, Policy>();
  /** Role definitions by `id@version`. */
  readonly #held = new Map<string, HeldRole>();
  readonly #database: Database;
  /** Access by credential hash, while security notices are heard. */
  readonly #kept = new Map<string, Kept>();
  /** Moves on with every forgetting: a read that began before one is not kept. */
  #generation = 0;

  constructor(database: Database, runtime: Runtime, query: QueryService) {
    this.#database = database;
    const db = database.db;
    this.#db = db;
    this.#runtime = runtime;
    this.#query = query;
    runtime.onSecurityChange(() => this.forget());
  }

  /** Forgets every kept access (a security notice; a change this instance made). */
  forget(): void {
    this.#generation++;
    this.#kept.clear();
  }

  /** A row rule's filter parsed as the policy compiles it (variables allowed); 400 naming the path. */
  readonly parseRule: RuleParser = (entity, filter, path) =>
    parseFilter(entity, filter, { ...this.#query.parseContext(), variables: true }, path);

  /** Row rules parsed against another catalog (a schema change about to commit). */
  ruleParser(catalog: Catalog): RuleParser {
    return (entity, filter, path) =>
      parseFilter(entity, filter, { ...this.#query.parseContext(), catalog, variables: true }, path);
  }

  /**
   * The access of a presented token or key, in ONE statement: the credential checked (identity.ts
   * credentialCheck), the user's teams, attributes and roles. XRM_ERR_AUTH_REQUIRED when the
   * credential is unknown, expired or revoked, or its user disabled.
   */
  async authenticate(credential: string): Promise<Access> {
    if (!this.#runtime.noticesHeard) return (await this.#load(credentialCheck(credential))).access;
    const key = tokenHash(credential);
    const version = this.#runtime.state.version;
    const kept = this.#kept.get(key);
    if (kept && kept.until > Date.now() && kept.version === version) return kept.access;
    const generation = this.#generation;
    const { access, expiresAt } = await this.#load(credentialCheck(credential));
    if (generation === this.#generation && this.#runtime.noticesHeard) {
      if (this.#kept.size >= MAX_KEPT) this.#kept.clear();
      const until = Math.min(Date.now() + KEPT_MS, expiresAt ?? Number.POSITIVE_INFINITY);
      this.#kept.set(key, { access, until, version });
    }
    return access;
  }

  /**
   * The access a recorded principal has now (an async step runs as the caller of the write it
   * follows); undefined for the system. A user disabled since, or a revoked key, is refused.
   */
  async forPrincipal(principal: Principal, db?: Db): Promise<Access | undefined> {
    if (principal.kind === 'system') return undefined;
    return (await this.#load(principalCheck(principal), db)).access;
  }

  /** `db`: the caller's transaction (on PGlite's one connection, anything else would wait for it). */
  async #load(
    check: RawBuilder<CredentialRow>,
    db: Db = this.#db,
  ): Promise<{ access: Access; expiresAt: number | undefined }> {
    // roles by id and version only: their definitions are kept in memory per version, so the one
    // statement of every request stays small (and, on PostgreSQL, prepared once per connection)
    const statement = sql<SubjectRow>`
      WITH c AS (${check}),
      t AS (SELECT m.team_id FROM xrm.team_members m JOIN c ON m.user_id = c.user_id),
      r AS (SELECT ur.role_id FROM xrm.user_roles ur JOIN c ON ur.user_id = c.user_id
            UNION SELECT role_id FROM xrm.team_roles WHERE team_id IN (SELECT team_id FROM t))
      SELECT c.kind, c.id, c.user_id, c.valid, c.stale, c.expires_at, u.email, u.attributes,
        ARRAY(SELECT team_id::text FROM t) AS teams,
        ARRAY(SELECT DISTINCT m.user_id::text FROM xrm.team_members m WHERE m.team_id IN (SELECT team_id FROM t))
          AS teammates,
        ARRAY(SELECT x.id::text || '@' || (extract(epoch FROM x.updated_at) * 1000000)::bigint::text
          FROM xrm.roles x WHERE x.id IN (SELECT role_id FROM r)
            AND (c.key_roles IS NULL OR x.id::text IN (SELECT jsonb_array_elements_text(c.key_roles)))
          ORDER BY x.id) AS roles
      FROM c JOIN xrm.users u ON u.id = c.user_id`;
    const rows = await execute<SubjectRow>(this.#database, db, statement.compile(db));
    const row = rows[0];
    if (!row?.valid)
      throw new XrmError('XRM_ERR_AUTH_REQUIRED', 'The credentials presented are invalid, expired or revoked');
    // at most one write a minute per key
    if (row.stale) await touchKey(db, row.id);
    const userId = row.user_id;
    const teams = row.teams;
    const subject: Subject = {
      userId,
      email: row.email,
      teams,
      owners: [...new Set([userId, ...teams, ...row.teammates])],
      principals: [userId, ...teams],
      attributes: row.attributes ?? {},
    };
    const access: Access = {
      principal: { kind: row.kind, id: row.id },
      subject,
      policy: this.policy(await this.#roles(row.roles, db)),
    };
    return { access, expiresAt: row.expires_at == null ? undefined : new Date(row.expires_at).getTime() };
  }

  /** The roles of `id@version` keys: from memory, the ones not seen at that version read once. */
  async #roles(keys: readonly string[], db: Db): Promise<HeldRole[]> {
    const missing = keys.filter((k) => !this.#held.has(k));
    if (missing.length) {
      const { rows } = await sql<HeldRole & { key: string }>`SELECT x.id, x.name, x.built_in AS "builtIn",
          x.id::text || '@' || (extract(epoch FROM x.updated_at) * 1000000)::bigint::text AS key,
          (extract(epoch FROM x.updated_at) * 1000000)::bigint::text AS "updatedAt",
          x.definition
        FROM xrm.roles x WHERE x.id = ANY(${missing.map((k) => k.split('@')[0]!)}::uuid[])`.execute(db);
      if (this.#held.size > MAX_POLICIES * 4) this.#held.clear();
      for (const { key, ...role } of rows) this.#held.set(key, role);
    }
    // a role changed between the two statements is left out of this one request (narrower, never wider)
    return keys.flatMap((k) => this.#held.get(k) ?? []);
  }

  /** The policy of a set of roles on the current catalog (kept: the same roles compile once). */
  policy(roles: readonly HeldRole[]): Policy {
    const version = this.#runtime.state.catalog.version;
    const key = `${version}|${roles
      .map((r) => `${r.id}@${r.updatedAt}`)
      .sort()
      .join(',')}`;
    let policy = this.#policies.get(key);
    if (!policy) {
      if (this.#policies.size >= MAX_POLICIES) this.#policies.clear();
      policy = new Policy(roles, this.#guardedParser());
      this.#policies.set(key, policy);
    }
    return policy;
  }

  /**
   * Rules are checked when saved; one a later schema change broke (a field dropped) refuses
   * access rather than being ignored.
   */
  #guardedParser(): RuleParser {
    return (entity, filter, path) => {
      try {
        return this.parseRule(entity, filter, path);
      } catch (error) {
        throw new XrmError(
          'XRM_ERR_FORBIDDEN',
          `A row rule on "${entity}" of one of your roles no longer compiles (${(error as Error).message}); ` +
            'an administrator must fix the role',
          { cause: error },
        );
      }
    };
  }
}
