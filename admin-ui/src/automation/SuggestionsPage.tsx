/**
 * The suggestions inbox: what rules propose for your records (every one's, with the metadata
 * privilege and "Everyone's"), filtered by status, each approved or dismissed in place.
 */
import { useCallback, useEffect, useState } from 'react';
import { toProblem } from '../api.ts';
import { EmptyState, Loading, PageHeader, ProblemBanner, Tabs } from '../components/ui.tsx';
import { setQuery, useLocation, useTitle } from '../router.tsx';
import { useCan } from '../security/session.tsx';
import type { Problem } from '../types.ts';
import { automationApi } from './api.ts';
import { useRecordLabels } from './describe.tsx';
import { SuggestionCard } from './SuggestionCard.tsx';
import type { Suggestion, SuggestionStatus } from './types.ts';

type Filter = SuggestionStatus | 'all';
const FILTERS: { id: Filter; label: string }[] = [
  { id: 'pending', label: 'Pending' },
  { id: 'approved', label: 'Approved' },
  { id: 'dismissed', label: 'Dismissed' },
  { id: 'failed', label: 'Failed' },
  { id: 'all', label: 'All' },
];

export function SuggestionsPage() {
  useTitle('Suggestions');
  const { search } = useLocation();
  const can = useCan();
  const param = search.get('status');
  const status = FILTERS.some((f) => f.id === param) ? (param as Filter) : 'pending';
  const everyone = can.metadata && search.get('all') === 'true';
  const to = (s: Filter) => `/suggestions?status=${s}${everyone ? '&all=true' : ''}`;
  return (
    <>
      <PageHeader
        title="Suggestions"
        subtitle="What automation rules propose for your records: approve to run the actions as you, or dismiss."
        actions={
          can.metadata ? (
            <label className="check">
              <input
                type="checkbox"
                checked={everyone}
                onChange={(e) => setQuery({ all: e.target.checked ? 'true' : undefined })}
              />
              Everyone's
            </label>
          ) : undefined
        }
      />
      <Tabs tabs={FILTERS.map((f) => ({ ...f, to: to(f.id) }))} current={status} label="Suggestion status" />
      <section id="tabpanel" role="tabpanel" aria-labelledby={`tab-${status}`} className="tabpanel">
        <SuggestionList key={`${status}:${everyone}`} status={status} everyone={everyone} />
      </section>
    </>
  );
}

function SuggestionList({ status, everyone }: { status: Filter; everyone: boolean }) {
  const [items, setItems] = useState<Suggestion[]>();
  const [cursor, setCursor] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const labels = useRecordLabels(items?.map((s) => ({ entity: s.entity, id: s.recordId })) ?? []);

  const load = useCallback(
    async (after?: string) => {
      setBusy(true);
      try {
        const page = await automationApi.suggestions({
          status,
          all: everyone || undefined,
          limit: 50,
          cursor: after,
        });
        setItems((list) => (after ? [...(list ?? []), ...page.data] : page.data));
        setCursor(page.nextCursor);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      } finally {
        setBusy(false);
      }
    },
    [status, everyone],
  );

  useEffect(() => {
    void load();
  }, [load]);

  if (problem) return <ProblemBanner problem={problem} onRetry={() => void load()} />;
  if (!items) return <Loading label="Loading the suggestions…" />;
  if (!items.length) return <EmptyState title={status === 'all' ? 'No suggestions yet' : `No ${status} suggestions`} />;
  return (
    <>
      <ul className="plain-list suggestion-list">
        {items.map((s) => (
          <li key={s.id}>
            <SuggestionCard
              suggestion={s}
              labels={labels}
              onDecided={(next) =>
                setItems((list) =>
                  // a decided suggestion leaves the pending list; other lists show its new state
                  status === 'pending'
                    ? list?.filter((x) => x.id !== next.id)
                    : list?.map((x) => (x.id === next.id ? next : x)),
                )
              }
            />
          </li>
        ))}
      </ul>
      {cursor ? (
        <button type="button" className="btn" disabled={busy} onClick={() => void load(cursor)}>
          Load more
        </button>
      ) : null}
    </>
  );
}
