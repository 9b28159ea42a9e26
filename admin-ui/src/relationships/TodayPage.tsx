/**
 * Today: whom to contact, ranked (GET /api/relationships/today): each record with its entity, why
 * it is listed (every reason as a chip), its strength and health. The owner is you, or one of your
 * teams.
 */
import { useCallback } from 'react';
import { EmptyState, Loading, PageHeader, ProblemBanner } from '../components/ui.tsx';
import { Link, setQuery, useLocation, useTitle } from '../router.tsx';
import { useMe } from '../security/session.tsx';
import { useResource } from '../security/use-resource.ts';
import { relationshipsApi } from './api.ts';
import { HealthBadge, REASON_LABELS } from './parts.tsx';
import type { TodayItem } from './types.ts';

const LIMIT = 20;

export function TodayPage() {
  useTitle('Today');
  const me = useMe();
  const { search } = useLocation();
  const param = search.get('owner') ?? 'me';
  const owner = me.teams.some((t) => t.id === param) ? param : 'me';
  const list = useResource(useCallback(() => relationshipsApi.today({ owner, limit: LIMIT }), [owner]));

  return (
    <>
      <PageHeader
        title="Today"
        subtitle="Whom to contact: records of tracked entities whose relationship needs attention, most urgent first."
        actions={
          me.teams.length ? (
            <div className="field field-inline">
              <label htmlFor="today-owner">Owner</label>
              <select
                id="today-owner"
                value={owner}
                onChange={(e) => setQuery({ owner: e.target.value === 'me' ? undefined : e.target.value })}
              >
                <option value="me">Me</option>
                {me.teams.map((t) => (
                  <option key={t.id} value={t.id}>
                    Team {t.name}
                  </option>
                ))}
              </select>
            </div>
          ) : undefined
        }
      />
      {list.problem ? (
        <ProblemBanner problem={list.problem} onRetry={() => void list.reload()} />
      ) : !list.data ? (
        <Loading label="Ranking your relationships…" />
      ) : !list.data.length ? (
        <EmptyState title="Nothing needs attention today">
          <p className="muted small">
            Records appear here when contact goes stale, a reply is overdue, a meeting waits for a follow-up or a
            relationship weakens fast.
          </p>
        </EmptyState>
      ) : (
        <ol className="plain-list rel-today" aria-label="Whom to contact, most urgent first">
          {list.data.map((item, i) => (
            <TodayRow key={`${item.entity}/${item.id}`} item={item} rank={i + 1} />
          ))}
        </ol>
      )}
    </>
  );
}

function TodayRow({ item, rank }: { item: TodayItem; rank: number }) {
  const name = item.name?.trim() || '(no name)';
  const strength = typeof item.signals.relationship_strength === 'number' ? item.signals.relationship_strength : 0;
  return (
    <li className="card rel-today-item" aria-label={name}>
      <span className="rel-rank" aria-hidden="true">
        {rank}
      </span>
      <div className="rel-today-main">
        <p className="rel-today-name">
          <Link to={`/data/${item.entity}/${item.id}`} className="strong">
            {name}
          </Link>{' '}
          <span className="muted small">{item.entityDisplayName}</span>
        </p>
        <ul className="rel-chips" aria-label="Reasons">
          {item.reasons.map((r) => (
            <li key={`${r.kind}:${r.text}`} className={`rel-chip rel-chip-${r.kind}`} title={REASON_LABELS[r.kind]}>
              <span className="rel-chip-kind">{REASON_LABELS[r.kind] ?? r.kind}</span> {r.text}
            </li>
          ))}
        </ul>
      </div>
      <div className="rel-today-strength">
        <span className="rel-today-score" title="Relationship strength, 0–100">
          {strength}
        </span>
        <HealthBadge health={item.signals.relationship_health} />
      </div>
    </li>
  );
}
