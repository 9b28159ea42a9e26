/** Controls the security forms share: picking names from a list, JSON attributes, a secret shown once. */
import { useId, useState } from 'react';
import { Field, FieldGroup } from '../components/ui.tsx';

export interface NameOption {
  value: string;
  label: string;
  hint?: string;
}

/** Checkboxes choosing some of `options` (roles, teams, members). */
export function NameChecks({
  legend,
  options,
  value,
  onChange,
  error,
  hint,
  empty,
  disabled,
}: {
  legend: string;
  options: NameOption[];
  value: string[];
  onChange(value: string[]): void;
  error?: string[];
  hint?: string;
  /** Said when there is nothing to choose from. */
  empty: string;
  disabled?: boolean;
}) {
  return (
    <FieldGroup legend={legend} error={error} hint={hint} className="span-2">
      {options.length ? (
        <div className="checks">
          {options.map((o) => (
            <label key={o.value} className="check">
              <input
                type="checkbox"
                disabled={disabled}
                checked={value.includes(o.value)}
                onChange={(e) => onChange(e.target.checked ? [...value, o.value] : value.filter((x) => x !== o.value))}
              />
              {o.label}
              {o.hint ? <span className="muted small"> {o.hint}</span> : null}
            </label>
          ))}
        </div>
      ) : (
        <p className="muted small">{empty}</p>
      )}
    </FieldGroup>
  );
}

/** The text of a user's attributes in the form ("" for none). */
export function attributesText(attributes: Record<string, unknown> | undefined): string {
  return attributes && Object.keys(attributes).length ? JSON.stringify(attributes, null, 2) : '';
}

/** The attributes a form's text holds, or why it does not hold an object. */
export function parseAttributes(
  text: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (!text.trim()) return { ok: true, value: {} };
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value))
      return { ok: true, value: value as Record<string, unknown> };
    return { ok: false, message: 'must be a JSON object, like {"region": "emea"}' };
  } catch (error) {
    return { ok: false, message: `is not valid JSON (${(error as Error).message})` };
  }
}

export function AttributesField({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange(value: string): void;
  error?: string[];
}) {
  return (
    <Field
      label="Attributes"
      hint={'A JSON object; row rules compare records with "$user.<attribute>".'}
      error={error}
      className="span-2"
    >
      {(c) => (
        <textarea
          id={c.id}
          rows={3}
          className="mono"
          placeholder='{"region": "emea"}'
          aria-describedby={c.describedBy}
          aria-invalid={c.invalid}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

/** A secret the server answers once (an API key): a warning, the value, a copy button. */
export function ShownOnce({
  title,
  label,
  value,
  warning,
  onDone,
}: {
  title: string;
  label: string;
  value: string;
  warning: string;
  onDone(): void;
}) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <section className="card secret-box" aria-labelledby={`${id}-title`}>
      <h2 className="card-title" id={`${id}-title`}>
        {title}
      </h2>
      <p className="secret-warning" role="note">
        {warning}
      </p>
      <div className="secret-row">
        <label htmlFor={`${id}-secret`} className="visually-hidden">
          {label}
        </label>
        <input id={`${id}-secret`} className="mono" readOnly value={value} onFocus={(e) => e.target.select()} />
        <button
          type="button"
          className="btn"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(value);
              setCopied(true);
            } catch {
              setCopied(false);
            }
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="btn" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </section>
  );
}
