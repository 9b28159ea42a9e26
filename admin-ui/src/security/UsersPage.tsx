/** Users: who signs in, with which roles, teams and attributes; create, edit, disable, set a password. */
import { useState } from 'react';
import { api, toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Loading, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { useTitle } from '../router.tsx';
import type { Problem, UserAccount } from '../types.ts';
import { useMe } from './session.tsx';
import { useResource } from './use-resource.ts';
import { PasswordForm, UserForm } from './UserForm.tsx';

type Editing = { kind: 'new' } | { kind: 'edit' | 'password'; user: UserAccount };

export function UsersPage() {
  useTitle('Users');
  const me = useMe();
  const { confirm, toast } = useOverlays();
  const users = useResource(api.users);
  const roles = useResource(api.roles);
  const teams = useResource(api.teams);
  const [editing, setEditing] = useState<Editing>();
  const [problem, setProblem] = useState<Problem>();

  const saved = (user: UserAccount) => {
    setEditing(undefined);
    users.set((list) => list?.map((u) => (u.id === user.id ? user : u)));
    // a new user joins the list; teams show their members
    void users.reload();
    void teams.reload();
  };

  const setDisabled = async (user: UserAccount, disabled: boolean) => {
    setProblem(undefined);
    if (disabled) {
      const ok = await confirm({
        title: `Disable “${user.displayName}”?`,
        body: <p>Every session and API key of {user.email} stops working at once. Enable them again at any time.</p>,
        confirmLabel: 'Disable user',
        danger: true,
      });
      if (!ok) return;
    }
    try {
      const next = await api.updateUser(user.id, { disabled });
      users.set((list) => list?.map((u) => (u.id === next.id ? next : u)));
      toast(`User “${user.displayName}” ${disabled ? 'disabled' : 'enabled'}`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="People who sign in. Their roles, and their teams' roles, decide what they may do."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setEditing({ kind: 'new' })}>
            New user
          </button>
        }
      />
      {editing?.kind === 'password' ? (
        <PasswordForm key={editing.user.id} user={editing.user} onDone={() => setEditing(undefined)} />
      ) : editing ? (
        <UserForm
          key={editing.kind === 'edit' ? editing.user.id : 'new'}
          user={editing.kind === 'edit' ? editing.user : undefined}
          roles={roles.data}
          teams={teams.data}
          onSaved={saved}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}
      {roles.problem ? <ProblemBanner problem={roles.problem} onRetry={() => void roles.reload()} /> : null}
      {teams.problem ? <ProblemBanner problem={teams.problem} onRetry={() => void teams.reload()} /> : null}
      {problem ? <ProblemBanner problem={problem} /> : null}
      {users.problem ? <ProblemBanner problem={users.problem} onRetry={() => void users.reload()} /> : null}
      {!users.data ? (
        users.problem ? null : (
          <Loading label="Loading the users…" />
        )
      ) : users.data.length === 0 ? (
        <EmptyState title="No users yet" />
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Users">
            <TableHead columns={['User', 'Roles', 'Teams', 'State']} actions="Actions" />
            <tbody>
              {users.data.map((u) => (
                <tr key={u.id}>
                  <td>
                    <span className="strong">{u.displayName}</span>
                    {u.id === me.user?.id ? <span className="muted small"> (you)</span> : null}
                    <div className="muted small">{u.email}</div>
                  </td>
                  <td className="small">{u.roles.join(', ') || <span className="muted">—</span>}</td>
                  <td className="small">{u.teams.join(', ') || <span className="muted">—</span>}</td>
                  <td>{u.disabled ? <Badge tone="warn">disabled</Badge> : <Badge tone="ok">active</Badge>}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={`Edit user ${u.email}`}
                      onClick={() => setEditing({ kind: 'edit', user: u })}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={`Set the password of ${u.email}`}
                      onClick={() => setEditing({ kind: 'password', user: u })}
                    >
                      Password
                    </button>
                    <button
                      type="button"
                      className={`btn btn-small${u.disabled ? '' : ' btn-danger-ghost'}`}
                      aria-label={`${u.disabled ? 'Enable' : 'Disable'} user ${u.email}`}
                      disabled={u.id === me.user?.id}
                      title={u.id === me.user?.id ? 'You cannot disable yourself' : undefined}
                      onClick={() => void setDisabled(u, !u.disabled)}
                    >
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
