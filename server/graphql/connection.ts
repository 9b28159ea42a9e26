/**
 * Relay-style connections over RecordsService pages: `{ nodes, edges { cursor node }, pageInfo,
 * totalCount }`, page arguments, and the look into the query that decides whether to count.
 */
import {
  GraphQLBoolean, GraphQLIncludeDirective, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSkipDirective,
  GraphQLString, Kind, getDirectiveValues, type GraphQLFieldConfigArgumentMap, type GraphQLResolveInfo, type SelectionSetNode,
} from 'graphql';
import { XrmError } from '../../metadata/errors.ts';
import type { ListOptions, ListResult, RecordJson } from '../records/service.ts';
import type { EntityNames } from './names.ts';

export const DEFAULT_PAGE_SIZE = 50;

/** What a connection field resolves to; its sub-fields derive the rest. */
export interface Connection {
  readonly records: readonly RecordJson[];
  readonly totalCount?: number;
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
}

export interface PageArgs {
  first?: number | null;
  offset?: number | null;
  after?: string | null;
}

/**
 * An edge's cursor. It is the keyset cursor RecordsService issues as `nextCursor` (base64url of
 * `[created_at, id]`; the service does not export its encoder), so any edge's cursor can be
 * passed back as `after`. tests/graphql.test.ts checks the two stay identical.
 */
export function cursorOf(record: RecordJson): string {
  return Buffer.from(JSON.stringify([record.created_at, record.id])).toString('base64url');
}

export const PageInfoType = new GraphQLObjectType<Connection>({
  name: 'PageInfo',
  description: 'Where a page sits in the whole list.',
  fields: {
    hasNextPage: { type: new GraphQLNonNull(GraphQLBoolean) },
    hasPreviousPage: { type: new GraphQLNonNull(GraphQLBoolean) },
    startCursor: { type: GraphQLString, resolve: (c) => (c.records.length ? cursorOf(c.records[0]!) : null) },
    endCursor: { type: GraphQLString, resolve: (c) => (c.records.length ? cursorOf(c.records[c.records.length - 1]!) : null) },
  },
});

export const navigationArgs: GraphQLFieldConfigArgumentMap = {
  first: { type: GraphQLInt, description: `Page size (default ${DEFAULT_PAGE_SIZE}, at most the server's maximum page size)` },
  offset: { type: GraphQLInt, description: 'Records to skip' },
};

export const listArgs: GraphQLFieldConfigArgumentMap = {
  ...navigationArgs,
  after: { type: GraphQLString, description: 'Continue after this cursor (an edge cursor or pageInfo.endCursor)' },
};

export function connectionTypes(names: EntityNames, node: () => GraphQLObjectType): { connection: GraphQLObjectType<Connection>; edge: GraphQLObjectType<RecordJson> } {
  const edge = new GraphQLObjectType<RecordJson>({
    name: names.edge,
    fields: () => ({
      cursor: { type: new GraphQLNonNull(GraphQLString), resolve: (record) => cursorOf(record) },
      node: { type: new GraphQLNonNull(node()), resolve: (record) => record },
    }),
  });
  const connection = new GraphQLObjectType<Connection>({
    name: names.connection,
    description: `A page of ${names.type} records.`,
    fields: () => ({
      nodes: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(node()))), resolve: (c) => c.records },
      edges: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(edge))), resolve: (c) => c.records },
      pageInfo: { type: new GraphQLNonNull(PageInfoType), resolve: (c) => c },
      totalCount: { type: GraphQLInt, description: 'Number of records in the whole list (counted only when selected)', resolve: (c) => c.totalCount ?? null },
    }),
  });
  return { connection, edge };
}

function included(node: Parameters<typeof getDirectiveValues>[1], variables: GraphQLResolveInfo['variableValues']): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/** Whether the current field's selection asks for `name` (through fragments, honouring @skip/@include). */
export function selects(info: GraphQLResolveInfo, name: string): boolean {
  const visit = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) => {
      if (!included(selection, info.variableValues)) return false;
      if (selection.kind === Kind.FIELD) return selection.name.value === name;
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      return visit(info.fragments[selection.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet));
}

/**
 * Reads one page through `fetch` (RecordsService.list or listRelated). Asks for one record more
 * than the page so `hasNextPage` is known for many-to-many reads too (they return no cursor).
 */
export async function readPage(
  fetch: (options: ListOptions) => Promise<ListResult>,
  args: PageArgs,
  info: GraphQLResolveInfo,
  maxPageSize: number,
): Promise<Connection> {
  const errors = [];
  if (args.first != null && args.first < 0) errors.push({ path: '/first', message: 'must be >= 0' });
  if (args.offset != null && args.offset < 0) errors.push({ path: '/offset', message: 'must be >= 0' });
  if (errors.length) throw new XrmError('XRM_ERR_QUERY_INVALID', 'Invalid page arguments', { errors });
  const size = Math.min(args.first ?? DEFAULT_PAGE_SIZE, maxPageSize);
  const offset = args.offset ?? 0;
  const options: ListOptions = { limit: size + 1, offset, count: selects(info, 'totalCount') };
  if (args.after != null) options.cursor = args.after;
  let result: ListResult;
  try {
    result = await fetch(options);
  } catch (error) {
    if (error instanceof XrmError && error.errors?.some((e) => e.path === '/cursor')) {
      throw new XrmError(error.code, 'The after cursor is not one this API issued', { errors: [{ path: '/after', message: 'is invalid' }] });
    }
    throw error;
  }
  return {
    records: result.data.slice(0, size),
    totalCount: result.totalCount,
    hasNextPage: result.data.length > size || result.nextCursor !== undefined,
    hasPreviousPage: offset > 0 || args.after != null,
  };
}
