/**
 * A rule's actions: a list to add to, reorder and remove from, each action with the controls of
 * its type — field pickers and values (templates allowed) for update and create, text for email and
 * notify, the proposed actions of a suggestion — and the server's errors at their paths.
 */
import { useId, useState } from 'react';
import { choiceOptions, entityOf, useCatalog } from '../catalog.tsx';
import { Field } from '../components/ui.tsx';
import { fieldErrorMessage } from '../field-errors.ts';
import type { EntityDef, FieldDef } from '../types.ts';
import {
  ACTION_LABELS,
  ACTION_TYPES,
  actionDraft,
  newKey,
  targetOf,
  type ActionDraft,
  type PathErrors,
  type ValueRow,
} from './rule-draft.ts';
import { TemplateInput } from './templates.tsx';
import type { ActionType } from './types.ts';

interface ListProps {
  actions: ActionDraft[];
  onChange(actions: ActionDraft[]): void;
  /** The list's path in the rule ("/actions", "/actions/0/actions"). */
  path: string;
  entity: EntityDef;
  errors: PathErrors;
  /** A suggestion's proposed actions (they cannot suggest). */
  nested?: boolean;
}

export function ActionsEditor({ actions, onChange, path, entity, errors, nested }: ListProps) {
  const id = useId();
  const types = nested ? ACTION_TYPES.filter((t) => t !== 'suggest') : ACTION_TYPES;
  const [adding, setAdding] = useState<ActionType>(nested ? 'update' : 'notify');
  const noun = nested ? 'proposed action' : 'action';
  const Noun = nested ? 'Proposed action' : 'Action';
  const move = (from: number, to: number) => {
    const next = [...actions];
    const [item] = next.splice(from, 1);
    next.splice(to, 0, item!);
    onChange(next);
  };
  const listError = errors.at(path);
  return (
    <div className={`action-editor-list${nested ? ' action-editor-nested' : ''}`}>
      {listError ? <p className="field-error">{listError.join('; ')}</p> : null}
      <ol className="plain-list action-editors">
        {actions.map((action, i) => {
          const p = `${path}/${i}`;
          const own = errors.at(p);
          return (
            <li key={action.key}>
              <section className="action-editor" aria-label={`${Noun} ${i + 1}`}>
                <div className="action-editor-head">
                  <div className="field field-inline">
                    <label htmlFor={`${id}-${action.key}-type`}>
                      {Noun} {i + 1}
                    </label>
                    <select
                      id={`${id}-${action.key}-type`}
                      value={action.type}
                      aria-invalid={errors.at(`${p}/type`) ? true : undefined}
                      onChange={(e) =>
                        onChange(
                          actions.map((a) => (a.key === action.key ? { ...a, type: e.target.value as ActionType } : a)),
                        )
                      }
                    >
                      {types.map((t) => (
                        <option key={t} value={t}>
                          {ACTION_LABELS[t]}
                        </option>
                      ))}
                    </select>
                  </div>
                  <span className="spacer" />
                  <button
                    type="button"
                    className="btn btn-small"
                    aria-label={`Move ${noun} ${i + 1} up`}
                    disabled={i === 0}
                    onClick={() => move(i, i - 1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="btn btn-small"
                    aria-label={`Move ${noun} ${i + 1} down`}
                    disabled={i === actions.length - 1}
                    onClick={() => move(i, i + 1)}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    className="btn btn-small btn-danger-ghost"
                    aria-label={`Remove ${noun} ${i + 1}`}
                    onClick={() => onChange(actions.filter((a) => a.key !== action.key))}
                  >
                    Remove
                  </button>
                </div>
                {own || errors.at(`${p}/type`) ? (
                  <p className="field-error">{[...(own ?? []), ...(errors.at(`${p}/type`) ?? [])].join('; ')}</p>
                ) : null}
                <ActionFields
                  action={action}
                  path={p}
                  entity={entity}
                  errors={errors}
                  onChange={(next) => onChange(actions.map((a) => (a.key === action.key ? next : a)))}
                />
              </section>
            </li>
          );
        })}
      </ol>
      <div className="form-actions action-add">
        <div className="field field-inline">
          <label htmlFor={`${id}-add`}>{nested ? 'Propose' : 'New action'}</label>
          <select id={`${id}-add`} value={adding} onChange={(e) => setAdding(e.target.value as ActionType)}>
            {types.map((t) => (
              <option key={t} value={t}>
                {ACTION_LABELS[t]}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            const draft = actionDraft(adding);
            if (adding === 'update' || adding === 'create') draft.values = [];
            onChange([...actions, draft]);
          }}
        >
          {nested ? 'Add proposed action' : 'Add action'}
        </button>
      </div>
    </div>
  );
}

function ActionFields({
  action,
  path,
  entity,
  errors,
  onChange,
}: {
  action: ActionDraft;
  path: string;
  entity: EntityDef;
  errors: PathErrors;
  onChange(action: ActionDraft): void;
}) {
  const catalog = useCatalog();
  const set = (patch: Partial<ActionDraft>) => onChange({ ...action, ...patch });
  const text = (
    key: 'url' | 'name' | 'to' | 'subject' | 'text' | 'reason' | 'body',
    label: string,
    options: { hint?: string; multiline?: boolean; templates?: boolean; required?: boolean; wide?: boolean } = {},
  ) => (
    <Field
      label={label}
      required={options.required ?? true}
      hint={options.hint}
      error={errors.at(`${path}/${key}`)}
      className={options.wide || options.multiline ? 'span-2' : undefined}
    >
      {(c) =>
        options.templates === false ? (
          <input
            id={c.id}
            aria-describedby={c.describedBy}
            aria-invalid={c.invalid || undefined}
            className="mono"
            value={action[key]}
            onChange={(e) => set({ [key]: e.target.value })}
          />
        ) : options.multiline ? (
          <TemplateInput
            multiline
            id={c.id}
            rows={4}
            aria-describedby={c.describedBy}
            aria-invalid={c.invalid || undefined}
            value={action[key]}
            onChange={(v) => set({ [key]: v })}
          />
        ) : (
          <TemplateInput
            id={c.id}
            aria-describedby={c.describedBy}
            aria-invalid={c.invalid || undefined}
            value={action[key]}
            onChange={(v) => set({ [key]: v })}
          />
        )
      }
    </Field>
  );

  switch (action.type) {
    case 'update': {
      const lookups = entity.fields.filter((f) => f.type === 'lookup');
      const target = targetOf(action, entity, catalog.entities);
      return (
        <div className="form-grid">
          <Field
            label="Record to update"
            error={errors.at(`${path}/via`)}
            hint={lookups.length ? 'This record, or the record one of its lookups points at.' : undefined}
          >
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid || undefined}
                value={action.via}
                onChange={(e) => set({ via: e.target.value })}
              >
                <option value="">This {entity.displayName.toLowerCase()}</option>
                {lookups.map((f) => (
                  <option key={f.name} value={f.name}>
                    Its {f.displayName} ({entityOf(catalog, f.target ?? '')?.displayName ?? f.target})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <ValuesEditor action={action} path={path} target={target} errors={errors} onChange={onChange} />
        </div>
      );
    }
    case 'create': {
      const target = targetOf(action, entity, catalog.entities);
      return (
        <div className="form-grid">
          <Field label="Entity" required error={errors.at(`${path}/entity`)}>
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid || undefined}
                aria-required
                value={action.entity}
                onChange={(e) => set({ entity: e.target.value, values: [] })}
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
          <ValuesEditor action={action} path={path} target={target} errors={errors} onChange={onChange} />
        </div>
      );
    }
    case 'webhook':
      return (
        <div className="form-grid">
          {text('url', 'URL', {
            templates: false,
            wide: true,
            hint:
              'An http(s) receiver; it gets the rule, the entity and the record as JSON. ' +
              'Internal addresses are refused.',
          })}
        </div>
      );
    case 'message':
      return (
        <div className="form-grid">
          {text('name', 'Custom message', { templates: false, hint: "A plugin's custom message, by name." })}
          <Field
            label="Input (JSON object)"
            hint="Optional; strings may hold templates."
            error={errors.at(`${path}/input`)}
            className="span-2"
          >
            {(c) => (
              <TemplateInput
                multiline
                id={c.id}
                rows={4}
                className="mono"
                spellCheck={false}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid || undefined}
                value={action.input}
                onChange={(v) => set({ input: v })}
              />
            )}
          </Field>
        </div>
      );
    case 'email':
      return (
        <div className="form-grid">
          {text('to', 'To', { hint: '“owner” (the record owner’s email), an address, or a template.' })}
          {text('subject', 'Subject')}
          {text('body', 'Body', { multiline: true })}
        </div>
      );
    case 'notify':
      return (
        <div className="form-grid">
          {text('to', 'To', { hint: '“owner” (the record owner), a user id or a user email.' })}
          {text('text', 'Text', { wide: true })}
        </div>
      );
    case 'suggest':
      return (
        <div className="form-grid">
          {text('reason', 'Reason', { wide: true, hint: 'Shown to the record owner, who approves or dismisses.' })}
          <div className="span-2">
            <ActionsEditor
              nested
              actions={action.actions}
              onChange={(actions) => set({ actions })}
              path={`${path}/actions`}
              entity={entity}
              errors={errors}
            />
          </div>
        </div>
      );
  }
}

/** What a value looks like for a field's type (templates are always allowed). */
function valueHint(field: FieldDef | undefined): string | undefined {
  switch (field?.type) {
    case 'date':
      return 'YYYY-MM-DD, or {{now + P7D}}';
    case 'datetime':
      return 'An ISO date-time, or {{now + P2D}}';
    case 'boolean':
      return 'true or false';
    case 'lookup':
      return 'A record id, or a template such as {{record.id}}';
    case 'multiChoice':
      return 'Values separated by commas';
    case 'json':
      return 'JSON';
    default:
      return undefined;
  }
}

function ValuesEditor({
  action,
  path,
  target,
  errors,
  onChange,
}: {
  action: ActionDraft;
  path: string;
  target: EntityDef | undefined;
  errors: PathErrors;
  onChange(action: ActionDraft): void;
}) {
  const id = useId();
  const catalog = useCatalog();
  const fields = target?.fields ?? [];
  const setRows = (values: ValueRow[]) => onChange({ ...action, values });
  const update = (key: number, patch: Partial<ValueRow>) =>
    setRows(action.values.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const shape = (field: FieldDef | undefined) =>
    field ? catalog.fieldTypes.find((t) => t.name === field.type)?.presentation.shape : undefined;
  const listError = errors.at(`${path}/values`);
  return (
    <fieldset className="fieldset span-2 values-editor">
      <legend>Values{target ? ` of the ${target.displayName.toLowerCase()}` : ''}</legend>
      {!target ? <p className="small muted">Choose the entity first.</p> : null}
      <ol className="plain-list">
        {action.values.map((row) => {
          const field = fields.find((f) => f.name === row.field);
          const options =
            field?.type === 'choice' || field?.type === 'multiChoice'
              ? choiceOptions(catalog, field)
              : field?.type === 'boolean'
                ? [
                    { value: 'true', label: 'true' },
                    { value: 'false', label: 'false' },
                  ]
                : [];
          const rowErrors = row.field ? errors.at(`${path}/values/${row.field}`) : undefined;
          const messages = rowErrors?.map((m) =>
            fieldErrorMessage(field && { pattern: field.pattern, shape: shape(field) }, m),
          );
          const hint = valueHint(field);
          return (
            <li key={row.key} className={`value-row${messages ? ' field-invalid' : ''}`}>
              <div className="field">
                <label htmlFor={`${id}-${row.key}-field`}>Field</label>
                <select
                  id={`${id}-${row.key}-field`}
                  value={row.field}
                  onChange={(e) => update(row.key, { field: e.target.value })}
                >
                  <option value="">Choose a field…</option>
                  {fields.map((f) => (
                    <option
                      key={f.name}
                      value={f.name}
                      disabled={f.name !== row.field && action.values.some((r) => r.field === f.name)}
                    >
                      {f.displayName}
                    </option>
                  ))}
                  <option value="owner_id">Owner (user id)</option>
                </select>
              </div>
              <div className="field value-text">
                <label htmlFor={`${id}-${row.key}-value`}>{field?.displayName ?? 'Value'}</label>
                <TemplateInput
                  id={`${id}-${row.key}-value`}
                  list={options.length ? `${id}-${row.key}-options` : undefined}
                  aria-invalid={messages ? true : undefined}
                  aria-describedby={hint || messages ? `${id}-${row.key}-hint` : undefined}
                  placeholder={row.field ? 'empty clears the field' : undefined}
                  value={row.text}
                  onChange={(v) => update(row.key, { text: v })}
                />
                {options.length ? (
                  <datalist id={`${id}-${row.key}-options`}>
                    {options.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                  </datalist>
                ) : null}
                {hint || messages ? (
                  <p className={messages ? 'field-error' : 'hint'} id={`${id}-${row.key}-hint`}>
                    {messages ? messages.join('; ') : hint}
                  </p>
                ) : null}
              </div>
              <button
                type="button"
                className="btn btn-icon btn-danger-ghost"
                aria-label={`Remove the value of ${field?.displayName ?? 'this field'}`}
                onClick={() => setRows(action.values.filter((r) => r.key !== row.key))}
              >
                ×
              </button>
            </li>
          );
        })}
      </ol>
      {listError ? <p className="field-error">{listError.join('; ')}</p> : null}
      {target ? (
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            const free = fields.find((f) => !action.values.some((r) => r.field === f.name));
            setRows([...action.values, { key: newKey(), field: free?.name ?? '', text: '' }]);
          }}
        >
          Add field
        </button>
      ) : null}
    </fieldset>
  );
}
