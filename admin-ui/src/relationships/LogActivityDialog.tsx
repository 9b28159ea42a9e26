/**
 * "Log activity" on a tracked record: kind, direction, subject, when (now by default), duration
 * and notes, posted to POST /api/data/activity regarding the record; the server's errors show
 * next to their controls.
 */
import { useState, type FormEvent } from 'react';
import { toProblem } from '../api.ts';
import { Dialog } from '../components/dialog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Field, ProblemBanner } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import { toLocalInput } from '../records/values.ts';
import type { Problem } from '../types.ts';
import { relationshipsApi } from './api.ts';
import { DIRECTION_LABELS, KIND_LABELS } from './parts.tsx';
import type { ActivityDirection, ActivityInput, ActivityKind, RecordRef } from './types.ts';

const KINDS = Object.keys(KIND_LABELS) as ActivityKind[];
const DIRECTIONS = Object.keys(DIRECTION_LABELS) as ActivityDirection[];
const CONTROLS = ['kind', 'direction', 'subject', 'occurred_at', 'duration_minutes', 'body'] as const;
type Control = (typeof CONTROLS)[number];

interface Draft {
  kind: ActivityKind;
  direction: ActivityDirection;
  subject: string;
  occurredAt: string;
  duration: string;
  body: string;
}

/** The draft as the API's body: blanks left out, the local time as an instant. */
function bodyOf(draft: Draft, regarding: RecordRef): ActivityInput {
  const when = new Date(draft.occurredAt);
  const duration = draft.duration.trim();
  return {
    kind: draft.kind,
    direction: draft.direction,
    occurred_at: Number.isNaN(when.getTime()) ? draft.occurredAt : when.toISOString(),
    regarding,
    ...(draft.subject.trim() ? { subject: draft.subject.trim() } : {}),
    ...(duration ? { duration_minutes: Number.isFinite(Number(duration)) ? Number(duration) : duration } : {}),
    ...(draft.body.trim() ? { body: draft.body } : {}),
  };
}

export function LogActivityDialog({
  regarding,
  recordLabel,
  onLogged,
  onClose,
}: {
  regarding: RecordRef;
  recordLabel: string;
  onLogged(): void;
  onClose(): void;
}) {
  const { toast } = useOverlays();
  const [draft, setDraft] = useState<Draft>(() => ({
    kind: 'call',
    direction: 'outbound',
    subject: '',
    occurredAt: toLocalInput(new Date().toISOString()),
    duration: '',
    body: '',
  }));
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const first = path.split('/')[1] as Control;
    return CONTROLS.includes(first) ? first : undefined;
  });
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setProblem(undefined);
    try {
      await relationshipsApi.logActivity(bodyOf(draft, regarding));
      toast(`${KIND_LABELS[draft.kind]} logged`);
      onLogged();
      onClose();
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  return (
    <Dialog title={`Log activity with “${recordLabel}”`} onClose={onClose}>
      <form className="form rel-log-form" onSubmit={submit} noValidate aria-label="Log activity" aria-busy={saving}>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <div className="form-grid">
          <Field label="Kind" required error={byKey.get('kind')}>
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={draft.kind}
                onChange={(e) => set('kind', e.target.value as ActivityKind)}
              >
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {KIND_LABELS[k]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Direction" required error={byKey.get('direction')}>
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={draft.direction}
                onChange={(e) => set('direction', e.target.value as ActivityDirection)}
              >
                {DIRECTIONS.map((d) => (
                  <option key={d} value={d}>
                    {DIRECTION_LABELS[d]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Subject" error={byKey.get('subject')} className="span-2">
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                maxLength={998}
                value={draft.subject}
                onChange={(e) => set('subject', e.target.value)}
              />
            )}
          </Field>
          <Field label="Occurred at" required error={byKey.get('occurred_at')}>
            {(c) => (
              <input
                id={c.id}
                type="datetime-local"
                step={1}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={draft.occurredAt}
                onChange={(e) => set('occurredAt', e.target.value)}
              />
            )}
          </Field>
          <Field label="Duration (minutes)" error={byKey.get('duration_minutes')}>
            {(c) => (
              <input
                id={c.id}
                type="number"
                min={0}
                step={1}
                inputMode="numeric"
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={draft.duration}
                onChange={(e) => set('duration', e.target.value)}
              />
            )}
          </Field>
          <Field label="Notes" error={byKey.get('body')} className="span-2">
            {(c) => (
              <textarea
                id={c.id}
                rows={4}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={draft.body}
                onChange={(e) => set('body', e.target.value)}
              />
            )}
          </Field>
        </div>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={saving}>
            {saving ? 'Logging…' : 'Log activity'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
