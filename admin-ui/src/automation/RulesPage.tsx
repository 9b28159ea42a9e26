/**
 * Automation rules: their health at the top (invalid, failing and disabled rules with the reason
 * or last error, from GET /api/automation/health), then every rule with its entity, trigger and
 * status, a switch to turn it on and off, its run log and delete.
 */
import { useCallback, useMemo, useState } from 'react';
import { toProblem } from '../api.ts';
import { entityOf, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Loading, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { Link, useTitle } from '../router.tsx';
import { useResource } from '../security/use-resource.ts';
import type { Problem } from '../types.ts';
import { automationApi } from './api.ts';
import { StatusBadge, triggerSummary } from './describe.tsx';
import type { AutomationHealth, Rule, RuleHealth } from './types.ts';

export function RulesPage() {
  useTitle('Automation');
  const catalog = useCatalog();
  const { confirm, toast } = useOverlays();
  const rules = useResource(useCallback(() => automationApi.rules(), []));
  const health = useResource(useCallback(() => automationApi.health(), []));
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState<string>();
  const [entityFilter, setEntityFilter] = useState('');

  const healthOf = useMemo(() => {
    const map = new Map<string, RuleHealth>();
    const h = health.data;
    for (const r of [...(h?.invalid ?? []), ...(h?.failing ?? []), ...(h?.disabled ?? [])]) map.set(r.id, r);
    return map;
  }, [health.data]);

  const act = async (rule: Rule, action: () => Promise<void>) => {
    setBusy(rule.id);
    setProblem(undefined);
    try {
      await action();
      await health.reload();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(undefined);
    }
  };

  const setEnabled = (rule: Rule, enabled: boolean) =>
    act(rule, async () => {
      const next = await automationApi.setRuleEnabled(rule.id, enabled);
      rules.set((list) => list?.map((r) => (r.id === next.id ? next : r)));
      toast(`Rule “${rule.name}” ${enabled ? 'enabled' : 'disabled'}`);
    });

  const remove = async (rule: Rule) => {
    const ok = await confirm({
      title: `Delete the rule “${rule.name}”?`,
      body: <p>It stops at once. Its run log and the suggestions it made are kept.</p>,
      confirmLabel: 'Delete rule',
      danger: true,
    });
    if (!ok) return;
    await act(rule, async () => {
      await automationApi.deleteRule(rule.id);
      rules.set((list) => list?.filter((r) => r.id !== rule.id));
      toast(`Rule “${rule.name}” deleted`);
    });
  };

  const shown = (rules.data ?? [])
    .filter((r) => !entityFilter || r.entity === entityFilter)
    .sort((a, b) => a.name.localeCompare(b.name));
  const entities = [...new Set((rules.data ?? []).map((r) => r.entity))].sort();

  return (
    <>
      <PageHeader
        title="Automation"
        subtitle="Rules that act on records: when they change, on a schedule, or by hand from a record page."
        actions={
          <>
            <button
              type="button"
              className="btn"
              onClick={() => {
                void rules.reload();
                void health.reload();
              }}
            >
              Refresh
            </button>
            <Link to="/automation/new" className="btn btn-primary">
              New rule
            </Link>
          </>
        }
      />
      <HealthSummary health={health.data} problem={health.problem} onRetry={() => void health.reload()} />
      <div className="toolbar">
        <h2 className="section-title">Rules</h2>
        {entities.length > 1 ? (
          <div className="field field-inline">
            <label htmlFor="rules-entity">Entity</label>
            <select id="rules-entity" value={entityFilter} onChange={(e) => setEntityFilter(e.target.value)}>
              <option value="">All entities</option>
              {entities.map((e) => (
                <option key={e} value={e}>
                  {entityOf(catalog, e)?.displayName ?? e}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </div>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {rules.problem ? <ProblemBanner problem={rules.problem} onRetry={() => void rules.reload()} /> : null}
      {!rules.data ? (
        rules.problem ? null : (
          <Loading label="Loading the rules…" />
        )
      ) : shown.length === 0 ? (
        <EmptyState title="No rules yet">
          <p>
            <Link to="/automation/new">Create the first rule</Link>
          </p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Automation rules">
            <TableHead columns={['Name', 'Entity', 'Trigger', 'Status', 'Enabled', 'Last error']} actions="Actions" />
            <tbody>
              {shown.map((rule) => {
                const h = healthOf.get(rule.id);
                return (
                  <tr key={rule.id}>
                    <td>
                      <Link to={`/automation/${rule.id}`}>{rule.name}</Link>
                      {rule.description ? <p className="small muted automation-note">{rule.description}</p> : null}
                    </td>
                    <td>{entityOf(catalog, rule.entity)?.displayName ?? <code>{rule.entity}</code>}</td>
                    <td className="small">{triggerSummary(rule.trigger)}</td>
                    <td>
                      <StatusBadge status={rule.status} />
                      {rule.statusReason ? (
                        <p className="small muted automation-note wrap-anywhere">{rule.statusReason}</p>
                      ) : null}
                    </td>
                    <td>
                      <label className="check">
                        <input
                          type="checkbox"
                          role="switch"
                          aria-label={`Enable rule ${rule.name}`}
                          checked={rule.status === 'active'}
                          aria-checked={rule.status === 'active'}
                          disabled={busy === rule.id}
                          onChange={(e) => void setEnabled(rule, e.target.checked)}
                        />
                      </label>
                    </td>
                    <td className="small wrap-anywhere">
                      {h?.lastError ? (
                        <>
                          {h.lastError}
                          {h.lastFailedAt ? (
                            <span className="muted">
                              {' '}
                              · <Temporal kind="datetime" value={h.lastFailedAt} />
                            </span>
                          ) : null}
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="row-actions">
                      <Link to={`/automation/${rule.id}/runs`} className="btn btn-small">
                        Run log
                      </Link>
                      <button
                        type="button"
                        className="btn btn-small btn-danger"
                        aria-label={`Delete rule ${rule.name}`}
                        disabled={busy === rule.id}
                        onClick={() => void remove(rule)}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function HealthSummary({
  health,
  problem,
  onRetry,
}: {
  health: AutomationHealth | undefined;
  problem: Problem | undefined;
  onRetry(): void;
}) {
  if (problem) return <ProblemBanner problem={problem} onRetry={onRetry} />;
  if (!health) return <Loading label="Checking the rules' health…" />;
  const troubled = [
    ...health.invalid.map((r) => ({ r, what: 'invalid' as const })),
    ...health.failing.map((r) => ({ r, what: 'failing' as const })),
    ...health.disabled.map((r) => ({ r, what: 'disabled' as const })),
  ];
  return (
    <section className="card automation-health" aria-labelledby="automation-health-title">
      <h2 className="card-title" id="automation-health-title">
        Health
      </h2>
      <p className="automation-counts">
        <Badge tone={health.ok ? 'ok' : 'warn'}>{health.ok ? 'all running' : 'needs attention'}</Badge>{' '}
        <span>{health.healthy} healthy</span> · <span>{health.invalid.length} invalid</span> ·{' '}
        <span>{health.failing.length} failing</span> · <span>{health.disabled.length} disabled</span>
      </p>
      {troubled.length ? (
        <ul className="plain-list automation-troubles">
          {troubled.map(({ r, what }) => (
            <li key={`${what}:${r.id}`}>
              <Badge tone={what === 'disabled' ? 'neutral' : 'warn'}>{what}</Badge>{' '}
              <Link to={`/automation/${r.id}`}>{r.name}</Link>{' '}
              <span className="small muted">
                {r.entity}
                {what === 'failing' ? ` · ${r.failures24h} of ${r.runs24h} runs failed in 24 h` : ''}
              </span>
              {r.statusReason || r.lastError ? (
                <p className="small wrap-anywhere automation-note">
                  {r.statusReason ?? `Last error: ${r.lastError}`}
                  {r.statusReason && r.lastError ? ` · last error: ${r.lastError}` : ''}
                </p>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
