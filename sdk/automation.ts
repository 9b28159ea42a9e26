/**
 * What automation gives a client: running a manual rule on a record (the record page's button),
 * a dry run, and the signed-in user's suggestions and notifications.
 */
import type { Transport } from './http.ts';

/** A proposed or performed action, as the server describes it (`type` plus its values). */
export interface AutomationAction {
  readonly type: 'update' | 'create' | 'webhook' | 'message' | 'email' | 'notify' | 'suggest';
  readonly [detail: string]: unknown;
}

export interface AutomationRun {
  readonly id: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly trigger: 'event' | 'schedule' | 'manual' | 'approval' | 'delivery';
  readonly recordId: string | null;
  readonly outcome: 'succeeded' | 'failed' | 'skipped' | 'suggested';
  readonly durationMs: number;
  readonly error: string | null;
  readonly detail: { readonly actions?: readonly AutomationAction[] } | null;
  readonly createdAt: string;
}

export interface DryRun {
  readonly matches: boolean;
  readonly actions: readonly AutomationAction[];
  readonly error?: string;
  readonly written: false;
}

export interface Suggestion {
  readonly id: string;
  readonly rule: { readonly id: string | null; readonly name: string };
  readonly entity: string;
  readonly recordId: string;
  readonly reason: string;
  readonly actions: readonly AutomationAction[];
  readonly status: 'pending' | 'approved' | 'dismissed' | 'failed';
  readonly createdAt: string;
}

export interface Notification {
  readonly id: string;
  readonly text: string;
  readonly entity: string | null;
  readonly recordId: string | null;
  readonly read: boolean;
  readonly createdAt: string;
}

export interface AutomationClient {
  /**
   * Runs a manual rule on a record, as you (a schedule rule: over every matching record, no id).
   *
   * @example
   * const rule = '6f1c2a7e-1d2b-4c3d-8e4f-5a6b7c8d9e0f';
   * const run = await client.automation.run(rule, '7c9e6679-7425-40de-944b-e07fc1f90ae7');
   * const failed: boolean = run.outcome === 'failed';
   */
  run(ruleId: string, recordId: string): Promise<AutomationRun>;
  /** A dry run: whether the record matches and what each action would do; writes nothing. */
  test(ruleId: string, recordId: string): Promise<DryRun>;
  /** Your suggestions (pending unless `status` says otherwise), newest first. */
  suggestions(options?: { status?: Suggestion['status'] | 'all'; recordId?: string }): Promise<Suggestion[]>;
  /** Approves a suggestion: its actions run as you. */
  approve(suggestionId: string): Promise<Suggestion>;
  dismiss(suggestionId: string): Promise<Suggestion>;
  /** Your notifications, newest first, and how many are unread. */
  notifications(options?: { unread?: boolean }): Promise<{ data: Notification[]; unread: number }>;
  markRead(notificationId: string): Promise<Notification>;
}

export function automationClient(transport: Transport): AutomationClient {
  const post = async <T>(path: string, body?: unknown) =>
    (await transport.request<T>({ method: 'POST', path, ...(body === undefined ? {} : { body }) })).body;
  const rule = (id: string) => `/api/automation/rules/${encodeURIComponent(id)}`;
  return {
    run: (ruleId, recordId) => post<AutomationRun>(`${rule(ruleId)}/run`, { id: recordId }),
    test: (ruleId, recordId) => post<DryRun>(`${rule(ruleId)}/test`, { id: recordId }),
    async suggestions(options = {}) {
      const query: [string, string][] = [];
      if (options.status) query.push(['status', options.status]);
      if (options.recordId) query.push(['recordId', options.recordId]);
      return (await transport.request<{ data: Suggestion[] }>({ method: 'GET', path: '/api/suggestions', query })).body
        .data;
    },
    approve: (id) => post<Suggestion>(`/api/suggestions/${encodeURIComponent(id)}/approve`),
    dismiss: (id) => post<Suggestion>(`/api/suggestions/${encodeURIComponent(id)}/dismiss`),
    async notifications(options = {}) {
      const query: [string, string][] = options.unread ? [['unread', 'true']] : [];
      return (
        await transport.request<{ data: Notification[]; unread: number }>({
          method: 'GET',
          path: '/api/notifications',
          query,
        })
      ).body;
    },
    markRead: (id) => post<Notification>(`/api/notifications/${encodeURIComponent(id)}/read`),
  };
}
