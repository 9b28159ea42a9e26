/**
 * A record's audit trail (entities with auditEnabled): each change newest first, as
 * `message · actor · time` and its field changes `field: old → new`, paged with "Load more".
 */
import { useCallback, useEffect, useState } from 'react';
import { api, toProblem } from '../api.ts';
import { Badge, EmptyState, Loading, ProblemBanner } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import type { EntityDef, HistoryEntry, Problem } from '../types.ts';

/** A changed value in a few characters: null and absent as a dash, objects as JSON. */
function show(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'string') return value === '' ? '""' : value;
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export function RecordHistory({ entity, id }: { entity: EntityDef; id: string }) {
  const [entries, setEntries] = useState<HistoryEntry[]>();
  const [cursor, setCursor] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [loadingMore, setLoadingMore] = useState(false);

  const load = useCallback(
    async (after?: string) => {
      try {
        const page = await api.history(entity.name, id, { limit: 25, cursor: after });
        setEntries((list) => (after ? [...(list ?? []), ...page.data] : page.data));
        setCursor(page.nextCursor);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      }
    },
    [entity.name, id],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const label = (field: string) => entity.fields.find((f) => f.name === field)?.displayName ?? field;

  if (problem) return <ProblemBanner problem={problem} onRetry={() => void load()} />;
  if (!entries) return <Loading label="Loading the history…" />;
  return (
    <>
      <h2 className="section-title">Change history</h2>
      {entity.auditEnabled === false ? (
        <p className="muted small">
          Auditing is off for {entity.pluralDisplayName.toLowerCase()}: new changes are not recorded (turn it on in the
          entity’s settings).
        </p>
      ) : null}
      {entries.length === 0 ? (
        <EmptyState title="No changes recorded" />
      ) : (
        <ol className="history record-history" aria-label="Changes, newest first">
          {entries.map((e) => (
            <li key={e.id} className="history-item record-history-item">
              <p className="record-history-head">
                <Badge tone={e.message === 'delete' ? 'warn' : 'info'}>{e.message}</Badge>
                <span>
                  {' · '}
                  {e.actor}
                  {' · '}
                  <Temporal kind="datetime" value={e.at} />
                </span>
                {e.depth > 1 ? <span className="muted small"> (by a plugin step)</span> : null}
              </p>
              {e.changes.length ? (
                <ul className="plain-list record-history-changes">
                  {e.changes.map((c) => (
                    <li key={c.field}>
                      <span className="strong">{label(c.field)}</span>: <span className="mono">{show(c.old)}</span>
                      {' → '}
                      <span className="mono">{show(c.new)}</span>
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ol>
      )}
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
          Load more
        </button>
      ) : null}
    </>
  );
}
