/** A rule's run log, newest first: when, what started it, the record, the outcome, how long, why it failed. */
import { useCallback, useEffect, useState } from 'react';
import { toProblem } from '../api.ts';
import { Badge, EmptyState, Loading, ProblemBanner, TableHead } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import type { Problem } from '../types.ts';
import { automationApi } from './api.ts';
import { ActionList, OUTCOME_TONE, RecordLink, useRecordLabels } from './describe.tsx';
import type { Rule, Run, RunOutcome } from './types.ts';

const OUTCOMES: RunOutcome[] = ['succeeded', 'failed', 'suggested', 'skipped'];

export function RunLog({ rule }: { rule: Rule }) {
  const [runs, setRuns] = useState<Run[]>();
  const [cursor, setCursor] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<RunOutcome | ''>('');
  const labels = useRecordLabels(runs?.map((r) => ({ entity: r.entity, id: r.recordId })) ?? []);

  const load = useCallback(
    async (after?: string) => {
      setBusy(true);
      try {
        const page = await automationApi.runs(rule.id, { limit: 50, cursor: after, ...(outcome ? { outcome } : {}) });
        setRuns((list) => (after ? [...(list ?? []), ...page.data] : page.data));
        setCursor(page.nextCursor);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      } finally {
        setBusy(false);
      }
    },
    [rule.id, outcome],
  );

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <div className="toolbar">
        <h2 className="section-title">Runs</h2>
        <div className="field field-inline">
          <label htmlFor="run-outcome">Outcome</label>
          <select id="run-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as RunOutcome | '')}>
            <option value="">All</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </div>
        <span className="spacer" />
        <button type="button" className="btn btn-small" disabled={busy} onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {problem ? <ProblemBanner problem={problem} onRetry={() => void load()} /> : null}
      {!runs ? (
        problem ? null : (
          <Loading label="Loading the runs…" />
        )
      ) : runs.length === 0 ? (
        <EmptyState title={outcome ? `No ${outcome} runs` : 'No runs yet'} />
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Run log">
            <TableHead
              columns={[
                'Time',
                'Trigger',
                'Record',
                'Outcome',
                { label: 'Duration', numeric: true },
                'Error',
                'Details',
              ]}
            />
            <tbody>
              {runs.map((run) => (
                <tr key={run.id}>
                  <td className="small">
                    <Temporal kind="datetime" value={run.createdAt} />
                  </td>
                  <td>
                    {run.trigger}
                    {run.actor ? <p className="small muted automation-note">as {run.actor}</p> : null}
                  </td>
                  <td>
                    <RecordLink entity={run.entity} id={run.recordId} labels={labels} />
                  </td>
                  <td>
                    <Badge tone={OUTCOME_TONE[run.outcome]}>{run.outcome}</Badge>
                  </td>
                  <td className="num">{run.durationMs} ms</td>
                  <td className="small wrap-anywhere">{run.error ?? <span className="muted">—</span>}</td>
                  <td className="small">
                    <RunDetail run={run} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor ? (
        <button type="button" className="btn" disabled={busy} onClick={() => void load(cursor)}>
          Load more
        </button>
      ) : null}
    </>
  );
}

function RunDetail({ run }: { run: Run }) {
  const d = run.detail;
  if (!d) return <span className="muted">—</span>;
  if (d.matched !== undefined || d.queued !== undefined)
    return (
      <span>
        {d.matched ?? 0} matched · {d.queued ?? 0} queued
      </span>
    );
  if (!d.actions?.length) return <span className="muted">—</span>;
  return (
    <details>
      <summary>
        {d.actions.length} action{d.actions.length === 1 ? '' : 's'}
      </summary>
      <ActionList actions={d.actions} recordId={run.recordId ?? undefined} label="What the actions did" />
    </details>
  );
}
