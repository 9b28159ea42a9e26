/**
 * A GraphQL selection → the query engine's projection, so a whole query tree (lookups, to-many
 * connections with their own filter/orderBy/first/offset, any depth) compiles to ONE SQL
 * statement. JSON keys are response keys (aliases included); the schema's resolvers read them
 * back by `info.path.key`. Fragments and @skip/@include are honoured.
 */
import {
  GraphQLIncludeDirective,
  type GraphQLObjectType,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  type FieldNode,
  type GraphQLField,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import type { Navigation } from '../../metadata/catalog.ts';
import type { FieldDef } from '../../metadata/types.ts';
import type { PageSpec, Projection, ProjectionItem } from '../query/ast.ts';
import { fieldForbidden, parseFilter, queryError, searchNode, type ParseContext } from '../query/filter-parse.ts';
import { checkOffset, sortItem } from '../query/read-query.ts';
import { filterToJson, orderByKeys } from './filter-types.ts';

/** What a GraphQL field of an entity type reads, attached to the field as `extensions.xrm`. */
export type MemberExtension =
  | { readonly kind: 'column'; readonly column: string; readonly entity?: string; readonly field?: FieldDef }
  | { readonly kind: 'lookup'; readonly field: FieldDef; readonly target: string; readonly entity?: string }
  | { readonly kind: 'many'; readonly navigation: Navigation; readonly target: string }
  /** Resolved outside the statement from the record's id, which the projection adds under ID_KEY. */
  | { readonly kind: 'recordId' };

export interface ConnectionArgs {
  first?: number | null;
  offset?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: unknown;
  orderBy?: readonly unknown[] | null;
  search?: string | null;
}

/** The key under which rows carry their cursor (GraphQL names never start with "__"). */
export const CURSOR_KEY = '__cursor';
/** The key under which rows carry their id for members resolved from it (the audit history). */
export const ID_KEY = '__id';
export const DEFAULT_CONNECTION_SIZE = 50;

/** What compiling a selection reads of graphql-js' resolve info (a direct answer has no more: direct.ts). */
export type SelectionInfo = Pick<GraphQLResolveInfo, 'fieldNodes' | 'variableValues' | 'fragments' | 'schema'>;

interface Walk {
  readonly info: SelectionInfo;
  readonly parse: ParseContext;
  readonly maxPageSize: number;
}

function included(node: Parameters<typeof getDirectiveValues>[1], info: SelectionInfo): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
}

/** Field nodes by response key, merged across fragments. */
function collect(sets: readonly (SelectionSetNode | undefined)[], info: SelectionInfo): Map<string, FieldNode[]> {
  const fields = new Map<string, FieldNode[]>();
  const visit = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (!included(selection, info)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const list = fields.get(key);
        if (list) list.push(selection);
        else fields.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else {
        visit(info.fragments[selection.name.value]?.selectionSet);
      }
    }
  };
  sets.forEach(visit);
  return fields;
}

function extensionOf(field: GraphQLField<unknown, unknown>): MemberExtension | undefined {
  return (field.extensions as { xrm?: MemberExtension } | undefined)?.xrm;
}

/** The projection of an entity object type for the merged selections of `nodes`. */
export function projectionOf(type: GraphQLObjectType, nodes: readonly FieldNode[], walk: Walk, depth = 0): Projection {
  if (depth > 12) throw queryError('/', 'the query nests too deep (at most 12 levels)');
  const items: ProjectionItem[] = [];
  const fields = type.getFields();
  for (const [key, fieldNodes] of collect(
    nodes.map((n) => n.selectionSet),
    walk.info,
  )) {
    const field = fields[fieldNodes[0]!.name.value];
    const ext = field && extensionOf(field);
    if (!ext) continue; // __typename and the like
    if (ext.kind === 'recordId') {
      if (!items.some((item) => item.key === ID_KEY)) items.push({ kind: 'column', key: ID_KEY, column: 'id' });
    } else if (ext.kind === 'column') {
      // a secured field the caller may not read is refused, never answered as null
      if (ext.entity && ext.field && walk.parse.readable && !walk.parse.readable(ext.entity, ext.field))
        throw fieldForbidden(`/${key}`, ext.entity, ext.field.name);
      items.push({ kind: 'column', key, column: ext.column });
    } else if (ext.kind === 'lookup') {
      if (ext.entity && walk.parse.readable && !walk.parse.readable(ext.entity, ext.field))
        throw fieldForbidden(`/${key}`, ext.entity, ext.field.name);
      const targetType = getNamedType(field.type) as GraphQLObjectType;
      items.push({
        kind: 'lookup',
        key,
        field: ext.field,
        target: ext.target,
        projection: projectionOf(targetType, fieldNodes, walk, depth + 1),
      });
    } else {
      const args = getArgumentValues(field, fieldNodes[0]!, walk.info.variableValues) as ConnectionArgs;
      const connection = connectionSelection(getNamedType(field.type) as GraphQLObjectType, fieldNodes, walk, depth);
      items.push({
        kind: 'many',
        key,
        navigation: ext.navigation,
        target: ext.target,
        shape: 'connection',
        projection: connection.projection,
        page: { ...pageOf(ext.target, args, walk, `/${key}`), count: connection.count ? 'exact' : undefined },
      });
    }
  }
  return { items };
}

/** What a connection selection needs: the node projection, cursors, and whether to count. */
export function connectionSelection(
  connectionType: GraphQLObjectType,
  nodes: readonly FieldNode[],
  walk: Walk,
  depth = 0,
): { projection: Projection; count: boolean } {
  const fields = collect(
    nodes.map((n) => n.selectionSet),
    walk.info,
  );
  const nodeType = getNamedType(connectionType.getFields().nodes!.type) as GraphQLObjectType;
  const nodeSelections: FieldNode[] = [];
  let cursor = false;
  let count = false;
  for (const fieldNodes of fields.values()) {
    const name = fieldNodes[0]!.name.value;
    if (name === 'nodes') nodeSelections.push(...fieldNodes);
    else if (name === 'totalCount') count = true;
    else if (name === 'pageInfo') {
      for (const inner of collect(
        fieldNodes.map((n) => n.selectionSet),
        walk.info,
      ).values()) {
        if (inner[0]!.name.value.endsWith('Cursor')) cursor = true;
      }
    } else if (name === 'edges') {
      for (const inner of collect(
        fieldNodes.map((n) => n.selectionSet),
        walk.info,
      ).values()) {
        if (inner[0]!.name.value === 'node') nodeSelections.push(...inner);
        if (inner[0]!.name.value === 'cursor') cursor = true;
      }
    }
  }
  const projection = projectionOf(nodeType, nodeSelections, walk, depth + 1);
  return {
    projection: cursor ? { items: [...projection.items, { kind: 'cursor', key: CURSOR_KEY }] } : projection,
    count,
  };
}

/** Connection arguments → which records (filter, sort, size, offset) of `entity`. */
export function pageOf(entityName: string, args: ConnectionArgs, walk: Walk, path: string): PageSpec {
  const entity = walk.parse.catalog.entity(entityName)!;
  const errors = [];
  if (args.first != null && (args.first < 0 || args.first > walk.maxPageSize))
    errors.push(queryError(`${path}/first`, `must be from 0 to ${walk.maxPageSize}`));
  if (args.last != null && (args.last < 0 || args.last > walk.maxPageSize))
    errors.push(queryError(`${path}/last`, `must be from 0 to ${walk.maxPageSize}`));
  if (errors.length) throw errors[0];
  let filter =
    args.filter == null ? undefined : parseFilter(entity.name, filterToJson(args.filter), walk.parse, `${path}/filter`);
  if (args.search) {
    const search = searchNode(args.search, `${path}/search`, { entity, ctx: walk.parse });
    filter = filter ? { kind: 'and', items: [filter, search] } : search;
  }
  return {
    filter,
    sort: orderByKeys(args.orderBy, `${path}/orderBy`)?.map((key, i) =>
      sortItem(entity, key, walk.parse, `${path}/orderBy/${i}`),
    ),
    limit: args.last ?? args.first ?? DEFAULT_CONNECTION_SIZE,
    offset: checkOffset(args.offset ?? undefined, `${path}/offset`),
  };
}
