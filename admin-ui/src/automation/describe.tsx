/**
 * Automation in words, shared by its pages: a rule's trigger and status, an action (proposed,
 * resolved, or what it did), and links to the records rules act on, labelled by their primary field.
 */
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api.ts';
import { entityOf, useCatalog } from '../catalog.tsx';
import { Badge } from '../components/ui.tsx';
import { Link } from '../router.tsx';
import { ACTION_LABELS } from './rule-draft.ts';
import type { ActionResult, Rule, RuleStatus, RunOutcome } from './types.ts';

export function triggerSummary(trigger: Rule['trigger']): string {
  switch (trigger.type) {
    case 'event': {
      const on = (trigger.messages ?? ['create', 'update']).join(', ');
      return trigger.changed?.length ? `On ${on} (when ${trigger.changed.join(', ')} change)` : `On ${on}`;
    }
    case 'schedule':
      return `Schedule ${trigger.cron ?? ''} (${trigger.timeZone ?? 'UTC'})`;
    case 'manual':
      return 'By hand, from a record page';
  }
}

export const STATUS_TONE: Record<RuleStatus, 'ok' | 'warn' | 'neutral'> = {
  active: 'ok',
  disabled: 'neutral',
  invalid: 'warn',
};

export const OUTCOME_TONE: Record<RunOutcome, 'ok' | 'warn' | 'neutral' | 'info'> = {
  succeeded: 'ok',
  failed: 'warn',
  skipped: 'neutral',
  suggested: 'info',
};

export function StatusBadge({ status }: { status: RuleStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{status}</Badge>;
}

/** "…/1b2c3d4e" for an id without a label. */
export const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

/**
 * Labels (primary field values) of records, fetched per entity in one request each; a record
 * that cannot be read keeps its short id.
 */
export function useRecordLabels(refs: readonly { entity?: string | null; id?: string | null }[]): Map<string, string> {
  const catalog = useCatalog();
  const [labels, setLabels] = useState<Map<string, string>>(new Map());
  const wanted = useMemo(() => {
    const byEntity = new Map<string, Set<string>>();
    for (const r of refs) {
      if (!r.entity || !r.id || !entityOf(catalog, r.entity)) continue;
      byEntity.set(r.entity, (byEntity.get(r.entity) ?? new Set()).add(r.id));
    }
    return JSON.stringify(
      [...byEntity].map(([e, ids]) => [e, entityOf(catalog, e)!.primaryField, [...ids].sort().slice(0, 200)] as const),
    );
  }, [refs, catalog]);

  useEffect(() => {
    let cancelled = false;
    const groups = JSON.parse(wanted) as [string, string, string[]][];
    void Promise.all(
      groups.map(async ([name, primary, ids]) => {
        try {
          const page = await api.list(name, {
            select: primary,
            filter: JSON.stringify({ id: { in: ids } }),
            limit: ids.length,
          });
          return page.data.map((r) => [`${name}/${r.id}`, String(r[primary] ?? r.id)] as const);
        } catch {
          return [];
        }
      }),
    ).then((lists) => {
      if (!cancelled) setLabels(new Map(lists.flat()));
    });
    return () => {
      cancelled = true;
    };
  }, [wanted]);
  return labels;
}

/** A link to a record's page, labelled by its primary field when known. */
export function RecordLink({
  entity,
  id,
  labels,
}: {
  entity?: string | null;
  id?: string | null;
  labels?: Map<string, string>;
}) {
  const catalog = useCatalog();
  if (!entity || !id) return <span className="muted">—</span>;
  const def = entityOf(catalog, entity);
  const label = labels?.get(`${entity}/${id}`);
  return (
    <Link to={`/data/${entity}/${id}`} title={id}>
      {def ? `${def.displayName} ` : `${entity} `}
      {label ? `“${label}”` : <span className="mono">{shortId(id)}</span>}
    </Link>
  );
}

const json = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** One action: what it does (proposed, resolved or done), its values as field → value. */
export function ActionSummary({ action, recordId }: { action: ActionResult; recordId?: string }) {
  const catalog = useCatalog();
  const { type, values, actions, ...rest } = action;
  const entityName = typeof rest.entity === 'string' ? rest.entity : undefined;
  const entity = entityName ? entityOf(catalog, entityName) : undefined;
  const used = new Set<string>(['entity']);
  const take = (key: string) => {
    used.add(key);
    return rest[key] === undefined || rest[key] === null ? '' : json(rest[key]);
  };
  let headline: string;
  switch (type) {
    case 'update':
      if (rest.id !== undefined && rest.id === recordId) {
        used.add('id');
        headline = `this ${entity?.displayName.toLowerCase() ?? 'record'}`;
      } else headline = entity ? `${entity.displayName}${rest.id ? ` ${shortId(take('id'))}` : ''}` : take('via');
      break;
    case 'create':
      headline = entity?.displayName ?? entityName ?? '';
      break;
    case 'email':
      headline = `to ${take('to')}: “${take('subject')}”`;
      break;
    case 'notify':
      headline = `to ${take('to')}: ${take('text')}`;
      break;
    case 'webhook':
      headline = take('url');
      used.add('payload');
      break;
    case 'message':
      headline = take('name');
      break;
    case 'suggest':
      headline = take('reason');
      break;
  }
  const label = (field: string) => entity?.fields.find((f) => f.name === field)?.displayName ?? field;
  const others = Object.entries(rest).filter(([k, v]) => !used.has(k) && v !== undefined && v !== null);
  return (
    <div className="action-summary">
      <span className="action-summary-head">
        <Badge tone="info">{ACTION_LABELS[type] ?? type}</Badge> <span className="wrap-anywhere">{headline}</span>
      </span>
      {values && typeof values === 'object' ? (
        <ul className="action-values">
          {Object.entries(values as Record<string, unknown>).map(([field, value]) => (
            <li key={field}>
              {label(field)} → <code className="wrap-anywhere">{json(value)}</code>
            </li>
          ))}
        </ul>
      ) : null}
      {others.length ? (
        <p className="small muted wrap-anywhere action-extra">
          {others.map(([k, v]) => `${k}: ${json(v)}`).join(' · ')}
        </p>
      ) : null}
      {Array.isArray(actions) && actions.length ? (
        <ActionList actions={actions as ActionResult[]} recordId={recordId} />
      ) : null}
    </div>
  );
}

/** Actions in order; `recordId`: the record they are about (said as "this …"). */
export function ActionList({
  actions,
  label,
  recordId,
}: {
  actions: readonly ActionResult[];
  label?: string;
  recordId?: string;
}) {
  return (
    <ol className="action-list" aria-label={label}>
      {actions.map((a, i) => (
        <li key={i}>
          <ActionSummary action={a} recordId={recordId} />
        </li>
      ))}
    </ol>
  );
}
