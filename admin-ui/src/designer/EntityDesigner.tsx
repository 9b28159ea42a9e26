/**
 * One entity's design: fields (add, edit, remove), alternate keys and indexes, relationships, the
 * schema-change history and the entity's own settings (with its activity tracking). Fields the
 * platform maintains (relationship signals) cannot be edited or removed, built-in ones (the
 * activity entity's) only relabelled; a built-in entity cannot be deleted.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { can, entityOf, typeLabel, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import {
  Badge,
  EmptyState,
  Field,
  FieldGroup,
  Loading,
  PageHeader,
  ProblemBanner,
  TableHead,
  Tabs,
} from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { mapErrors } from '../forms.ts';
import { RelationshipSettings } from '../relationships/EntitySettings.tsx';
import { isBuiltIn, isMaintained } from '../relationships/text.ts';
import { Link, navigate, useTitle } from '../router.tsx';
import { useCan } from '../security/session.tsx';
import type { ChangeEntry, EntityDef, FieldDef, Problem } from '../types.ts';
import { describeField } from './describe.ts';
import { EntityIndexes } from './EntityIndexes.tsx';
import { RelationshipForm } from './RelationshipsPage.tsx';

export type DesignerTab = 'fields' | 'keys' | 'relationships' | 'history' | 'settings';

export function EntityDesigner({ name, tab }: { name: string; tab: DesignerTab }) {
  const catalog = useCatalog();
  const entity = entityOf(catalog, name);
  const allowed = useCan();
  useTitle(entity ? `${entity.displayName} · design` : 'Entity not found');

  if (!entity) {
    return (
      <EmptyState title={`No entity “${name}”`}>
        <Link to="/entities">Back to the entities</Link>
      </EmptyState>
    );
  }
  const base = `/entities/${entity.name}`;
  const tabs = [
    { id: 'fields', label: `Fields (${entity.fields.length})`, to: base },
    {
      id: 'keys',
      label: `Keys & indexes (${(entity.alternateKeys?.length ?? 0) + (entity.indexes?.length ?? 0)})`,
      to: `${base}/keys`,
    },
    { id: 'relationships', label: 'Relationships', to: `${base}/relationships` },
    { id: 'history', label: 'History', to: `${base}/history` },
    // changing the entity needs the metadata privilege
    ...(allowed.metadata ? [{ id: 'settings', label: 'Settings', to: `${base}/settings` }] : []),
  ];
  return (
    <>
      <PageHeader
        breadcrumbs={[{ label: 'Entities', to: '/entities' }]}
        title={entity.displayName}
        subtitle={
          <>
            <code>{entity.name}</code> · table <code>data.{entity.name}</code> · REST{' '}
            <code>/api/data/{entity.name}</code>
            {entity.description ? ` · ${entity.description}` : ''}
          </>
        }
        actions={
          <Link to={`/data/${entity.name}`} className="btn">
            Browse data
          </Link>
        }
      />
      <Tabs tabs={tabs} current={tab} label={`${entity.displayName} design`} />
      <section id="tabpanel" role="tabpanel" aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === 'fields' ? <FieldsTab entity={entity} /> : null}
        {tab === 'keys' ? <KeysTab entity={entity} /> : null}
        {tab === 'relationships' ? <RelationsTab entity={entity} /> : null}
        {tab === 'history' ? <HistoryTab entity={entity} /> : null}
        {tab === 'settings' ? <SettingsTab entity={entity} /> : null}
      </section>
    </>
  );
}

function FieldsTab({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const allowed = useCan();
  const { confirm, toast } = useOverlays();
  const [problem, setProblem] = useState<Problem>();

  const remove = async (field: FieldDef) => {
    setProblem(undefined);
    let count: number | undefined;
    try {
      count = await api.count(entity.name);
    } catch {
      count = undefined;
    }
    const inverse = field.type === 'lookup' ? entityOf(catalog, field.target ?? '') : undefined;
    const ok = await confirm({
      title: `Remove the field “${field.displayName}”?`,
      body: (
        <>
          <p>
            This drops the column{' '}
            <code>
              {entity.name}.{field.name}
            </code>{' '}
            and <strong>permanently deletes its data</strong>
            {count === undefined ? ' in every record' : ` in ${count} record${count === 1 ? '' : 's'}`}. It cannot be
            undone.
          </p>
          {inverse ? (
            <p>
              The related list <code>{field.inverseName ?? '(inverse)'}</code> on {inverse.displayName} disappears with
              it.
            </p>
          ) : null}
          <p>REST, GraphQL and the OpenAPI document stop serving the field at once.</p>
        </>
      ),
      confirmLabel: 'Remove field and its data',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.dropField(entity.name, field.name);
      await catalog.refresh();
      toast(`Field “${field.displayName}” removed`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <div className="toolbar">
        <h2 className="section-title">Fields</h2>
        {allowed.metadata ? (
          <Link to={`/entities/${entity.name}/fields/new`} className="btn btn-primary">
            Add field
          </Link>
        ) : null}
      </div>
      {problem ? <ProblemBanner problem={problem} /> : null}
      <div className="table-wrap">
        <table className="table" aria-label={`Fields of ${entity.displayName}`}>
          <TableHead
            columns={['Label', 'Name', 'Type', 'Details', 'Flags']}
            actions={allowed.metadata ? 'Actions' : undefined}
          />
          <tbody>
            {entity.fields.map((f) => (
              <tr key={f.name}>
                <td>
                  {allowed.metadata && !isMaintained(f) ? (
                    <Link to={`/entities/${entity.name}/fields/${f.name}/edit`} className="strong">
                      {f.displayName}
                    </Link>
                  ) : (
                    <span className="strong">{f.displayName}</span>
                  )}
                  {f.description ? <div className="muted small">{f.description}</div> : null}
                </td>
                <td>
                  <code>{f.name}</code>
                </td>
                <td>
                  <Badge tone="info">{typeLabel(catalog, f.type)}</Badge>
                </td>
                <td className="small">{describeField(catalog, f)}</td>
                <td className="flags">
                  {entity.primaryField === f.name ? <Badge tone="ok">primary</Badge> : null}
                  {f.required ? <Badge>required</Badge> : null}
                  {f.unique ? <Badge>unique</Badge> : null}
                  {f.searchable ? <Badge>searchable</Badge> : null}
                  {f.indexed ? <Badge>indexed</Badge> : null}
                  {f.secured ? <Badge tone="warn">secured</Badge> : null}
                  {isMaintained(f) ? <Badge tone="info">maintained</Badge> : null}
                  {isBuiltIn(f) ? <Badge>built-in</Badge> : null}
                </td>
                {allowed.metadata && isMaintained(f) ? (
                  <td className="muted small" title="The platform keeps these values current from activities">
                    read-only
                  </td>
                ) : allowed.metadata ? (
                  <td className="row-actions">
                    <Link
                      to={`/entities/${entity.name}/fields/${f.name}/edit`}
                      className="btn btn-small"
                      aria-label={`Edit field ${f.displayName}`}
                    >
                      Edit
                    </Link>
                    {isBuiltIn(f) ? null : (
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Remove field ${f.displayName}`}
                        disabled={entity.primaryField === f.name}
                        title={
                          entity.primaryField === f.name
                            ? 'The primary field cannot be removed; choose another primary field in Settings first'
                            : undefined
                        }
                        onClick={() => void remove(f)}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small">
        System fields on every record: <code>id</code>, <code>created_at</code>, <code>updated_at</code>,{' '}
        <code>created_by</code>, <code>owner_id</code>, <code>version</code>.
      </p>
    </>
  );
}

function KeysTab({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const allowed = useCan();
  const { confirm, toast } = useOverlays();
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [fields, setFields] = useState<string[]>([]);
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const keys = entity.alternateKeys ?? [];
  const { byKey, unmapped } = mapErrors(problem, (path) =>
    path === '/name'
      ? 'name'
      : path === '/displayName'
        ? 'displayName'
        : path.startsWith('/fields')
          ? 'fields'
          : undefined,
  );

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setProblem(undefined);
    try {
      await api.addKey(entity.name, { name: name.trim(), displayName: displayName.trim() || undefined, fields });
      await catalog.refresh();
      toast(`Alternate key “${name}” added`);
      setName('');
      setDisplayName('');
      setFields([]);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  };

  const drop = async (key: string) => {
    setProblem(undefined);
    const ok = await confirm({
      title: `Drop the alternate key “${key}”?`,
      body: (
        <p>
          This drops its unique index. Records keep their values, but upserts by this key stop working and duplicates
          become possible.
        </p>
      ),
      confirmLabel: 'Drop key',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.dropKey(entity.name, key);
      await catalog.refresh();
      toast(`Alternate key “${key}” dropped`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <h2 className="section-title">Alternate keys</h2>
      <p className="muted small">
        Fields whose values together identify a record (a unique index);{' '}
        <code>POST /api/data/{entity.name}/upsert?key=…</code> creates or updates by them.
      </p>
      {keys.length ? (
        <div className="table-wrap">
          <table className="table">
            <TableHead columns={['Key', 'Name', 'Fields']} actions={allowed.metadata ? 'Actions' : undefined} />
            <tbody>
              {keys.map((k) => (
                <tr key={k.name}>
                  <td>{k.displayName}</td>
                  <td>
                    <code>{k.name}</code>
                  </td>
                  <td>{k.fields.join(', ')}</td>
                  {allowed.metadata ? (
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Drop key ${k.name}`}
                        onClick={() => void drop(k.name)}
                      >
                        Drop
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState title="No alternate keys" />
      )}
      {allowed.metadata ? (
        <form className="form card" onSubmit={add} noValidate aria-label="Add an alternate key">
          <h3 className="card-title">Add an alternate key</h3>
          {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
          <div className="form-grid">
            <Field label="Key name" required error={byKey.get('name')}>
              {(c) => (
                <input
                  id={c.id}
                  aria-required
                  className="mono"
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
              )}
            </Field>
            <Field label="Key label" error={byKey.get('displayName')}>
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
          </div>
          <FieldGroup
            legend="Fields of the key"
            error={byKey.get('fields')}
            hint="Fields of types that compare by value."
          >
            <div className="checks">
              {entity.fields
                .filter((f) => can(catalog, f.type, 'key'))
                .map((f) => (
                  <label key={f.name} className="check">
                    <input
                      type="checkbox"
                      checked={fields.includes(f.name)}
                      onChange={(e) =>
                        setFields((list) => (e.target.checked ? [...list, f.name] : list.filter((x) => x !== f.name)))
                      }
                    />
                    {f.displayName} <code className="muted">{f.name}</code>
                  </label>
                ))}
            </div>
          </FieldGroup>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={saving}>
              Add key
            </button>
          </div>
        </form>
      ) : null}
      <EntityIndexes entity={entity} />
    </>
  );
}

function RelationsTab({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const allowed = useCan();
  const lookups = entity.fields.filter((f) => f.type === 'lookup');
  return (
    <>
      <h2 className="section-title">Relationships of {entity.displayName}</h2>
      <div className="table-wrap">
        <table className="table">
          <TableHead columns={['Name', 'Kind', 'Related entity', 'Through']} />
          <tbody>
            {lookups.map((f) => (
              <tr key={`lookup:${f.name}`}>
                <td>
                  <code>{f.name}</code>
                </td>
                <td>Many-to-one (lookup)</td>
                <td>
                  <Link to={`/entities/${f.target}`}>{entityOf(catalog, f.target ?? '')?.displayName ?? f.target}</Link>
                </td>
                <td className="small">on delete: {f.onDelete ?? 'restrict'}</td>
              </tr>
            ))}
            {entity.navigations.map((n) =>
              n.kind === 'inverse' ? (
                <tr key={`nav:${n.name}`}>
                  <td>
                    <code>{n.name}</code>
                  </td>
                  <td>One-to-many</td>
                  <td>
                    <Link to={`/entities/${n.source}`}>{entityOf(catalog, n.source)?.displayName ?? n.source}</Link>
                  </td>
                  <td className="small">
                    lookup{' '}
                    <code>
                      {n.source}.{n.field}
                    </code>
                  </td>
                </tr>
              ) : (
                <tr key={`nav:${n.name}`}>
                  <td>
                    <code>{n.name}</code>
                  </td>
                  <td>Many-to-many</td>
                  <td>
                    <Link to={`/entities/${n.other}`}>{entityOf(catalog, n.other)?.displayName ?? n.other}</Link>
                  </td>
                  <td className="small">
                    junction <code>data.{n.relationship}</code>
                  </td>
                </tr>
              ),
            )}
            {!lookups.length && !entity.navigations.length ? (
              <tr>
                <td colSpan={4} className="muted">
                  No relationships yet. Add a lookup field, or a many-to-many relationship below.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      {allowed.metadata ? <RelationshipForm from={entity.name} /> : null}
    </>
  );
}

export function HistoryTab({ entity }: { entity: EntityDef }) {
  const [changes, setChanges] = useState<ChangeEntry[]>();
  const [total, setTotal] = useState(0);
  const [problem, setProblem] = useState<Problem>();
  const [loadingMore, setLoadingMore] = useState(false);

  const load = useCallback(
    async (offset: number) => {
      try {
        const page = await api.changes({ target: entity.name, limit: 25, offset });
        setChanges((list) => (offset ? [...(list ?? []), ...page.data] : page.data));
        setTotal(page.totalCount ?? page.data.length);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      }
    },
    [entity.name],
  );

  useEffect(() => {
    void load(0);
  }, [load]);

  if (problem) return <ProblemBanner problem={problem} onRetry={() => void load(0)} />;
  if (!changes) return <Loading label="Loading the history…" />;
  return (
    <>
      <h2 className="section-title">Schema-change history</h2>
      <p className="muted small">
        Every change to {entity.displayName}, newest first, with the DDL it ran ({total} in all).
      </p>
      {changes.length === 0 ? <EmptyState title="No changes recorded" /> : null}
      <ol className="history">
        {changes.map((c) => (
          <li key={c.id} className="history-item">
            <details>
              <summary>
                <span className="history-version">v{c.version}</span>
                <Badge tone={c.operation.endsWith('.delete') ? 'warn' : 'info'}>{c.operation}</Badge>
                <code>{c.target}</code>
                <span className="muted small">
                  <Temporal kind="datetime" value={c.createdAt} /> · {c.actor}
                </span>
              </summary>
              <div className="history-body">
                {c.statements.length ? (
                  <>
                    <h4>DDL</h4>
                    <pre className="code">{c.statements.join(';\n\n')};</pre>
                  </>
                ) : (
                  <p className="muted small">No DDL (metadata only).</p>
                )}
                <div className="history-diff">
                  <div>
                    <h4>Before</h4>
                    <pre className="code">
                      {c.before === null || c.before === undefined ? '—' : JSON.stringify(c.before, null, 2)}
                    </pre>
                  </div>
                  <div>
                    <h4>After</h4>
                    <pre className="code">
                      {c.after === null || c.after === undefined ? '—' : JSON.stringify(c.after, null, 2)}
                    </pre>
                  </div>
                </div>
              </div>
            </details>
          </li>
        ))}
      </ol>
      {changes.length < total ? (
        <button
          type="button"
          className="btn"
          disabled={loadingMore}
          onClick={async () => {
            setLoadingMore(true);
            await load(changes.length);
            setLoadingMore(false);
          }}
        >
          Load older changes
        </button>
      ) : null}
    </>
  );
}

function SettingsTab({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const { confirm, toast } = useOverlays();
  const [displayName, setDisplayName] = useState(entity.displayName);
  const [pluralDisplayName, setPluralDisplayName] = useState(entity.pluralDisplayName);
  const [description, setDescription] = useState(entity.description ?? '');
  const [primaryField, setPrimaryField] = useState(entity.primaryField);
  const [auditEnabled, setAuditEnabled] = useState(entity.auditEnabled !== false);
  const [problem, setProblem] = useState<Problem>();
  const [deleteProblem, setDeleteProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) => path.slice(1) || undefined);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const body: Record<string, unknown> = {};
    if (displayName !== entity.displayName) body.displayName = displayName;
    if (pluralDisplayName !== entity.pluralDisplayName) body.pluralDisplayName = pluralDisplayName;
    if (description !== (entity.description ?? '')) body.description = description;
    if (primaryField !== entity.primaryField) body.primaryField = primaryField;
    if (auditEnabled !== (entity.auditEnabled !== false)) body.auditEnabled = auditEnabled;
    if (!Object.keys(body).length) {
      toast('Nothing to save');
      return;
    }
    setSaving(true);
    setProblem(undefined);
    try {
      await api.updateEntity(entity.name, body);
      await catalog.refresh();
      toast('Entity settings saved');
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    setDeleteProblem(undefined);
    let count: number | undefined;
    try {
      count = await api.count(entity.name);
    } catch {
      count = undefined;
    }
    const ok = await confirm({
      title: `Delete the entity “${entity.displayName}”?`,
      body: (
        <>
          <p>
            This drops the table <code>data.{entity.name}</code> and{' '}
            <strong>
              permanently deletes{' '}
              {count === undefined ? 'all its records' : `its ${count} record${count === 1 ? '' : 's'}`}
            </strong>
            , its fields and keys. Its REST endpoint and GraphQL types disappear at once.
          </p>
          <p>It is refused while other entities’ lookups or many-to-many relationships point at it.</p>
        </>
      ),
      confirmLabel: 'Delete entity and its data',
      danger: true,
      typeToConfirm: entity.name,
    });
    if (!ok) return;
    try {
      await api.deleteEntity(entity.name);
      await catalog.refresh();
      toast(`Entity “${entity.displayName}” deleted`);
      navigate('/entities');
    } catch (error) {
      setDeleteProblem(toProblem(error));
    }
  };

  return (
    <>
      <form className="form card" onSubmit={save} noValidate aria-label="Entity settings">
        <h2 className="card-title">Settings</h2>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <div className="form-grid">
          <Field label="Display name" error={byKey.get('displayName')}>
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
          <Field label="Plural display name" error={byKey.get('pluralDisplayName')}>
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
          <Field
            label="Primary field"
            hint="Names a record in lookups and type-ahead."
            error={byKey.get('primaryField')}
          >
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={primaryField}
                onChange={(e) => setPrimaryField(e.target.value)}
              >
                {entity.fields
                  .filter((f) => can(catalog, f.type, 'primary'))
                  .map((f) => (
                    <option key={f.name} value={f.name}>
                      {f.displayName} ({f.name})
                    </option>
                  ))}
              </select>
            )}
          </Field>
          <Field label="Description" error={byKey.get('description')} className="span-2">
            {(c) => (
              <textarea
                id={c.id}
                rows={3}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={description}
                onChange={(e) => setDescription(e.target.value)}
              />
            )}
          </Field>
          <FieldGroup
            legend="Audit trail"
            error={byKey.get('auditEnabled')}
            hint={
              'Records every create, update, delete and (dis)association with its actor and changed fields, ' +
              "shown in each record's History tab."
            }
            className="span-2"
          >
            <label className="check">
              <input
                type="checkbox"
                role="switch"
                checked={auditEnabled}
                aria-checked={auditEnabled}
                onChange={(e) => setAuditEnabled(e.target.checked)}
              />
              Audit changes
            </label>
          </FieldGroup>
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={saving}>
            Save settings
          </button>
        </div>
      </form>
      {isBuiltIn(entity) ? null : <RelationshipSettings entity={entity} />}
      {isBuiltIn(entity) ? null : (
        <section className="card danger-zone" aria-labelledby="danger-title">
          <h2 className="card-title" id="danger-title">
            Delete this entity
          </h2>
          <p className="small">Drops the table and every record in it. This cannot be undone.</p>
          {deleteProblem ? <ProblemBanner problem={deleteProblem} /> : null}
          <button type="button" className="btn btn-danger" onClick={() => void remove()}>
            Delete entity…
          </button>
        </section>
      )}
    </>
  );
}
