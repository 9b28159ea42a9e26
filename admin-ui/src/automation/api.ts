/** The automation API: rules, their runs and health; suggestions and notifications. */
import { query, request } from '../api.ts';
import type {
  AutomationHealth,
  DryRun,
  Notification,
  NotificationPage,
  Rule,
  Run,
  RunOutcome,
  RunPage,
  SchedulePass,
  Suggestion,
  SuggestionPage,
  SuggestionStatus,
  TriggerType,
  RuleStatus,
} from './types.ts';

const enc = encodeURIComponent;
const rulePath = (id: string) => `/api/automation/rules/${enc(id)}`;

/** Tells the header's bell that notifications were read or may have arrived. */
export const NOTIFICATIONS_CHANGED = 'xrm:notifications-changed';
export function notificationsChanged(): void {
  window.dispatchEvent(new Event(NOTIFICATIONS_CHANGED));
}

export const automationApi = {
  rules: (params: { entity?: string; trigger?: TriggerType; status?: RuleStatus } = {}) =>
    request<{ data: Rule[] }>('GET', `/api/automation/rules${query(params)}`).then((r) => r.data),
  rule: (id: string) => request<Rule>('GET', rulePath(id)),
  createRule: (body: unknown) => request<Rule>('POST', '/api/automation/rules', { body }),
  updateRule: (id: string, body: unknown) => request<Rule>('PATCH', rulePath(id), { body }),
  setRuleEnabled: (id: string, enabled: boolean) =>
    request<Rule>('POST', `${rulePath(id)}/${enabled ? 'enable' : 'disable'}`),
  deleteRule: (id: string) => request<void>('DELETE', rulePath(id)),
  /** A manual (or event) rule on one record: the run. */
  runOnRecord: (id: string, recordId: string) =>
    request<Run>('POST', `${rulePath(id)}/run`, { body: { id: recordId } }),
  /** A schedule rule over every matching record, now. */
  runSchedule: (id: string) => request<SchedulePass>('POST', `${rulePath(id)}/run`, { body: {} }),
  test: (id: string, recordId: string) => request<DryRun>('POST', `${rulePath(id)}/test`, { body: { id: recordId } }),
  runs: (id: string, params: { limit?: number; cursor?: string; outcome?: RunOutcome } = {}) =>
    request<RunPage>('GET', `${rulePath(id)}/runs${query(params)}`),
  health: () => request<AutomationHealth>('GET', '/api/automation/health'),

  suggestions: (params: {
    status?: SuggestionStatus | 'all';
    recordId?: string;
    entity?: string;
    all?: boolean;
    limit?: number;
    cursor?: string;
  }) => request<SuggestionPage>('GET', `/api/suggestions${query(params)}`),
  approve: (id: string) => request<Suggestion>('POST', `/api/suggestions/${enc(id)}/approve`),
  dismiss: (id: string) => request<Suggestion>('POST', `/api/suggestions/${enc(id)}/dismiss`),

  notifications: (params: { unread?: boolean; limit?: number; cursor?: string } = {}) =>
    request<NotificationPage>('GET', `/api/notifications${query(params)}`),
  markRead: (id: string) => request<Notification>('POST', `/api/notifications/${enc(id)}/read`),
  markAllRead: () => request<{ read: number }>('POST', '/api/notifications/read-all'),
};
