/** Helpers shared by the forms: server errors per control, names from labels. */
import type { Problem } from './types.ts';

export interface MappedErrors {
  /** Messages per control key. */
  byKey: Map<string, string[]>;
  /** Errors no control shows (listed in the banner). */
  unmapped: NonNullable<Problem['errors']>;
}

/**
 * Splits a problem's `errors[]` between the form's controls: `keyOf` names the control a path
 * belongs to (or undefined when none does).
 */
export function mapErrors(problem: Problem | undefined, keyOf: (path: string) => string | undefined): MappedErrors {
  const byKey = new Map<string, string[]>();
  const unmapped: NonNullable<Problem['errors']> = [];
  for (const e of problem?.errors ?? []) {
    const key = keyOf(e.path);
    if (key === undefined) unmapped.push(e);
    else byKey.set(key, [...(byKey.get(key) ?? []), e.message]);
  }
  return { byKey, unmapped };
}

/** "Annual revenue" → "annual_revenue". */
export function snakeName(label: string): string {
  return label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, '_$1')
    .slice(0, 63);
}

/** "annual_revenue" → "Annual revenue". */
export function humanize(name: string): string {
  const words = name.replace(/_+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
