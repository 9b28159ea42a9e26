/**
 * The policy on the write path (policy.ts): which records a write may touch, as predicates in the
 * write's own statement — an update's and a delete's WHERE (a record outside them is a 404 when
 * the caller cannot read it, a 403 when they can), and a check of the post-image that aborts the
 * statement (`xrm.access_denied`, SQLSTATE XR403) when a created record falls outside the create
 * privilege or a lookup points at a record the caller may not append to. Also: secured fields
 * need update to be written, `owner_id` defaults to the creator and setting it needs `assign`.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import { XrmError } from '../../metadata/errors.ts';
import { table } from '../../metadata/physical-names.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { columnSql } from '../query/compile-context.ts';
import type { Access } from '../security/access.ts';
import type { Privilege } from '../security/policy.ts';

/** SQLSTATE raised by xrm.access_denied (migration 0005). */
export const ACCESS_DENIED_STATE = 'XR403';
/** The message prefix of a refused lookup: `ref:<field>`. */
const REFERENCE = 'ref:';

type Data = Record<string, unknown>;

function forbidden(detail: string): XrmError {
  return new XrmError('XRM_ERR_FORBIDDEN', detail);
}

export class WriteAccess {
  readonly #access: Access;
  readonly #catalog: Catalog;
  readonly #entity: EntityDef;

  constructor(access: Access, catalog: Catalog, entity: EntityDef) {
    this.#access = access;
    this.#catalog = catalog;
    this.#entity = entity;
  }

  get access(): Access {
    return this.#access;
  }

  get #restricted(): boolean {
    return !this.#access.policy.unrestricted;
  }

  /** The records of the entity (under `alias`) a privilege reaches; undefined: every record. */
  predicate(privilege: Privilege, alias: string): RawBuilder<boolean> | undefined {
    return this.#access.policy.predicate(this.#entity.name, privilege, alias, this.#catalog);
  }

  /** 403 unless the caller may create records of the entity at all. */
  assertCreate(): void {
    if (this.#access.policy.level(this.#entity.name, 'create') === 'none')
      throw forbidden(`Your roles do not grant create on ${this.#entity.name}`);
  }

  /** 403 naming each secured field in `data` the caller may not update. */
  assertFields(data: Data, prefix = ''): void {
    if (!this.#restricted) return;
    const errors = this.#entity.fields
      .filter((f) => f.secured && f.name in data && !this.#access.policy.field(this.#entity.name, f).update)
      .map((f) => ({ path: `${prefix}/${f.name}`, message: `you may not update field "${f.name}"` }));
    if (errors.length)
      throw new XrmError(
        'XRM_ERR_FIELD_FORBIDDEN',
        `You may not write ${errors.map((e) => e.path).join(', ')} of ${this.#entity.name}`,
        { errors },
      );
  }

  /**
   * A create's data with its ownership stamped: `created_by` is the user, `owner_id` defaults to
   * them; another owner needs the assign privilege.
   */
  stampCreate(data: Data): Data {
    const userId = this.#access.subject.userId;
    if (!userId) return data;
    if (data.owner_id != null && data.owner_id !== userId && this.#restricted) {
      if (this.#access.policy.level(this.#entity.name, 'assign') === 'none')
        throw forbidden(`Setting owner_id to someone else needs the assign privilege on ${this.#entity.name}`);
    }
    return { ...data, owner_id: data.owner_id ?? userId, created_by: userId };
  }

  /**
   * What an update's or delete's WHERE adds on the pre-image under `alias`: read and the privilege,
   * with assign when owner_id changes and append when a lookup is set.
   */
  guard(privilege: 'update' | 'delete', alias: string, data: Data = {}): RawBuilder<boolean> | undefined {
    if (!this.#restricted) return undefined;
    // a record the writer cannot read is out of reach whatever else its rules or shares grant
    const parts = [this.predicate('read', alias), this.predicate(privilege, alias)];
    if (privilege === 'update') {
      if ('owner_id' in data) parts.push(this.predicate('assign', alias));
      if (this.#lookupsSet(data).length) parts.push(this.predicate('append', alias));
    }
    const present = parts.filter((p): p is RawBuilder<boolean> => p !== undefined);
    return present.length ? sql<boolean>`(${sql.join(present, sql` AND `)})` : undefined;
  }

  /**
   * The check of a written record under `alias` (its columns): the create privilege when it was
   * created (`created`: a boolean expression, or true), and appendTo on every lookup `data` sets.
   * Undefined when there is nothing to check; else an expression that is true or aborts.
   */
  postCheck(alias: string, data: Data, created: RawBuilder<boolean> | boolean): RawBuilder<boolean> | undefined {
    if (!this.#restricted) return undefined;
    const checks: RawBuilder<boolean>[] = [];
    if (created !== false) {
      const reach = [this.predicate('create', alias)];
      if (this.#lookupsSet(data).length) reach.push(this.predicate('append', alias));
      const present = reach.filter((p): p is RawBuilder<boolean> => p !== undefined);
      if (present.length) {
        const allowed = sql<boolean>`(${sql.join(present, sql` AND `)})`;
        const when = created === true ? allowed : sql<boolean>`(NOT ${created} OR ${allowed})`;
        checks.push(this.#orDeny(when, `Your roles do not allow creating this ${this.#entity.name} record`));
      }
    }
    for (const field of this.#lookupsSet(data)) {
      const target = field.target!;
      const x = `${alias}_${field.name}`.slice(0, 60);
      const reach = this.#access.policy.predicate(target, 'appendTo', x, this.#catalog);
      if (!reach) continue;
      const value = columnSql(alias, field.name);
      const ok = sql<boolean>`(${value} IS NULL OR EXISTS (SELECT 1 FROM ${table(target)} ${sql.id(x)}
        WHERE ${columnSql(x, 'id')} = ${columnSql(alias, field.name)} AND ${reach}))`;
      checks.push(this.#orDeny(ok, `${REFERENCE}${field.name}`));
    }
    return checks.length ? sql<boolean>`(${sql.join(checks, sql` AND `)})` : undefined;
  }

  #orDeny(condition: RawBuilder<boolean>, message: string): RawBuilder<boolean> {
    return sql<boolean>`(CASE WHEN ${condition} THEN true ELSE xrm.access_denied(${message}) END)`;
  }

  #lookupsSet(data: Data) {
    return this.#entity.fields.filter((f) => f.type === 'lookup' && data[f.name] != null);
  }
}

/** A statement aborted by xrm.access_denied as the problem it stands for (else undefined). */
export function accessDenied(error: unknown, entity: EntityDef): XrmError | undefined {
  const e = error as { code?: string; message?: string };
  if (e.code !== ACCESS_DENIED_STATE) return undefined;
  const message = e.message ?? '';
  if (message.startsWith(REFERENCE)) {
    const field = message.slice(REFERENCE.length);
    const target = entity.fields.find((f) => f.name === field)?.target;
    // the same answer as for a missing record: no hint that a hidden one exists
    const detail = `The referenced ${target ? `${target} ` : ''}record does not exist`;
    return new XrmError('XRM_ERR_RECORD_REFERENCE_NOT_FOUND', detail, {
      errors: [{ path: `/${field}`, message: 'references a record that does not exist' }],
    });
  }
  return forbidden(message);
}

/** The secured fields of an entity the caller may not read. */
export function hiddenFields(access: Access, catalog: Catalog, entity: string): string[] {
  const def = catalog.entity(entity);
  if (!def || access.policy.unrestricted) return [];
  return def.fields.filter((f) => f.secured && !access.policy.field(entity, f).read).map((f) => f.name);
}

/** A written record as the writer may see it: without the secured fields they cannot read. */
export function visibleRecord<R extends Record<string, unknown>>(
  access: Access,
  catalog: Catalog,
  entity: string,
  record: R,
): R {
  const hidden = hiddenFields(access, catalog, entity);
  if (!hidden.length) return record;
  const copy: Record<string, unknown> = { ...record };
  for (const name of hidden) delete copy[name];
  return copy as R;
}
