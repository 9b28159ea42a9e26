/**
 * A role as its editor holds it (a full grid of levels, row rules with their filter as typed text,
 * a permission per secured field) and back to the body PUT/POST /api/roles take.
 */
import type {
  EntityDef,
  EntityPrivilege,
  PrivilegeLevel,
  Role,
  RoleInput,
  RolePrivilege,
  RoleSwitch,
} from '../types.ts';
import { LEVELS, PRIVILEGES } from './permissions.ts';

export type LevelRow = Record<EntityPrivilege, PrivilegeLevel>;

export interface RuleDraft {
  entity: string;
  privilege: EntityPrivilege;
  filter: string;
}

export interface RoleDraft extends Record<RoleSwitch, boolean> {
  name: string;
  description: string;
  /** Every entity's levels, by entity name. */
  grid: Record<string, LevelRow>;
  rules: RuleDraft[];
  /** By "entity.field", for secured fields. */
  fields: Record<string, { read: boolean; update: boolean }>;
}

export const emptyRow = (): LevelRow => Object.fromEntries(PRIVILEGES.map((p) => [p, 'none'])) as LevelRow;

export function draftOf(role: Role | undefined, entities: EntityDef[]): RoleDraft {
  const grid: Record<string, LevelRow> = {};
  for (const e of entities) grid[e.name] = emptyRow();
  for (const row of role?.privileges ?? []) {
    const levels = emptyRow();
    for (const p of PRIVILEGES) levels[p] = row[p] ?? 'none';
    grid[row.entity] = levels;
  }
  const fields: RoleDraft['fields'] = {};
  for (const e of entities)
    for (const f of e.fields.filter((x) => x.secured)) fields[`${e.name}.${f.name}`] = { read: false, update: false };
  for (const fp of role?.fieldPermissions ?? [])
    fields[`${fp.entity}.${fp.field}`] = { read: fp.read, update: fp.update };
  return {
    name: role?.name ?? '',
    description: role?.description ?? '',
    metadata: role?.metadata ?? false,
    users: role?.users ?? false,
    plugins: role?.plugins ?? false,
    grid,
    rules: (role?.rowRules ?? []).map((r) => ({
      entity: r.entity,
      privilege: r.privilege,
      filter: JSON.stringify(r.filter, null, 2),
    })),
    fields,
  };
}

/** The grid's rows that grant something, each with only its granted privileges (a left-out one is 'none'). */
export function privilegesOf(grid: RoleDraft['grid']): RolePrivilege[] {
  const rows: RolePrivilege[] = [];
  for (const [entity, levels] of Object.entries(grid)) {
    const granted = PRIVILEGES.filter((p) => levels[p] !== 'none');
    if (granted.length) rows.push({ entity, ...Object.fromEntries(granted.map((p) => [p, levels[p]])) });
  }
  return rows;
}

export type RoleBody = { ok: true; body: RoleInput } | { ok: false; ruleErrors: Map<number, string> };

/** The request body, or the rules whose filter is not JSON. */
export function roleBody(draft: RoleDraft): RoleBody {
  const ruleErrors = new Map<number, string>();
  const rowRules = draft.rules.map((r, i) => {
    try {
      return { entity: r.entity, privilege: r.privilege, filter: JSON.parse(r.filter) as unknown };
    } catch (error) {
      ruleErrors.set(i, `is not valid JSON (${(error as Error).message})`);
      return { entity: r.entity, privilege: r.privilege, filter: null };
    }
  });
  if (ruleErrors.size) return { ok: false, ruleErrors };
  return {
    ok: true,
    body: {
      name: draft.name.trim(),
      ...(draft.description.trim() ? { description: draft.description.trim() } : {}),
      metadata: draft.metadata,
      users: draft.users,
      plugins: draft.plugins,
      privileges: privilegesOf(draft.grid),
      rowRules,
      fieldPermissions: Object.entries(draft.fields).map(([key, p]) => {
        const dot = key.indexOf('.');
        return { entity: key.slice(0, dot), field: key.slice(dot + 1), read: p.read, update: p.update };
      }),
    },
  };
}

/** The next level of a grid cell's click: none → own → team → all → none. */
export function nextLevel(level: PrivilegeLevel): PrivilegeLevel {
  return LEVELS[(LEVELS.indexOf(level) + 1) % LEVELS.length]!;
}
