import { sql } from 'kysely';
import { COMPARISON_OPERATORS, defined, literal, rangeChecks, type FieldType } from '../field-type.ts';
import { numericConversions } from './decimal.ts';

/** A percentage from 0 to 100 with up to two decimals, numeric(5, 2); shown with a % sign. */
export const percent: FieldType = Object.freeze({
  name: 'percent',
  description: 'Percentage from 0 to 100 with up to two decimals, numeric(5,2); shown with a % sign.',
  options: ['searchable', 'indexed', 'default', 'min', 'max'],
  capabilities: {
    primary: false,
    key: false,
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
  presentation: { label: 'Percent', shape: 'must be a percentage from 0 to 100', width: { fixed: 100 }, suffix: '%' },
  baseType: 'numeric',
  output: (column) => sql`trim_scale(${column})`,
  columnType: () => sql`numeric(5, 2)`,
  checks: (field, column) => [sql<boolean>`${column} BETWEEN 0 AND 100`, ...rangeChecks(field, column)],
  valueSchema: (field) =>
    defined({
      type: 'number',
      minimum: Math.max(field.min ?? 0, 0),
      maximum: Math.min(field.max ?? 100, 100),
      'x-xrm-scale': 2,
    }),
  graphql: 'Float',
  filterOperators: COMPARISON_OPERATORS,
  defaultSql: (value) => literal(value as number),
  definitionProblems: (field) =>
    (field.min !== undefined && (field.min < 0 || field.min > 100)) ||
    (field.max !== undefined && (field.max < 0 || field.max > 100))
      ? ['min and max of a percent lie within 0 and 100']
      : [],
  // into decimal or money wide enough for 100.00, and into text
  conversions: numericConversions(3, 2),
} satisfies FieldType);
