/**
 * Every error a client can see, in one coded table, rendered as RFC 9457 problem+json.
 * Anything not in this table is a bug: the client gets an opaque 500 with an error id, and pino
 * logs the whole thing.
 */

export interface FieldError {
  /** JSON Pointer-like path into the request body or query, e.g. "/fields/2/maxLength". */
  readonly path: string;
  readonly message: string;
}

interface ErrorSpec {
  readonly status: number;
  readonly title: string;
}

export const ERROR_CODES = {
  XRM_ERR_REQUEST_MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  XRM_ERR_REQUEST_INVALID: { status: 400, title: 'Invalid request' },
  XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  XRM_ERR_REQUEST_TOO_LARGE: { status: 413, title: 'Request body too large' },
  XRM_ERR_REQUEST_HEADERS_TOO_LARGE: { status: 431, title: 'Request URL or headers too large' },
  XRM_ERR_ROUTE_NOT_FOUND: { status: 404, title: 'Route not found' },
  XRM_ERR_ROUTE_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  XRM_ERR_METADATA_INVALID: { status: 400, title: 'Invalid metadata definition' },
  XRM_ERR_METADATA_NAME_TAKEN: { status: 409, title: 'Name already in use' },
  XRM_ERR_METADATA_ENTITY_NOT_FOUND: { status: 404, title: 'Entity not found' },
  XRM_ERR_METADATA_FIELD_NOT_FOUND: { status: 404, title: 'Field not found' },
  XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND: { status: 404, title: 'Relationship not found' },
  XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND: { status: 404, title: 'Choice set not found' },
  XRM_ERR_METADATA_KEY_NOT_FOUND: { status: 404, title: 'Alternate key not found' },
  XRM_ERR_METADATA_INDEX_NOT_FOUND: { status: 404, title: 'Index not found' },
  XRM_ERR_METADATA_IN_USE: { status: 409, title: 'Definition is in use' },
  XRM_ERR_METADATA_CHANGE_REFUSED: { status: 422, title: 'Schema change refused' },
  XRM_ERR_METADATA_DATA_CONFLICT: { status: 409, title: 'Existing records conflict with the change' },
  XRM_ERR_METADATA_BUSY: { status: 409, title: 'Table in use' },
  XRM_ERR_RECORD_NOT_FOUND: { status: 404, title: 'Record not found' },
  XRM_ERR_RECORD_INVALID: { status: 400, title: 'Invalid record' },
  XRM_ERR_RECORD_DUPLICATE: { status: 409, title: 'Duplicate value' },
  XRM_ERR_RECORD_REFERENCE_NOT_FOUND: { status: 422, title: 'Referenced record not found' },
  XRM_ERR_RECORD_DELETE_RESTRICTED: { status: 409, title: 'Record is referenced' },
  XRM_ERR_RECORD_VERSION_MISMATCH: { status: 412, title: 'Record changed since it was read' },
  XRM_ERR_QUERY_INVALID: { status: 400, title: 'Invalid query' },
  XRM_ERR_QUERY_SCHEMA_CHANGED: { status: 409, title: 'Schema changed during the request' },
  XRM_ERR_QUERY_TIMEOUT: { status: 504, title: 'Statement timed out' },
  XRM_ERR_PLUGIN_NOT_FOUND: { status: 404, title: 'Plugin not found' },
  XRM_ERR_PLUGIN_REJECTED: { status: 422, title: 'Refused by a plugin' },
  XRM_ERR_PLUGIN_DEPTH_EXCEEDED: { status: 422, title: 'Plugin writes nest too deep' },
  XRM_ERR_PLUGIN_BUILT_IN: { status: 409, title: 'Built-in plugin' },
  XRM_ERR_MESSAGE_NOT_FOUND: { status: 404, title: 'Message not found' },
  XRM_ERR_JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  XRM_ERR_JOB_NOT_RETRYABLE: { status: 409, title: 'Job cannot be retried' },
  XRM_ERR_WEBHOOK_NOT_FOUND: { status: 404, title: 'Webhook not found' },
  XRM_ERR_WEBHOOK_TARGET_FORBIDDEN: { status: 422, title: 'Webhook target not allowed' },
  XRM_ERR_RULE_NOT_FOUND: { status: 404, title: 'Automation rule not found' },
  XRM_ERR_RULE_NOT_RUNNABLE: { status: 409, title: 'Automation rule cannot run' },
  XRM_ERR_SUGGESTION_NOT_FOUND: { status: 404, title: 'Suggestion not found' },
  XRM_ERR_SUGGESTION_DECIDED: { status: 409, title: 'Suggestion already decided' },
  XRM_ERR_NOTIFICATION_NOT_FOUND: { status: 404, title: 'Notification not found' },
  XRM_ERR_AUTH_REQUIRED: { status: 401, title: 'Authentication required' },
  XRM_ERR_AUTH_INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  XRM_ERR_API_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  XRM_ERR_USER_NOT_FOUND: { status: 404, title: 'User not found' },
  XRM_ERR_SETUP_DONE: { status: 409, title: 'Setup is done' },
  XRM_ERR_FORBIDDEN: { status: 403, title: 'Forbidden' },
  XRM_ERR_FIELD_FORBIDDEN: { status: 403, title: 'Field not accessible' },
  XRM_ERR_ROLE_NOT_FOUND: { status: 404, title: 'Role not found' },
  XRM_ERR_ROLE_BUILT_IN: { status: 409, title: 'Built-in role' },
  XRM_ERR_TEAM_NOT_FOUND: { status: 404, title: 'Team not found' },
  XRM_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  XRM_ERR_SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  XRM_ERR_INTERNAL: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of every problem `type` URI (a URN: stable, not a web page); codes are documented in docs/errors.md. */
export const PROBLEM_TYPE_BASE = 'urn:xrm:problem:';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** An error meant for the client: its code, message and field errors are safe to show. */
export class XrmError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors?: FieldError[];
  readonly extensions?: Record<string, unknown>;
  /** Seconds after which a retry may succeed (sent as Retry-After). */
  readonly retryAfter?: number;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { errors?: FieldError[]; extensions?: Record<string, unknown>; cause?: unknown; retryAfter?: number } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'XrmError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.retryAfter = options.retryAfter;
  }

  toProblem(instance?: string): Problem {
    const problem: Problem = {
      type:
        PROBLEM_TYPE_BASE +
        this.code
          .toLowerCase()
          .replace(/^xrm_err_/, '')
          .replace(/_/g, '-'),
      title: ERROR_CODES[this.code].title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...this.extensions,
    };
    if (instance) problem.instance = instance;
    if (this.errors?.length) problem.errors = this.errors;
    return problem;
  }
}

export function isXrmError(error: unknown): error is XrmError {
  return error instanceof XrmError;
}

/** A validation failure with field paths. */
export function invalid(code: ErrorCode, detail: string, errors: FieldError[]): XrmError {
  return new XrmError(code, detail, { errors });
}
