/** The control for a value of each field type (lookups use LookupPicker, multiple choice a checkbox group). */
import type { ChoiceOption, FieldTypeName } from '../types.ts';
import type { FormValue } from './values.ts';

export interface ValueSpec {
  type: FieldTypeName;
  required: boolean;
  options?: readonly ChoiceOption[];
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

export interface ControlProps {
  id: string;
  spec: ValueSpec;
  value: FormValue;
  onChange(value: FormValue): void;
  describedBy?: string;
  invalid?: boolean;
  disabled?: boolean;
}

/** Single-valued controls: text inputs, numbers, date and datetime pickers, selects, JSON (references, parties). */
export function ValueControl({ id, spec, value, onChange, describedBy, invalid, disabled }: ControlProps) {
  const common = {
    id,
    'aria-describedby': describedBy,
    'aria-invalid': invalid || undefined,
    'aria-required': spec.required || undefined,
    disabled,
  };
  const text = Array.isArray(value) ? '' : value;
  const set = (v: string) => onChange(v);
  switch (spec.type) {
    case 'longText':
      return (
        <textarea {...common} rows={4} value={text} maxLength={spec.maxLength} onChange={(e) => set(e.target.value)} />
      );
    case 'json':
    case 'reference':
    case 'partyList':
      return (
        <textarea
          {...common}
          rows={6}
          className="mono"
          spellCheck={false}
          value={text}
          onChange={(e) => set(e.target.value)}
        />
      );
    case 'integer':
    case 'bigInteger':
      return (
        <input
          {...common}
          type="number"
          step={1}
          inputMode="numeric"
          min={spec.minimum}
          max={spec.maximum}
          value={text}
          onChange={(e) => set(e.target.value)}
        />
      );
    case 'decimal':
    case 'money':
      return (
        <input
          {...common}
          type="number"
          step="any"
          inputMode="decimal"
          min={spec.minimum}
          max={spec.maximum}
          value={text}
          onChange={(e) => set(e.target.value)}
        />
      );
    case 'boolean':
      return (
        <select {...common} value={text} onChange={(e) => set(e.target.value)}>
          <option value="">{spec.required ? 'Choose…' : '(none)'}</option>
          <option value="true">Yes</option>
          <option value="false">No</option>
        </select>
      );
    case 'date':
      return <input {...common} type="date" value={text} onChange={(e) => set(e.target.value)} />;
    case 'datetime':
      return <input {...common} type="datetime-local" step={1} value={text} onChange={(e) => set(e.target.value)} />;
    case 'choice':
      return (
        <select {...common} value={text} onChange={(e) => set(e.target.value)}>
          <option value="">{spec.required ? 'Choose…' : '(none)'}</option>
          {(spec.options ?? []).map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
          {text && !(spec.options ?? []).some((o) => o.value === text) ? <option value={text}>{text}</option> : null}
        </select>
      );
    case 'email':
      return <input {...common} type="email" autoComplete="off" value={text} onChange={(e) => set(e.target.value)} />;
    case 'phone':
      return <input {...common} type="tel" autoComplete="off" value={text} onChange={(e) => set(e.target.value)} />;
    case 'url':
      return (
        <input
          {...common}
          type="url"
          autoComplete="off"
          placeholder="https://"
          value={text}
          onChange={(e) => set(e.target.value)}
        />
      );
    case 'uuid':
      return (
        <input
          {...common}
          type="text"
          className="mono"
          spellCheck={false}
          placeholder="00000000-0000-4000-8000-000000000000"
          value={text}
          onChange={(e) => set(e.target.value)}
        />
      );
    default:
      return (
        <input {...common} type="text" maxLength={spec.maxLength} value={text} onChange={(e) => set(e.target.value)} />
      );
  }
}

/** Multiple choice: one checkbox per option (render inside a FieldGroup, whose legend labels it). */
export function MultiChoiceControl({
  options,
  value,
  onChange,
  disabled,
  name,
}: {
  options: readonly ChoiceOption[];
  value: FormValue;
  onChange(v: string[]): void;
  disabled?: boolean;
  name: string;
}) {
  const selected = Array.isArray(value) ? value : [];
  if (!options.length) return <p className="muted small">No options defined.</p>;
  return (
    <div className="checks">
      {options.map((o) => (
        <label key={o.value} className="check">
          <input
            type="checkbox"
            name={name}
            value={o.value}
            disabled={disabled}
            checked={selected.includes(o.value)}
            onChange={(e) =>
              onChange(e.target.checked ? [...selected, o.value] : selected.filter((v) => v !== o.value))
            }
          />
          {o.label}
        </label>
      ))}
    </div>
  );
}
