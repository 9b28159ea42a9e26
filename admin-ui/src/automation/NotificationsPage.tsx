/** Your notifications from automation rules, newest first: mark one or all read. */
import { useCallback, useEffect, useState } from 'react';
import { toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Loading, PageHeader, ProblemBanner } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { useTitle } from '../router.tsx';
import type { Problem } from '../types.ts';
import { automationApi, notificationsChanged } from './api.ts';
import { RecordLink, useRecordLabels } from './describe.tsx';
import type { Notification } from './types.ts';

export function NotificationsPage() {
  useTitle('Notifications');
  const { toast } = useOverlays();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [items, setItems] = useState<Notification[]>();
  const [unread, setUnread] = useState(0);
  const [cursor, setCursor] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const labels = useRecordLabels(items?.map((n) => ({ entity: n.entity, id: n.recordId })) ?? []);

  const load = useCallback(
    async (after?: string) => {
      setBusy(true);
      try {
        const page = await automationApi.notifications({ unread: unreadOnly || undefined, limit: 50, cursor: after });
        setItems((list) => (after ? [...(list ?? []), ...page.data] : page.data));
        setUnread(page.unread);
        setCursor(page.nextCursor);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      } finally {
        setBusy(false);
      }
    },
    [unreadOnly],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    try {
      await action();
      notificationsChanged();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const markRead = (n: Notification) =>
    act(async () => {
      const next = await automationApi.markRead(n.id);
      setItems((list) =>
        unreadOnly ? list?.filter((x) => x.id !== n.id) : list?.map((x) => (x.id === n.id ? next : x)),
      );
      setUnread((u) => Math.max(0, u - (n.read ? 0 : 1)));
    });

  const markAll = () =>
    act(async () => {
      const { read } = await automationApi.markAllRead();
      toast(`${read} notification${read === 1 ? '' : 's'} marked read`);
      setItems((list) => (unreadOnly ? [] : list?.map((x) => ({ ...x, read: true }))));
      setUnread(0);
    });

  return (
    <>
      <PageHeader
        title="Notifications"
        subtitle={`What automation rules told you. ${unread} unread.`}
        actions={
          <>
            <label className="check">
              <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} />
              Unread only
            </label>
            <button type="button" className="btn" disabled={busy || unread === 0} onClick={() => void markAll()}>
              Mark all read
            </button>
          </>
        }
      />
      {problem ? <ProblemBanner problem={problem} onRetry={() => void load()} /> : null}
      {!items ? (
        problem ? null : (
          <Loading label="Loading the notifications…" />
        )
      ) : items.length === 0 ? (
        <EmptyState title={unreadOnly ? 'No unread notifications' : 'No notifications yet'} />
      ) : (
        <ul className="plain-list notification-list" aria-label="Notifications">
          {items.map((n) => (
            <li key={n.id} className={`card notification${n.read ? '' : ' notification-unread'}`}>
              <div className="notification-body">
                <p className="notification-text">
                  {n.read ? null : <Badge tone="info">new</Badge>} {n.text}
                </p>
                <p className="small muted">
                  <Temporal kind="datetime" value={n.createdAt} />
                  {n.recordId ? (
                    <>
                      {' · '}
                      <RecordLink entity={n.entity} id={n.recordId} labels={labels} />
                    </>
                  ) : null}
                </p>
              </div>
              {n.read ? null : (
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={busy}
                  aria-label={`Mark read: ${n.text}`}
                  onClick={() => void markRead(n)}
                >
                  Mark read
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {cursor ? (
        <button type="button" className="btn" disabled={busy} onClick={() => void load(cursor)}>
          Load more
        </button>
      ) : null}
    </>
  );
}
