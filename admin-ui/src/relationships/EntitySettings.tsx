/**
 * An entity's relationship settings, in its designer: whether activities are tracked (which adds
 * the read-only signal fields), the strength formula's cadence and weights, and the alerts an
 * admin can switch on (each becomes an automation rule).
 */
import { useCallback, useId, useState, type FormEvent } from 'react';
import { toProblem } from '../api.ts';
import { automationApi } from '../automation/api.ts';
import { useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, Field, FieldGroup, ProblemBanner } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import { Link } from '../router.tsx';
import { useResource } from '../security/use-resource.ts';
import type { EntityDef, Problem } from '../types.ts';
import { relationshipsApi } from './api.ts';
import type { AlertTemplate, InteractionWeights, SignalSettings, Weights } from './types.ts';

export function RelationshipSettings({ entity }: { entity: EntityDef }) {
  const id = useId();
  return (
    <section className="card rel-settings" aria-labelledby={`${id}-title`}>
      <h2 className="card-title" id={`${id}-title`}>
        Relationships
      </h2>
      <TrackingSwitch entity={entity} />
      {entity.trackActivities ? (
        <>
          <StrengthForm key={JSON.stringify(entity.signalSettings ?? null)} entity={entity} />
          <Alerts entity={entity} />
        </>
      ) : null}
    </section>
  );
}

function TrackingSwitch({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const { confirm, toast } = useOverlays();
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const tracked = entity.trackActivities === true;

  const change = async (on: boolean) => {
    if (!on) {
      const ok = await confirm({
        title: `Stop tracking activities of ${entity.pluralDisplayName.toLowerCase()}?`,
        body: (
          <p>
            The signal fields (last contact, relationship strength, …) are removed with their values. The activities
            stay, and tracking again computes the signals anew.
          </p>
        ),
        confirmLabel: 'Stop tracking',
        danger: true,
      });
      if (!ok) return;
    }
    setSaving(true);
    setProblem(undefined);
    try {
      await relationshipsApi.updateTracking(entity.name, { trackActivities: on });
      await catalog.refresh();
      toast(on ? 'Activities are tracked' : 'Activities are no longer tracked');
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <FieldGroup
      legend="Activity tracking"
      hint={
        'Emails, calls and meetings regarding or involving its records keep read-only signals current: last ' +
        'contact, interactions, reply times, relationship strength and health.'
      }
    >
      {problem ? <ProblemBanner problem={problem} /> : null}
      <label className="check">
        <input
          type="checkbox"
          role="switch"
          checked={tracked}
          aria-checked={tracked}
          disabled={saving}
          onChange={(e) => void change(e.target.checked)}
        />
        Track activities
      </label>
    </FieldGroup>
  );
}

/** The platform's defaults (server/relationships/formula.ts), shown as placeholders. */
const DEFAULT_CADENCE = 14;
const DEFAULT_WEIGHTS: Weights = { recency: 0.35, frequency: 0.25, reciprocity: 0.2, depth: 0.2 };
const DEFAULT_INTERACTIONS: InteractionWeights = { meeting: 1, call: 0.7, email: 0.3 };
const WEIGHT_LABELS: Readonly<Record<keyof Weights, string>> = {
  recency: 'Recency',
  frequency: 'Frequency',
  reciprocity: 'Reciprocity',
  depth: 'Depth',
};
const INTERACTION_LABELS: Readonly<Record<keyof InteractionWeights, string>> = {
  meeting: 'Meeting',
  call: 'Call',
  email: 'Email',
};

type Texts<T> = Record<keyof T, string>;
const texts = <T extends object>(values: T | undefined, keys: (keyof T)[]): Texts<T> =>
  Object.fromEntries(keys.map((k) => [k, values?.[k] === undefined ? '' : String(values[k])])) as Texts<T>;
/** A number input's value (the browser leaves it empty unless it parses). */
const numberOf = (text: string): number => Number(text);

const WEIGHT_KEYS = Object.keys(WEIGHT_LABELS) as (keyof Weights)[];
const INTERACTION_KEYS = Object.keys(INTERACTION_LABELS) as (keyof InteractionWeights)[];

/** All of a group's values, none of them (the defaults), or an error. */
function groupOf<T extends object>(values: Texts<T>, keys: (keyof T)[]): { value?: T; error?: string } {
  const filled = keys.filter((k) => values[k].trim() !== '');
  if (!filled.length) return {};
  if (filled.length < keys.length) return { error: 'give every value, or none for the defaults' };
  return { value: Object.fromEntries(keys.map((k) => [k, numberOf(values[k].trim())])) as T };
}

function StrengthForm({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const settings = entity.signalSettings;
  const [cadence, setCadence] = useState(settings?.cadenceDays === undefined ? '' : String(settings.cadenceDays));
  const [weights, setWeights] = useState(() => texts(settings?.weights, WEIGHT_KEYS));
  const [interactions, setInteractions] = useState(() => texts(settings?.interactionWeights, INTERACTION_KEYS));
  const [problem, setProblem] = useState<Problem>();
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const key = path.split('/')[2];
    return path.startsWith('/signalSettings/') && key ? key : undefined;
  });
  const errorOf = (key: string) => [clientErrors[key], ...(byKey.get(key) ?? [])].filter((e): e is string => !!e);
  const sum = WEIGHT_KEYS.reduce((total, k) => total + (Number(weights[k]) || 0), 0);

  const send = async (signalSettings: SignalSettings | null, done: string) => {
    setSaving(true);
    setProblem(undefined);
    try {
      await relationshipsApi.updateTracking(entity.name, { signalSettings });
      await catalog.refresh();
      toast(done);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const w = groupOf(weights, WEIGHT_KEYS);
    const i = groupOf(interactions, INTERACTION_KEYS);
    const errors: Record<string, string> = {};
    if (w.error) errors.weights = w.error;
    if (i.error) errors.interactionWeights = i.error;
    setClientErrors(errors);
    if (Object.keys(errors).length) return;
    const next: SignalSettings = {
      ...(cadence.trim() ? { cadenceDays: numberOf(cadence.trim()) } : {}),
      ...(w.value ? { weights: w.value } : {}),
      ...(i.value ? { interactionWeights: i.value } : {}),
    };
    await send(Object.keys(next).length ? next : null, 'Strength formula saved');
  };

  return (
    <form className="form rel-strength-form" onSubmit={save} noValidate aria-label="Relationship strength">
      <h3 className="section-title">Relationship strength</h3>
      {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
      <div className="form-grid">
        <Field
          label="Cadence (days)"
          hint={`Expected days between contacts (default ${DEFAULT_CADENCE}).`}
          error={errorOf('cadenceDays')}
        >
          {(c) => (
            <input
              id={c.id}
              type="number"
              min={1}
              step="any"
              inputMode="decimal"
              placeholder={String(DEFAULT_CADENCE)}
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={cadence}
              onChange={(e) => setCadence(e.target.value)}
            />
          )}
        </Field>
      </div>
      <FieldGroup
        legend="Factor weights"
        hint={
          WEIGHT_KEYS.some((k) => weights[k].trim())
            ? `They must sum to 1 (now ${sum.toFixed(2)}).`
            : 'They sum to 1; left empty, the defaults apply.'
        }
        error={errorOf('weights')}
      >
        <NumberRow
          labels={WEIGHT_LABELS}
          values={weights}
          defaults={DEFAULT_WEIGHTS}
          invalid={errorOf('weights').length > 0}
          onChange={setWeights}
        />
      </FieldGroup>
      <FieldGroup
        legend="Depth per two-way interaction"
        hint="A meeting's is divided by √(people − 1)."
        error={errorOf('interactionWeights')}
      >
        <NumberRow
          labels={INTERACTION_LABELS}
          values={interactions}
          defaults={DEFAULT_INTERACTIONS}
          invalid={errorOf('interactionWeights').length > 0}
          onChange={setInteractions}
        />
      </FieldGroup>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          Save formula
        </button>
        {settings ? (
          <button
            type="button"
            className="btn"
            disabled={saving}
            onClick={() => void send(null, 'Strength formula reset to the defaults')}
          >
            Reset to defaults
          </button>
        ) : null}
      </div>
    </form>
  );
}

function NumberRow<T extends object>({
  labels,
  values,
  defaults,
  invalid,
  onChange,
}: {
  labels: Readonly<Record<keyof T, string>>;
  values: Texts<T>;
  defaults: T;
  invalid: boolean;
  onChange(next: Texts<T>): void;
}) {
  const keys = Object.keys(labels) as (keyof T & string)[];
  return (
    <div className="rel-number-row">
      {keys.map((k) => (
        <label key={k} className="rel-number">
          <span>{labels[k]}</span>
          <input
            type="number"
            min={0}
            step="any"
            inputMode="decimal"
            placeholder={String(defaults[k])}
            aria-invalid={invalid || undefined}
            value={values[k]}
            onChange={(e) => onChange({ ...values, [k]: e.target.value })}
          />
        </label>
      ))}
    </div>
  );
}

function Alerts({ entity }: { entity: EntityDef }) {
  const { toast } = useOverlays();
  const templates = useResource(useCallback(() => relationshipsApi.alertTemplates(), []));
  const rules = useResource(useCallback(() => automationApi.rules({ entity: entity.name }), [entity.name]));
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState<string>();
  // an alert's rule is named "<template title>: <entities>" (server/relationships)
  const ruleOf = (t: AlertTemplate) => rules.data?.find((r) => r.name === `${t.title}: ${entity.pluralDisplayName}`);

  const enable = async (t: AlertTemplate) => {
    setBusy(t.name);
    setProblem(undefined);
    try {
      const rule = await relationshipsApi.enableAlert({ entity: entity.name, template: t.name });
      rules.set((list) => [...(list ?? []), rule]);
      toast(`Alert “${t.title}” enabled: rule “${rule.name}”`);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <>
      <h3 className="section-title">Alerts</h3>
      <p className="muted small">
        Each alert is an automation rule that looks every hour and suggests a follow-up to the record's owner.
      </p>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {templates.problem ? <ProblemBanner problem={templates.problem} onRetry={() => void templates.reload()} /> : null}
      <ul className="plain-list rel-alerts" aria-label="Alerts">
        {(templates.data ?? []).map((t) => {
          const rule = ruleOf(t);
          return (
            <li key={t.name} className="rel-alert">
              <div>
                <p className="strong rel-alert-title">{t.title}</p>
                <p className="muted small rel-alert-description">{t.description}</p>
              </div>
              {rule ? (
                <span className="rel-alert-rule">
                  <Badge tone="ok">enabled</Badge> <Link to={`/automation/${rule.id}`}>{rule.name}</Link>
                </span>
              ) : (
                <button
                  type="button"
                  className="btn btn-small"
                  aria-label={`Enable alert ${t.title}`}
                  disabled={busy !== undefined}
                  onClick={() => void enable(t)}
                >
                  {busy === t.name ? 'Enabling…' : 'Enable'}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
