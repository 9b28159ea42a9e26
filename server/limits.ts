/**
 * Every dimension of a request a client controls has a limit, declared here once; docs/errors.md
 * lists each with its value (a test keeps the two in step). Going past one is a 400 problem that
 * names the parameter, never a 500 or a stalled server.
 */
import { MAX_ENTITY_FIELDS } from '../metadata/definitions.ts';

export const LIMITS = {
  /** Request body size in bytes (Fastify bodyLimit). */
  bodyBytes: 10 * 1024 * 1024,
  /** Request line plus headers in bytes (Node's maxHeaderSize): a URL longer than this gets 431. */
  headerBytes: 16 * 1024,
  /** Nesting of arrays and objects in a JSON body, a JSON filter parameter or GraphQL variables. */
  jsonDepth: 256,
  /** Characters of a filter expression (`filter=status eq 'online' and …`). */
  filterExpressionLength: 8000,
  /** Nesting of and/or/not and lookup conditions in a filter. */
  filterDepth: 32,
  /** Values in one in/notIn list. */
  filterList: 1000,
  /** Lookups one path may follow in a filter, sort or groupBy (`account.owner.name` follows 2). */
  pathHops: 6,
  /** Nesting of expansions. */
  expandDepth: 6,
  /** Expansions in one query, all levels together. */
  expansions: 25,
  /** Output columns of one record: fields, system columns, expansions and GraphQL aliases. */
  recordColumns: 1100,
  /** Fields of one entity (PostgreSQL allows 1,600 columns per table). */
  entityFields: MAX_ENTITY_FIELDS,
  /** offset= and GraphQL offset: a 32-bit integer. */
  offset: 2_147_483_647,
  /** Length of an opaque cursor. */
  cursorLength: 4096,
  /** GraphQL query text in bytes. */
  graphqlQueryBytes: 100_000,
  /** Tokens of a GraphQL query (graphql-js stops parsing past it). */
  graphqlTokens: 20_000,
  /** Root fields (aliases included) of one GraphQL operation. */
  graphqlRootFields: 50,
  /** Fields (aliases included, fragments expanded) of one GraphQL operation. */
  graphqlFields: 2000,
  /** Nesting of selection sets in a GraphQL operation. */
  graphqlDepth: 20,
} as const;

/** How deeply `value` nests arrays and objects (a scalar is 0), or Infinity once past `max`. */
export function jsonDepth(value: unknown, max: number = LIMITS.jsonDepth): number {
  // iterative: a 100,000-deep value must not overflow the stack while being measured
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const depth = d + 1;
    if (depth > max) return Infinity;
    if (depth > deepest) deepest = depth;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth]);
  }
  return deepest;
}
