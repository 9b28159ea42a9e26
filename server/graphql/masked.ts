/**
 * GraphQL for a caller whose roles hide secured fields: the operation runs against the schema of
 * their view of the catalog (security/catalog-view.ts), so a hidden field is not in their
 * schema at all — introspection does not list it and a query naming it is invalid. mercurius
 * serves one schema for everyone, so these requests are answered here, before it, by graphql-js
 * with the same context, limits, transaction and error formatting.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type DocumentNode,
  execute,
  getOperationAST,
  type GraphQLError,
  type GraphQLSchema,
  parse,
  validate,
} from 'graphql';
import type { MercuriusContext } from 'mercurius';
import { LIMITS } from '../limits.ts';
import type { GraphqlContext } from './context.ts';
import { formatGraphqlErrors } from './errors.ts';
import { operationProblem } from './limits.ts';

interface GraphqlRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

function requestOf(request: FastifyRequest): GraphqlRequest | string {
  if (request.method === 'GET') {
    const q = request.query as Record<string, string | undefined>;
    let variables: unknown;
    try {
      variables = q.variables ? JSON.parse(q.variables) : undefined;
    } catch {
      return 'variables is not JSON';
    }
    return { query: q.query, variables, operationName: q.operationName };
  }
  const body = request.body;
  if (Array.isArray(body)) return 'batched queries are not accepted';
  return (body ?? {}) as GraphqlRequest;
}

function badRequest(reply: FastifyReply, message: string, code = 'XRM_ERR_REQUEST_INVALID') {
  const errors = [{ path: '/body/query', message }];
  return reply.code(400).send({ data: null, errors: [{ message, extensions: { code, status: 400, errors } }] });
}

export async function serveMasked(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  schema: GraphQLSchema,
  context: () => GraphqlContext,
): Promise<FastifyReply> {
  const input = requestOf(request);
  if (typeof input === 'string') return badRequest(reply, input);
  if (typeof input.query !== 'string' || !input.query) return badRequest(reply, 'query must be a GraphQL document');
  let document: DocumentNode;
  try {
    document = parse(input.query, { maxTokens: LIMITS.graphqlTokens });
  } catch (error) {
    return reply
      .code(400)
      .send({ data: null, errors: [(error as GraphQLError).toJSON?.() ?? { message: String(error) }] });
  }
  const problem = operationProblem(document);
  if (problem) return badRequest(reply, problem, 'XRM_ERR_QUERY_INVALID');
  const invalid = validate(schema, document);
  if (invalid.length) return reply.code(400).send({ data: null, errors: invalid.map((e) => e.toJSON()) });
  const operationName = typeof input.operationName === 'string' ? input.operationName : undefined;
  const operation = getOperationAST(document, operationName);
  if (request.method === 'GET' && operation?.operation === 'mutation')
    return reply
      .code(405)
      .send({ data: null, errors: [{ message: 'Operation cannot be performed via a GET request' }] });
  const ctx = context();
  const variableValues =
    input.variables && typeof input.variables === 'object' ? (input.variables as Record<string, unknown>) : undefined;
  const result = await execute({ schema, document, contextValue: ctx, variableValues, operationName });
  await ctx.finish(result.errors?.length ? 'rollback' : 'commit');
  if (!result.errors?.length) return reply.send(result);
  const formatted = formatGraphqlErrors({ ...result, errors: result.errors }, {
    reply,
    app,
  } as unknown as MercuriusContext);
  return reply.code(formatted.statusCode ?? 200).send(formatted.response);
}
