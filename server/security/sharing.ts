/**
 * Access to single records: shares (`POST /api/data/{entity}/{id}/share`, Dataverse's sharing)
 * and the explanation of why the caller can or cannot see and change a record
 * (`GET /api/security/explain`). Sharing needs the share privilege on the record; a record the
 * caller cannot read is a 404 here as everywhere.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import { table } from '../../metadata/physical-names.ts';
import { assertUuid } from '../record-id.ts';
import type { Runtime } from '../runtime.ts';
import type { Access } from './access.ts';
import { type AccessLevel, type Grant, PRIVILEGES, type Privilege, sharePredicate } from './policy.ts';
import { bindSubject } from './subject.ts';
import { hiddenFields } from '../records/write-access.ts';

export interface SharePrincipal {
  readonly user?: string;
  readonly team?: string;
}

export interface Share {
  readonly principal: SharePrincipal;
  readonly rights: string[];
  readonly createdAt: string;
}

export interface PrivilegeExplanation {
  readonly allowed: boolean;
  readonly reason: string;
  readonly role?: string;
  readonly level?: AccessLevel;
  readonly rule?: boolean;
  readonly share?: boolean;
}

export interface Explanation {
  readonly entity: string;
  readonly id: string;
  readonly privileges: Record<string, PrivilegeExplanation>;
  readonly hiddenFields: string[];
  readonly readOnlyFields: string[];
}

const SHARE_JSON = sql`json_build_object('principal', json_build_object(s.principal_kind, s.principal_id),
  'rights', s.rights, 'createdAt', s.created_at)`;

function describeGrant(grant: Grant, privilege: Privilege): string {
  return `${grant.role} grants ${privilege} at level ${grant.level}${grant.rules ? ' with row rules' : ''}`;
}

export class Sharing {
  readonly #db: Db;
  readonly #runtime: Runtime;

  constructor(db: Db, runtime: Runtime) {
    this.#db = db;
    this.#runtime = runtime;
  }

  async #run<T>(statement: RawBuilder<T>, access: Access, db: Db = this.#db): Promise<T[]> {
    return (await db.executeQuery<T>(bindSubject(statement.compile(db), access.subject))).rows;
  }

  /** 404 unless the caller can read the record, 403 unless they may also use `privilege` on it. */
  /**
   * 404 unless the caller can read the record, 403 unless they may also use each of `privileges`
   * on it (sharing: the share privilege and every right shared — no one grants what they lack).
   */
  async #require(access: Access, entity: string, id: string, privileges: readonly Privilege[], db: Db): Promise<void> {
    const catalog = this.#runtime.state.catalog;
    catalog.require(entity);
    assertUuid(id);
    const reach = (p: Privilege) => access.policy.predicate(entity, p, 't', catalog) ?? sql<boolean>`true`;
    const columns = privileges.map((p, i) => sql`${reach(p)} AS ${sql.id(`p${i}`)}`);
    const rows = await this.#run(
      sql<
        Record<string, boolean>
      >`SELECT ${reach('read')} AS readable ${columns.length ? sql`, ${sql.join(columns)}` : sql``}
        FROM ${table(entity)} t WHERE t.id = ${id}`,
      access,
      db,
    );
    if (!rows[0]?.readable) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record has id ${id}`);
    const lacking = privileges.filter((_, i) => !rows[0]![`p${i}`]);
    if (lacking.length)
      throw new XrmError(
        'XRM_ERR_FORBIDDEN',
        `Your roles do not allow you to ${lacking.join(', ')} this ${entity} record` +
          (privileges[0] === 'share' && lacking[0] !== 'share' ? ': you may only share rights you hold' : ''),
      );
  }

  /** The record's shares. */
  async shares(access: Access, entity: string, id: string): Promise<Share[]> {
    await this.#require(access, entity, id, [], this.#db);
    const { rows } = await sql<{ s: Share }>`SELECT ${SHARE_JSON} AS s FROM xrm.shares s
      WHERE s.entity = ${entity} AND s.record_id = ${id} ORDER BY s.created_at, s.principal_id`.execute(this.#db);
    return rows.map((r) => r.s);
  }

  /** Grants (or with no rights, withdraws) a user's or a team's access to one record; answers its shares. */
  async share(
    access: Access,
    entity: string,
    id: string,
    input: { principal: SharePrincipal; rights: readonly string[] },
    actor: string,
  ): Promise<Share[]> {
    const kind = input.principal.user !== undefined ? 'user' : 'team';
    const principalId = (input.principal.user ?? input.principal.team)!;
    await this.#db.transaction().execute(async (trx) => {
      await this.#require(access, entity, id, ['share', ...(input.rights as Privilege[])], trx);
      const exists = await sql<{ ok: boolean }>`SELECT EXISTS (SELECT 1 FROM ${sql.table(
        kind === 'user' ? 'xrm.users' : 'xrm.teams',
      )} WHERE id = ${principalId}) AS ok`.execute(trx);
      if (!exists.rows[0]!.ok)
        throw new XrmError('XRM_ERR_REQUEST_INVALID', `No ${kind} has the id ${principalId}`, {
          errors: [{ path: `/principal/${kind}`, message: `is not the id of a ${kind}` }],
        });
      if (!input.rights.length) {
        await sql`DELETE FROM xrm.shares WHERE entity = ${entity} AND record_id = ${id}
          AND principal_id = ${principalId}`.execute(trx);
        return;
      }
      await sql`INSERT INTO xrm.shares (entity, record_id, principal_id, principal_kind, rights, created_by)
        VALUES (${entity}, ${id}, ${principalId}, ${kind}, ${[...new Set(input.rights)]}::text[], ${actor})
        ON CONFLICT (entity, record_id, principal_id) DO UPDATE SET rights = excluded.rights`.execute(trx);
    });
    return this.shares(access, entity, id);
  }

  /**
   * Why the caller can or cannot use each privilege on one record: the first role whose level and
   * rules reach it, else a share, else why not. A record the caller cannot read is explained as
   * "not visible" whether it exists or not (no existence oracle).
   */
  async explain(access: Access, entity: string, id: string, viewer?: Access): Promise<Explanation> {
    const catalog = this.#runtime.state.catalog;
    const def = catalog.require(entity);
    assertUuid(id);
    const { policy } = access;
    const columns: RawBuilder<unknown>[] = [];
    const roles = policy.roles;
    if (!policy.unrestricted) {
      for (const privilege of PRIVILEGES) {
        roles.forEach((role, r) => {
          const reach = policy.roleReach(role, entity, privilege, 't', catalog);
          const value = reach === false ? sql`false` : (reach ?? sql`true`);
          columns.push(sql`${value} AS ${sql.id(`${privilege}_${r}`)}`);
        });
        if (privilege !== 'create')
          columns.push(sql`${sharePredicate(entity, privilege, 't')} AS ${sql.id(`${privilege}_share`)}`);
      }
    }
    const rows = await this.#run(
      sql<Record<string, boolean>>`SELECT true AS found ${columns.length ? sql`, ${sql.join(columns)}` : sql``}
        FROM ${table(entity)} t WHERE t.id = ${id}`,
      access,
    );
    const row = rows[0];
    if (policy.unrestricted && !row) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record has id ${id}`);
    const privileges: Record<string, PrivilegeExplanation> = {};
    const readable = policy.unrestricted || (!!row && (roles.some((_, r) => row[`read_${r}`]) || row.read_share));
    for (const privilege of PRIVILEGES) {
      if (policy.unrestricted) {
        const role = roles.find((r) => r.builtIn)?.name;
        privileges[privilege] = {
          allowed: true,
          reason: role ? `the ${role} role grants every privilege` : 'the system may do everything',
          ...(role ? { role } : {}),
          level: 'all',
        };
        continue;
      }
      if (!readable) {
        privileges[privilege] = {
          allowed: false,
          reason:
            `no ${entity} record with this id is visible to you: ` +
            "no role's read level or rules reach it and no share grants it",
        };
        continue;
      }
      const grants = policy.grants(entity, privilege);
      const by = roles.findIndex((_, r) => row![`${privilege}_${r}`]);
      if (by >= 0) {
        const grant = grants[by]!;
        privileges[privilege] = {
          allowed: true,
          reason:
            `the ${grant.role} role grants ${privilege} at level ${grant.level}` +
            (grant.rules ? ` and the record meets its ${grant.rules === 1 ? 'row rule' : 'row rules'}` : ''),
          role: grant.role,
          level: grant.level,
          rule: grant.rules > 0,
        };
      } else if (row![`${privilege}_share`]) {
        privileges[privilege] = {
          allowed: true,
          reason: `the record is shared with you (or your team) with ${privilege}`,
          share: true,
        };
      } else {
        const granting = grants.filter((g) => g.level !== 'none');
        privileges[privilege] = {
          allowed: false,
          reason: granting.length
            ? `${granting.map((g) => describeGrant(g, privilege)).join('; ')}, which does not reach this record`
            : `none of your roles grants ${privilege} on ${entity}`,
          rule: granting.some((g) => g.rules > 0),
        };
      }
    }
    const hidden = hiddenFields(access, catalog, entity);
    const readOnly = def.fields
      .filter((f) => f.secured && !hidden.includes(f.name) && !policy.field(entity, f).update)
      .map((f) => f.name);
    // the names of hidden fields only for whoever may see the model whole (an administrator asking
    // on someone's behalf); to the caller themselves a hidden field is not named, as in their schemas
    const named = viewer?.policy.allows('metadata') ?? false;
    return { entity, id, privileges, hiddenFields: named ? hidden : [], readOnlyFields: readOnly };
  }
}
