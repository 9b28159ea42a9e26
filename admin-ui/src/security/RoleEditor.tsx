/**
 * One role: its name, the metadata/users/plugins switches, the privilege grid, row rules and
 * secured-field permissions. A new role is POSTed, an existing one PUT whole; the built-in role
 * is shown read-only.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, Field, FieldGroup, Loading, PageHeader, ProblemBanner } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import { Link, navigate, useTitle } from '../router.tsx';
import type { Problem, Role, RoleSwitch } from '../types.ts';
import { SWITCH_LABELS } from './permissions.ts';
import { PrivilegeGrid } from './PrivilegeGrid.tsx';
import { draftOf, roleBody, type RoleDraft, type RuleDraft } from './role-form.ts';
import { FieldPermissionsEditor, RowRulesEditor } from './RoleRules.tsx';

export function RoleEditor({ id }: { id?: string }) {
  const [role, setRole] = useState<Role>();
  const [problem, setProblem] = useState<Problem>();
  useTitle(id ? (role ? `Role ${role.name}` : 'Role') : 'New role');

  useEffect(() => {
    if (!id) return;
    api.role(id).then(setRole, (error) => setProblem(toProblem(error)));
  }, [id]);

  if (problem) {
    return (
      <>
        <PageHeader title="Role" breadcrumbs={[{ label: 'Roles', to: '/security/roles' }]} />
        <ProblemBanner problem={problem} />
      </>
    );
  }
  if (id && !role) return <Loading label="Loading the role…" />;
  return <RoleForm role={role} />;
}

const SWITCHES = Object.keys(SWITCH_LABELS) as RoleSwitch[];

function RoleForm({ role }: { role?: Role }) {
  const { entities } = useCatalog();
  const { toast } = useOverlays();
  const [draft, setDraft] = useState<RoleDraft>(() => draftOf(role, entities));
  const [ruleErrors, setRuleErrors] = useState<Map<number, string>>(new Map());
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const readOnly = role?.builtIn === true;
  const change = (patch: Partial<RoleDraft>) => setDraft((d) => ({ ...d, ...patch }));
  // "/rowRules/2/filter/status" → "rule:2:filter"
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const [, first, index, control] = path.split('/');
    if (first === 'name' || first === 'description') return first;
    if (first === 'rowRules' && index !== undefined && ['entity', 'privilege', 'filter'].includes(control ?? ''))
      return `rule:${index}:${control}`;
    return undefined;
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    const result = roleBody(draft);
    setRuleErrors(result.ok ? new Map() : result.ruleErrors);
    if (!result.ok) return;
    setSaving(true);
    try {
      const saved = role ? await api.replaceRole(role.id, result.body) : await api.createRole(result.body);
      toast(role ? `Role “${saved.name}” saved` : `Role “${saved.name}” created`);
      navigate('/security/roles');
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  const ruleError = (i: number, control: keyof RuleDraft) => {
    const client = control === 'filter' ? ruleErrors.get(i) : undefined;
    return client ? [client] : byKey.get(`rule:${i}:${control}`);
  };

  return (
    <>
      <PageHeader
        breadcrumbs={[{ label: 'Roles', to: '/security/roles' }]}
        title={role ? role.name : 'New role'}
        subtitle={
          readOnly ? (
            <>
              <Badge tone="info">built-in</Badge> Every privilege on every entity; it cannot be changed or deleted.
            </>
          ) : (
            'What its holders may do: levels per entity and privilege, row rules, secured fields.'
          )
        }
      />
      <form className="form role-form" onSubmit={submit} noValidate aria-label="Role" aria-busy={saving}>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <section className="card">
          <div className="form-grid">
            <Field label="Role name" required error={byKey.get('name')}>
              {(c) => (
                <input
                  id={c.id}
                  aria-required
                  readOnly={readOnly}
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={draft.name}
                  onChange={(e) => change({ name: e.target.value })}
                />
              )}
            </Field>
            <Field label="Description" error={byKey.get('description')}>
              {(c) => (
                <input
                  id={c.id}
                  readOnly={readOnly}
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={draft.description}
                  onChange={(e) => change({ description: e.target.value })}
                />
              )}
            </Field>
            <FieldGroup legend="Beyond records" className="span-2">
              <div className="checks checks-column">
                {SWITCHES.map((s) => (
                  <label key={s} className="check">
                    <input
                      type="checkbox"
                      role="switch"
                      disabled={readOnly}
                      checked={draft[s]}
                      aria-checked={draft[s]}
                      onChange={(e) => change({ [s]: e.target.checked })}
                    />
                    {SWITCH_LABELS[s].label}
                    <span className="muted small"> {SWITCH_LABELS[s].hint}</span>
                  </label>
                ))}
              </div>
            </FieldGroup>
          </div>
        </section>
        <h2 className="section-title">Entity privileges</h2>
        <PrivilegeGrid
          entities={entities}
          grid={draft.grid}
          readOnly={readOnly}
          onChange={(entity, levels) => setDraft((d) => ({ ...d, grid: { ...d.grid, [entity]: levels } }))}
        />
        <h2 className="section-title">Row rules</h2>
        <RowRulesEditor
          entities={entities}
          rules={draft.rules}
          errors={ruleError}
          readOnly={readOnly}
          onChange={(rules) => change({ rules })}
        />
        <h2 className="section-title">Secured fields</h2>
        <FieldPermissionsEditor
          entities={entities}
          fields={draft.fields}
          readOnly={readOnly}
          onChange={(fields) => change({ fields })}
        />
        <div className="form-actions">
          {readOnly ? null : (
            <button type="submit" className="btn btn-primary" disabled={saving}>
              {role ? 'Save role' : 'Create role'}
            </button>
          )}
          <Link to="/security/roles" className="btn">
            {readOnly ? 'Back to the roles' : 'Cancel'}
          </Link>
        </div>
      </form>
    </>
  );
}
