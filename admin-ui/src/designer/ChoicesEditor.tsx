/** Editable list of choice options: value (stored) and label (shown), reorderable. */
import { useId } from 'react';
import { TableHead } from '../components/ui.tsx';
import { snakeName } from '../forms.ts';
import type { ChoiceOption } from '../types.ts';

/** An option being edited; `auto` while its value still follows its label (new options only). */
export type EditableOption = ChoiceOption & { auto?: boolean };

/** The options as the API takes them. */
export const plainOptions = (options: EditableOption[]): ChoiceOption[] =>
  options.map(({ value, label }) => ({ value, label }));

export interface ChoicesEditorProps {
  options: EditableOption[];
  onChange(options: EditableOption[]): void;
  /** Server errors keyed by path below the options ("0/value", "1/label", "" for the list). */
  errors?: Map<string, string[]>;
  /** Heading of the group. */
  legend?: string;
}

export function ChoicesEditor({ options, onChange, errors, legend = 'Options' }: ChoicesEditorProps) {
  const id = useId();
  const update = (index: number, patch: Partial<EditableOption>) =>
    onChange(options.map((o, i) => (i === index ? { ...o, ...patch } : o)));
  const move = (index: number, delta: number) => {
    const next = [...options];
    const [item] = next.splice(index, 1);
    next.splice(index + delta, 0, item!);
    onChange(next);
  };
  const listErrors = errors?.get('') ?? [];

  return (
    <fieldset className="field fieldset choices">
      <legend>{legend}</legend>
      {options.length ? (
        <table className="choices-table">
          <TableHead columns={['Label', 'Value (stored)']} actions="Order and removal" />
          <tbody>
            {options.map((o, i) => {
              const valueErrors = errors?.get(`${i}/value`) ?? errors?.get(`${i}`) ?? [];
              const labelErrors = errors?.get(`${i}/label`) ?? [];
              return (
                <tr key={i}>
                  <td>
                    <label htmlFor={`${id}-label-${i}`} className="visually-hidden">
                      Option {i + 1} label
                    </label>
                    <input
                      id={`${id}-label-${i}`}
                      value={o.label}
                      aria-invalid={labelErrors.length > 0 || undefined}
                      onChange={(e) =>
                        update(
                          i,
                          o.auto
                            ? { label: e.target.value, value: snakeName(e.target.value) }
                            : { label: e.target.value },
                        )
                      }
                    />
                    {labelErrors.length ? <p className="field-error">{labelErrors.join('; ')}</p> : null}
                  </td>
                  <td>
                    <label htmlFor={`${id}-value-${i}`} className="visually-hidden">
                      Option {i + 1} value
                    </label>
                    <input
                      id={`${id}-value-${i}`}
                      className="mono"
                      value={o.value}
                      spellCheck={false}
                      aria-invalid={valueErrors.length > 0 || undefined}
                      onChange={(e) => update(i, { value: e.target.value, auto: false })}
                    />
                    {valueErrors.length ? <p className="field-error">{valueErrors.join('; ')}</p> : null}
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="btn btn-icon"
                      aria-label={`Move option ${i + 1} up`}
                      disabled={i === 0}
                      onClick={() => move(i, -1)}
                    >
                      ↑
                    </button>
                    <button
                      type="button"
                      className="btn btn-icon"
                      aria-label={`Move option ${i + 1} down`}
                      disabled={i === options.length - 1}
                      onClick={() => move(i, 1)}
                    >
                      ↓
                    </button>
                    <button
                      type="button"
                      className="btn btn-icon btn-danger-ghost"
                      aria-label={`Remove option ${i + 1}`}
                      onClick={() => onChange(options.filter((_, j) => j !== i))}
                    >
                      ×
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="muted small">No options yet.</p>
      )}
      <button
        type="button"
        className="btn btn-small"
        onClick={() => onChange([...options, { value: '', label: '', auto: true }])}
      >
        Add option
      </button>
      <p className="hint">
        The value is stored in records and used in filters; the label is what people see. A new option's value follows
        its label until you edit it.
      </p>
      {listErrors.length ? <p className="field-error">{listErrors.join('; ')}</p> : null}
    </fieldset>
  );
}
