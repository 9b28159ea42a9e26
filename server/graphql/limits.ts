/**
 * Bounds of a GraphQL operation (LIMITS): query text size and tokens, root fields, fields in all
 * (aliases count, fragments are counted where they are spread) and nesting. Checked right after
 * parsing, before validation, so an alias-amplified query costs a parse and a walk, not
 * thousands of SQL statements or seconds of validation.
 */
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { LIMITS } from '../limits.ts';

/**
 * Why an operation of `document` goes past LIMITS.graphqlRootFields, graphqlFields or graphqlDepth,
 * or undefined. Run before graphql-js' own validation, whose rules cost more on a huge document.
 */
export function operationProblem(document: DocumentNode): string | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  for (const operation of document.definitions) {
    if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
    let fields = 0;
    let roots = 0;
    let problem: string | undefined;
    // depth-first, with fragments expanded where spread; stops at the first limit passed
    // `level` counts the fields of one object (a record's output columns), fragments merged in
    const walk = (
      set: SelectionSetNode,
      depth: number,
      spreading: ReadonlySet<string>,
      level = { fields: 0 },
    ): void => {
      if (depth > LIMITS.graphqlDepth) {
        problem = `An operation nests at most ${LIMITS.graphqlDepth} levels`;
        return;
      }
      for (const selection of set.selections) {
        if (problem) return;
        if (selection.kind === Kind.FIELD) {
          if (depth === 1 && ++roots > LIMITS.graphqlRootFields) {
            problem = `An operation has at most ${LIMITS.graphqlRootFields} root fields (aliases included); split it`;
          } else if (++fields > LIMITS.graphqlFields) {
            problem =
              `An operation selects at most ${LIMITS.graphqlFields} fields ` +
              '(aliases and spread fragments included)';
          } else if (++level.fields > LIMITS.recordColumns) {
            problem = `A selection set has at most ${LIMITS.recordColumns} fields (aliases included)`;
          } else if (selection.selectionSet) {
            walk(selection.selectionSet, depth + 1, spreading);
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          walk(selection.selectionSet, depth, spreading, level);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // an unknown or cyclic fragment is reported by graphql-js' own rules
          if (fragment && !spreading.has(name))
            walk(fragment.selectionSet, depth, new Set([...spreading, name]), level);
        }
      }
    };
    walk(operation.selectionSet, 1, new Set());
    if (problem) return problem;
  }
  return undefined;
}

/** Why a GraphQL request body cannot be run at all (not a string query, or one too large), or undefined. */
export function requestProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'The body must be a JSON object { "query": "…" }';
  const { query } = body as { query?: unknown };
  if (query === undefined) return undefined; // a persisted query, or mercurius' own "Unknown query" answer
  if (typeof query !== 'string') return '"query" must be a string';
  if (Buffer.byteLength(query) > LIMITS.graphqlQueryBytes)
    return `"query" is longer than ${LIMITS.graphqlQueryBytes} bytes`;
  return undefined;
}
