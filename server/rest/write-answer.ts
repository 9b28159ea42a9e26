/**
 * What a REST write answers with: the record (restricted to `select=` when given), or nothing
 * with `Prefer: return=minimal` (RFC 7240, as PostgREST does): 201 with Location for a create,
 * 204 for an update, the ETag either way, and `Preference-Applied` saying the preference was
 * honoured. `select` is checked before the write, so a bad one leaves nothing written.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Catalog } from '../../metadata/catalog.ts';
import { SYSTEM_COLUMNS } from '../../metadata/system-fields.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { queryError } from '../query/filter-parse.ts';
import { LIMITS } from '../limits.ts';
import { etag } from './etag.ts';

/** The `select` and `Prefer` of one write request, checked. */
export interface WriteAnswer {
  /** Fields to answer with (id always); undefined: all the writer may read. */
  readonly select?: ReadonlySet<string>;
  /** `Prefer: return=minimal`: no body. */
  readonly minimal: boolean;
}

/** The query parameter a write takes (create, upsert, update). */
export const WRITE_QUERY_SELECT = {
  type: 'string',
  description: 'Fields to answer with, comma-separated (id is always included); the write itself is whole',
} as const;

/** Reads and checks `select` (400 naming `/select/<i>` for an unknown field) and `Prefer`. */
export function writeAnswer(req: FastifyRequest, catalog: Catalog, entity: string): WriteAnswer {
  const minimal = preferMinimal(req.headers.prefer);
  const raw = (req.query as { select?: string } | undefined)?.select;
  if (raw === undefined || raw.trim() === '') return { minimal };
  const names = raw.split(',').map((s) => s.trim());
  if (names.length > LIMITS.recordColumns) throw queryError('/select', `names at most ${LIMITS.recordColumns} fields`);
  const known = knownFields(catalog, entity);
  names.forEach((name, i) => {
    if (!known.has(name)) throw queryError(`/select/${i}`, `"${entity}" has no field "${name}"`);
  });
  return { select: new Set(['id', ...names]), minimal };
}

/** The names `select` may take: the system columns and the entity's fields (per definition, built once). */
function knownFields(catalog: Catalog, entity: string): ReadonlySet<string> {
  const def = catalog.entity(entity);
  if (!def) return new Set(SYSTEM_COLUMNS);
  let known = fieldNames.get(def);
  if (!known) fieldNames.set(def, (known = new Set([...SYSTEM_COLUMNS, ...def.fields.map((f) => f.name)])));
  return known;
}

const fieldNames = new WeakMap<EntityDef, ReadonlySet<string>>();

/** Whether a Prefer header asks for `return=minimal` (the last `return=` wins). */
function preferMinimal(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const values = (Array.isArray(header) ? header.join(',') : header).split(',');
  let minimal = false;
  for (const value of values) {
    const [name, token] = value
      .split(';')[0]!
      .split('=')
      .map((s) => s.trim().toLowerCase());
    if (name === 'return') minimal = token === 'minimal';
  }
  return minimal;
}

/**
 * Sends a written record: `status` with the record (its selected fields), or — minimal — 201 for
 * a creation, 204 otherwise, without a body. Location goes with a creation, the ETag always.
 */
export function sendWritten(
  reply: FastifyReply,
  answer: WriteAnswer,
  record: Record<string, unknown> & { id: string; version: number },
  status: 200 | 201,
  location?: string,
): FastifyReply {
  reply.header('etag', etag(record.version));
  if (location) reply.header('location', location);
  if (answer.minimal)
    return reply
      .code(status === 201 ? 201 : 204)
      .header('preference-applied', 'return=minimal')
      .send();
  const body = answer.select
    ? Object.fromEntries(Object.entries(record).filter(([k]) => answer.select!.has(k)))
    : record;
  return reply.code(status).send(body);
}
