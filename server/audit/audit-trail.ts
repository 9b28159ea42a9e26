/**
 * The audit trail, a built-in consumer of the write pipeline's changes: for every entity with
 * `auditEnabled`, each create, update, delete, associate and disassociate — bulk and cascaded
 * ones included — appends who, when, which message, the correlation id and every changed field
 * (old → new) to `xrm.audit`, in the write's own transaction and in one statement per operation.
 * The table is append-only (a trigger refuses UPDATE, DELETE and TRUNCATE); a deleted record
 * keeps its history.
 */
import { type RawBuilder, sql } from 'kysely';
import { actorName } from '../request-context.ts';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import { assertUuid } from '../record-id.ts';
import { XrmError } from '../../metadata/errors.ts';
import { table } from '../../metadata/physical-names.ts';
import type { Access } from '../security/access.ts';
import { bindSubject } from '../security/subject.ts';
import { hiddenFields } from '../records/write-access.ts';
import type { Change, ChangeConsumer, ChangeMessage, ChangeOrigin } from '../records/changes.ts';

export interface HistoryEntry {
  readonly id: string;
  readonly message: ChangeMessage;
  readonly actor: string;
  readonly correlationId: string;
  readonly depth: number;
  readonly at: string;
  readonly changes: readonly { field: string; old?: unknown; new?: unknown }[];
}

export interface HistoryPage {
  readonly data: HistoryEntry[];
  readonly nextCursor?: string;
}

interface AuditRow {
  entity: string;
  record_id: string;
  message: string;
  actor: string;
  correlation_id: string;
  depth: number;
  old?: unknown;
  new?: unknown;
  /** Links: given; records: xrm.audit_diff(old, new). */
  changes?: unknown;
}

const audited = (catalog: Catalog, entity: string) => catalog.entity(entity)?.auditEnabled === true;

export class AuditTrail implements ChangeConsumer {
  readonly name = 'audit';
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  wants(catalog: Catalog, _message: ChangeMessage, entity: string): boolean {
    return audited(catalog, entity);
  }

  async record(trx: Db, origin: ChangeOrigin, changes: readonly Change[], catalog: Catalog): Promise<void> {
    const actor = actorName(origin.principal);
    const rows: AuditRow[] = [];
    const row = (entity: string, id: string, c: Change, images: Partial<AuditRow>) =>
      rows.push({
        entity,
        record_id: id,
        message: c.message,
        actor,
        correlation_id: origin.correlationId,
        depth: c.depth,
        ...images,
      });
    for (const c of changes) {
      if (c.link) {
        // a link belongs to the history of both records
        const rel = catalog.relationships.get(c.link.relationship);
        const side = c.message === 'associate' ? 'new' : 'old';
        if (rel && audited(catalog, rel.from))
          row(rel.from, c.link.fromId, c, { changes: [{ field: c.link.relationship, [side]: c.link.toId }] });
        if (rel && audited(catalog, rel.to))
          row(rel.to, c.link.toId, c, { changes: [{ field: c.link.relationship, [side]: c.link.fromId }] });
        continue;
      }
      if (audited(catalog, c.entity)) row(c.entity, c.id, c, { old: c.before ?? null, new: c.after ?? null });
    }
    if (!rows.length) return;
    // the field-by-field difference is xrm.audit_diff's, here and in the one-statement path (inline)
    const columns = sql`x(entity text, record_id uuid, message text, actor text, correlation_id text,
      depth integer, old json, new json, changes jsonb)`;
    await sql`INSERT INTO xrm.audit (entity, record_id, message, actor, correlation_id, depth, changes)
      SELECT entity, record_id, message, actor, correlation_id, depth, COALESCE(changes, xrm.audit_diff(old, new))
      FROM json_to_recordset(${JSON.stringify(rows)}::json) AS ${columns}`.execute(trx);
  }

  /**
   * The audit row of a single create, update or delete as part of the write's own statement
   * (reading its CTE `w(record, old)`): no transaction, one round trip, when nothing else observes.
   */
  inline(message: ChangeMessage, entity: string, origin: ChangeOrigin, depth: number): RawBuilder<unknown> {
    return sql`INSERT INTO xrm.audit (entity, record_id, message, actor, correlation_id, depth, changes)
      SELECT ${entity}, (COALESCE(w.record, w.old) ->> 'id')::uuid, ${message}, ${actorName(origin.principal)},
        ${origin.correlationId}, ${depth}, xrm.audit_diff(w.old, w.record) FROM w`;
  }

  /** A record's history, newest first, keyset paged; deleted records keep theirs. */
  /**
   * A record's history, newest first. A restricted reader sees the history of a record they can
   * read now (else 404: a deleted record's history is for unrestricted readers), without the
   * changes of secured fields they cannot read.
   */
  async history(
    entity: string,
    id: string,
    options: { limit: number; cursor?: string; access?: Access; catalog?: Catalog },
  ): Promise<HistoryPage> {
    assertUuid(id);
    const { access, catalog } = options;
    const restricted = access && catalog && !access.policy.unrestricted;
    if (restricted) {
      const reach = access.policy.predicate(entity, 'read', 't', catalog) ?? sql<boolean>`true`;
      const statement = sql<{ ok: boolean }>`SELECT EXISTS (SELECT 1 FROM ${table(entity)} t
        WHERE t.id = ${id} AND ${reach}) AS ok`;
      const { rows } = await this.#db.executeQuery<{ ok: boolean }>(
        bindSubject(statement.compile(this.#db), access.subject),
      );
      if (!rows[0]?.ok) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record has id ${id}`);
    }
    const after = options.cursor && /^\d{1,18}$/.test(options.cursor) ? sql`AND id < ${options.cursor}` : sql``;
    const { rows } = await sql<{ e: HistoryEntry }>`SELECT json_build_object('id', id::text, 'message', message,
        'actor', actor, 'correlationId', correlation_id, 'depth', depth, 'at', created_at, 'changes', changes) AS e
      FROM xrm.audit WHERE entity = ${entity} AND record_id = ${id} ${after}
      ORDER BY id DESC LIMIT ${options.limit + 1}`.execute(this.#db);
    let data = rows.slice(0, options.limit).map((r) => r.e);
    const hidden = restricted ? new Set(hiddenFields(access, catalog, entity)) : undefined;
    if (hidden?.size) data = data.map((e) => ({ ...e, changes: e.changes.filter((c) => !hidden.has(c.field)) }));
    return { data, ...(rows.length > options.limit ? { nextCursor: data[data.length - 1]!.id } : {}) };
  }
}
