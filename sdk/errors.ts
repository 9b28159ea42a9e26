/**
 * Errors the API answers: RFC 9457 problem documents (metadata/errors.ts, docs/errors.md), thrown
 * by the SDK as `XrmApiError` with the status, the `XRM_ERR_…` code and the field errors.
 */

/** One problem with one part of the request: a JSON Pointer-like path and a message. */
export interface XrmFieldError {
  /** e.g. `/email`, `/filter/rating/eq`, `/records/3/name`. */
  path: string;
  message: string;
}

/** A problem+json document. */
export interface XrmProblem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** `XRM_ERR_…`, listed in docs/errors.md. */
  code: string;
  instance?: string;
  errors?: XrmFieldError[];
  [extension: string]: unknown;
}

/** One entry of a GraphQL response's `errors`. */
export interface XrmGraphqlError {
  message: string;
  path?: readonly (string | number)[];
  locations?: readonly { line: number; column: number }[];
  extensions?: { code?: string; status?: number; errors?: XrmFieldError[]; [key: string]: unknown };
}

/**
 * An error answer of the API. `code` is the problem's `XRM_ERR_…` code and `errors` its field
 * errors (empty when it has none).
 *
 * @example
 * try {
 *   await client.entity('partner').create({ name: 'Nope', email: 'not-an-email' });
 * } catch (error) {
 *   if (!(error instanceof XrmApiError)) throw error;
 *   const where: string[] = error.errors.map((e) => e.path); // ['/email']
 *   if (error.code !== 'XRM_ERR_RECORD_INVALID' || error.status !== 400) throw error;
 * }
 */
export class XrmApiError extends Error {
  override readonly name = 'XrmApiError';
  readonly status: number;
  readonly code: string;
  readonly errors: readonly XrmFieldError[];
  /** The problem document as received (or as made up for a non-problem answer). */
  readonly problem: XrmProblem;
  /** GraphQL requests: every error of the response. */
  readonly graphqlErrors?: readonly XrmGraphqlError[];

  constructor(problem: XrmProblem, graphqlErrors?: readonly XrmGraphqlError[]) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
    this.errors = problem.errors ?? [];
    if (graphqlErrors) this.graphqlErrors = graphqlErrors;
  }
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The problem an error answer carries; a made-up one when the body is not a problem document. */
export function problemOf(status: number, statusText: string, body: string, instance: string): XrmProblem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    /* not JSON */
  }
  if (isObject(parsed) && typeof parsed.code === 'string' && typeof parsed.title === 'string') {
    return { ...parsed, status: typeof parsed.status === 'number' ? parsed.status : status } as XrmProblem;
  }
  const problem: XrmProblem = {
    type: 'about:blank',
    title: statusText || `HTTP ${status}`,
    status,
    code: 'XRM_ERR_UNEXPECTED_RESPONSE',
    instance,
  };
  if (body) problem.detail = body.slice(0, 500);
  return problem;
}
