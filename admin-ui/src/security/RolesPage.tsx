/** Roles: what their holders may do. The built-in system administrator comes first and cannot change. */
import { useState } from 'react';
import { api, toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Loading, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { Link, useTitle } from '../router.tsx';
import type { Problem, Role, RoleSwitch } from '../types.ts';
import { SWITCH_LABELS } from './permissions.ts';
import { useResource } from './use-resource.ts';

export function RolesPage() {
  useTitle('Roles');
  const { confirm, toast } = useOverlays();
  const roles = useResource(api.roles);
  const [problem, setProblem] = useState<Problem>();

  const remove = async (role: Role) => {
    setProblem(undefined);
    const ok = await confirm({
      title: `Delete the role “${role.name}”?`,
      body: <p>Its users, teams and API keys lose what it grants at once.</p>,
      confirmLabel: 'Delete role',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteRole(role.id);
      toast(`Role “${role.name}” deleted`);
      void roles.reload();
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <PageHeader
        title="Roles"
        subtitle="Privileges per entity at a level (own records, own team's, all), row rules, secured fields."
        actions={
          <Link to="/security/roles/new" className="btn btn-primary">
            New role
          </Link>
        }
      />
      {problem ? <ProblemBanner problem={problem} /> : null}
      {roles.problem ? <ProblemBanner problem={roles.problem} onRetry={() => void roles.reload()} /> : null}
      {!roles.data ? (
        roles.problem ? null : (
          <Loading label="Loading the roles…" />
        )
      ) : roles.data.length === 0 ? (
        <EmptyState title="No roles yet" />
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Roles">
            <TableHead
              columns={['Role', 'Entities', { label: 'Row rules', numeric: true }, 'Also']}
              actions="Actions"
            />
            <tbody>
              {roles.data.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={`/security/roles/${r.id}`} className="strong">
                      {r.name}
                    </Link>
                    {r.builtIn ? (
                      <>
                        {' '}
                        <Badge tone="info">built-in</Badge>
                      </>
                    ) : null}
                    {r.description ? <div className="muted small">{r.description}</div> : null}
                  </td>
                  <td className="small">
                    {r.builtIn
                      ? 'all'
                      : r.privileges.map((p) => p.entity).join(', ') || <span className="muted">—</span>}
                  </td>
                  <td className="num">{r.rowRules.length}</td>
                  <td className="flags">
                    {(Object.keys(SWITCH_LABELS) as RoleSwitch[])
                      .filter((s) => r[s])
                      .map((s) => (
                        <Badge key={s}>{s}</Badge>
                      ))}
                  </td>
                  <td className="row-actions">
                    <Link to={`/security/roles/${r.id}`} className="btn btn-small" aria-label={`Open role ${r.name}`}>
                      {r.builtIn ? 'View' : 'Edit'}
                    </Link>
                    {r.builtIn ? null : (
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Delete role ${r.name}`}
                        onClick={() => void remove(r)}
                      >
                        Delete
                      </button>
                    )}
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
