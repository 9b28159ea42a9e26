/**
 * GraphQL errors as clients see them. A coded XrmError keeps its message and carries
 * `extensions: { code, status, errors: [{ path, message }] }`; anything else is a bug: logged in
 * full with an error id and answered as "Internal error" with that id. Errors GraphQL itself
 * raises about the request (syntax, validation, variables) keep mercurius' formatting and
 * status codes. No stack trace ever reaches a client.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { GraphQLError, type ExecutionResult } from 'graphql';
import mercurius, { type MercuriusContext } from 'mercurius';
import { XrmError, isXrmError } from '../../metadata/errors.ts';
import { isDatabaseFault } from '../database-faults.ts';
import { toXrmError } from '../error-handler.ts';
import { isStatementTimeout } from '../records/database-errors.ts';

export const INTERNAL_MESSAGE = 'Internal error';

interface CodedError {
  code?: unknown;
  statusCode?: unknown;
}

/** An error raised by mercurius or Fastify about the request (not by a resolver). */
function isClientError(error: Error, prefix: 'MER_ERR_' | 'FST_'): boolean {
  const { code, statusCode } = error as CodedError;
  return typeof code === 'string' && code.startsWith(prefix) && typeof statusCode === 'number' && statusCode < 500;
}

/** A thrown value as an XrmError a client may see; unknown ones are logged and masked. */
export function toClientError(error: unknown, log: FastifyBaseLogger, statementTimeoutMs?: number): XrmError {
  if (isXrmError(error)) return error;
  if (error instanceof Error && isClientError(error, 'FST_')) return toXrmError(error, log);
  if (isDatabaseFault(error) || isStatementTimeout(error)) return toXrmError(error, log, statementTimeoutMs);
  const errorId = randomUUID();
  log.error({ err: error, errorId }, 'unexpected error in a GraphQL request');
  return new XrmError('XRM_ERR_INTERNAL', INTERNAL_MESSAGE, { extensions: { errorId } });
}

function toGraphqlError(error: GraphQLError, log: FastifyBaseLogger, statementTimeoutMs?: number): GraphQLError {
  const original = error.originalError;
  // raised by graphql-js about the operation (e.g. a null for a non-null field has no original)
  if (!original) return error;
  // parse and validation errors, wrong method, CSRF: mercurius formats these itself
  if (isClientError(original, 'MER_ERR_')) return error;
  // raised by graphql-js or a scalar about the request (a variable the DateTime scalar refuses)
  if (original instanceof GraphQLError) return error;
  const xrm = toClientError(original, log, statementTimeoutMs);
  const internal = xrm.code === 'XRM_ERR_INTERNAL';
  return new GraphQLError(internal ? INTERNAL_MESSAGE : xrm.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { code: xrm.code, status: xrm.status, errors: xrm.errors ?? [], ...xrm.extensions },
  });
}

/** mercurius `errorFormatter`. */
export function formatGraphqlErrors<TContext extends MercuriusContext>(
  execution: ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>,
  context: TContext,
): ReturnType<typeof mercurius.defaultErrorFormatter> {
  const log = context.reply?.request.log ?? context.app.log;
  const errors = execution.errors.map((error) => toGraphqlError(error, log, context.app.statementTimeoutMs));
  // an error before execution (no `data` at all, e.g. a malformed body) answers with its own status
  const only = errors.length === 1 ? errors[0]!.extensions : undefined;
  const statusCode = execution.data === undefined && typeof only?.status === 'number' ? only.status : undefined;
  return mercurius.defaultErrorFormatter(
    { ...execution, errors, ...(statusCode ? { statusCode } : {}) } as typeof execution,
    context,
  );
}
