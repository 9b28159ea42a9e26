/**
 * What automation gives a client: running a manual rule on a record (the record page's button),
 * a dry run, and the signed-in user's suggestions and notifications.
 */
import type { Transport } from './http.ts';

/** A proposed or performed action, as the server describes it (`type` plus its values). */
export interface XrmAutomationAction {
  readonly type: 'update' | 'create' | 'webhook' | 'message' | 'email' | 'notify' | 'suggest';
  readonly [detail: string]: unknown;
}

export interface XrmAutomationRun {
  readonly id: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly trigger: 'event' | 'schedule' | 'manual' | 'approval' | 'delivery';
  readonly recordId: string | null;
  readonly outcome: 'succeeded' | 'failed' | 'skipped' | 'suggested';
  readonly durationMs: number;
  readonly error: string | null;
  readonly detail: { readonly actions?: readonly XrmAutomationAction[] } | null;
  readonly createdAt: string;
}

export interface XrmDryRun {
  readonly matches: boolean;
  readonly actions: readonly XrmAutomationAction[];
  readonly error?: string;
  readonly written: false;
}

export interface XrmSuggestion {
  readonly id: string;
  readonly rule: { readonly id: string | null; readonly name: string };
  readonly entity: string;
  readonly recordId: string;
  readonly reason: string;
  readonly actions: readonly XrmAutomationAction[];
  readonly status: 'pending' | 'approved' | 'dismissed' | 'failed';
  readonly createdAt: string;
}

export interface XrmNotification {
  readonly id: string;
  readonly text: string;
  readonly entity: string | null;
  readonly recordId: string | null;
  readonly read: boolean;
  readonly createdAt: string;
}

export interface XrmAutomationClient {
  /**
   * Runs a manual rule on a record, as you; a schedule rule (no record) runs a pass over every
   * record that meets its condition now and answers how many matched and how many runs it queued.
   *
   * @example
   * const rule = '6f1c2a7e-1d2b-4c3d-8e4f-5a6b7c8d9e0f';
   * const run = await client.automation.run(rule, '7c9e6679-7425-40de-944b-e07fc1f90ae7');
   * const failed: boolean = run.outcome === 'failed';
   */
  run(ruleId: string, recordId: string): Promise<XrmAutomationRun>;
  run(ruleId: string): Promise<{ readonly matched: number; readonly queued: number }>;
  /** A dry run: whether the record matches and what each action would do; writes nothing. */
  test(ruleId: string, recordId: string): Promise<XrmDryRun>;
  /** Your suggestions (pending unless `status` says otherwise), newest first. */
  suggestions(options?: { status?: XrmSuggestion['status'] | 'all'; recordId?: string }): Promise<XrmSuggestion[]>;
  /** Approves a suggestion: its actions run as you. */
  approve(suggestionId: string): Promise<XrmSuggestion>;
  dismiss(suggestionId: string): Promise<XrmSuggestion>;
  /** Your notifications, newest first, and how many are unread. */
  notifications(options?: { unread?: boolean }): Promise<{ data: XrmNotification[]; unread: number }>;
  markRead(notificationId: string): Promise<XrmNotification>;
}

export function automationClient(transport: Transport): XrmAutomationClient {
  const post = async <T>(path: string, body?: unknown) =>
    (await transport.request<T>({ method: 'POST', path, ...(body === undefined ? {} : { body }) })).body;
  const rule = (id: string) => `/api/automation/rules/${encodeURIComponent(id)}`;
  return {
    run: ((ruleId: string, recordId?: string) =>
      post(`${rule(ruleId)}/run`, recordId === undefined ? {} : { id: recordId })) as XrmAutomationClient['run'],
    test: (ruleId, recordId) => post<XrmDryRun>(`${rule(ruleId)}/test`, { id: recordId }),
    async suggestions(options = {}) {
      const query: [string, string][] = [];
      if (options.status) query.push(['status', options.status]);
      if (options.recordId) query.push(['recordId', options.recordId]);
      return (await transport.request<{ data: XrmSuggestion[] }>({ method: 'GET', path: '/api/suggestions', query }))
        .body.data;
    },
    approve: (id) => post<XrmSuggestion>(`/api/suggestions/${encodeURIComponent(id)}/approve`),
    dismiss: (id) => post<XrmSuggestion>(`/api/suggestions/${encodeURIComponent(id)}/dismiss`),
    async notifications(options = {}) {
      const query: [string, string][] = options.unread ? [['unread', 'true']] : [];
      return (
        await transport.request<{ data: XrmNotification[]; unread: number }>({
          method: 'GET',
          path: '/api/notifications',
          query,
        })
      ).body;
    },
    markRead: (id) => post<XrmNotification>(`/api/notifications/${encodeURIComponent(id)}/read`),
  };
}
