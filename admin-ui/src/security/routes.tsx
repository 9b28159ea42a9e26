/** The security section's pages under /security, and what a page says to those it is not for. */
import type { ReactNode } from 'react';
import { EmptyState } from '../components/ui.tsx';
import { Link, match, useTitle } from '../router.tsx';
import { ApiKeysPage } from './ApiKeysPage.tsx';
import type { Permissions } from './permissions.ts';
import { RoleEditor } from './RoleEditor.tsx';
import { RolesPage } from './RolesPage.tsx';
import { TeamsPage } from './TeamsPage.tsx';
import { UsersPage } from './UsersPage.tsx';

/** The page of a /security path (undefined: not one), or Forbidden without the `users` privilege. */
export function securityPage(path: string, can: Permissions): ReactNode | undefined {
  if (path === '/security/api-keys') return <ApiKeysPage />;
  let m: Record<string, string> | undefined;
  const page =
    path === '/security/users' ? (
      <UsersPage />
    ) : path === '/security/teams' ? (
      <TeamsPage />
    ) : path === '/security/roles' ? (
      <RolesPage />
    ) : path === '/security/roles/new' ? (
      <RoleEditor key="new" />
    ) : (m = match('/security/roles/:id', path)) ? (
      <RoleEditor key={m.id} id={m.id} />
    ) : undefined;
  if (page === undefined) return undefined;
  return can.users ? page : <Forbidden what="administer users, teams and roles" />;
}

/** A page the signed-in user's roles do not open. */
export function Forbidden({ what }: { what: string }) {
  useTitle('Not allowed');
  return (
    <EmptyState title="Your roles do not allow this">
      <p>You may not {what}. An administrator can give you a role that does.</p>
      <p>
        <Link to="/entities">Go to the entities</Link>
      </p>
    </EmptyState>
  );
}
