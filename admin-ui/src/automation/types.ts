/**
 * Shapes of the automation API (rules, runs, dry runs, health, suggestions, notifications) as the
 * UI reads them: the OpenAPI document's own (api-schema.ts), except where it types an object
 * without properties (nested actions, run details, dry-run outcomes), which the UI spells out.
 */
import type { components } from '../api-schema.ts';

type Schemas = components['schemas'];

type SchemaRule = Schemas['AutomationRule'];
export type RuleStatus = SchemaRule['status'];
export type RuleTrigger = SchemaRule['trigger'];
export type TriggerType = RuleTrigger['type'];
export type EventMessage = NonNullable<RuleTrigger['messages']>[number];
export type ActionType = NonNullable<SchemaRule['actions']>[number]['type'];

/** A rule's action as saved (a suggestion's proposed actions are actions too). */
export interface RuleAction {
  type: ActionType;
  values?: Record<string, unknown>;
  via?: string;
  entity?: string;
  url?: string;
  name?: string;
  input?: Record<string, unknown>;
  to?: string;
  subject?: string;
  body?: string;
  text?: string;
  reason?: string;
  actions?: RuleAction[];
}

export type Rule = Omit<SchemaRule, 'actions'> & { actions: RuleAction[] };

/** An action with its templates resolved (a suggestion's), or what an action did (a run's, a dry run's). */
export type ActionResult = Record<string, unknown> & { type: ActionType };

export type RunOutcome = Schemas['AutomationRun']['outcome'];
export type Run = Omit<Schemas['AutomationRun'], 'detail'> & {
  detail?: { actions?: ActionResult[]; matched?: number; queued?: number } | null;
};
export interface RunPage {
  data: Run[];
  nextCursor?: string;
}
/** A schedule pass started by hand. */
export interface SchedulePass {
  matched: number;
  queued: number;
}

export type DryRun = Omit<Schemas['AutomationDryRun'], 'actions' | 'rule'> & {
  rule: { id: string; name: string; version: number; status: RuleStatus };
  actions: ActionResult[];
};

export type RuleHealth = Schemas['AutomationRuleHealth'];
export type AutomationHealth = Schemas['AutomationHealth'];

export type Suggestion = Omit<Schemas['Suggestion'], 'actions'> & { actions: ActionResult[] };
export type SuggestionStatus = Suggestion['status'];
export interface SuggestionPage {
  data: Suggestion[];
  nextCursor?: string;
}

export type Notification = Schemas['Notification'];
export type NotificationPage = Schemas['NotificationPage'];
