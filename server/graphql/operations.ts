/**
 * Root fields of one entity. Reads (`iotDevice(id)`, `iotDevices(…)`, `iotDevicesAggregate`)
 * compile the whole selection to ONE SQL statement through the query engine; mutations call the
 * records service (which validates every input) and read the result back with the selection.
 */
import {
  GraphQLBoolean,
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLString,
  type GraphQLFieldConfig,
  type FieldNode,
  type GraphQLResolveInfo,
  visit,
} from 'graphql';
import { pascalCase } from '../../metadata/inflection.ts';
import type { Db } from '../../metadata/database.ts';
import type { Projection, ReadQuery } from '../query/ast.ts';
import type { WriteMessage } from '../records/pipeline.ts';
import type { ParseContext } from '../query/filter-parse.ts';
import type { QueryService } from '../query/query-service.ts';
import { listArgs } from './connection.ts';
import { schemaVersionOf, type GraphqlContext } from './context.ts';
import type { Access } from '../security/access.ts';
import type { EntityTypes } from './entity-types.ts';
import { filterToJson, graphqlKey } from './filter-types.ts';
import { GraphQLJSON } from './scalars.ts';
import { connectionSelection, pageOf, projectionOf, type ConnectionArgs, type SelectionInfo } from './selection.ts';

type RootField = GraphQLFieldConfig<unknown, GraphqlContext>;
type Input = Readonly<Record<string, unknown>>;

const idArg = { id: { type: new GraphQLNonNull(GraphQLID) } };
const expectedVersion = {
  type: GraphQLInt,
  description:
    'Only if the record is still at this version (optimistic concurrency); else XRM_ERR_RECORD_VERSION_MISMATCH',
};

function walk(parse: ParseContext, query: QueryService, info: SelectionInfo) {
  return { info, parse: { ...parse, key: graphqlKey(parse.catalog) }, maxPageSize: query.maxPageSize };
}

/**
 * What identifies a root field's statement: its field node (mercurius caches parsed documents, so
 * the same query text gives the same node), its arguments and the request's variables.
 */
function shapeOf(info: SelectionInfo, args: unknown, without?: string) {
  let variables = info.variableValues;
  if (without !== undefined && without in variables) {
    const { [without]: _left, ...rest } = variables;
    variables = rest;
  }
  return { shape: info.fieldNodes[0]!, values: [args, variables] };
}

/**
 * The variable the root field's `id` argument takes its value from (`one(id: $id)`), when the
 * field uses it nowhere else (elsewhere, its value shapes the statement).
 */
function idVariableOf(info: SelectionInfo): string | undefined {
  const field = info.fieldNodes[0]!;
  if (idVariables.has(field)) return idVariables.get(field);
  const arg = field.arguments?.find((a) => a.name.value === 'id');
  let found: string | undefined;
  if (arg?.value.kind === 'Variable') {
    const name = arg.value.name.value;
    let uses = 0;
    visit(field, {
      Variable(node) {
        if (node.name.value === name) uses++;
      },
    });
    if (uses === 1) found = name;
  }
  idVariables.set(field, found);
  return found;
}

/** idVariableOf's answer per field node: a parsed document is cached, so the walk is done once. */
const idVariables = new WeakMap<FieldNode, string | undefined>();

/** Reads one record with the current selection (null when there is none), in `db` when given. */
async function readOne(
  types: EntityTypes,
  id: string,
  query: QueryService,
  info: GraphQLResolveInfo,
  access: Access | undefined,
  db?: Db,
): Promise<unknown> {
  const body = await recordBody(types, id, query, info, access, db);
  return body === undefined ? null : JSON.parse(body);
}

/**
 * One record with the selection as the statement's JSON text, keyed by response key: exactly the
 * GraphQL value of a selection of own fields (direct.ts answers with it as it is).
 */
export async function recordBody(
  types: EntityTypes,
  id: string,
  query: QueryService,
  info: SelectionInfo,
  access: Access | undefined,
  db?: Db,
): Promise<string | undefined> {
  const row = await types.keys.call(() =>
    query.read(
      { db, access, basis: schemaVersionOf(info.schema) },
      {
        kind: 'record',
        entity: types.entity.name,
        id,
        // the id is the statement's parameter 0, not part of its shape (nor is the variable holding it)
        ...shapeOf(info, {}, idVariableOf(info)),
        build: (parse) => projectionOf(types.object, info.fieldNodes, walk(parse, query, info)),
      },
    ),
  );
  return row?.body;
}

/**
 * A page of records with the selection as the statement's JSON text: the GraphQL connection, or
 * (`nodes`: direct.ts, for a selection of `nodes` alone) the array of its nodes.
 */
export async function pageBody(
  types: EntityTypes,
  args: ConnectionArgs,
  query: QueryService,
  info: SelectionInfo,
  access: Access | undefined,
  shape: 'connection' | 'nodes',
): Promise<string> {
  const build = (parse: ParseContext): ReadQuery => {
    const w = walk(parse, query, info);
    const { projection, count } = connectionSelection(types.connection, info.fieldNodes, w);
    const backward = args.last != null || args.before != null;
    return {
      entity: types.entity.name,
      ...pageOf(types.entity.name, args, w, ''),
      projection,
      count: count ? 'exact' : undefined,
      cursor: (backward ? args.before : args.after) ?? undefined,
      backward,
      shape,
    };
  };
  const page = query.read(
    { access, basis: schemaVersionOf(info.schema) },
    { kind: 'page', ...shapeOf(info, args), build },
  );
  return types.keys.call(() => page);
}

/**
 * The projection of a create's or update's selection when the written record itself is the
 * answer: the selection reads only its own fields and the caller may read every record of the
 * entity (the write's own RETURNING is the answer, no second statement); undefined when the record
 * must be read back. A secured field the caller may not read is refused either way, before
 * anything is written.
 */
export function ownProjection(
  types: EntityTypes,
  query: QueryService,
  access: Access | undefined,
  info: SelectionInfo,
): Projection | undefined {
  const parse = query.parseContext(undefined, access);
  const everyRecord = !access || access.policy.predicate(types.entity.name, 'read', 't', parse.catalog) === undefined;
  const projection = projectionOf(types.object, info.fieldNodes, walk(parse, query, info));
  return everyRecord && projection.items.every((item) => item.kind === 'column') ? projection : undefined;
}

/** The written record as the value of an own projection, keyed by response key. */
export function ownAnswer(projection: Projection, record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    projection.items.map((item) => [item.key, item.kind === 'column' ? record[item.column] : undefined]),
  );
}

/**
 * What a create or update answers: the written record itself when its selection is an own
 * projection; otherwise the record read back with the selection, in the operation's transaction.
 */
async function writeAndAnswer(
  types: EntityTypes,
  message: WriteMessage,
  context: GraphqlContext,
  info: GraphQLResolveInfo,
): Promise<unknown> {
  const { query, access } = context;
  const own = ownProjection(types, query, access, info);
  // answered from its own write, an operation's one field needs no transaction around it: nothing
  // can fail after the write (a read back could, and must then undo it)
  const [done] = await types.keys.call(() => context.write([message], own ? info : undefined));
  const record = done!.record!;
  if (own) return ownAnswer(own, record);
  return readOne(types, record.id as string, query, info, access, await context.current());
}

export function queryFields(types: EntityTypes): Record<string, RootField> {
  const { entity, names } = types;
  return {
    [names.one]: {
      type: types.object,
      description: `One ${entity.displayName} record by id (null when there is none)`,
      args: idArg,
      resolve: (_root, { id }: { id: string }, { query, access }, info) => readOne(types, id, query, info, access),
      extensions: { xrmRecord: types },
    },
    [names.many]: {
      type: new GraphQLNonNull(types.connection),
      description:
        `${entity.pluralDisplayName}: filter, search, orderBy, ` + 'and first/after, last/before or offset paging',
      args: listArgs(types.filter, new GraphQLList(new GraphQLNonNull(types.orderBy))),
      resolve: async (_root, args: ConnectionArgs, { query, access }, info) =>
        JSON.parse(await pageBody(types, args, query, info, access, 'connection')),
      extensions: { xrmPage: types },
    },
    [names.aggregate]: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLJSON))),
      description:
        `Aggregates of ${entity.pluralDisplayName}, one object per group. ` +
        'aggregate: count, countDistinct(f), sum(f), avg(f), min(f), max(f); ' +
        'groupBy: field, lookup.field, year|month|day|week(dateField). Names are GraphQL field names.',
      args: {
        aggregate: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
        groupBy: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
        filter: { type: types.filter },
        search: { type: GraphQLString },
        limit: { type: GraphQLInt },
      },
      resolve: async (
        _root,
        args: { aggregate?: string[]; groupBy?: string[]; filter?: unknown; search?: string; limit?: number },
        { query, access },
      ) => {
        const params = { ...args, filter: args.filter == null ? undefined : filterToJson(args.filter) };
        const body = await query.read({ access }, { kind: 'aggregates', entity: entity.name, params, key: graphqlKey });
        return (JSON.parse(body) as { data: unknown[] }).data;
      },
    },
  };
}

/** The write message of a create mutation's (coerced) input. */
export function createMessage(types: EntityTypes, input: Input): WriteMessage {
  return { message: 'create', entity: types.entity.name, input: types.keys.toRecord(input) };
}

export function mutationFields(types: EntityTypes): Record<string, RootField> {
  const { entity, names, keys } = types;
  const fields: Record<string, RootField> = {
    [names.create]: {
      type: new GraphQLNonNull(types.object),
      description: `Creates a ${entity.displayName} record`,
      args: { input: { type: new GraphQLNonNull(types.createInput) } },
      resolve: (_root, { input }: { input: Input }, context, info) =>
        writeAndAnswer(types, createMessage(types, input), context, info),
      extensions: { xrmCreate: types },
    },
  };
  if (types.updateInput) {
    fields[names.update] = {
      type: new GraphQLNonNull(types.object),
      description: `Changes a ${entity.displayName} record (only the members given)`,
      args: { ...idArg, input: { type: new GraphQLNonNull(types.updateInput) }, expectedVersion },
      resolve: async (
        _root,
        { id, input, expectedVersion }: { id: string; input: Input; expectedVersion?: number | null },
        context,
        info,
      ) => {
        const update = { message: 'update', entity: entity.name, id, input: keys.toRecord(input) } as const;
        return writeAndAnswer(types, { ...update, expectedVersion: expectedVersion ?? undefined }, context, info);
      },
    };
  }
  fields[names.delete] = {
    type: new GraphQLNonNull(GraphQLID),
    description: `Deletes a ${entity.displayName} record; returns its id`,
    args: { ...idArg, expectedVersion },
    resolve: async (
      _root,
      { id, expectedVersion }: { id: string; expectedVersion?: number | null },
      { write },
      info,
    ) => {
      await keys.call(() =>
        write([{ message: 'delete', entity: entity.name, id, expectedVersion: expectedVersion ?? undefined }], info),
      );
      return id;
    },
  };
  for (const nav of types.navigations) {
    if (nav.kind !== 'manyToMany') continue;
    const suffix = `${names.type}${pascalCase(nav.name)}`;
    const link = (from: string, to: string) =>
      (nav.selfColumn === 'from_id' ? [from, to] : [to, from]) as [string, string];
    const args = {
      id: { type: new GraphQLNonNull(GraphQLID), description: `The ${entity.displayName} record` },
      otherId: { type: new GraphQLNonNull(GraphQLID), description: 'The record to link or unlink' },
    };
    fields[`associate${suffix}`] ??= {
      type: new GraphQLNonNull(GraphQLBoolean),
      description: `Links a record to a ${entity.displayName} record through "${nav.name}" (idempotent)`,
      args,
      resolve: async (_root, { id, otherId }: { id: string; otherId: string }, { write }, info) => {
        const [fromId, toId] = link(id, otherId);
        await write([{ message: 'associate', relationship: nav.relationship, fromId, toId }], info);
        return true;
      },
    };
    fields[`disassociate${suffix}`] ??= {
      type: new GraphQLNonNull(GraphQLBoolean),
      description: `Unlinks a record from a ${entity.displayName} record through "${nav.name}" (idempotent)`,
      args,
      resolve: async (_root, { id, otherId }: { id: string; otherId: string }, { write }, info) => {
        const [fromId, toId] = link(id, otherId);
        await write([{ message: 'disassociate', relationship: nav.relationship, fromId, toId }], info);
        return true;
      },
    };
  }
  return fields;
}
