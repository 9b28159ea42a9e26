/**
 * Automation under /api: rules (`/automation/rules`: create, list, read, change, enable, disable,
 * delete, run, dry-run test, run log), `/automation/health`, and what rules leave for people:
 * `/suggestions` (approve, dismiss) and `/notifications`. Changing rules, their run logs, tests
 * and health need the metadata privilege; anyone signed in may list and run the manual rules of
 * the records they can read, and works their own suggestions and notifications.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import { RULE_STATUSES } from '../../metadata/types.ts';
import type { Automation } from '../automation/automation.ts';
import { SUGGESTION_STATUSES } from '../automation/inbox.ts';
import type { RuleInput } from '../automation/rules.ts';
import { type Acting, RUN_OUTCOMES } from '../automation/runner.ts';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { createdResponse, jsonResponse, noContent } from '../openapi/responses.ts';
import { accessOf, actorOf, principalOf } from '../request-context.ts';
import { bodySchema, cursorQuery, nameParams } from './route-schemas.ts';

const tags = ['automation'];
const RULE_404 = [...INVALID_REQUEST, 'XRM_ERR_RULE_NOT_FOUND'] as const;
const DEFINITION = [
  ...JSON_BODY,
  'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
  'XRM_ERR_QUERY_INVALID',
  'XRM_ERR_WEBHOOK_TARGET_FORBIDDEN',
] as const;
const RUN_ERRORS = [
  ...RULE_404,
  ...JSON_BODY,
  'XRM_ERR_RULE_NOT_RUNNABLE',
  'XRM_ERR_RECORD_NOT_FOUND',
  'XRM_ERR_PLUGIN_REJECTED',
  'XRM_ERR_RECORD_INVALID',
  'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
  'XRM_ERR_FORBIDDEN',
] as const;
const SUGGESTION_404 = [...INVALID_REQUEST, 'XRM_ERR_SUGGESTION_NOT_FOUND'] as const;

const metadataOnly = (req: FastifyRequest) => {
  if (!accessOf(req).policy.allows('metadata'))
    throw new XrmError('XRM_ERR_FORBIDDEN', 'Your roles do not grant the metadata privilege');
};

const acting = (req: FastifyRequest): Acting => ({
  principal: principalOf(req),
  access: accessOf(req),
  correlationId: req.id,
  depth: 1,
  log: req.log,
});

const reader = (req: FastifyRequest, all?: boolean) => {
  const access = accessOf(req);
  if (all) metadataOnly(req);
  return { userId: access.subject.userId, all: all === true };
};

export async function automationRoutes(
  app: FastifyInstance,
  { automation }: { automation: Automation },
): Promise<void> {
  const { rules, runner, inbox } = automation;

  app.post<{ Body: RuleInput }>(
    '/automation/rules',
    {
      schema: {
        tags,
        summary: 'Create an automation rule (checked against the catalog; in the schema-change ledger)',
        operationId: 'createAutomationRule',
        body: bodySchema,
        'x-xrm-operation': {
          body: 'AutomationRuleInput',
          responses: { '201': createdResponse('The rule, version 1', 'AutomationRule') },
          errors: [...DEFINITION, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req, reply) => {
      metadataOnly(req);
      const rule = await rules.create(req.body, principalOf(req));
      req.log.info({ rule: rule.id, entity: rule.entity }, 'automation rule created');
      return reply.code(201).header('location', `/api/automation/rules/${rule.id}`).send(rule);
    },
  );

  app.get<{ Querystring: { entity?: string; trigger?: string; status?: string } }>(
    '/automation/rules',
    {
      schema: {
        tags,
        summary: 'Automation rules (without the metadata privilege: the active manual rules, for record pages)',
        operationId: 'listAutomationRules',
        querystring: {
          type: 'object',
          properties: {
            entity: { type: 'string', maxLength: 200 },
            trigger: { type: 'string', enum: ['event', 'schedule', 'manual'] },
            status: { type: 'string', enum: [...RULE_STATUSES] },
          },
          additionalProperties: false,
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The rules', 'AutomationRuleList') },
          errors: [...INVALID_REQUEST],
        },
      },
    },
    async (req) => {
      if (accessOf(req).policy.allows('metadata')) return { data: rules.list(req.query) };
      // without the metadata privilege: the active manual rules only (the buttons of record pages)
      if (req.query.trigger && req.query.trigger !== 'manual') return { data: [] };
      const policy = accessOf(req).policy;
      const data = rules
        .list({ ...req.query, trigger: 'manual', status: 'active' })
        .filter((r) => policy.level(r.entity, 'read') !== 'none')
        .map(({ id, name, description, entity, trigger, status, version }) => ({
          id,
          name,
          ...(description ? { description } : {}),
          entity,
          trigger,
          status,
          version,
        }));
      return { data };
    },
  );

  app.get(
    '/automation/health',
    {
      schema: {
        tags,
        summary: 'Rules that are invalid, failing (a failed run in 24 h) or disabled, with reasons',
        operationId: 'getAutomationHealth',
        'x-xrm-operation': {
          responses: { '200': jsonResponse('Health of every rule', 'AutomationHealth') },
          errors: ['XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req) => {
      metadataOnly(req);
      return automation.health();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/automation/rules/:id',
    {
      schema: {
        tags,
        summary: 'One automation rule',
        operationId: 'getAutomationRule',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The rule', 'AutomationRule') },
          errors: [...RULE_404, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req) => {
      metadataOnly(req);
      return rules.get(req.params.id);
    },
  );

  app.patch<{ Params: { id: string }; Body: RuleInput }>(
    '/automation/rules/:id',
    {
      schema: {
        tags,
        summary: 'Change a rule (a new version; an invalid rule that now checks out turns active)',
        operationId: 'updateAutomationRule',
        params: nameParams('id'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'AutomationRuleChange',
          responses: { '200': jsonResponse('The rule as it now is', 'AutomationRule') },
          errors: [...RULE_404, ...DEFINITION, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req) => {
      metadataOnly(req);
      return rules.update(req.params.id, req.body, principalOf(req));
    },
  );

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post<{ Params: { id: string } }>(
      `/automation/rules/:id/${verb}`,
      {
        schema: {
          tags,
          summary: enabled
            ? 'Switch a rule on (checked against the catalog as it is now)'
            : 'Switch a rule off (its queued runs are skipped and logged)',
          operationId: `${verb}AutomationRule`,
          params: nameParams('id'),
          'x-xrm-operation': {
            responses: { '200': jsonResponse('The rule as it now is', 'AutomationRule') },
            errors: [...RULE_404, 'XRM_ERR_FORBIDDEN', ...(enabled ? (['XRM_ERR_QUERY_INVALID'] as const) : [])],
          },
        },
      },
      async (req) => {
        metadataOnly(req);
        return rules.setEnabled(req.params.id, enabled, principalOf(req));
      },
    );
  }

  app.delete<{ Params: { id: string } }>(
    '/automation/rules/:id',
    {
      schema: {
        tags,
        summary: 'Delete a rule (its run log and the suggestions it made are kept)',
        operationId: 'deleteAutomationRule',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '204': noContent('Deleted') },
          errors: [...RULE_404, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req, reply) => {
      metadataOnly(req);
      await rules.delete(req.params.id, principalOf(req));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Body: { id?: unknown } | undefined; Querystring: { wait?: boolean } }>(
    '/automation/rules/:id/run',
    {
      schema: {
        tags,
        summary: 'Run now: a schedule rule over every matching record (no body), a manual rule on { "id": … }',
        operationId: 'runAutomationRule',
        params: nameParams('id'),
        querystring: {
          type: 'object',
          properties: {
            wait: {
              type: 'boolean',
              description: "A schedule rule: answer once the pass's runs finished (10 s at most)",
            },
          },
          additionalProperties: false,
        },
        body: { type: ['object', 'null'], properties: { id: { type: 'string' } }, additionalProperties: false },
        'x-xrm-operation': {
          responses: {
            '200': jsonResponse(
              'The run (manual), or the pass: records matched and runs queued',
              'AutomationRunResult',
            ),
          },
          errors: [...RUN_ERRORS, 'XRM_ERR_FORBIDDEN', 'XRM_ERR_RATE_LIMITED'],
        },
      },
    },
    async (req) => {
      const id = req.body?.id;
      if (id === undefined) {
        metadataOnly(req);
        return runner.runScheduleNow(req.params.id, req.query.wait ? 10_000 : 0);
      }
      const rule = rules.get(req.params.id);
      // by hand on a record: manual rules for anyone who can read it; event rules for rule authors (to
      // anyone else, a rule that is not an active manual one does not exist)
      if (rule.trigger.type !== 'manual' || rule.status !== 'active') {
        if (!accessOf(req).policy.allows('metadata'))
          throw new XrmError('XRM_ERR_RULE_NOT_FOUND', `No automation rule has id ${req.params.id}`);
      }
      return runner.runManual(req.params.id, id, acting(req));
    },
  );

  app.post<{ Params: { id: string }; Body: { id?: unknown } }>(
    '/automation/rules/:id/test',
    {
      schema: {
        tags,
        summary: 'Dry run on a record: whether it matches and what each action would do; writes nothing',
        operationId: 'testAutomationRule',
        params: nameParams('id'),
        body: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('What would happen', 'AutomationDryRun') },
          errors: [...RUN_ERRORS, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req) => {
      metadataOnly(req);
      return runner.dryRun(req.params.id, req.body.id, acting(req));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string; outcome?: string } }>(
    '/automation/rules/:id/runs',
    {
      schema: {
        tags,
        summary: 'The run log, newest first: trigger, record, outcome, duration, error, what each action did',
        operationId: 'listAutomationRuns',
        params: nameParams('id'),
        querystring: cursorQuery({ outcome: { type: 'string', enum: [...RUN_OUTCOMES] } }),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('A page of runs', 'AutomationRunPage') },
          errors: [...RULE_404, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req) => {
      metadataOnly(req);
      rules.get(req.params.id);
      return runner.runs(req.params.id, { limit: req.query.limit ?? 50, ...req.query });
    },
  );

  // --- suggestions ----------------------------------------------------------------------------

  app.get<{
    Querystring: {
      status?: string;
      entity?: string;
      recordId?: string;
      all?: boolean;
      limit?: number;
      cursor?: string;
    };
  }>(
    '/suggestions',
    {
      schema: {
        tags,
        summary: 'Suggestions addressed to you, newest first (status pending by default; all=true: everyone’s)',
        operationId: 'listSuggestions',
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: [...SUGGESTION_STATUSES, 'all'] },
            entity: { type: 'string', maxLength: 200 },
            recordId: { type: 'string', maxLength: 36 },
            all: { type: 'boolean' },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: { type: 'string', maxLength: 100 },
          },
          additionalProperties: false,
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('A page of suggestions', 'SuggestionPage') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req) => inbox.suggestions(reader(req, req.query.all), { ...req.query, limit: req.query.limit ?? 50 }),
  );

  app.get<{ Params: { id: string } }>(
    '/suggestions/:id',
    {
      schema: {
        tags,
        summary: 'One suggestion',
        operationId: 'getSuggestion',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The suggestion', 'Suggestion') },
          errors: [...SUGGESTION_404],
        },
      },
    },
    async (req) => inbox.suggestion(req.params.id, reader(req, accessOf(req).policy.allows('metadata'))),
  );

  app.post<{ Params: { id: string } }>(
    '/suggestions/:id/approve',
    {
      schema: {
        tags,
        summary: 'Approve: the proposed actions run as you, in one transaction',
        operationId: 'approveSuggestion',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The suggestion, approved, with what each action did', 'Suggestion') },
          errors: [
            ...SUGGESTION_404,
            'XRM_ERR_SUGGESTION_DECIDED',
            'XRM_ERR_RECORD_NOT_FOUND',
            'XRM_ERR_PLUGIN_REJECTED',
            'XRM_ERR_RECORD_INVALID',
            'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
            'XRM_ERR_FORBIDDEN',
          ],
        },
      },
    },
    async (req) => {
      const all = accessOf(req).policy.allows('metadata');
      return inbox.approve(req.params.id, reader(req, all), acting(req));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/suggestions/:id/dismiss',
    {
      schema: {
        tags,
        summary: 'Dismiss: nothing runs',
        operationId: 'dismissSuggestion',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The suggestion, dismissed', 'Suggestion') },
          errors: [...SUGGESTION_404, 'XRM_ERR_SUGGESTION_DECIDED'],
        },
      },
    },
    async (req) => {
      const all = accessOf(req).policy.allows('metadata');
      return inbox.dismiss(req.params.id, reader(req, all), actorOf(req));
    },
  );

  // --- notifications --------------------------------------------------------------------------

  app.get<{ Querystring: { unread?: boolean; limit?: number; cursor?: string } }>(
    '/notifications',
    {
      schema: {
        tags,
        summary: 'Your notifications, newest first, with the count of unread ones',
        operationId: 'listNotifications',
        querystring: cursorQuery({ unread: { type: 'boolean' } }),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('A page of notifications', 'NotificationPage') },
          errors: [...INVALID_REQUEST],
        },
      },
    },
    async (req) => inbox.notifications(accessOf(req).subject.userId, { ...req.query, limit: req.query.limit ?? 50 }),
  );

  app.post<{ Params: { id: string } }>(
    '/notifications/:id/read',
    {
      schema: {
        tags,
        summary: 'Mark a notification read',
        operationId: 'readNotification',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The notification', 'Notification') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_NOTIFICATION_NOT_FOUND'],
        },
      },
    },
    async (req) => inbox.markRead(req.params.id, accessOf(req).subject.userId),
  );

  app.post(
    '/notifications/read-all',
    {
      schema: {
        tags,
        summary: 'Mark all your notifications read',
        operationId: 'readAllNotifications',
        'x-xrm-operation': {
          responses: { '200': jsonResponse('How many were marked', 'NotificationsRead') },
          errors: [],
        },
      },
    },
    async (req) => inbox.markAllRead(accessOf(req).subject.userId),
  );
}
