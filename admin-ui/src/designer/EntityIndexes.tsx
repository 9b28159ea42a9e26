/**
 * An entity's declared B-tree indexes (issue 13), in the designer's Keys tab: the list (fields in
 * order, unique, status; a failed one says why, a building one shows its progress and asks the
 * server again every second until it is done), a form to declare one (fields ticked in index
 * order, an optional name, unique) and removal with a confirmation.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, api, toProblem } from '../api.ts';
import { can, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Field, FieldGroup, ProblemBanner, TableHead } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import { isMaintained } from '../relationships/text.ts';
import { useCan } from '../security/session.tsx';
import type { EntityDef, FieldTypeName, IndexDef, Problem } from '../types.ts';

/** System fields worth indexing (every record has them; the server takes any of its system fields). */
const SYSTEM_CHOICES: { name: string; displayName: string; type: FieldTypeName }[] = [
  { name: 'created_at', displayName: 'Created at', type: 'datetime' },
  { name: 'updated_at', displayName: 'Updated at', type: 'datetime' },
  { name: 'owner_id', displayName: 'Owner', type: 'uuid' },
];

/** How often a building index is asked for its progress. */
const POLL_MS = 1000;

/**
 * The latest answer for each index the catalog says is building, asked every second; when one is
 * done (active, failed, or gone) the catalog is refreshed, which ends the polling for it.
 */
function useBuilds(entity: string, indexes: readonly IndexDef[], refresh: () => Promise<void>) {
  const [live, setLive] = useState<Record<string, IndexDef>>({});
  const building = indexes
    .filter((i) => i.status === 'building')
    .map((i) => i.name)
    .join(',');
  useEffect(() => {
    if (!building) return;
    const names = building.split(',');
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      let settled = false;
      for (const name of names) {
        try {
          const index = await api.index(entity, name);
          if (stopped) return;
          setLive((l) => ({ ...l, [name]: index }));
          if (index.status !== 'building') settled = true;
        } catch (error) {
          // dropped meanwhile (here or elsewhere); other failures: ask again next time
          if (error instanceof ApiError && error.status === 404) settled = true;
        }
      }
      if (settled && !stopped) await refresh().catch(() => undefined);
      if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [entity, building, refresh]);
  // the catalog's entry until a poll answered (a finished one stays until the refresh lands)
  return (index: IndexDef): IndexDef => (index.status === 'building' ? (live[index.name] ?? index) : index);
}

function IndexStatus({ index }: { index: IndexDef }) {
  if (index.status === 'active') return <Badge tone="ok">active</Badge>;
  if (index.status === 'failed') {
    return (
      <>
        <Badge tone="warn">failed</Badge>
        {index.error ? <div className="field-error small">{index.error}</div> : null}
      </>
    );
  }
  const { percent: rawPercent, phase } = index.progress ?? {};
  const percent = typeof rawPercent === 'number' ? Math.round(rawPercent) : undefined;
  return (
    <>
      <Badge tone="info">building{percent === undefined ? '…' : ` ${percent}%`}</Badge>{' '}
      <progress max={100} value={percent} aria-label={`Building ${index.name}`} />
      {typeof phase === 'string' ? <div className="muted small">{phase}</div> : null}
    </>
  );
}

export function EntityIndexes({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const allowed = useCan();
  const { confirm, toast } = useOverlays();
  const [name, setName] = useState('');
  const [fields, setFields] = useState<string[]>([]);
  const [unique, setUnique] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [dropProblem, setDropProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const indexes = entity.indexes ?? [];
  const current = useBuilds(entity.name, indexes, catalog.refresh);
  const { byKey, unmapped } = mapErrors(problem, (path) =>
    path === '/name' ? 'name' : path.startsWith('/fields') ? 'fields' : path === '/unique' ? 'unique' : undefined,
  );
  const label = (field: string) =>
    entity.fields.find((f) => f.name === field)?.displayName ??
    SYSTEM_CHOICES.find((f) => f.name === field)?.displayName ??
    field;
  const choices = [
    ...entity.fields.filter((f) => can(catalog, f.type, 'sortable') && !isMaintained(f)),
    ...SYSTEM_CHOICES.filter((f) => can(catalog, f.type, 'sortable')),
  ];

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setProblem(undefined);
    const sent = [...fields];
    try {
      const index = await api.addIndex(entity.name, { name: name.trim() || undefined, fields: sent, unique });
      await catalog.refresh();
      toast(
        index.status === 'building'
          ? `Index “${index.name}” is being built`
          : `Index “${index.name}” added over ${index.fields.join(', ')}`,
      );
      setName('');
      setFields([]);
      setUnique(false);
    } catch (error) {
      const refused = toProblem(error);
      // "/fields/1 a json field cannot be indexed": say which field
      const errors = refused.errors?.map((e) => {
        const field = sent[Number(/^\/fields\/(\d+)$/.exec(e.path)?.[1] ?? Number.NaN)];
        return field ? { ...e, message: `${field}: ${e.message}` } : e;
      });
      setProblem(errors ? { ...refused, errors } : refused);
    } finally {
      setSaving(false);
    }
  };

  const drop = async (index: IndexDef) => {
    setDropProblem(undefined);
    const ok = await confirm({
      title: `Remove the index “${index.name}”?`,
      body: (
        <p>
          {index.status === 'building' ? 'Its build is cancelled and the ' : 'The '}B-tree index over{' '}
          {index.fields.join(', ')} is dropped. Records are untouched, but filters and sorts on these fields may get
          slower{index.unique ? ', and their values need no longer be unique together' : ''}.
        </p>
      ),
      confirmLabel: 'Remove index',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.dropIndex(entity.name, index.name);
      await catalog.refresh();
      toast(`Index “${index.name}” removed`);
    } catch (error) {
      setDropProblem(toProblem(error));
    }
  };

  return (
    <>
      <h2 className="section-title">Indexes</h2>
      <p className="muted small">
        An index makes filters and sorts on its fields fast; list the fields in the order queries use them: those
        filtered by equality first, then the ones sorted by.
      </p>
      {dropProblem ? <ProblemBanner problem={dropProblem} /> : null}
      {indexes.length ? (
        <div className="table-wrap">
          <table className="table" aria-label={`Indexes of ${entity.displayName}`}>
            <TableHead
              columns={['Index', 'Fields (in order)', 'Unique', 'Status']}
              actions={allowed.metadata ? 'Actions' : undefined}
            />
            <tbody>
              {indexes.map(current).map((i) => (
                <tr key={i.name}>
                  <td>
                    <code>{i.name}</code>
                    {i.displayName !== i.name ? <div className="muted small">{i.displayName}</div> : null}
                  </td>
                  <td>
                    {i.fields.map((f, n) => (
                      <span key={f}>
                        {n ? ', ' : ''}
                        <code title={label(f)}>{f}</code>
                      </span>
                    ))}
                  </td>
                  <td>{i.unique ? <Badge>unique</Badge> : <span className="muted">no</span>}</td>
                  <td>
                    <IndexStatus index={i} />
                  </td>
                  {allowed.metadata ? (
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Remove index ${i.name}`}
                        onClick={() => void drop(i)}
                      >
                        Remove
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState title="No indexes" />
      )}
      {allowed.metadata ? (
        <form className="form card" onSubmit={add} noValidate aria-label="Add an index">
          <h3 className="card-title">Add an index</h3>
          {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
          <div className="form-grid">
            <Field
              label="Index name"
              hint={`Optional; default: the fields joined by “_”${fields.length ? ` (${fields.join('_')})` : ''}.`}
              error={byKey.get('name')}
            >
              {(c) => (
                <input
                  id={c.id}
                  className="mono"
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  spellCheck={false}
                  autoComplete="off"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
              )}
            </Field>
          </div>
          <FieldGroup
            legend="Fields of the index, in order"
            error={byKey.get('fields')}
            hint={
              fields.length
                ? `Order: ${fields.join(' → ')}. Untick and tick again to reorder.`
                : 'Tick them in index order: equality filters first, then the sort.'
            }
          >
            <div className="checks">
              {choices.map((f) => {
                const position = fields.indexOf(f.name);
                return (
                  <label key={f.name} className="check">
                    <input
                      type="checkbox"
                      checked={position >= 0}
                      onChange={(e) =>
                        setFields((list) => (e.target.checked ? [...list, f.name] : list.filter((x) => x !== f.name)))
                      }
                    />
                    {position >= 0 ? <Badge tone="info">{position + 1}</Badge> : null}
                    {f.displayName} <code className="muted">{f.name}</code>
                  </label>
                );
              })}
            </div>
          </FieldGroup>
          <FieldGroup legend="Uniqueness" error={byKey.get('unique')}>
            <label className="check">
              <input type="checkbox" checked={unique} onChange={(e) => setUnique(e.target.checked)} />
              Unique <span className="muted small">— no two records share these values together</span>
            </label>
          </FieldGroup>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={saving}>
              Add index
            </button>
          </div>
        </form>
      ) : null}
    </>
  );
}
