import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject } from 'ajv';
import type { FieldError } from './errors.ts';

/** A JSON Schema 2020-12 validator with the standard formats (email, uri, date, date-time, uuid). */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
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
