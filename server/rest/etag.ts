/**
 * Optimistic concurrency over HTTP: a record's ETag is its row version, `"<version>"`; `If-Match`
 * on PATCH/DELETE makes the write conditional on it (412 when the record moved on).
 */
import { XrmError } from '../../metadata/errors.ts';

export function etag(version: number): string {
  return `"${version}"`;
}

/** The version an If-Match header names (undefined when absent or `*`). */
export function ifMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const m = /^\s*(?:W\/)?"(\d{1,10})"\s*$/.exec(header);
  if (!m) {
    throw new XrmError('XRM_ERR_REQUEST_INVALID', 'If-Match must be one ETag as this API issues them, e.g. "3"', { errors: [{ path: '/headers/if-match', message: 'is not an ETag of this API' }] });
  }
  return Number(m[1]);
}

/** Whether an If-None-Match header already holds the current ETag (answer 304). */
export function ifNoneMatch(header: string | undefined, current: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === current);
}
