/**
 * The policy: what a principal may do, as the union of the roles they hold (directly, through a
 * team, or restricted by an API key). Per entity and privilege an access level — `none`, `own`
 * (records the user owns), `team` (owned by the user, one of their teams or a member of one) or
 * `all` — narrowed by the role's row rules, widened by shares of single records; per secured field
 * read and update. It compiles to SQL predicates that reads put inside their one statement and
 * writes into their WHERE, with the user's values left as SubjectParameters (subject.ts), so a
 * compiled statement is cached by shape + `policy.key`, never by user.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { FieldDef } from '../../metadata/types.ts';
import type { FilterNode } from '../query/ast.ts';
import { compileFilter } from '../query/compile-filter.ts';
import { CompileContext, columnSql } from '../query/compile-context.ts';
import { SubjectParameter } from './subject.ts';

export const PRIVILEGES = ['create', 'read', 'update', 'delete', 'append', 'appendTo', 'assign', 'share'] as const;
export type Privilege = (typeof PRIVILEGES)[number];

export const ACCESS_LEVELS = ['none', 'own', 'team', 'all'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** Privileges of the platform's APIs rather than of an entity's records. */
export const API_PRIVILEGES = ['metadata', 'users', 'plugins'] as const;
export type ApiPrivilege = (typeof API_PRIVILEGES)[number];

/** Rights a share may grant on one record. */
export const SHARE_RIGHTS = ['read', 'update', 'delete', 'append', 'appendTo', 'assign', 'share'] as const;

const RANK: Record<AccessLevel, number> = { none: 0, own: 1, team: 2, all: 3 };

export type EntityGrant = { readonly entity: string } & Partial<Record<Privilege, AccessLevel>>;

export interface RowRule {
  readonly entity: string;
  readonly privilege: Privilege;
  /** The query engine's JSON filter; `"$user.id"`, `"$user.teams"`, `"$user.<attribute>"` as values. */
  readonly filter: unknown;
}

export interface FieldPermission {
  readonly entity: string;
  readonly field: string;
  readonly read: boolean;
  readonly update: boolean;
}

export interface RoleDefinition {
  readonly privileges: readonly EntityGrant[];
  readonly rowRules: readonly RowRule[];
  readonly fieldPermissions: readonly FieldPermission[];
  readonly metadata: boolean;
  readonly users: boolean;
  readonly plugins: boolean;
}

/** A role as a principal holds it (what the policy is computed from). */
export interface HeldRole {
  readonly id: string;
  readonly name: string;
  readonly builtIn: boolean;
  readonly updatedAt: string;
  readonly definition: RoleDefinition;
}

/** Parses a row rule's filter (variables allowed) against the catalog: a FilterNode or a thrown 400. */
export type RuleParser = (entity: string, filter: unknown, path: string) => FilterNode;

/** One role's grant of a privilege on an entity (explain). */
export interface Grant {
  readonly role: string;
  readonly level: AccessLevel;
  readonly rules: number;
}

export function levelOf(definition: RoleDefinition, entity: string, privilege: Privilege): AccessLevel {
  let best: AccessLevel = 'none';
  for (const grant of definition.privileges) {
    if (grant.entity !== entity) continue;
    const level = grant[privilege] ?? 'none';
    if (RANK[level] > RANK[best]) best = level;
  }
  return best;
}

function and(parts: RawBuilder<boolean>[]): RawBuilder<boolean> {
  return parts.length === 1 ? parts[0]! : sql<boolean>`(${sql.join(parts, sql` AND `)})`;
}

function or(parts: RawBuilder<boolean>[]): RawBuilder<boolean> {
  return parts.length === 1 ? parts[0]! : sql<boolean>`(${sql.join(parts, sql` OR `)})`;
}

/** The records of `alias` a level reaches; undefined for `all`. */
function levelPredicate(level: AccessLevel, alias: string): RawBuilder<boolean> | undefined {
  switch (level) {
    case 'all':
      return undefined;
    case 'team':
      return sql<boolean>`${columnSql(alias, 'owner_id')} = ANY(${new SubjectParameter('@owners', 'uuid[]')}::uuid[])`;
    case 'own':
      return sql<boolean>`${columnSql(alias, 'owner_id')} = ${new SubjectParameter('id', 'uuid')}::uuid`;
    case 'none':
      return sql<boolean>`false`;
  }
}

/** Records of `alias` shared with the user or one of their teams with `right`. */
export function sharePredicate(entity: string, right: Privilege, alias: string): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM xrm.shares s WHERE s.entity = ${entity}
    AND s.record_id = ${columnSql(alias, 'id')}
    AND s.principal_id = ANY(${new SubjectParameter('@principals', 'uuid[]')}::uuid[])
    AND ${right}::text = ANY(s.rights))`;
}

export class Policy {
  /** The system (and a System Administrator): every privilege, nothing compiled in. */
  static readonly UNRESTRICTED = new Policy([], undefined, true);

  readonly roles: readonly HeldRole[];
  /** Identifies what the policy compiles to: statement caches key on it. */
  readonly key: string;
  readonly unrestricted: boolean;
  readonly #parse?: RuleParser;
  readonly #rules = new Map<string, FilterNode>();

  constructor(roles: readonly HeldRole[], parse?: RuleParser, unrestricted = false) {
    this.roles = [...roles].sort((a, b) => a.id.localeCompare(b.id));
    this.unrestricted = unrestricted || roles.some((r) => r.builtIn);
    this.key = this.unrestricted ? '*' : this.roles.map((r) => `${r.id}@${r.updatedAt}`).join(',') || '-';
    this.#parse = parse;
  }

  /** The highest level any role grants. */
  level(entity: string, privilege: Privilege): AccessLevel {
    if (this.unrestricted) return 'all';
    let best: AccessLevel = 'none';
    for (const role of this.roles) {
      const level = levelOf(role.definition, entity, privilege);
      if (RANK[level] > RANK[best]) best = level;
    }
    return best;
  }

  allows(privilege: ApiPrivilege): boolean {
    return this.unrestricted || this.roles.some((r) => r.definition[privilege]);
  }

  /** What each role grants of `privilege` on `entity` (explain). */
  grants(entity: string, privilege: Privilege): Grant[] {
    return this.roles.map((role) => ({
      role: role.name,
      level: role.builtIn ? 'all' : levelOf(role.definition, entity, privilege),
      rules: role.definition.rowRules.filter((r) => r.entity === entity && r.privilege === privilege).length,
    }));
  }

  /**
   * The records of `entity` (under `alias`) the privilege reaches: undefined for every record,
   * else a predicate (`false` for none). Row rules are evaluated over the data as the system sees
   * it (a rule's lookups are not narrowed again); shares widen it for the privileges they grant.
   */
  predicate(
    entity: string,
    privilege: Privilege,
    alias: string,
    catalog: Catalog,
    shares = true,
  ): RawBuilder<boolean> | undefined {
    if (this.unrestricted) return undefined;
    const alternatives: RawBuilder<boolean>[] = [];
    for (const role of this.roles) {
      const reach = this.roleReach(role, entity, privilege, alias, catalog);
      // a role reaching every record without a rule: nothing to narrow
      if (reach === undefined) return undefined;
      if (reach !== false) alternatives.push(reach);
    }
    if (shares && privilege !== 'create') alternatives.push(sharePredicate(entity, privilege, alias));
    return alternatives.length ? or(alternatives) : sql<boolean>`false`;
  }

  /**
   * What one role grants of a privilege: false (nothing), undefined (every record) or the
   * predicate of its level and row rules.
   */
  roleReach(
    role: HeldRole,
    entity: string,
    privilege: Privilege,
    alias: string,
    catalog: Catalog,
  ): RawBuilder<boolean> | undefined | false {
    if (role.builtIn) return undefined;
    const level = levelOf(role.definition, entity, privilege);
    if (level === 'none') return false;
    const parts: RawBuilder<boolean>[] = [];
    const reach = levelPredicate(level, alias);
    if (reach) parts.push(reach);
    role.definition.rowRules.forEach((rule, i) => {
      if (rule.entity !== entity || rule.privilege !== privilege) return;
      // over the data as the system sees it, with aliases of its own (rr0, rr1…: never the query's t0…)
      parts.push(compileFilter(this.#rule(role, i, rule), entity, alias, new CompileContext(catalog, {}, 'rr')));
    });
    return parts.length ? and(parts) : undefined;
  }

  #rule(role: HeldRole, index: number, rule: RowRule): FilterNode {
    const key = `${role.id}:${index}`;
    let node = this.#rules.get(key);
    if (!node) {
      if (!this.#parse) throw new Error('a policy with row rules needs a rule parser');
      node = this.#parse(rule.entity, rule.filter, `/rowRules/${index}/filter`);
      this.#rules.set(key, node);
    }
    return node;
  }

  /** Read and update of a field: free unless the field is `secured`, then what some role grants. */
  field(entity: string, field: FieldDef): { read: boolean; update: boolean } {
    if (!field.secured || this.unrestricted) return { read: true, update: true };
    let read = false;
    let update = false;
    for (const role of this.roles) {
      for (const p of role.definition.fieldPermissions) {
        if (p.entity !== entity || p.field !== field.name) continue;
        read ||= p.read;
        update ||= p.update;
      }
    }
    return { read, update };
  }

  readable(catalog: Catalog, entity: string, field: string): boolean {
    const def = catalog.entity(entity)?.fields.find((f) => f.name === field);
    return def ? this.field(entity, def).read : true;
  }
}
