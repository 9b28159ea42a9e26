/**
 * A tracked record's timeline: the activities regarding or involving it, newest first (kind,
 * direction, subject, when, parties), paged with "Load more".
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { toProblem } from '../api.ts';
import { useRecordLabels } from '../automation/describe.tsx';
import { Badge, EmptyState, Loading, ProblemBanner } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { Link } from '../router.tsx';
import type { Problem } from '../types.ts';
import { relationshipsApi } from './api.ts';
import { DIRECTION_LABELS, KindLabel, PartyList } from './parts.tsx';
import type { Activity } from './types.ts';

const PAGE = 20;

export function Timeline({ entity, id }: { entity: string; id: string }) {
  const [items, setItems] = useState<Activity[]>();
  const [cursor, setCursor] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [loadingMore, setLoadingMore] = useState(false);
  // the records the parties resolved to, by name
  const refs = useMemo(() => (items ?? []).flatMap((a) => a.parties ?? []), [items]);
  const labels = useRecordLabels(refs);

  const load = useCallback(
    async (after?: string) => {
      try {
        const page = await relationshipsApi.timeline(entity, id, { limit: PAGE, cursor: after });
        setItems((list) => (after ? [...(list ?? []), ...page.data] : page.data));
        setCursor(page.nextCursor);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      }
    },
    [entity, id],
  );

  useEffect(() => {
    void load();
  }, [load]);

  if (problem) return <ProblemBanner problem={problem} onRetry={() => void load()} />;
  if (!items) return <Loading label="Loading the timeline…" />;
  if (!items.length) return <EmptyState title="No activities yet" />;
  return (
    <>
      <ol className="plain-list rel-timeline-list" aria-label="Activities, newest first">
        {items.map((a) => (
          <TimelineItem key={a.id} activity={a} labels={labels} />
        ))}
      </ol>
      {cursor ? (
        <button
          type="button"
          className="btn"
          disabled={loadingMore}
          onClick={async () => {
            setLoadingMore(true);
            await load(cursor);
            setLoadingMore(false);
          }}
        >
          {loadingMore ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
    </>
  );
}

function TimelineItem({ activity: a, labels }: { activity: Activity; labels: Map<string, string> }) {
  const subject = a.subject?.trim() || '(no subject)';
  return (
    <li className="rel-activity" aria-label={`${a.kind} ${a.direction}: ${subject}`}>
      <div className="rel-activity-head">
        <KindLabel kind={a.kind} />
        <Badge tone={a.direction === 'inbound' ? 'info' : a.direction === 'outbound' ? 'ok' : 'neutral'}>
          {DIRECTION_LABELS[a.direction] ?? a.direction}
        </Badge>
        <Link to={`/data/activity/${a.id}`} className="strong rel-activity-subject">
          {subject}
        </Link>
        <span className="muted small rel-activity-when">
          <Temporal kind="datetime" value={a.occurred_at} />
          {a.duration_minutes ? ` · ${a.duration_minutes} min` : ''}
        </span>
      </div>
      {a.parties?.length ? <PartyList value={a.parties} labels={labels} /> : null}
      {a.body ? <p className="muted small rel-activity-body">{excerpt(a.body)}</p> : null}
    </li>
  );
}

const excerpt = (text: string) => (text.length > 240 ? `${text.slice(0, 240)}…` : text);
