/**
 * Automation, assembled: rules as metadata (rules.ts), event rules on the write pipeline
 * (event-rules.ts), the scheduler (scheduler.ts), the runner of every run (runner.ts) and what
 * runs leave for people (inbox.ts) — and the health view that says which rules are invalid,
 * failing or switched off, so none stops silently.
 */
import type { AutomationRuleDef } from '../../metadata/types.ts';
import type { EventRules } from './event-rules.ts';
import type { Inbox } from './inbox.ts';
import type { RuleService } from './rules.ts';
import type { AutomationRunner } from './runner.ts';
import type { Scheduler } from './scheduler.ts';

export interface RuleHealth {
  readonly id: string;
  readonly name: string;
  readonly entity: string;
  readonly trigger: AutomationRuleDef['trigger']['type'];
  readonly status: AutomationRuleDef['status'];
  readonly statusReason?: string;
  /** Runs and failed runs in the last 24 hours, and the last failure. */
  readonly runs24h: number;
  readonly failures24h: number;
  readonly lastError: string | null;
  readonly lastFailedAt: string | null;
}

export class Automation {
  constructor(
    readonly rules: RuleService,
    readonly events: EventRules,
    readonly runner: AutomationRunner,
    readonly scheduler: Scheduler,
    readonly inbox: Inbox,
  ) {}

  /** Invalid, failing (a failed run in the last 24 hours) and disabled rules, and a count of the healthy. */
  async health() {
    const failures = await this.runner.failures();
    const view = (rule: AutomationRuleDef): RuleHealth => {
      const f = failures.get(rule.id);
      return {
        id: rule.id,
        name: rule.name,
        entity: rule.entity,
        trigger: rule.trigger.type,
        status: rule.status,
        ...(rule.statusReason ? { statusReason: rule.statusReason } : {}),
        runs24h: f?.runs ?? 0,
        failures24h: f?.failed ?? 0,
        lastError: f?.lastError ?? null,
        lastFailedAt: f?.lastFailedAt ?? null,
      };
    };
    const all = this.rules.list().map(view);
    const invalid = all.filter((r) => r.status === 'invalid');
    const disabled = all.filter((r) => r.status === 'disabled');
    const failing = all.filter((r) => r.status === 'active' && r.failures24h > 0);
    const healthy = all.filter((r) => r.status === 'active' && r.failures24h === 0).length;
    return { ok: !invalid.length && !failing.length, healthy, invalid, failing, disabled };
  }
}
