/**
 * The GraphQL types of one entity: the record type (system fields, fields in camelCase, lookups
 * as `<name>Id` plus the referenced record, navigations as connections), its connection and edge,
 * and the create and update inputs. Records stay flat snake_case JSON; resolvers read them.
 */
import {
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLInputFieldConfig,
  type GraphQLInputType,
  type GraphQLOutputType,
} from 'graphql';
import type { Catalog, Navigation } from '../../metadata/catalog.ts';
import { FIELD_TYPES, takesChoices } from '../../metadata/field-types/index.ts';
import { camelCase, lookupIdField } from '../../metadata/inflection.ts';
import type { EntityDef, FieldDef } from '../../metadata/types.ts';
import { HISTORY_FIELD, historyField } from './audit-history.ts';
import { TIMELINE_FIELD, timelineField } from './timeline.ts';
import { connectionTypes, navigationArgs, type Connection, type Node } from './connection.ts';
import type { GraphqlContext } from './context.ts';
import { SortOrder, type OperatorTypes } from './filter-types.ts';
import { isMaintained } from '../../metadata/signal-fields.ts';
import { SYSTEM_FIELDS } from '../../metadata/system-fields.ts';
import type { MemberExtension } from './selection.ts';
import type { EntityNames } from './names.ts';
import { RecordKeys } from './record-input.ts';
import { scalarType } from './scalars.ts';

export interface EntityTypes {
  readonly entity: EntityDef;
  readonly names: EntityNames;
  readonly object: GraphQLObjectType<Node, GraphqlContext>;
  readonly filter: GraphQLInputObjectType;
  readonly orderBy: GraphQLInputObjectType;
  readonly relationFilter: GraphQLInputObjectType;
  readonly connection: GraphQLObjectType<Connection>;
  readonly createInput: GraphQLInputObjectType;
  /** Absent when no field can change after creation (only read-only fields). */
  readonly updateInput?: GraphQLInputObjectType;
  readonly keys: RecordKeys;
  readonly navigations: readonly Navigation[];
}

export interface BuildContext {
  readonly catalog: Catalog;
  /** Types of every entity (filled before any field thunk runs). */
  readonly types: ReadonlyMap<string, EntityTypes>;
  readonly warn: (message: string) => void;
  readonly operators: OperatorTypes;
}

type RecordField = GraphQLFieldConfig<Node, GraphqlContext>;

/** Records come from the query engine keyed by response key (alias or field name). */
const byKey: GraphQLFieldResolver<Node, GraphqlContext> = (source, _args, _ctx, info) =>
  source[info.path.key as string] ?? null;

const xrm = (ext: MemberExtension) => ({ xrm: ext });

/** A field map that keeps the first member of a name and warns about any later one. */
function memberMap<T>(owner: string, warn: (message: string) => void) {
  const map: Record<string, T> = {};
  return {
    map,
    add(name: string, config: T): boolean {
      if (Object.hasOwn(map, name)) {
        warn(`GraphQL member ${owner}.${name} is defined twice; the later one is left out`);
        return false;
      }
      map[name] = config;
      return true;
    },
  };
}

function describe(field: FieldDef, catalog: Catalog): string {
  const text = field.description ?? field.displayName;
  if (!takesChoices(field.type)) return text;
  return `${text} (one of: ${catalog
    .choiceOptions(field)
    .map((o) => o.value)
    .join(', ')})`;
}

function valueType(field: FieldDef): GraphQLOutputType & GraphQLInputType {
  const scalar = scalarType(FIELD_TYPES[field.type].graphql);
  return FIELD_TYPES[field.type].capabilities.list ? new GraphQLList(new GraphQLNonNull(scalar)) : scalar;
}

const nonNullIf = <T extends GraphQLOutputType & GraphQLInputType>(type: T, required: boolean) =>
  required ? new GraphQLNonNull(type) : type;

function recordFields(entity: EntityDef, names: EntityNames, ctx: BuildContext): Record<string, RecordField> {
  const fields = memberMap<RecordField>(names.type, ctx.warn);
  // system fields are ordinary fields (metadata/system-fields.ts), first
  for (const field of [...SYSTEM_FIELDS, ...entity.fields]) {
    const description = describe(field, ctx.catalog);
    const column = xrm({ kind: 'column', column: field.name, entity: entity.name, field });
    if (field.type !== 'lookup') {
      fields.add(camelCase(field.name), {
        type: nonNullIf(valueType(field), field.required),
        description,
        resolve: byKey,
        extensions: column,
      });
      continue;
    }
    const target = field.target!;
    fields.add(lookupIdField(field.name), {
      type: nonNullIf(GraphQLID, field.required),
      description: `${description} (id)`,
      resolve: byKey,
      extensions: column,
    });
    fields.add(camelCase(field.name), {
      type: ctx.types.get(target)!.object,
      description,
      resolve: byKey,
      extensions: xrm({ kind: 'lookup', field, target, entity: entity.name }),
    });
  }
  for (const nav of ctx.catalog.navigations(entity.name))
    fields.add(camelCase(nav.name), navigationField(entity, nav, ctx));
  // last: a field or navigation of the same name keeps it (this one is left out, with a warning)
  fields.add(HISTORY_FIELD, historyField(entity));
  if (entity.trackActivities) fields.add(TIMELINE_FIELD, timelineField(entity));
  return fields.map;
}

function navigationField(entity: EntityDef, nav: Navigation, ctx: BuildContext): RecordField {
  const target = nav.kind === 'inverse' ? nav.source : nav.other;
  const other = ctx.types.get(target)!;
  const description =
    nav.kind === 'inverse'
      ? `${other.entity.pluralDisplayName} whose ${camelCase(nav.field)} is this ${entity.displayName}`
      : `${other.entity.pluralDisplayName} linked through ` +
        (ctx.catalog.relationships.get(nav.relationship)?.displayName ?? nav.relationship);
  return {
    type: new GraphQLNonNull(other.connection),
    description,
    args: navigationArgs(other.filter, new GraphQLList(new GraphQLNonNull(other.orderBy))),
    resolve: byKey,
    extensions: xrm({ kind: 'many', navigation: nav, target }),
  };
}

function filterFields(
  entity: EntityDef,
  ctx: BuildContext,
  self: () => GraphQLInputObjectType,
): Record<string, GraphQLInputFieldConfig> {
  const inputs = memberMap<GraphQLInputFieldConfig>(`${entity.name} filter`, ctx.warn);
  inputs.add('and', { type: new GraphQLList(new GraphQLNonNull(self())), description: 'All of these' });
  inputs.add('or', { type: new GraphQLList(new GraphQLNonNull(self())), description: 'Any of these' });
  inputs.add('not', { type: self(), description: 'Not this' });
  for (const field of [...SYSTEM_FIELDS, ...entity.fields]) {
    const operators = ctx.operators.get(field.type)!;
    if (field.type !== 'lookup') {
      inputs.add(camelCase(field.name), { type: operators, description: field.displayName });
      continue;
    }
    inputs.add(lookupIdField(field.name), { type: operators, description: `${field.displayName} (id)` });
    inputs.add(camelCase(field.name), {
      type: ctx.types.get(field.target!)!.filter,
      description: `${field.displayName}: conditions on the referenced record`,
    });
  }
  for (const nav of ctx.catalog.navigations(entity.name)) {
    const other = ctx.types.get(nav.kind === 'inverse' ? nav.source : nav.other)!;
    inputs.add(camelCase(nav.name), {
      type: other.relationFilter,
      description: 'Some, every or none of the related records',
    });
  }
  return inputs.map;
}

function orderByFields(entity: EntityDef, ctx: BuildContext): Record<string, GraphQLInputFieldConfig> {
  const inputs = memberMap<GraphQLInputFieldConfig>(`${entity.name} orderBy`, ctx.warn);
  for (const field of [...SYSTEM_FIELDS, ...entity.fields]) {
    if (!FIELD_TYPES[field.type].capabilities.sortable) continue;
    if (field.type === 'lookup') {
      inputs.add(lookupIdField(field.name), { type: SortOrder });
      inputs.add(camelCase(field.name), {
        type: ctx.types.get(field.target!)!.orderBy,
        description: `By a field of the referenced ${field.displayName}`,
      });
    } else {
      inputs.add(camelCase(field.name), { type: SortOrder });
    }
  }
  return inputs.map;
}

function inputFields(
  entity: EntityDef,
  owner: string,
  variant: 'create' | 'update',
  ctx: BuildContext,
  keys: RecordKeys,
) {
  const inputs = memberMap<GraphQLInputFieldConfig>(owner, ctx.warn);
  if (variant === 'create') inputs.add('id', { type: GraphQLID, description: 'Optional client-chosen id (a UUID)' });
  for (const field of entity.fields) {
    if (FIELD_TYPES[field.type].readOnly || isMaintained(field)) continue;
    const name = field.type === 'lookup' ? lookupIdField(field.name) : camelCase(field.name);
    const required = variant === 'create' && field.required && field.default === undefined;
    const type = field.type === 'lookup' ? GraphQLID : valueType(field);
    if (inputs.add(name, { type: nonNullIf(type, required), description: describe(field, ctx.catalog) }))
      keys.add(name, field.name);
  }
  return inputs.map;
}

export function entityTypes(entity: EntityDef, names: EntityNames, ctx: BuildContext): EntityTypes {
  const keys = new RecordKeys();
  keys.add('id', 'id');
  const object: GraphQLObjectType<Node, GraphqlContext> = new GraphQLObjectType<Node, GraphqlContext>({
    name: names.type,
    description: entity.description ?? entity.displayName,
    fields: () => recordFields(entity, names, ctx),
  });
  const { connection } = connectionTypes(names, () => object);
  const filter: GraphQLInputObjectType = new GraphQLInputObjectType({
    name: names.filter,
    description: `Conditions on ${entity.displayName} records (all must hold)`,
    fields: () => filterFields(entity, ctx, () => filter),
  });
  const relationFilter = new GraphQLInputObjectType({
    name: names.relationFilter,
    description: `Conditions on related ${entity.displayName} records`,
    fields: () => ({ some: { type: filter }, every: { type: filter }, none: { type: filter } }),
  });
  const orderBy: GraphQLInputObjectType = new GraphQLInputObjectType({
    name: names.orderBy,
    description: `One sort key of ${entity.displayName} records: exactly one member`,
    fields: () => orderByFields(entity, ctx),
  });
  const createFields = inputFields(entity, names.createInput, 'create', ctx, keys);
  const updateFields = inputFields(entity, names.updateInput, 'update', ctx, keys);
  return {
    entity,
    names,
    object,
    connection: connection as GraphQLObjectType<Connection>,
    filter,
    relationFilter,
    orderBy,
    keys,
    navigations: ctx.catalog.navigations(entity.name),
    createInput: new GraphQLInputObjectType({
      name: names.createInput,
      description: `A new ${entity.displayName} record`,
      fields: createFields,
    }),
    updateInput: Object.keys(updateFields).length
      ? new GraphQLInputObjectType({
          name: names.updateInput,
          description: `Changes to a ${entity.displayName} record (only the members given)`,
          fields: updateFields,
        })
      : undefined,
  };
}
