/**
 * Component schemas of automation: rules, their runs, dry runs and health; suggestions and
 * notifications; the warnings a metadata change answers when it breaks rules.
 */
import { RULE_STATUSES } from '../../metadata/types.ts';
import { SUGGESTION_STATUSES } from '../automation/inbox.ts';
import { ACTION_TYPES, EVENT_MESSAGES } from '../automation/rules.ts';
import { RUN_OUTCOMES, RUN_TRIGGERS } from '../automation/runner.ts';
import { pageOf } from './pipeline-schemas.ts';
import { schemaRef, type JsonSchema } from './types.ts';

const time = { type: 'string', format: 'date-time' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;

const values = {
  type: 'object',
  additionalProperties: true,
  description: 'Field values; strings may hold templates: {{record.field}}, {{record.lookup.field}}, {{now + P2D}}',
} as const;

const action: JsonSchema = {
  type: 'object',
  description:
    'update { values, via? } · create { entity, values } · webhook { url } · message { name, input? } · ' +
    'email { to, subject, body } · notify { to, text } · suggest { reason, actions }',
  properties: {
    type: { type: 'string', enum: [...ACTION_TYPES] },
    values,
    via: { type: 'string', description: 'update: a lookup of the record; the related record is updated' },
    entity: { type: 'string', description: 'create: the entity of the new record' },
    url: { type: 'string', description: 'webhook: an http(s) receiver (internal addresses refused)' },
    name: { type: 'string', description: "message: a plugin's custom message" },
    input: { type: 'object', additionalProperties: true },
    to: {
      type: 'string',
      description: 'email: an address, a template, or "owner"; notify: "owner", a user id or a user email',
    },
    subject: { type: 'string' },
    body: { type: 'string' },
    text: { type: 'string' },
    reason: { type: 'string', description: 'suggest: why, shown to the record owner' },
    actions: { type: 'array', items: schemaRef('AutomationAction'), description: 'suggest: the actions it proposes' },
  },
  required: ['type'],
};

/** An action with its templates resolved and its target found (what runs, what a suggestion proposes). */
const resolvedAction: JsonSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: [...ACTION_TYPES] },
    entity: { type: 'string' },
    id: { type: 'string', description: 'update: the record it changes' },
    values: { type: 'object', additionalProperties: true },
    url: { type: 'string' },
    name: { type: 'string' },
    input: { type: 'object', additionalProperties: true },
    target: { type: 'object', properties: { entity: { type: 'string' }, id: { type: 'string' } } },
    to: { type: 'string', description: 'email: the address; notify: the user id' },
    subject: { type: 'string' },
    body: { type: 'string' },
    text: { type: 'string' },
    reason: { type: 'string' },
    owner: { type: ['string', 'null'] },
    actions: { type: 'array', items: schemaRef('AutomationResolvedAction') },
  },
  required: ['type'],
};

/** What one action did (a run's detail, a dry run's answer, an approved suggestion's result). */
const outcome: JsonSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: [...ACTION_TYPES] },
    entity: { type: 'string' },
    id: { type: 'string', description: 'update, create: the record' },
    values: { type: 'object', additionalProperties: true },
    version: { type: 'integer', description: 'update: the record version it wrote' },
    name: { type: 'string' },
    input: { type: 'object', additionalProperties: true },
    output: { description: "message: the custom message's output" },
    called: { type: 'boolean', description: "message in a dry run: false (a plugin's handler is not called)" },
    to: { type: 'string' },
    text: { type: 'string' },
    subject: { type: 'string' },
    notification: { type: 'string', description: 'notify: the notification id' },
    queued: { type: 'string', description: 'email, webhook: the delivery job event id' },
    url: { type: 'string' },
    suggestion: { type: 'string', description: 'suggest: the suggestion id' },
    owner: { type: ['string', 'null'] },
    reason: { type: 'string' },
  },
  required: ['type'],
};

const trigger: JsonSchema = {
  type: 'object',
  description: 'event { messages, changed? } · schedule { cron, timeZone? } · manual',
  properties: {
    type: { type: 'string', enum: ['event', 'schedule', 'manual'] },
    messages: {
      type: 'array',
      items: { type: 'string' },
      description: `${EVENT_MESSAGES.join(', ')}, or a plugin's custom message bound to the entity`,
    },
    changed: { type: 'array', items: { type: 'string' }, description: 'update: any of these fields changed' },
    cron: { type: 'string', description: 'Five or six cron fields, e.g. "0 8 * * 1-5"' },
    timeZone: { type: 'string', description: 'IANA time zone of the cron (default UTC)' },
  },
  required: ['type'],
};

const ruleProperties: Record<string, JsonSchema> = {
  name: { type: 'string', maxLength: 200 },
  description: { type: 'string' },
  entity: { type: 'string' },
  trigger,
  condition: {
    description:
      "The query engine's JSON filter, plus olderThan / withinNext / withinLast (ISO 8601 durations) on date and " +
      'datetime fields, and changedFrom / changedTo in event rules',
  },
  actions: { type: 'array', items: schemaRef('AutomationAction'), minItems: 1, maxItems: 20 },
  maxRunsPerMinute: {
    type: ['integer', 'null'],
    minimum: 1,
    description: 'Runs a minute started by automated writes past which the rule is turned off (loops); null: 60',
  },
};

const run: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ruleId: uuid,
    ruleVersion: { type: 'integer' },
    trigger: { type: 'string', enum: [...RUN_TRIGGERS] },
    entity: { type: ['string', 'null'] },
    recordId: { type: ['string', 'null'] },
    outcome: { type: 'string', enum: [...RUN_OUTCOMES] },
    durationMs: { type: 'integer' },
    error: { type: ['string', 'null'] },
    detail: {
      type: ['object', 'null'],
      description: 'actions: what each action did; a schedule pass: matched and queued',
      properties: {
        actions: { type: 'array', items: schemaRef('AutomationActionOutcome') },
        matched: { type: 'integer' },
        queued: { type: 'integer' },
      },
    },
    jobId: { type: ['string', 'null'] },
    actor: { type: ['string', 'null'], description: 'Who the run acted as' },
    createdAt: time,
  },
  required: ['id', 'ruleId', 'trigger', 'outcome', 'durationMs', 'createdAt'],
};

const health: JsonSchema = {
  type: 'object',
  properties: {
    id: uuid,
    name: { type: 'string' },
    entity: { type: 'string' },
    trigger: { type: 'string' },
    status: { type: 'string', enum: [...RULE_STATUSES] },
    statusReason: { type: 'string' },
    runs24h: { type: 'integer' },
    failures24h: { type: 'integer' },
    lastError: { type: ['string', 'null'] },
    lastFailedAt: { type: ['string', 'null'] },
  },
  required: ['id', 'name', 'entity', 'status', 'runs24h', 'failures24h'],
};

export function automationComponents(): Record<string, JsonSchema> {
  return {
    AutomationAction: action,
    AutomationResolvedAction: resolvedAction,
    AutomationActionOutcome: outcome,
    AutomationRuleInput: {
      type: 'object',
      properties: { ...ruleProperties, enabled: { type: 'boolean', description: 'Default true' } },
      required: ['name', 'entity', 'trigger', 'actions'],
      additionalProperties: false,
    },
    AutomationRuleChange: {
      type: 'object',
      properties: { ...ruleProperties, enabled: { type: 'boolean' } },
      additionalProperties: false,
    },
    AutomationRule: {
      type: 'object',
      properties: {
        id: uuid,
        ...ruleProperties,
        version: { type: 'integer', description: '1 when created; every change adds one' },
        status: { type: 'string', enum: [...RULE_STATUSES] },
        statusReason: { type: 'string', description: 'Why it is invalid, or why the platform turned it off' },
        runAs: { type: 'string', description: 'Whose roles its actions run with (who saved it last)' },
      },
      // without the metadata privilege the list carries active manual rules without condition and actions
      required: ['id', 'name', 'entity', 'trigger', 'version', 'status'],
    },
    AutomationRuleList: {
      type: 'object',
      properties: { data: { type: 'array', items: schemaRef('AutomationRule') } },
      required: ['data'],
    },
    AutomationRun: run,
    AutomationRunPage: pageOf('AutomationRun'),
    AutomationRunResult: {
      description: 'A manual run (an AutomationRun), or a schedule pass: { matched, queued }',
      oneOf: [
        schemaRef('AutomationRun'),
        {
          type: 'object',
          properties: {
            matched: { type: 'integer', description: 'Records meeting the condition now' },
            queued: { type: 'integer', description: 'Runs queued: matches not acted on in their current episode' },
            finished: { type: 'integer', description: 'wait=true: runs finished before the answer' },
            pending: { type: 'integer', description: 'wait=true: runs still queued or running' },
          },
          required: ['matched', 'queued'],
        },
      ],
    },
    AutomationDryRun: {
      type: 'object',
      properties: {
        rule: { type: 'object' },
        entity: { type: 'string' },
        id: { type: 'string' },
        matches: { type: 'boolean', description: 'Whether the record meets the condition now' },
        actingAs: { type: 'string' },
        actions: { type: 'array', items: schemaRef('AutomationActionOutcome'), description: 'What each would do' },
        error: { type: 'string', description: 'The problem an action would meet' },
        written: { type: 'boolean', const: false },
      },
      required: ['rule', 'entity', 'id', 'matches', 'actions', 'written'],
    },
    AutomationRuleHealth: health,
    AutomationHealth: {
      type: 'object',
      properties: {
        ok: { type: 'boolean', description: 'No invalid and no failing rule' },
        healthy: { type: 'integer' },
        invalid: { type: 'array', items: schemaRef('AutomationRuleHealth') },
        failing: { type: 'array', items: schemaRef('AutomationRuleHealth') },
        disabled: { type: 'array', items: schemaRef('AutomationRuleHealth') },
      },
      required: ['ok', 'healthy', 'invalid', 'failing', 'disabled'],
    },
    Suggestion: {
      type: 'object',
      properties: {
        id: uuid,
        rule: { type: 'object', properties: { id: { type: ['string', 'null'] }, name: { type: 'string' } } },
        entity: { type: 'string' },
        recordId: uuid,
        record: { type: 'string', description: 'The record in the data API' },
        owner: { type: ['string', 'null'] },
        reason: { type: 'string' },
        actions: {
          type: 'array',
          items: schemaRef('AutomationResolvedAction'),
          description: 'The actions, their values resolved',
        },
        status: { type: 'string', enum: [...SUGGESTION_STATUSES] },
        createdAt: time,
        decidedAt: { type: ['string', 'null'] },
        decidedBy: { type: ['string', 'null'] },
        result: {
          type: ['array', 'null'],
          items: schemaRef('AutomationActionOutcome'),
          description: 'What each action did (approved)',
        },
        error: { type: ['string', 'null'] },
      },
      required: ['id', 'rule', 'entity', 'recordId', 'reason', 'actions', 'status', 'createdAt'],
    },
    SuggestionPage: pageOf('Suggestion'),
    Notification: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        text: { type: 'string' },
        entity: { type: ['string', 'null'] },
        recordId: { type: ['string', 'null'] },
        record: { type: ['string', 'null'] },
        ruleId: { type: ['string', 'null'] },
        read: { type: 'boolean' },
        createdAt: time,
      },
      required: ['id', 'text', 'read', 'createdAt'],
    },
    NotificationPage: {
      type: 'object',
      properties: {
        data: { type: 'array', items: schemaRef('Notification') },
        unread: { type: 'integer' },
        nextCursor: { type: 'string' },
      },
      required: ['data', 'unread'],
    },
    NotificationsRead: { type: 'object', properties: { read: { type: 'integer' } }, required: ['read'] },
  };
}
