/**
 * Security roles and teams (`/api/roles`, `/api/teams`) and who holds them: users' roles and
 * teams are set by name. A role is checked against the live catalog when saved — its entities,
 * fields and row rules (a rule the compiler cannot enforce is refused now, never ignored later).
 * The built-in System Administrator role cannot be changed or deleted.
 */
import { sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import { XrmError, type FieldError } from '../../metadata/errors.ts';
import { SYSTEM_ADMINISTRATOR } from '../../migrations/0005-authorization.ts';
import { isUuid } from '../record-id.ts';
import type { Runtime } from '../runtime.ts';
import type { AccessService } from './access.ts';
import { PRIVILEGES, type RoleDefinition } from './policy.ts';

export { SYSTEM_ADMINISTRATOR };

export interface RoleInput extends Partial<RoleDefinition> {
  readonly name: string;
  readonly description?: string;
}

export interface Role extends RoleDefinition {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly builtIn: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface TeamInput {
  readonly name?: string;
  /** User ids. */
  readonly members?: readonly string[];
  /** Role names. */
  readonly roles?: readonly string[];
}

export interface Team {
  readonly id: string;
  readonly name: string;
  readonly members: string[];
  readonly roles: string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

function invalid(detail: string, errors: FieldError[]): XrmError {
  return new XrmError('XRM_ERR_REQUEST_INVALID', detail, { errors });
}

const ROLE_JSON = sql`json_build_object('id', r.id, 'name', r.name, 'description', r.description,
  'builtIn', r.built_in, 'privileges', r.definition->'privileges', 'rowRules', r.definition->'rowRules',
  'fieldPermissions', r.definition->'fieldPermissions', 'metadata', (r.definition->>'metadata')::boolean,
  'users', (r.definition->>'users')::boolean, 'plugins', (r.definition->>'plugins')::boolean,
  'createdAt', r.created_at, 'updatedAt', r.updated_at)`;

const TEAM_JSON = sql`json_build_object('id', t.id, 'name', t.name,
  'members', ARRAY(SELECT m.user_id FROM xrm.team_members m JOIN xrm.users u ON u.id = m.user_id
    WHERE m.team_id = t.id ORDER BY u.email),
  'roles', ARRAY(SELECT r.name FROM xrm.team_roles tr JOIN xrm.roles r ON r.id = tr.role_id
    WHERE tr.team_id = t.id ORDER BY r.name),
  'createdAt', t.created_at, 'updatedAt', t.updated_at)`;

export class Directory {
  readonly #db: Db;
  readonly #runtime: Runtime;
  readonly #access: AccessService;

  constructor(db: Db, runtime: Runtime, access: AccessService) {
    this.#db = db;
    this.#runtime = runtime;
    this.#access = access;
  }

  // ---- roles

  async listRoles(): Promise<Role[]> {
    const { rows } = await sql<{ r: Role }>`SELECT ${ROLE_JSON} AS r FROM xrm.roles r
      ORDER BY r.built_in DESC, r.name`.execute(this.#db);
    return rows.map((row) => row.r);
  }

  /** One role by id or name; 404 XRM_ERR_ROLE_NOT_FOUND. */
  async role(ref: string, db: Db = this.#db): Promise<Role> {
    const { rows } = await sql<{ r: Role }>`SELECT ${ROLE_JSON} AS r FROM xrm.roles r
      WHERE ${isUuid(ref) ? sql`r.id = ${ref}` : sql`r.name = ${ref}`}`.execute(db);
    if (!rows[0]) throw new XrmError('XRM_ERR_ROLE_NOT_FOUND', `No role has the id or name ${ref}`);
    return rows[0].r;
  }

  async createRole(input: RoleInput): Promise<Role> {
    const { name, description, definition } = this.#checkRole(input);
    const { rows } = await sql<{ id: string }>`INSERT INTO xrm.roles (name, description, definition)
      VALUES (${name}, ${description ?? null}, ${JSON.stringify(definition)}) ON CONFLICT (name) DO NOTHING
      RETURNING id`.execute(this.#db);
    if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_DUPLICATE', `A role named ${name} exists`);
    return this.role(rows[0].id);
  }

  /** Replaces a role's definition (and name, description) as a whole. */
  async replaceRole(ref: string, input: RoleInput): Promise<Role> {
    const current = await this.role(ref);
    if (current.builtIn) throw builtIn();
    const { name, description, definition } = this.#checkRole(input);
    try {
      await sql`UPDATE xrm.roles SET name = ${name}, description = ${description ?? null},
        definition = ${JSON.stringify(definition)}, updated_at = clock_timestamp() WHERE id = ${current.id}`.execute(
        this.#db,
      );
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new XrmError('XRM_ERR_RECORD_DUPLICATE', `A role named ${name} exists`);
      throw error;
    }
    return this.role(current.id);
  }

  async deleteRole(ref: string): Promise<void> {
    const current = await this.role(ref);
    if (current.builtIn) throw builtIn();
    await sql`DELETE FROM xrm.roles WHERE id = ${current.id}`.execute(this.#db);
  }

  /** A role input checked against the live catalog: 400 naming each path that is wrong. */
  #checkRole(input: RoleInput): { name: string; description?: string; definition: RoleDefinition } {
    const catalog = this.#runtime.state.catalog;
    const errors: FieldError[] = [];
    const name = input.name.trim();
    if (!name) errors.push({ path: '/name', message: 'must not be empty' });
    const definition: RoleDefinition = {
      privileges: input.privileges ?? [],
      rowRules: input.rowRules ?? [],
      fieldPermissions: input.fieldPermissions ?? [],
      metadata: input.metadata ?? false,
      users: input.users ?? false,
      plugins: input.plugins ?? false,
    };
    const seen = new Set<string>();
    definition.privileges.forEach((grant, i) => {
      if (!catalog.entity(grant.entity))
        errors.push({ path: `/privileges/${i}/entity`, message: `no entity is named "${grant.entity}"` });
      if (seen.has(grant.entity))
        errors.push({ path: `/privileges/${i}/entity`, message: `"${grant.entity}" is listed twice` });
      seen.add(grant.entity);
    });
    definition.rowRules.forEach((rule, i) => {
      if (!catalog.entity(rule.entity)) {
        errors.push({ path: `/rowRules/${i}/entity`, message: `no entity is named "${rule.entity}"` });
        return;
      }
      if (!(PRIVILEGES as readonly string[]).includes(rule.privilege))
        errors.push({ path: `/rowRules/${i}/privilege`, message: `must be one of ${PRIVILEGES.join(', ')}` });
      try {
        this.#access.parseRule(rule.entity, rule.filter, `/rowRules/${i}/filter`);
      } catch (error) {
        if (!(error instanceof XrmError)) throw error;
        errors.push(...(error.errors ?? [{ path: `/rowRules/${i}/filter`, message: error.message }]));
      }
    });
    definition.fieldPermissions.forEach((permission, i) => {
      const entity = catalog.entity(permission.entity);
      if (!entity) {
        errors.push({ path: `/fieldPermissions/${i}/entity`, message: `no entity is named "${permission.entity}"` });
        return;
      }
      const field = entity.fields.find((f) => f.name === permission.field);
      if (!field)
        errors.push({
          path: `/fieldPermissions/${i}/field`,
          message: `"${entity.name}" has no field "${permission.field}"`,
        });
      else if (!field.secured)
        errors.push({
          path: `/fieldPermissions/${i}/field`,
          message: `"${permission.field}" is not secured: every role may read and update it (set secured: true)`,
        });
    });
    if (errors.length)
      throw invalid(`The role is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
    return { name, description: input.description, definition };
  }

  /**
   * A schema change, checked against the roles before it commits (MetadataService guard): a row
   * rule the change would break (a field or entity it names is gone) refuses the change — dropping
   * a rule would widen access — naming the role and the rule; privileges and field permissions on
   * what no longer exists are removed from the roles with it (that only narrows).
   */
  readonly guardSchemaChange = async (trx: Db, after: Catalog): Promise<void> => {
    const { rows } = await sql<{ id: string; name: string; definition: RoleDefinition }>`
      SELECT id, name, definition FROM xrm.roles WHERE NOT built_in`.execute(trx);
    const parse = this.#access.ruleParser(after);
    const broken: FieldError[] = [];
    for (const role of rows) {
      const d = role.definition;
      d.rowRules.forEach((rule, i) => {
        try {
          if (!after.entity(rule.entity)) throw new Error(`entity "${rule.entity}" is gone`);
          parse(rule.entity, rule.filter, `/rowRules/${i}/filter`);
        } catch (error) {
          broken.push({ path: `/roles/${role.name}/rowRules/${i}`, message: (error as Error).message });
        }
      });
      const privileges = d.privileges.filter((p) => after.entity(p.entity));
      const fieldPermissions = d.fieldPermissions.filter((p) =>
        after.entity(p.entity)?.fields.some((f) => f.name === p.field),
      );
      if (privileges.length === d.privileges.length && fieldPermissions.length === d.fieldPermissions.length) continue;
      const narrowed = { ...d, privileges, fieldPermissions };
      await sql`UPDATE xrm.roles SET definition = ${JSON.stringify(narrowed)}, updated_at = clock_timestamp()
        WHERE id = ${role.id}`.execute(trx);
    }
    if (broken.length)
      throw new XrmError(
        'XRM_ERR_METADATA_CHANGE_REFUSED',
        `The change would break row rules of security roles (${broken.map((b) => b.path).join(', ')}): ` +
          'change or remove those rules first',
        { errors: broken },
      );
  };

  // ---- teams

  async listTeams(): Promise<Team[]> {
    const { rows } = await sql<{ t: Team }>`SELECT ${TEAM_JSON} AS t FROM xrm.teams t ORDER BY t.name`.execute(
      this.#db,
    );
    return rows.map((row) => row.t);
  }

  async team(ref: string, db: Db = this.#db): Promise<Team> {
    const { rows } = await sql<{ t: Team }>`SELECT ${TEAM_JSON} AS t FROM xrm.teams t
      WHERE ${isUuid(ref) ? sql`t.id = ${ref}` : sql`t.name = ${ref}`}`.execute(db);
    if (!rows[0]) throw new XrmError('XRM_ERR_TEAM_NOT_FOUND', `No team has the id or name ${ref}`);
    return rows[0].t;
  }

  async createTeam(input: TeamInput): Promise<Team> {
    const name = input.name?.trim() ?? '';
    if (!name) throw invalid('A team needs a name', [{ path: '/name', message: 'must not be empty' }]);
    return this.#db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: string }>`INSERT INTO xrm.teams (name) VALUES (${name})
        ON CONFLICT (name) DO NOTHING RETURNING id`.execute(trx);
      if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_DUPLICATE', `A team named ${name} exists`);
      await this.#setTeam(trx, rows[0].id, input);
      return this.team(rows[0].id, trx);
    });
  }

  async updateTeam(ref: string, input: TeamInput): Promise<Team> {
    return this.#db.transaction().execute(async (trx) => {
      const current = await this.team(ref, trx);
      if (input.name !== undefined) {
        const name = input.name.trim();
        if (!name) throw invalid('A team needs a name', [{ path: '/name', message: 'must not be empty' }]);
        try {
          await sql`UPDATE xrm.teams SET name = ${name}, updated_at = now() WHERE id = ${current.id}`.execute(trx);
        } catch (error) {
          if ((error as { code?: string }).code === '23505')
            throw new XrmError('XRM_ERR_RECORD_DUPLICATE', `A team named ${name} exists`);
          throw error;
        }
      }
      await this.#setTeam(trx, current.id, input);
      return this.team(current.id, trx);
    });
  }

  async deleteTeam(ref: string): Promise<void> {
    const current = await this.team(ref);
    await sql`DELETE FROM xrm.teams WHERE id = ${current.id}`.execute(this.#db);
  }

  async #setTeam(trx: Db, teamId: string, input: TeamInput): Promise<void> {
    if (input.members !== undefined) {
      const members = [...new Set(input.members)];
      const bad = members.map((m, i) => ({ m, i })).filter(({ m }) => !isUuid(m));
      const known = await sql<{ id: string }>`SELECT id FROM xrm.users
        WHERE id = ANY(${members.filter(isUuid)}::uuid[])`.execute(trx);
      const found = new Set(known.rows.map((r) => r.id));
      const missing = input.members.flatMap((m, i) => (found.has(m) || bad.some((b) => b.i === i) ? [] : [i]));
      const errors = [...bad.map(({ i }) => i), ...missing].map((i) => ({
        path: `/members/${i}`,
        message: 'is not the id of a user',
      }));
      if (errors.length) throw invalid('A team member is not a user', errors);
      await sql`DELETE FROM xrm.team_members WHERE team_id = ${teamId}`.execute(trx);
      if (members.length)
        await sql`INSERT INTO xrm.team_members (team_id, user_id)
          SELECT ${teamId}, unnest(${members}::uuid[])`.execute(trx);
    }
    if (input.roles !== undefined) {
      const ids = await this.roleIds(trx, input.roles, '/roles');
      await sql`DELETE FROM xrm.team_roles WHERE team_id = ${teamId}`.execute(trx);
      if (ids.length)
        await sql`INSERT INTO xrm.team_roles (team_id, role_id) SELECT ${teamId}, unnest(${ids}::uuid[])`.execute(trx);
    }
  }

  // ---- who holds what

  /** Teams by id, with their names (`/api/auth/me`). */
  async teamNames(ids: readonly string[]): Promise<{ id: string; name: string }[]> {
    if (!ids.length) return [];
    const { rows } = await sql<{ id: string; name: string }>`SELECT id, name FROM xrm.teams
      WHERE id = ANY(${[...ids]}::uuid[]) ORDER BY name`.execute(this.#db);
    return rows;
  }

  /** Role ids of role names; 400 naming `<path>/<i>` for a name no role has. */
  async roleIds(db: Db, names: readonly string[], path: string): Promise<string[]> {
    const { rows } = await sql<{ id: string; name: string }>`SELECT id, name FROM xrm.roles
      WHERE name = ANY(${[...names]}::text[])`.execute(db);
    const byName = new Map(rows.map((r) => [r.name, r.id]));
    const errors = names.flatMap((n, i) =>
      byName.has(n) ? [] : [{ path: `${path}/${i}`, message: `no role is named "${n}"` }],
    );
    if (errors.length) throw invalid('A role named does not exist', errors);
    return [...new Set(names.map((n) => byName.get(n)!))];
  }

  /** Sets a user's roles and teams (by name), where given. */
  async assign(
    db: Db,
    userId: string,
    change: { roles?: readonly string[]; teams?: readonly string[] },
  ): Promise<void> {
    if (change.roles !== undefined) {
      const ids = await this.roleIds(db, change.roles, '/roles');
      await sql`DELETE FROM xrm.user_roles WHERE user_id = ${userId}`.execute(db);
      if (ids.length)
        await sql`INSERT INTO xrm.user_roles (user_id, role_id) SELECT ${userId}, unnest(${ids}::uuid[])`.execute(db);
    }
    if (change.teams !== undefined) {
      const { rows } = await sql<{ id: string; name: string }>`SELECT id, name FROM xrm.teams
        WHERE name = ANY(${[...change.teams]}::text[])`.execute(db);
      const byName = new Map(rows.map((r) => [r.name, r.id]));
      const errors = change.teams.flatMap((n, i) =>
        byName.has(n) ? [] : [{ path: `/teams/${i}`, message: `no team is named "${n}"` }],
      );
      if (errors.length) throw invalid('A team named does not exist', errors);
      await sql`DELETE FROM xrm.team_members WHERE user_id = ${userId}`.execute(db);
      const ids = [...new Set(byName.values())];
      if (ids.length)
        await sql`INSERT INTO xrm.team_members (team_id, user_id) SELECT unnest(${ids}::uuid[]), ${userId}`.execute(db);
    }
  }
}

function builtIn(): XrmError {
  return new XrmError(
    'XRM_ERR_ROLE_BUILT_IN',
    `The built-in ${SYSTEM_ADMINISTRATOR} role cannot be changed or deleted`,
  );
}
