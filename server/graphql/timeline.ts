/**
 * `timeline(first, after)` on the type of every entity that tracks activities: the activities
 * regarding or involving the record, newest first, keyset paged — what GET
 * /api/data/{entity}/{id}/timeline answers, read by the relationship layer (not compiled into the
 * record's statement: the projection only carries the id). Each item carries the activity's
 * built-in fields, and `record` holds all of it (fields added to the activity entity included).
 */
import {
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLString,
  type GraphQLFieldConfig,
  type GraphQLNullableType,
} from 'graphql';
import type { EntityDef } from '../../metadata/types.ts';
import { timelineCursor } from '../relationships/relationships.ts';
import { queryError } from '../query/filter-parse.ts';
import { PageInfoType, type Connection, type Node } from './connection.ts';
import type { GraphqlContext } from './context.ts';
import { GraphQLDateTime, GraphQLJSON } from './scalars.ts';
import { CURSOR_KEY, ID_KEY, type MemberExtension } from './selection.ts';

export const TIMELINE_FIELD = 'timeline';
const DEFAULT_SIZE = 50;
const MAX_SIZE = 200;

const nonNull = <T extends GraphQLNullableType>(type: T) => new GraphQLNonNull(type);
type Activity = Record<string, unknown>;
const key = (name: string) => (a: Activity) => a[name] ?? null;

export const TimelineItemType = new GraphQLObjectType<Activity>({
  name: 'TimelineItem',
  description: 'An activity on a record’s timeline.',
  fields: {
    id: { type: nonNull(GraphQLID), resolve: key('id') },
    kind: { type: nonNull(GraphQLString), description: 'email, call, meeting, note or task', resolve: key('kind') },
    direction: {
      type: nonNull(GraphQLString),
      description: 'inbound, outbound or internal',
      resolve: key('direction'),
    },
    subject: { type: GraphQLString, resolve: key('subject') },
    occurredAt: { type: nonNull(GraphQLDateTime), resolve: key('occurred_at') },
    durationMinutes: { type: GraphQLInt, resolve: key('duration_minutes') },
    dueAt: { type: GraphQLDateTime, resolve: key('due_at') },
    completedAt: { type: GraphQLDateTime, resolve: key('completed_at') },
    regarding: { type: GraphQLJSON, description: '{ entity, id }', resolve: key('regarding') },
    parties: { type: GraphQLJSON, description: '[{ role, address, entity?, id? }]', resolve: key('parties') },
    record: { type: nonNull(GraphQLJSON), description: 'The whole activity as REST answers it', resolve: (a) => a },
  },
});

const TimelineEdgeType = new GraphQLObjectType<Node>({
  name: 'TimelineEdge',
  fields: {
    cursor: { type: nonNull(GraphQLString), resolve: (n) => n[CURSOR_KEY] },
    node: { type: nonNull(TimelineItemType), resolve: (n) => n },
  },
});

export const TimelineConnectionType = new GraphQLObjectType<Connection>({
  name: 'TimelineConnection',
  description: 'A page of a record’s activities, newest first.',
  fields: {
    nodes: { type: nonNull(new GraphQLList(nonNull(TimelineItemType))), resolve: (c) => c.nodes },
    edges: { type: nonNull(new GraphQLList(nonNull(TimelineEdgeType))), resolve: (c) => c.nodes },
    pageInfo: { type: nonNull(PageInfoType), resolve: (c) => c },
  },
});

const extension: MemberExtension = { kind: 'recordId' };

export function timelineField(entity: EntityDef): GraphQLFieldConfig<Node, GraphqlContext> {
  return {
    type: nonNull(TimelineConnectionType),
    description: `Activities regarding or involving this ${entity.displayName}, newest first`,
    args: {
      first: { type: GraphQLInt, defaultValue: DEFAULT_SIZE, description: `Page size (1 to ${MAX_SIZE})` },
      after: { type: GraphQLString, description: 'Continue after this cursor (pageInfo.endCursor)' },
    },
    extensions: { xrm: extension },
    resolve: async (source, args: { first?: number | null; after?: string | null }, ctx, info) => {
      const path = `/${String(info.path.key)}`;
      const first = args.first ?? DEFAULT_SIZE;
      if (first < 1 || first > MAX_SIZE) throw queryError(`${path}/first`, `must be from 1 to ${MAX_SIZE}`);
      const id = source[ID_KEY];
      if (typeof id !== 'string') throw new Error('the record was read without its id');
      if (!ctx.relationships || !ctx.access) throw new Error('no relationship service in this context');
      // inside a mutation, read in its transaction (it sees the mutation's writes; PGlite has one connection)
      const db = info.operation.operation === 'mutation' ? await ctx.transaction() : undefined;
      const page = await ctx.relationships.timeline(ctx.access, entity.name, id, first, args.after ?? undefined, db);
      const { data, nextCursor } = JSON.parse(page) as { data: Activity[]; nextCursor?: string };
      // each node's cursor continues after it
      const nodes = data.map((a) => ({ ...a, [CURSOR_KEY]: timelineCursor(String(a.occurred_at), String(a.id)) }));
      return { nodes, hasNextPage: nextCursor !== undefined, hasPreviousPage: args.after != null };
    },
  };
}
