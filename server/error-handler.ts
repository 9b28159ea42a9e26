/**
 * Every error leaves as RFC 9457 problem+json. Client mistakes get their coded problem; anything
 * else is logged in full and answered with an opaque 500 carrying an error id.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XrmError, isXrmError, type FieldError } from '../metadata/errors.ts';
import { databaseUnavailable, isDatabaseFault } from './database-faults.ts';
import { LIMITS, jsonDepth } from './limits.ts';
import { isStatementTimeout, statementTimedOut } from './records/database-errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The configured statement_timeout (server/hardening.ts), named by XRM_ERR_QUERY_TIMEOUT problems. */
    statementTimeoutMs?: number;
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(reply: FastifyReply, error: XrmError, instance?: string): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(error.toProblem(instance));
}

function fromFastifyError(error: FastifyError): XrmError | undefined {
  if (error.validation) {
    const context = error.validationContext ?? 'body';
    const errors: FieldError[] = error.validation.map((v) => {
      const prop =
        (v.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ??
        (v.params as { additionalProperty?: string }).additionalProperty;
      return { path: `/${context}${v.instancePath}${prop ? `/${prop}` : ''}`, message: v.message ?? 'is invalid' };
    });
    return new XrmError(
      'XRM_ERR_REQUEST_INVALID',
      `Invalid ${context}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      { errors },
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new XrmError(
        'XRM_ERR_REQUEST_MALFORMED_JSON',
        error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'The request body is empty but JSON was declared'
          : 'The request body is not valid JSON',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new XrmError('XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 'Send JSON with Content-Type: application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new XrmError('XRM_ERR_REQUEST_TOO_LARGE', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new XrmError('XRM_ERR_REQUEST_INVALID', 'The Content-Length header does not match the body');
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return new XrmError('XRM_ERR_REQUEST_MALFORMED_JSON', 'The request body is not valid JSON');
  }
  return undefined;
}

/**
 * Maps any thrown error to a problem: coded errors as they are, the rest as an opaque 500.
 * `statementTimeoutMs` is the limit a statement cancelled by statement_timeout ran past.
 */
export function toXrmError(error: unknown, log: FastifyRequest['log'], statementTimeoutMs?: number): XrmError {
  if (isXrmError(error)) return error;
  const mapped = fromFastifyError(error as FastifyError);
  if (mapped) return mapped;
  if (isStatementTimeout(error)) {
    log.warn({ err: error }, 'statement cancelled by statement_timeout; answered 504');
    return statementTimedOut(error, statementTimeoutMs);
  }
  if (isDatabaseFault(error)) {
    log.warn({ err: error }, 'database fault; answered 503');
    return databaseUnavailable(error);
  }
  const errorId = randomUUID();
  log.error({ err: error, errorId }, 'unexpected error');
  return new XrmError('XRM_ERR_INTERNAL', `An unexpected error occurred; quote error id ${errorId} when reporting it`, {
    extensions: { errorId },
  });
}

/**
 * The router's own errors (a malformed URL, a path segment longer than maxParamLength), which
 * bypass the error handler: pass as Fastify's `frameworkErrors` option so they are problems too.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let problem: XrmError;
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    problem = new XrmError('XRM_ERR_REQUEST_INVALID', 'A path segment is too long', {
      errors: [{ path: '/params', message: 'is too long' }],
    });
  } else if (error.code === 'FST_ERR_BAD_URL') {
    problem = new XrmError('XRM_ERR_REQUEST_INVALID', 'The URL is malformed (invalid percent-encoding)', {
      errors: [{ path: '/params', message: 'is malformed' }],
    });
  } else {
    problem = toXrmError(error, request.log);
  }
  sendProblem(reply, problem, request.url);
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a URL or headers past
 * LIMITS.headerBytes, a malformed request line): answered as problems too, then the socket closes.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new XrmError(
          'XRM_ERR_REQUEST_HEADERS_TOO_LARGE',
          `The request line and headers exceed ${LIMITS.headerBytes} bytes ` +
            '(a URL this long: send fewer or shorter parameters)',
        )
      : new XrmError('XRM_ERR_REQUEST_INVALID', 'The HTTP request is malformed');
  if (socket.writable) {
    const body = JSON.stringify(problem.toProblem());
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * JSON bodies through Fastify's own parser (prototype-poisoning checks included), then a bound on
 * nesting (LIMITS.jsonDepth) so no later step recurses into a 100,000-deep value. Only JSON is
 * taken: a text/plain body is a 415, not a string that fails validation.
 */
export function installBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(error, undefined);
      if (jsonDepth(value) > LIMITS.jsonDepth) {
        const message = `nests deeper than ${LIMITS.jsonDepth} levels`;
        return done(
          new XrmError('XRM_ERR_REQUEST_INVALID', `The JSON body ${message}`, { errors: [{ path: '/body', message }] }),
          undefined,
        );
      }
      done(null, value);
    });
  });
}

/**
 * The methods an Allow header may list, in the order it lists them. Not OPTIONS: the only OPTIONS
 * route is @fastify/cors's preflight route `OPTIONS *` (server/hardening.ts), which matches every
 * path and would make every unknown path a 405.
 */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) =>
    sendProblem(reply, toXrmError(error, request.log, request.server.statementTimeoutMs), request.url),
  );
  // No route for this method: a 405 naming the methods the path has (the router matches a concrete
  // URL per method in findRoute), or a 404 when it has none.
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // a segment past the router's limit matches no route of any method (the router would answer
    // each with its max-param-length error, which findRoute reports as a match)
    const limit = app.initialConfig.maxParamLength ?? 100;
    const routable = path.split('/').every((segment) => segment.length <= limit);
    const allow = routable ? METHODS.filter((method) => app.findRoute({ method, url: path }) !== null) : [];
    if (allow.length && !allow.includes(request.method as (typeof METHODS)[number])) {
      reply.header('allow', allow.join(', '));
      const detail = `${path} does not answer ${request.method}; it answers ${allow.join(', ')}`;
      return sendProblem(reply, new XrmError('XRM_ERR_ROUTE_METHOD_NOT_ALLOWED', detail), request.url);
    }
    return sendProblem(
      reply,
      new XrmError('XRM_ERR_ROUTE_NOT_FOUND', `No route ${request.method} ${path}`),
      request.url,
    );
  });
}
