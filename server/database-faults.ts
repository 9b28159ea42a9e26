/**
 * Faults of the database itself (a terminated backend, a failover, a pool that cannot connect, a
 * serialization failure) as opposed to a client's mistake or a bug: they answer 503 with
 * Retry-After, and a request sent a moment later succeeds. One classifier, used by the REST error
 * handler and by GraphQL's error formatter.
 */
import { XrmError } from '../metadata/errors.ts';

/** Seconds a client is told to wait before retrying after a database fault. */
export const RETRY_AFTER_SECONDS = 1;

const TRANSIENT_SQLSTATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/** What node-postgres and pg-pool say when a connection is gone or cannot be had. */
const LOST_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'Client was closed',
  'timeout exceeded when trying to connect',
];
const LOST_CONNECTION = new RegExp(`^(${LOST_CONNECTION_MESSAGES.join('|')})`);

function isFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // class 08: connection exception
    if (code.startsWith('08') || TRANSIENT_SQLSTATES.has(code) || NETWORK_CODES.has(code)) return true;
  }
  return LOST_CONNECTION.test(error.message);
}

/** True when the error (or one it wraps) is a database fault a retry can get past. */
export function isDatabaseFault(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isFault(e)) return true;
  }
  return false;
}

/** The problem a database fault is answered with: 503, retry after a second. */
export function databaseUnavailable(cause: unknown): XrmError {
  return new XrmError(
    'XRM_ERR_SERVICE_UNAVAILABLE',
    'The database is unavailable for a moment (connection lost or contention); retry shortly',
    {
      cause,
      retryAfter: RETRY_AFTER_SECONDS,
    },
  );
}
