import { sql } from 'kysely';
import { literal, toTextConversions, type FieldType } from '../field-type.ts';

/** One of a list of options with stable string values (inline `options` or a shared `choiceSet`). */
export const choice: FieldType = Object.freeze({
  name: 'choice',
  description: 'One value from a list of options (text with a CHECK); options inline or from a shared choice set.',
  options: ['options', 'choiceSet', 'default', 'searchable', 'indexed'],
  capabilities: {
    primary: false,
    key: true,
    fullText: false,
    sortable: true,
    indexable: true,
    ordered: true,
    groupable: true,
    numeric: false,
    list: false,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'Choice', shape: 'must be one of the choices', width: { min: 120 } },
  baseType: 'text',
  columnType: () => sql`text`,
  checks: (field, column, ctx) => {
    const values = ctx.choiceOptions(field).map((o) => literal(o.value));
    return [sql<boolean>`${column} IN (${sql.join(values)})`];
  },
  valueSchema: (field, ctx) => ({ type: 'string', enum: ctx.choiceOptions(field).map((o) => o.value) }),
  graphql: 'String',
  filterOperators: ['eq', 'ne', 'in', 'nin', 'isNull'],
  defaultSql: (value) => literal(value as string),
  conversions: {
    multiChoice: { using: (column) => sql`CASE WHEN ${column} IS NULL THEN NULL ELSE ARRAY[${column}]::text[] END` },
    ...toTextConversions(),
  },
} satisfies FieldType);
