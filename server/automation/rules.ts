/**
 * Automation rules as metadata: created, changed, switched on and off and deleted through the
 * metadata service (the same lock, ledger entry, version bump and notice as a schema change), each
 * checked against the live catalog when saved — entity, trigger, condition (compiled by the query
 * engine), the fields actions set and every template. A schema change that breaks a saved rule (a
 * field or entity it names is dropped, a choice it tests removed) is not refused: the rule turns
 * `invalid` in the same transaction, with the reason, and the change's answer carries a warning.
 */
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { sql } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import { XrmError } from '../../metadata/errors.ts';
import type { ChangeWarning, MetadataService } from '../../metadata/service.ts';
import { isMaintained } from '../../metadata/signal-fields.ts';
import { systemField } from '../../metadata/system-fields.ts';
import type { AutomationRuleDef, EntityDef, RuleAction, RuleStatus, RuleTrigger } from '../../metadata/types.ts';
import type { Principal } from '../../plugins/api.ts';
import type { PluginHost } from '../../plugins/host.ts';
import type { QueryService } from '../query/query-service.ts';
import { isUuid } from '../record-id.ts';
import { actorName } from '../request-context.ts';
import type { Runtime } from '../runtime.ts';
import { type AllowList, checkWebhookUrl } from '../webhooks/ssrf.ts';
import { conditionPredicate, splitCondition } from './conditions.ts';
import { checkTemplates } from './templates.ts';
import { type Clock, zoneOf } from './time.ts';

export const EVENT_MESSAGES = ['create', 'update', 'delete', 'associate', 'disassociate'] as const;
export const ACTION_TYPES = ['update', 'create', 'webhook', 'message', 'email', 'notify', 'suggest'] as const;
export const MAX_ACTIONS = 20;
export const DEFAULT_MAX_RUNS_PER_MINUTE = 60;

export interface RuleInput {
  readonly name?: unknown;
  readonly description?: unknown;
  readonly entity?: unknown;
  readonly trigger?: unknown;
  readonly condition?: unknown;
  readonly actions?: unknown;
  readonly maxRunsPerMinute?: unknown;
  readonly enabled?: unknown;
}

type Definition = Omit<AutomationRuleDef, 'id' | 'status' | 'statusReason'>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function invalid(path: string, message: string): XrmError {
  return new XrmError('XRM_ERR_REQUEST_INVALID', `The rule is invalid: ${path} ${message}`, {
    errors: [{ path, message }],
  });
}

function only(value: Record<string, unknown>, keys: readonly string[], path: string): void {
  for (const key of Object.keys(value))
    if (!keys.includes(key)) throw invalid(`${path}/${key}`, `is not a property here (use ${keys.join(', ')})`);
}

function text(value: unknown, path: string, max = 10_000): string {
  if (typeof value !== 'string' || !value.trim() || value.length > max)
    throw invalid(path, `must be a non-empty string of at most ${max} characters`);
  return value;
}

/** A valid IANA time zone name (Intl knows it). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The cron of a schedule trigger (croner: 5 or 6 fields, in the rule's time zone). */
export function cronOf(trigger: Extract<RuleTrigger, { type: 'schedule' }>): Cron {
  return new Cron(trigger.cron, { timezone: trigger.timeZone, paused: true });
}

export class RuleService {
  readonly #runtime: Runtime;
  readonly #metadata: MetadataService;
  readonly #query: QueryService;
  readonly #host: PluginHost;
  readonly #allow: AllowList;
  readonly #clock: Clock;

  constructor(
    runtime: Runtime,
    metadata: MetadataService,
    query: QueryService,
    host: PluginHost,
    allow: AllowList,
    clock: Clock,
  ) {
    this.#runtime = runtime;
    this.#metadata = metadata;
    this.#query = query;
    this.#host = host;
    this.#allow = allow;
    this.#clock = clock;
  }

  list(filter: { entity?: string; trigger?: string; status?: string } = {}): AutomationRuleDef[] {
    return [...this.#runtime.state.catalog.rules.values()].filter(
      (r) =>
        (!filter.entity || r.entity === filter.entity) &&
        (!filter.trigger || r.trigger.type === filter.trigger) &&
        (!filter.status || r.status === filter.status),
    );
  }

  get(id: string): AutomationRuleDef {
    const found = isUuid(id) ? this.#runtime.state.catalog.rules.get(id) : undefined;
    if (!found) throw new XrmError('XRM_ERR_RULE_NOT_FOUND', `No automation rule has id ${id}`);
    return found;
  }

  // --- checking a definition -----------------------------------------------------------------

  /** A custom message whose plugin is on in `catalog` (a plugin switch is a change like any other). */
  #message(name: string, catalog: Catalog) {
    const found = this.#host.definition(name);
    return found && !catalog.disabledPlugins.has(found.plugin) ? found : undefined;
  }

  #trigger(input: unknown, entity: EntityDef): RuleTrigger {
    if (!isObject(input)) throw invalid('/trigger', 'must be an object with a type: event, schedule or manual');
    switch (input.type) {
      case 'event': {
        only(input, ['type', 'messages', 'changed'], '/trigger');
        const messages = input.messages ?? ['create', 'update'];
        if (
          !Array.isArray(messages) ||
          !messages.length ||
          messages.some((m) => typeof m !== 'string' || !/^[A-Za-z][\w.-]{0,99}$/.test(m)) ||
          new Set(messages).size !== messages.length
        )
          throw invalid(
            '/trigger/messages',
            `must list distinct messages: ${EVENT_MESSAGES.join(', ')}, or custom messages of the entity`,
          );
        const changed = input.changed;
        if (changed !== undefined) {
          if (!Array.isArray(changed) || !changed.length || changed.some((f) => typeof f !== 'string'))
            throw invalid('/trigger/changed', 'must list field names');
          if (!messages.includes('update')) throw invalid('/trigger/changed', 'applies to the update message');
        }
        return {
          type: 'event',
          messages: messages as string[],
          ...(changed ? { changed: changed as string[] } : {}),
        };
      }
      case 'schedule': {
        only(input, ['type', 'cron', 'timeZone'], '/trigger');
        const cron = text(input.cron, '/trigger/cron', 200);
        const timeZone = input.timeZone ?? 'UTC';
        if (typeof timeZone !== 'string' || !isTimeZone(timeZone))
          throw invalid('/trigger/timeZone', 'must be an IANA time zone name such as Europe/Berlin');
        try {
          cronOf({ type: 'schedule', cron, timeZone });
        } catch (error) {
          throw invalid('/trigger/cron', `is not a cron expression: ${(error as Error).message}`);
        }
        void entity;
        return { type: 'schedule', cron, timeZone };
      }
      case 'manual':
        only(input, ['type'], '/trigger');
        return { type: 'manual' };
      default:
        throw invalid('/trigger/type', 'must be event, schedule or manual');
    }
  }

  #action(input: unknown, path: string, nested: boolean): RuleAction {
    if (!isObject(input)) throw invalid(path, 'must be an action object with a type');
    const type = input.type;
    const str = (key: string) => text(input[key], `${path}/${key}`);
    const values = (key: string) => {
      const v = input[key];
      if (!isObject(v) || !Object.keys(v).length) throw invalid(`${path}/${key}`, 'must be an object of field values');
      return v;
    };
    switch (type) {
      case 'update':
        only(input, ['type', 'values', 'via'], path);
        if (input.via !== undefined && typeof input.via !== 'string') throw invalid(`${path}/via`, 'must be a lookup');
        return { type, values: values('values'), ...(input.via !== undefined ? { via: input.via as string } : {}) };
      case 'create':
        only(input, ['type', 'entity', 'values'], path);
        return { type, entity: str('entity'), values: values('values') };
      case 'webhook':
        only(input, ['type', 'url'], path);
        return { type, url: text(input.url, `${path}/url`, 2048) };
      case 'message':
        only(input, ['type', 'name', 'input'], path);
        if (input.input !== undefined && !isObject(input.input)) throw invalid(`${path}/input`, 'must be an object');
        return { type, name: str('name'), ...(input.input ? { input: input.input as Record<string, unknown> } : {}) };
      case 'email':
        only(input, ['type', 'to', 'subject', 'body'], path);
        return { type, to: str('to'), subject: str('subject'), body: str('body') };
      case 'notify':
        only(input, ['type', 'to', 'text'], path);
        return { type, to: str('to'), text: str('text') };
      case 'suggest': {
        if (nested) throw invalid(`${path}/type`, 'a suggestion proposes actions, not another suggestion');
        only(input, ['type', 'reason', 'actions'], path);
        return { type, reason: str('reason'), actions: this.#actions(input.actions, `${path}/actions`, true) };
      }
      default:
        throw invalid(`${path}/type`, `must be one of ${ACTION_TYPES.join(', ')}`);
    }
  }

  #actions(input: unknown, path: string, nested = false): RuleAction[] {
    if (!Array.isArray(input) || !input.length || input.length > MAX_ACTIONS)
      throw invalid(path, `must list 1 to ${MAX_ACTIONS} actions`);
    return input.map((a, i) => this.#action(a, `${path}/${i}`, nested));
  }

  /**
   * Checks a rule against a catalog: its entity, `changed` fields, condition, the fields and
   * templates of its actions, the entities and messages they name. Throws the first problem,
   * with its path.
   */
  check(rule: Definition, catalog: Catalog): void {
    const entity = catalog.entity(rule.entity);
    if (!entity) throw invalid('/entity', `entity "${rule.entity}" does not exist`);
    const trigger = rule.trigger;
    if (trigger.type === 'event') {
      for (const [i, m] of trigger.messages.entries()) {
        if ((EVENT_MESSAGES as readonly string[]).includes(m)) continue;
        const defined = this.#message(m, catalog);
        if (!defined) throw invalid(`/trigger/messages/${i}`, `no plugin defines a custom message named "${m}"`);
        if (defined.entity !== rule.entity)
          throw invalid(`/trigger/messages/${i}`, `custom message "${m}" does not run on "${rule.entity}" records`);
      }
      for (const [i, f] of (trigger.changed ?? []).entries())
        if (!entity.fields.some((x) => x.name === f))
          throw invalid(`/trigger/changed/${i}`, `"${entity.name}" has no field "${f}"`);
    }
    const changes = trigger.type === 'event' && trigger.messages.some((m) => m === 'create' || m === 'update');
    const zone = zoneOf(trigger);
    const split = splitCondition(catalog, rule.entity, rule.condition, this.#clock(), changes, '/condition', zone);
    conditionPredicate(catalog, rule.entity, split, { ...this.#query.parseContext(), catalog });
    const templates = (value: unknown, path: string) => {
      const visit = (v: unknown, p: string) => {
        if (typeof v === 'string') {
          const problems = checkTemplates(v, entity, catalog, p);
          if (problems.length) throw invalid(p, problems[0]!.slice(p.length + 2));
        } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${p}/${i}`));
        else if (isObject(v)) for (const [k, x] of Object.entries(v)) visit(x, `${p}/${k}`);
      };
      visit(value, path);
    };
    const fields = (target: EntityDef, values: Record<string, unknown>, path: string) => {
      for (const name of Object.keys(values)) {
        const field = target.fields.find((f) => f.name === name);
        if (field && isMaintained(field)) throw invalid(`${path}/${name}`, 'is kept current by the platform');
        if (!field && name !== 'owner_id') {
          const why = systemField(name) ? 'is set by the platform' : `is not a field of "${target.name}"`;
          throw invalid(`${path}/${name}`, why);
        }
      }
    };
    const visit = (actions: readonly RuleAction[], path: string) => {
      for (const [i, a] of actions.entries()) {
        const p = `${path}/${i}`;
        switch (a.type) {
          case 'update': {
            let target = entity;
            if (a.via !== undefined) {
              const lookup = entity.fields.find((f) => f.name === a.via);
              if (lookup?.type !== 'lookup')
                throw invalid(`${p}/via`, `"${a.via}" is not a lookup of "${entity.name}"`);
              target = catalog.entity(lookup.target!)!;
            }
            fields(target, a.values, `${p}/values`);
            templates(a.values, `${p}/values`);
            break;
          }
          case 'create': {
            const target = catalog.entity(a.entity);
            if (!target) throw invalid(`${p}/entity`, `entity "${a.entity}" does not exist`);
            fields(target, a.values, `${p}/values`);
            templates(a.values, `${p}/values`);
            break;
          }
          case 'webhook': {
            const refused = checkWebhookUrl(a.url, this.#allow);
            if (refused)
              throw new XrmError('XRM_ERR_WEBHOOK_TARGET_FORBIDDEN', `The webhook URL is not allowed: ${refused}`, {
                errors: [{ path: `${p}/url`, message: refused }],
              });
            break;
          }
          case 'message':
            if (!this.#message(a.name, catalog))
              throw invalid(`${p}/name`, `no plugin defines a custom message named "${a.name}"`);
            templates(a.input ?? {}, `${p}/input`);
            break;
          case 'email':
            templates(a.to, `${p}/to`);
            templates(a.subject, `${p}/subject`);
            templates(a.body, `${p}/body`);
            break;
          case 'notify':
            templates(a.to, `${p}/to`);
            templates(a.text, `${p}/text`);
            break;
          case 'suggest':
            templates(a.reason, `${p}/reason`);
            visit(a.actions, `${p}/actions`);
            break;
        }
      }
    };
    visit(rule.actions, '/actions');
  }

  #normalize(
    input: RuleInput,
    base: AutomationRuleDef | undefined,
    principal: Principal,
    catalog: Catalog,
  ): Definition {
    if (!isObject(input)) throw invalid('/', 'must be an object');
    only(
      input,
      ['name', 'description', 'entity', 'trigger', 'condition', 'actions', 'maxRunsPerMinute', 'enabled'],
      '',
    );
    const name = text(input.name ?? base?.name, '/name', 200);
    const entityName = input.entity ?? base?.entity;
    if (typeof entityName !== 'string') throw invalid('/entity', 'must name an entity');
    const entity = catalog.entity(entityName);
    if (!entity)
      throw new XrmError('XRM_ERR_METADATA_ENTITY_NOT_FOUND', `Entity "${entityName}" does not exist`, {
        errors: [{ path: '/entity', message: 'no such entity' }],
      });
    const trigger = this.#trigger(input.trigger ?? base?.trigger, entity);
    const condition = input.condition === undefined ? base?.condition : input.condition;
    const actions = input.actions === undefined && base ? base.actions : this.#actions(input.actions, '/actions');
    const description = input.description === undefined ? base?.description : input.description;
    if (description !== undefined && description !== null && typeof description !== 'string')
      throw invalid('/description', 'must be a string');
    // null: back to the default
    const cap = input.maxRunsPerMinute === null ? undefined : (input.maxRunsPerMinute ?? base?.maxRunsPerMinute);
    if (cap !== undefined && (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 1 || cap > 100_000))
      throw invalid('/maxRunsPerMinute', 'must be an integer from 1 to 100000');
    const enabled = input.enabled;
    if (enabled !== undefined && typeof enabled !== 'boolean') throw invalid('/enabled', 'must be a boolean');
    const definition: Definition = {
      name,
      ...(typeof description === 'string' ? { description } : {}),
      entity: entity.name,
      trigger,
      ...(condition !== undefined && condition !== null ? { condition } : {}),
      actions,
      version: (base?.version ?? 0) + 1,
      runAs: actorName(principal),
      ...(cap !== undefined ? { maxRunsPerMinute: cap as number } : {}),
    };
    this.check(definition, catalog);
    return definition;
  }

  // --- changes (through the metadata service: ledger, version, every instance) ----------------
  // Each reads the rule from the catalog loaded under the schema lock, so two concurrent changes
  // of one rule (here or on another instance) apply one after the other, never over each other.

  async create(input: RuleInput, principal: Principal): Promise<AutomationRuleDef> {
    // checked before the lock too: a refused rule costs no lock
    this.#normalize(input, undefined, principal, this.#runtime.state.catalog);
    const id = randomUUID();
    return this.#metadata.configure({ actor: actorName(principal) }, async (catalog) => {
      const definition = this.#normalize(input, undefined, principal, catalog);
      const status: RuleStatus = input.enabled === false ? 'disabled' : 'active';
      // a schedule counts from now: no catch-up for ticks from before the rule existed
      const from = definition.trigger.type === 'schedule' ? this.#clock().toISOString() : null;
      const rule: AutomationRuleDef = { id, ...definition, status };
      return {
        operation: 'rule.create',
        target: `rule:${id}`,
        after: rule,
        result: rule,
        write: async (trx) => {
          await sql`INSERT INTO xrm.automation_rules (id, definition, status, scheduled_through)
            VALUES (${id}, ${JSON.stringify(definition)}::jsonb, ${status}, ${from})`.execute(trx);
        },
      };
    });
  }

  #locked(catalog: Catalog, id: string): AutomationRuleDef {
    const found = catalog.rules.get(id);
    if (!found) throw new XrmError('XRM_ERR_RULE_NOT_FOUND', `No automation rule has id ${id}`);
    return found;
  }

  /** Changes a rule (a new version); saving an invalid rule that now checks out makes it active again. */
  async update(id: string, input: RuleInput, principal: Principal): Promise<AutomationRuleDef> {
    this.get(id);
    return this.#metadata.configure({ actor: actorName(principal) }, async (catalog) => {
      const before = this.#locked(catalog, id);
      const definition = this.#normalize(input, before, principal, catalog);
      const off = input.enabled === false || (input.enabled === undefined && before.status === 'disabled');
      return this.#save(before, definition, off ? 'disabled' : 'active');
    });
  }

  /** Switches a rule on (checked against the catalog as it is now: an invalid rule stays so until fixed) or off. */
  async setEnabled(id: string, enabled: boolean, principal: Principal): Promise<AutomationRuleDef> {
    this.get(id);
    return this.#metadata.configure({ actor: actorName(principal) }, async (catalog) => {
      const before = this.#locked(catalog, id);
      const { id: _id, status: _s, statusReason: _r, ...definition } = before;
      if (enabled) this.check(definition, catalog);
      return this.#save(before, definition, enabled ? 'active' : 'disabled');
    });
  }

  /** The platform turns a rule off (a loop hit its rate cap), saying why. */
  async disable(id: string, reason: string): Promise<void> {
    await this.#metadata.configure({ actor: 'system:automation' }, async (catalog) => {
      const before = catalog.rules.get(id);
      return {
        operation: 'rule.disable',
        target: `rule:${id}`,
        before,
        after: before ? { ...before, status: 'disabled', statusReason: reason } : undefined,
        result: undefined,
        write: async (trx) => {
          await sql`UPDATE xrm.automation_rules SET status = 'disabled', status_reason = ${reason}, updated_at = now()
            WHERE id = ${id} AND status = 'active'`.execute(trx);
        },
      };
    });
  }

  /** The plan of a rule's change: its new definition and status, in the ledger. */
  #save(before: AutomationRuleDef, definition: Definition, status: RuleStatus) {
    const rule: AutomationRuleDef = { id: before.id, ...definition, status };
    const { id: _id, status: _s, statusReason: _r, ...stored } = rule;
    // a schedule switched on (or made one) counts from now: no catch-up for the time it was off
    const restart =
      rule.trigger.type === 'schedule' &&
      status === 'active' &&
      (before.trigger.type !== 'schedule' || before.status !== 'active');
    const scheduled = restart ? this.#clock().toISOString() : null;
    return {
      operation: 'rule.update',
      target: `rule:${before.id}`,
      before,
      after: rule,
      result: rule,
      write: async (trx: Db) => {
        await sql`UPDATE xrm.automation_rules SET definition = ${JSON.stringify(stored)}::jsonb, status = ${status},
            status_reason = NULL, updated_at = now(),
            scheduled_through = COALESCE(${scheduled}::timestamptz, scheduled_through)
          WHERE id = ${before.id}`.execute(trx);
      },
    };
  }

  async delete(id: string, principal: Principal): Promise<void> {
    this.get(id);
    await this.#metadata.configure({ actor: actorName(principal) }, async (catalog) => {
      const before = this.#locked(catalog, id);
      return {
        operation: 'rule.delete',
        target: `rule:${id}`,
        before,
        result: undefined,
        write: async (trx) => {
          await sql`DELETE FROM xrm.automation_rules WHERE id = ${id}`.execute(trx);
        },
      };
    });
  }

  /**
   * A schema change about to commit: every rule that no longer checks out against the catalog it
   * leaves turns invalid (in the change's transaction), and the change's answer warns of it.
   */
  readonly guardSchemaChange = async (trx: Db, after: Catalog): Promise<ChangeWarning[]> => {
    const warnings: ChangeWarning[] = [];
    for (const rule of after.rules.values()) {
      if (rule.status === 'invalid') continue;
      const { id: _id, status: _s, statusReason: _r, ...definition } = rule;
      let reason: string | undefined;
      try {
        this.check(definition, after);
      } catch (error) {
        if (!(error instanceof XrmError)) throw error;
        const path = error.errors?.[0]?.path;
        reason = path && !error.message.includes(path) ? `${path}: ${error.message}` : error.message;
      }
      if (!reason) continue;
      await sql`UPDATE xrm.automation_rules SET status = 'invalid', status_reason = ${reason}, updated_at = now()
        WHERE id = ${rule.id}`.execute(trx);
      warnings.push({
        code: 'XRM_WARN_RULE_INVALID',
        target: `rule:${rule.id}`,
        message: `Automation rule "${rule.name}" is now invalid and will not run: ${reason}`,
      });
    }
    return warnings;
  };
}
