/** Shared choice sets: option lists several choice fields use. */
import { useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { EmptyState, Field, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { mapErrors, snakeName } from '../forms.ts';
import { useTitle } from '../router.tsx';
import { useCan } from '../security/session.tsx';
import type { ChoiceSetDef, Problem } from '../types.ts';
import { ChoicesEditor, plainOptions, type EditableOption } from './ChoicesEditor.tsx';

export function ChoiceSetsPage() {
  useTitle('Choice sets');
  const catalog = useCatalog();
  const allowed = useCan();
  const { confirm, toast } = useOverlays();
  const [editing, setEditing] = useState<ChoiceSetDef | 'new'>();
  const [problem, setProblem] = useState<Problem>();

  const users = (set: string) =>
    catalog.entities.flatMap((e) => e.fields.filter((f) => f.choiceSet === set).map((f) => `${e.name}.${f.name}`));

  const remove = async (set: ChoiceSetDef) => {
    setProblem(undefined);
    const ok = await confirm({
      title: `Delete the choice set “${set.displayName}”?`,
      body: <p>Its {set.options.length} options are deleted. It is refused while fields use it.</p>,
      confirmLabel: 'Delete choice set',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteChoiceSet(set.name);
      await catalog.refresh();
      toast(`Choice set “${set.displayName}” deleted`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <PageHeader
        title="Choice sets"
        subtitle="Option lists shared by choice and multiple-choice fields."
        actions={
          allowed.metadata ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
              New choice set
            </button>
          ) : undefined
        }
      />
      {problem ? <ProblemBanner problem={problem} /> : null}
      {editing ? (
        <ChoiceSetForm
          key={editing === 'new' ? 'new' : editing.name}
          set={editing === 'new' ? undefined : editing}
          onDone={() => setEditing(undefined)}
        />
      ) : null}
      {catalog.choiceSets.length ? (
        <div className="table-wrap">
          <table className="table" aria-label="Choice sets">
            <TableHead
              columns={['Choice set', 'Name', 'Options', 'Used by']}
              actions={allowed.metadata ? 'Actions' : undefined}
            />
            <tbody>
              {catalog.choiceSets.map((s) => (
                <tr key={s.name}>
                  <td>{s.displayName}</td>
                  <td>
                    <code>{s.name}</code>
                  </td>
                  <td className="small">{s.options.map((o) => o.label).join(', ')}</td>
                  <td className="small">{users(s.name).join(', ') || <span className="muted">—</span>}</td>
                  {allowed.metadata ? (
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Edit choice set ${s.name}`}
                        onClick={() => setEditing(s)}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Delete choice set ${s.name}`}
                        onClick={() => void remove(s)}
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
      ) : editing ? null : (
        <EmptyState title="No choice sets yet" />
      )}
    </>
  );
}

function ChoiceSetForm({ set, onDone }: { set?: ChoiceSetDef; onDone(): void }) {
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const [displayName, setDisplayName] = useState(set?.displayName ?? '');
  const [name, setName] = useState(set?.name ?? '');
  const [description, setDescription] = useState(set?.description ?? '');
  const [options, setOptions] = useState<EditableOption[]>(
    set ? set.options.map((o) => ({ ...o })) : [{ value: '', label: '', auto: true }],
  );
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    if (path.startsWith('/options')) return `options:${path.slice('/options'.length).replace(/^\//, '')}`;
    return ['/name', '/displayName', '/description'].includes(path) ? path.slice(1) : undefined;
  });
  const optionErrors = new Map<string, string[]>();
  for (const [k, v] of byKey) if (k.startsWith('options:')) optionErrors.set(k.slice('options:'.length), v);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setProblem(undefined);
    const body = {
      displayName: displayName.trim() || undefined,
      description: description.trim() || undefined,
      options: plainOptions(options),
    };
    try {
      if (set) await api.updateChoiceSet(set.name, body);
      else await api.createChoiceSet({ ...body, name: name.trim() });
      await catalog.refresh();
      toast(set ? `Choice set “${displayName || set.displayName}” saved` : 'Choice set created');
      onDone();
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  return (
    <form
      className="form card"
      onSubmit={submit}
      noValidate
      aria-label={set ? `Edit choice set ${set.name}` : 'New choice set'}
    >
      <h2 className="card-title">{set ? `Edit “${set.displayName}”` : 'New choice set'}</h2>
      {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
      <div className="form-grid">
        <Field label="Display name" error={byKey.get('displayName')}>
          {(c) => (
            <input
              id={c.id}
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={displayName}
              onChange={(e) => {
                setDisplayName(e.target.value);
                if (!set) setName(snakeName(e.target.value));
              }}
            />
          )}
        </Field>
        <Field label="Name" required error={byKey.get('name')}>
          {(c) => (
            <input
              id={c.id}
              aria-required
              className="mono"
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={name}
              disabled={Boolean(set)}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Description" error={byKey.get('description')} className="span-2">
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
      <ChoicesEditor options={options} onChange={setOptions} errors={optionErrors} />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {set ? 'Save choice set' : 'Create choice set'}
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
