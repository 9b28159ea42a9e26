/**
 * GraphQL filter and orderBy inputs, generated from the field types' filter operators:
 * `EmployeeFilter { fullName: TextOperators, managerId: LookupOperators, manager: EmployeeFilter,
 * reports: EmployeeRelationFilter, and, or, not }` and `EmployeeOrderBy { fullName: SortOrder,
 * manager: EmployeeOrderBy }`. Values convert to the query engine's JSON filter and sort forms;
 * the engine checks them against the catalog like any other client's.
 */
import { SYSTEM_FIELDS } from '../../metadata/system-fields.ts';
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLString,
  type GraphQLInputFieldConfig,
  type GraphQLInputType,
} from 'graphql';
import type { FilterOperator } from '../../metadata/field-type.ts';
import { FIELD_TYPES, FIELD_TYPE_NAMES } from '../../metadata/field-types/index.ts';
import { camelCase, lookupIdField, pascalCase } from '../../metadata/inflection.ts';
import type { EntityDef, FieldTypeName } from '../../metadata/types.ts';
import { queryError } from '../query/filter-parse.ts';
import { OPERAND } from '../query/operators.ts';
import { GraphQLJSON, scalarType } from './scalars.ts';
import type { Catalog } from '../../metadata/catalog.ts';

/** Names of the shared operator input types (reserved: no entity may take them). */
export const OPERATOR_TYPE_NAMES: readonly string[] = [
  ...FIELD_TYPE_NAMES.map((t) => `${pascalCase(t)}Operators`),
  'SortOrder',
  'JsonPathCondition',
];

/** A direction as the query engine takes it (the enum's internal values). */
interface Direction {
  readonly descending: boolean;
  readonly nulls?: 'first' | 'last';
}

export const SortOrder = new GraphQLEnumType({
  name: 'SortOrder',
  values: {
    ASC: { value: { descending: false } satisfies Direction },
    DESC: { value: { descending: true } satisfies Direction },
    ASC_NULLS_FIRST: { value: { descending: false, nulls: 'first' } satisfies Direction },
    ASC_NULLS_LAST: { value: { descending: false, nulls: 'last' } satisfies Direction },
    DESC_NULLS_FIRST: { value: { descending: true, nulls: 'first' } satisfies Direction },
    DESC_NULLS_LAST: { value: { descending: true, nulls: 'last' } satisfies Direction },
  },
});

const JsonPathCondition = new GraphQLInputObjectType({
  name: 'JsonPathCondition',
  description: 'Equality at a path inside a JSON value',
  fields: {
    path: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) },
    value: { type: GraphQLJSON },
  },
});

const list = (t: GraphQLInputType) => new GraphQLList(new GraphQLNonNull(t));

function operatorFields(
  operators: readonly FilterOperator[],
  value: GraphQLInputType,
  multi: boolean,
): Record<string, GraphQLInputFieldConfig> {
  const fields: Record<string, GraphQLInputFieldConfig> = {};
  for (const op of operators) {
    switch (OPERAND[op]) {
      case 'flag':
        fields[op] = { type: GraphQLBoolean };
        break;
      case 'list':
        fields[op] = { type: list(value) };
        break;
      case 'pair':
        fields[op] = { type: list(value), description: '[from, to], both included' };
        break;
      case 'text':
        fields[op] = { type: GraphQLString };
        break;
      case 'set':
        fields[op] = { type: list(GraphQLString) };
        break;
      case 'jsonPath':
        fields[op] = { type: JsonPathCondition };
        break;
      case 'value':
        fields[op] = { type: multi ? list(value) : value };
    }
  }
  return fields;
}

/** One operator input type per field type, plus the system columns'. */
export function operatorTypes(): Map<string, GraphQLInputObjectType> {
  const types = new Map<string, GraphQLInputObjectType>();
  for (const t of FIELD_TYPE_NAMES) {
    const type = FIELD_TYPES[t];
    // a list type's operands are its items (multiChoice: option values)
    const value = type.capabilities.list ? GraphQLString : scalarType(type.graphql);
    types.set(
      t,
      new GraphQLInputObjectType({
        name: `${pascalCase(t)}Operators`,
        description: `Conditions on a ${t} field`,
        fields: operatorFields(type.filterOperators, value, type.capabilities.list),
      }),
    );
  }
  return types;
}

const keyMaps = new WeakMap<EntityDef, Map<string, string>>();

/** GraphQL member name → logical name (field, lookup, navigation or system column) of an entity. */
export function graphqlKey(catalog: Catalog) {
  return (entity: EntityDef, key: string): string => {
    let map = keyMaps.get(entity);
    if (!map) {
      map = new Map();
      for (const f of SYSTEM_FIELDS) map.set(camelCase(f.name), f.name);
      for (const f of entity.fields) {
        if (!map.has(camelCase(f.name))) map.set(camelCase(f.name), f.name);
        if (f.type === 'lookup' && !map.has(lookupIdField(f.name))) map.set(lookupIdField(f.name), f.name);
      }
      for (const n of catalog.navigations(entity.name))
        if (!map.has(camelCase(n.name))) map.set(camelCase(n.name), n.name);
      keyMaps.set(entity, map);
    }
    return map.get(key) ?? key;
  };
}

/**
 * GraphQL filter values → the JSON filter form. Lookup ids (`managerId: {eq}`) become
 * comparisons on the lookup, lookup objects (`manager: {…}`) conditions on the target; keys stay
 * GraphQL names (the parse context maps them).
 */
export function filterToJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(filterToJson);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = k === 'jsonPathEq' ? v : filterToJson(v);
  return out;
}

/** `[{ fullName: DESC }, { manager: { fullName: ASC } }]` → sort strings with GraphQL names. */
/** GraphQL orderBy items (`{ manager: { fullName: DESC_NULLS_LAST } }`) as sort keys: a path and a direction. */
export function orderByKeys(
  orderBy: readonly unknown[] | null | undefined,
  path: string,
): ({ path: string[] } & Direction)[] | undefined {
  if (!orderBy?.length) return undefined;
  return orderBy.map((item, i) => {
    const segments: string[] = [];
    let current: unknown = item;
    while (typeof current === 'object' && current !== null && !('descending' in current)) {
      const entries = Object.entries(current).filter(([, v]) => v !== undefined && v !== null);
      if (entries.length !== 1) throw queryError(`${path}/${i}`, 'each orderBy item names exactly one field');
      segments.push(entries[0]![0]);
      current = entries[0]![1];
    }
    return { path: segments, ...(current as Direction) };
  });
}

export type OperatorTypes = ReturnType<typeof operatorTypes>;

/** The operator input type of a field type name (or a system column kind). */
export function operatorTypeOf(types: OperatorTypes, type: FieldTypeName | `system:${string}`): GraphQLInputObjectType {
  return types.get(type)!;
}
