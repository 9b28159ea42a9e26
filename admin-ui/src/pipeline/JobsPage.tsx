/**
 * The durable job queue: how many jobs are in each state (the tabs filter by it), the jobs newest
 * first, and a retry for the failed and dead ones.
 */
import { useCallback, useEffect, useState } from 'react';
import { api, toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Loading, PageHeader, ProblemBanner, TableHead, Tabs } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { useLocation, useTitle } from '../router.tsx';
import type { Job, JobState, JobSummary, Problem } from '../types.ts';

const STATES: JobState[] = ['queued', 'running', 'failed', 'dead', 'succeeded'];
const LABELS: Record<JobState, string> = {
  queued: 'Queued',
  running: 'Running',
  failed: 'Failed',
  dead: 'Dead',
  succeeded: 'Succeeded',
};
const TONES: Record<JobState, 'neutral' | 'info' | 'warn' | 'ok'> = {
  queued: 'neutral',
  running: 'info',
  failed: 'warn',
  dead: 'warn',
  succeeded: 'ok',
};

export function JobsPage() {
  useTitle('Jobs');
  const { search } = useLocation();
  const param = search.get('state');
  const state = STATES.includes(param as JobState) ? (param as JobState) : undefined;
  return <JobsList key={state ?? 'all'} state={state} />;
}

function JobsList({ state }: { state?: JobState }) {
  const { toast } = useOverlays();
  const [summary, setSummary] = useState<JobSummary>();
  const [jobs, setJobs] = useState<Job[]>();
  const [cursor, setCursor] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const [counts, page] = await Promise.all([api.jobSummary(), api.jobs({ state, limit: 50 })]);
      setSummary(counts);
      setJobs(page.data);
      setCursor(page.nextCursor);
      setProblem(undefined);
    } catch (error) {
      setProblem(toProblem(error));
    }
  }, [state]);

  useEffect(() => {
    void load();
  }, [load]);

  const more = async () => {
    setBusy(true);
    try {
      const page = await api.jobs({ state, limit: 50, cursor });
      setJobs((list) => [...(list ?? []), ...page.data]);
      setCursor(page.nextCursor);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const retry = async (job: Job) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await api.retryJob(job.id);
      toast(`Job ${job.id} queued again`);
      await load();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const total = summary ? STATES.reduce((n, s) => n + (summary[s] ?? 0), 0) : undefined;
  const count = (n: number | undefined) => (n === undefined ? '' : ` (${n})`);
  const tabs = [
    { id: 'all', label: `All${count(total)}`, to: '/jobs' },
    ...STATES.map((s) => ({ id: s, label: `${LABELS[s]}${count(summary?.[s])}`, to: `/jobs?state=${s}` })),
  ];

  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle="Async plugin steps and webhook deliveries, newest first."
        actions={
          <button type="button" className="btn" onClick={() => void load()}>
            Refresh
          </button>
        }
      />
      <Tabs tabs={tabs} current={state ?? 'all'} label="Job states" />
      <section id="tabpanel" role="tabpanel" aria-labelledby={`tab-${state ?? 'all'}`} className="tabpanel">
        {problem ? <ProblemBanner problem={problem} onRetry={() => void load()} /> : null}
        {!jobs ? (
          problem ? null : (
            <Loading label="Loading the jobs…" />
          )
        ) : jobs.length === 0 ? (
          <EmptyState title={state ? `No ${state} jobs` : 'No jobs yet'} />
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Jobs">
              <TableHead
                columns={[
                  'Id',
                  'Kind',
                  'Target',
                  'State',
                  { label: 'Attempts', numeric: true },
                  'Last error',
                  'Created',
                ]}
                actions="Actions"
              />
              <tbody>
                {jobs.map((j) => (
                  <tr key={j.id}>
                    <td className="mono small">{j.id}</td>
                    <td>{j.kind}</td>
                    <td className="mono small">{j.target}</td>
                    <td>
                      <Badge tone={TONES[j.state]}>{j.state}</Badge>
                    </td>
                    <td className="num">
                      {j.attempts}/{j.maxAttempts}
                    </td>
                    <td className="small wrap-anywhere">{j.lastError ?? <span className="muted">—</span>}</td>
                    <td className="small">
                      <Temporal kind="datetime" value={j.createdAt} />
                    </td>
                    <td className="row-actions">
                      {j.state === 'failed' || j.state === 'dead' ? (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={busy}
                          aria-label={`Retry job ${j.id}`}
                          onClick={() => void retry(j)}
                        >
                          Retry
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {cursor ? (
          <button type="button" className="btn" disabled={busy} onClick={() => void more()}>
            Load more
          </button>
        ) : null}
      </section>
    </>
  );
}
