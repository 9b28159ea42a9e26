/**
 * Teams: groups of users. A team's roles apply to its members, and 'team' access levels reach the
 * records owned by members of the owner's teams.
 */
import { useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { EmptyState, Field, Loading, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import { useTitle } from '../router.tsx';
import type { Problem, Role, Team, TeamInput, UserAccount } from '../types.ts';
import { NameChecks } from './controls.tsx';
import { useResource } from './use-resource.ts';

export function TeamsPage() {
  useTitle('Teams');
  const { confirm, toast } = useOverlays();
  const teams = useResource(api.teams);
  const users = useResource(api.users);
  const roles = useResource(api.roles);
  const [editing, setEditing] = useState<Team | 'new'>();
  const [problem, setProblem] = useState<Problem>();
  const nameOf = (id: string) => users.data?.find((u) => u.id === id)?.displayName ?? id;

  const remove = async (team: Team) => {
    setProblem(undefined);
    const ok = await confirm({
      title: `Delete the team “${team.name}”?`,
      body: <p>Its {team.members.length} members lose the team's roles; the users themselves stay.</p>,
      confirmLabel: 'Delete team',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteTeam(team.id);
      toast(`Team “${team.name}” deleted`);
      if (editing !== 'new' && editing?.id === team.id) setEditing(undefined);
      void teams.reload();
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <PageHeader
        title="Teams"
        subtitle="Groups of users: a team's roles apply to its members."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
            New team
          </button>
        }
      />
      {editing ? (
        <TeamForm
          key={editing === 'new' ? 'new' : editing.id}
          team={editing === 'new' ? undefined : editing}
          users={users.data}
          roles={roles.data}
          onSaved={() => {
            setEditing(undefined);
            void teams.reload();
          }}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}
      {users.problem ? <ProblemBanner problem={users.problem} onRetry={() => void users.reload()} /> : null}
      {roles.problem ? <ProblemBanner problem={roles.problem} onRetry={() => void roles.reload()} /> : null}
      {problem ? <ProblemBanner problem={problem} /> : null}
      {teams.problem ? <ProblemBanner problem={teams.problem} onRetry={() => void teams.reload()} /> : null}
      {!teams.data ? (
        teams.problem ? null : (
          <Loading label="Loading the teams…" />
        )
      ) : teams.data.length === 0 ? (
        <EmptyState title="No teams yet" />
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Teams">
            <TableHead columns={['Team', 'Members', 'Roles']} actions="Actions" />
            <tbody>
              {teams.data.map((t) => (
                <tr key={t.id}>
                  <td className="strong">{t.name}</td>
                  <td className="small">{t.members.map(nameOf).join(', ') || <span className="muted">—</span>}</td>
                  <td className="small">{t.roles.join(', ') || <span className="muted">—</span>}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={`Edit team ${t.name}`}
                      onClick={() => setEditing(t)}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="btn btn-small btn-danger-ghost"
                      aria-label={`Delete team ${t.name}`}
                      onClick={() => void remove(t)}
                    >
                      Delete
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

function TeamForm({
  team,
  users,
  roles,
  onSaved,
  onCancel,
}: {
  team?: Team;
  users: UserAccount[] | undefined;
  roles: Role[] | undefined;
  onSaved(): void;
  onCancel(): void;
}) {
  const { toast } = useOverlays();
  const [name, setName] = useState(team?.name ?? '');
  const [members, setMembers] = useState<string[]>(team?.members ?? []);
  const [teamRoles, setTeamRoles] = useState<string[]>(team?.roles ?? []);
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const key = path.split('/')[1] ?? '';
    return ['name', 'members', 'roles'].includes(key) ? key : undefined;
  });
  const title = team ? `Edit team ${team.name}` : 'New team';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setSaving(true);
    try {
      const body: TeamInput = { name: name.trim(), members, roles: teamRoles };
      if (team) await api.updateTeam(team.id, body);
      else await api.createTeam(body);
      toast(team ? `Team “${body.name}” saved` : `Team “${body.name}” created`);
      onSaved();
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  return (
    <form className="form card" onSubmit={submit} noValidate aria-label={title} aria-busy={saving}>
      <h2 className="card-title">{title}</h2>
      {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
      <div className="form-grid">
        <Field label="Team name" required error={byKey.get('name')}>
          {(c) => (
            <input
              id={c.id}
              aria-required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <NameChecks
          legend="Members"
          options={(users ?? []).map((u) => ({ value: u.id, label: u.displayName, hint: u.email }))}
          value={members}
          onChange={setMembers}
          error={byKey.get('members')}
          empty={users ? 'No users yet.' : 'The users could not be loaded.'}
        />
        <NameChecks
          legend="Roles"
          options={(roles ?? []).map((r) => ({ value: r.name, label: r.name }))}
          value={teamRoles}
          onChange={setTeamRoles}
          error={byKey.get('roles')}
          empty={roles ? 'No roles yet.' : 'The roles could not be loaded.'}
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {team ? 'Save team' : 'Create team'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
