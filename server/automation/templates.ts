/**
 * Templates in a rule's action values: `{{record.name}}`, `{{record.account.name}}` (through a
 * lookup), `{{record.id}}`, `{{now}}`, `{{now + P2D}}`, `{{now - PT4H}}`. Checked against the
 * catalog when the rule is saved (a path names a field of the rule's entity, or a lookup and a
 * field of its target); resolved when the rule runs. A value that is exactly one template keeps
 * the type of what it names (a number stays a number); text around templates makes a string.
 */
import type { Catalog } from '../../metadata/catalog.ts';
import { systemField } from '../../metadata/system-fields.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { parseDuration, shift } from './time.ts';

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const NOW = /^now(?:\s*([+-])\s*(\S+))?$/;

export type Row = Record<string, unknown>;

/** The record a template reads, and the records its lookups point at (by lookup field). */
export interface TemplateScope {
  readonly record: Row;
  readonly related: ReadonlyMap<string, Row | null>;
  readonly now: Date;
}

const hasField = (entity: EntityDef, name: string) =>
  entity.fields.some((f) => f.name === name) || systemField(name) !== undefined;

/** Each problem of the templates in `text` (at `path`), against `entity` in `catalog`. */
export function checkTemplates(text: string, entity: EntityDef, catalog: Catalog, path: string): string[] {
  const problems: string[] = [];
  for (const m of text.matchAll(TEMPLATE)) {
    const expr = m[1]!;
    const now = NOW.exec(expr);
    if (now) {
      if (now[2] && !parseDuration(now[2])) problems.push(`${path}: "${expr}" needs an ISO 8601 duration (now + P2D)`);
      continue;
    }
    const parts = expr.split('.');
    if (parts[0] !== 'record' || parts.length < 2 || parts.length > 3) {
      problems.push(`${path}: "{{${expr}}}" is not a template (use record.<field>, record.<lookup>.<field> or now)`);
      continue;
    }
    const [, first, second] = parts as [string, string, string | undefined];
    if (!hasField(entity, first)) {
      problems.push(`${path}: "${entity.name}" has no field "${first}"`);
      continue;
    }
    if (second === undefined) continue;
    const lookup = entity.fields.find((f) => f.name === first);
    const target = lookup?.type === 'lookup' ? catalog.entity(lookup.target!) : undefined;
    if (!target) {
      problems.push(`${path}: "${first}" of "${entity.name}" is not a lookup`);
      continue;
    }
    if (!hasField(target, second)) problems.push(`${path}: "${target.name}" has no field "${second}"`);
  }
  return problems;
}

/** The lookup fields the templates in `values` read through (what must be loaded to resolve them). */
export function lookupsRead(values: unknown): Set<string> {
  const out = new Set<string>();
  const visit = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(TEMPLATE)) {
        const parts = m[1]!.split('.');
        if (parts[0] === 'record' && parts.length === 3) out.add(parts[1]!);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(visit);
  };
  visit(values);
  return out;
}

function evaluate(expr: string, scope: TemplateScope): unknown {
  const now = NOW.exec(expr);
  if (now) {
    const d = now[2] ? parseDuration(now[2]) : undefined;
    return (d ? shift(scope.now, d, now[1] === '-' ? -1 : 1) : scope.now).toISOString();
  }
  const [, first, second] = expr.split('.') as [string, string, string | undefined];
  if (second === undefined) return scope.record[first] ?? null;
  return scope.related.get(first)?.[second] ?? null;
}

/** A value with its templates resolved (objects and arrays deeply). */
export function resolve(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return evaluate(whole[1]!, scope);
    return value.replace(TEMPLATE, (_, expr: string) => {
      const v = evaluate(expr, scope);
      return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, scope)]));
  return value;
}
