/**
 * Import activities from a mailbox (mbox), calendar (.ics) or CSV export: the file is uploaded as
 * the body of POST /api/activities/import (its upload's progress shown), then the import job it
 * answers is followed every 500 ms (GET /api/jobs/{id}: bytes read, activities imported, problems)
 * until it ends.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { toProblem } from '../api.ts';
import { Badge, Field, PageHeader, ProblemBanner } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { mapErrors } from '../forms.ts';
import { Link, useTitle } from '../router.tsx';
import { useMe } from '../security/session.tsx';
import type { JobState, Problem } from '../types.ts';
import { relationshipsApi, type Upload, uploadImport } from './api.ts';
import type { ImportFormat, ImportJob } from './types.ts';

const FORMATS: readonly { id: ImportFormat; label: string; extensions: readonly string[]; type: string }[] = [
  { id: 'mbox', label: 'Mailbox (mbox)', extensions: ['mbox', 'mbx'], type: 'application/mbox' },
  {
    id: 'ics',
    label: 'Calendar (iCalendar .ics)',
    extensions: ['ics', 'ical', 'icalendar', 'ifb'],
    type: 'text/calendar',
  },
  { id: 'csv', label: 'CSV', extensions: ['csv'], type: 'text/csv' },
];
const POLL_MS = 500;

/** The format a file's name (or type) says it is in. */
function guessFormat(file: File): ImportFormat | undefined {
  const extension = file.name.toLowerCase().split('.').pop() ?? '';
  return (FORMATS.find((f) => f.extensions.includes(extension)) ?? FORMATS.find((f) => f.type === file.type))?.id;
}

/** Whether a job is over: succeeded, dead, or failed with no attempt left. */
const ended = (job: ImportJob) =>
  job.state === 'succeeded' || job.state === 'dead' || (job.state === 'failed' && job.attempts >= job.maxAttempts);

const STATE_TONES: Readonly<Record<JobState, 'ok' | 'warn' | 'info' | 'neutral'>> = {
  queued: 'neutral',
  running: 'info',
  succeeded: 'ok',
  failed: 'warn',
  dead: 'warn',
};

export function ImportPage() {
  useTitle('Import activities');
  const me = useMe();
  const [file, setFile] = useState<File>();
  // a new key empties the file input (its value cannot be set)
  const [fileKey, setFileKey] = useState(0);
  const [format, setFormat] = useState<ImportFormat>('csv');
  const [own, setOwn] = useState(me.user?.email ?? '');
  const [regarding, setRegarding] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [sent, setSent] = useState<{ bytes: number; total: number }>();
  const [job, setJob] = useState<ImportJob>();
  const upload = useRef<Upload>(undefined);
  const uploading = sent !== undefined && job === undefined && !problem;
  const { byKey, unmapped } = mapErrors(problem, (path) =>
    ['format', 'own', 'regarding'].find((key) => path.split('/').includes(key)),
  );

  useEffect(() => () => upload.current?.abort(), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) {
      setProblem({ title: 'Choose a file to import', status: 0 });
      return;
    }
    setProblem(undefined);
    setJob(undefined);
    setSent({ bytes: 0, total: file.size });
    const addresses = own.split(/[,;\s]+/).filter(Boolean);
    const request = { format, own: addresses, regarding: regarding.trim() || undefined };
    upload.current = uploadImport(file, request, (bytes, total) => setSent({ bytes, total }));
    try {
      setJob(await upload.current.done);
    } catch (error) {
      setProblem(toProblem(error));
      setSent(undefined);
    } finally {
      upload.current = undefined;
    }
  };

  const reset = () => {
    setJob(undefined);
    setSent(undefined);
    setProblem(undefined);
    setFile(undefined);
    setFileKey((k) => k + 1);
  };

  return (
    <>
      <PageHeader
        title="Import activities"
        subtitle="Emails from a mailbox export (mbox), meetings from a calendar (.ics), any activity from a CSV file."
      />
      <form className="form card rel-import-form" onSubmit={submit} noValidate aria-label="Import a file">
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <div className="form-grid">
          <Field
            label="File"
            required
            className="span-2"
            hint="CSV columns: kind, direction, subject, body, occurred_at, duration_minutes, from, to, cc, attendees…"
          >
            {(c) => (
              <input
                key={fileKey}
                id={c.id}
                type="file"
                accept=".mbox,.mbx,.ics,.ical,.csv,text/csv,text/calendar,application/mbox"
                aria-describedby={c.describedBy}
                disabled={uploading}
                onChange={(e) => {
                  const chosen = e.target.files?.[0];
                  setFile(chosen);
                  const guessed = chosen ? guessFormat(chosen) : undefined;
                  if (guessed) setFormat(guessed);
                }}
              />
            )}
          </Field>
          <Field label="Format" required error={byKey.get('format')} hint="Guessed from the file's name.">
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={format}
                disabled={uploading}
                onChange={(e) => setFormat(e.target.value as ImportFormat)}
              >
                {FORMATS.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Your addresses"
            error={byKey.get('own')}
            hint="Comma-separated: mail from them is outbound, mail to them inbound."
          >
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={own}
                disabled={uploading}
                onChange={(e) => setOwn(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Regarding (optional)"
            error={byKey.get('regarding')}
            hint="entity:id of a record every imported activity is about, e.g. partner:1b2c…"
            className="span-2"
          >
            {(c) => (
              <input
                id={c.id}
                className="mono"
                spellCheck={false}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={regarding}
                disabled={uploading}
                onChange={(e) => setRegarding(e.target.value)}
              />
            )}
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={uploading || (job && !ended(job))}>
            {uploading ? 'Uploading…' : 'Import'}
          </button>
          {uploading ? (
            <button type="button" className="btn" onClick={() => upload.current?.abort()}>
              Cancel upload
            </button>
          ) : null}
          {job && ended(job) ? (
            <button type="button" className="btn" onClick={reset}>
              Import another file
            </button>
          ) : null}
        </div>
        {sent ? <UploadProgress bytes={sent.bytes} total={sent.total} /> : null}
      </form>
      {job ? <JobProgress key={job.id} initial={job} onUpdate={setJob} /> : null}
    </>
  );
}

const bytesFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${bytesFormat.format(bytes / 1024)} KB`;
  return `${bytesFormat.format(bytes / (1024 * 1024))} MB`;
}

function UploadProgress({ bytes, total }: { bytes: number; total: number }) {
  return (
    <div className="rel-progress">
      <label className="small" htmlFor="import-upload">
        Upload: {size(bytes)} of {size(total)}
      </label>
      <progress id="import-upload" max={Math.max(total, 1)} value={Math.min(bytes, total)} />
    </div>
  );
}

/** Follows the import job until it ends, reporting each answer to the page. */
function JobProgress({ initial, onUpdate }: { initial: ImportJob; onUpdate(job: ImportJob): void }) {
  const [job, setJob] = useState(initial);
  const [problem, setProblem] = useState<Problem>();
  const over = ended(job);

  useEffect(() => {
    if (over || problem) return;
    const timer = window.setTimeout(async () => {
      try {
        const next = await relationshipsApi.job(job.id);
        setJob(next);
        onUpdate(next);
      } catch (error) {
        setProblem(toProblem(error));
      }
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [job, over, problem, onUpdate]);

  const p = job.progress;
  return (
    <section className="card rel-import-job" aria-labelledby="import-job-title">
      <div className="rel-card-head">
        <h2 className="card-title" id="import-job-title">
          Import job <span className="mono small">#{job.id}</span>
        </h2>
        <Badge tone={STATE_TONES[job.state] ?? 'neutral'}>{job.state}</Badge>
      </div>
      {problem ? <ProblemBanner problem={problem} onRetry={() => setProblem(undefined)} /> : null}
      {p ? (
        <div className="rel-progress">
          <label className="small" htmlFor="import-read">
            Read {size(p.bytes)} of {size(p.totalBytes)}
          </label>
          <progress id="import-read" max={Math.max(p.totalBytes, 1)} value={Math.min(p.bytes, p.totalBytes)} />
        </div>
      ) : !over ? (
        <p className="muted small">Waiting for the job to start…</p>
      ) : null}
      <dl className="rel-counters">
        <div>
          <dt>Imported</dt>
          <dd>{p?.imported ?? 0}</dd>
        </div>
        <div>
          <dt>Problems</dt>
          <dd>{p?.problems ?? 0}</dd>
        </div>
        <div>
          <dt>Attempt</dt>
          <dd>
            {job.attempts} of {job.maxAttempts}
          </dd>
        </div>
      </dl>
      <p className="rel-import-status" role="status">
        {statusText(job)}
      </p>
      {job.lastError && !over ? (
        <p className="small">
          Last error: {job.lastError} · next attempt <Temporal kind="datetime" value={job.runAt} />
        </p>
      ) : null}
      {over && job.state !== 'succeeded' && job.lastError ? <ProblemBanner problem={failure(job)} /> : null}
      {p?.problemSamples?.length ? (
        <details className="rel-import-problems">
          <summary>Problems ({p.problems})</summary>
          <ul className="small">
            {p.problemSamples.map((text, i) => (
              <li key={i}>{text}</li>
            ))}
          </ul>
        </details>
      ) : null}
      {over && job.state === 'succeeded' ? (
        <p className="small">
          <Link to="/data/activity">See the activities</Link>
        </p>
      ) : null}
    </section>
  );
}

function statusText(job: ImportJob): string {
  const p = job.progress;
  const counts = p ? `${p.imported} imported, ${p.problems} problem${p.problems === 1 ? '' : 's'}` : '';
  if (job.state === 'succeeded' || p?.done) return `Done: ${counts || 'nothing imported'}.`;
  if (job.state === 'dead' || ended(job)) return `The import failed${counts ? ` (${counts})` : ''}.`;
  if (job.state === 'failed') return `The import failed; it will be tried again${counts ? ` (${counts} so far)` : ''}.`;
  if (job.state === 'queued') return 'Queued…';
  return `Importing…${counts ? ` ${counts}` : ''}`;
}

function failure(job: ImportJob): Problem {
  return { title: `The import job is ${job.state}`, status: 0, detail: job.lastError ?? undefined };
}
