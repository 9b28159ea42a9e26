/**
 * The header's bell: how many notifications are unread (GET /api/notifications?unread=true), read
 * again on every page change, every 30 s, when the window regains focus and when a page says so.
 */
import { useCallback, useEffect, useState } from 'react';
import { Link, useLocation } from '../router.tsx';
import { useSession } from '../security/session.tsx';
import { automationApi, NOTIFICATIONS_CHANGED } from './api.ts';

const POLL_MS = 30_000;

export function NotificationBell() {
  const { path } = useLocation();
  const [unread, setUnread] = useState<number>();
  // a session that ended keeps the app mounted (hidden): no requests until someone signs in again
  const signedIn = useSession().state.status === 'signed-in';

  const refresh = useCallback(async () => {
    if (!signedIn) return;
    try {
      setUnread((await automationApi.notifications({ unread: true, limit: 1 })).unread);
    } catch {
      // the count stays as it was; the next refresh tries again
    }
  }, [signedIn]);

  // read again on every page change (a path is never empty)
  useEffect(() => {
    if (path) void refresh();
  }, [refresh, path]);

  useEffect(() => {
    const onChange = () => void refresh();
    const timer = window.setInterval(onChange, POLL_MS);
    window.addEventListener(NOTIFICATIONS_CHANGED, onChange);
    window.addEventListener('focus', onChange);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener(NOTIFICATIONS_CHANGED, onChange);
      window.removeEventListener('focus', onChange);
    };
  }, [refresh]);

  const count = unread ?? 0;
  return (
    <Link
      to="/notifications"
      className={`notification-bell${count ? ' has-unread' : ''}`}
      aria-label={count ? `Notifications, ${count} unread` : 'Notifications'}
      aria-current={path === '/notifications' ? 'page' : undefined}
    >
      <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
        <path
          fill="currentColor"
          d={
            'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5' +
            'a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z'
          }
        />
      </svg>
      {count ? (
        <span className="notification-count" aria-hidden="true">
          {count > 99 ? '99+' : count}
        </span>
      ) : null}
    </Link>
  );
}
