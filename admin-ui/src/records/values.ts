/**
 * Field values between the API's JSON and form controls: every control holds a string (a
 * string[] for multiple choice; JSON text for json, reference and partyList), converted back to
 * JSON of the field's type on save.
 */
import { formatTemporal } from '../dates.tsx';
import { partiesText, referenceText } from '../relationships/text.ts';
import type { ChoiceOption, FieldTypeName } from '../types.ts';

export type FormValue = string | string[];

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** An RFC 3339 instant as the value of <input type="datetime-local"> (local time, seconds). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date}T${time}`;
}

export function toFormValue(type: FieldTypeName, value: unknown): FormValue {
  if (type === 'multiChoice') return Array.isArray(value) ? value.map(String) : [];
  if (value === null || value === undefined) return '';
  switch (type) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'datetime':
      return toLocalInput(String(value));
    case 'json':
    case 'reference':
    case 'partyList':
      return JSON.stringify(value, null, 2);
    case 'lookup':
      return typeof value === 'object' && value && 'id' in value
        ? String((value as { id: unknown }).id)
        : String(value);
    default:
      return String(value);
  }
}

export type Converted = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * A control's value as JSON for the API. Empty is null. Numbers that do not parse are sent as
 * typed, so the server's validation names the problem.
 */
export function fromFormValue(type: FieldTypeName, value: FormValue): Converted {
  if (Array.isArray(value)) return { ok: true, value: value.length ? value : null };
  const text = value;
  if (text.trim() === '') return { ok: true, value: null };
  switch (type) {
    case 'integer':
    case 'bigInteger':
    case 'decimal':
    case 'money': {
      const n = Number(text);
      return { ok: true, value: Number.isFinite(n) ? n : text };
    }
    case 'boolean':
      return { ok: true, value: text === 'true' };
    case 'datetime': {
      const d = new Date(text);
      return { ok: true, value: Number.isNaN(d.getTime()) ? text : d.toISOString() };
    }
    case 'json':
    case 'reference':
    case 'partyList':
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch (error) {
        return { ok: false, error: `is not valid JSON (${error instanceof Error ? error.message : 'parse error'})` };
      }
    default:
      return { ok: true, value: text };
  }
}

export function formValueEquals(a: FormValue, b: FormValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = Array.isArray(a) ? a : [];
    const y = Array.isArray(b) ? b : [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return a === b;
}

export function optionLabel(options: readonly ChoiceOption[] | undefined, value: unknown): string {
  const found = options?.find((o) => o.value === value);
  return found ? found.label : String(value);
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 10 });
const moneyFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 4 });

/** A value as text for grids and read-only displays (ValueText adds the ISO tooltip to dates). */
export function formatValue(
  type: FieldTypeName,
  value: unknown,
  options?: readonly ChoiceOption[],
  primary?: string,
): string {
  if (value === null || value === undefined) return '';
  switch (type) {
    case 'boolean':
      return value ? 'Yes' : 'No';
    case 'choice':
      return optionLabel(options, value);
    case 'multiChoice':
      return Array.isArray(value) ? value.map((v) => optionLabel(options, v)).join(', ') : String(value);
    case 'date':
    case 'datetime':
      return formatTemporal(type, value)?.text ?? '';
    case 'integer':
    case 'bigInteger':
    case 'decimal':
      return typeof value === 'number' ? numberFormat.format(value) : String(value);
    case 'money':
      return typeof value === 'number' ? moneyFormat.format(value) : String(value);
    case 'json': {
      const text = JSON.stringify(value);
      return text.length > 80 ? `${text.slice(0, 77)}…` : text;
    }
    case 'reference':
      return referenceText(value);
    case 'partyList':
      return partiesText(value);
    case 'lookup':
      if (typeof value === 'object') {
        const v = value as Record<string, unknown>;
        return String((primary ? v[primary] : undefined) ?? v.id ?? '');
      }
      return String(value);
    default:
      return String(value);
  }
}
