/**
 * Add or change a field. The form shows exactly the options the chosen type takes (from
 * GET /api/metadata/field-types); a change sends only what differs (null removes an option).
 */
import { useId, useMemo, useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { entityOf, fieldTypeOf, typeLabel, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { EmptyState, Field, FieldGroup, PageHeader, ProblemBanner } from '../components/ui.tsx';
import { MultiChoiceControl, ValueControl } from '../records/widgets.tsx';
import { fromFormValue, toFormValue, type FormValue } from '../records/values.ts';
import { mapErrors, snakeName } from '../forms.ts';
import { Link, navigate, useTitle } from '../router.tsx';
import type {
  ChoiceOption,
  EntityDef,
  FieldDef,
  FieldOptionName,
  FieldTypeInfo,
  FieldTypeName,
  OnDelete,
  Problem,
} from '../types.ts';
import { ChoicesEditor, plainOptions, type EditableOption } from './ChoicesEditor.tsx';
import { ON_DELETE_LABELS } from './describe.ts';

interface FieldForm {
  name: string;
  displayName: string;
  description: string;
  type: FieldTypeName;
  required: boolean;
  /** Field security: only roles granting read see it, only roles granting update change it. */
  secured: boolean;
  unique: boolean;
  /** In the entity's full-text search (text-like types). */
  searchable: boolean;
  /** A B-tree index: fast filters and sorts on the field. */
  indexed: boolean;
  default: FormValue;
  min: string;
  max: string;
  minLength: string;
  maxLength: string;
  pattern: string;
  precision: string;
  scale: string;
  choiceSource: 'inline' | 'set';
  options: EditableOption[];
  choiceSet: string;
  target: string;
  onDelete: '' | OnDelete;
  inverseName: string;
  prefix: string;
  digits: string;
}

const NUMBER_OPTIONS = ['min', 'max', 'minLength', 'maxLength', 'precision', 'scale', 'digits'] as const;
const TEXT_OPTIONS = ['pattern', 'inverseName', 'prefix'] as const;

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

function formOf(field: FieldDef | undefined): FieldForm {
  const type = field?.type ?? 'text';
  return {
    name: field?.name ?? '',
    displayName: field?.displayName ?? '',
    description: field?.description ?? '',
    type,
    required: field?.required ?? false,
    secured: field?.secured === true,
    unique: field?.unique ?? false,
    searchable: field?.searchable ?? false,
    indexed: field?.indexed === true,
    default: field?.default === undefined ? (type === 'multiChoice' ? [] : '') : toFormValue(type, field.default),
    min: str(field?.min),
    max: str(field?.max),
    minLength: str(field?.minLength),
    maxLength: str(field?.maxLength),
    pattern: str(field?.pattern),
    precision: str(field?.precision),
    scale: str(field?.scale),
    choiceSource: field?.choiceSet ? 'set' : 'inline',
    options: field?.options ? field.options.map((o) => ({ ...o })) : [],
    choiceSet: field?.choiceSet ?? '',
    target: field?.target ?? '',
    onDelete: field?.onDelete ?? '',
    inverseName: str(field?.inverseName),
    prefix: str(field?.prefix),
    digits: str(field?.digits),
  };
}

/** The definition a form describes, with only the options its type takes. */
function definitionOf(
  form: FieldForm,
  options: readonly FieldOptionName[],
): { definition: Record<string, unknown>; errors: Map<string, string[]> } {
  const errors = new Map<string, string[]>();
  const def: Record<string, unknown> = { name: form.name.trim(), type: form.type, required: form.required };
  if (form.displayName.trim()) def.displayName = form.displayName.trim();
  if (form.description.trim()) def.description = form.description.trim();
  // only `secured: true` is stored: turning it off removes the option (null in a change)
  if (form.secured) def.secured = true;
  const has = (o: FieldOptionName) => options.includes(o);
  if (has('unique')) def.unique = form.unique;
  if (has('searchable')) def.searchable = form.searchable;
  if (has('indexed')) def.indexed = form.indexed;
  for (const o of NUMBER_OPTIONS) {
    if (!has(o) || !form[o].trim()) continue;
    const n = Number(form[o]);
    def[o] = Number.isFinite(n) ? n : form[o];
  }
  for (const o of TEXT_OPTIONS) {
    if (has(o) && form[o] !== '') def[o] = form[o];
  }
  if (has('options') && form.choiceSource === 'inline') def.options = plainOptions(form.options);
  if (has('choiceSet') && form.choiceSource === 'set' && form.choiceSet) def.choiceSet = form.choiceSet;
  if (has('target') && form.target) def.target = form.target;
  if (has('onDelete') && form.onDelete) def.onDelete = form.onDelete;
  if (has('default')) {
    const converted = fromFormValue(form.type, form.default);
    if (!converted.ok) errors.set('default', [converted.error]);
    else if (converted.value !== null) def.default = converted.value;
  }
  return { definition: def, errors };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** What a PATCH must send to turn `before` into `after`: changed keys, null for removed options. */
function patchOf(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === 'name') continue;
    if (!(key in after)) patch[key] = null;
    else if (!same(before[key], after[key])) patch[key] = after[key];
  }
  return patch;
}

const OPTION_ORDER: FieldOptionName[] = [
  'target',
  'onDelete',
  'inverseName',
  'options',
  'choiceSet',
  'precision',
  'scale',
  'prefix',
  'digits',
  'minLength',
  'maxLength',
  'min',
  'max',
  'pattern',
  'default',
  'unique',
  'indexed',
  'searchable',
];

/**
 * The options the form offers for a type: its own, but searchable only where it means full-text
 * search (on a type that also takes `indexed`, searchable without full text is only the older
 * spelling of indexed, which the server answers as `indexed: true, searchable: false`).
 */
function formOptions(info: FieldTypeInfo | undefined): FieldOptionName[] {
  const options: readonly FieldOptionName[] = info?.options ?? [];
  const plainSpelling = options.includes('indexed') && info?.capabilities.fullText !== true;
  return OPTION_ORDER.filter((o) => options.includes(o) && !(o === 'searchable' && plainSpelling));
}

export function FieldEditor({ entityName, fieldName }: { entityName: string; fieldName?: string }) {
  const catalog = useCatalog();
  const entity = entityOf(catalog, entityName);
  const original = fieldName ? entity?.fields.find((f) => f.name === fieldName) : undefined;
  useTitle(original ? `Field ${original.displayName}` : 'New field');

  if (!entity || (fieldName && !original)) {
    return (
      <EmptyState title={entity ? `${entity.displayName} has no field “${fieldName}”` : `No entity “${entityName}”`}>
        <Link to={entity ? `/entities/${entity.name}` : '/entities'}>Back</Link>
      </EmptyState>
    );
  }
  return <FieldEditorForm entity={entity} original={original} />;
}

function FieldEditorForm({ entity, original }: { entity: EntityDef; original: FieldDef | undefined }) {
  const securedId = useId();
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const [form, setForm] = useState<FieldForm>(() => formOf(original));
  const [nameTouched, setNameTouched] = useState(Boolean(original));
  const [problem, setProblem] = useState<Problem>();
  const [clientErrors, setClientErrors] = useState<Map<string, string[]>>(new Map());
  const [saving, setSaving] = useState(false);
  const editing = original !== undefined;

  const typeInfo = fieldTypeOf(catalog, form.type);
  const typeOptions = useMemo(() => formOptions(typeInfo), [typeInfo]);
  const has = (o: FieldOptionName) => typeOptions.includes(o);
  const set = <K extends keyof FieldForm>(key: K, value: FieldForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const [, first, ...rest] = path.split('/');
    if (!first) return undefined;
    if (first === 'options') return `options:${rest.join('/')}`;
    return first;
  });
  const errorOf = (key: string) => [...(byKey.get(key) ?? []), ...(clientErrors.get(key) ?? [])];
  const ruleErrors = ['required', 'unique', 'searchable', 'indexed'].flatMap(errorOf);
  const optionErrors = new Map<string, string[]>();
  for (const [key, messages] of byKey)
    if (key.startsWith('options:')) optionErrors.set(key.slice('options:'.length), messages);

  const choiceValues: ChoiceOption[] =
    form.choiceSource === 'set'
      ? (catalog.choiceSets.find((s) => s.name === form.choiceSet)?.options ?? [])
      : form.options.filter((o) => o.value);

  const changeType = (type: FieldTypeName) =>
    setForm((f) => ({
      ...f,
      type,
      default: type === 'multiChoice' ? [] : Array.isArray(f.default) ? '' : f.type === type ? f.default : '',
    }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    const { definition, errors } = definitionOf(form, typeOptions);
    setClientErrors(errors);
    if (errors.size) return;
    setSaving(true);
    try {
      if (editing) {
        const before = definitionOf(formOf(original), formOptions(fieldTypeOf(catalog, original.type))).definition;
        const patch = patchOf(before, definition);
        if (!Object.keys(patch).length) {
          toast('No changes to save');
          setSaving(false);
          return;
        }
        await api.updateField(entity.name, original.name, patch);
        await catalog.refresh();
        toast(`Field “${form.displayName || original.displayName}” saved`);
      } else {
        const field = await api.addField(entity.name, definition);
        await catalog.refresh();
        toast(`Field “${field.displayName}” added to ${entity.displayName}`);
      }
      navigate(`/entities/${entity.name}`);
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  const title = editing ? `Field “${original.displayName}”` : `Add a field to ${entity.displayName}`;

  return (
    <>
      <PageHeader
        breadcrumbs={[
          { label: 'Entities', to: '/entities' },
          { label: entity.displayName, to: `/entities/${entity.name}` },
        ]}
        title={title}
        subtitle={
          editing ? (
            <>
              Column{' '}
              <code>
                {entity.name}.{original.name}
              </code>
            </>
          ) : (
            'Adds a column to the table; existing records get the default or null.'
          )
        }
      />
      <form className="form card" onSubmit={submit} noValidate aria-busy={saving} aria-label={title}>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <div className="form-grid">
          <Field label="Display name" error={errorOf('displayName')}>
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={form.displayName}
                onChange={(e) => {
                  const v = e.target.value;
                  setForm((f) => ({ ...f, displayName: v, name: nameTouched ? f.name : snakeName(v) }));
                }}
              />
            )}
          </Field>
          <Field
            label="Name"
            required
            hint={editing ? 'A field cannot be renamed.' : 'lower_snake_case; the column and API name.'}
            error={errorOf('name')}
          >
            {(c) => (
              <input
                id={c.id}
                aria-required
                className="mono"
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={form.name}
                disabled={editing}
                spellCheck={false}
                autoComplete="off"
                onChange={(e) => {
                  set('name', e.target.value);
                  setNameTouched(true);
                }}
              />
            )}
          </Field>
          <Field
            label="Type"
            required
            hint={
              editing
                ? 'Type changes are made only when every stored value converts losslessly.'
                : typeInfo?.description
            }
            error={errorOf('type')}
          >
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={form.type}
                onChange={(e) => changeType(e.target.value as FieldTypeName)}
              >
                {catalog.fieldTypes.map((t) => (
                  <option key={t.name} value={t.name}>
                    {typeLabel(catalog, t.name)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Description" error={errorOf('description')}>
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={form.description}
                onChange={(e) => set('description', e.target.value)}
              />
            )}
          </Field>
        </div>

        <h2 className="section-title">{typeLabel(catalog, form.type)} options</h2>
        {typeInfo?.readOnly ? (
          <p className="muted small">Values are generated by the database; records cannot set them.</p>
        ) : null}
        <div className="form-grid">
          {has('target') ? (
            <Field
              label="Target entity"
              required
              hint={editing ? 'A lookup cannot be retargeted.' : 'The entity this lookup points at.'}
              error={errorOf('target')}
            >
              {(c) => (
                <select
                  id={c.id}
                  aria-required
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={form.target}
                  disabled={editing}
                  onChange={(e) => set('target', e.target.value)}
                >
                  <option value="">Choose an entity…</option>
                  {catalog.entities.map((e) => (
                    <option key={e.name} value={e.name}>
                      {e.displayName} ({e.name})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {has('onDelete') ? (
            <Field
              label="When the target record is deleted"
              hint="Default: restrict when required, else set null."
              error={errorOf('onDelete')}
            >
              {(c) => (
                <select
                  id={c.id}
                  aria-required
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={form.onDelete}
                  onChange={(e) => set('onDelete', e.target.value as FieldForm['onDelete'])}
                >
                  <option value="">Default</option>
                  {(Object.keys(ON_DELETE_LABELS) as OnDelete[]).map((k) => (
                    <option key={k} value={k}>
                      {ON_DELETE_LABELS[k]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {has('inverseName') ? (
            <Field
              label="Inverse relation name"
              hint="The one-to-many list on the target (default derived from this entity's plural name)."
              error={errorOf('inverseName')}
            >
              {(c) => (
                <input
                  id={c.id}
                  className="mono"
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={form.inverseName}
                  onChange={(e) => set('inverseName', e.target.value)}
                />
              )}
            </Field>
          ) : null}
          {has('options') && has('choiceSet') ? (
            <FieldGroup legend="Options come from" className="span-2">
              <div className="checks">
                <label className="check">
                  <input
                    type="radio"
                    name="choice-source"
                    checked={form.choiceSource === 'inline'}
                    onChange={() => set('choiceSource', 'inline')}
                  />
                  This field (inline options)
                </label>
                <label className="check">
                  <input
                    type="radio"
                    name="choice-source"
                    checked={form.choiceSource === 'set'}
                    onChange={() => set('choiceSource', 'set')}
                  />
                  A shared choice set
                </label>
              </div>
            </FieldGroup>
          ) : null}
          {has('choiceSet') && form.choiceSource === 'set' ? (
            <Field
              label="Choice set"
              required
              hint={<Link to="/choice-sets">Manage choice sets</Link>}
              error={errorOf('choiceSet')}
            >
              {(c) => (
                <select
                  id={c.id}
                  aria-required
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={form.choiceSet}
                  onChange={(e) => set('choiceSet', e.target.value)}
                >
                  <option value="">Choose a choice set…</option>
                  {catalog.choiceSets.map((s) => (
                    <option key={s.name} value={s.name}>
                      {s.displayName} ({s.options.length} options)
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {has('precision') ? (
            <NumberOption
              label="Precision"
              hint="Total digits (1–38, default 18)."
              k="precision"
              form={form}
              set={set}
              error={errorOf('precision')}
            />
          ) : null}
          {has('scale') ? (
            <NumberOption
              label="Scale"
              hint="Digits after the point (default 2)."
              k="scale"
              form={form}
              set={set}
              error={errorOf('scale')}
            />
          ) : null}
          {has('prefix') ? (
            <Field label="Prefix" hint="Text before the number, e.g. INV-." error={errorOf('prefix')}>
              {(c) => (
                <input
                  id={c.id}
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={form.prefix}
                  onChange={(e) => set('prefix', e.target.value)}
                />
              )}
            </Field>
          ) : null}
          {has('digits') ? (
            <NumberOption
              label="Digits"
              hint="Zero-padded width of the number."
              k="digits"
              form={form}
              set={set}
              error={errorOf('digits')}
            />
          ) : null}
          {has('minLength') ? (
            <NumberOption label="Minimum length" k="minLength" form={form} set={set} error={errorOf('minLength')} />
          ) : null}
          {has('maxLength') ? (
            <NumberOption
              label="Maximum length"
              hint={form.type === 'text' ? 'Default 255.' : undefined}
              k="maxLength"
              form={form}
              set={set}
              error={errorOf('maxLength')}
            />
          ) : null}
          {has('min') ? (
            <NumberOption label="Minimum value" k="min" form={form} set={set} error={errorOf('min')} />
          ) : null}
          {has('max') ? (
            <NumberOption label="Maximum value" k="max" form={form} set={set} error={errorOf('max')} />
          ) : null}
          {has('pattern') ? (
            <Field label="Pattern" hint="A regular expression every value must match." error={errorOf('pattern')}>
              {(c) => (
                <input
                  id={c.id}
                  className="mono"
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid}
                  value={form.pattern}
                  onChange={(e) => set('pattern', e.target.value)}
                />
              )}
            </Field>
          ) : null}
          {has('default') && form.type === 'multiChoice' ? (
            <FieldGroup legend="Default" error={errorOf('default')} hint="Set on new records that do not give a value.">
              <MultiChoiceControl
                name="default"
                options={choiceValues}
                value={form.default}
                onChange={(v) => set('default', v)}
              />
            </FieldGroup>
          ) : has('default') ? (
            <Field label="Default value" hint="Set on new records that do not give a value." error={errorOf('default')}>
              {(c) => (
                <ValueControl
                  id={c.id}
                  describedBy={c.describedBy}
                  invalid={c.invalid}
                  spec={{
                    type: form.type,
                    required: false,
                    options: form.type === 'choice' ? choiceValues : undefined,
                  }}
                  value={form.default}
                  onChange={(v) => set('default', v)}
                />
              )}
            </Field>
          ) : null}
        </div>
        {has('options') && form.choiceSource === 'inline' ? (
          <ChoicesEditor options={form.options} onChange={(options) => set('options', options)} errors={optionErrors} />
        ) : null}
        <FieldGroup legend="Rules">
          <div className="checks">
            <label className="check">
              <input type="checkbox" checked={form.required} onChange={(e) => set('required', e.target.checked)} />
              Required <span className="muted small">— every record must have a value</span>
            </label>
            {has('unique') ? (
              <label className="check">
                <input type="checkbox" checked={form.unique} onChange={(e) => set('unique', e.target.checked)} />
                Unique <span className="muted small">— no two records share a value</span>
              </label>
            ) : null}
            {has('searchable') ? (
              <label className="check">
                <input
                  type="checkbox"
                  checked={form.searchable}
                  onChange={(e) => set('searchable', e.target.checked)}
                />
                Full-text searchable <span className="muted small">— included in the entity's full-text search</span>
              </label>
            ) : null}
            {has('indexed') ? (
              <label className="check">
                <input type="checkbox" checked={form.indexed} onChange={(e) => set('indexed', e.target.checked)} />
                Indexed <span className="muted small">— a B-tree index makes filters and sorts on it fast</span>
              </label>
            ) : null}
          </div>
          {ruleErrors.length ? <p className="field-error">{ruleErrors.join('; ')}</p> : null}
        </FieldGroup>
        <FieldGroup legend="Field security" error={errorOf('secured')}>
          <label className="check">
            <input
              type="checkbox"
              aria-describedby={`${securedId}-hint`}
              aria-invalid={errorOf('secured').length > 0 || undefined}
              checked={form.secured}
              onChange={(e) => set('secured', e.target.checked)}
            />
            Secured (field security)
          </label>
          <p className="hint" id={`${securedId}-hint`}>
            Only roles granting read on this field see it (in records, filters, schemas and history); only roles
            granting update change it. Grant them in each role's “Secured fields”. The primary field cannot be secured
            {editing && entity.primaryField === original.name ? ' — and this is the primary field' : ''}.
          </p>
        </FieldGroup>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={saving}>
            {saving ? 'Saving…' : editing ? 'Save field' : 'Add field'}
          </button>
          <Link to={`/entities/${entity.name}`} className="btn">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}

type NumberKey = (typeof NUMBER_OPTIONS)[number];

function NumberOption({
  label,
  hint,
  k,
  form,
  set,
  error,
}: {
  label: string;
  hint?: string;
  k: NumberKey;
  form: FieldForm;
  set<K extends keyof FieldForm>(key: K, v: FieldForm[K]): void;
  error: string[];
}) {
  return (
    <Field label={label} hint={hint} error={error.length ? error : undefined}>
      {(c) => (
        <input
          id={c.id}
          type="number"
          aria-describedby={c.describedBy}
          aria-invalid={c.invalid}
          value={form[k]}
          onChange={(e) => set(k, e.target.value)}
        />
      )}
    </Field>
  );
}
