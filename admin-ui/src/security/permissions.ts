/**
 * What the signed-in user may do, read from GET /api/auth/me once after sign-in: the UI only hides
 * what would be refused; the server decides every request.
 */
import type { EntityPrivilege, Me, PrivilegeLevel, RoleSwitch } from '../types.ts';

/** The eight privileges of an entity, in the grid's column order, with their labels. */
export const PRIVILEGE_LABELS: Readonly<Record<EntityPrivilege, string>> = {
  create: 'Create',
  read: 'Read',
  update: 'Update',
  delete: 'Delete',
  append: 'Append',
  appendTo: 'Append to',
  assign: 'Assign',
  share: 'Share',
};
export const PRIVILEGES = Object.keys(PRIVILEGE_LABELS) as EntityPrivilege[];

/** Access levels, narrowest first (a grid cell cycles through them in this order). */
export const LEVEL_LABELS: Readonly<Record<PrivilegeLevel, string>> = {
  none: 'None',
  own: 'Own records',
  team: "Own team's records",
  all: 'All records',
};
export const LEVELS = Object.keys(LEVEL_LABELS) as PrivilegeLevel[];

export const SWITCH_LABELS: Readonly<Record<RoleSwitch, { label: string; hint: string }>> = {
  metadata: { label: 'Design the model', hint: 'Create and change entities, fields, relationships, choice sets.' },
  users: { label: 'Administer security', hint: 'Users, teams and roles.' },
  plugins: { label: 'Run the platform', hint: 'Plugins, jobs and webhooks.' },
};

export interface Permissions extends Readonly<Record<RoleSwitch, boolean>> {
  /** The caller's level for a privilege of an entity. */
  level(entity: string, privilege: EntityPrivilege): PrivilegeLevel;
  /** Whether a privilege of an entity is granted at some level. */
  allows(entity: string, privilege: EntityPrivilege): boolean;
}

/**
 * The permissions in `me`. An entity created after sign-in (not in `me`) hides nothing: the
 * server still refuses what is not allowed.
 */
export function permissionsOf(me: Me): Permissions {
  const p = me.privileges;
  const level = (entity: string, privilege: EntityPrivilege): PrivilegeLevel => {
    const row = p.entities[entity];
    return row ? (row[privilege] ?? 'none') : 'all';
  };
  return {
    metadata: p.metadata,
    users: p.users,
    plugins: p.plugins,
    level,
    allows: (entity, privilege) => level(entity, privilege) !== 'none',
  };
}
