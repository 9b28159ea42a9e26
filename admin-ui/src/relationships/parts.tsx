/**
 * The relationship layer in words, shared by its pages and by value displays: health bands,
 * activity kinds and directions, today's reasons, and the values of `reference` and `partyList`
 * fields (links to the records they name).
 */
import { RecordLink } from '../automation/describe.tsx';
import { Badge } from '../components/ui.tsx';
import { isRef, partiesOf } from './text.ts';
import type { ActivityDirection, ActivityKind, HealthBand, TodayReasonKind } from './types.ts';

export const HEALTH_LABELS: Readonly<Record<HealthBand, string>> = {
  very_strong: 'Very strong',
  strong: 'Strong',
  moderate: 'Moderate',
  weak: 'Weak',
  very_weak: 'Very weak',
  none: 'None',
};

const HEALTH_TONES: Readonly<Record<HealthBand, 'ok' | 'info' | 'warn' | 'neutral'>> = {
  very_strong: 'ok',
  strong: 'ok',
  moderate: 'info',
  weak: 'warn',
  very_weak: 'warn',
  none: 'neutral',
};

const isHealth = (value: unknown): value is HealthBand =>
  typeof value === 'string' && Object.hasOwn(HEALTH_LABELS, value);

/** A health band as a badge (an unknown value as it is). */
export function HealthBadge({ health }: { health: unknown }) {
  if (!isHealth(health)) return <Badge>{String(health ?? '—')}</Badge>;
  return <Badge tone={HEALTH_TONES[health]}>{HEALTH_LABELS[health]}</Badge>;
}

export const KIND_LABELS: Readonly<Record<ActivityKind, string>> = {
  email: 'Email',
  call: 'Call',
  meeting: 'Meeting',
  note: 'Note',
  task: 'Task',
};

const KIND_ICONS: Readonly<Record<ActivityKind, string>> = {
  email: '✉',
  call: '☎',
  meeting: '◎',
  note: '✎',
  task: '☑',
};

export const DIRECTION_LABELS: Readonly<Record<ActivityDirection, string>> = {
  inbound: 'Inbound',
  outbound: 'Outbound',
  internal: 'Internal',
};

/** An activity's kind: its icon (decorative) and its name. */
export function KindLabel({ kind }: { kind: ActivityKind }) {
  return (
    <span className={`rel-kind rel-kind-${kind}`}>
      <span className="rel-kind-icon" aria-hidden="true">
        {KIND_ICONS[kind] ?? '•'}
      </span>
      {KIND_LABELS[kind] ?? kind}
    </span>
  );
}

export const REASON_LABELS: Readonly<Record<TodayReasonKind, string>> = {
  drift: 'Reply overdue',
  meeting_follow_up: 'Meeting follow-up',
  at_risk: 'At risk',
  stale: 'Stale',
};

/** A `reference` value: a link to the record's page. */
export function ReferenceLink({ value }: { value: unknown }) {
  if (!isRef(value)) return <span className="mono">{JSON.stringify(value)}</span>;
  return <RecordLink entity={value.entity} id={value.id} />;
}

/** A `partyList` value: "role: address → linked record", one party a line (`labels`: records' names). */
export function PartyList({
  value,
  label = 'Parties',
  labels,
}: {
  value: unknown;
  label?: string;
  labels?: Map<string, string>;
}) {
  const parties = partiesOf(value);
  if (!parties.length) return <span className="muted">—</span>;
  return (
    <ul className="rel-parties" aria-label={label}>
      {parties.map((p, i) => (
        <li key={`${p.role}:${p.address ?? p.name ?? ''}:${i}`}>
          <span className="rel-party-role">{p.role}:</span>{' '}
          <span title={p.name && p.address ? p.name : undefined}>{p.address || p.name || '—'}</span>
          {p.entity && p.id ? (
            <>
              {' → '}
              <RecordLink entity={p.entity} id={p.id} labels={labels} />
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
