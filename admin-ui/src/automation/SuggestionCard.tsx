/**
 * One suggestion a rule made: why, for which record, what it proposes; approve (the actions run as
 * you, in one transaction) or dismiss while it is pending; what happened once decided.
 */
import { useId, useState } from 'react';
import { toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, ProblemBanner } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { Link } from '../router.tsx';
import { useCan } from '../security/session.tsx';
import type { Problem } from '../types.ts';
import { automationApi, notificationsChanged } from './api.ts';
import { ActionList, RecordLink } from './describe.tsx';
import type { ActionResult, Suggestion, SuggestionStatus } from './types.ts';

const TONE: Record<SuggestionStatus, 'info' | 'ok' | 'neutral' | 'warn'> = {
  pending: 'info',
  approved: 'ok',
  dismissed: 'neutral',
  failed: 'warn',
};

export function SuggestionCard({
  suggestion,
  labels,
  onDecided,
  showRecord = true,
}: {
  suggestion: Suggestion;
  labels?: Map<string, string>;
  onDecided(next: Suggestion): void;
  /** Off on the record's own page. */
  showRecord?: boolean;
}) {
  const can = useCan();
  const { toast } = useOverlays();
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const s = suggestion;

  const decide = async (approve: boolean) => {
    setBusy(true);
    setProblem(undefined);
    try {
      const next = approve ? await automationApi.approve(s.id) : await automationApi.dismiss(s.id);
      toast(approve ? 'Suggestion approved: its actions ran' : 'Suggestion dismissed');
      notificationsChanged();
      onDecided(next);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const result = Array.isArray(s.result) ? (s.result as ActionResult[]) : undefined;
  return (
    <article className="card suggestion" aria-labelledby={`${id}-reason`} aria-busy={busy}>
      <div className="suggestion-head">
        <div>
          <h3 className="suggestion-reason" id={`${id}-reason`}>
            {s.reason}
          </h3>
          <p className="small muted">
            <Badge tone={TONE[s.status]}>{s.status}</Badge>{' '}
            {s.rule.name ? (
              <>
                by{' '}
                {can.metadata && s.rule.id ? <Link to={`/automation/${s.rule.id}`}>{s.rule.name}</Link> : s.rule.name}
                {' · '}
              </>
            ) : null}
            {showRecord ? (
              <>
                <RecordLink entity={s.entity} id={s.recordId} labels={labels} />
                {' · '}
              </>
            ) : null}
            <Temporal kind="datetime" value={s.createdAt} />
            {s.decidedAt ? (
              <>
                {' · decided '}
                <Temporal kind="datetime" value={s.decidedAt} />
                {s.decidedBy ? ` by ${s.decidedBy}` : ''}
              </>
            ) : null}
          </p>
        </div>
        {s.status === 'pending' ? (
          <div className="row-actions">
            <button
              type="button"
              className="btn btn-small btn-primary"
              disabled={busy}
              aria-label={`Approve: ${s.reason}`}
              onClick={() => void decide(true)}
            >
              Approve
            </button>
            <button
              type="button"
              className="btn btn-small"
              disabled={busy}
              aria-label={`Dismiss: ${s.reason}`}
              onClick={() => void decide(false)}
            >
              Dismiss
            </button>
          </div>
        ) : null}
      </div>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {s.error ? <p className="field-error wrap-anywhere">{s.error}</p> : null}
      <p className="small muted suggestion-label">{result ? 'What the actions did:' : 'Proposed actions:'}</p>
      <ActionList
        actions={result ?? s.actions}
        recordId={s.recordId}
        label={result ? 'What the actions did' : 'Proposed actions'}
      />
    </article>
  );
}
