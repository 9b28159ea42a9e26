import { sql } from 'kysely';
import { literal, type FieldType } from '../field-type.ts';

/** Several options from a list (text[] with a CHECK that every element is an option). */
export const multiChoice: FieldType = Object.freeze({
  name: 'multiChoice',
  description: 'Any number of values from a list of options (text[] with a CHECK).',
  options: ['options', 'choiceSet', 'default', 'searchable', 'indexed'],
  capabilities: {
    primary: false,
    key: false,
    fullText: false,
    sortable: false,
    indexable: true,
    ordered: false,
    groupable: true,
    numeric: false,
    list: true,
    sequence: false,
    temporal: false,
  },
  presentation: { label: 'Multiple choice', shape: 'must be among the choices', width: { min: 160 } },
  baseType: 'text[]',
  columnType: () => sql`text[]`,
  checks: (field, column, ctx) => {
    const values = ctx.choiceOptions(field).map((o) => literal(o.value));
    return [sql<boolean>`${column} <@ ARRAY[${sql.join(values)}]::text[]`];
  },
  valueSchema: (field, ctx) => ({
    type: 'array',
    items: { type: 'string', enum: ctx.choiceOptions(field).map((o) => o.value) },
    uniqueItems: true,
  }),
  graphql: 'String',
  filterOperators: ['containsAny', 'containsAll', 'eq', 'isNull'],
  encode: (value) => value,
  defaultSql: (value) => {
    const items = (value as string[]).map((v) => literal(v));
    return items.length ? sql`ARRAY[${sql.join(items)}]::text[]` : sql`'{}'::text[]`;
  },
} satisfies FieldType);
