/**
 * JSON filters → the filter AST, checked against the catalog: unknown fields, operators a type
 * does not support and values of the wrong type are refused with a path into the filter.
 *
 *   { "status": { "eq": "online" },
 *     "asset": { "assigned_to": { "full_name": { "startsWith": "Ada" } } },
 *     "reports": { "some": { "hired_on": { "gte": "2024-01-01" } } },
 *     "or": [ { "rating": { "gte": 4 } }, { "not": { "name": { "icontains": "test" } } } ] }
 */
import { systemField } from '../../metadata/system-fields.ts';
import type { Catalog, Navigation } from '../../metadata/catalog.ts';
import { XrmError, type FieldError } from '../../metadata/errors.ts';
import { FILTER_OPERATORS, type FilterOperator, type JsonSchema } from '../../metadata/field-type.ts';
import { FIELD_TYPES } from '../../metadata/field-types/index.ts';
import type { EntityDef, FieldDef } from '../../metadata/types.ts';
import { unstorable } from '../../metadata/ajv.ts';
import { textProblem } from '../../metadata/formats.ts';
import { LIMITS } from '../limits.ts';
import type { ColumnRef, FilterNode } from './ast.ts';
import { OPERAND } from './operators.ts';
import { SubjectVariable, VARIABLE } from '../security/subject.ts';

/** Checks one operand against its JSON Schema; returns a message or undefined. */
export type ValueCheck = (schema: JsonSchema, value: unknown) => string | undefined;

export interface ParseContext {
  readonly catalog: Catalog;
  readonly check: ValueCheck;
  /** Maps a key as the client wrote it to a logical name (GraphQL passes camelCase). */
  readonly key?: (entity: EntityDef, key: string) => string;
  /** Row rules: `"$user.<name>"` operands are principal variables (subject.ts). */
  readonly variables?: boolean;
  /** Field security: whether the caller may read a field; naming one it may not is a 403. */
  readonly readable?: (entity: string, field: FieldDef) => boolean;
}

/** 403 naming the path where a filter, sort, select, group or aggregate names a field the caller may not read. */
export function fieldForbidden(path: string, entity: string, field: string): XrmError {
  const message = `you may not read field "${field}" of "${entity}"`;
  return new XrmError('XRM_ERR_FIELD_FORBIDDEN', `${path}: ${message}`, { errors: [{ path, message }] });
}

/** Throws fieldForbidden unless the caller may read the column. */
export function checkReadable(ctx: ParseContext, entity: string, column: ColumnRef, path: string): void {
  if (ctx.readable && !ctx.readable(entity, column.field)) throw fieldForbidden(path, entity, column.name);
}

const MAX_DEPTH = LIMITS.filterDepth;
const MAX_LIST = LIMITS.filterList;

export function queryError(path: string, message: string): XrmError {
  return new XrmError('XRM_ERR_QUERY_INVALID', `${path}: ${message}`, { errors: [{ path, message }] });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A column of `entity` by logical name: one of its fields or a system field. */
export function resolveColumn(entity: EntityDef, name: string): ColumnRef | undefined {
  const field = entity.fields.find((f) => f.name === name) ?? systemField(name);
  return field ? { name, field } : undefined;
}

/**
 * `a.b.c` from `entity`: the lookups walked (a, b) and the column reached (c). Each name passes
 * through `ctx.key` (GraphQL names); `at` is the parameter path for errors.
 */
export function resolvePath(
  entity: EntityDef,
  path: string,
  ctx: ParseContext,
  at: string,
): { via: FieldDef[]; column: ColumnRef; entity: EntityDef } {
  const parts = path.split('.');
  if (parts.length - 1 > LIMITS.pathHops) throw queryError(at, `a path follows at most ${LIMITS.pathHops} lookups`);
  const via: FieldDef[] = [];
  let current = entity;
  for (let i = 0; i < parts.length - 1; i++) {
    const name = ctx.key ? ctx.key(current, parts[i]!) : parts[i]!;
    const field = current.fields.find((f) => f.name === name);
    if (field?.type !== 'lookup') throw queryError(at, `"${parts[i]}" is not a lookup of "${current.name}"`);
    checkReadable(ctx, current.name, { name, field }, at);
    via.push(field);
    current = ctx.catalog.entity(field.target!)!;
  }
  const last = parts[parts.length - 1]!;
  const column = resolveColumn(current, ctx.key ? ctx.key(current, last) : last);
  if (!column) throw queryError(at, `"${current.name}" has no field "${last}"`);
  checkReadable(ctx, current.name, column, at);
  return { via, column, entity: current };
}

export function operatorsOf(column: ColumnRef): readonly FilterOperator[] {
  return FIELD_TYPES[column.field.type].filterOperators;
}

export function valueSchemaOf(column: ColumnRef, catalog: Catalog): JsonSchema {
  const { readOnly: _r, ...schema } = FIELD_TYPES[column.field.type].valueSchema(column.field, catalog);
  return schema;
}

export function parseFilter(entityName: string, input: unknown, ctx: ParseContext, path = '/filter'): FilterNode {
  const entity = ctx.catalog.entity(entityName);
  if (!entity) throw queryError(path, `unknown entity "${entityName}"`);
  return parseObject(entity, input, ctx, path, 0);
}

function parseObject(entity: EntityDef, input: unknown, ctx: ParseContext, path: string, depth: number): FilterNode {
  if (depth > MAX_DEPTH) throw queryError(path, `filters nest at most ${MAX_DEPTH} levels`);
  if (!isObject(input)) throw queryError(path, 'must be an object');
  const items: FilterNode[] = [];
  for (const [rawKey, value] of Object.entries(input)) {
    const p = `${path}/${rawKey}`;
    if (rawKey === 'and' || rawKey === 'or') {
      if (!Array.isArray(value)) throw queryError(p, 'must be an array of filters');
      items.push({ kind: rawKey, items: value.map((v, i) => parseObject(entity, v, ctx, `${p}/${i}`, depth + 1)) });
      continue;
    }
    if (rawKey === 'not') {
      items.push({ kind: 'not', item: parseObject(entity, value, ctx, p, depth + 1) });
      continue;
    }
    const key = ctx.key ? ctx.key(entity, rawKey) : rawKey;
    const navigation = ctx.catalog.navigations(entity.name).find((n) => n.name === key);
    if (navigation) {
      items.push(...parseRelated(entity, navigation, value, ctx, p, depth));
      continue;
    }
    const column = resolveColumn(entity, key);
    if (!column) throw queryError(p, `"${entity.name}" has no field or relationship "${rawKey}"`);
    checkReadable(ctx, entity.name, column, p);
    if (column.field?.type === 'lookup' && isObject(value) && !Object.keys(value).some((k) => isOperator(k))) {
      const target = ctx.catalog.entity(column.field.target!)!;
      items.push({
        kind: 'lookup',
        field: column.field,
        target: target.name,
        filter: parseObject(target, value, ctx, p, depth + 1),
      });
      continue;
    }
    if (column.field?.type === 'json' && isObject(value) && !Object.keys(value).some((k) => isOperator(k))) {
      items.push(...jsonPathConditions(column, value, [], p));
      continue;
    }
    items.push(...parseConditions(entity, column, value, ctx, p));
  }
  if (items.length === 1) return items[0]!;
  return { kind: 'and', items };
}

/** `{ telemetry: { temperature: { eq: 21.5 } } }`: equality at a path inside a JSON field. */
function jsonPathConditions(
  column: ColumnRef,
  value: Record<string, unknown>,
  prefix: string[],
  path: string,
): FilterNode[] {
  const items: FilterNode[] = [];
  for (const [key, inner] of Object.entries(value)) {
    const p = `${path}/${key}`;
    if (isOperator(key)) {
      if (key !== 'eq') throw queryError(p, 'inside a JSON field only eq applies');
      if (!prefix.length) throw queryError(p, 'give a path inside the JSON field, e.g. telemetry.temperature eq 21');
      items.push({ kind: 'compare', column, op: 'jsonPathEq', value: inner, jsonPath: prefix });
    } else if (isObject(inner)) {
      if (prefix.length >= MAX_DEPTH) throw queryError(p, 'JSON path is too deep');
      items.push(...jsonPathConditions(column, inner, [...prefix, key], p));
    } else {
      throw queryError(p, 'must be an object: a deeper key or { "eq": value }');
    }
  }
  return items;
}

const ALL_OPERATORS = new Set<string>(FILTER_OPERATORS);

function isOperator(key: string): boolean {
  return ALL_OPERATORS.has(key);
}

function parseRelated(
  entity: EntityDef,
  navigation: Navigation,
  value: unknown,
  ctx: ParseContext,
  path: string,
  depth: number,
): FilterNode[] {
  if (!isObject(value)) throw queryError(path, 'must be an object with some, every or none');
  const target = navigation.kind === 'inverse' ? navigation.source : navigation.other;
  const targetEntity = ctx.catalog.entity(target)!;
  const items: FilterNode[] = [];
  for (const [quantifier, filter] of Object.entries(value)) {
    if (quantifier !== 'some' && quantifier !== 'every' && quantifier !== 'none') {
      throw queryError(
        `${path}/${quantifier}`,
        `"${navigation.name}" of "${entity.name}" is a to-many relationship: use some, every or none`,
      );
    }
    items.push({
      kind: 'related',
      navigation,
      quantifier,
      filter: parseObject(targetEntity, filter, ctx, `${path}/${quantifier}`, depth + 1),
    });
  }
  if (!items.length) throw queryError(path, 'needs some, every or none');
  return items;
}

function parseConditions(
  entity: EntityDef,
  column: ColumnRef,
  value: unknown,
  ctx: ParseContext,
  path: string,
): FilterNode[] {
  if (!isObject(value)) throw queryError(path, 'must be an object of operators, e.g. { "eq": … }');
  const allowed = operatorsOf(column);
  const items: FilterNode[] = [];
  for (const [op, operand] of Object.entries(value)) {
    const p = `${path}/${op}`;
    if (!isOperator(op)) throw queryError(p, `unknown operator "${op}"`);
    if (!allowed.includes(op as FilterOperator)) {
      const type = column.field.type;
      throw queryError(
        p,
        `operator "${op}" does not apply to ${type} field "${column.name}" (use ${allowed.join(', ')})`,
      );
    }
    items.push(comparison(entity, column, op as FilterOperator, operand, ctx, p));
  }
  if (!items.length) throw queryError(path, 'needs at least one operator');
  return items;
}

function comparison(
  _entity: EntityDef,
  column: ColumnRef,
  op: FilterOperator,
  operand: unknown,
  ctx: ParseContext,
  path: string,
): FilterNode {
  const schema = valueSchemaOf(column, ctx.catalog);
  const fail = (message: string): never => {
    throw queryError(path, message);
  };
  const checkValue = (v: unknown, p: string) => {
    const problem = ctx.check(schema, v);
    if (problem) throw queryError(p, problem);
  };
  if (typeof operand === 'string' && operand.startsWith('$user.') && ctx.variables) {
    return { kind: 'compare', column, op, value: variable(op, operand, path) };
  }
  switch (OPERAND[op]) {
    case 'flag':
      if (typeof operand !== 'boolean') fail('must be true or false');
      break;
    case 'list':
      if (!Array.isArray(operand) || operand.length > MAX_LIST) fail(`must be an array of at most ${MAX_LIST} values`);
      (operand as unknown[]).forEach((v, i) => checkValue(v, `${path}/${i}`));
      break;
    case 'pair':
      if (!Array.isArray(operand) || operand.length !== 2) fail('must be an array of two values [from, to]');
      (operand as unknown[]).forEach((v, i) => checkValue(v, `${path}/${i}`));
      break;
    case 'text':
      if (typeof operand !== 'string') fail('must be a string');
      checkText(operand as string, path);
      break;
    case 'set':
      checkValue(operand, path);
      break;
    case 'jsonPath': {
      const o = operand as { path?: unknown; value?: unknown };
      if (
        !isObject(o) ||
        !Array.isArray(o.path) ||
        !o.path.length ||
        !o.path.every((k) => typeof k === 'string') ||
        !('value' in o)
      ) {
        fail('must be { "path": ["key", …], "value": any JSON }');
      }
      const text = unstorable(o, path);
      if (text.length) throw queryError(text[0]!.path, text[0]!.message);
      return { kind: 'compare', column, op, value: o.value, jsonPath: o.path as string[] };
    }
    case 'value':
      if (operand === null) fail(`null is not a value to compare; use { "isNull": true }`);
      checkValue(operand, path);
  }
  return { kind: 'compare', column, op, value: operand };
}

/** A principal variable of a row rule, where the compiler can enforce it: refused otherwise. */
function variable(op: FilterOperator, operand: string, path: string): SubjectVariable {
  const name = VARIABLE.exec(operand)?.[1];
  if (!name) throw queryError(path, `"${operand}" is not a variable: use $user.id, $user.teams or $user.<attribute>`);
  const kind = OPERAND[op];
  if (kind === 'list') return new SubjectVariable(name);
  if (kind !== 'value' || op === 'containsAny' || op === 'containsAll')
    throw queryError(path, `a variable cannot be the operand of "${op}" (use eq, ne, gt, gte, lt, lte, in or nin)`);
  if (name === 'teams') throw queryError(path, '$user.teams is a list: use it with in or nin');
  return new SubjectVariable(name);
}

/**
 * The full-text search condition of `search=` (REST) or `search:` (GraphQL). With `on`, a search
 * over a secured field the caller may not read is a 403 (its words would answer for it).
 */
export function searchNode(text: string, path = '/search', on?: { entity: EntityDef; ctx: ParseContext }): FilterNode {
  checkText(text, path);
  if (on?.ctx.readable) {
    for (const field of on.entity.fields) {
      if (field.searchable && FIELD_TYPES[field.type].capabilities.fullText && !on.ctx.readable(on.entity.name, field))
        throw fieldForbidden(path, on.entity.name, field.name);
    }
  }
  return { kind: 'search', text };
}

/** Text that goes into SQL as a value (a search, a contains operand) must be storable text. */
export function checkText(text: string, path: string): void {
  const problem = textProblem(text);
  if (problem) throw queryError(path, problem);
}

/** Collects field errors of a value against a schema into one message (used by ValueCheck). */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.path === '/' ? e.message : `${e.path} ${e.message}`)).join('; ');
}
