/** A new entity with its primary field; more fields are added in the designer afterwards. */
import { useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { typeLabel, typesWith, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Field, PageHeader, ProblemBanner } from '../components/ui.tsx';
import { mapErrors, snakeName } from '../forms.ts';
import { navigate, useTitle } from '../router.tsx';
import type { FieldTypeName, Problem } from '../types.ts';

export function EntityCreate() {
  useTitle('New entity');
  const catalog = useCatalog();
  const { refresh } = catalog;
  const primaryTypes = typesWith(catalog, 'primary');
  const { toast } = useOverlays();
  const [displayName, setDisplayName] = useState('');
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [pluralDisplayName, setPluralDisplayName] = useState('');
  const [description, setDescription] = useState('');
  const [primaryLabel, setPrimaryLabel] = useState('Name');
  const [primaryName, setPrimaryName] = useState('name');
  const [primaryType, setPrimaryType] = useState<FieldTypeName>('text');
  const [maxLength, setMaxLength] = useState('');
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<Problem>();

  const { byKey, unmapped } = mapErrors(problem, (path) => {
    if (['/name', '/displayName', '/pluralDisplayName', '/description'].includes(path)) return path.slice(1);
    if (path === '/primaryField' || path === '/fields/0/name') return 'primaryName';
    if (path === '/fields/0/type') return 'primaryType';
    if (path === '/fields/0/maxLength') return 'maxLength';
    if (path === '/fields/0/displayName') return 'primaryLabel';
    return undefined;
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setProblem(undefined);
    const primary: Record<string, unknown> = {
      name: primaryName.trim(),
      type: primaryType,
      displayName: primaryLabel.trim() || undefined,
    };
    if (primaryType !== 'autonumber') primary.required = true;
    if (primaryType === 'text' && maxLength.trim()) primary.maxLength = Number(maxLength);
    const body: Record<string, unknown> = {
      name: name.trim(),
      displayName: displayName.trim() || undefined,
      pluralDisplayName: pluralDisplayName.trim() || undefined,
      description: description.trim() || undefined,
      primaryField: primaryName.trim(),
      fields: [primary],
    };
    try {
      const entity = await api.createEntity(body);
      await refresh();
      toast(`Entity “${entity.displayName}” created with table data.${entity.name}`);
      navigate(`/entities/${entity.name}`);
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  return (
    <>
      <PageHeader
        title="New entity"
        breadcrumbs={[{ label: 'Entities', to: '/entities' }]}
        subtitle="Creates a table, its REST endpoint and GraphQL types in one transaction."
      />
      <form className="form card" onSubmit={submit} noValidate aria-busy={saving}>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <div className="form-grid">
          <Field label="Display name" hint="Free text, shown in the UI." error={byKey.get('displayName')}>
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={displayName}
                onChange={(e) => {
                  setDisplayName(e.target.value);
                  if (!nameTouched) setName(snakeName(e.target.value));
                }}
              />
            )}
          </Field>
          <Field
            label="Name"
            required
            hint="lower_snake_case; the table and API name. Cannot change later."
            error={byKey.get('name')}
          >
            {(c) => (
              <input
                id={c.id}
                aria-required
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                className="mono"
                value={name}
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => {
                  setName(e.target.value);
                  setNameTouched(true);
                }}
              />
            )}
          </Field>
          <Field
            label="Plural display name"
            hint="Optional; derived from the display name."
            error={byKey.get('pluralDisplayName')}
          >
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={pluralDisplayName}
                onChange={(e) => setPluralDisplayName(e.target.value)}
              />
            )}
          </Field>
          <Field label="Description" error={byKey.get('description')} className="span-2">
            {(c) => (
              <textarea
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                rows={2}
                value={description}
                onChange={(e) => setDescription(e.target.value)}
              />
            )}
          </Field>
        </div>
        <h2 className="section-title">Primary field</h2>
        <p className="muted small">The field that names a record: shown in lookups and searched by type-ahead.</p>
        <div className="form-grid">
          <Field label="Primary field label" error={byKey.get('primaryLabel')}>
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={primaryLabel}
                onChange={(e) => setPrimaryLabel(e.target.value)}
              />
            )}
          </Field>
          <Field label="Primary field name" required error={byKey.get('primaryName')}>
            {(c) => (
              <input
                id={c.id}
                aria-required
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                className="mono"
                value={primaryName}
                spellCheck={false}
                onChange={(e) => setPrimaryName(e.target.value)}
              />
            )}
          </Field>
          <Field label="Primary field type" error={byKey.get('primaryType')}>
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                value={primaryType}
                onChange={(e) => setPrimaryType(e.target.value as FieldTypeName)}
              >
                {primaryTypes.map((t) => (
                  <option key={t} value={t}>
                    {typeLabel(catalog, t)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {primaryType === 'text' ? (
            <Field label="Maximum length" hint="Default 255." error={byKey.get('maxLength')}>
              {(c) => (
                <input
                  id={c.id}
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  type="number"
                  min={1}
                  value={maxLength}
                  onChange={(e) => setMaxLength(e.target.value)}
                />
              )}
            </Field>
          ) : null}
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={saving}>
            {saving ? 'Creating…' : 'Create entity'}
          </button>
          <button type="button" className="btn" onClick={() => navigate('/entities')}>
            Cancel
          </button>
        </div>
      </form>
    </>
  );
}
