/**
 * A rule's condition: the data browser's filter builder for the entity's fields, rows of relative
 * time on date and datetime fields (olderThan / withinLast / withinNext, merged into the condition
 * with "and"), and the raw JSON as a fallback for what neither can say (changedFrom / changedTo,
 * nested and/or/not, navigations).
 */
import { useId, useState } from 'react';
import { EMPTY_FILTER, FilterBuilder } from '../records/FilterBuilder.tsx';
import type { Column } from '../records/columns.ts';
import {
  conditionOf,
  DURATION_UNITS,
  EMPTY_CONDITION,
  newKey,
  RELATIVE_OPERATORS,
  splitCondition,
  type ConditionDraft,
  type DurationUnit,
  type RelativeOperator,
  type RelativeRow,
} from './rule-draft.ts';
import type { TriggerType } from './types.ts';

const RELATIVE_CODES = (
  <>
    <code>olderThan</code>, <code>withinLast</code>, <code>withinNext</code>
  </>
);

export function ConditionEditor({
  draft,
  onChange,
  columns,
  trigger,
  error,
}: {
  draft: ConditionDraft;
  onChange(draft: ConditionDraft): void;
  columns: Column[];
  trigger: TriggerType;
  error?: string[];
}) {
  const id = useId();
  const [editing, setEditing] = useState(false);
  const [note, setNote] = useState<string>();
  const dateColumns = columns.filter((c) => c.type === 'date' || c.type === 'datetime');
  const built = conditionOf(draft, columns);

  const toJson = () => {
    const value = built.ok ? built.value : undefined;
    setEditing(false);
    setNote(undefined);
    onChange({ ...draft, mode: 'json', json: value === undefined ? '' : JSON.stringify(value, null, 2) });
  };
  const toBuilder = () => {
    if (!draft.json.trim()) {
      setNote(undefined);
      onChange(EMPTY_CONDITION);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(draft.json);
    } catch {
      setNote('The JSON does not parse: correct it or empty it first.');
      return;
    }
    const split = splitCondition(parsed, columns);
    if (!split) {
      setNote('The builder cannot show this condition: keep editing it as JSON.');
      return;
    }
    setNote(undefined);
    onChange({ ...draft, ...split });
  };
  const updateRow = (key: number, patch: Partial<RelativeRow>) =>
    onChange({ ...draft, relative: draft.relative.map((r) => (r.key === key ? { ...r, ...patch } : r)) });

  return (
    <div className={`condition-editor${error ? ' field-invalid' : ''}`}>
      {draft.mode === 'json' ? (
        <div className="field">
          <label htmlFor={`${id}-json`}>Condition (JSON)</label>
          <textarea
            id={`${id}-json`}
            className="mono"
            rows={8}
            spellCheck={false}
            aria-invalid={error ? true : undefined}
            aria-describedby={`${id}-json-hint`}
            placeholder='{ "stage": { "eq": "open" }, "last_contact_at": { "olderThan": "P12D" } }'
            value={draft.json}
            onChange={(e) => onChange({ ...draft, json: e.target.value })}
          />
          <p className="hint" id={`${id}-json-hint`}>
            The query engine's filter, plus {RELATIVE_CODES} (ISO 8601 durations such as P12D) on date and datetime
            fields
            {trigger === 'event' ? (
              <>
                , and <code>changedFrom</code> / <code>changedTo</code> on the record's own fields
              </>
            ) : null}
            . Empty: every record.
          </p>
        </div>
      ) : (
        <>
          <div className="condition-summary">
            {built.ok && built.value !== undefined ? (
              <code className="wrap-anywhere">{JSON.stringify(built.value)}</code>
            ) : (
              <span className="muted small">
                No condition: {trigger === 'event' ? 'every change' : 'every record'}.
              </span>
            )}
            <button
              type="button"
              className="btn btn-small"
              aria-expanded={editing}
              onClick={() => setEditing((e) => !e)}
            >
              {draft.filter.rows.length ? 'Edit filter' : 'Add filter'}
            </button>
          </div>
          {editing ? (
            <FilterBuilder
              columns={columns}
              initial={draft.filter}
              onApply={(filter) => {
                onChange({ ...draft, filter });
                setEditing(false);
              }}
              onCancel={() => setEditing(false)}
            />
          ) : null}
          <fieldset className="fieldset relative-rows">
            <legend>Relative time</legend>
            {draft.relative.length === 0 ? (
              <p className="small muted">
                {dateColumns.length
                  ? 'E.g. “Last contact is older than 12 days”: compared with the time the rule runs.'
                  : 'This entity has no date or datetime field.'}
              </p>
            ) : null}
            <ol className="plain-list">
              {draft.relative.map((row, i) => (
                <li key={row.key} className="relative-row">
                  <div className="field">
                    <label htmlFor={`${id}-${row.key}-field`}>Date field</label>
                    <select
                      id={`${id}-${row.key}-field`}
                      value={row.field}
                      onChange={(e) => updateRow(row.key, { field: e.target.value })}
                    >
                      {dateColumns.map((c) => (
                        <option key={c.name} value={c.name}>
                          {c.label}
                        </option>
                      ))}
                    </select>
                  </div>
                  <div className="field">
                    <label htmlFor={`${id}-${row.key}-op`}>Test</label>
                    <select
                      id={`${id}-${row.key}-op`}
                      value={row.op}
                      onChange={(e) => updateRow(row.key, { op: e.target.value as RelativeOperator })}
                    >
                      {Object.entries(RELATIVE_OPERATORS).map(([op, label]) => (
                        <option key={op} value={op}>
                          {label}
                        </option>
                      ))}
                    </select>
                  </div>
                  <div className="field relative-amount">
                    <label htmlFor={`${id}-${row.key}-amount`}>Amount</label>
                    <input
                      id={`${id}-${row.key}-amount`}
                      type="number"
                      min={1}
                      step={1}
                      inputMode="numeric"
                      value={row.amount}
                      onChange={(e) => updateRow(row.key, { amount: e.target.value })}
                    />
                  </div>
                  <div className="field">
                    <label htmlFor={`${id}-${row.key}-unit`}>Unit</label>
                    <select
                      id={`${id}-${row.key}-unit`}
                      value={row.unit}
                      onChange={(e) => updateRow(row.key, { unit: e.target.value as DurationUnit })}
                    >
                      {Object.entries(DURATION_UNITS).map(([unit, spec]) => (
                        <option key={unit} value={unit}>
                          {spec.label}
                        </option>
                      ))}
                    </select>
                  </div>
                  <button
                    type="button"
                    className="btn btn-icon btn-danger-ghost"
                    aria-label={`Remove relative time ${i + 1}`}
                    onClick={() => onChange({ ...draft, relative: draft.relative.filter((r) => r.key !== row.key) })}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ol>
            {dateColumns.length ? (
              <button
                type="button"
                className="btn btn-small"
                onClick={() =>
                  onChange({
                    ...draft,
                    relative: [
                      ...draft.relative,
                      { key: newKey(), field: dateColumns[0]!.name, op: 'olderThan', amount: '7', unit: 'days' },
                    ],
                  })
                }
              >
                Add relative time
              </button>
            ) : null}
          </fieldset>
        </>
      )}
      <div className="form-actions condition-mode">
        {draft.mode === 'json' ? (
          <button type="button" className="btn btn-small" onClick={toBuilder}>
            Use the builder
          </button>
        ) : (
          <button type="button" className="btn btn-small" onClick={toJson}>
            Edit as JSON
          </button>
        )}
        {draft.mode === 'builder' && draft.filter.rows.length ? (
          <button type="button" className="btn btn-small" onClick={() => onChange({ ...draft, filter: EMPTY_FILTER })}>
            Clear filter
          </button>
        ) : null}
      </div>
      {note ? (
        <p className="small" role="status">
          {note}
        </p>
      ) : null}
      {!built.ok ? <p className="field-error">{built.error}</p> : null}
      {error ? <p className="field-error">{error.join('; ')}</p> : null}
    </div>
  );
}
