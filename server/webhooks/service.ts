/**
 * Webhooks (Standard Webhooks 1.0), a built-in consumer of the write pipeline's changes.
 * Subscriptions are configuration in the catalog (every instance sees the same ones; changes are
 * in the ledger); their signing secrets stay in `xrm.webhooks`. A change that matches a
 * subscription (entity, message, and its JSON filter on the post-image — the pre-image for a
 * delete) queues a delivery job in the write's transaction; the job worker signs and sends it,
 * retries failures with backoff, dead-letters after the last attempt, and turns the subscription
 * off when the receiver answers 410 Gone. Every attempt is logged in `xrm.webhook_deliveries`.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { actorName } from '../request-context.ts';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import type { MetadataService } from '../../metadata/service.ts';
import { CHANGE_MESSAGES, type WebhookDef } from '../../metadata/types.ts';
import type { Job, JobQueue, NewJob } from '../jobs/queue.ts';
import { GiveUp, RetryLater, type JobRun } from '../jobs/worker.ts';
import type { QueryService } from '../query/query-service.ts';
import { isUuid } from '../record-id.ts';
import type { Change, ChangeConsumer, ChangeMessage, ChangeOrigin } from '../records/changes.ts';
import type { Runtime } from '../runtime.ts';
import { type DeliveryResult, deliver, isSuccess, newSecret } from './deliver.ts';
import { type AllowList, checkWebhookUrl } from './ssrf.ts';

const PAST: Record<ChangeMessage, string> = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
  associate: 'associated',
  disassociate: 'disassociated',
};

export interface WebhookInput {
  url?: unknown;
  entity?: unknown;
  messages?: unknown;
  filter?: unknown;
  description?: unknown;
  enabled?: unknown;
}

export interface Delivery {
  readonly id: string;
  readonly jobId: string | null;
  readonly messageId: string;
  readonly eventType: string;
  readonly attempt: number;
  readonly status: number | null;
  readonly error: string | null;
  readonly durationMs: number;
  readonly success: boolean;
  readonly createdAt: string;
}

interface Secrets {
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
}

function invalid(path: string, message: string): XrmError {
  return new XrmError('XRM_ERR_REQUEST_INVALID', `The webhook is invalid: ${path} ${message}`, {
    errors: [{ path, message }],
  });
}

export interface WebhookOptions {
  readonly allow: AllowList;
  readonly timeoutMs: number;
}

export class WebhookService implements ChangeConsumer {
  readonly name = 'webhooks';
  readonly #db: Db;
  readonly #runtime: Runtime;
  readonly #metadata: MetadataService;
  readonly #query: QueryService;
  readonly #queue: JobQueue;
  readonly #options: WebhookOptions;
  /** Wakes the job worker after a commit that queued deliveries. */
  onQueued: () => void = () => undefined;

  constructor(
    db: Db,
    runtime: Runtime,
    metadata: MetadataService,
    query: QueryService,
    queue: JobQueue,
    options: WebhookOptions,
  ) {
    this.#db = db;
    this.#runtime = runtime;
    this.#metadata = metadata;
    this.#query = query;
    this.#queue = queue;
    this.#options = options;
  }

  // --- the change consumer -------------------------------------------------------------------

  #subscribed(catalog: Catalog, message: ChangeMessage, entity: string): WebhookDef[] {
    const out: WebhookDef[] = [];
    for (const w of catalog.webhooks.values()) {
      if (w.enabled && (w.entity === '*' || w.entity === entity) && w.messages.includes(message)) out.push(w);
    }
    return out;
  }

  wants(catalog: Catalog, message: ChangeMessage, entity: string): boolean {
    return catalog.webhooks.size > 0 && this.#subscribed(catalog, message, entity).length > 0;
  }

  async record(trx: Db, origin: ChangeOrigin, changes: readonly Change[], catalog: Catalog): Promise<void> {
    const jobs: NewJob[] = [];
    for (const c of changes) {
      for (const w of this.#subscribed(catalog, c.message, c.entity)) {
        const image = c.after ?? c.before;
        if (w.filter !== undefined && (!image || !(await this.#query.matches(trx, c.entity, w.filter, image))))
          continue;
        const data = {
          entity: c.entity,
          id: c.id,
          message: c.message,
          ...(c.after ? { record: c.after } : {}),
          ...(c.before ? { previous: c.before } : {}),
          ...(c.link ? { link: c.link } : {}),
          ...(c.cascade ? { cascade: true } : {}),
          correlationId: origin.correlationId,
          actor: actorName(origin.principal),
        };
        const body = { type: `${c.entity}.${PAST[c.message]}`, timestamp: new Date().toISOString(), data };
        jobs.push({ kind: 'webhook', target: w.id, eventId: c.eventId, payload: body });
      }
    }
    await this.#queue.enqueue(trx, jobs);
  }

  committed(): void {
    this.onQueued();
  }

  // --- subscriptions -------------------------------------------------------------------------

  list(): WebhookDef[] {
    return [...this.#runtime.state.catalog.webhooks.values()];
  }

  get(id: string): WebhookDef {
    const found = isUuid(id) ? this.#runtime.state.catalog.webhooks.get(id) : undefined;
    if (!found) throw new XrmError('XRM_ERR_WEBHOOK_NOT_FOUND', `No webhook has id ${id}`);
    return found;
  }

  /** Checks a definition against the live catalog: entity, messages, filter, and the SSRF guard on the URL. */
  #normalize(input: WebhookInput, base?: WebhookDef): Omit<WebhookDef, 'id'> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('/', 'must be an object');
    const known = ['url', 'entity', 'messages', 'filter', 'description', 'enabled'];
    for (const key of Object.keys(input))
      if (!known.includes(key)) throw invalid(`/${key}`, 'is not a webhook property');
    const url = input.url ?? base?.url;
    if (typeof url !== 'string' || url.length > 2048) throw invalid('/url', 'must be a URL of at most 2048 characters');
    const refused = checkWebhookUrl(url, this.#options.allow);
    if (refused) {
      throw new XrmError('XRM_ERR_WEBHOOK_TARGET_FORBIDDEN', `The webhook URL is not allowed: ${refused}`, {
        errors: [{ path: '/url', message: refused }],
      });
    }
    const entity = input.entity ?? base?.entity;
    if (typeof entity !== 'string') throw invalid('/entity', 'must name an entity, or * for all');
    if (entity !== '*') this.#runtime.state.catalog.require(entity);
    const messages = input.messages ?? base?.messages ?? ['create', 'update', 'delete'];
    if (
      !Array.isArray(messages) ||
      !messages.length ||
      messages.some((m) => !(CHANGE_MESSAGES as readonly unknown[]).includes(m)) ||
      new Set(messages).size !== messages.length
    )
      throw invalid('/messages', `must list distinct messages of ${CHANGE_MESSAGES.join(', ')}`);
    const filter = input.filter === undefined ? base?.filter : input.filter === null ? undefined : input.filter;
    if (filter !== undefined) {
      if (entity === '*') throw invalid('/filter', 'needs one entity (not *) to filter on');
      this.#query.checkFilter(entity, filter);
    }
    const description = input.description === undefined ? base?.description : input.description;
    if (description !== undefined && description !== null && typeof description !== 'string')
      throw invalid('/description', 'must be a string');
    const enabled = input.enabled ?? base?.enabled ?? true;
    if (typeof enabled !== 'boolean') throw invalid('/enabled', 'must be a boolean');
    return {
      url,
      entity,
      messages: messages as ChangeMessage[],
      ...(filter !== undefined ? { filter } : {}),
      ...(typeof description === 'string' ? { description } : {}),
      enabled,
      // turned back on by hand: the reason it was off no longer holds
      ...(!enabled && base?.disabledReason && input.enabled === undefined
        ? { disabledReason: base.disabledReason }
        : {}),
    };
  }

  /** Saves a subscription; answers it with its signing secret (shown this once). */
  async create(input: WebhookInput, actor: string): Promise<WebhookDef & { secret: string }> {
    const definition = this.#normalize(input);
    const id = randomUUID();
    const secret = newSecret();
    await this.#metadata.configure({ actor }, async () => ({
      operation: 'webhook.create',
      target: `webhook:${id}`,
      after: { id, ...definition },
      result: undefined,
      write: async (trx) => {
        await sql`INSERT INTO xrm.webhooks (id, definition, secret)
          VALUES (${id}, ${JSON.stringify(definition)}::jsonb, ${secret})`.execute(trx);
      },
    }));
    return { id, ...definition, secret };
  }

  async update(id: string, input: WebhookInput, actor: string, reason?: string): Promise<WebhookDef> {
    const before = this.get(id);
    const definition = { ...this.#normalize(input, before), ...(reason ? { disabledReason: reason } : {}) };
    await this.#metadata.configure({ actor }, async () => ({
      operation: 'webhook.update',
      target: `webhook:${id}`,
      before,
      after: { id, ...definition },
      result: undefined,
      write: async (trx) => {
        await sql`UPDATE xrm.webhooks SET definition = ${JSON.stringify(definition)}::jsonb, updated_at = now()
          WHERE id = ${id}`.execute(trx);
      },
    }));
    return { id, ...definition };
  }

  async delete(id: string, actor: string): Promise<void> {
    const before = this.get(id);
    await this.#metadata.configure({ actor }, async () => ({
      operation: 'webhook.delete',
      target: `webhook:${id}`,
      before,
      result: undefined,
      write: async (trx) => {
        await sql`DELETE FROM xrm.webhooks WHERE id = ${id}`.execute(trx);
      },
    }));
  }

  /**
   * A new signing secret; the old one keeps signing beside it (two signatures per delivery) for
   * `graceSeconds`, so receivers can switch without a gap.
   */
  async rotateSecret(id: string, graceSeconds: number, actor: string) {
    this.get(id);
    const secret = newSecret();
    return this.#metadata.configure({ actor }, async (_catalog, trx) => {
      const { rows } = await sql<{ expires: string }>`UPDATE xrm.webhooks SET previous_secret = secret,
          previous_secret_expires_at = now() + ${`${graceSeconds} seconds`}::interval, secret = ${secret},
          updated_at = now()
        WHERE id = ${id} RETURNING previous_secret_expires_at::text AS expires`.execute(trx);
      if (!rows[0]) throw new XrmError('XRM_ERR_WEBHOOK_NOT_FOUND', `No webhook has id ${id}`);
      const previousSecretExpiresAt = new Date(rows[0].expires).toISOString();
      return {
        operation: 'webhook.rotate-secret',
        target: `webhook:${id}`,
        after: { previousSecretExpiresAt },
        result: { secret, previousSecretExpiresAt },
        write: async () => undefined,
      };
    });
  }

  async deliveries(id: string, options: { limit: number; cursor?: string }) {
    this.get(id);
    const after = options.cursor && /^\d{1,18}$/.test(options.cursor) ? sql`AND id < ${options.cursor}` : sql``;
    const { rows } = await sql<{ d: Delivery }>`SELECT json_build_object('id', id::text, 'jobId', job_id::text,
        'messageId', message_id, 'eventType', event_type, 'attempt', attempt, 'status', status, 'error', error,
        'durationMs', duration_ms, 'success', COALESCE(status BETWEEN 200 AND 299, false), 'createdAt', created_at) AS d
      FROM xrm.webhook_deliveries WHERE webhook_id = ${id} ${after}
      ORDER BY id DESC LIMIT ${options.limit + 1}`.execute(this.#db);
    const data = rows.slice(0, options.limit).map((r) => r.d);
    return { data, ...(rows.length > options.limit ? { nextCursor: data[data.length - 1]!.id } : {}) };
  }

  /** Sends a `webhook.test` event now and answers how it went (also logged as a delivery). */
  async test(id: string): Promise<Delivery> {
    const webhook = this.get(id);
    const body = {
      type: 'webhook.test',
      timestamp: new Date().toISOString(),
      data: { webhook: id, entity: webhook.entity },
    };
    return (await this.#send(id, `msg_${randomUUID()}`, body, null, 1)).delivery;
  }

  /**
   * The subscription as stored, with its signing secrets (the previous one while its grace period
   * runs): read from the table, not the catalog, so a delivery never depends on how soon this
   * instance's catalog caught up with a change made on another one.
   */
  async #stored(id: string): Promise<{ webhook: WebhookDef; secrets: string[] } | undefined> {
    const { rows } = await sql<Secrets & { definition: Omit<WebhookDef, 'id'> }>`SELECT definition, secret,
        previous_secret, previous_secret_expires_at::text FROM xrm.webhooks WHERE id = ${id}`.execute(this.#db);
    const row = rows[0];
    if (!row) return undefined;
    const previousValid =
      row.previous_secret && row.previous_secret_expires_at && new Date(row.previous_secret_expires_at) > new Date();
    const secrets = previousValid ? [row.secret, row.previous_secret!] : [row.secret];
    return { webhook: { id, ...row.definition }, secrets };
  }

  async #send(id: string, msgId: string, body: { type: string }, jobId: string | null, attempt: number) {
    const stored = await this.#stored(id);
    if (!stored) throw new XrmError('XRM_ERR_WEBHOOK_NOT_FOUND', `No webhook has id ${id}`);
    return this.#attempt(stored, msgId, body, jobId, attempt);
  }

  async #attempt(
    { webhook, secrets }: { webhook: WebhookDef; secrets: string[] },
    msgId: string,
    body: { type: string },
    jobId: string | null,
    attempt: number,
  ) {
    const result: DeliveryResult = await deliver({
      url: webhook.url,
      msgId,
      timestamp: new Date(),
      body: JSON.stringify(body),
      secrets,
      timeoutMs: this.#options.timeoutMs,
      allow: this.#options.allow,
    });
    const { rows } = await sql<{ d: Delivery }>`INSERT INTO xrm.webhook_deliveries
        (webhook_id, job_id, message_id, event_type, attempt, status, error, duration_ms)
      VALUES (${webhook.id}, ${jobId}, ${msgId}, ${body.type}, ${attempt}, ${result.status ?? null},
        ${result.error ?? null}, ${result.durationMs})
      RETURNING json_build_object('id', id::text, 'jobId', job_id::text, 'messageId', message_id,
        'eventType', event_type, 'attempt', attempt, 'status', status, 'error', error, 'durationMs', duration_ms,
        'success', COALESCE(status BETWEEN 200 AND 299, false), 'createdAt', created_at) AS d`.execute(this.#db);
    return { result, delivery: rows[0]!.d };
  }

  /** The job handler of one queued delivery. */
  async deliverJob(job: Job, _run: JobRun): Promise<void> {
    const stored = await this.#stored(job.target);
    // deleted or turned off since: nothing to send
    if (!stored?.webhook.enabled) return;
    const msgId = `msg_${job.eventId}`;
    const { result } = await this.#attempt(stored, msgId, job.payload as { type: string }, job.id, job.attempts);
    if (isSuccess(result.status)) return;
    if (result.status === 410) {
      await this.update(job.target, { enabled: false }, 'system:webhooks', 'the receiver answered 410 Gone');
      throw new GiveUp('the receiver answered 410 Gone: the webhook is turned off');
    }
    const why = result.status ? `the receiver answered ${result.status}` : (result.error ?? 'no answer');
    if (result.retryAfterSeconds !== undefined) throw new RetryLater(why, result.retryAfterSeconds * 1000);
    throw new Error(why);
  }
}
