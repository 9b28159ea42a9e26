/**
 * The parts of a role beyond its grid: row rules (a JSON filter narrowing a privilege to matching
 * records) and the permissions on secured fields.
 */
import { Field } from '../components/ui.tsx';
import type { EntityDef, EntityPrivilege } from '../types.ts';
import { PRIVILEGE_LABELS, PRIVILEGES } from './permissions.ts';
import type { RoleDraft, RuleDraft } from './role-form.ts';

export function RowRulesEditor({
  entities,
  rules,
  errors,
  onChange,
  readOnly,
}: {
  entities: EntityDef[];
  rules: RuleDraft[];
  /** Messages per rule index and control ("entity", "privilege", "filter"). */
  errors: (index: number, control: keyof RuleDraft) => string[] | undefined;
  onChange(rules: RuleDraft[]): void;
  readOnly?: boolean;
}) {
  const update = (i: number, change: Partial<RuleDraft>) =>
    onChange(rules.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <>
      {rules.length === 0 ? <p className="muted small">No row rules: the levels alone decide.</p> : null}
      <ol className="plain-list rule-list">
        {rules.map((rule, i) => (
          <li key={i} className="rule card">
            <div className="form-grid">
              <Field label={`Rule ${i + 1} entity`} error={errors(i, 'entity')}>
                {(c) => (
                  <select
                    id={c.id}
                    disabled={readOnly}
                    aria-describedby={c.describedBy}
                    aria-invalid={c.invalid}
                    value={rule.entity}
                    onChange={(e) => update(i, { entity: e.target.value })}
                  >
                    {entities.some((e) => e.name === rule.entity) ? null : (
                      <option value={rule.entity}>{rule.entity}</option>
                    )}
                    {entities.map((e) => (
                      <option key={e.name} value={e.name}>
                        {e.displayName} ({e.name})
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label={`Rule ${i + 1} privilege`} error={errors(i, 'privilege')}>
                {(c) => (
                  <select
                    id={c.id}
                    disabled={readOnly}
                    aria-describedby={c.describedBy}
                    aria-invalid={c.invalid}
                    value={rule.privilege}
                    onChange={(e) => update(i, { privilege: e.target.value as EntityPrivilege })}
                  >
                    {PRIVILEGES.map((p) => (
                      <option key={p} value={p}>
                        {PRIVILEGE_LABELS[p]}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field
                label={`Rule ${i + 1} filter`}
                hint={'A JSON filter, e.g. {"region": {"eq": "$user.region"}}; also "$user.id", "$user.teams".'}
                error={errors(i, 'filter')}
                className="span-2"
              >
                {(c) => (
                  <textarea
                    id={c.id}
                    rows={3}
                    className="mono"
                    readOnly={readOnly}
                    aria-describedby={c.describedBy}
                    aria-invalid={c.invalid}
                    value={rule.filter}
                    onChange={(e) => update(i, { filter: e.target.value })}
                  />
                )}
              </Field>
            </div>
            {readOnly ? null : (
              <button
                type="button"
                className="btn btn-small btn-danger-ghost"
                onClick={() => onChange(rules.filter((_, j) => j !== i))}
              >
                Remove rule {i + 1}
              </button>
            )}
          </li>
        ))}
      </ol>
      {readOnly || !entities.length ? null : (
        <button
          type="button"
          className="btn btn-small"
          onClick={() => onChange([...rules, { entity: entities[0]!.name, privilege: 'read', filter: '{}' }])}
        >
          Add row rule
        </button>
      )}
    </>
  );
}

export function FieldPermissionsEditor({
  entities,
  fields,
  onChange,
  readOnly,
}: {
  entities: EntityDef[];
  fields: RoleDraft['fields'];
  onChange(fields: RoleDraft['fields']): void;
  readOnly?: boolean;
}) {
  const secured = entities.flatMap((e) => e.fields.filter((f) => f.secured).map((f) => ({ entity: e, field: f })));
  if (!secured.length) {
    return (
      <p className="muted small">No secured fields: mark a field “secured” to control who reads and updates it.</p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table table-row-heads" aria-label="Secured fields">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Read</th>
            <th scope="col">Update</th>
          </tr>
        </thead>
        <tbody>
          {secured.map(({ entity, field }) => {
            const key = `${entity.name}.${field.name}`;
            const p = fields[key] ?? { read: false, update: false };
            const name = `${entity.displayName} ${field.displayName}`;
            return (
              <tr key={key}>
                <th scope="row">
                  {entity.displayName} · {field.displayName} <code className="muted">{key}</code>
                </th>
                {(['read', 'update'] as const).map((right) => (
                  <td key={right}>
                    <input
                      type="checkbox"
                      aria-label={`${right === 'read' ? 'Read' : 'Update'} ${name}`}
                      disabled={readOnly}
                      checked={p[right]}
                      onChange={(e) => onChange({ ...fields, [key]: { ...p, [right]: e.target.checked } })}
                    />
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
