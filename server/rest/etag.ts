/**
 * Optimistic concurrency over HTTP: a record's ETag is its row version, `"<version>"`; `If-Match`
 * on PATCH/DELETE makes the write conditional on it (412 when the record moved on).
 */
import { XrmError } from '../../metadata/errors.ts';

export function etag(version: number): string {
  return `"${version}"`;
}

/**
 * The entity-tags of an If-Match or If-None-Match list (RFC 9110 §8.8.3: `"opaque"` or
 * `W/"opaque"`, comma-separated, empty items allowed; an opaque part may hold commas), without
 * their weakness mark; undefined when the header is not such a list.
 */
function entityTags(header: string): string[] | undefined {
  const tags: string[] = [];
  const item = /[ \t]*(?:(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*"))?[ \t]*(,|$)/y;
  for (let at = 0; ; at = item.lastIndex) {
    item.lastIndex = at;
    const m = item.exec(header);
    if (!m) return undefined;
    if (m[1]) tags.push(m[1]);
    if (m[2] !== ',') return tags.length ? tags : undefined;
  }
}

/** The version an entity-tag of this API names (`"3"`), or undefined for a tag it never issued. */
function versionOf(tag: string): number | undefined {
  const m = /^"([1-9]\d{0,9})"$/.exec(tag);
  return m && Number(m[1]) <= 2_147_483_647 ? Number(m[1]) : undefined;
}

/**
 * The versions an If-Match header accepts: undefined for no condition (absent, or `*`: any
 * existing record); an empty list when it names only tags this API never issued, which no record
 * matches. A header that is neither `*` nor entity-tags is a 400. `W/"3"` counts as `"3"` (RFC 9110
 * compares strongly here, but a proxy may weaken a tag, and a version names one state either way).
 */
function ifMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const tags = entityTags(header);
  if (!tags) {
    throw new XrmError(
      'XRM_ERR_REQUEST_INVALID',
      'If-Match must be * or entity-tags as this API issues them, e.g. "3"',
      {
        errors: [{ path: '/headers/if-match', message: 'is neither * nor a list of entity-tags' }],
      },
    );
  }
  return [...new Set(tags.map(versionOf).filter((v) => v !== undefined))];
}

/** Versions start at 1: the expected version of a condition no record meets. */
const NO_VERSION = 0;

/**
 * A write made conditional by an If-Match header. `write(expectedVersion)` is the records service's
 * write: 412 XRM_ERR_RECORD_VERSION_MISMATCH when the record is at another version, 404 when it does
 * not exist (whatever the condition: RFC 9110 §13.2.1 evaluates preconditions on existing records).
 */
export async function ifMatchWrite<T>(
  header: string | undefined,
  write: (expectedVersion: number | undefined) => Promise<T>,
): Promise<T> {
  const versions = ifMatch(header);
  if (versions === undefined) return write(undefined);
  try {
    return await write(versions.length ? Math.max(...versions) : NO_VERSION);
  } catch (error) {
    const current =
      error instanceof XrmError && error.code === 'XRM_ERR_RECORD_VERSION_MISMATCH'
        ? error.extensions?.currentVersion
        : undefined;
    if (typeof current !== 'number') throw error;
    // the record is at another version the list names: once more with that one
    if (versions.includes(current)) return write(current);
    if (versions.length) throw error;
    throw new XrmError(
      'XRM_ERR_RECORD_VERSION_MISMATCH',
      `If-Match names no ETag this API issued; the record's is "${current}": read it again and retry`,
      {
        extensions: { currentVersion: current },
        cause: error,
      },
    );
  }
}

/** Whether an If-None-Match header holds the current ETag or `*` (answer 304); weak comparison. */
export function ifNoneMatch(header: string | undefined, current: string): boolean {
  if (!header) return false;
  // a header that is not a list of entity-tags matches nothing: the record is sent
  return header.trim() === '*' || (entityTags(header)?.includes(current) ?? false);
}
