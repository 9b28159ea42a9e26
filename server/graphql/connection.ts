/**
 * Relay-style connections: `{ nodes, edges { cursor node }, pageInfo, totalCount }`. The query
 * engine returns a connection as `{ nodes, hasNextPage, hasPreviousPage, totalCount? }` with each
 * node's cursor under CURSOR_KEY; these resolvers derive the rest.
 */
import {
  GraphQLBoolean,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLString,
  type GraphQLFieldConfigArgumentMap,
} from 'graphql';
import type { EntityNames } from './names.ts';
import { CURSOR_KEY, DEFAULT_CONNECTION_SIZE } from './selection.ts';

export type Node = Record<string, unknown>;

/** A connection as the query engine returns it. */
export interface Connection {
  readonly nodes: readonly Node[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly totalCount?: number;
}

const cursorOf = (node: Node | undefined) => (node?.[CURSOR_KEY] as string | undefined) ?? null;

export const PageInfoType = new GraphQLObjectType<Connection>({
  name: 'PageInfo',
  description: 'Where a page sits in the whole list.',
  fields: {
    hasNextPage: { type: new GraphQLNonNull(GraphQLBoolean) },
    hasPreviousPage: { type: new GraphQLNonNull(GraphQLBoolean) },
    startCursor: { type: GraphQLString, resolve: (c) => cursorOf(c.nodes[0]) },
    endCursor: { type: GraphQLString, resolve: (c) => cursorOf(c.nodes[c.nodes.length - 1]) },
  },
});

/** Arguments of a to-many navigation connection (nested: no cursors). */
export function navigationArgs(
  filter: GraphQLFieldConfigArgumentMap['x']['type'],
  orderBy: GraphQLFieldConfigArgumentMap['x']['type'],
): GraphQLFieldConfigArgumentMap {
  return {
    first: {
      type: GraphQLInt,
      description: `Page size (default ${DEFAULT_CONNECTION_SIZE}, at most the server's maximum page size)`,
    },
    offset: { type: GraphQLInt, description: 'Records to skip' },
    filter: { type: filter, description: 'Only records matching this filter' },
    orderBy: { type: orderBy, description: 'Sort keys, first one first (default: oldest first)' },
    search: { type: GraphQLString, description: 'Full-text search over the searchable text fields' },
  };
}

/** Arguments of a root connection: navigation arguments plus keyset cursors both ways. */
export function listArgs(
  filter: GraphQLFieldConfigArgumentMap['x']['type'],
  orderBy: GraphQLFieldConfigArgumentMap['x']['type'],
): GraphQLFieldConfigArgumentMap {
  return {
    ...navigationArgs(filter, orderBy),
    after: { type: GraphQLString, description: 'Continue after this cursor (an edge cursor or pageInfo.endCursor)' },
    last: { type: GraphQLInt, description: 'The last records (with before: the ones just before it)' },
    before: { type: GraphQLString, description: 'Continue backward before this cursor' },
  };
}

export function connectionTypes(
  names: EntityNames,
  node: () => GraphQLObjectType,
): { connection: GraphQLObjectType<Connection>; edge: GraphQLObjectType<Node> } {
  const edge = new GraphQLObjectType<Node>({
    name: names.edge,
    fields: () => ({
      cursor: { type: new GraphQLNonNull(GraphQLString), resolve: (n) => cursorOf(n) },
      node: { type: new GraphQLNonNull(node()), resolve: (n) => n },
    }),
  });
  const connection = new GraphQLObjectType<Connection>({
    name: names.connection,
    description: `A page of ${names.type} records.`,
    fields: () => ({
      nodes: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(node()))), resolve: (c) => c.nodes },
      edges: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(edge))), resolve: (c) => c.nodes },
      pageInfo: { type: new GraphQLNonNull(PageInfoType), resolve: (c) => c },
      totalCount: {
        type: GraphQLInt,
        description: 'Number of records in the whole list (counted only when selected)',
        resolve: (c) => c.totalCount ?? null,
      },
    }),
  });
  return { connection, edge };
}
