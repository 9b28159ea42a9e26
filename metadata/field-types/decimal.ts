import { sql } from 'kysely';
import {
  COMPARISON_OPERATORS,
  defined,
  literal,
  rangeChecks,
  toTextConversions,
  type Conversion,
  type FieldType,
  type JsonSchema,
} from '../field-type.ts';
import type { FieldDef, FieldTypeName } from '../types.ts';

export const DEFAULT_PRECISION = 18;
export const DEFAULT_SCALE = 2;

export function precisionOf(field: FieldDef): { precision: number; scale: number } {
  if (field.type === 'money') return { precision: 19, scale: 4 };
  return { precision: field.precision ?? DEFAULT_PRECISION, scale: field.scale ?? DEFAULT_SCALE };
}

/** Exclusive bound of a numeric(p, s) value: 10^(p-s). */
export function numericBound(field: FieldDef): number {
  const { precision, scale } = precisionOf(field);
  return 10 ** (precision - scale);
}

/**
 * Conversions from a number type into decimal, money and text, lossless when the target keeps
 * `integerDigits` digits before the point and at least the source's scale.
 */
export function numericConversions(integerDigits: number, sourceScale = 0): Partial<Record<FieldTypeName, Conversion>> {
  const intoNumeric: Conversion = {
    refuse: (from, to) => {
      const target = precisionOf(to);
      const fromScale = from.type === 'decimal' || from.type === 'money' ? precisionOf(from).scale : sourceScale;
      const fromDigits =
        from.type === 'decimal' || from.type === 'money' ? precisionOf(from).precision - fromScale : integerDigits;
      if (target.precision - target.scale < fromDigits || target.scale < fromScale) {
        return (
          `numeric(${target.precision},${target.scale}) cannot hold every ${from.type} value; ` +
          `it needs at least ${fromDigits} digits before and ${fromScale} after the point`
        );
      }
      return undefined;
    },
  };
  return { decimal: intoNumeric, money: intoNumeric, ...toTextConversions() };
}

/**
 * JSON Schema of a numeric(precision, scale) value: inside the bound, and with no more decimal places
 * than the scale (`x-xrm-scale`, see ajv.ts) — PostgreSQL would round the rest away silently, and the
 * value would not read back as it was written.
 */
export function numericSchema(field: FieldDef): JsonSchema {
  const bound = numericBound(field);
  const { scale } = precisionOf(field);
  return defined({
    type: 'number',
    exclusiveMinimum: -bound,
    exclusiveMaximum: bound,
    minimum: field.min,
    maximum: field.max,
    'x-xrm-scale': scale,
  });
}

/** Fixed-point number, numeric(precision, scale). */
export const decimal: FieldType = Object.freeze({
  name: 'decimal',
  description: 'Fixed-point number, numeric(precision, scale); default precision 18, scale 2.',
  options: ['unique', 'searchable', 'indexed', 'default', 'min', 'max', 'precision', 'scale'],
  capabilities: {
    primary: false,
    key: true,
    fullText: false,
    sortable: true,
    indexable: true,
    ordered: true,
    groupable: true,
    numeric: true,
    list: false,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'Decimal', shape: 'must be a number', width: { fixed: 130 } },
  label: (field) => `decimal(${field.precision ?? 18},${field.scale ?? 2})`,
  baseType: 'numeric',
  // 1250000.5, as a write answers it, not numeric(19,4)'s 1250000.5000
  output: (column) => sql`trim_scale(${column})`,
  columnType: (field) => {
    const { precision, scale } = precisionOf(field);
    return sql`numeric(${sql.raw(String(precision))}, ${sql.raw(String(scale))})`;
  },
  checks: (field, column) => rangeChecks(field, column),
  valueSchema: (field) => numericSchema(field),
  graphql: 'Float',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => literal(value as number),
  definitionProblems: (field) => {
    const { precision, scale } = precisionOf(field);
    return scale > precision ? [`scale (${scale}) cannot exceed precision (${precision})`] : [];
  },
  conversions: numericConversions(0),
} satisfies FieldType);
