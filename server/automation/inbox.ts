/**
 * What rules leave for people: suggestions (`/api/suggestions`) — a reason, the actions a rule
 * proposes with their values resolved, a link to the record — that the record's owner approves
 * (the actions run as the approver, with their roles, in one transaction) or dismisses; and in-app
 * notifications (`/api/notifications`). Each person sees their own; a holder of the metadata
 * privilege may see and decide everyone's (`?all=true`).
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import { isUuid } from '../record-id.ts';
import { actorName } from '../request-context.ts';
import { type Acting, type AutomationRunner, errorText, type ResolvedAction } from './runner.ts';

export const SUGGESTION_STATUSES = ['pending', 'approved', 'dismissed', 'failed'] as const;

export interface Suggestion {
  readonly id: string;
  readonly rule: { readonly id: string | null; readonly name: string };
  readonly entity: string;
  readonly recordId: string;
  /** The record in the data API. */
  readonly record: string;
  readonly owner: string | null;
  readonly reason: string;
  readonly actions: ResolvedAction[];
  readonly status: (typeof SUGGESTION_STATUSES)[number];
  readonly createdAt: string;
  readonly decidedAt: string | null;
  readonly decidedBy: string | null;
  readonly result: unknown;
  readonly error: string | null;
}

export interface Notification {
  readonly id: string;
  readonly text: string;
  readonly entity: string | null;
  readonly recordId: string | null;
  readonly record: string | null;
  readonly ruleId: string | null;
  readonly read: boolean;
  readonly createdAt: string;
}

/** Whose inbox: the caller's user id, and whether they may see everyone's. */
export interface Reader {
  readonly userId: string | null;
  readonly all: boolean;
}

const SUGGESTION_JSON = sql`json_build_object('id', id, 'rule', json_build_object('id', rule_id, 'name', rule_name),
  'entity', entity, 'recordId', record_id, 'record', '/api/data/' || entity || '/' || record_id, 'owner', owner_id,
  'reason', reason, 'actions', actions, 'status', status, 'createdAt', created_at, 'decidedAt', decided_at,
  'decidedBy', decided_by, 'result', result, 'error', error)`;

const NOTIFICATION_JSON = sql`json_build_object('id', id::text, 'text', text, 'entity', entity, 'recordId', record_id,
  'record', CASE WHEN record_id IS NULL THEN NULL ELSE '/api/data/' || entity || '/' || record_id END,
  'ruleId', rule_id, 'read', read_at IS NOT NULL, 'createdAt', created_at)`;

export class Inbox {
  readonly #db: Db;
  readonly #runner: AutomationRunner;

  constructor(db: Db, runner: AutomationRunner) {
    this.#db = db;
    this.#runner = runner;
  }

  #mine(reader: Reader) {
    return reader.all ? sql`true` : sql`owner_id = ${reader.userId}`;
  }

  async suggestions(
    reader: Reader,
    options: { status?: string; entity?: string; recordId?: string; limit: number; cursor?: string },
  ) {
    const where = [this.#mine(reader)];
    if (options.status !== 'all') where.push(sql`status = ${options.status ?? 'pending'}`);
    if (options.entity) where.push(sql`entity = ${options.entity}`);
    if (options.recordId && isUuid(options.recordId)) where.push(sql`record_id = ${options.recordId}`);
    if (options.cursor) {
      const [at, id] = options.cursor.split('_', 2);
      if (at && id && isUuid(id) && !Number.isNaN(Date.parse(at)))
        where.push(sql`(created_at, id) < (${at}::timestamptz, ${id}::uuid)`);
    }
    const { rows } = await sql<{ s: Suggestion; at: string }>`SELECT ${SUGGESTION_JSON} AS s,
        to_json(created_at) #>> '{}' AS at
      FROM xrm.suggestions WHERE ${sql.join(where, sql` AND `)}
      ORDER BY created_at DESC, id DESC LIMIT ${options.limit + 1}`.execute(this.#db);
    const data = rows.slice(0, options.limit);
    const last = data[data.length - 1];
    return {
      data: data.map((r) => r.s),
      ...(rows.length > options.limit && last ? { nextCursor: `${last.at}_${last.s.id}` } : {}),
    };
  }

  async suggestion(id: string, reader: Reader, db: Db = this.#db): Promise<Suggestion> {
    const found = isUuid(id)
      ? (
          await sql<{ s: Suggestion }>`SELECT ${SUGGESTION_JSON} AS s FROM xrm.suggestions
            WHERE id = ${id} AND ${this.#mine(reader)}`.execute(db)
        ).rows[0]
      : undefined;
    if (!found) throw new XrmError('XRM_ERR_SUGGESTION_NOT_FOUND', `No suggestion with id ${id} is addressed to you`);
    return found.s;
  }

  /** Decides a pending suggestion (a compare-and-set: a second decision is a 409). */
  async #decide(trx: Db, id: string, reader: Reader, status: 'approved' | 'dismissed', by: string) {
    await this.suggestion(id, reader, trx);
    const { rows } = await sql<{ s: Suggestion }>`UPDATE xrm.suggestions SET status = ${status}, decided_by = ${by},
        decided_at = now()
      WHERE id = ${id} AND status = 'pending' RETURNING ${SUGGESTION_JSON} AS s`.execute(trx);
    if (!rows[0]) throw new XrmError('XRM_ERR_SUGGESTION_DECIDED', `Suggestion ${id} has been decided already`);
    return rows[0].s;
  }

  /**
   * Approves: the proposed actions run as the approver, in one transaction with the decision; a
   * refused action refuses the approval (the suggestion stays pending, the problem says why).
   */
  async approve(id: string, reader: Reader, acting: Acting): Promise<Suggestion> {
    const started = performance.now();
    const by = actorName(acting.principal);
    let decided: Suggestion | undefined;
    try {
      return await this.#db.transaction().execute(async (trx) => {
        decided = await this.#decide(trx, id, reader, 'approved', by);
        const s = decided;
        const outcomes = await this.#runner.perform(trx, s.actions, acting, {
          rule: { id: s.rule.id ?? '', name: s.rule.name },
          entity: s.entity,
          id: s.recordId,
        });
        await sql`UPDATE xrm.suggestions SET result = ${JSON.stringify(outcomes)}::jsonb WHERE id = ${id}`.execute(trx);
        if (s.rule.id) {
          const version = await this.#runner.versionOf(s.rule.id, trx);
          await this.#runner.logRun(
            trx,
            { id: s.rule.id, version, entity: s.entity },
            {
              trigger: 'approval',
              recordId: s.recordId,
              outcome: 'succeeded',
              started,
              detail: { actions: outcomes },
              actor: by,
            },
          );
        }
        return { ...s, result: outcomes };
      });
    } catch (error) {
      const s = decided;
      if (s?.rule.id) {
        const version = await this.#runner.versionOf(s.rule.id);
        await this.#runner.logRun(
          this.#db,
          { id: s.rule.id, version, entity: s.entity },
          {
            trigger: 'approval',
            recordId: s.recordId,
            outcome: 'failed',
            started,
            error: errorText(error),
            actor: by,
          },
        );
      }
      throw error;
    } finally {
      this.#runner.onQueued();
    }
  }

  async dismiss(id: string, reader: Reader, by: string): Promise<Suggestion> {
    return this.#db.transaction().execute((trx) => this.#decide(trx, id, reader, 'dismissed', by));
  }

  // --- notifications --------------------------------------------------------------------------

  async notifications(userId: string | null, options: { unread?: boolean; limit: number; cursor?: string }) {
    const after = options.cursor && /^\d{1,18}$/.test(options.cursor) ? sql`AND id < ${options.cursor}` : sql``;
    const unread = options.unread ? sql`AND read_at IS NULL` : sql``;
    const { rows } = await sql<{ n: Notification }>`SELECT ${NOTIFICATION_JSON} AS n FROM xrm.notifications
      WHERE user_id = ${userId} ${unread} ${after} ORDER BY id DESC LIMIT ${options.limit + 1}`.execute(this.#db);
    const { rows: count } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.notifications
      WHERE user_id = ${userId} AND read_at IS NULL`.execute(this.#db);
    const data = rows.slice(0, options.limit).map((r) => r.n);
    return {
      data,
      unread: count[0]!.n,
      ...(rows.length > options.limit ? { nextCursor: data[data.length - 1]!.id } : {}),
    };
  }

  async markRead(id: string, userId: string | null): Promise<Notification> {
    const { rows } = /^\d{1,18}$/.test(id)
      ? await sql<{ n: Notification }>`UPDATE xrm.notifications SET read_at = COALESCE(read_at, now())
          WHERE id = ${id} AND user_id = ${userId} RETURNING ${NOTIFICATION_JSON} AS n`.execute(this.#db)
      : { rows: [] };
    if (!rows[0]) throw new XrmError('XRM_ERR_NOTIFICATION_NOT_FOUND', `You have no notification with id ${id}`);
    return rows[0].n;
  }

  async markAllRead(userId: string | null): Promise<{ read: number }> {
    const { rows } = await sql<{ n: number }>`WITH u AS (UPDATE xrm.notifications SET read_at = now()
        WHERE user_id = ${userId} AND read_at IS NULL RETURNING 1) SELECT count(*)::int AS n FROM u`.execute(this.#db);
    return { read: rows[0]!.n };
  }
}
