/**
 * One record: a form generated from the entity's JSON Schema (create or update variant, with the
 * x-xrm-type / x-xrm-options / x-xrm-target annotations choosing each control), the server's
 * validation errors next to their fields, delete with a confirmation, and the related records.
 * What the signed-in user may do with this record comes from GET /api/security/explain (until it
 * answers, from their levels in GET /api/auth/me): a record they may not update is shown read-only,
 * secured fields their roles may not change are disabled, and they can share it (a dialog) and see
 * why they have the access they have (another).
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, toProblem } from '../api.ts';
import { RecordAutomation } from '../automation/RecordAutomation.tsx';
import { choiceOptions, entityOf, fieldTypeOf, useCatalog, type Catalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { EmptyState, Field, FieldGroup, Loading, PageHeader, ProblemBanner, Tabs } from '../components/ui.tsx';
import { humanizeRecordProblem } from '../field-errors.ts';
import { isMaintained } from '../relationships/text.ts';
import { RecordRelationship } from '../relationships/RecordRelationship.tsx';
import { mapErrors } from '../forms.ts';
import { Link, navigate, useLocation, useTitle } from '../router.tsx';
import { AccessDialog } from '../security/RecordAccess.tsx';
import { ShareDialog } from '../security/RecordShares.tsx';
import { useCan, useMe } from '../security/session.tsx';
import { useResource } from '../security/use-resource.ts';
import type {
  DataRecord,
  EntityDef,
  EntityPrivilege,
  EntitySchema,
  FieldTypeName,
  Problem,
  PropertySchema,
} from '../types.ts';
import { LookupPicker } from './LookupPicker.tsx';
import { navigationLabel } from './navigations.ts';
import { RecordHistory } from './RecordHistory.tsx';
import { RelatedList } from './RelatedList.tsx';
import { formValueEquals, fromFormValue, toFormValue, type FormValue } from './values.ts';
import { ValueText } from './ValueText.tsx';
import { MultiChoiceControl, ValueControl } from './widgets.tsx';

/** The record page's tabs: the record itself (form, details, related records) and its audit history. */
export type RecordTab = 'record' | 'history';

export function RecordPage({ entityName, id, tab = 'record' }: { entityName: string; id?: string; tab?: RecordTab }) {
  const catalog = useCatalog();
  const entity = entityOf(catalog, entityName);
  if (!entity) {
    return (
      <EmptyState title={`No entity “${entityName}”`}>
        <Link to="/entities">Back to the entities</Link>
      </EmptyState>
    );
  }
  return <RecordLoader entity={entity} id={id} tab={tab} />;
}

interface Loaded {
  schema: EntitySchema;
  record?: DataRecord;
  /** Labels of the record's lookups, from the expansion. */
  labels: Record<string, string>;
}

function RecordLoader({ entity, id, tab }: { entity: EntityDef; id?: string; tab: RecordTab }) {
  const catalog = useCatalog();
  const [loaded, setLoaded] = useState<Loaded>();
  const [problem, setProblem] = useState<Problem>();
  const [token, setToken] = useState(0);
  const schemaVersion = JSON.stringify(entity.fields);

  const load = useCallback(async () => {
    try {
      const lookups = entity.fields.filter((f) => f.type === 'lookup');
      const expand = lookups
        .map((f) => {
          const target = entityOf(catalog, f.target ?? '');
          return target ? `${f.name}(select=${target.primaryField})` : '';
        })
        .filter(Boolean)
        .join(',');
      const [schema, record] = await Promise.all([
        api.schema(entity.name, id ? 'update' : 'create'),
        id ? api.get(entity.name, id, expand ? { expand } : {}) : Promise.resolve(undefined),
      ]);
      const labels: Record<string, string> = {};
      if (record) {
        for (const f of lookups) {
          const value = record[f.name];
          const target = entityOf(catalog, f.target ?? '');
          if (value && typeof value === 'object' && target) {
            const v = value as Record<string, unknown>;
            labels[f.name] = String(v[target.primaryField] ?? v.id);
            record[f.name] = v.id;
          }
        }
      }
      setLoaded({ schema, record, labels });
      setProblem(undefined);
    } catch (error) {
      setProblem(toProblem(error));
    }
    // the schema follows the entity's fields
  }, [entity.name, id, schemaVersion]);

  useEffect(() => {
    void load();
  }, [load, token]);

  useTitle(
    loaded?.record
      ? `${String(loaded.record[entity.primaryField] ?? 'Record')} · ${entity.displayName}`
      : id
        ? entity.displayName
        : `New ${entity.displayName.toLowerCase()}`,
  );

  if (problem) {
    return (
      <>
        <PageHeader
          title={entity.displayName}
          breadcrumbs={[{ label: entity.pluralDisplayName, to: `/data/${entity.name}` }]}
        />
        <ProblemBanner problem={problem} onRetry={() => setToken((t) => t + 1)} />
      </>
    );
  }
  if (!loaded) return <Loading label={id ? 'Loading the record…' : 'Loading the form…'} />;
  return (
    <RecordForm
      key={`${loaded.record?.id ?? 'new'}:${loaded.record?.version ?? 0}:${schemaVersion}`}
      entity={entity}
      loaded={loaded}
      catalog={catalog}
      tab={tab}
      onReload={() => setToken((t) => t + 1)}
    />
  );
}

interface FormField {
  name: string;
  label: string;
  type: FieldTypeName;
  required: boolean;
  property: PropertySchema;
}

function RecordForm({
  entity,
  loaded,
  catalog,
  tab,
  onReload,
}: {
  entity: EntityDef;
  loaded: Loaded;
  catalog: Catalog;
  tab: RecordTab;
  onReload(): void;
}) {
  const { confirm, toast } = useOverlays();
  const { search } = useLocation();
  const { schema, record, labels } = loaded;
  const editing = record !== undefined;
  const allowed = useCan();
  const me = useMe();
  // what the caller may do with this very record (levels, row rules and shares), and why
  const recordId = record?.id;
  const access = useResource(
    useCallback(
      () => (recordId ? api.explain(entity.name, recordId) : Promise.resolve(undefined)),
      [entity.name, recordId],
    ),
  );
  const explained = access.data?.privileges;
  const may = (privilege: EntityPrivilege) => explained?.[privilege]?.allowed ?? allowed.allows(entity.name, privilege);
  // the form of a record its reader may not update is read-only, without a save button
  const maySave = !editing || may('update');
  const mayDelete = editing && may('delete');
  const mayShare = editing && (allowed.level(entity.name, 'share') !== 'none' || explained?.share?.allowed === true);
  const [dialog, setDialog] = useState<'share' | 'access'>();
  // secured fields the caller's roles may read but not change
  const lockedFields = useMemo(() => {
    const names = new Set(access.data?.readOnlyFields ?? []);
    for (const [name, p] of Object.entries(me.fields[entity.name] ?? {})) if (!p.update) names.add(name);
    return names;
  }, [access.data, me, entity.name]);

  // the form's fields, in schema order, from the schema's annotations (never the platform-maintained signals)
  const fields: FormField[] = useMemo(
    () =>
      Object.entries(schema.properties)
        .filter(([name, p]) => name !== 'id' && p['x-xrm-type'] && !p.readOnly)
        .filter(([name]) => !entity.fields.some((f) => f.name === name && isMaintained(f)))
        .map(([name, p]) => ({
          name,
          label: p.title ?? name,
          type: p['x-xrm-type']!,
          required: editing
            ? (entity.fields.find((f) => f.name === name)?.required ?? false)
            : (schema.required ?? []).includes(name),
          property: p,
        })),
    [schema, editing, entity.fields],
  );

  const initial = useMemo(() => {
    const values: Record<string, FormValue> = {};
    for (const f of fields) {
      if (record) values[f.name] = toFormValue(f.type, record[f.name]);
      else {
        const prefill = search.get(f.name);
        values[f.name] = prefill !== null ? toFormValue(f.type, prefill) : toFormValue(f.type, f.property.default);
      }
    }
    return values;
    // the prefill is read once, when the form opens
  }, [fields, record]);

  const [values, setValues] = useState<Record<string, FormValue>>(initial);
  const [lookupLabels, setLookupLabels] = useState<Record<string, string>>(labels);
  const [problem, setProblem] = useState<Problem>();
  const [clientErrors, setClientErrors] = useState<Map<string, string[]>>(new Map());
  const [saving, setSaving] = useState(false);
  const dirty = fields.some((f) => !formValueEquals(values[f.name] ?? '', initial[f.name] ?? ''));

  const fieldNames = new Set(fields.map((f) => f.name));
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const first = path.split('/')[1] ?? '';
    return fieldNames.has(first) ? first : undefined;
  });
  const errorOf = (name: string) => {
    const list = [...(clientErrors.get(name) ?? []), ...(byKey.get(name) ?? [])];
    return list.length ? list : undefined;
  };

  // leaving with unsaved changes asks first
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!maySave) return;
    setProblem(undefined);
    const body: Record<string, unknown> = {};
    const errors = new Map<string, string[]>();
    for (const f of fields) {
      if (lockedFields.has(f.name)) continue;
      const value = values[f.name] ?? '';
      if (editing && formValueEquals(value, initial[f.name] ?? '')) continue;
      const converted = fromFormValue(f.type, value);
      if (!converted.ok) {
        errors.set(f.name, [converted.error]);
        continue;
      }
      if (!editing && converted.value === null) continue;
      body[f.name] = converted.value;
    }
    setClientErrors(errors);
    if (errors.size) return;
    if (editing && !Object.keys(body).length) {
      toast('No changes to save');
      return;
    }
    setSaving(true);
    try {
      if (editing) {
        await api.update(entity.name, record.id, body, record.version);
        toast(`${entity.displayName} saved`);
        onReload();
      } else {
        const created = await api.create(entity.name, body);
        toast(`${entity.displayName} “${String(created[entity.primaryField] ?? created.id)}” created`);
        navigate(`/data/${entity.name}/${created.id}`, { replace: true });
      }
    } catch (error) {
      // field errors in words, by the field's type in the catalog
      setProblem(
        humanizeRecordProblem(
          toProblem(error),
          (path) => entity.fields.find((f) => f.name === path.split('/')[1]),
          (type) => fieldTypeOf(catalog, type)?.presentation.shape,
        ),
      );
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!record) return;
    const name = String(record[entity.primaryField] ?? record.id);
    const effects = await deleteEffects(catalog, entity, record.id);
    const ok = await confirm({
      title: `Delete ${entity.displayName.toLowerCase()} “${name}”?`,
      body: (
        <>
          <p>This permanently deletes the record. It cannot be undone.</p>
          {effects.length ? (
            <ul>
              {effects.map((e, i) => (
                <li key={i}>{e}</li>
              ))}
            </ul>
          ) : null}
        </>
      ),
      confirmLabel: `Delete ${entity.displayName.toLowerCase()}`,
      danger: true,
    });
    if (!ok) return;
    try {
      await api.remove(entity.name, record.id, record.version);
      toast(`${entity.displayName} “${name}” deleted`);
      navigate(`/data/${entity.name}`);
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  const title = record
    ? String(record[entity.primaryField] ?? '') || `(no ${entity.primaryField})`
    : `New ${entity.displayName.toLowerCase()}`;
  const readOnlyFields = entity.fields.filter((f) => !fieldNames.has(f.name));
  const recordLabel = record ? String(record[entity.primaryField] ?? record.id) : '';

  return (
    <>
      <PageHeader
        breadcrumbs={[{ label: entity.pluralDisplayName, to: `/data/${entity.name}` }]}
        title={title}
        subtitle={record ? entity.displayName : `Creates a record through POST /api/data/${entity.name}`}
        actions={
          record ? (
            <>
              <button
                type="button"
                className="btn"
                onClick={() => {
                  void access.reload();
                  setDialog('access');
                }}
              >
                Access
              </button>
              {mayShare ? (
                <button type="button" className="btn" onClick={() => setDialog('share')}>
                  Share
                </button>
              ) : null}
              {mayDelete ? (
                <button type="button" className="btn btn-danger" onClick={() => void remove()}>
                  Delete
                </button>
              ) : null}
            </>
          ) : undefined
        }
      />
      {record && dialog === 'share' ? (
        <ShareDialog
          entity={entity}
          id={record.id}
          recordLabel={recordLabel}
          onClose={() => {
            setDialog(undefined);
            // a share with the caller or one of their teams changes their own access
            void access.reload();
          }}
        />
      ) : null}
      {record && dialog === 'access' ? (
        <AccessDialog
          entity={entity}
          recordLabel={recordLabel}
          access={access.data}
          problem={access.problem}
          onRetry={() => void access.reload()}
          onClose={() => setDialog(undefined)}
        />
      ) : null}
      {record ? (
        <Tabs
          label={`${entity.displayName} record`}
          current={tab}
          tabs={[
            { id: 'record', label: 'Record', to: `/data/${entity.name}/${record.id}` },
            { id: 'history', label: 'History', to: `/data/${entity.name}/${record.id}/history` },
          ]}
        />
      ) : null}
      {record && tab === 'history' ? (
        <section id="tabpanel" role="tabpanel" aria-labelledby="tab-history" className="tabpanel">
          <RecordHistory entity={entity} id={record.id} />
        </section>
      ) : (
        <RecordPanel tabbed={record !== undefined}>
          {record ? <RecordAutomation entity={entity} recordId={record.id} onChanged={onReload} /> : null}
          <div className="record-layout">
            <form
              className="form card record-form"
              onSubmit={submit}
              noValidate
              aria-busy={saving}
              aria-label={`${entity.displayName} form`}
            >
              {problem ? (
                <>
                  <ProblemBanner problem={problem} errors={unmapped} />
                  {problem.status === 412 ? (
                    <button type="button" className="btn btn-small" onClick={onReload}>
                      Reload the record
                    </button>
                  ) : null}
                </>
              ) : null}
              <div className="form-grid">
                {fields.map((f) => {
                  const value = values[f.name] ?? '';
                  const onChange = (v: FormValue) => setValues((all) => ({ ...all, [f.name]: v }));
                  const locked = lockedFields.has(f.name);
                  const disabled = locked || !maySave;
                  const hint = locked
                    ? [f.property.description, 'secured: your roles may not change it'].filter(Boolean).join(' — ')
                    : f.property.description;
                  if (f.type === 'multiChoice') {
                    return (
                      <FieldGroup
                        key={f.name}
                        legend={
                          <>
                            {f.label}
                            {f.required ? (
                              <span className="required" aria-hidden="true">
                                {' '}
                                *
                              </span>
                            ) : null}
                          </>
                        }
                        error={errorOf(f.name)}
                        hint={hint}
                        className="span-2"
                      >
                        <MultiChoiceControl
                          name={f.name}
                          options={f.property['x-xrm-options'] ?? []}
                          value={value}
                          onChange={onChange}
                          disabled={disabled}
                        />
                      </FieldGroup>
                    );
                  }
                  const wide = ['longText', 'json', 'reference', 'partyList'].includes(f.type);
                  return (
                    <Field
                      key={f.name}
                      label={f.label}
                      required={f.required}
                      hint={hint ?? jsonHint(f.type)}
                      error={errorOf(f.name)}
                      className={wide ? 'span-2' : undefined}
                    >
                      {(c) => {
                        if (f.type === 'lookup') {
                          const target = entityOf(catalog, f.property['x-xrm-target'] ?? '');
                          if (!target) return <p className="muted small">Unknown target entity</p>;
                          return (
                            <LookupPicker
                              id={c.id}
                              describedBy={c.describedBy}
                              invalid={c.invalid}
                              target={target}
                              disabled={disabled}
                              value={String(value)}
                              initialLabel={lookupLabels[f.name]}
                              onChange={(v, label) => {
                                onChange(v);
                                setLookupLabels((all) => ({ ...all, [f.name]: label ?? '' }));
                              }}
                            />
                          );
                        }
                        return (
                          <ValueControl
                            id={c.id}
                            describedBy={c.describedBy}
                            invalid={c.invalid}
                            disabled={disabled}
                            spec={{
                              type: f.type,
                              required: f.required,
                              options: f.property['x-xrm-options'],
                              maxLength: f.property.maxLength,
                              minimum: f.property.minimum,
                              maximum: f.property.maximum,
                            }}
                            value={value}
                            onChange={(v) => {
                              onChange(v);
                              if (f.type === 'json' && clientErrors.has(f.name)) {
                                const c2 = fromFormValue('json', v);
                                if (c2.ok) setClientErrors((m) => new Map([...m].filter(([k]) => k !== f.name)));
                              }
                            }}
                          />
                        );
                      }}
                    </Field>
                  );
                })}
              </div>
              <div className="form-actions">
                {maySave ? (
                  <button type="submit" className="btn btn-primary" disabled={saving}>
                    {saving ? 'Saving…' : editing ? 'Save changes' : `Create ${entity.displayName.toLowerCase()}`}
                  </button>
                ) : (
                  <span className="muted small">Your roles do not allow changing this record.</span>
                )}
                <Link to={`/data/${entity.name}`} className="btn">
                  {editing ? 'Back to the list' : 'Cancel'}
                </Link>
                {dirty ? <span className="muted small">Unsaved changes</span> : null}
              </div>
            </form>
            {record ? (
              <aside className="card record-side" aria-label="Record details">
                <h2 className="card-title">Details</h2>
                <dl className="details">
                  {readOnlyFields.map((f) => (
                    <div key={f.name}>
                      <dt>{f.displayName}</dt>
                      <dd>
                        <ValueText type={f.type} value={record[f.name]} options={choiceOptions(catalog, f)} />
                      </dd>
                    </div>
                  ))}
                  <div>
                    <dt>Id</dt>
                    <dd className="mono small">{record.id}</dd>
                  </div>
                  <div>
                    <dt>Created</dt>
                    <dd>
                      <ValueText type="datetime" value={record.created_at} />
                    </dd>
                  </div>
                  <div>
                    <dt>Updated</dt>
                    <dd>
                      <ValueText type="datetime" value={record.updated_at} />
                    </dd>
                  </div>
                  <div>
                    <dt>Version</dt>
                    <dd>{String(record.version ?? '')}</dd>
                  </div>
                </dl>
              </aside>
            ) : null}
          </div>
          {record && entity.trackActivities ? (
            <RecordRelationship entity={entity} recordId={record.id} recordLabel={recordLabel} onChanged={onReload} />
          ) : null}
          {record && entity.navigations.length ? (
            <section className="related" aria-labelledby="related-title">
              <h2 id="related-title" className="section-title">
                Related records
              </h2>
              {entity.navigations.map((nav) => (
                <RelatedList key={nav.name} entity={entity} id={record.id} navigation={nav} />
              ))}
            </section>
          ) : null}
        </RecordPanel>
      )}
    </>
  );
}

/** What a JSON textarea holds (JSON fields, references and party lists). */
function jsonHint(type: FieldTypeName): string | undefined {
  if (type === 'json') return 'Any JSON value: an object, array, string, number…';
  if (type === 'reference') return 'JSON: {"entity": "…", "id": "…"}';
  if (type === 'partyList') return 'JSON: [{"role": "from", "address": "…"}, …] (roles: from, to, cc, attendee)';
  return undefined;
}

/** The record tab's panel (a new record has no tabs: its form stands alone). */
function RecordPanel({ tabbed, children }: { tabbed: boolean; children: ReactNode }) {
  if (!tabbed) return <>{children}</>;
  return (
    <section id="tabpanel" role="tabpanel" aria-labelledby="tab-record" className="tabpanel">
      {children}
    </section>
  );
}

/** What deleting a record does to records related to it, in words, from the model and counts. */
async function deleteEffects(catalog: Catalog, entity: EntityDef, id: string): Promise<string[]> {
  const effects: string[] = [];
  await Promise.all(
    entity.navigations.map(async (nav) => {
      let count = 0;
      try {
        count = (await api.related(entity.name, id, nav.name, { select: 'id', limit: 1, count: true })).totalCount ?? 0;
      } catch {
        return;
      }
      if (!count) return;
      if (nav.kind === 'manyToMany') {
        effects.push(
          `Its ${count} link${count === 1 ? '' : 's'} in “${navigationLabel(catalog, nav)}” ` +
            'are removed (the linked records stay).',
        );
        return;
      }
      const source = entityOf(catalog, nav.source);
      const field = source?.fields.find((f) => f.name === nav.field);
      const noun = count === 1 ? source?.displayName.toLowerCase() : source?.pluralDisplayName.toLowerCase();
      const what = `${count} ${noun} (${navigationLabel(catalog, nav)})`;
      const onDelete = field?.onDelete ?? (field?.required ? 'restrict' : 'setNull');
      if (onDelete === 'cascade')
        effects.push(`${what} referencing it through “${field?.displayName}” are deleted too.`);
      else if (onDelete === 'setNull')
        effects.push(`${what} referencing it keep existing; their “${field?.displayName}” is cleared.`);
      else effects.push(`${what} reference it: the deletion is refused until they no longer do.`);
    }),
  );
  return effects;
}
