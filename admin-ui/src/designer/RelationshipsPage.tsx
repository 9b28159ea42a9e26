/** Every relationship of the model: lookups (one-to-many) and many-to-many junctions. */
import { useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { entityOf, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { EmptyState, Field, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { mapErrors, snakeName } from '../forms.ts';
import { Link, useTitle } from '../router.tsx';
import { useCan } from '../security/session.tsx';
import type { Problem, RelationshipDef } from '../types.ts';

export function RelationshipsPage() {
  useTitle('Relationships');
  const catalog = useCatalog();
  const allowed = useCan();
  const { confirm, toast } = useOverlays();
  const [problem, setProblem] = useState<Problem>();
  const lookups = catalog.entities.flatMap((e) =>
    e.fields.filter((f) => f.type === 'lookup').map((f) => ({ entity: e, field: f })),
  );
  const label = (name: string) => entityOf(catalog, name)?.displayName ?? name;

  const remove = async (rel: RelationshipDef) => {
    setProblem(undefined);
    const ok = await confirm({
      title: `Delete the relationship “${rel.displayName}”?`,
      body: (
        <p>
          This drops the junction table <code>data.{rel.name}</code> and <strong>every link</strong> between{' '}
          {label(rel.from)} and {label(rel.to)} records. The records themselves stay.
        </p>
      ),
      confirmLabel: 'Delete relationship and its links',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteRelationship(rel.name);
      await catalog.refresh();
      toast(`Relationship “${rel.displayName}” deleted`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <PageHeader
        title="Relationships"
        subtitle="Lookups are many-to-one references; many-to-many relationships link records through a junction table."
      />
      {problem ? <ProblemBanner problem={problem} /> : null}
      <h2 className="section-title">Many-to-many</h2>
      {catalog.relationships.length ? (
        <div className="table-wrap">
          <table className="table" aria-label="Many-to-many relationships">
            <TableHead
              columns={['Relationship', 'Name', 'From', 'To']}
              actions={allowed.metadata ? 'Actions' : undefined}
            />
            <tbody>
              {catalog.relationships.map((r) => (
                <tr key={r.name}>
                  <td>
                    {r.displayName}
                    {r.description ? <div className="muted small">{r.description}</div> : null}
                  </td>
                  <td>
                    <code>{r.name}</code>
                  </td>
                  <td>
                    <Link to={`/entities/${r.from}`}>{label(r.from)}</Link>
                  </td>
                  <td>
                    <Link to={`/entities/${r.to}`}>{label(r.to)}</Link>
                  </td>
                  {allowed.metadata ? (
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Delete relationship ${r.name}`}
                        onClick={() => void remove(r)}
                      >
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState title="No many-to-many relationships yet" />
      )}
      {allowed.metadata ? <RelationshipForm /> : null}
      <h2 className="section-title">Lookups (one-to-many)</h2>
      {lookups.length ? (
        <div className="table-wrap">
          <table className="table" aria-label="Lookups">
            <TableHead columns={['Lookup', 'Target', 'Inverse (on the target)', 'On delete']} />
            <tbody>
              {lookups.map(({ entity, field }) => (
                <tr key={`${entity.name}.${field.name}`}>
                  <td>
                    <Link to={`/entities/${entity.name}/fields/${field.name}/edit`}>
                      {entity.displayName}.{field.displayName}
                    </Link>{' '}
                    <code className="muted">
                      {entity.name}.{field.name}
                    </code>
                  </td>
                  <td>
                    <Link to={`/entities/${field.target}`}>{label(field.target ?? '')}</Link>
                  </td>
                  <td>
                    <code>
                      {entityOf(catalog, field.target ?? '')?.navigations.find(
                        (n) => n.kind === 'inverse' && n.source === entity.name && n.field === field.name,
                      )?.name ?? '—'}
                    </code>
                  </td>
                  <td>{field.onDelete ?? 'restrict'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState title="No lookups yet">
          <p className="small">Add a field of type Lookup to an entity.</p>
        </EmptyState>
      )}
    </>
  );
}

/** Creates a many-to-many relationship (optionally fixed to start from one entity). */
export function RelationshipForm({ from: fixedFrom }: { from?: string }) {
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const [from, setFrom] = useState(fixedFrom ?? '');
  const [to, setTo] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [description, setDescription] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) =>
    ['/name', '/from', '/to', '/displayName', '/description'].includes(path) ? path.slice(1) : undefined,
  );

  const suggest = (f: string, t: string) => (f && t ? snakeName(`${f}_${entityOf(catalog, t)?.pluralName ?? t}`) : '');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setProblem(undefined);
    try {
      const rel = await api.createRelationship({
        name: name.trim(),
        type: 'manyToMany',
        from,
        to,
        displayName: displayName.trim() || undefined,
        description: description.trim() || undefined,
      });
      await catalog.refresh();
      toast(`Relationship “${rel.displayName}” created`);
      setName('');
      setNameTouched(false);
      setDisplayName('');
      setDescription('');
      setTo('');
      if (!fixedFrom) setFrom('');
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="form card" onSubmit={submit} noValidate aria-label="New many-to-many relationship">
      <h3 className="card-title">New many-to-many relationship</h3>
      {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
      <div className="form-grid">
        <Field label="From entity" required error={byKey.get('from')}>
          {(c) => (
            <select
              id={c.id}
              aria-required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={from}
              disabled={fixedFrom !== undefined}
              onChange={(e) => {
                setFrom(e.target.value);
                if (!nameTouched) setName(suggest(e.target.value, to));
              }}
            >
              <option value="">Choose…</option>
              {catalog.entities.map((e) => (
                <option key={e.name} value={e.name}>
                  {e.displayName}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="To entity" required error={byKey.get('to')}>
          {(c) => (
            <select
              id={c.id}
              aria-required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={to}
              onChange={(e) => {
                setTo(e.target.value);
                if (!nameTouched) setName(suggest(from, e.target.value));
              }}
            >
              <option value="">Choose…</option>
              {catalog.entities.map((e) => (
                <option key={e.name} value={e.name}>
                  {e.displayName}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Relationship name"
          required
          hint="The junction table and the relation name on both sides."
          error={byKey.get('name')}
        >
          {(c) => (
            <input
              id={c.id}
              aria-required
              className="mono"
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={name}
              spellCheck={false}
              onChange={(e) => {
                setName(e.target.value);
                setNameTouched(true);
              }}
            />
          )}
        </Field>
        <Field label="Relationship label" error={byKey.get('displayName')}>
          {(c) => (
            <input
              id={c.id}
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Relationship description" error={byKey.get('description')} className="span-2">
          {(c) => (
            <input
              id={c.id}
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          )}
        </Field>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          Create relationship
        </button>
      </div>
    </form>
  );
}
