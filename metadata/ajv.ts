import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject, SchemaValidateFunction } from 'ajv';
import type { FieldError } from './errors.ts';
import { isDate, isDateTime, textProblem } from './formats.ts';
import { re2Engine } from './regex.ts';

/**
 * Decimal places of a JSON number as it travels (its shortest round-trip form, which is also what
 * PostgreSQL receives): 1.005 has 3, 1e-7 has 7, 1.5e3 has 0.
 */
export function decimalPlaces(value: number): number {
  if (!Number.isFinite(value)) return Infinity;
  const [mantissa = '', exponent = '0'] = String(value).toLowerCase().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** `x-xrm-scale`: a number with at most this many decimal places (a numeric column's scale). */
function scaleKeyword(ajv: Ajv2020): void {
  const validate: SchemaValidateFunction = (scale: number, data: number): boolean => {
    if (decimalPlaces(data) <= scale) return true;
    validate.errors = [
      {
        keyword: 'x-xrm-scale',
        message: `must have at most ${scale} decimal place${scale === 1 ? '' : 's'}`,
        params: { scale },
      },
    ];
    return false;
  };
  ajv.addKeyword({ keyword: 'x-xrm-scale', type: 'number', schemaType: 'number', errors: true, validate });
}

/** A JSON Schema 2020-12 validator with the standard formats (email, uri, date, date-time, uuid). */
export function createAjv(): Ajv2020 {
  // patterns (admins' among them) run on RE2's linear-time engine: no pattern can stall a request
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    coerceTypes: false,
    useDefaults: false,
    // every schema compiled here is the platform's own: the definition document, and schemas the
    // field types generate from definitions already validated. Checking them against the 2020-12
    // meta-schema made each new instance compile that meta-schema first: 116–156 ms at the first
    // validator after every schema change (one instance per catalog version) and at every start.
    // tests/schema-meta.test.ts checks them against it instead.
    validateSchema: false,
    code: { regExp: re2Engine },
  });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  // the database's own rules, not RFC 3339's wider ones (formats.ts)
  ajv.addFormat('date', { type: 'string', validate: isDate });
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  scaleKeyword(ajv);
  return ajv;
}

/** Ajv errors as field errors, paths as JSON Pointers into the validated document. */
export function toFieldErrors(errors: readonly ErrorObject[] | null | undefined, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors ?? []) {
    let path = prefix + e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const prop = String((e.params as { additionalProperty: string }).additionalProperty);
      path = `${path}/${prop}`;
      message = `unknown property "${prop}"`;
    } else if (e.keyword === 'required') {
      const prop = String((e.params as { missingProperty: string }).missingProperty);
      path = `${path}/${prop}`;
      message = 'is required';
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'type' && Array.isArray((e.params as { type: unknown }).type)) {
      message = `must be ${(e.params as { type: string[] }).type.join(' or ')}`;
    }
    if (e.keyword === 'anyOf' || e.keyword === 'if') continue;
    if (!out.some((o) => o.path === path && o.message === message)) out.push({ path: path || '/', message });
  }
  return out;
}

/**
 * Every string (value or object key) PostgreSQL cannot store (formats.ts textProblem), as field
 * errors with JSON Pointers. The check every value passes on its way into SQL, with its schema.
 */
export function unstorable(value: unknown, path = ''): FieldError[] {
  if (typeof value === 'string') {
    const message = textProblem(value);
    return message ? [{ path: path || '/', message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => unstorable(v, `${path}/${i}`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => {
      const p = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const message = textProblem(k);
      return message ? [{ path: p, message }] : unstorable(v, p);
    });
  }
  return [];
}
