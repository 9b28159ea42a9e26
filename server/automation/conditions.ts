/**
 * A rule's condition → one SQL predicate, compiled by the query engine's own filter compiler and
 * tested by PostgreSQL: inside a write's statement for event rules (on the record as written and
 * as it was), over the whole table for a schedule pass. On top of the JSON filter a condition may
 * use time-relative operands, resolved against the rule clock when evaluated —
 * `{ "last_contact_at": { "olderThan": "P12D" } }`, `"withinNext": "P7D"`, `"withinLast": "P1D"` —
 * and, in event rules on the record's own fields, `changedFrom` / `changedTo`.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import { FILTER_OPERATORS } from '../../metadata/field-type.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { CompileContext, columnSql } from '../query/compile-context.ts';
import { compileFilter } from '../query/compile-filter.ts';
import { type ParseContext, parseFilter, queryError, resolveColumn } from '../query/filter-parse.ts';
import { dayIn, parseDuration, shift } from './time.ts';

export const RELATIVE_OPERATORS = ['olderThan', 'withinNext', 'withinLast'] as const;
export const CHANGE_OPERATORS = ['changedFrom', 'changedTo'] as const;

/** Aliases of the two images a predicate reads: the record as written (or deleted), and as it was. */
export const NEW = 'n';
export const OLD = 'o';

interface ChangeTest {
  readonly field: string;
  readonly op: 'changedFrom' | 'changedTo';
  readonly value: unknown;
}

/** A condition with its time-relative operands resolved at `now`, and its change tests apart. */
export interface SplitCondition {
  readonly filter?: Record<string, unknown>;
  readonly changes: readonly ChangeTest[];
  /** Whether it reads the clock (then it cannot be compiled once and kept). */
  readonly relative: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const OPERATOR_NAMES = new Set<string>([...FILTER_OPERATORS, ...RELATIVE_OPERATORS, ...CHANGE_OPERATORS]);

/**
 * Splits a condition: relative operands become the query engine's comparisons at `now` (an
 * instant for datetime fields, a day in `timeZone` for date fields); change tests are taken out.
 * `changes`: whether change tests are allowed (event rules on create or update).
 */
export function splitCondition(
  catalog: Catalog,
  entityName: string,
  condition: unknown,
  now: Date,
  changes: boolean,
  path = '/condition',
  timeZone = 'UTC',
): SplitCondition {
  const tests: ChangeTest[] = [];
  let relative = false;
  const walk = (entity: EntityDef, input: unknown, at: string, top: boolean): unknown => {
    if (!isObject(input)) return input;
    const out: Record<string, unknown> = {};
    const extra: unknown[] = [];
    for (const [key, value] of Object.entries(input)) {
      const p = `${at}/${key}`;
      if ((key === 'and' || key === 'or') && Array.isArray(value)) {
        out[key] = value.map((v, i) => walk(entity, v, `${p}/${i}`, false));
        continue;
      }
      if (key === 'not') {
        out[key] = walk(entity, value, p, false);
        continue;
      }
      const nav = catalog.navigations(entity.name).find((n) => n.name === key);
      if (nav && isObject(value)) {
        const target = catalog.entity(nav.kind === 'inverse' ? nav.source : nav.other)!;
        out[key] = Object.fromEntries(Object.entries(value).map(([q, v]) => [q, walk(target, v, `${p}/${q}`, false)]));
        continue;
      }
      const column = resolveColumn(entity, key);
      if (!column || !isObject(value)) {
        out[key] = value;
        continue;
      }
      if (column.field.type === 'lookup' && !Object.keys(value).some((k) => OPERATOR_NAMES.has(k))) {
        out[key] = walk(catalog.entity(column.field.target!)!, value, p, false);
        continue;
      }
      const ops: Record<string, unknown> = {};
      for (const [op, operand] of Object.entries(value)) {
        const q = `${p}/${op}`;
        if ((RELATIVE_OPERATORS as readonly string[]).includes(op)) {
          const type = column.field.type;
          if (type !== 'date' && type !== 'datetime')
            throw queryError(q, `${op} applies to date and datetime fields, not to ${type} field "${key}"`);
          const d = parseDuration(operand);
          if (!d) throw queryError(q, 'must be an ISO 8601 duration such as P12D, PT4H or P1M');
          relative = true;
          // a date field compares days: today is the rule's day (its schedule's time zone)
          const text = (at: Date) => (type === 'date' ? dayIn(at, timeZone) : at.toISOString());
          const bound =
            op === 'olderThan'
              ? { lt: text(shift(now, d, -1)) }
              : op === 'withinNext'
                ? { gte: text(now), lte: text(shift(now, d, 1)) }
                : { gte: text(shift(now, d, -1)), lte: text(now) };
          extra.push({ [key]: bound });
          continue;
        }
        if ((CHANGE_OPERATORS as readonly string[]).includes(op)) {
          if (!changes) throw queryError(q, `${op} applies to event rules on create or update only`);
          if (!top) throw queryError(q, `${op} applies to the record's own fields, outside and/or/not`);
          tests.push({ field: key, op: op as ChangeTest['op'], value: operand });
          continue;
        }
        ops[op] = operand;
      }
      if (Object.keys(ops).length) out[key] = ops;
    }
    if (extra.length)
      out.and = [...(Array.isArray(out.and) ? out.and : out.and === undefined ? [] : [out.and]), ...extra];
    return out;
  };
  if (condition === undefined || condition === null) return { changes: [], relative: false };
  const entity = catalog.require(entityName);
  if (!isObject(condition)) throw queryError(path, 'must be an object (the query engine JSON filter)');
  const filter = walk(entity, condition, path, true) as Record<string, unknown>;
  return { ...(Object.keys(filter).length ? { filter } : {}), changes: tests, relative };
}

const equalTo = (value: unknown) => (value === null ? { isNull: true } : { eq: value });

/**
 * The predicate over `n` (and `o` for change tests and `changed`): the filter on the record, each
 * change test as "matches now and did not before" (changedTo) or the reverse (changedFrom), and
 * any of the `changed` fields differing. Parsing checks every field, operator and value.
 */
export function conditionPredicate(
  catalog: Catalog,
  entity: string,
  split: SplitCondition,
  parse: ParseContext,
  changed?: readonly string[],
  path = '/condition',
): RawBuilder<boolean> {
  const ctx = new CompileContext(catalog, {}, 'c');
  const parts: RawBuilder<boolean>[] = [];
  const on = (filter: unknown, alias: string) =>
    compileFilter(parseFilter(entity, filter, { ...parse, catalog }, path), entity, alias, ctx);
  if (split.filter) parts.push(on(split.filter, NEW));
  for (const t of split.changes) {
    const filter = { [t.field]: equalTo(t.value) };
    const [now, before] = [on(filter, NEW), on(filter, OLD)];
    parts.push(
      t.op === 'changedTo'
        ? sql<boolean>`(${now}) AND NOT COALESCE((${before}), false)`
        : sql<boolean>`(${before}) AND NOT COALESCE((${now}), false)`,
    );
  }
  if (changed?.length) {
    const differs = changed.map((f) => sql<boolean>`${columnSql(NEW, f)} IS DISTINCT FROM ${columnSql(OLD, f)}`);
    parts.push(sql<boolean>`(${sql.join(differs, sql` OR `)})`);
  }
  if (!parts.length) return sql<boolean>`true`;
  return sql<boolean>`${sql.join(
    parts.map((p) => sql`COALESCE((${p}), false)`),
    sql` AND `,
  )}`;
}
