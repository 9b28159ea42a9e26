/**
 * `history(first, after)` on every entity type (the name the issue gives it): the record's audit
 * trail (server/audit), newest first, as a connection keyset-paged by entry id like the other
 * connections. An entity field or navigation named `history` wins (the builder leaves this one
 * out for that entity with a warning; REST's /history still serves it). It is read by the
 * audit trail, not compiled into the record's statement: the projection only carries the id.
 * The trail reads committed rows, so inside a mutation it does not show that mutation's writes.
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
import type { HistoryEntry } from '../audit/audit-trail.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { queryError } from '../query/filter-parse.ts';
import { PageInfoType, type Connection, type Node } from './connection.ts';
import type { GraphqlContext } from './context.ts';
import { GraphQLDateTime, GraphQLJSON } from './scalars.ts';
import { CURSOR_KEY, ID_KEY, type MemberExtension } from './selection.ts';

export const HISTORY_FIELD = 'history';
export const DEFAULT_HISTORY_SIZE = 50;
/** As GET /api/data/{entity}/{id}/history. */
export const MAX_HISTORY_SIZE = 1000;
const CURSOR = /^\d{1,18}$/;

const nonNull = <T extends GraphQLNullableType>(type: T) => new GraphQLNonNull(type);

export const AuditChangeType = new GraphQLObjectType<{ field: string; old?: unknown; new?: unknown }>({
  name: 'AuditChange',
  description: 'One changed field (or link): its value before and after (absent values are null).',
  fields: {
    field: { type: nonNull(GraphQLString), description: 'Field name (snake_case) or relationship name' },
    old: { type: GraphQLJSON, resolve: (c) => c.old ?? null },
    new: { type: GraphQLJSON, resolve: (c) => c.new ?? null },
  },
});

export const AuditEntryType = new GraphQLObjectType<HistoryEntry>({
  name: 'AuditEntry',
  description: 'One write of a record as the audit trail kept it.',
  fields: {
    id: { type: nonNull(GraphQLID) },
    message: { type: nonNull(GraphQLString), description: 'create, update, delete, associate or disassociate' },
    actor: { type: nonNull(GraphQLString), description: 'Who wrote' },
    correlationId: { type: nonNull(GraphQLString), description: 'The request (or job) that wrote' },
    depth: { type: nonNull(GraphQLInt), description: '1 for a request, deeper for writes plugin steps made' },
    at: { type: nonNull(GraphQLDateTime), description: 'When (the transaction time)' },
    changes: { type: nonNull(new GraphQLList(nonNull(AuditChangeType))) },
  },
});

const AuditHistoryEdgeType = new GraphQLObjectType<Node>({
  name: 'AuditHistoryEdge',
  fields: {
    cursor: { type: nonNull(GraphQLString), resolve: (n) => n[CURSOR_KEY] },
    node: { type: nonNull(AuditEntryType), resolve: (n) => n },
  },
});

export const AuditHistoryConnectionType = new GraphQLObjectType<Connection>({
  name: 'AuditHistoryConnection',
  description: 'A page of audit entries, newest first.',
  fields: {
    nodes: { type: nonNull(new GraphQLList(nonNull(AuditEntryType))), resolve: (c) => c.nodes },
    edges: { type: nonNull(new GraphQLList(nonNull(AuditHistoryEdgeType))), resolve: (c) => c.nodes },
    pageInfo: { type: nonNull(PageInfoType), resolve: (c) => c },
  },
});

const extension: MemberExtension = { kind: 'recordId' };

export function historyField(entity: EntityDef): GraphQLFieldConfig<Node, GraphqlContext> {
  return {
    type: nonNull(AuditHistoryConnectionType),
    description: `Audit trail of this ${entity.displayName}, newest first (while auditEnabled; kept after a delete)`,
    args: {
      first: {
        type: GraphQLInt,
        defaultValue: DEFAULT_HISTORY_SIZE,
        description: `Page size (1 to ${MAX_HISTORY_SIZE})`,
      },
      after: { type: GraphQLString, description: 'Continue after this cursor (an edge cursor or pageInfo.endCursor)' },
    },
    extensions: { xrm: extension },
    resolve: async (source, args: { first?: number | null; after?: string | null }, { audit, access, query }, info) => {
      const path = `/${String(info.path.key)}`;
      const first = args.first ?? DEFAULT_HISTORY_SIZE;
      if (first < 1 || first > MAX_HISTORY_SIZE)
        throw queryError(`${path}/first`, `must be from 1 to ${MAX_HISTORY_SIZE}`);
      if (args.after != null && !CURSOR.test(args.after))
        throw queryError(`${path}/after`, 'is not a cursor of this history');
      const id = source[ID_KEY];
      if (typeof id !== 'string') throw new Error('the record was read without its id');
      const page = await audit.history(entity.name, id, {
        limit: first,
        cursor: args.after ?? undefined,
        access,
        catalog: query.parseContext().catalog,
      });
      const nodes = page.data.map((entry) => ({ ...entry, [CURSOR_KEY]: entry.id }));
      return { nodes, hasNextPage: page.nextCursor !== undefined, hasPreviousPage: args.after != null };
    },
  };
}
