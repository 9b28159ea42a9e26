/**
 * Runs rules: the `automation` jobs event rules and schedule passes queue, manual runs, dry runs
 * and approved suggestions. A run reads its record (as the user it acts for), resolves the
 * templates of its actions and performs them in ONE transaction through the write pipeline's
 * data API — updates, creates and custom messages as that user, with their roles as they are now;
 * notifications and suggestions as rows; emails and webhook calls as durable jobs of their own,
 * so a flaky receiver is retried without redoing the writes. Every run is logged
 * (`xrm.automation_runs`) — a successful one in the same transaction as its effects, a failed one
 * after its rollback — so a rule never fails silently.
 *
 * Loops stop twice over: writes made by a run nest one level deeper than the change that started
 * it (the pipeline stops at depth 8), and a rule that runs more than `maxRunsPerMinute` times in a
 * minute is turned off with the reason.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import { table } from '../../metadata/physical-names.ts';
import type { AutomationRuleDef, RuleAction } from '../../metadata/types.ts';
import type { Principal } from '../../plugins/api.ts';
import type { PluginHost } from '../../plugins/host.ts';
import type { Job, JobQueue } from '../jobs/queue.ts';
import { LeaseLost } from '../jobs/queue.ts';
import { GiveUp, type JobRun } from '../jobs/worker.ts';
import type { QueryService } from '../query/query-service.ts';
import { assertUuid, isUuid } from '../record-id.ts';
import type { WritePipeline } from '../records/pipeline.ts';
import { actorName } from '../request-context.ts';
import type { Runtime } from '../runtime.ts';
import type { Access, AccessService } from '../security/access.ts';
import { bindSubject } from '../security/subject.ts';
import { hiddenFields } from '../records/write-access.ts';
import { deliver, isSuccess } from '../webhooks/deliver.ts';
import type { AllowList } from '../webhooks/ssrf.ts';
import { conditionPredicate, NEW, OLD, splitCondition } from './conditions.ts';
import { type Email, isEmailAddress, type Mailer } from './mailer.ts';
import { DEFAULT_MAX_RUNS_PER_MINUTE, type RuleService } from './rules.ts';
import { lookupsRead, resolve, type Row, type TemplateScope } from './templates.ts';
import { type Clock, dayIn, zoneOf } from './time.ts';

export const RUN_OUTCOMES = ['succeeded', 'failed', 'skipped', 'suggested'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];
/** `delivery`: an email or webhook call a run queued that failed for good. */
export const RUN_TRIGGERS = ['event', 'schedule', 'manual', 'approval', 'delivery'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** What an `automation` job carries: a schedule pass (no id), or one run on one record. */
export interface RunPayload {
  readonly rule: string;
  readonly version?: number;
  readonly trigger: 'event' | 'schedule';
  readonly message?: string;
  readonly entity?: string;
  readonly id?: string;
  readonly depth?: number;
  /** A delete's record as it was (the record is gone when the run reads it). */
  readonly previous?: Row;
  readonly principal?: Principal;
  readonly correlationId?: string;
}

/** An action with its templates resolved and its targets found: what runs, or what a suggestion proposes. */
export type ResolvedAction =
  | { readonly type: 'update'; readonly entity: string; readonly id: string; readonly values: Row }
  | { readonly type: 'create'; readonly entity: string; readonly values: Row }
  | { readonly type: 'webhook'; readonly url: string }
  | {
      readonly type: 'message';
      readonly name: string;
      readonly input: Row;
      readonly target?: { readonly entity: string; readonly id: string };
    }
  | { readonly type: 'email'; readonly to: string; readonly subject: string; readonly body: string }
  | { readonly type: 'notify'; readonly to: string; readonly text: string }
  | {
      readonly type: 'suggest';
      readonly reason: string;
      readonly owner: string | null;
      readonly actions: ResolvedAction[];
    };

/** What one action did (a run's detail, a dry run's answer). */
export type ActionOutcome = Row & { readonly type: RuleAction['type'] };

export interface RunEntry {
  readonly id: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly trigger: RunTrigger;
  readonly entity: string | null;
  readonly recordId: string | null;
  readonly outcome: RunOutcome;
  readonly durationMs: number;
  readonly error: string | null;
  readonly detail: { actions?: ActionOutcome[]; matched?: number; queued?: number } | null;
  readonly jobId: string | null;
  readonly actor: string | null;
  readonly createdAt: string;
}

/** A run to log; `started`: its performance.now() at the start. */
export interface RunLog {
  readonly trigger: RunTrigger;
  readonly recordId?: string;
  readonly outcome: RunOutcome;
  readonly started: number;
  readonly error?: string;
  readonly detail?: RunEntry['detail'];
  readonly jobId?: string;
  readonly actor?: string;
  /** The depth of the change that started it (1: a person's write). */
  readonly depth?: number;
}

/** Who a run acts as. */
export interface Acting {
  readonly principal: Principal;
  /** Absent: the system. */
  readonly access?: Access;
  readonly correlationId: string;
  readonly depth: number;
  readonly log: FastifyBaseLogger;
}

const RUN_JSON = sql`json_build_object('id', id::text, 'ruleId', rule_id, 'ruleVersion', rule_version,
  'trigger', trigger, 'entity', entity, 'recordId', record_id, 'outcome', outcome, 'durationMs', duration_ms,
  'error', error, 'detail', detail, 'jobId', job_id::text, 'actor', actor, 'createdAt', created_at)`;

/** The advisory-lock space (first key of the two-key form) of manual runs' per-person cap. */
const BUTTON_LOCK_SPACE = 0x6274; // "bt"

/** The dry run's way out of its transaction: everything it did is rolled back. */
class DryRun extends Error {
  constructor(readonly outcomes: ActionOutcome[]) {
    super('dry run');
  }
}

/** The principal an actor name (`user:<id>`, `apiKey:<id>`, `system`) stands for. */
export function principalOfActor(actor: string | undefined): Principal {
  const [kind, id] = (actor ?? 'system').split(':', 2) as [string, string | undefined];
  if ((kind === 'user' || kind === 'apiKey') && id && isUuid(id)) return { kind, id };
  return { kind: 'system', id: 'system' };
}

/** The text of an error for the run log: a problem's detail, or the message. */
export function errorText(error: unknown): string {
  if (error instanceof XrmError) {
    const first = error.errors?.[0];
    const where = first && !error.message.includes(first.path) ? ` (${first.path}: ${first.message})` : '';
    return `${error.code}: ${error.message}${where}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export interface RunnerOptions {
  readonly db: Db;
  readonly runtime: Runtime;
  readonly pipeline: WritePipeline;
  readonly query: QueryService;
  readonly access: AccessService;
  readonly rules: RuleService;
  readonly queue: JobQueue;
  readonly host: PluginHost;
  readonly clock: Clock;
  readonly log: FastifyBaseLogger;
  readonly mailer?: Mailer;
  readonly allow: AllowList;
  readonly webhookTimeoutMs: number;
}

export class AutomationRunner {
  readonly #o: RunnerOptions;
  onQueued: () => void = () => undefined;

  constructor(options: RunnerOptions) {
    this.#o = options;
  }

  /** The rule as stored now (not this instance's catalog, which may lag a change made elsewhere). */
  async #stored(id: string, db: Db = this.#o.db): Promise<AutomationRuleDef | undefined> {
    const { rows } = await sql<{ r: AutomationRuleDef }>`SELECT definition || jsonb_strip_nulls(jsonb_build_object(
        'id', id, 'status', status, 'statusReason', status_reason)) AS r
      FROM xrm.automation_rules WHERE id = ${id}`.execute(db);
    return rows[0]?.r;
  }

  /** Who the rule acts as: the user who saved it last, with the roles they hold now. */
  async #runAs(rule: AutomationRuleDef, correlationId: string, depth: number): Promise<Acting> {
    const principal = principalOfActor(rule.runAs);
    let access: Access | undefined;
    try {
      access = await this.#o.access.forPrincipal(principal);
    } catch {
      throw new XrmError(
        'XRM_ERR_RULE_NOT_RUNNABLE',
        `The rule acts as ${actorName(principal)}, who is disabled or no longer exists: ` +
          'save the rule again as an active user',
      );
    }
    return { principal, access, correlationId, depth, log: this.#o.log.child({ rule: rule.id }) };
  }

  // --- reading the record, resolving actions -------------------------------------------------

  /**
   * The record as the acting user may read it, and the records its templates read through lookups;
   * `gone`: a deleted record's last image, shown without the fields the acting user may not read.
   */
  async #scope(
    trx: Db,
    rule: AutomationRuleDef,
    id: string,
    acting: Acting,
    actions: readonly RuleAction[],
    gone?: Row,
  ) {
    const read = async (entity: string, recordId: string): Promise<Row | null> => {
      const found = await this.#o.query.read(
        { db: trx, access: acting.access },
        { kind: 'get', entity, id: recordId, query: {} },
      );
      return found ? (JSON.parse(found.body) as Row) : null;
    };
    const catalog = this.#o.runtime.state.catalog;
    let record = await read(rule.entity, id);
    if (!record && gone && (await this.#couldRead(trx, rule.entity, gone, acting.access))) {
      const hidden = acting.access ? new Set(hiddenFields(acting.access, catalog, rule.entity)) : new Set<string>();
      record = Object.fromEntries(Object.entries(gone).filter(([k]) => !hidden.has(k)));
    }
    if (!record) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${rule.entity} record has id ${id}`);
    const related = new Map<string, Row | null>();
    const entity = this.#o.runtime.state.catalog.require(rule.entity);
    for (const lookup of lookupsRead(actions)) {
      const field = entity.fields.find((f) => f.name === lookup);
      const target = record[lookup];
      related.set(lookup, field?.target && typeof target === 'string' ? await read(field.target, target) : null);
    }
    const scope: TemplateScope & { gone?: Row } = { record, related, now: this.#o.clock(), ...(gone ? { gone } : {}) };
    return scope;
  }

  /** Whether `access` could read a record as it was (a deleted one): its read rules tested on the image. */
  async #couldRead(trx: Db, entity: string, image: Row, access?: Access): Promise<boolean> {
    if (!access || access.policy.unrestricted) return true;
    const catalog = this.#o.runtime.state.catalog;
    const reach = access.policy.predicate(entity, 'read', NEW, catalog);
    if (!reach) return true;
    const t = table(entity);
    const statement = sql<{ ok: boolean }>`SELECT COALESCE((${reach}), false) AS ok
      FROM json_populate_record(NULL::${t}, ${JSON.stringify(image)}::json) ${sql.id(NEW)}`;
    const { rows } = await trx.executeQuery<{ ok: boolean }>(bindSubject(statement.compile(trx), access.subject));
    return rows[0]?.ok === true;
  }

  async #userByEmail(trx: Db, email: string): Promise<string | undefined> {
    const { rows } = await sql<{ id: string }>`SELECT id::text FROM xrm.users
      WHERE lower(email) = lower(${email})`.execute(trx);
    return rows[0]?.id;
  }

  async #emailOf(trx: Db, userId: string): Promise<string | undefined> {
    const { rows } = await sql<{ email: string }>`SELECT email FROM xrm.users WHERE id = ${userId}`.execute(trx);
    return rows[0]?.email;
  }

  /**
   * Who notifications to "owner" and suggestions go to: the record's owner when that is a user,
   * else (a team owns it, or the system wrote it) the user who saved the rule.
   */
  async #owner(trx: Db, scope: TemplateScope, rule: AutomationRuleDef): Promise<string | null> {
    const owner = scope.record.owner_id;
    if (typeof owner === 'string') {
      const { rows } = await sql<{ id: string }>`SELECT id::text FROM xrm.users WHERE id = ${owner}`.execute(trx);
      if (rows[0]) return rows[0].id;
    }
    const runAs = principalOfActor(rule.runAs);
    return runAs.kind === 'user' ? runAs.id : null;
  }

  /**
   * Resolved values for `entity`: a template that made an instant (`{{now + P2D}}`) for a date
   * field becomes that day in the rule's time zone.
   */
  #values(rule: AutomationRuleDef, entityName: string, values: unknown, scope: TemplateScope): Row {
    const resolved = resolve(values, scope) as Row;
    const entity = this.#o.runtime.state.catalog.entity(entityName);
    for (const field of entity?.fields ?? []) {
      const v = resolved[field.name];
      if (
        field.type === 'date' &&
        typeof v === 'string' &&
        /^\d{4}-\d{2}-\d{2}T/.test(v) &&
        !Number.isNaN(Date.parse(v))
      )
        resolved[field.name] = dayIn(new Date(v), zoneOf(rule.trigger));
    }
    return resolved;
  }

  async #resolve(
    trx: Db,
    rule: AutomationRuleDef,
    action: RuleAction,
    scope: TemplateScope & { gone?: Row },
  ): Promise<ResolvedAction> {
    const record = scope.record;
    const entity = this.#o.runtime.state.catalog.require(rule.entity);
    switch (action.type) {
      case 'update': {
        if (action.via === undefined)
          return {
            type: 'update',
            entity: rule.entity,
            id: record.id as string,
            values: this.#values(rule, rule.entity, action.values, scope),
          };
        const lookup = entity.fields.find((f) => f.name === action.via);
        const target = record[action.via];
        if (!lookup?.target || typeof target !== 'string')
          throw new XrmError('XRM_ERR_REQUEST_INVALID', `The record's "${action.via}" is empty: nothing to update`, {
            errors: [{ path: '/via', message: 'is empty on this record' }],
          });
        return {
          type: 'update',
          entity: lookup.target,
          id: target,
          values: this.#values(rule, lookup.target, action.values, scope),
        };
      }
      case 'create':
        return {
          type: 'create',
          entity: action.entity,
          values: this.#values(rule, action.entity, action.values, scope),
        };
      case 'webhook':
        // the record goes in when the call is made, as whoever makes it may read it
        return { type: 'webhook', url: action.url };
      case 'message': {
        const definition = this.#o.host.message(action.name);
        return {
          type: 'message',
          name: action.name,
          input: resolve(action.input ?? {}, scope) as Row,
          ...(definition.entity === rule.entity ? { target: { entity: rule.entity, id: record.id as string } } : {}),
        };
      }
      case 'email': {
        const to = String(resolve(action.to, scope) ?? '');
        let address = to;
        if (to === 'owner') {
          const owner = await this.#owner(trx, scope, rule);
          address = (owner && (await this.#emailOf(trx, owner))) || '';
        }
        if (!isEmailAddress(address))
          throw new XrmError('XRM_ERR_REQUEST_INVALID', `The email action has no address to send to ("${to}")`, {
            errors: [{ path: '/to', message: 'resolves to no email address' }],
          });
        return {
          type: 'email',
          to: address,
          subject: String(resolve(action.subject, scope) ?? ''),
          body: String(resolve(action.body, scope) ?? ''),
        };
      }
      case 'notify': {
        const to = String(resolve(action.to, scope) ?? '');
        const uuid: boolean = isUuid(to);
        const user =
          to === 'owner'
            ? await this.#owner(trx, scope, rule)
            : uuid
              ? to
              : to.includes('@')
                ? await this.#userByEmail(trx, to)
                : undefined;
        if (!user)
          throw new XrmError('XRM_ERR_REQUEST_INVALID', `The notify action names no user ("${to}")`, {
            errors: [{ path: '/to', message: 'is not "owner", a user id or a user email' }],
          });
        return { type: 'notify', to: user, text: String(resolve(action.text, scope) ?? '') };
      }
      case 'suggest': {
        // what the owner is shown is what they may see: the templates read the record as they do
        const owner = await this.#owner(trx, scope, rule);
        let seen = scope;
        if (owner) {
          const access = await this.#o.access.forPrincipal({ kind: 'user', id: owner }, trx);
          const asOwner = { ...this.#system(), access };
          seen = await this.#scope(trx, rule, record.id as string, asOwner, [action], scope.gone).catch(
            (error: unknown) => {
              if (error instanceof XrmError && error.code === 'XRM_ERR_RECORD_NOT_FOUND')
                throw new XrmError('XRM_ERR_FORBIDDEN', `The record's owner (user ${owner}) cannot read it`, {
                  errors: [{ path: '/', message: 'the suggestion would go to someone who cannot see the record' }],
                });
              throw error;
            },
          );
        }
        const actions: ResolvedAction[] = [];
        for (const a of action.actions) actions.push(await this.#resolve(trx, rule, a, seen));
        return { type: 'suggest', reason: String(resolve(action.reason, seen) ?? ''), owner, actions };
      }
    }
  }

  // --- performing ---------------------------------------------------------------------------

  /** Performs resolved actions in `trx` as `acting`; answers what each did. */
  async perform(
    trx: Db,
    actions: readonly ResolvedAction[],
    acting: Acting,
    origin: {
      rule: { readonly id: string; readonly name: string };
      entity: string;
      id: string;
      /** The record as the run read it when it can be read no more (a delete event). */
      gone?: Row;
    },
    dry = false,
  ): Promise<ActionOutcome[]> {
    const data = this.#o.pipeline.dataApi({ ...acting, db: trx });
    const outcomes: ActionOutcome[] = [];
    for (const a of actions) {
      switch (a.type) {
        case 'update': {
          const record = await data.update(a.entity, a.id, a.values);
          outcomes.push({ type: 'update', entity: a.entity, id: a.id, values: a.values, version: record.version });
          break;
        }
        case 'create': {
          const record = await data.create(a.entity, a.values);
          outcomes.push({ type: 'create', entity: a.entity, id: record.id, values: a.values });
          break;
        }
        case 'message': {
          if (dry) {
            // a plugin's handler may act outside the database: a dry run checks the call, makes none
            this.#o.host.validateInput(a.name, a.input, a.target);
            outcomes.push({ type: 'message', name: a.name, input: a.input, called: false });
            break;
          }
          const output = await data.execute(a.name, a.input, a.target);
          outcomes.push({ type: 'message', name: a.name, output: output ?? null });
          break;
        }
        case 'notify': {
          const { rows } = await sql<{ id: string }>`INSERT INTO xrm.notifications
              (user_id, text, entity, record_id, rule_id)
            VALUES (${a.to}, ${a.text}, ${origin.entity}, ${origin.id}, ${origin.rule.id}) RETURNING id::text`.execute(
            trx,
          );
          outcomes.push({ type: 'notify', to: a.to, text: a.text, notification: rows[0]!.id });
          break;
        }
        case 'email':
        case 'webhook': {
          const eventId = randomUUID();
          const record =
            a.type === 'webhook' ? ((await data.get(origin.entity, origin.id)) ?? origin.gone ?? null) : undefined;
          const payload =
            a.type === 'email'
              ? { ...a, rule: origin.rule.id, entity: origin.entity, id: origin.id }
              : {
                  url: a.url,
                  rule: origin.rule.id,
                  id: origin.id,
                  payload: { rule: origin.rule, entity: origin.entity, id: origin.id, record },
                };
          await this.#o.queue.enqueue(trx, [
            { kind: a.type === 'email' ? 'email' : 'call', target: origin.rule.id, eventId, payload },
          ]);
          outcomes.push(
            a.type === 'email'
              ? { type: 'email', to: a.to, subject: a.subject, queued: eventId }
              : { type: 'webhook', url: a.url, queued: eventId },
          );
          break;
        }
        case 'suggest': {
          const id = randomUUID();
          await sql`INSERT INTO xrm.suggestions (id, rule_id, rule_name, entity, record_id, owner_id, reason, actions)
            VALUES (${id}, ${origin.rule.id}, ${origin.rule.name}, ${origin.entity}, ${origin.id}, ${a.owner},
              ${a.reason}, ${JSON.stringify(a.actions)}::jsonb)`.execute(trx);
          outcomes.push({ type: 'suggest', suggestion: id, owner: a.owner, reason: a.reason });
          break;
        }
      }
    }
    return outcomes;
  }

  /** Resolves and performs a rule's actions on one record, in `trx`. */
  async #act(
    trx: Db,
    rule: AutomationRuleDef,
    id: string,
    acting: Acting,
    dry = false,
    gone?: Row,
  ): Promise<ActionOutcome[]> {
    const scope = await this.#scope(trx, rule, id, acting, rule.actions, gone);
    const resolved: ResolvedAction[] = [];
    for (const [i, a] of rule.actions.entries()) {
      try {
        resolved.push(await this.#resolve(trx, rule, a, scope));
      } catch (error) {
        throw error instanceof XrmError ? prefixed(error, `/actions/${i}`) : error;
      }
    }
    const image = scope.gone ? { gone: scope.record } : {};
    return this.perform(trx, resolved, acting, { rule, entity: rule.entity, id, ...image }, dry);
  }

  /** The system acting (reads done for the platform itself). */
  #system(): Acting {
    return { principal: { kind: 'system', id: 'system' }, correlationId: randomUUID(), depth: 1, log: this.#o.log };
  }

  async #log(db: Db, rule: Pick<AutomationRuleDef, 'id' | 'version' | 'entity'>, run: RunLog): Promise<RunEntry> {
    const duration = Math.round(performance.now() - run.started);
    const { rows } = await sql<{ r: RunEntry }>`INSERT INTO xrm.automation_runs
        (rule_id, rule_version, trigger, entity, record_id, outcome, duration_ms, error, detail, job_id, actor, depth)
      VALUES (${rule.id}, ${rule.version}, ${run.trigger}, ${rule.entity}, ${run.recordId ?? null}, ${run.outcome},
        ${duration}, ${run.error?.slice(0, 4000) ?? null}, ${run.detail ? JSON.stringify(run.detail) : null}::jsonb,
        ${run.jobId ?? null}, ${run.actor ?? null}, ${run.depth ?? 1})
      RETURNING ${RUN_JSON} AS r`.execute(db);
    return rows[0]!.r;
  }

  /** Logs a run made elsewhere (an approved suggestion). */
  logRun(db: Db, rule: Pick<AutomationRuleDef, 'id' | 'version' | 'entity'>, run: RunLog) {
    return this.#log(db, rule, run);
  }

  /** The version of a rule as stored (0 once deleted). */
  async versionOf(id: string | null, db: Db = this.#o.db): Promise<number> {
    return id ? ((await this.#stored(id, db))?.version ?? 0) : 0;
  }

  /** Runs of the rule in the last minute, against its cap. */
  /**
   * The loop guard: event runs started by automated writes (depth > 1: a rule's or a plugin's, not
   * a person's) in the last minute, against the rule's cap. A person's bulk import or a schedule
   * pass over thousands of records never counts.
   */
  async #overCap(rule: AutomationRuleDef): Promise<number | undefined> {
    const cap = rule.maxRunsPerMinute ?? DEFAULT_MAX_RUNS_PER_MINUTE;
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.automation_runs
      WHERE rule_id = ${rule.id} AND trigger = 'event' AND depth > 1
        AND created_at > now() - interval '1 minute'`.execute(this.#o.db);
    return rows[0]!.n >= cap ? cap : undefined;
  }

  /**
   * A button is not a loop, but its emails and calls must not be fired at will: a manual rule runs
   * at most `maxRunsPerMinute` times a minute per person. Counted under a lock held to the end of
   * the run's transaction, so parallel clicks cannot all slip under the cap.
   */
  async #buttonCap(trx: Db, rule: AutomationRuleDef, actor: string): Promise<void> {
    const cap = rule.maxRunsPerMinute ?? DEFAULT_MAX_RUNS_PER_MINUTE;
    await sql`SELECT pg_advisory_xact_lock(${BUTTON_LOCK_SPACE}, hashtext(${`${rule.id}|${actor}`}))`.execute(trx);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.automation_runs
      WHERE rule_id = ${rule.id} AND trigger = 'manual' AND actor = ${actor} AND outcome <> 'failed'
        AND created_at > now() - interval '1 minute'`.execute(trx);
    if (rows[0]!.n >= cap)
      throw new XrmError('XRM_ERR_RATE_LIMITED', `You ran this rule ${cap} times in the last minute: try again later`, {
        retryAfter: 60,
      });
  }

  /** A schedule run that did not act: its record leaves the episode state, so the next pass tries again. */
  async #forget(rule: AutomationRuleDef, p: RunPayload): Promise<void> {
    if (p.trigger !== 'schedule' || !p.id) return;
    await sql`DELETE FROM xrm.automation_state WHERE rule_id = ${rule.id} AND record_id = ${p.id}`.execute(this.#o.db);
  }

  /**
   * One run on one record, in a transaction: its effects, the run log entry and (for a job) the
   * job's completion commit together; a failure rolls them back and is logged apart.
   */
  async #runOne(
    rule: AutomationRuleDef,
    id: string,
    trigger: RunTrigger,
    acting: Acting,
    job?: { job: Job; run: JobRun },
    gone?: Row,
  ): Promise<RunEntry> {
    const started = performance.now();
    const actor = actorName(acting.principal);
    try {
      return await this.#o.db.transaction().execute(async (trx) => {
        if (trigger === 'manual') await this.#buttonCap(trx, rule, actor);
        const actions = await this.#act(trx, rule, id, acting, false, gone);
        const outcome: RunOutcome = actions.some((a) => a.type === 'suggest') ? 'suggested' : 'succeeded';
        const entry = await this.#log(trx, rule, {
          trigger,
          recordId: id,
          outcome,
          started,
          detail: { actions },
          jobId: job?.job.id,
          actor,
          depth: acting.depth,
        });
        if (job) await job.run.complete(trx);
        return entry;
      });
    } catch (error) {
      const text = errorText(error);
      await this.#log(this.#o.db, rule, {
        trigger,
        recordId: id,
        outcome: 'failed',
        started,
        error: text,
        jobId: job?.job.id,
        actor,
        depth: acting.depth,
      });
      acting.log.warn({ err: error, rule: rule.id, record: id, trigger }, 'automation rule run failed');
      throw error;
    } finally {
      this.onQueued();
    }
  }

  // --- the doors: jobs, manual runs, schedule passes, dry runs ---------------------------------

  /** The handler of `automation` jobs: a schedule pass, or one run on one record. */
  async runJob(job: Job, run: JobRun): Promise<void> {
    const p = job.payload as unknown as RunPayload;
    const rule = await this.#stored(p.rule);
    const started = performance.now();
    // deleted, switched off or broken since the job was queued: nothing to do, said in the log
    if (!rule) return;
    if (rule.status !== 'active') {
      await this.#forget(rule, p);
      await this.#log(this.#o.db, rule, {
        trigger: p.trigger,
        recordId: p.id,
        outcome: 'skipped',
        started,
        error: `the rule is ${rule.status}${rule.statusReason ? `: ${rule.statusReason}` : ''}`,
        jobId: job.id,
      });
      return;
    }
    if (!p.id) {
      await this.pass(rule, job.id);
      return;
    }
    const depth = p.depth ?? 1;
    const cap = p.trigger === 'event' && depth > 1 ? await this.#overCap(rule) : undefined;
    if (cap !== undefined) {
      const reason = `ran ${cap} times within a minute (maxRunsPerMinute ${cap}): turned off to stop a loop`;
      await this.#log(this.#o.db, rule, {
        trigger: p.trigger,
        recordId: p.id,
        outcome: 'failed',
        started,
        error: `XRM_ERR_RULE_NOT_RUNNABLE: the rule ${reason}`,
        jobId: job.id,
        depth,
      });
      await this.#o.rules.disable(rule.id, `The rule ${reason}`);
      this.#o.log.error({ rule: rule.id, cap }, 'automation rule hit its rate cap and was turned off');
      return;
    }
    let acting: Acting;
    try {
      acting = await this.#runAs(rule, p.correlationId ?? randomUUID(), depth);
    } catch (error) {
      // the user it acts as is gone or disabled: a failed run in the log, and in health
      await this.#forget(rule, p);
      await this.#log(this.#o.db, rule, {
        trigger: p.trigger,
        recordId: p.id,
        outcome: 'failed',
        started,
        error: errorText(error),
        jobId: job.id,
        depth,
      });
      throw new GiveUp(errorText(error));
    }
    try {
      await this.#runOne(rule, p.id, p.trigger, acting, { job, run }, p.message === 'delete' ? p.previous : undefined);
    } catch (error) {
      // a user's kind of failure (a refused write, too deep a chain, a missing record) will not pass on retry
      const permanent = error instanceof XrmError && error.status < 500;
      // done trying: a schedule's record leaves its episode (a retry still to come keeps it, so no second run)
      if (!(error instanceof LeaseLost) && (permanent || job.attempts >= job.maxAttempts)) await this.#forget(rule, p);
      if (permanent) throw new GiveUp(errorText(error));
      throw error;
    }
  }

  /** Runs a manual rule on a record as the caller (the button on the record page). */
  async runManual(ruleId: string, id: unknown, caller: Acting): Promise<RunEntry> {
    const rule = await this.#runnable(ruleId);
    if (rule.trigger.type === 'schedule')
      throw new XrmError('XRM_ERR_RULE_NOT_RUNNABLE', 'A schedule rule runs over every matching record: send no id');
    const recordId = this.#recordId(id);
    // the caller must be able to read it (a 404 otherwise, as everywhere)
    if (!(await this.#matches(rule, recordId, caller.access)))
      throw new XrmError(
        'XRM_ERR_RULE_NOT_RUNNABLE',
        `The ${rule.entity} record ${recordId} does not meet the rule's condition`,
        {
          errors: [{ path: '/condition', message: 'not met by this record' }],
        },
      );
    return this.#runOne(rule, recordId, 'manual', caller);
  }

  #recordId(id: unknown): string {
    if (typeof id !== 'string')
      throw new XrmError('XRM_ERR_REQUEST_INVALID', 'Name the record: { "id": "<uuid>" }', {
        errors: [{ path: '/id', message: 'must be a record id' }],
      });
    assertUuid(id);
    return id;
  }

  async #runnable(ruleId: string): Promise<AutomationRuleDef> {
    const rule = isUuid(ruleId) ? await this.#stored(ruleId) : undefined;
    if (!rule) throw new XrmError('XRM_ERR_RULE_NOT_FOUND', `No automation rule has id ${ruleId}`);
    if (rule.status !== 'active')
      throw new XrmError(
        'XRM_ERR_RULE_NOT_RUNNABLE',
        `The rule is ${rule.status}${rule.statusReason ? `: ${rule.statusReason}` : ''}`,
      );
    return rule;
  }

  /**
   * Whether the record (readable by `access`) meets the rule's condition as it is now; change
   * tests (changedFrom/To) read it as though it had just been created. 404 when it cannot be read.
   */
  async #matches(rule: AutomationRuleDef, id: string, access?: Access, db: Db = this.#o.db): Promise<boolean> {
    const catalog = this.#o.runtime.state.catalog;
    const zone = zoneOf(rule.trigger);
    const split = splitCondition(catalog, rule.entity, rule.condition, this.#o.clock(), true, '/condition', zone);
    const ok = conditionPredicate(catalog, rule.entity, split, this.#o.query.parseContext());
    const t = table(rule.entity);
    const reach = access?.policy.predicate(rule.entity, 'read', NEW, catalog);
    const statement = sql<{ ok: boolean }>`SELECT COALESCE((${ok}), false) AS ok FROM ${t} ${sql.id(NEW)}
      CROSS JOIN LATERAL json_populate_record(NULL::${t}, NULL::json) ${sql.id(OLD)}
      WHERE ${sql.id(NEW)}.id = ${id} ${reach ? sql`AND ${reach}` : sql``}`;
    const { rows } = await db.executeQuery<{ ok: boolean }>(bindSubject(statement.compile(db), access?.subject));
    if (!rows[0]) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${rule.entity} record has id ${id}`);
    return rows[0].ok;
  }

  /**
   * A dry run on a record: whether it meets the condition, and what each action would do — the
   * actions really run, as the rule would run them, in a transaction that is then rolled back, so
   * refusals show as they would happen and nothing is written, sent or queued.
   */
  async dryRun(ruleId: string, id: unknown, caller: Acting) {
    const rule = isUuid(ruleId) ? await this.#stored(ruleId) : undefined;
    if (!rule) throw new XrmError('XRM_ERR_RULE_NOT_FOUND', `No automation rule has id ${ruleId}`);
    // a disabled rule may be tried before it is switched on; an invalid one cannot be evaluated
    if (rule.status === 'invalid')
      throw new XrmError('XRM_ERR_RULE_NOT_RUNNABLE', `The rule is invalid: ${rule.statusReason ?? 'fix it first'}`);
    const recordId = this.#recordId(id);
    const matches = await this.#matches(rule, recordId, caller.access);
    const acting = rule.trigger.type === 'manual' ? caller : await this.#runAs(rule, caller.correlationId, 1);
    let actions: ActionOutcome[] = [];
    let error: string | undefined;
    try {
      await this.#o.db.transaction().execute(async (trx) => {
        throw new DryRun(await this.#act(trx, rule, recordId, acting, true));
      });
    } catch (e) {
      if (e instanceof DryRun) actions = e.outcomes;
      else if (e instanceof XrmError && e.status < 500) error = errorText(e);
      else throw e;
    }
    return {
      rule: { id: rule.id, name: rule.name, version: rule.version, status: rule.status },
      entity: rule.entity,
      id: recordId,
      matches,
      actingAs: actorName(acting.principal),
      actions,
      ...(error ? { error } : {}),
      written: false,
    };
  }

  /**
   * A schedule pass, in ONE statement: the records matching the condition now (tested by
   * PostgreSQL over the whole table); those not yet acted on in their current episode get a run
   * job and a state row; state rows of records that stopped matching go, so they act again when
   * they match again.
   */
  async pass(
    rule: AutomationRuleDef,
    jobId?: string,
    db: Db = this.#o.db,
  ): Promise<{ matched: number; queued: number; jobs: string[] }> {
    const started = performance.now();
    const catalog = this.#o.runtime.state.catalog;
    const now = this.#o.clock();
    try {
      const split = splitCondition(
        catalog,
        rule.entity,
        rule.condition,
        now,
        false,
        '/condition',
        zoneOf(rule.trigger),
      );
      const ok = conditionPredicate(catalog, rule.entity, split, this.#o.query.parseContext());
      // the records the rule's user may read: the others would only fail, once per episode each
      const { access } = await this.#runAs(rule, randomUUID(), 1);
      const reach = access?.policy.predicate(rule.entity, 'read', NEW, catalog);
      const t = table(rule.entity);
      const payload = sql`jsonb_build_object('rule', ${rule.id}::text, 'version', ${rule.version}::int,
        'trigger', 'schedule', 'entity', ${rule.entity}::text, 'id', f.record_id, 'depth', 1)`;
      const statement = sql<{ matched: number; queued: number; jobs: string[] }>`WITH
        m AS (SELECT ${sql.id(NEW)}.id FROM ${t} ${sql.id(NEW)} WHERE ${ok} ${reach ? sql`AND ${reach}` : sql``}),
        gone AS (DELETE FROM xrm.automation_state s WHERE s.rule_id = ${rule.id}
          AND NOT EXISTS (SELECT 1 FROM m WHERE m.id = s.record_id)),
        f AS (INSERT INTO xrm.automation_state (rule_id, record_id, since)
          SELECT ${rule.id}, m.id, ${now.toISOString()}::timestamptz FROM m ON CONFLICT DO NOTHING RETURNING record_id),
        q AS (INSERT INTO xrm.jobs (kind, target, event_id, payload, max_attempts)
          SELECT 'automation', ${rule.id}, gen_random_uuid(), ${payload}, ${this.#o.queue.options.maxAttempts}::int
          FROM f RETURNING id)
        SELECT (SELECT count(*)::int FROM m) AS matched, (SELECT count(*)::int FROM q) AS queued,
          ARRAY(SELECT id::text FROM q) AS jobs`;
      const { rows } = await db.executeQuery<{ matched: number; queued: number; jobs: string[] }>(
        bindSubject(statement.compile(db), access?.subject),
      );
      const result = rows[0]!;
      await this.#log(this.#o.db, rule, {
        trigger: 'schedule',
        outcome: 'succeeded',
        started,
        detail: { matched: result.matched, queued: result.queued },
        jobId,
      });
      return result;
    } catch (error) {
      await this.#log(this.#o.db, rule, {
        trigger: 'schedule',
        outcome: 'failed',
        started,
        error: errorText(error),
        jobId,
      });
      throw error;
    } finally {
      this.onQueued();
    }
  }

  /**
   * `POST /rules/{id}/run` on a schedule rule: a pass now (its runs are queued jobs); `waitMs`:
   * answer once they have finished (or that long has passed), with how many did.
   */
  async runScheduleNow(ruleId: string, waitMs = 0) {
    const rule = await this.#runnable(ruleId);
    if (rule.trigger.type !== 'schedule')
      throw new XrmError(
        'XRM_ERR_RULE_NOT_RUNNABLE',
        `A ${rule.trigger.type} rule runs on a record: send { "id": … }`,
        {
          errors: [{ path: '/id', message: 'is required for this rule' }],
        },
      );
    const { jobs, ...pass } = await this.pass(rule);
    if (!waitMs || !jobs.length) return pass;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const { rows } = await sql<{ open: number }>`SELECT count(*)::int AS open FROM xrm.jobs
        WHERE id = ANY(${jobs}::bigint[]) AND state NOT IN ('succeeded', 'dead')`.execute(this.#o.db);
      const open = rows[0]!.open;
      if (!open || Date.now() > deadline) return { ...pass, finished: jobs.length - open, pending: open };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** A rule's runs, newest first, keyset paged. */
  async runs(ruleId: string, options: { limit: number; cursor?: string; outcome?: string }) {
    const after = options.cursor && /^\d{1,18}$/.test(options.cursor) ? sql`AND id < ${options.cursor}` : sql``;
    const outcome = options.outcome ? sql`AND outcome = ${options.outcome}` : sql``;
    const { rows } = await sql<{ r: RunEntry }>`SELECT ${RUN_JSON} AS r FROM xrm.automation_runs
      WHERE rule_id = ${ruleId} ${after} ${outcome} ORDER BY id DESC LIMIT ${options.limit + 1}`.execute(this.#o.db);
    const data = rows.slice(0, options.limit).map((r) => r.r);
    return { data, ...(rows.length > options.limit ? { nextCursor: data[data.length - 1]!.id } : {}) };
  }

  /** Per rule: runs and failures in the last 24 hours, and the last failure. */
  async failures(): Promise<
    Map<string, { runs: number; failed: number; lastError: string | null; lastFailedAt: string | null }>
  > {
    const { rows } = await sql<{
      rule_id: string;
      runs: number;
      failed: number;
      last_error: string | null;
      last_failed_at: string | null;
    }>`
      SELECT rule_id::text, count(*)::int AS runs, count(*) FILTER (WHERE outcome = 'failed')::int AS failed,
        (array_agg(error ORDER BY id DESC) FILTER (WHERE outcome = 'failed'))[1] AS last_error,
        max(created_at) FILTER (WHERE outcome = 'failed') AS last_failed_at
      FROM xrm.automation_runs WHERE created_at > now() - interval '24 hours' GROUP BY rule_id`.execute(this.#o.db);
    return new Map(
      rows.map((r) => [
        r.rule_id,
        { runs: r.runs, failed: r.failed, lastError: r.last_error, lastFailedAt: r.last_failed_at },
      ]),
    );
  }

  /**
   * A run, email or call dead-lettered without its handler (the worker died on its last attempt):
   * a failed run in its rule's log, and a schedule's record leaves its episode.
   */
  async deadLettered(job: Job): Promise<void> {
    const p = job.payload as { rule?: string; id?: string; trigger?: RunPayload['trigger']; to?: string; url?: string };
    const rule = p.rule ? await this.#stored(p.rule) : undefined;
    if (!rule) return;
    if (job.kind === 'automation') await this.#forget(rule, p as RunPayload);
    const what = job.kind === 'email' ? `email to ${p.to}` : job.kind === 'call' ? `webhook call to ${p.url}` : 'run';
    await this.#log(this.#o.db, rule, {
      trigger: job.kind === 'automation' ? (p.trigger ?? 'event') : 'delivery',
      recordId: p.id,
      outcome: 'failed',
      started: performance.now(),
      error: `${what} stopped on its last attempt (the worker running it was lost): ${job.lastError ?? 'no error'}`,
      jobId: job.id,
    });
  }

  // --- side effects as jobs of their own ------------------------------------------------------

  /** The handler of `email` jobs: one email through the SMTP transport. */
  async sendEmail(job: Job): Promise<void> {
    const email = job.payload as unknown as Email;
    await this.#delivering(job, `email to ${email.to}`, async () => {
      if (!this.#o.mailer) throw new GiveUp('no SMTP transport is configured: set XRM_SMTP_URL');
      await this.#o.mailer.send(email, job.eventId);
    });
  }

  /**
   * An email or webhook call of a run: its last failed attempt is a failed run of the rule (in its
   * log and its health), not only a dead job, so an action that never arrives is not silent.
   */
  async #delivering(job: Job, what: string, work: () => Promise<void>): Promise<void> {
    const started = performance.now();
    try {
      await work();
    } catch (error) {
      const last = error instanceof GiveUp || job.attempts >= job.maxAttempts;
      const p = job.payload as { rule?: string; id?: string };
      const rule = last && p.rule ? await this.#stored(p.rule) : undefined;
      if (rule)
        await this.#log(this.#o.db, rule, {
          trigger: 'delivery',
          recordId: p.id,
          outcome: 'failed',
          started,
          error: `${what} failed after ${job.attempts} attempt(s): ${errorText(error)}`,
          jobId: job.id,
        });
      throw error;
    }
  }

  /** The handler of `call` jobs: a rule's webhook action, an unsigned JSON POST through the SSRF guard. */
  async call(job: Job): Promise<void> {
    const p = job.payload as { url: string; payload: Row };
    await this.#delivering(job, `webhook call to ${p.url}`, () => this.#call(job, p));
  }

  async #call(job: Job, p: { url: string; payload: Row }): Promise<void> {
    const result = await deliver({
      url: p.url,
      msgId: `msg_${job.eventId}`,
      timestamp: new Date(),
      body: JSON.stringify({ type: 'automation.rule', timestamp: new Date().toISOString(), data: p.payload }),
      secrets: [],
      timeoutMs: this.#o.webhookTimeoutMs,
      allow: this.#o.allow,
    });
    if (isSuccess(result.status)) return;
    if (result.forbidden) throw new GiveUp(result.error ?? 'the target is not allowed');
    throw new Error(result.status ? `the receiver answered ${result.status}` : (result.error ?? 'no answer'));
  }
}

function prefixed(error: XrmError, prefix: string): XrmError {
  if (!error.errors?.length) return error;
  return new XrmError(error.code, error.message, {
    errors: error.errors.map((e) => ({ ...e, path: `${prefix}${e.path === '/' ? '' : e.path}` })),
    extensions: error.extensions,
  });
}
