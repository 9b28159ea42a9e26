/**
 * Bounds of a GraphQL operation (LIMITS): query text size, root fields, fields in all (aliases
 * count, fragments are counted where they are spread) and nesting. Checked as a validation rule,
 * before anything runs, so an alias-amplified query costs a parse and a walk, not thousands of
 * SQL statements.
 */
import {
  GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext,
} from 'graphql';
import { LIMITS } from '../limits.ts';

function tooMuch(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'XRM_ERR_QUERY_INVALID', status: 400 } });
}

/** graphql-js validation rule enforcing LIMITS.graphqlRootFields, graphqlFields and graphqlDepth. */
export function operationLimits(context: ValidationContext): ASTVisitor {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return {
    OperationDefinition(operation) {
      let fields = 0;
      let roots = 0;
      let problem: string | undefined;
      // depth-first, with fragments expanded where spread; stops at the first limit passed
      const walk = (set: SelectionSetNode, depth: number, spreading: ReadonlySet<string>): void => {
        if (problem) return;
        if (depth > LIMITS.graphqlDepth) {
          problem = `An operation nests at most ${LIMITS.graphqlDepth} levels`;
          return;
        }
        for (const selection of set.selections) {
          if (problem) return;
          if (selection.kind === Kind.FIELD) {
            if (depth === 1 && ++roots > LIMITS.graphqlRootFields) {
              problem = `An operation has at most ${LIMITS.graphqlRootFields} root fields (aliases included); split it`;
              return;
            }
            if (++fields > LIMITS.graphqlFields) {
              problem = `An operation selects at most ${LIMITS.graphqlFields} fields (aliases and spread fragments included)`;
              return;
            }
            if (selection.selectionSet) walk(selection.selectionSet, depth + 1, spreading);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            walk(selection.selectionSet, depth, spreading);
          } else {
            const name = selection.name.value;
            const fragment = fragments.get(name);
            // an unknown or cyclic fragment is reported by graphql-js' own rules
            if (fragment && !spreading.has(name)) walk(fragment.selectionSet, depth, new Set([...spreading, name]));
          }
        }
      };
      walk(operation.selectionSet, 1, new Set());
      if (problem) context.reportError(tooMuch(problem));
    },
  };
}

/** Why a GraphQL request body cannot be run at all (not a string query, or one too large), or undefined. */
export function requestProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'The body must be a JSON object { "query": "…" }';
  const { query } = body as { query?: unknown };
  if (query === undefined) return undefined; // a persisted query, or mercurius' own "Unknown query" answer
  if (typeof query !== 'string') return '"query" must be a string';
  if (Buffer.byteLength(query) > LIMITS.graphqlQueryBytes) return `"query" is longer than ${LIMITS.graphqlQueryBytes} bytes`;
  return undefined;
}
