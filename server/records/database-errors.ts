/**
 * Database errors caused by a client's data become coded problems naming the field; anything
 * else is rethrown untouched (a bug, reported as an opaque 500).
 */
import type { Catalog } from '../../metadata/catalog.ts';
import { indexedFields } from '../../metadata/ddl.ts';
import { constraintNames } from '../../metadata/physical-names.ts';
import { XrmError } from '../../metadata/errors.ts';
import type { EntityDef, FieldDef } from '../../metadata/types.ts';

interface PgError {
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

function fieldByConstraint(entity: EntityDef | undefined, constraint: string | undefined): FieldDef | undefined {
  if (!entity || !constraint) return undefined;
  return entity.fields.find((f) =>
    [constraintNames.unique, constraintNames.check, constraintNames.foreignKey].some(
      (name) => name(entity.name, f.name) === constraint,
    ),
  );
}

/**
 * The fields to name when a value is too large for an index entry (SQLSTATE 54000): the index's
 * own when PostgreSQL names it (a B-tree entry past about 2,700 bytes), else the indexed field
 * with the largest of the written values (an entry past a page, a record's words past 1 MB for its
 * full-text index); every indexed field when the values are not known.
 */
function tooLargeFor(entity: EntityDef, constraint: string | undefined, values?: Record<string, unknown>): string[] {
  const indexes = indexedFields(entity);
  const named = indexes.find((i) => i.name === constraint);
  const fields = [...new Set((named ? [named] : indexes).flatMap((i) => i.fields))];
  const size = (v: unknown) => (v == null ? 0 : Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v)));
  const written = values ? fields.filter((f) => size(values[f]) > 0) : [];
  if (!written.length) return fields;
  return [written.reduce((a, b) => (size(values![b]) > size(values![a]) ? b : a))];
}

/**
 * `operation` tells a failed reference on write (the referenced record is missing) from a delete
 * that other records still reference; the table alone cannot, for a lookup to its own entity.
 * Without it, the failing table decides (the entity's own table or a junction: a write).
 */
export function mapDatabaseError(
  error: unknown,
  catalog: Catalog,
  entity: EntityDef,
  operation?: 'write' | 'delete',
  values?: Record<string, unknown>,
): unknown {
  const e = error as PgError;
  const table = e.table ? catalog.entity(e.table) : undefined;
  const field = fieldByConstraint(table ?? entity, e.constraint);
  const path = field ? `/${field.name}` : e.column ? `/${e.column}` : '/';
  switch (e.code) {
    case '23505': {
      const owner = table ?? entity;
      const key =
        owner.alternateKeys?.find((k) => constraintNames.alternateKey(owner.name, k.name) === e.constraint) ??
        owner.indexes?.find((i) => i.unique && constraintNames.entityIndex(owner.name, i.name) === e.constraint);
      if (key) {
        const what = 'unique' in key ? 'unique index' : 'key';
        return new XrmError(
          'XRM_ERR_RECORD_DUPLICATE',
          `Another ${entity.name} record already has these values of ${what} "${key.name}" (${key.fields.join(', ')})`,
          {
            errors: key.fields.map((f) => ({
              path: `/${f}`,
              message: `must be unique together with ${key.fields.filter((x) => x !== f).join(', ') || 'nothing else'}`,
            })),
          },
        );
      }
      if (e.constraint === constraintNames.primaryKey((table ?? entity).name)) {
        return new XrmError('XRM_ERR_RECORD_DUPLICATE', `A ${entity.name} record with this id already exists`, {
          errors: [{ path: '/id', message: 'is taken' }],
        });
      }
      return new XrmError(
        'XRM_ERR_RECORD_DUPLICATE',
        `Another ${entity.name} record already has this ${field?.displayName ?? 'value'}`,
        {
          errors: [{ path, message: 'must be unique' }],
        },
      );
    }
    case '23001': // restrict_violation: ON DELETE RESTRICT, as PostgreSQL 18 reports it
    case '23503': {
      const write = operation
        ? operation === 'write'
        : e.code === '23503' &&
          ((table?.name === entity.name && !!field) || (!!e.table && catalog.relationships.has(e.table)));
      if (write) {
        const target = field?.target ?? 'the other side';
        return new XrmError('XRM_ERR_RECORD_REFERENCE_NOT_FOUND', `The referenced ${target} record does not exist`, {
          errors: [{ path, message: 'references a record that does not exist' }],
        });
      }
      return new XrmError(
        'XRM_ERR_RECORD_DELETE_RESTRICTED',
        `This ${entity.name} record is still referenced by ${e.table ?? 'other'} records` +
          (field ? ` (field "${field.name}")` : ''),
        {
          extensions: { referencedBy: e.table ? { entity: e.table, field: field?.name } : undefined },
        },
      );
    }
    case '23502':
      return new XrmError('XRM_ERR_RECORD_INVALID', `"${e.column}" is required`, {
        errors: [{ path: `/${e.column}`, message: 'is required' }],
      });
    case '23514':
      return new XrmError(
        'XRM_ERR_RECORD_INVALID',
        `The value of ${field ? `"${field.name}"` : 'a field'} breaks its rules`,
        { errors: [{ path, message: "breaks the field's rules" }] },
      );
    case '22021': // a NUL character (text and jsonb cannot hold it)
    case '22P05':
      return new XrmError('XRM_ERR_RECORD_INVALID', 'A text value contains a character PostgreSQL cannot store (NUL)', {
        errors: [{ path, message: 'must not contain NUL characters' }],
      });
    case '22001':
    case '22003':
    case '22P02':
    case '22007':
    case '22008':
      return new XrmError('XRM_ERR_RECORD_INVALID', `A value is out of range or malformed for its column`, {
        errors: [{ path, message: 'is out of range or malformed' }],
      });
    case '54000': {
      // program_limit_exceeded: on a write, a value past what an index entry or a tsvector holds
      const fields = tooLargeFor(table ?? entity, e.constraint, values);
      const names = fields.map((f) => `"${f}"`).join(', ');
      return new XrmError(
        'XRM_ERR_RECORD_INVALID',
        `A value is too large for the ${entity.name} entity's indexes (${names}): an indexed, unique or key ` +
          "field's entry holds about 2,700 bytes, and a record's searchable text at most 1 MB of words",
        { errors: fields.map((f) => ({ path: `/${f}`, message: 'is too large to index' })) },
      );
    }
    default:
      return error;
  }
}

/** SQLSTATE query_canceled, which PostgreSQL raises for statement_timeout (and for pg_cancel_backend). */
const QUERY_CANCELED = '57014';

/** True when the error (or one it wraps) is a statement PostgreSQL cancelled for running past statement_timeout. */
export function isStatementTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    // the same SQLSTATE answers an operator's pg_cancel_backend ("due to user request"): not a timeout
    if (code === QUERY_CANCELED && typeof message === 'string' && message.includes('statement timeout')) return true;
  }
  return false;
}

/** The problem a statement cancelled by statement_timeout answers with; `timeoutMs` is the configured limit. */
export function statementTimedOut(cause: unknown, timeoutMs?: number): XrmError {
  const limit = timeoutMs ? `${timeoutMs} ms (XRM_STATEMENT_TIMEOUT_MS)` : "the database's statement_timeout";
  return new XrmError(
    'XRM_ERR_QUERY_TIMEOUT',
    `A database statement of this request ran longer than ${limit} and was cancelled ` +
      '(working, or waiting for a lock other work held); ask for less (a tighter filter, a smaller page), ' +
      'retry later, or ask an operator to raise the limit',
    { cause },
  );
}
