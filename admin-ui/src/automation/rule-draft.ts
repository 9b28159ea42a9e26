/**
 * A rule as the builder edits it (every control holds text) and back: the body of POST / PATCH
 * /api/automation/rules, the condition split between the filter builder, relative-time rows and a
 * raw JSON fallback, and the server's `errors[].path` mapped to the control that shows them.
 */
import { EMPTY_FILTER, filterOf, stateOf, type FilterState } from '../records/FilterBuilder.tsx';
import type { Column } from '../records/columns.ts';
import { fromFormValue } from '../records/values.ts';
import type { EntityDef, FieldDef, Problem } from '../types.ts';
import type { ActionType, EventMessage, Rule, RuleAction, TriggerType } from './types.ts';

export const EVENT_MESSAGES: EventMessage[] = ['create', 'update', 'delete', 'associate', 'disassociate'];

export const ACTION_LABELS: Record<ActionType, string> = {
  update: 'Update the record',
  create: 'Create a record',
  notify: 'Notify a user',
  email: 'Send an email',
  suggest: 'Suggest actions',
  webhook: 'Call a webhook',
  message: 'Run a custom message',
};
export const ACTION_TYPES = Object.keys(ACTION_LABELS) as ActionType[];

export const RELATIVE_OPERATORS = {
  olderThan: 'is older than',
  withinLast: 'is within the last',
  withinNext: 'is within the next',
} as const;
export type RelativeOperator = keyof typeof RELATIVE_OPERATORS;

/** Units of a relative time, as ISO 8601 durations. */
export const DURATION_UNITS = {
  minutes: { label: 'minutes', iso: (n: string) => `PT${n}M`, parse: /^PT(\d+)M$/ },
  hours: { label: 'hours', iso: (n: string) => `PT${n}H`, parse: /^PT(\d+)H$/ },
  days: { label: 'days', iso: (n: string) => `P${n}D`, parse: /^P(\d+)D$/ },
  weeks: { label: 'weeks', iso: (n: string) => `P${n}W`, parse: /^P(\d+)W$/ },
  months: { label: 'months', iso: (n: string) => `P${n}M`, parse: /^P(\d+)M$/ },
  years: { label: 'years', iso: (n: string) => `P${n}Y`, parse: /^P(\d+)Y$/ },
} as const;
export type DurationUnit = keyof typeof DURATION_UNITS;

let nextKey = 1;
/** A key for React lists of rows the user adds, moves and removes. */
export const newKey = (): number => nextKey++;

export interface ValueRow {
  key: number;
  field: string;
  text: string;
}

export interface ActionDraft {
  key: number;
  type: ActionType;
  values: ValueRow[];
  via: string;
  entity: string;
  url: string;
  name: string;
  input: string;
  to: string;
  subject: string;
  body: string;
  text: string;
  reason: string;
  actions: ActionDraft[];
}

export interface RelativeRow {
  key: number;
  field: string;
  op: RelativeOperator;
  amount: string;
  unit: DurationUnit;
}

export interface ConditionDraft {
  mode: 'builder' | 'json';
  filter: FilterState;
  relative: RelativeRow[];
  json: string;
}

export interface RuleDraft {
  name: string;
  description: string;
  entity: string;
  trigger: TriggerType;
  messages: EventMessage[];
  changed: string[];
  cron: string;
  timeZone: string;
  condition: ConditionDraft;
  actions: ActionDraft[];
  maxRunsPerMinute: string;
  enabled: boolean;
}

export const EMPTY_CONDITION: ConditionDraft = { mode: 'builder', filter: EMPTY_FILTER, relative: [], json: '' };

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

// --- values -----------------------------------------------------------------------------------

/** A saved value as the text of its input. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  return JSON.stringify(value);
}

/**
 * The text of a value input as JSON of the field's type; text holding a template stays text (a
 * value that is one template keeps the type of what it names when the rule runs). Empty clears.
 */
export function valueFromText(text: string, field: FieldDef | undefined): unknown {
  if (text.includes('{{')) return text;
  if (!field) return text;
  if (field.type === 'multiChoice')
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const converted = fromFormValue(field.type, text);
  return converted.ok ? converted.value : text;
}

// --- actions ----------------------------------------------------------------------------------

export function actionDraft(type: ActionType, saved?: RuleAction): ActionDraft {
  const json = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));
  return {
    key: newKey(),
    type,
    values: Object.entries(saved?.values ?? {}).map(([field, value]) => ({
      key: newKey(),
      field,
      text: valueText(value),
    })),
    via: saved?.via ?? '',
    entity: saved?.entity ?? '',
    url: saved?.url ?? '',
    name: saved?.name ?? '',
    input: json(saved?.input),
    to: saved?.to ?? (type === 'notify' || type === 'email' ? 'owner' : ''),
    subject: saved?.subject ?? '',
    body: saved?.body ?? '',
    text: saved?.text ?? '',
    reason: saved?.reason ?? '',
    actions: (saved?.actions ?? []).map((a) => actionDraft(a.type, a)),
  };
}

/** The entity whose fields an update or create action sets. */
export function targetOf(
  action: ActionDraft,
  entity: EntityDef,
  entities: readonly EntityDef[],
): EntityDef | undefined {
  if (action.type === 'create') return entities.find((e) => e.name === action.entity);
  if (action.type !== 'update') return undefined;
  if (!action.via) return entity;
  const lookup = entity.fields.find((f) => f.name === action.via);
  return entities.find((e) => e.name === lookup?.target);
}

type ClientError = { path: string; message: string };

function actionOf(
  a: ActionDraft,
  path: string,
  entity: EntityDef,
  entities: readonly EntityDef[],
  errors: ClientError[],
): RuleAction {
  const values = () => {
    const target = targetOf(a, entity, entities);
    const out: Record<string, unknown> = {};
    for (const row of a.values) {
      if (!row.field) continue;
      out[row.field] = valueFromText(
        row.text,
        target?.fields.find((f) => f.name === row.field),
      );
    }
    return out;
  };
  switch (a.type) {
    case 'update':
      return { type: 'update', values: values(), ...(a.via ? { via: a.via } : {}) };
    case 'create':
      return { type: 'create', entity: a.entity, values: values() };
    case 'webhook':
      return { type: 'webhook', url: a.url.trim() };
    case 'message': {
      let input: Record<string, unknown> | undefined;
      if (a.input.trim()) {
        try {
          const parsed = JSON.parse(a.input) as unknown;
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
            errors.push({ path: `${path}/input`, message: 'must be a JSON object' });
          else input = parsed as Record<string, unknown>;
        } catch (error) {
          errors.push({ path: `${path}/input`, message: `is not valid JSON (${(error as Error).message})` });
        }
      }
      return { type: 'message', name: a.name.trim(), ...(input ? { input } : {}) };
    }
    case 'email':
      return { type: 'email', to: a.to.trim(), subject: a.subject, body: a.body };
    case 'notify':
      return { type: 'notify', to: a.to.trim(), text: a.text };
    case 'suggest':
      return {
        type: 'suggest',
        reason: a.reason,
        actions: a.actions.map((x, i) => actionOf(x, `${path}/actions/${i}`, entity, entities, errors)),
      };
  }
}

// --- conditions -------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{ field: { olderThan: "P12D" } }` as a row, when it is one the row editor writes. */
function relativeRow(item: unknown, dateFields: readonly string[]): RelativeRow | undefined {
  if (!isObject(item)) return undefined;
  const entries = Object.entries(item);
  if (entries.length !== 1) return undefined;
  const [field, test] = entries[0]!;
  if (!dateFields.includes(field) || !isObject(test)) return undefined;
  const ops = Object.entries(test);
  if (ops.length !== 1) return undefined;
  const [op, duration] = ops[0]!;
  if (!(op in RELATIVE_OPERATORS) || typeof duration !== 'string') return undefined;
  for (const [unit, spec] of Object.entries(DURATION_UNITS)) {
    const m = spec.parse.exec(duration);
    if (m) return { key: newKey(), field, op: op as RelativeOperator, amount: m[1]!, unit: unit as DurationUnit };
  }
  return undefined;
}

/** A saved condition in the builder's terms; JSON mode when the builder cannot show it. */
export function conditionDraft(condition: unknown, columns: Column[]): ConditionDraft {
  if (condition === undefined || condition === null) return EMPTY_CONDITION;
  const json = JSON.stringify(condition, null, 2);
  const asBuilder = splitCondition(condition, columns);
  return asBuilder ? { ...asBuilder, json } : { ...EMPTY_CONDITION, mode: 'json', json };
}

/** The filter-builder part and the relative-time rows of a condition (undefined: neither can show it). */
export function splitCondition(
  condition: unknown,
  columns: Column[],
): Pick<ConditionDraft, 'mode' | 'filter' | 'relative'> | undefined {
  if (!isObject(condition)) return undefined;
  const dateFields = columns.filter((c) => c.type === 'date' || c.type === 'datetime').map((c) => c.name);
  const keys = Object.keys(condition);
  const items = keys.length === 1 && keys[0] === 'and' && Array.isArray(condition.and) ? condition.and : [condition];
  const relative: RelativeRow[] = [];
  const rest: unknown[] = [];
  for (const item of items) {
    const row = relativeRow(item, dateFields);
    if (row) relative.push(row);
    else rest.push(item);
  }
  let filter: FilterState | undefined = EMPTY_FILTER;
  if (rest.length === 1) filter = stateOf(rest[0], columns);
  else if (rest.length > 1) filter = stateOf({ and: rest }, columns);
  return filter ? { mode: 'builder', filter, relative } : undefined;
}

export function relativeCondition(row: RelativeRow): Record<string, unknown> {
  return { [row.field]: { [row.op]: DURATION_UNITS[row.unit].iso(row.amount.trim()) } };
}

/** The condition JSON of the draft (undefined: none), or why it cannot be built. */
export function conditionOf(
  draft: ConditionDraft,
  columns: Column[],
): { ok: true; value: unknown } | { ok: false; error: string } {
  if (draft.mode === 'json') {
    if (!draft.json.trim()) return { ok: true, value: undefined };
    try {
      return { ok: true, value: JSON.parse(draft.json) as unknown };
    } catch (error) {
      return { ok: false, error: `The condition is not valid JSON (${(error as Error).message})` };
    }
  }
  const { filter, errors } = filterOf(draft.filter, columns);
  if (errors.size) return { ok: false, error: [...errors.values()].join('; ') };
  for (const row of draft.relative)
    if (!/^\d+$/.test(row.amount.trim()) || Number(row.amount) < 1)
      return { ok: false, error: 'A relative time needs a whole number of at least 1' };
  const relative = draft.relative.map(relativeCondition);
  if (!relative.length) return { ok: true, value: filter };
  if (!filter) return { ok: true, value: relative.length === 1 ? relative[0] : { and: relative } };
  const base =
    isObject(filter) && Object.keys(filter).length === 1 && Array.isArray(filter.and) ? filter.and : [filter];
  return { ok: true, value: { and: [...base, ...relative] } };
}

// --- the whole rule ---------------------------------------------------------------------------

export function newDraft(entity: string): RuleDraft {
  return {
    name: '',
    description: '',
    entity,
    trigger: 'event',
    messages: ['create', 'update'],
    changed: [],
    cron: '0 8 * * 1-5',
    timeZone: browserTimeZone(),
    condition: EMPTY_CONDITION,
    actions: [actionDraft('update')],
    maxRunsPerMinute: '',
    enabled: true,
  };
}

export function ruleDraft(rule: Rule, columns: Column[]): RuleDraft {
  const t = rule.trigger;
  return {
    name: rule.name,
    description: rule.description ?? '',
    entity: rule.entity,
    trigger: t.type,
    messages: t.messages ?? ['create', 'update'],
    changed: t.changed ?? [],
    cron: t.cron ?? '0 8 * * 1-5',
    timeZone: t.timeZone ?? 'UTC',
    condition: conditionDraft(rule.condition, columns),
    actions: rule.actions.map((a) => actionDraft(a.type, a)),
    maxRunsPerMinute: rule.maxRunsPerMinute === undefined ? '' : String(rule.maxRunsPerMinute),
    enabled: rule.status !== 'disabled',
  };
}

/**
 * The request body of a draft (`creating`: POST, else PATCH, where an emptied description or
 * condition is sent as null to clear it), or the problems found before sending it.
 */
export function ruleBody(
  draft: RuleDraft,
  creating: boolean,
  columns: Column[],
  entities: readonly EntityDef[],
): { body: Record<string, unknown>; problem?: undefined } | { body?: undefined; problem: Problem } {
  const errors: ClientError[] = [];
  const entity = entities.find((e) => e.name === draft.entity);
  if (!entity) errors.push({ path: '/entity', message: 'choose an entity' });
  const trigger =
    draft.trigger === 'event'
      ? {
          type: 'event',
          messages: draft.messages,
          ...(draft.changed.length && draft.messages.includes('update') ? { changed: draft.changed } : {}),
        }
      : draft.trigger === 'schedule'
        ? { type: 'schedule', cron: draft.cron.trim(), timeZone: draft.timeZone.trim() || 'UTC' }
        : { type: 'manual' };
  const condition = conditionOf(draft.condition, columns);
  if (!condition.ok) errors.push({ path: '/condition', message: condition.error });
  const actions = entity ? draft.actions.map((a, i) => actionOf(a, `/actions/${i}`, entity, entities, errors)) : [];
  const cap = draft.maxRunsPerMinute.trim();
  if (cap && !/^\d+$/.test(cap)) errors.push({ path: '/maxRunsPerMinute', message: 'must be a whole number' });
  if (errors.length)
    return {
      problem: {
        title: 'The rule is not complete',
        status: 0,
        detail: 'Correct the marked fields, then save again.',
        errors,
      },
    };
  const description = draft.description.trim();
  const conditionValue = condition.ok ? condition.value : undefined;
  return {
    body: {
      name: draft.name.trim(),
      ...(description ? { description } : creating ? {} : { description: null }),
      entity: draft.entity,
      trigger,
      ...(conditionValue !== undefined ? { condition: conditionValue } : creating ? {} : { condition: null }),
      actions,
      ...(cap ? { maxRunsPerMinute: Number(cap) } : {}),
      ...(creating ? { enabled: draft.enabled } : {}),
    },
  };
}

// --- errors by path ---------------------------------------------------------------------------

const ACTION_KEYS = ['type', 'via', 'entity', 'url', 'name', 'input', 'to', 'subject', 'body', 'text', 'reason'];

/** The paths the builder has a control for (an error under one is shown at the nearest). */
export function controlPaths(draft: RuleDraft): Set<string> {
  const keys = new Set([
    '/name',
    '/description',
    '/entity',
    '/trigger',
    '/trigger/type',
    '/trigger/messages',
    '/trigger/changed',
    '/trigger/cron',
    '/trigger/timeZone',
    '/condition',
    '/actions',
    '/maxRunsPerMinute',
    '/enabled',
  ]);
  const visit = (actions: ActionDraft[], base: string) =>
    actions.forEach((a, i) => {
      const p = `${base}/${i}`;
      keys.add(p);
      for (const k of ACTION_KEYS) keys.add(`${p}/${k}`);
      keys.add(`${p}/values`);
      keys.add(`${p}/actions`);
      for (const row of a.values) if (row.field) keys.add(`${p}/values/${row.field}`);
      visit(a.actions, `${p}/actions`);
    });
  visit(draft.actions, '/actions');
  return keys;
}

export interface PathErrors {
  /** Messages shown at a control's path (deeper paths say where, e.g. "stage/eq: …"). */
  at(path: string): string[] | undefined;
  /** Errors no control shows (listed in the banner). */
  unmapped: NonNullable<Problem['errors']>;
}

export function pathErrors(problem: Problem | undefined, paths: Set<string>): PathErrors {
  const byPath = new Map<string, string[]>();
  const unmapped: NonNullable<Problem['errors']> = [];
  for (const e of problem?.errors ?? []) {
    const parts = e.path.split('/');
    let key: string | undefined;
    for (let n = parts.length; n > 1 && !key; n--) {
      const candidate = parts.slice(0, n).join('/');
      if (paths.has(candidate)) key = candidate;
    }
    if (!key) {
      unmapped.push(e);
      continue;
    }
    const below = e.path.slice(key.length + 1);
    byPath.set(key, [...(byPath.get(key) ?? []), below ? `${below}: ${e.message}` : e.message]);
  }
  return { at: (path) => byPath.get(path), unmapped };
}
