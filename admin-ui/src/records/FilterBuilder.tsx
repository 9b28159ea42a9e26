/**
 * Builds the query engine's JSON filter from rows of field + operator + value, combined with
 * "all" (and) or "any" (or). Operators per field come from GET /api/metadata/field-types.
 */
import { useId, useState, type FormEvent } from 'react';
import type { FieldTypeName, FilterOperator } from '../types.ts';
import type { Column } from './columns.ts';
import { LookupPicker } from './LookupPicker.tsx';
import { fromFormValue, toFormValue } from './values.ts';
import { ValueControl } from './widgets.tsx';

export interface FilterRow {
  field: string;
  op: FilterOperator;
  /** The operand as typed: one value, two for between, several for in/containsAny. */
  value: string;
  value2: string;
  values: string[];
  /** json: the path inside the value (dot-separated). */
  path: string;
}

export interface FilterState {
  combinator: 'and' | 'or';
  rows: FilterRow[];
}

export const EMPTY_FILTER: FilterState = { combinator: 'and', rows: [] };

const DATE_TYPES = new Set<FieldTypeName>(['date', 'datetime']);

export function operatorLabel(op: FilterOperator, type: FieldTypeName): string {
  const dates = DATE_TYPES.has(type);
  switch (op) {
    case 'eq':
      return type === 'multiChoice' ? 'is exactly' : 'equals';
    case 'ne':
      return 'does not equal';
    case 'gt':
      return dates ? 'is after' : 'is greater than';
    case 'gte':
      return dates ? 'is on or after' : 'is at least';
    case 'lt':
      return dates ? 'is before' : 'is less than';
    case 'lte':
      return dates ? 'is on or before' : 'is at most';
    case 'in':
      return 'is one of';
    case 'nin':
      return 'is none of';
    case 'between':
      return 'is between';
    case 'isNull':
      return 'is empty / not empty';
    case 'contains':
      return 'contains (case-sensitive)';
    case 'icontains':
      return 'contains';
    case 'startsWith':
      return 'starts with (case-sensitive)';
    case 'istartsWith':
      return 'starts with';
    case 'endsWith':
      return 'ends with (case-sensitive)';
    case 'iendsWith':
      return 'ends with';
    case 'containsAny':
      return 'has any of';
    case 'containsAll':
      return 'has all of';
    case 'jsonPathEq':
      return 'at path equals';
  }
}

/** The operators the builder offers for a column, most useful first. */
function operatorsFor(column: Column): FilterOperator[] {
  const preferred: FilterOperator[] = [
    'icontains',
    'containsAny',
    'containsAll',
    'jsonPathEq',
    'eq',
    'ne',
    'istartsWith',
    'iendsWith',
    'gt',
    'gte',
    'lt',
    'lte',
    'between',
    'in',
    'nin',
    'contains',
    'startsWith',
    'endsWith',
    'isNull',
  ];
  return preferred.filter((op) => column.operators.includes(op));
}

function emptyRow(column: Column): FilterRow {
  return { field: column.name, op: operatorsFor(column)[0] ?? 'eq', value: '', value2: '', values: [], path: '' };
}

const scalar = (column: Column, text: string): unknown => {
  if (column.type === 'multiChoice' || column.type === 'choice' || column.type === 'lookup' || column.type === 'uuid')
    return text;
  const converted = fromFormValue(column.type, text);
  return converted.ok ? converted.value : text;
};

/** One row as a JSON filter object, or an error message. */
function conditionOf(
  row: FilterRow,
  column: Column,
): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const wrap = (operand: unknown) => ({ ok: true as const, value: { [row.field]: { [row.op]: operand } } });
  switch (row.op) {
    case 'isNull':
      return wrap(row.value !== 'false');
    case 'between':
      if (!row.value.trim() || !row.value2.trim()) return { ok: false, error: 'Enter both bounds' };
      return wrap([scalar(column, row.value), scalar(column, row.value2)]);
    case 'in':
    case 'nin':
    case 'containsAny':
    case 'containsAll': {
      const list = column.options
        ? row.values
        : row.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
      if (!list.length)
        return { ok: false, error: column.options ? 'Choose at least one option' : 'Enter values separated by commas' };
      return wrap(list.map((v) => scalar(column, v)));
    }
    case 'jsonPathEq': {
      const path = row.path
        .split('.')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!path.length) return { ok: false, error: 'Enter a path inside the JSON value, e.g. address.city' };
      let operand: unknown = row.value;
      try {
        operand = JSON.parse(row.value);
      } catch {
        operand = row.value;
      }
      let node: Record<string, unknown> = { eq: operand };
      for (const key of [...path].reverse()) node = { [key]: node };
      return { ok: true, value: { [row.field]: node } };
    }
    default:
      if (column.type === 'multiChoice') {
        if (!row.values.length) return { ok: false, error: 'Choose at least one option' };
        return wrap(row.values);
      }
      if (row.value.trim() === '') return { ok: false, error: 'Enter a value' };
      return wrap(scalar(column, row.value));
  }
}

/** The JSON filter of a builder state (undefined when it has no rows), or the rows' errors. */
export function filterOf(
  state: FilterState,
  columns: Column[],
): { filter?: Record<string, unknown>; errors: Map<number, string> } {
  const errors = new Map<number, string>();
  const conditions: Record<string, unknown>[] = [];
  state.rows.forEach((row, i) => {
    const column = columns.find((c) => c.name === row.field);
    if (!column) return void errors.set(i, 'Unknown field');
    const c = conditionOf(row, column);
    if (c.ok) conditions.push(c.value);
    else errors.set(i, c.error);
  });
  if (!conditions.length) return { errors };
  if (conditions.length === 1) return { filter: conditions[0], errors };
  return { filter: { [state.combinator]: conditions }, errors };
}

/** Rows back from a JSON filter this builder produced (undefined when it has another shape). */
export function stateOf(filter: unknown, columns: Column[]): FilterState | undefined {
  if (!filter || typeof filter !== 'object' || Array.isArray(filter)) return undefined;
  const obj = filter as Record<string, unknown>;
  let combinator: 'and' | 'or' = 'and';
  let items: unknown[] = [obj];
  const keys = Object.keys(obj);
  if (keys.length === 1 && (keys[0] === 'and' || keys[0] === 'or') && Array.isArray(obj[keys[0]])) {
    combinator = keys[0];
    items = obj[keys[0]] as unknown[];
  }
  const rows: FilterRow[] = [];
  for (const item of items) {
    if (!item || typeof item !== 'object') return undefined;
    const entries = Object.entries(item as Record<string, unknown>);
    if (entries.length !== 1) return undefined;
    const [field, condition] = entries[0]!;
    const column = columns.find((c) => c.name === field);
    if (!column || !condition || typeof condition !== 'object') return undefined;
    if (column.type === 'json') {
      const path: string[] = [];
      let node = condition as Record<string, unknown>;
      while (!('eq' in node)) {
        const [k, v] = Object.entries(node)[0] ?? [];
        if (!k || !v || typeof v !== 'object') return undefined;
        path.push(k);
        node = v as Record<string, unknown>;
      }
      rows.push({ ...emptyRow(column), op: 'jsonPathEq', path: path.join('.'), value: JSON.stringify(node.eq) });
      continue;
    }
    const opEntries = Object.entries(condition as Record<string, unknown>);
    if (opEntries.length !== 1) return undefined;
    const [op, operand] = opEntries[0]!;
    if (!column.operators.includes(op as FilterOperator)) return undefined;
    const row: FilterRow = { ...emptyRow(column), op: op as FilterOperator };
    const text = (v: unknown) =>
      column.type === 'datetime' ? String(toFormValue('datetime', v)) : typeof v === 'string' ? v : JSON.stringify(v);
    if (op === 'isNull') row.value = operand ? 'true' : 'false';
    else if (op === 'between' && Array.isArray(operand)) {
      row.value = text(operand[0]);
      row.value2 = text(operand[1]);
    } else if (Array.isArray(operand)) {
      if (column.options) row.values = operand.map(String);
      else row.value = operand.map(text).join(', ');
    } else row.value = text(operand);
    rows.push(row);
  }
  return { combinator, rows };
}

export function FilterBuilder({
  columns,
  initial,
  onApply,
  onCancel,
}: {
  columns: Column[];
  initial: FilterState;
  onApply(state: FilterState): void;
  onCancel(): void;
}) {
  const [state, setState] = useState<FilterState>(
    initial.rows.length ? initial : { ...initial, rows: [emptyRow(columns[0]!)] },
  );
  const [errors, setErrors] = useState<Map<number, string>>(new Map());
  const id = useId();
  const filterable = columns.filter((c) => c.operators.length);

  const update = (index: number, patch: Partial<FilterRow>) =>
    setState((s) => ({ ...s, rows: s.rows.map((r, i) => (i === index ? { ...r, ...patch } : r)) }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { errors: rowErrors } = filterOf(state, columns);
    setErrors(rowErrors);
    if (!rowErrors.size) onApply(state);
  };

  const preview = filterOf(state, columns).filter;

  return (
    <form className="filter-builder card" onSubmit={submit} noValidate aria-label="Filter builder">
      <div className="filter-head">
        <h2 className="card-title">Filter</h2>
        {state.rows.length > 1 ? (
          <div className="field field-inline">
            <label htmlFor={`${id}-combinator`}>Match</label>
            <select
              id={`${id}-combinator`}
              value={state.combinator}
              onChange={(e) => setState((s) => ({ ...s, combinator: e.target.value as 'and' | 'or' }))}
            >
              <option value="and">all conditions (and)</option>
              <option value="or">any condition (or)</option>
            </select>
          </div>
        ) : null}
      </div>
      {state.rows.length === 0 ? <p className="muted small">No conditions: every record is shown.</p> : null}
      <ol className="filter-rows">
        {state.rows.map((row, i) => {
          const column = columns.find((c) => c.name === row.field) ?? filterable[0]!;
          const rowId = `${id}-row-${i}`;
          const error = errors.get(i);
          return (
            <li key={i} className={`filter-row${error ? ' field-invalid' : ''}`}>
              <div className="field">
                <label htmlFor={`${rowId}-field`}>Field</label>
                <select
                  id={`${rowId}-field`}
                  value={row.field}
                  onChange={(e) => {
                    const next = columns.find((c) => c.name === e.target.value)!;
                    update(i, emptyRow(next));
                  }}
                >
                  {filterable.map((c) => (
                    <option key={c.name} value={c.name}>
                      {c.label}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`${rowId}-op`}>Operator</label>
                <select
                  id={`${rowId}-op`}
                  value={row.op}
                  onChange={(e) =>
                    update(i, { op: e.target.value as FilterOperator, value: '', value2: '', values: [] })
                  }
                >
                  {operatorsFor(column).map((op) => (
                    <option key={op} value={op}>
                      {operatorLabel(op, column.type)}
                    </option>
                  ))}
                </select>
              </div>
              <div className="filter-operands">
                <OperandInputs rowId={rowId} row={row} column={column} onChange={(patch) => update(i, patch)} />
              </div>
              <button
                type="button"
                className="btn btn-icon btn-danger-ghost filter-remove"
                aria-label={`Remove condition ${i + 1}`}
                onClick={() => setState((s) => ({ ...s, rows: s.rows.filter((_, j) => j !== i) }))}
              >
                ×
              </button>
              {error ? <p className="field-error filter-error">{error}</p> : null}
            </li>
          );
        })}
      </ol>
      <div className="form-actions">
        <button
          type="button"
          className="btn btn-small"
          onClick={() => setState((s) => ({ ...s, rows: [...s.rows, emptyRow(filterable[0]!)] }))}
        >
          Add condition
        </button>
        <span className="spacer" />
        <button type="button" className="btn" onClick={onCancel}>
          Close
        </button>
        <button type="button" className="btn" onClick={() => onApply(EMPTY_FILTER)}>
          Clear filter
        </button>
        <button type="submit" className="btn btn-primary">
          Apply filter
        </button>
      </div>
      {preview ? (
        <details className="filter-preview">
          <summary>Query</summary>
          <code>filter={JSON.stringify(preview)}</code>
        </details>
      ) : null}
    </form>
  );
}

function OperandInputs({
  rowId,
  row,
  column,
  onChange,
}: {
  rowId: string;
  row: FilterRow;
  column: Column;
  onChange(patch: Partial<FilterRow>): void;
}) {
  const spec = { type: column.type, required: true, options: column.options };
  if (row.op === 'isNull') {
    return (
      <div className="field">
        <label htmlFor={`${rowId}-value`}>Value</label>
        <select id={`${rowId}-value`} value={row.value || 'true'} onChange={(e) => onChange({ value: e.target.value })}>
          <option value="true">is empty</option>
          <option value="false">is not empty</option>
        </select>
      </div>
    );
  }
  if (row.op === 'jsonPathEq') {
    return (
      <>
        <div className="field">
          <label htmlFor={`${rowId}-path`}>Path</label>
          <input
            id={`${rowId}-path`}
            className="mono"
            placeholder="address.city"
            value={row.path}
            onChange={(e) => onChange({ path: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${rowId}-value`}>Value (JSON)</label>
          <input
            id={`${rowId}-value`}
            className="mono"
            placeholder={'"Paris" or 42'}
            value={row.value}
            onChange={(e) => onChange({ value: e.target.value })}
          />
        </div>
      </>
    );
  }
  const many =
    row.op === 'in' ||
    row.op === 'nin' ||
    row.op === 'containsAny' ||
    row.op === 'containsAll' ||
    (column.type === 'multiChoice' && row.op === 'eq');
  if (many && column.options) {
    return (
      <div className="field">
        <label htmlFor={`${rowId}-value`}>Values</label>
        <select
          id={`${rowId}-value`}
          multiple
          size={Math.min(4, Math.max(2, column.options.length))}
          value={row.values}
          onChange={(e) => onChange({ values: [...e.target.selectedOptions].map((o) => o.value) })}
        >
          {column.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
    );
  }
  if (many) {
    return (
      <div className="field">
        <label htmlFor={`${rowId}-value`}>Values (comma-separated)</label>
        <input id={`${rowId}-value`} value={row.value} onChange={(e) => onChange({ value: e.target.value })} />
      </div>
    );
  }
  if (column.type === 'lookup' && column.target && (row.op === 'eq' || row.op === 'ne')) {
    return (
      <div className="field">
        <label htmlFor={`${rowId}-value`}>Value</label>
        <LookupPicker
          id={`${rowId}-value`}
          target={column.target}
          value={row.value}
          onChange={(v) => onChange({ value: v })}
          showOpenLink={false}
        />
      </div>
    );
  }
  const textOp = ['contains', 'icontains', 'startsWith', 'istartsWith', 'endsWith', 'iendsWith'].includes(row.op);
  const valueSpec = textOp ? { ...spec, type: 'text' as const } : spec;
  if (row.op === 'between') {
    return (
      <>
        <div className="field">
          <label htmlFor={`${rowId}-value`}>From</label>
          <ValueControl
            id={`${rowId}-value`}
            spec={valueSpec}
            value={row.value}
            onChange={(v) => onChange({ value: String(v) })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${rowId}-value2`}>To</label>
          <ValueControl
            id={`${rowId}-value2`}
            spec={valueSpec}
            value={row.value2}
            onChange={(v) => onChange({ value2: String(v) })}
          />
        </div>
      </>
    );
  }
  return (
    <div className="field">
      <label htmlFor={`${rowId}-value`}>Value</label>
      <ValueControl
        id={`${rowId}-value`}
        spec={valueSpec.type === 'longText' || valueSpec.type === 'json' ? { ...valueSpec, type: 'text' } : valueSpec}
        value={row.value}
        onChange={(v) => onChange({ value: String(v) })}
      />
    </div>
  );
}
