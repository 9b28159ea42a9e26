/**
 * Automation on a record page: a button for each active manual rule of the entity (the rule runs
 * on this record, as you; the record is read again after it) and the suggestions pending for this
 * record, to approve or dismiss. Shows nothing when there is neither.
 */
import { useCallback, useId, useState } from 'react';
import { toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { ProblemBanner } from '../components/ui.tsx';
import { useResource } from '../security/use-resource.ts';
import type { EntityDef, Problem } from '../types.ts';
import { automationApi, notificationsChanged } from './api.ts';
import { SuggestionCard } from './SuggestionCard.tsx';
import type { Rule } from './types.ts';

export function RecordAutomation({
  entity,
  recordId,
  onChanged,
}: {
  entity: EntityDef;
  recordId: string;
  /** The record may have changed: read it again. */
  onChanged(): void;
}) {
  const { toast } = useOverlays();
  const id = useId();
  const rules = useResource(
    useCallback(() => automationApi.rules({ entity: entity.name, trigger: 'manual', status: 'active' }), [entity.name]),
  );
  const suggestions = useResource(
    useCallback(
      () => automationApi.suggestions({ recordId, status: 'pending', limit: 20 }).then((page) => page.data),
      [recordId],
    ),
  );
  const [running, setRunning] = useState<string>();
  const [problem, setProblem] = useState<Problem>();

  const run = async (rule: Rule) => {
    setRunning(rule.id);
    setProblem(undefined);
    try {
      const entry = await automationApi.runOnRecord(rule.id, recordId);
      toast(
        entry.outcome === 'suggested'
          ? `“${rule.name}” made a suggestion for this record`
          : `“${rule.name}” ran on this record`,
      );
      notificationsChanged();
      await suggestions.reload();
      onChanged();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setRunning(undefined);
    }
  };

  const manual = (rules.data ?? []).filter((r) => r.entity === entity.name && r.status === 'active');
  const pending = suggestions.data ?? [];
  if (!manual.length && !pending.length) return null;
  return (
    <section className="card record-automation" aria-labelledby={`${id}-title`}>
      <h2 className="card-title" id={`${id}-title`}>
        Automation
      </h2>
      {manual.length ? (
        <div className="record-automation-rules">
          {manual.map((rule) => (
            <button
              key={rule.id}
              type="button"
              className="btn"
              title={rule.description}
              disabled={running !== undefined}
              aria-busy={running === rule.id}
              onClick={() => void run(rule)}
            >
              {running === rule.id ? `${rule.name}…` : rule.name}
            </button>
          ))}
        </div>
      ) : null}
      {problem ? <ProblemBanner problem={problem} /> : null}
      {pending.length ? (
        <>
          <h3 className="record-automation-subtitle">Suggestions for this record</h3>
          <ul className="plain-list suggestion-list">
            {pending.map((s) => (
              <li key={s.id}>
                <SuggestionCard
                  suggestion={s}
                  showRecord={false}
                  onDecided={(next) => {
                    suggestions.set((list) => list?.filter((x) => x.id !== next.id));
                    if (next.status === 'approved') onChanged();
                  }}
                />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
